"""The documents tab: filters, the lazy list of proformas and invoices with its footer totals, and the actions
(new proforma/invoice, edit, issue, convert, cancel, correct, payments, print preview, save as PDF).

Keys: Ctrl+N new invoice, Ctrl+Shift+N new proforma, Enter edit/open, Ctrl+P print preview, Ctrl+F search.
"""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QImage, QKeySequence, QPageLayout, QPageSize, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.sales.common import STATE_LABELS, TYPE_LABELS
from app.sales.documents import cancel_document, convert_proforma, issue_invoice
from app.sales.views import DocRow, DocumentTotals, document_totals, get_document, list_documents
from ui.context import AppContext
from ui.ops import LatestRead, error_text
from ui.sales.common import GREEN, GREY, RED, warn_user
from ui.sales.editor import DocumentEditor
from ui.sales.payments_dialog import PaymentsDialog
from ui.sales.preview import PRINT_DPI, paint_images, pdf_page_images
from ui.widgets.columns import Near, advances_of, fit_columns, widest_texts
from ui.widgets.jalali_date_edit import JalaliDateEdit

logger = logging.getLogger(__name__)


# --- the documents list ------------------------------------------------------------------------------------

class DocumentTableModel(QAbstractTableModel):
    COLUMNS = ("شماره", "نوع", "تاریخ", "مشتری", "مبلغ کل (ریال)", "دریافتی", "مانده", "سررسید", "وضعیت")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[DocRow] = []
        self.texts: list[tuple[str, ...]] = []       # each row's cells as shown (texts_of)

    def set_rows(self, rows: list[DocRow], texts: list[tuple[str, ...]] | None = None) -> None:
        """Show these rows; `texts` are texts_of(rows) when they were made beforehand (on the reader thread)."""
        self.beginResetModel()
        self.rows = rows
        self.texts = texts if texts is not None else self.texts_of(rows)
        self.endResetModel()

    @classmethod
    def texts_of(cls, rows: list[DocRow]) -> list[tuple[str, ...]]:
        """Every cell's text (any thread: plain formatting, no Qt)."""
        text, cols = cls._text, range(len(cls.COLUMNS))
        return [tuple(text(r, c) for c in cols) for r in rows]

    def row(self, i: int) -> DocRow | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    @staticmethod
    def _text(r: DocRow, col: int) -> str:
        if col == 0:
            return fmt.digits(r.number) if r.number else "پیش‌نویس"
        if col == 1:
            return TYPE_LABELS[r.doc_type]
        if col == 2:
            return fmt.date(r.date)
        if col == 3:
            return r.customer_name
        if col == 4:
            return fmt.num(r.total)
        if col == 5:
            return fmt.num(r.paid) if r.doc_type == "invoice" and r.state == "issued" else ""
        if col == 6:
            return fmt.num(r.remaining) if r.remaining else ""
        if col == 7:
            return fmt.date(r.due_date) if r.doc_type == "invoice" else ""
        if col == 8:
            label = STATE_LABELS[r.state]
            if r.overdue:
                label += " · سررسید گذشته"
            elif r.state == "issued" and r.remaining == 0:
                label += " · تسویه"
            return label
        return ""

    def column_texts(self, col: int) -> list[str]:
        """Every row's text in column `col` (ui.widgets.columns.fit_columns)."""
        return [t[col] for t in self.texts]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.texts[index.row()][col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (4, 5, 6):
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.state in ("cancelled", "corrected"):
                return QBrush(GREY)
            if r.overdue and col in (6, 7, 8):
                return QBrush(RED)
            if col == 8 and r.state == "issued" and r.remaining == 0:
                return QBrush(GREEN)
        if role == Qt.ItemDataRole.ToolTipRole and r.overdue:
            return f"مانده {fmt.money(r.remaining, toman=False)} از سررسید {fmt.date(r.due_date)} گذشته است."
        return None


class DocumentsTab(QWidget):
    LIMIT = 2000          # rows in the list; the footer's figures cover every document the filter matches
    STRETCHED = 3         # the customer's name takes the width the other columns leave
    drawn = Signal()                # the list of the latest filter is shown (or its read failed: see the footer)
    totals_shown = Signal()         # the footer has the figures of the latest filter (or says they failed)
    TYPES = (("", "همه اسناد"), ("invoice", "فاکتورها"), ("proforma", "پیش‌فاکتورها"))
    STATES = (("", "همه وضعیت‌ها"), ("open", "پیش‌فاکتور باز"), ("draft", "پیش‌نویس"), ("issued", "صادر شده"),
              ("converted", "تبدیل به فاکتور"), ("cancelled", "باطل شده"), ("corrected", "اصلاح شده"))

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجو: شماره سند یا نام مشتری")
        self.search.setClearButtonEnabled(True)
        self.type_box = QComboBox()
        for key, label in self.TYPES:
            self.type_box.addItem(label, key)
        self.state_box = QComboBox()
        for key, label in self.STATES:
            self.state_box.addItem(label, key)
        self.date_from = JalaliDateEdit(placeholder="از تاریخ")
        self.date_to = JalaliDateEdit(placeholder="تا تاریخ")
        self.overdue = QCheckBox("فقط سررسید گذشته")
        self.unpaid = QCheckBox("فقط تسویه‌نشده")
        filters.addWidget(self.search, 2)
        filters.addWidget(self.type_box)
        filters.addWidget(self.state_box)
        filters.addWidget(self.date_from)
        filters.addWidget(self.date_to)
        filters.addWidget(self.overdue)
        filters.addWidget(self.unpaid)
        lay.addLayout(filters)

        actions = QHBoxLayout()
        self.btn_new_invoice = QPushButton("فاکتور جدید")
        self.btn_new_proforma = QPushButton("پیش‌فاکتور جدید")
        self.btn_edit = QPushButton("ویرایش / نمایش")
        self.btn_issue = QPushButton("صدور فاکتور")
        self.btn_convert = QPushButton("تبدیل به فاکتور")
        self.btn_cancel = QPushButton("ابطال")
        self.btn_correct = QPushButton("اصلاحیه")
        self.btn_payments = QPushButton("دریافت‌ها")
        self.btn_preview = QPushButton("پیش‌نمایش چاپ")
        self.btn_pdf = QPushButton("ذخیره PDF")
        for b in (self.btn_new_invoice, self.btn_new_proforma, self.btn_edit, self.btn_issue, self.btn_convert,
                  self.btn_cancel, self.btn_correct, self.btn_payments, self.btn_preview, self.btn_pdf):
            actions.addWidget(b)
        actions.addStretch(1)
        lay.addLayout(actions)

        self.model = DocumentTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        hdr = self.view.horizontalHeader()
        hdr.setSectionResizeMode(self.STRETCHED, QHeaderView.ResizeMode.Stretch)   # the others: fit_columns
        lay.addWidget(self.view, 1)
        self.summary = QLabel()
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        for w in (self.type_box, self.state_box):
            w.currentIndexChanged.connect(lambda _i: self.refresh())
        for w in (self.overdue, self.unpaid):
            w.toggled.connect(lambda _b: self.refresh())
        for w in (self.date_from, self.date_to):
            if hasattr(w, "dateChanged"):
                w.dateChanged.connect(lambda *_a: self.refresh())
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.view.doubleClicked.connect(lambda _i: self.edit_selected())
        self.btn_new_invoice.clicked.connect(lambda: self.new_document("invoice"))
        self.btn_new_proforma.clicked.connect(lambda: self.new_document("proforma"))
        self.btn_edit.clicked.connect(self.edit_selected)
        self.btn_issue.clicked.connect(self.issue_selected)
        self.btn_convert.clicked.connect(self.convert_selected)
        self.btn_cancel.clicked.connect(self.cancel_selected)
        self.btn_correct.clicked.connect(self.correct_selected)
        self.btn_payments.clicked.connect(self.payments_for_selected)
        self.btn_preview.clicked.connect(self.preview_selected)
        self.btn_pdf.clicked.connect(self.save_pdf_selected)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=lambda: self.new_document("invoice"))
        QShortcut(QKeySequence("Ctrl+Shift+N"), self, activated=lambda: self.new_document("proforma"))
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self.preview_selected)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.view, activated=self.edit_selected)
        self._jobs: list = []           # background jobs (PDF, preview) under way
        self._totals = LatestRead(self, "document-totals")      # the footer's sums (_read_totals)
        self._list = LatestRead(self, "document-list")          # the rows (refresh)
        self._generation = 0            # each refresh's number
        self._awaited: int | None = None          # the refresh whose read is to be drawn (None: none under way)
        self._select_after: int | None = None     # the document to select once the list being read is drawn
        self.last_preview = None
        self._update_buttons()          # nothing selected until the list is drawn
        self.refresh()

    # --- list ---------------------------------------------------------------------------------------
    @property
    def reading(self) -> bool:
        """The list of the latest filter is being read (the rows shown are the previous filter's); a read outrun
        by a refresh drawn at once does not count: it will not be drawn."""
        return self._awaited is not None

    def refresh(self, now: bool = False) -> None:
        """Read the list again: on a reader thread, which also formats its cells (2,000 rows of 25,000 documents
        took 50 ms to read and format on a slow two-core machine), while the rows shown stay; `now`: on this
        thread, at once (after the user's own change, which the list must show before anything else is done)."""
        filters = dict(
            doc_type=self.type_box.currentData() or None, state=self.state_box.currentData() or None,
            text=self.search.text(), date_from=self._date(self.date_from), date_to=self._date(self.date_to),
            overdue_only=self.overdue.isChecked(), unpaid_only=self.unpaid.isChecked())
        self._generation += 1
        generation, limit = self._generation, self.LIMIT
        if now:
            self._awaited = None
            self._draw(list_documents(limit=limit, **filters), None, None, filters)
            return
        self._awaited = generation
        advance = advances_of(self.view)
        fitted = [c for c in range(len(DocumentTableModel.COLUMNS)) if c != self.STRETCHED]

        def read() -> tuple[list[DocRow], list[tuple[str, ...]], Near]:
            rows = list_documents(limit=limit, **filters)
            texts = DocumentTableModel.texts_of(rows)
            # which texts could be each column's widest (fit_columns lays out and measures only those)
            return rows, texts, {c: widest_texts(advance, [t[c] for t in texts]) for c in fitted}

        def done(got: tuple[list[DocRow], list[tuple[str, ...]], Near]) -> None:
            if generation == self._awaited:
                self._awaited = None
                self._draw(*got, filters)

        def failed(exc: BaseException) -> None:
            if generation == self._awaited:
                self._awaited = self._select_after = None
                self.summary.setText(f"فهرست اسناد خوانده نشد: {error_text(exc)}")
                self.drawn.emit()

        if not self.model.rows:
            self.summary.setText("فهرست اسناد در حال خواندن…")
        self._list.read(read, done, failed)

    def _draw(self, rows: list[DocRow], texts: list[tuple[str, ...]] | None,
              near: Near | None, filters: dict) -> None:
        """Show a read's rows, the selected document still selected (or the one asked for meanwhile)."""
        keep = self._select_after
        if keep is None and (was := self.selected()) is not None:
            keep = was.id
        self._select_after = None
        self.model.set_rows(rows, texts)
        fit_columns(self.view, skip=(self.STRETCHED,), near=near)
        if keep is not None:
            self.select_id(keep)
        self._update_buttons()
        self._read_totals(filters, len(rows))
        self.drawn.emit()

    def _read_totals(self, filters: dict, shown: int) -> None:
        """The footer's figures, summed by the database over everything the filter matches (not over the rows
        shown), on a worker thread: at 250,000 documents a search by name took the sums most of a second, and the
        list is there to work in meanwhile. One read at a time: filters changed meanwhile are summed once it
        ends, for the last of them."""
        self.summary.setText(f"{fmt.count(shown, 'سند')} · جمع‌ها در حال محاسبه…")

        def done(t: DocumentTotals) -> None:
            head = fmt.count(t.count, "سند")
            if shown < t.count:
                head = (f"{fmt.count(shown, 'سند')} تازه‌تر از {head} نمایش داده می‌شود (جستجو یا بازه تاریخ را "
                        "تنگ‌تر کنید)")
            self.summary.setText(
                f"{head} · جمع {fmt.count(t.issued_count, 'فاکتور صادرشده')}: {fmt.money(t.issued_total, toman=False)}"
                f" · مانده {fmt.money(t.issued_remaining, toman=False)}")
            self.totals_shown.emit()

        def failed(exc: BaseException) -> None:
            logger.error("invoice list totals failed: %s", exc)
            self.summary.setText(f"{fmt.count(shown, 'سند')} · جمع‌ها خوانده نشد.")
            self.totals_shown.emit()

        self._totals.read(lambda: document_totals(**filters), done, failed)

    @staticmethod
    def _date(w: JalaliDateEdit) -> dt.date | None:
        try:
            return w.date()
        except Exception:  # noqa: BLE001 - a half-typed date filters nothing
            return None

    def selected(self) -> DocRow | None:
        idx = self.view.selectionModel().selectedRows()
        return self.model.row(idx[0].row()) if idx else None

    def select_id(self, doc_id: int) -> None:
        """Select this document: in the rows shown, and again once the list being read is drawn."""
        if self.reading:
            self._select_after = doc_id
        for i, r in enumerate(self.model.rows):
            if r.id == doc_id:
                self.select_row(i)
                return

    def select_row(self, i: int) -> None:
        idx = self.model.index(i, 0)
        self.view.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(idx)

    def _update_buttons(self) -> None:
        r = self.selected()
        has = r is not None
        self.btn_edit.setEnabled(has)
        self.btn_issue.setEnabled(has and r.doc_type == "invoice" and r.state == "draft")
        self.btn_convert.setEnabled(has and r.doc_type == "proforma" and r.state == "open")
        self.btn_cancel.setEnabled(has and r.state in ("open", "draft", "issued"))
        self.btn_correct.setEnabled(has and r.doc_type == "invoice" and r.state == "issued")
        self.btn_payments.setEnabled(has)
        self.btn_preview.setEnabled(has)
        self.btn_pdf.setEnabled(has)

    def _changed(self, doc_id: int | None = None, customer_id: int | None = None) -> None:
        self.refresh(now=True)
        if doc_id:
            self.select_id(doc_id)
        self.ctx.bus.data_changed.emit("invoices")
        if customer_id:
            self.ctx.bus.customer_changed.emit(customer_id)

    # --- actions ------------------------------------------------------------------------------------
    def new_document(self, doc_type: str, customer_id: int | None = None) -> DocumentEditor:
        dlg = DocumentEditor(self.ctx, doc_type, customer_id=customer_id, parent=self)
        dlg.saved.connect(lambda doc_id, cid: self._changed(doc_id, cid))
        dlg.show()
        return dlg

    def edit_selected(self) -> DocumentEditor | None:
        r = self.selected()
        if r is None:
            return None
        dlg = DocumentEditor(self.ctx, r.doc_type, doc_id=r.id, parent=self)
        dlg.saved.connect(lambda doc_id, cid: self._changed(doc_id, cid))
        dlg.show()
        return dlg

    def issue_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        try:
            doc = issue_invoice(r.id, user=self.ctx.user_id)
        except UserError as e:
            warn_user(self, e)
            return
        self.ctx.bus.status_message.emit(f"فاکتور شماره {fmt.digits(doc.number)} صادر شد.")
        self._changed(doc.id, r.customer_id)

    def convert_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "تبدیل به فاکتور",
                          f"پیش‌فاکتور {fmt.digits(r.number)} به فاکتور فروش تبدیل و صادر شود؟", parent=self)
        yes = box.addButton("صدور فاکتور", QMessageBox.ButtonRole.AcceptRole)
        draft = box.addButton("فاکتور پیش‌نویس", QMessageBox.ButtonRole.ActionRole)
        box.addButton("انصراف", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() not in (yes, draft):
            return
        try:
            inv = convert_proforma(r.id, user=self.ctx.user_id, issue=box.clickedButton() is yes)
        except UserError as e:
            warn_user(self, e)
            return
        self._changed(inv.id, r.customer_id)

    def cancel_selected(self, reason: str | None = None) -> bool:
        r = self.selected()
        if r is None:
            return False
        if reason is None:
            label = f"{TYPE_LABELS[r.doc_type]} {fmt.digits(r.number) if r.number else 'پیش‌نویس'}"
            reason, ok = QInputDialog.getText(self, "ابطال سند", f"علت ابطال {label}:")
            if not ok:
                return False
        try:
            cancel_document(r.id, reason, user=self.ctx.user_id)
        except UserError as e:
            warn_user(self, e)
            return False
        self._changed(r.id, r.customer_id)
        return True

    def correct_selected(self) -> DocumentEditor | None:
        r = self.selected()
        if r is None:
            return None
        dlg = DocumentEditor(self.ctx, "invoice", doc_id=r.id, correcting=True, parent=self)
        dlg.saved.connect(lambda doc_id, cid: self._changed(doc_id, cid))
        dlg.show()
        return dlg

    def payments_for_selected(self) -> PaymentsDialog | None:
        r = self.selected()
        if r is None:
            return None
        dlg = PaymentsDialog(self.ctx, r.customer_id, invoice_id=r.id if r.doc_type == "invoice" else None,
                             parent=self)
        dlg.changed.connect(lambda: self._changed(None, r.customer_id))
        dlg.show()
        return dlg

    # --- printing -----------------------------------------------------------------------------------
    def _paper(self) -> str:
        return settings.get(options.SALES_PAPER)

    def _toman(self) -> bool:
        return bool(settings.get(options.MONEY_SHOW_TOMAN))

    def pdf_bytes(self, doc_id: int) -> bytes:
        from app.sales.invoice_pdf import render_document

        return render_document(doc_id, paper=self._paper(), toman=self._toman())

    def preview_selected(self):
        r = self.selected()
        if r is None:
            return None
        return self.preview(r.id)

    def preview(self, doc_id: int, exec_dialog: bool = True):
        """Render the PDF and its page images off the GUI thread (a progress window if it takes a while), then
        open Qt's print preview on them. Returns the job; the dialog is `self.last_preview` once it is open."""
        from ui.ops import QueryOp

        paper, toman = self._paper(), self._toman()

        def work(ctl) -> list[QImage]:
            from app.sales.invoice_pdf import render_document

            data = render_document(doc_id, paper=paper, toman=toman)
            ctl.check()
            return pdf_page_images(data, PRINT_DPI)

        def show(images: list[QImage]) -> None:
            dlg = self.preview_dialog(images)
            self.last_preview = dlg
            if exec_dialog:
                dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                dlg.open()

        op = QueryOp(self, work, show, name="invoice-preview", title="پیش‌نمایش چاپ") \
            .with_progress("در حال ساختن PDF…")
        self._track(op)
        return op.run()

    def preview_dialog(self, images: list[QImage]):
        """Qt's print preview of ready page images (on the GUI thread; painting them is cheap)."""
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setFullPage(True)
        paper = self._paper()
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A5 if paper == "A5" else QPageSize.PageSizeId.A4))
        printer.setPageOrientation(QPageLayout.Orientation.Landscape if paper == "A5"
                                   else QPageLayout.Orientation.Portrait)
        dlg = QPrintPreviewDialog(printer, self)
        dlg.printer_ref = printer         # the dialog does not own the printer: keep it alive with the dialog
        dlg.setWindowTitle("پیش‌نمایش چاپ")
        dlg.paintRequested.connect(lambda p: paint_images(p, images))
        return dlg

    def save_pdf_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        name = f"{'proforma' if r.doc_type == 'proforma' else 'invoice'}-{r.number or 'draft'}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "ذخیره PDF", name, "PDF (*.pdf)")
        if path:
            self.save_pdf(r.id, path)

    def save_pdf(self, doc_id: int, path: str):
        """Render and write the file off the GUI thread (ui.ops.QueryOp); the status bar says when it is done."""
        from ui.ops import QueryOp, error_text

        paper, toman = self._paper(), self._toman()

        def work(_ctl) -> str:
            from app.sales.invoice_pdf import render_document

            render_document(get_document(doc_id), path, paper=paper, toman=toman)
            return path

        def failed(e: BaseException) -> None:
            if isinstance(e, OSError):
                msg = f"پرونده نوشته نشد: {fmt.path(path)}\n{e.strerror or e}"
            else:
                msg = error_text(e)
            QMessageBox.warning(self, "ذخیره PDF", msg)

        op = QueryOp(self, work, lambda p: self.ctx.bus.status_message.emit(f"PDF ذخیره شد: {fmt.path(p)}"),
                     name="invoice-pdf").failure(failed).with_progress("در حال ساختن PDF…")
        self._track(op)
        return op.run()

    def _track(self, op) -> None:
        self._jobs.append(op)
        op.finished(lambda: self._jobs.remove(op))
