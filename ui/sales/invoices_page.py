"""Proformas, invoices, payments and the price list.

InvoicesPage has two tabs: the documents (filters, list, actions: new proforma/invoice, edit, issue, convert,
cancel, correct, payments, print preview, save as PDF) and the products and services. Everything goes through
app.sales; the PDF is app.invoice_pdf's, shown in Qt's print preview by rasterising its pages (QtPdf when this
Qt has it, else pdfium through pypdfium2) so the preview is exactly what the PDF file holds.

Keys: Ctrl+N new invoice, Ctrl+Shift+N new proforma, Enter edit/open, Ctrl+P print preview, Ctrl+F search.
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QImage, QKeySequence, QPageLayout, QPageSize, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core import jalali
from app.core.errors import UserError, ValidationError
from app.core.text import format_number, format_rial, parse_int, to_persian_digits
from app.core.words import amount_in_words
from app.sales.balances import customer_sales_snapshot
from app.sales.common import (
    CHEQUE_STATE_LABELS,
    PAYMENT_KIND_LABELS,
    SETTLEMENT_LABELS,
    STATE_LABELS,
    TYPE_LABELS,
)
from app.sales.documents import (
    cancel_document,
    convert_proforma,
    correct_invoice,
    issue_invoice,
    save_document,
)
from app.sales.payments import (
    OpenInvoice,
    PaymentRow,
    customer_payments,
    open_invoices,
    record_payment,
    set_cheque_state,
    void_payment,
)
from app.sales.products import ProductRow, get_product, list_products, save_product
from app.sales.totals import LineInput, compute, percent_label
from app.sales.vat import vat_rate_on
from app.sales.views import (
    DocRow,
    customer_choices,
    customer_name,
    document_totals,
    get_document,
    list_documents,
)
from ui.context import AppContext
from ui.widgets.forms import FieldErrors
from ui.widgets.jalali_date_edit import JalaliDateEdit
from ui.widgets.persian import persian_row_numbers

logger = logging.getLogger(__name__)

RED = QColor("#b91c1c")
GREY = QColor("#9ca3af")
GREEN = QColor("#15803d")


def _warn(parent, e: UserError, title: str = "انجام نشد") -> None:
    QMessageBox.warning(parent, title, e.message)


def _num(text: str) -> str:
    return to_persian_digits(text or "")


# --- PDF → images (print preview and printing) -------------------------------------------------------------

def pdf_page_images(data: bytes, dpi: int = 150) -> list[QImage]:
    """Rasterise every page of a PDF: QtPdf when available, else pypdfium2."""
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        QPdfDocument = None  # a class, when present
    if QPdfDocument is not None:
        doc = QPdfDocument()
        buf = QBuffer()
        buf.setData(QByteArray(data))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        doc.load(buf)
        out = []
        for i in range(doc.pageCount()):
            size = doc.pagePointSize(i)
            out.append(doc.render(i, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72))))
        doc.close()
        if out:
            return out
        logger.warning("QtPdf read no pages; falling back to pdfium")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    out = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            pil = page.render(scale=dpi / 72).to_pil().convert("RGBA")
            img = QImage(pil.tobytes("raw", "RGBA"), pil.width, pil.height, pil.width * 4,
                         QImage.Format.Format_RGBA8888)
            out.append(img.copy())
            page.close()
    finally:
        pdf.close()
    return out


PRINT_DPI = 300      # page images for the print preview (and printing from it): sharp on paper


def paint_pdf(printer, data: bytes) -> None:
    """Draw the PDF's pages on a QPrinter (print or preview), one printer page per PDF page."""
    paint_images(printer, pdf_page_images(data, min(max(printer.resolution(), 96), PRINT_DPI)))


