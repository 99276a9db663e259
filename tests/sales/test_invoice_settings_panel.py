"""The invoice settings panel: dated VAT rates, paper, terms; bad rates are refused with a Persian message."""
from __future__ import annotations

import datetime as dt

from app import settings
from app.sales.vat import vat_rate_on
from ui.context import AppContext


def test_invoice_panel(db, qtbot):
    from ui.settings.invoice_panel import InvoicePanel

    panel = InvoicePanel(AppContext())
    qtbot.addWidget(panel)
    assert panel.rates.rowCount() == 2 and panel.rates.item(1, 1).text() == "۱۰"
    panel._add_rate("۱۴۰۶/۰۱/۰۱", "۱۲")
    panel.paper.setCurrentIndex(panel.paper.findData("A5"))
    panel.payment_days.setValue(45)
    panel.footer.setText("کالای فروخته‌شده پس گرفته نمی‌شود.")
    assert panel.save()
    assert vat_rate_on(dt.date(2027, 3, 21)) == 1200
    assert settings.get("sales.paper") == "A5" and settings.get("sales.payment_days") == 45
    panel._add_rate("1406/13/01", "10")
    assert not panel.save() and "ماه" in panel.message.text()
    assert vat_rate_on(dt.date(2027, 3, 21)) == 1200          # nothing changed
    panel.rates.setRowCount(0)
    assert not panel.save() and "دست‌کم یک نرخ" in panel.message.text()


def test_footer_prefills_new_documents(db, qtbot):
    from tests.sales.helpers_sales import make_customer
    from ui.sales.editor import DocumentEditor

    settings.set("sales.invoice_footer", "تحویل درب انبار")
    dlg = DocumentEditor(AppContext(), "invoice", customer_id=make_customer())
    qtbot.addWidget(dlg)
    assert dlg.notes.text() == "تحویل درب انبار"
