"""A customer's payments and cheques: record a payment (allocated to invoices), void it, change a cheque's state.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelectionModel, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app import fmt
from app.core.errors import UserError, ValidationError
from app.core.text import parse_int
from app.core.words import amount_in_words
from app.sales.balances import customer_sales_snapshot
from app.sales.common import CHEQUE_STATE_LABELS, PAYMENT_KIND_LABELS
from app.sales.payments import (
    OpenInvoice,
    PaymentRow,
    customer_payments,
    open_invoices,
    record_payment,
    set_cheque_state,
    void_payment,
)
from app.sales.views import customer_name
from ui.context import AppContext
from ui.sales.common import GREY, RED, jalali_today, warn_user
from ui.widgets.columns import fit_columns
from ui.widgets.forms import FieldErrors
from ui.widgets.jalali_date_edit import JalaliDateEdit
from ui.widgets.persian import persian_row_numbers

logger = logging.getLogger(__name__)


# --- payments ----------------------------------------------------------------------------------------------

class PaymentsDialog(QDialog):
    """A customer's balance, open invoices and payments; record a payment (cash, card, transfer, cheque)."""

    changed = Signal()

    def __init__(self, ctx: AppContext, customer_id: int, invoice_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.invoice_id = invoice_id
        self.errors = FieldErrors()
        self.setMinimumSize(900, 760)
        lay = QVBoxLayout(self)
        self.balance = QLabel()
        self.balance.setProperty("role", "title")
        lay.addWidget(self.balance)

        lay.addWidget(QLabel("فاکتورهای تسویه‌نشده"))
        self.open_table = QTableWidget(0, 5)
        self.open_table.setHorizontalHeaderLabels(["شماره", "تاریخ", "سررسید", "مبلغ", "مانده"])
        self.open_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.open_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.open_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.open_table.setMaximumHeight(150)
        persian_row_numbers(self.open_table)
        lay.addWidget(self.open_table)

        form_box = QGroupBox("ثبت دریافت")
        form = QGridLayout(form_box)
        self.kind = QComboBox()
        for k, v in PAYMENT_KIND_LABELS.items():
            self.kind.addItem(v, k)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("مبلغ به ریال")
        self.date = JalaliDateEdit()
        self.date.setDate(jalali_today())
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("شماره پیگیری")
        self.cheque_number = QLineEdit()
        self.cheque_bank = QLineEdit()
        self.cheque_due = JalaliDateEdit(placeholder="سررسید چک")
        self.allocate = QComboBox()
        self.allocate.addItem("تسویه فاکتورهای قدیمی‌تر به ترتیب", "auto")
        self.allocate.addItem("فقط فاکتور انتخاب‌شده در جدول بالا", "selected")
        self.allocate.addItem("علی‌الحساب (بدون تخصیص)", "none")
        self.note = QLineEdit()
        form.addWidget(QLabel("نوع"), 0, 0)
        form.addWidget(self.kind, 0, 1)
        form.addWidget(QLabel("مبلغ (ریال)"), 0, 2)
        form.addWidget(self.errors.wrap("amount", self.amount), 0, 3)
        form.addWidget(QLabel("تاریخ"), 0, 4)
        form.addWidget(self.errors.wrap("date", self.date), 0, 5)
        self.amount_words = QLabel()
        self.amount_words.setProperty("role", "muted")
        form.addWidget(self.amount_words, 1, 2, 1, 4)
        self.ref_label = QLabel("شماره پیگیری")
        form.addWidget(self.ref_label, 2, 0)
        form.addWidget(self.reference, 2, 1)
        self.cheque_labels = [QLabel("شماره چک"), QLabel("بانک"), QLabel("سررسید چک")]
        form.addWidget(self.cheque_labels[0], 3, 0)
        form.addWidget(self.errors.wrap("cheque_number", self.cheque_number), 3, 1)
        form.addWidget(self.cheque_labels[1], 3, 2)
        form.addWidget(self.errors.wrap("cheque_bank", self.cheque_bank), 3, 3)
        form.addWidget(self.cheque_labels[2], 3, 4)
        form.addWidget(self.errors.wrap("cheque_due", self.cheque_due), 3, 5)
        form.addWidget(QLabel("تخصیص"), 4, 0)
        form.addWidget(self.errors.wrap("allocations", self.allocate), 4, 1, 1, 3)
        form.addWidget(QLabel("یادداشت"), 5, 0)
        form.addWidget(self.note, 5, 1, 1, 5)
        self.btn_record = QPushButton("ثبت دریافت")
        form.addWidget(self.btn_record, 6, 5)
        self.errors.general = QLabel()
        self.errors.general.setStyleSheet("color: #dc2626;")
        self.errors.general.hide()
        form.addWidget(self.errors.general, 6, 0, 1, 5)
        lay.addWidget(form_box)

        lay.addWidget(QLabel("دریافت‌ها"))
        self.pay_table = QTableWidget(0, 6)
        self.pay_table.setHorizontalHeaderLabels(["تاریخ", "نوع", "مبلغ", "جزئیات", "تخصیص به فاکتور", "وضعیت"])
        self.pay_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pay_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.pay_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)   # others: fit_columns
        persian_row_numbers(self.pay_table)
        lay.addWidget(self.pay_table, 1)
        row = QHBoxLayout()
        self.btn_void = QPushButton("ابطال دریافت")
        self.btn_cleared = QPushButton("چک وصول شد")
        self.btn_bounced = QPushButton("چک برگشت خورد")
        for b in (self.btn_void, self.btn_cleared, self.btn_bounced):
            row.addWidget(b)
        row.addStretch(1)
        close = QPushButton("بستن")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)

        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.amount.textChanged.connect(self._amount_changed)
        self.btn_record.clicked.connect(lambda: self.record())
        self.btn_void.clicked.connect(lambda: self.void_selected())
        self.btn_cleared.clicked.connect(lambda: self._cheque_state("cleared"))
        self.btn_bounced.clicked.connect(lambda: self._cheque_state("bounced"))
        self._kind_changed()
        self.refresh()

    def _kind_changed(self) -> None:
        cheque = self.kind.currentData() == "cheque"
        for w in (*self.cheque_labels, self.cheque_number, self.cheque_bank, self.cheque_due):
            w.setVisible(cheque)
        self.reference.setVisible(self.kind.currentData() in ("card", "transfer"))
        self.ref_label.setVisible(self.reference.isVisible())

    def _amount_changed(self, text: str) -> None:
        v = parse_int(text)
        self.amount_words.setText(amount_in_words(v) if v and v > 0 else "")

    def refresh(self) -> None:
        snap = customer_sales_snapshot(self.customer_id)
        name = customer_name(self.customer_id)
        bal = snap["balance"]
        if bal > 0:
            text = f"{name}: بدهکار {fmt.money(bal, toman=False)}"
        elif bal < 0:
            text = f"{name}: بستانکار {fmt.money(-bal, toman=False)}"
        else:
            text = f"{name}: حساب تسویه است"
        if snap["overdue"]:
            text += f" · سررسید گذشته {fmt.money(snap['overdue'], toman=False)}"
        self.balance.setText(text)
        self.setWindowTitle(f"دریافت‌ها — {name}")
        self.open_rows = open_invoices(self.customer_id)
        self.open_table.setRowCount(len(self.open_rows))
        for i, o in enumerate(self.open_rows):
            vals = [fmt.digits(o.number), fmt.date(o.date), fmt.date(o.due_date),
                    fmt.num(o.total), fmt.num(o.remaining)]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if o.due_date and o.due_date < jalali_today():
                    it.setForeground(QBrush(RED))
                self.open_table.setItem(i, c, it)
            if o.id == self.invoice_id:
                self.select_open(i)
        self.pay_rows = customer_payments(self.customer_id)
        self.pay_table.setRowCount(len(self.pay_rows))
        for i, p in enumerate(self.pay_rows):
            details = p.reference and f"پیگیری {fmt.digits(p.reference)}" or ""
            if p.kind == "cheque":
                details = (f"چک {fmt.digits(p.cheque_number)} {p.cheque_bank}، سررسید {fmt.date(p.cheque_due)}")
            if p.note:
                details += f" · {p.note}"
            alloc = "، ".join(f"{fmt.digits(n)}: {fmt.num(a)}" for n, a in p.allocations) or "علی‌الحساب"
            state = "باطل شده" if p.state == "void" else (CHEQUE_STATE_LABELS.get(p.cheque_state, "")
                                                          if p.kind == "cheque" else "ثبت شده")
            vals = [fmt.date(p.date), PAYMENT_KIND_LABELS[p.kind], fmt.num(p.amount), details,
                    alloc, state]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if not p.counts:
                    it.setForeground(QBrush(GREY))
                self.pay_table.setItem(i, c, it)
        # sized once, after the fill: left on ResizeToContents, every setItem of a shown dialog measured the whole
        # column again (a customer with a few hundred payments waited seconds after each one recorded)
        fit_columns(self.pay_table, skip=(3,))

    def select_open(self, i: int) -> None:
        self.open_table.selectionModel().setCurrentIndex(
            self.open_table.model().index(i, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def select_payment(self, i: int) -> None:
        self.pay_table.selectionModel().setCurrentIndex(
            self.pay_table.model().index(i, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _selected_open(self) -> OpenInvoice | None:
        rows = self.open_table.selectionModel().selectedRows()
        return self.open_rows[rows[0].row()] if rows else None

    def _selected_payment(self) -> PaymentRow | None:
        rows = self.pay_table.selectionModel().selectedRows()
        return self.pay_rows[rows[0].row()] if rows else None

    def record(self) -> int | None:
        self.errors.clear()
        mode = self.allocate.currentData()
        allocations = None
        if mode == "selected":
            o = self._selected_open()
            amount = parse_int(self.amount.text())
            if o is None:
                self.errors.show(ValidationError({"allocations": "فاکتوری را در جدول بالا انتخاب کنید."}))
                return None
            if amount:
                allocations = {o.id: min(amount, o.remaining)}
        try:
            p = record_payment(
                self.customer_id, self.kind.currentData(), self.amount.text(), date=self.date.value(),
                allocations=allocations, auto_allocate=(mode == "auto"), reference=self.reference.text(),
                cheque_number=self.cheque_number.text(), cheque_bank=self.cheque_bank.text(),
                cheque_due=self.cheque_due.value(), note=self.note.text(), user=self.ctx.user_id)
        except ValidationError as e:
            self.errors.show(e)
            return None
        except UserError as e:
            warn_user(self, e)
            return None
        for w in (self.amount, self.reference, self.cheque_number, self.cheque_bank, self.note):
            w.clear()
        self.refresh()
        self.changed.emit()
        self.ctx.bus.data_changed.emit("payments")
        return p.id

    def void_selected(self, reason: str | None = None) -> bool:
        p = self._selected_payment()
        if p is None:
            return False
        if reason is None:
            reason, ok = QInputDialog.getText(self, "ابطال دریافت", "علت ابطال این دریافت:")
            if not ok:
                return False
        try:
            void_payment(p.id, reason, user=self.ctx.user_id)
        except UserError as e:
            warn_user(self, e)
            return False
        self.refresh()
        self.changed.emit()
        return True

    def _cheque_state(self, state: str) -> None:
        p = self._selected_payment()
        if p is None or p.kind != "cheque":
            QMessageBox.information(self, "چک", "یک چک را در جدول دریافت‌ها انتخاب کنید.")
            return
        try:
            set_cheque_state(p.id, state, user=self.ctx.user_id)
        except UserError as e:
            warn_user(self, e)
            return
        self.refresh()
        self.changed.emit()
