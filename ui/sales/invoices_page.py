"""The section «پیش‌فاکتور و فاکتور»: proformas, invoices, payments and the price list.

Two tabs: the documents (ui.sales.documents_tab, which opens the editor, ui.sales.editor, and the payments dialog,
ui.sales.payments_dialog) and the products and services (ui.sales.products_tab). Everything goes through
app.sales; the PDF is app.sales.invoice_pdf's, previewed by ui.sales.preview.
"""
from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.sales.views import get_document
from ui.context import AppContext
from ui.sales.documents_tab import DocumentsTab
from ui.sales.editor import DocumentEditor
from ui.sales.payments_dialog import PaymentsDialog
from ui.sales.products_tab import ProductsTab

logger = logging.getLogger(__name__)


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
