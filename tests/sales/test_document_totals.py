"""The invoice list's footer: figures summed by the database over the whole filter, and a list that says when
it shows only the latest documents (it used to stop at 2,000 and sum only those, silently under-reporting)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from app.core import clock
from app.sales.documents import cancel_document, create_invoice, create_proforma
from app.sales.payments import record_payment
from app.sales.totals import LineInput
from app.sales.views import document_totals
from tests.sales.helpers_sales import make_customer
from ui.context import AppContext


@pytest.fixture
def book(anydb):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    a = make_customer("رضا کریمی")
    b = make_customer("مینا صالحی")
    docs = []
    for i in range(12):      # 12 invoices of 1,000,000 × (i+1) + 10% VAT, alternating customers
        docs.append(create_invoice(a if i % 2 == 0 else b, [LineInput("کالا", 1, 1_000_000 * (i + 1))],
                                         date=dt.date(2026, 10, 1) + dt.timedelta(days=i), settlement="credit"))
    create_proforma(a, [LineInput("مشاوره", 1, 5_000_000)])
    cancel_document(docs[0].id, "اشتباه")                               # 1,100,000 leaves the sums
    record_payment(b, "cash", 2_200_000, allocations={docs[1].id: 2_200_000})   # invoice 2 paid
    yield dict(a=a, b=b, docs=docs)
    clock.set_now(None)


def test_totals_cover_every_matching_document(book):
    t = document_totals()
    # by hand: invoices 2..12 issued: Σ (i+1)·1.1M for i=1..11 = 1.1M × (2+…+12) = 1.1M × 77 = 84,700,000
    assert (t.count, t.issued_count, t.issued_total) == (13, 11, 84_700_000)
    assert t.issued_remaining == 84_700_000 - 2_200_000
    ta = document_totals(customer_id=book["a"])
    # customer a: invoices 3,5,7,9,11 (i = 2,4,6,8,10) issued: 1.1M × (3+5+7+9+11) = 38,500,000; + 1 proforma, 1 cancelled
    assert (ta.count, ta.issued_count, ta.issued_total, ta.issued_remaining) == (7, 5, 38_500_000, 38_500_000)
    assert document_totals(text="صالحی").issued_remaining == 1_100_000 * (4 + 6 + 8 + 10 + 12)
    assert document_totals(unpaid_only=True).issued_count == 10


def test_list_page_says_it_shows_the_latest_n_of_m(book, qtbot, persian_app):
    from ui.sales.documents_tab import DocumentsTab

    DocumentsTab.LIMIT = 5
    try:
        tab = DocumentsTab(AppContext())
        qtbot.addWidget(tab)
        as_drawn = []                                   # the rows first, then the figures: each read on a worker
        tab.drawn.connect(lambda: as_drawn.append((len(tab.model.rows), tab.summary.text())))
        qtbot.waitUntil(lambda: bool(as_drawn))
        assert as_drawn == [(5, "۵ سند · جمع‌ها در حال محاسبه…")]
        qtbot.waitUntil(lambda: "تازه‌تر" in tab.summary.text())
        text = tab.summary.text()
        assert "۵ سند تازه‌تر از ۱۳ سند" in text
        assert "۱۱ فاکتور صادرشده: ۸۴٬۷۰۰٬۰۰۰ ریال" in text
        assert "مانده ۸۲٬۵۰۰٬۰۰۰ ریال" in text
    finally:
        DocumentsTab.LIMIT = 2000


def test_the_footer_shows_the_latest_filters_figures(book, qtbot, monkeypatch, persian_app):
    """Filters changed faster than their sums come back: the footer ends with the last filter's figures, never
    an earlier read's that arrived late, and the filters changed while a sum was read are summed once, for the
    last of them."""
    import ui.sales.documents_tab as page

    tab = page.DocumentsTab(AppContext())
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.totals_shown, timeout=10_000):
        pass
    read: list[dict] = []
    gate = threading.Event()

    def slow_totals(**filters):
        read.append(filters)
        gate.wait(10)
        return document_totals(**filters)

    monkeypatch.setattr(page, "document_totals", slow_totals)
    tab.search.setText("صالحی")
    tab._timer.stop()                               # the search box's own refresh comes now, not in 250 ms
    tab.refresh()                                   # every document of «مینا صالحی»: six invoices
    qtbot.waitUntil(lambda: not tab.reading and bool(read))        # drawn, and its figures being summed
    tab.type_box.setCurrentIndex(tab.type_box.findData("invoice"))
    tab.unpaid.setChecked(True)                     # then her unpaid invoices only: five
    qtbot.waitUntil(lambda: not tab.reading)
    assert tab.summary.text() == "۵ سند · جمع‌ها در حال محاسبه…"
    gate.set()
    qtbot.waitUntil(lambda: "جمع ۵ فاکتور" in tab.summary.text(), timeout=10_000)
    qtbot.wait(200)
    assert tab.summary.text().startswith("۵ سند · جمع ۵ فاکتور صادرشده: ۴۴٬۰۰۰٬۰۰۰ ریال")
    assert len(read) == 2 and read[1]["unpaid_only"] and not read[0]["unpaid_only"]
