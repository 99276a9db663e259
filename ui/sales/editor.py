"""The proforma/invoice editor: buyer, dates, settlement, the lines table, discounts, VAT and totals as you type.
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app import fmt, options, settings
from app.core.errors import UserError, ValidationError
from app.core.words import amount_in_words
from app.sales.common import SETTLEMENT_LABELS, STATE_LABELS, TYPE_LABELS
from app.sales.documents import correct_invoice, save_document
from app.sales.products import get_product, list_products
from app.sales.totals import LineInput, compute, percent_label
from app.sales.vat import vat_rate_on
from app.sales.views import customer_choices, customer_name, get_document
from ui.context import AppContext
from ui.sales.common import jalali_today, money_text, warn_user
from ui.widgets.forms import FieldErrors
from ui.widgets.jalali_date_edit import JalaliDateEdit
from ui.widgets.persian import persian_row_numbers

logger = logging.getLogger(__name__)


# --- the editor --------------------------------------------------------------------------------------------

class DocumentEditor(QDialog):
    """A proforma or invoice: customer, date, terms, lines with a product picker, live totals.

    Read-only for an issued/cancelled document (use correcting=True to write a correction of an issued one).
    """

    saved = Signal(int, int)       # document id, customer id
    # The last column is the line's payable amount, VAT included: its sum is «مبلغ قابل پرداخت», which the
    # header says, so nobody compares it with «جمع مبلغ کل» (before discount and VAT).
    LINE_COLS = ("کد", "شرح کالا یا خدمات", "مقدار", "واحد", "مبلغ واحد (ریال)", "تخفیف (ریال)", "معاف",
                 "جمع با مالیات (ریال)")

    def __init__(self, ctx: AppContext, doc_type: str, doc_id: int | None = None, customer_id: int | None = None,
                 correcting: bool = False, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.doc_type = doc_type
        self.doc_id = doc_id
        self.correcting = correcting
        self.view = get_document(doc_id) if doc_id else None
        self.editable = self.view is None or self.view.state in ("open", "draft") or correcting
        self.errors = FieldErrors()
        self.setMinimumSize(980, 640)
        self._filling = False
        self._product_ids: dict[int, int | None] = {}
        self._build()
        self._load(customer_id)
        self._recalc()

    # --- layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        head = QGridLayout()
        self.customer = QComboBox()
        self.customer.setEditable(True)
        self.customer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.customer.lineEdit().setPlaceholderText("نام مشتری را بنویسید…")
        self.customer.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.customer.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self._customer_timer = QTimer(self)
        self._customer_timer.setSingleShot(True)
        self._customer_timer.setInterval(200)
        self._customer_timer.timeout.connect(self._fill_customers)
        self.customer.lineEdit().textEdited.connect(lambda _t: self._customer_timer.start())
        self.date = JalaliDateEdit()
        self.due = JalaliDateEdit(placeholder="سررسید")
        self.invoice_type = QComboBox()
        self.invoice_type.addItem("نوع دوم (مشخصات خریدار اختیاری)", 2)
        self.invoice_type.addItem("نوع اول (با مشخصات کامل خریدار)", 1)
        self.settlement = QComboBox()
        for k, v in SETTLEMENT_LABELS.items():
            self.settlement.addItem(v, k)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("توضیحات پای فاکتور")
        head.addWidget(QLabel("مشتری"), 0, 0)
        head.addWidget(self.errors.wrap("customer", self.customer), 0, 1, 1, 3)
        head.addWidget(QLabel("تاریخ"), 0, 4)
        head.addWidget(self.errors.wrap("date", self.date), 0, 5)
        head.addWidget(QLabel("نوع صورتحساب"), 1, 0)
        head.addWidget(self.errors.wrap("invoice_type", self.invoice_type), 1, 1)
        head.addWidget(QLabel("نحوه تسویه"), 1, 2)
        head.addWidget(self.settlement, 1, 3)
        head.addWidget(QLabel("سررسید پرداخت" if self.doc_type == "invoice" else "اعتبار تا"), 1, 4)
        head.addWidget(self.errors.wrap("due_date", self.due), 1, 5)
        head.addWidget(QLabel("توضیحات"), 2, 0)
        head.addWidget(self.notes, 2, 1, 1, 5)
        head.setColumnStretch(1, 2)
        head.setColumnStretch(3, 1)
        lay.addLayout(head)

        picker = QHBoxLayout()
        self.product = QComboBox()
        self.product.setEditable(True)
        self.product.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.product.lineEdit().setPlaceholderText("کالا یا خدمت از فهرست قیمت…")
        self.product.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.product.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        for p in list_products():
            self.product.addItem(f"{fmt.text_digits(p.name)} — {fmt.money(p.price, toman=False)}", p.id)
        self.product.setCurrentIndex(-1)
        self.btn_add_product = QPushButton("افزودن کالا")
        self.btn_add_line = QPushButton("ردیف خالی")
        self.btn_remove_line = QPushButton("حذف ردیف")
        picker.addWidget(self.product, 1)
        picker.addWidget(self.btn_add_product)
        picker.addWidget(self.btn_add_line)
        picker.addWidget(self.btn_remove_line)
        lay.addLayout(picker)

        self.lines = QTableWidget(0, len(self.LINE_COLS))
        self.lines.setHorizontalHeaderLabels(list(self.LINE_COLS))
        h = self.lines.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.lines.verticalHeader().setDefaultSectionSize(26)
        self.lines.horizontalHeaderItem(7).setToolTip("مبلغ ردیف پس از تخفیف‌ها، به‌اضافه مالیات بر ارزش افزوده؛ "
                                                      "جمع این ستون همان «مبلغ قابل پرداخت» است.")
        persian_row_numbers(self.lines)
        lay.addWidget(self.lines, 1)
        self.line_error = QLabel()
        self.line_error.setProperty("role", "error")
        self.line_error.setStyleSheet("color: #dc2626;")
        self.line_error.setWordWrap(True)
        lay.addWidget(self.line_error)

        bottom = QHBoxLayout()
        disc_box = QFormLayout()
        self.doc_discount = QLineEdit(fmt.digits(0))
        self.doc_discount.setMaximumWidth(180)
        disc_box.addRow("تخفیف روی کل (ریال)", self.doc_discount)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("علت اصلاح (الزامی)")
        if self.correcting:
            disc_box.addRow("علت اصلاح", self.errors.wrap("reason", self.reason))
        bottom.addLayout(disc_box)
        bottom.addStretch(1)
        self.totals = QLabel()
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        self.totals.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        bottom.addWidget(self.totals)
        lay.addLayout(bottom)
        self.words = QLabel()
        self.words.setWordWrap(True)
        lay.addWidget(self.words)
        self.errors.general = QLabel()
        self.errors.general.setStyleSheet("color: #dc2626;")
        self.errors.general.setWordWrap(True)
        self.errors.general.hide()
        lay.addWidget(self.errors.general)

        self.buttons = QDialogButtonBox()
        self.btn_save = self.buttons.addButton("ذخیره", QDialogButtonBox.ButtonRole.AcceptRole)
        self.btn_save_issue = None
        if self.doc_type == "invoice" and not self.correcting:
            self.btn_save.setText("ذخیره پیش‌نویس")
            self.btn_save_issue = self.buttons.addButton("ذخیره و صدور فاکتور", QDialogButtonBox.ButtonRole.ApplyRole)
        if self.correcting:
            self.btn_save.setText("صدور اصلاحیه")
        self.buttons.addButton("بستن", QDialogButtonBox.ButtonRole.RejectRole)
        lay.addWidget(self.buttons)

        self.btn_save.clicked.connect(lambda: self.save(issue=self.correcting))
        if self.btn_save_issue:
            self.btn_save_issue.clicked.connect(lambda: self.save(issue=True))
        from ui.office.restrict import gate

        if self.btn_save_issue:
            gate(self.btn_save_issue, "invoice.issue")   # a role that may not issue keeps drafts
        if self.correcting:
            gate(self.btn_save, "invoice.cancel")
        self.buttons.rejected.connect(self.reject)
        self.btn_add_product.clicked.connect(self._add_selected_product)
        self.product.activated.connect(lambda _i: self._add_selected_product())
        self.btn_add_line.clicked.connect(lambda: self.add_line())
        self.btn_remove_line.clicked.connect(self._remove_line)
        self.lines.itemChanged.connect(lambda _it: self._recalc())
        self.doc_discount.textChanged.connect(lambda _t: self._recalc())

    def _title(self) -> str:
        label = TYPE_LABELS[self.doc_type]
        if self.correcting and self.view:
            return f"اصلاحیه فاکتور شماره {fmt.digits(self.view.number)}"
        if self.view is None:
            return f"{label} جدید"
        num = fmt.digits(self.view.number) if self.view.number else "پیش‌نویس"
        return f"{label} {num} — {STATE_LABELS[self.view.state]}"

    # --- data ---------------------------------------------------------------------------------------
    def _fill_customers(self, keep_text: bool = True) -> None:
        text = self.customer.lineEdit().text()
        current = self.customer.currentData()
        self.customer.blockSignals(True)
        self.customer.clear()
        for cid, name in customer_choices(text if keep_text else ""):
            self.customer.addItem(name, cid)
        self.customer.setCurrentIndex(-1)
        self.customer.lineEdit().setText(text)
        if current is not None:
            i = self.customer.findData(current)
            if i >= 0 and self.customer.itemText(i) == text:
                self.customer.setCurrentIndex(i)
        self.customer.blockSignals(False)
        if self.customer.count() and self.customer.lineEdit().hasFocus():
            self.customer.showPopup()

    def set_customer(self, customer_id: int, name: str) -> None:
        if self.customer.findData(customer_id) < 0:
            self.customer.addItem(name, customer_id)
        self.customer.setCurrentIndex(self.customer.findData(customer_id))

    def _load(self, customer_id: int | None) -> None:
        self.setWindowTitle(self._title())
        for cid, name in customer_choices(""):
            self.customer.addItem(name, cid)
        self.customer.setCurrentIndex(-1)
        v = self.view
        if v is None:
            self.date.setDate(jalali_today())
            self.notes.setText(settings.get(options.SALES_INVOICE_FOOTER))
            if customer_id:
                self.set_customer(customer_id, customer_name(customer_id))
            return
        self.set_customer(v.customer_id, v.buyer.get("name", ""))
        self.date.setDate(jalali_today() if self.correcting else v.date)
        self.due.setDate(v.valid_until if v.doc_type == "proforma" else v.due_date)
        self.invoice_type.setCurrentIndex(self.invoice_type.findData(v.invoice_type))
        self.settlement.setCurrentIndex(self.settlement.findData(v.settlement))
        self.notes.setText(v.notes)
        self.doc_discount.setText(fmt.num(v.doc_discount) if v.doc_discount else fmt.digits(0))
        self._filling = True
        for ln in v.lines:
            self.add_line(LineInput(ln.description, ln.quantity, ln.unit_price, ln.discount, ln.unit, ln.code,
                                          ln.goods_id, ln.product_id, ln.vat_exempt))
        self._filling = False
        if not self.editable:
            for w in (self.customer, self.date, self.due, self.invoice_type, self.settlement, self.notes,
                      self.doc_discount, self.product, self.btn_add_product, self.btn_add_line,
                      self.btn_remove_line):
                w.setEnabled(False)
            self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.btn_save.hide()
            if self.btn_save_issue:
                self.btn_save_issue.hide()
            if v.state == "cancelled":
                self.errors.general.setText(f"این سند باطل شده است. علت: {v.cancel_reason}")
                self.errors.general.show()
            elif v.state == "corrected":
                self.errors.general.setText(f"این فاکتور با فاکتور شماره {fmt.digits(v.corrected_by_number or '')} "
                                            f"اصلاح شده است. علت: {v.cancel_reason}")
                self.errors.general.show()

    def add_line(self, line: LineInput | None = None) -> int:
        line = line or LineInput("", 1, 0)
        row = self.lines.rowCount()
        self._filling = True
        self.lines.insertRow(row)
        qty = line.quantity
        qty_text = format(Decimal(str(qty)).normalize(), "f") if qty not in (None, "") else "1"
        values = [line.code, fmt.text_digits(line.description), fmt.digits(qty_text).replace(".", "٫"), line.unit or "عدد",
                  money_text(line.unit_price), money_text(line.discount), None, ""]
        for col, val in enumerate(values):
            if col == 6:
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                item.setCheckState(Qt.CheckState.Checked if line.vat_exempt else Qt.CheckState.Unchecked)
            else:
                item = QTableWidgetItem(val)
                if col == 7:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if col in (2, 4, 5, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            self.lines.setItem(row, col, item)
        self.lines.item(row, 0).setData(Qt.ItemDataRole.UserRole, line.product_id)
        self.lines.item(row, 1).setData(Qt.ItemDataRole.UserRole, line.goods_id)
        self._filling = False
        self._recalc()
        return row

    def _add_selected_product(self) -> None:
        pid = self.product.currentData()
        if pid is None:
            return
        p = get_product(pid)
        row = self.add_line(LineInput(p.name, 1, p.price, 0, p.unit, p.code, p.goods_id, p.id, p.vat_exempt))
        self.lines.setCurrentCell(row, 2)
        self.product.setCurrentIndex(-1)
        self.product.lineEdit().clear()

    def _remove_line(self) -> None:
        rows = sorted({i.row() for i in self.lines.selectedIndexes()}, reverse=True)
        if not rows and self.lines.currentRow() >= 0:
            rows = [self.lines.currentRow()]
        for r in rows:
            self.lines.removeRow(r)
        self._recalc()

    def line_inputs(self) -> list[LineInput]:
        out = []
        for r in range(self.lines.rowCount()):
            def cell(c, r=r):
                it = self.lines.item(r, c)
                return it.text().strip() if it else ""
            if not any(cell(c) for c in (1, 4)) and cell(0) == "":
                continue            # an empty row the user added and left
            exempt = self.lines.item(r, 6).checkState() == Qt.CheckState.Checked
            out.append(LineInput(
                description=cell(1), quantity=cell(2) or "0", unit_price=cell(4) or "0",
                discount=cell(5) or "0", unit=cell(3), code=cell(0),
                goods_id=self.lines.item(r, 1).data(Qt.ItemDataRole.UserRole) or "",
                product_id=self.lines.item(r, 0).data(Qt.ItemDataRole.UserRole), vat_exempt=exempt))
        return out

    def _rate(self) -> int:
        if self.view is not None and not self.editable:
            return self.view.vat_rate
        return vat_rate_on(self._date_value() or jalali_today())

    def _date_value(self) -> dt.date | None:
        try:
            return self.date.date()
        except Exception:  # noqa: BLE001
            return None

    def _recalc(self) -> None:
        if self._filling:
            return
        lines = self.line_inputs()
        if not lines:
            self.totals.setText("")
            self.words.setText("")
            self.line_error.setText("")
            return
        try:
            t = compute(lines, self.doc_discount.text() or "0", self._rate())
        except ValidationError as e:
            self.line_error.setText(" ".join(dict.fromkeys(e.errors.values())))
            self.totals.setText("")
            self.words.setText("")
            self._filling = True
            for r in range(self.lines.rowCount()):
                if self.lines.item(r, 7) is not None:
                    self.lines.item(r, 7).setText("")
            self._filling = False
            return
        self.line_error.setText("")
        self._filling = True
        used = 0
        for r in range(self.lines.rowCount()):
            it = self.lines.item(r, 7)
            desc = self.lines.item(r, 1)
            if it is None or desc is None:
                continue
            if not desc.text().strip() and not self.lines.item(r, 4).text().strip() and not self.lines.item(r, 0).text():
                it.setText("")
                continue
            if used < len(t.lines):
                it.setText(fmt.num(t.lines[used].total))
                used += 1
        self._filling = False
        rows = [("جمع مبلغ کل", t.subtotal), ("جمع تخفیف", t.discount_total),
                (f"مالیات بر ارزش افزوده ({percent_label(t.vat_rate)})", t.vat_total)]
        html = "".join(f"<tr><td>{label}</td><td align='left'>{fmt.money(v, toman=False)}</td></tr>" for label, v in rows)
        html += f"<tr><td><b>مبلغ قابل پرداخت</b></td><td align='left'><b>{fmt.money(t.total, toman=False)}</b></td></tr>"
        self.totals.setText(f"<table cellspacing='6'>{html}</table>")
        self.words.setText(f"به حروف: {amount_in_words(t.total)}")
        self.current_totals = t

    # --- save ---------------------------------------------------------------------------------------
    def _customer_id(self) -> int | None:
        cid = self.customer.currentData()
        if cid is None:
            text = self.customer.lineEdit().text().strip()
            matches = [c for c in customer_choices(text, limit=2)] if text else []
            if len(matches) == 1:
                cid = matches[0][0]
        return cid

    def save(self, issue: bool = False) -> int | None:
        self.errors.clear()
        kw = dict(date=self.date.value() if hasattr(self.date, "value") else self._date_value(),
                  doc_discount=self.doc_discount.text() or "0", invoice_type=self.invoice_type.currentData(),
                  settlement=self.settlement.currentData(), notes=self.notes.text())
        due = self.due.value() if hasattr(self.due, "value") else None
        if self.doc_type == "proforma":
            kw["valid_until"] = due
        else:
            kw["due_date"] = due
        try:
            if self.correcting:
                doc = correct_invoice(self.doc_id, self.line_inputs(), self.reason.text(),
                                            user=self.ctx.user_id, customer_id=self._customer_id(), **kw)
            else:
                doc = save_document(self.doc_type, self._customer_id(), self.line_inputs(),
                                          doc_id=self.doc_id, user=self.ctx.user_id, issue=issue, **kw)
        except ValidationError as e:
            self.errors.show(e)
            self.line_error.setText(" ".join(m for k, m in e.errors.items() if k.startswith("lines")
                                             or k == "doc_discount"))
            return None
        except UserError as e:
            warn_user(self, e, "ذخیره نشد")
            return None
        self.saved.emit(doc.id, doc.customer_id)
        self.ctx.bus.status_message.emit(f"{TYPE_LABELS[doc.doc_type]} "
                                         f"{fmt.digits(doc.number) if doc.number else 'پیش‌نویس'} ذخیره شد.")
        self.accept()
        return doc.id
