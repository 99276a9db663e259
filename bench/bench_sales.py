"""Sales figures: a 50-line invoice rendered to PDF (target < 300 ms), and one customer's balance over 2,000
invoices and payments among many other customers' documents (target < 20 ms).

On the same documents (about 21,000: a few years of a busy office), as the user sees them, built, filled and
painted: the invoice list opened (`invoice_list_open`: until its newest 2,000 rows, read on a reader thread, are
drawn; the figures over all of them follow), and
the file of the customer with 2,000 documents opened (`customer_file_long_history`: a timeline of about 3,000
entries), and a catalogue of 1,000 products searched key by key (`product_search_keystroke`)."""
from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import figure, opened_ms, time_ms

_made: list[Path] = []


def _fresh_db(tag: str) -> Path:
    from models.connection import close_database, open_database

    close_database()
    folder = Path(tempfile.mkdtemp(prefix=f"crm-bench-sales-{tag}-"))
    _made.append(folder)
    path = folder / "sales.sqlite3"
    open_database(str(path), create=True)
    return path


def _pdf(quick: bool) -> dict:
    from app import options, settings
    from app.sales.documents import create_invoice
    from app.sales.invoice_pdf import render_document
    from app.sales.totals import LineInput
    from models.core import Customer

    _fresh_db("pdf")
    settings.set(options.OFFICE_NAME, "شرکت پیوند نور پارسیان")
    settings.set(options.OFFICE_ADDRESS, "تهران، خیابان ولیعصر، کوچه نیلوفر، پلاک ۱۲")
    settings.set(options.OFFICE_PHONE, "021-88776655")
    c = Customer.create(kind="organisation", company="شرکت بازرگانی آفتاب شرق", economic_code="411111111111",
                        search_text="آفتاب", sort_key="آفتاب")
    names = ["لامپ LED-40W مهتابی", "کابل برق ۲.۵ افشان نیکسان حلقه ۱۰۰ متری با روکش دوبل و گواهی استاندارد",
             "نصب و راه‌اندازی سیستم روشنایی (سه روز کاری)", "کلید و پریز سری ویرا", "تابلو برق ۱۲ خانه"]
    lines = [LineInput(names[i % 5], (i % 7) + 1, 125_000 * (i + 1), discount=1000 * (i % 3), code=f"K{i:03d}")
             for i in range(50)]
    inv = create_invoice(c.id, lines, doc_discount=50_000)
    render_document(inv.id)          # warm: fonts registered, caches primed for nothing else
    samples = [time_ms(lambda: render_document(inv.id, paper="A4")) for _ in range(10 if quick else 40)]
    return figure("invoice_pdf_50_lines", samples, pages=len(__import__("pypdf").PdfReader(
        __import__("io").BytesIO(render_document(inv.id))).pages))


def _balance(quick: bool) -> dict:
    from app.demo.sales import seed_sales
    from app.sales.balances import customer_balance, customer_sales_snapshot
    from models.core import Customer
    from models.sales import Payment, SalesDocument

    _fresh_db("balance")
    rng = random.Random(1405)
    others = [Customer.create(first_name="مشتری", last_name=str(i), search_text=f"m{i}", sort_key=f"m{i}").id
              for i in range(200 if quick else 2000)]
    focus = Customer.create(first_name="مشتری", last_name="پرکار", search_text="پرکار", sort_key="پرکار").id
    seed_sales(rng, others, [], 2_000 if quick else 20_000)
    # the focus customer: about 2,000 invoices and payments together
    seed_sales(rng, others, [], 1_450, focus_customer=focus)
    docs = SalesDocument.select().where(SalesDocument.customer == focus, SalesDocument.doc_type == "invoice").count()
    pays = Payment.select().where(Payment.customer == focus).count()
    customer_balance(focus)
    samples = [time_ms(lambda: customer_balance(focus)) for _ in range(200 if quick else 1000)]
    snap = [time_ms(lambda: customer_sales_snapshot(focus)) for _ in range(50 if quick else 200)]
    return [figure("customer_balance_2000_docs", samples, invoices=docs, payments=pays),
            figure("customer_sales_snapshot_2000_docs", snap), *_pages(quick, focus)]


def _pages(quick: bool, focus: int) -> list[dict]:
    from app.customers import timeline
    from models.sales import SalesDocument
    from ui.application import setup_qt_app
    from ui.context import AppContext
    from ui.customers.file import CustomerFileWindow
    from ui.sales.documents_tab import DocumentsTab

    app = setup_qt_app()

    rounds = 5 if quick else 20
    drawn = lambda tab: not tab.reading                 # noqa: E731 - its rows are read on a reader thread
    opened_ms(app, lambda: DocumentsTab(AppContext()), until=drawn)
    lists = [opened_ms(app, lambda: DocumentsTab(AppContext()), until=drawn) for _ in range(rounds)]
    entries = len(timeline.entries(focus))
    opened_ms(app, lambda: CustomerFileWindow(AppContext(), focus))
    files = [opened_ms(app, lambda: CustomerFileWindow(AppContext(), focus)) for _ in range(rounds)]
    return [figure("invoice_list_open", lists, documents=SalesDocument.select().count()),
            figure("customer_file_long_history", files, entries=entries), _products(quick, app)]


def _products(quick: bool, app) -> dict:
    """A keystroke in the product list's search box: its rows read and shown again, with the tab on screen."""
    from app.core.text import search_key
    from models.base import db
    from models.sales import Product
    from ui.context import AppContext
    from ui.sales.products_tab import ProductsTab

    n = 200 if quick else 1000
    rows = [dict(code=f"B{i:05d}", name=f"کالای آزمون {i} — مدل {i * 7 % 1000}", unit="عدد",
                 price=1000 * (i * 7919 % 100_000), kind="goods", vat_exempt=i % 9 == 0, goods_id="",
                 search_text=search_key(f"B{i:05d} کالای آزمون {i}")) for i in range(n)]
    with db.atomic():
        for i in range(0, n, 500):
            Product.insert_many(rows[i:i + 500]).execute()
    tab = ProductsTab(AppContext())
    tab.resize(1280, 800)
    tab.show()
    app.processEvents()
    samples = []
    for text in ["ک", "کا", "کال", "کالا", "کالای", ""] * (2 if quick else 5):
        t = time.perf_counter()
        tab.search.setText(text)
        app.processEvents()
        samples.append((time.perf_counter() - t) * 1000)
    count = tab.model.rowCount()
    tab.close()
    tab.deleteLater()
    app.processEvents()
    return figure("product_search_keystroke", samples, products=count)


def run(quick: bool = False) -> list[dict]:
    from models.connection import close_database

    try:
        out = [_pdf(quick)]
        out += _balance(quick)
    finally:
        close_database()
        for folder in _made:
            shutil.rmtree(folder, ignore_errors=True)
        _made.clear()
    return out