def paint_images(printer, images: list[QImage]) -> None:
    """Draw page images on a QPrinter, one printer page per image, centred and scaled to the page."""
    painter = QPainter(printer)
    try:
        for i, img in enumerate(images):
            if i:
                printer.newPage()
            rect = painter.viewport()
            scaled = img.size()
            scaled.scale(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = rect.x() + (rect.width() - scaled.width()) // 2
            y = rect.y() + (rect.height() - scaled.height()) // 2
            painter.setViewport(x, y, scaled.width(), scaled.height())
            painter.setWindow(img.rect())
            painter.drawImage(0, 0, img)
            painter.setViewport(rect)
            painter.setWindow(rect)
    finally:
        painter.end()


# --- the documents list ------------------------------------------------------------------------------------

class DocumentTableModel(QAbstractTableModel):
    COLUMNS = ("شماره", "نوع", "تاریخ", "مشتری", "مبلغ کل (ریال)", "دریافتی", "مانده", "سررسید", "وضعیت")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[DocRow] = []

    def set_rows(self, rows: list[DocRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

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

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return _num(r.number) if r.number else "پیش‌نویس"
            if col == 1:
                return TYPE_LABELS[r.doc_type]
            if col == 2:
                return jalali.format_date(r.date)
            if col == 3:
                return r.customer_name
            if col == 4:
                return format_number(r.total)
            if col == 5:
                return format_number(r.paid) if r.doc_type == "invoice" and r.state == "issued" else ""
            if col == 6:
                return format_number(r.remaining) if r.remaining else ""
            if col == 7:
                return jalali.format_date(r.due_date) if r.doc_type == "invoice" else ""
            if col == 8:
                label = STATE_LABELS[r.state]
                if r.overdue:
                    label += " · سررسید گذشته"
                elif r.state == "issued" and r.remaining == 0:
                    label += " · تسویه"
                return label
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
            return f"مانده {format_rial(r.remaining)} از سررسید {jalali.format_date(r.due_date)} گذشته است."
        return None


class DocumentsTab(QWidget):
    LIMIT = 2000          # rows in the list; the footer's figures cover every document the filter matches
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
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
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
        self.last_preview = None
        self.refresh()

    # --- list ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        keep = self.selected()
        filters = dict(
            doc_type=self.type_box.currentData() or None, state=self.state_box.currentData() or None,
            text=self.search.text(), date_from=self._date(self.date_from), date_to=self._date(self.date_to),
            overdue_only=self.overdue.isChecked(), unpaid_only=self.unpaid.isChecked())
        rows = list_documents(limit=self.LIMIT, **filters)
        self.model.set_rows(rows)
        # The figures are summed by the database over everything the filter matches, not over the rows shown.
        t = document_totals(**filters)
        head = fmt.count(t.count, "سند")
        if len(rows) < t.count:
            head = f"{fmt.count(len(rows), 'سند')} تازه‌تر از {head} نمایش داده می‌شود (جستجو یا بازه تاریخ را تنگ‌تر کنید)"
        self.summary.setText(
            f"{head} · جمع {fmt.count(t.issued_count, 'فاکتور صادرشده')}: {fmt.money(t.issued_total, toman=False)}"
            f" · مانده {fmt.money(t.issued_remaining, toman=False)}")
        if keep is not None:
            self.select_id(keep.id)
        self._update_buttons()

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
        self.refresh()
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
            _warn(self, e)
            return
        self.ctx.bus.status_message.emit(f"فاکتور شماره {_num(doc.number)} صادر شد.")
        self._changed(doc.id, r.customer_id)

    def convert_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "تبدیل به فاکتور",
                          f"پیش‌فاکتور {_num(r.number)} به فاکتور فروش تبدیل و صادر شود؟", parent=self)
        yes = box.addButton("صدور فاکتور", QMessageBox.ButtonRole.AcceptRole)
        draft = box.addButton("فاکتور پیش‌نویس", QMessageBox.ButtonRole.ActionRole)
        box.addButton("انصراف", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() not in (yes, draft):
            return
        try:
            inv = convert_proforma(r.id, user=self.ctx.user_id, issue=box.clickedButton() is yes)
        except UserError as e:
            _warn(self, e)
            return
        self._changed(inv.id, r.customer_id)

    def cancel_selected(self, reason: str | None = None) -> bool:
        r = self.selected()
        if r is None:
            return False
        if reason is None:
            label = f"{TYPE_LABELS[r.doc_type]} {_num(r.number) if r.number else 'پیش‌نویس'}"
            reason, ok = QInputDialog.getText(self, "ابطال سند", f"علت ابطال {label}:")
            if not ok:
                return False
        try:
            cancel_document(r.id, reason, user=self.ctx.user_id)
        except UserError as e:
            _warn(self, e)
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
            self.product.addItem(f"{fmt.text_digits(p.name)} — {format_rial(p.price)}", p.id)
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
            return f"اصلاحیه فاکتور شماره {_num(self.view.number)}"
        if self.view is None:
            return f"{label} جدید"
        num = _num(self.view.number) if self.view.number else "پیش‌نویس"
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
        self.doc_discount.setText(format_number(v.doc_discount) if v.doc_discount else fmt.digits(0))
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
                self.errors.general.setText(f"این فاکتور با فاکتور شماره {_num(v.corrected_by_number or '')} "
                                            f"اصلاح شده است. علت: {v.cancel_reason}")
                self.errors.general.show()

    def add_line(self, line: LineInput | None = None) -> int:
        line = line or LineInput("", 1, 0)
        row = self.lines.rowCount()
        self._filling = True
        self.lines.insertRow(row)
        qty = line.quantity
        qty_text = format(Decimal(str(qty)).normalize(), "f") if qty not in (None, "") else "1"
        values = [line.code, fmt.text_digits(line.description), to_persian_digits(qty_text).replace(".", "٫"), line.unit or "عدد",
                  _money_text(line.unit_price), _money_text(line.discount), None, ""]
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
                it.setText(format_number(t.lines[used].total))
                used += 1
        self._filling = False
        rows = [("جمع مبلغ کل", t.subtotal), ("جمع تخفیف", t.discount_total),
                (f"مالیات بر ارزش افزوده ({percent_label(t.vat_rate)})", t.vat_total)]
        html = "".join(f"<tr><td>{label}</td><td align='left'>{format_rial(v)}</td></tr>" for label, v in rows)
        html += f"<tr><td><b>مبلغ قابل پرداخت</b></td><td align='left'><b>{format_rial(t.total)}</b></td></tr>"
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
            _warn(self, e, "ذخیره نشد")
            return None
        self.saved.emit(doc.id, doc.customer_id)
        self.ctx.bus.status_message.emit(f"{TYPE_LABELS[doc.doc_type]} "
                                         f"{_num(doc.number) if doc.number else 'پیش‌نویس'} ذخیره شد.")
        self.accept()
        return doc.id


def _money_text(value) -> str:
    v = parse_int(value) if not isinstance(value, int) else value
    return format_number(v or 0)


def jalali_today() -> dt.date:
    from app.core.clock import today

    return today()


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
        self.pay_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.pay_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
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
            text = f"{name}: بدهکار {format_rial(bal)}"
        elif bal < 0:
            text = f"{name}: بستانکار {format_rial(-bal)}"
        else:
            text = f"{name}: حساب تسویه است"
        if snap["overdue"]:
            text += f" · سررسید گذشته {format_rial(snap['overdue'])}"
        self.balance.setText(text)
        self.setWindowTitle(f"دریافت‌ها — {name}")
        self.open_rows = open_invoices(self.customer_id)
        self.open_table.setRowCount(len(self.open_rows))
        for i, o in enumerate(self.open_rows):
            vals = [_num(o.number), jalali.format_date(o.date), jalali.format_date(o.due_date),
                    format_number(o.total), format_number(o.remaining)]
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
            details = p.reference and f"پیگیری {_num(p.reference)}" or ""
            if p.kind == "cheque":
                details = (f"چک {_num(p.cheque_number)} {p.cheque_bank}، سررسید {jalali.format_date(p.cheque_due)}")
            if p.note:
                details += f" · {p.note}"
            alloc = "، ".join(f"{_num(n)}: {format_number(a)}" for n, a in p.allocations) or "علی‌الحساب"
            state = "باطل شده" if p.state == "void" else (CHEQUE_STATE_LABELS.get(p.cheque_state, "")
                                                          if p.kind == "cheque" else "ثبت شده")
            vals = [jalali.format_date(p.date), PAYMENT_KIND_LABELS[p.kind], format_number(p.amount), details,
                    alloc, state]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if not p.counts:
                    it.setForeground(QBrush(GREY))
                self.pay_table.setItem(i, c, it)

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
            _warn(self, e)
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
            _warn(self, e)
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
            _warn(self, e)
            return
        self.refresh()
        self.changed.emit()


# --- products ----------------------------------------------------------------------------------------------

class ProductDialog(QDialog):
    def __init__(self, product: ProductRow | None = None, parent=None):
        super().__init__(parent)
        self.product = product
        self.setWindowTitle("کالا یا خدمت" if product is None else f"ویرایش «{product.name}»")
        self.errors = FieldErrors()
        form = QFormLayout(self)
        self.code = QLineEdit(product.code if product else "")
        self.code.setPlaceholderText("خالی: خودکار")
        self.name = QLineEdit(product.name if product else "")
        self.kind = QComboBox()
        self.kind.addItem("کالا", "goods")
        self.kind.addItem("خدمت", "service")
        if product:
            self.kind.setCurrentIndex(self.kind.findData(product.kind))
        self.unit = QLineEdit(product.unit if product else "عدد")
        self.price = QLineEdit(str(product.price) if product else "")
        self.price.setPlaceholderText("ریال")
        self.price_words = QLabel()
        self.price_words.setProperty("role", "muted")
        self.exempt = QCheckBox("معاف از مالیات بر ارزش افزوده")
        self.exempt.setChecked(bool(product and product.vat_exempt))
        self.goods_id = QLineEdit(product.goods_id if product else "")
        self.goods_id.setPlaceholderText("۱۳ رقم (سامانه مودیان)")
        self.description = QPlainTextEdit(product.description if product else "")
        self.description.setMaximumHeight(70)
        self.active = QCheckBox("فعال (در فهرست انتخاب کالا)")
        self.active.setChecked(product.active if product else True)
        form.addRow("کد", self.errors.wrap("code", self.code))
        form.addRow("نام", self.errors.wrap("name", self.name))
        form.addRow("نوع", self.kind)
        form.addRow("واحد", self.unit)
        form.addRow("قیمت (ریال)", self.errors.wrap("price", self.price))
        form.addRow("", self.price_words)
        form.addRow("", self.exempt)
        form.addRow("شناسه کالا/خدمت", self.errors.wrap("goods_id", self.goods_id))
        form.addRow("توضیحات", self.description)
        form.addRow("", self.active)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("ذخیره")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.price.textChanged.connect(self._price_changed)
        self._price_changed(self.price.text())
        self.saved: ProductRow | None = None

    def _price_changed(self, text: str) -> None:
        v = parse_int(text)
        self.price_words.setText(amount_in_words(v) if v and v > 0 else "")

    def save(self) -> ProductRow | None:
        data = dict(code=self.code.text(), name=self.name.text(), kind=self.kind.currentData(),
                    unit=self.unit.text(), price=self.price.text() or "0", vat_exempt=self.exempt.isChecked(),
                    goods_id=self.goods_id.text(), description=self.description.toPlainText(),
                    active=self.active.isChecked())
        try:
            self.saved = save_product(data, self.product.id if self.product else None)
        except ValidationError as e:
            self.errors.show(e)
            return None
        self.accept()
        return self.saved


class ProductsTab(QWidget):
    COLUMNS = ("کد", "نام", "نوع", "واحد", "قیمت (ریال)", "معاف", "شناسه کالا", "وضعیت")

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجوی کالا: نام، کد یا شناسه")
        self.search.setClearButtonEnabled(True)
        self.show_inactive = QCheckBox("نمایش غیرفعال‌ها")
        self.btn_new = QPushButton("کالا یا خدمت جدید")
        self.btn_edit = QPushButton("ویرایش")
        top.addWidget(self.search, 1)
        top.addWidget(self.show_inactive)
        top.addWidget(self.btn_new)
        top.addWidget(self.btn_edit)
        lay.addLayout(top)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.search.textChanged.connect(lambda _t: self.refresh())
        self.show_inactive.toggled.connect(lambda _b: self.refresh())
        self.btn_new.clicked.connect(lambda: self.edit(None))
        self.btn_edit.clicked.connect(self.edit_selected)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.rows: list[ProductRow] = []
        self.refresh()

    def refresh(self) -> None:
        self.rows = list_products(self.search.text(), active_only=not self.show_inactive.isChecked())
        self.table.setRowCount(len(self.rows))
        for i, p in enumerate(self.rows):
            vals = [p.code, fmt.text_digits(p.name), "خدمت" if p.kind == "service" else "کالا", p.unit, format_number(p.price),
                    "معاف" if p.vat_exempt else "", _num(p.goods_id), "فعال" if p.active else "غیرفعال"]
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if c == 4:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                if not p.active:
                    it.setForeground(QBrush(GREY))
                self.table.setItem(i, c, it)

    def edit_selected(self) -> ProductDialog | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.edit(self.rows[rows[0].row()])

    def edit(self, product: ProductRow | None, exec_dialog: bool = True) -> ProductDialog:
        dlg = ProductDialog(product, self)
        dlg.accepted.connect(self._saved)
        if exec_dialog:
            dlg.open()
        return dlg

    def _saved(self) -> None:
        self.refresh()
        self.ctx.bus.data_changed.emit("products")


class InvoicesPage(QWidget):
    """The section «پیش‌فاکتور و فاکتور»: documents and the price list."""

    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        lay = QVBoxLayout(self)
        title = QLabel("پیش‌فاکتور، فاکتور و دریافت‌ها")
        title.setProperty("role", "title")
        lay.addWidget(title)
        self.tabs = QTabWidget()
        self.documents = DocumentsTab(self.ctx, self)
        self.products = ProductsTab(self.ctx, self)
        self.tabs.addTab(self.documents, "اسناد فروش")
        self.tabs.addTab(self.products, "کالا و خدمات")
        lay.addWidget(self.tabs, 1)
        self.ctx.bus.data_changed.connect(self._on_data_changed)

    def _on_data_changed(self, what: str) -> None:
        if what in ("customers", "payments"):
            self.documents.refresh()
        if what == "products":
            self.products.refresh()

    def new_invoice_for(self, customer_id: int) -> DocumentEditor:
        """For the customer file and the caller-ID popup: a new invoice with this customer chosen."""
        return self.documents.new_document("invoice", customer_id)

    def new_proforma_for(self, customer_id: int) -> DocumentEditor:
        return self.documents.new_document("proforma", customer_id)

    def open_document(self, doc_id: int) -> DocumentEditor:
        """For the timeline (ref_table 'sales_document'): show a document (read-only once issued)."""
        view = get_document(doc_id)
        dlg = DocumentEditor(self.ctx, view.doc_type, doc_id=doc_id, parent=self)
        dlg.saved.connect(lambda d, c: self.documents._changed(d, c))
        dlg.show()
        return dlg

    def payments_for(self, customer_id: int) -> PaymentsDialog:
        """For the customer file: the customer's balance, open invoices and payments."""
        dlg = PaymentsDialog(self.ctx, customer_id, parent=self)
        dlg.changed.connect(lambda: self.documents._changed(None, customer_id))
        dlg.show()
        return dlg
