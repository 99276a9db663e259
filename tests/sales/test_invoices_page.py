"""The invoices page: list model, editor with live totals, validation, cancel/correct, payments, print preview,
save as PDF, products. Real database, real widgets (offscreen), real PDFs."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from app.core import clock
from app.core.text import format_number, format_rial, to_persian_digits
from app.sales.balances import customer_balance
from app.sales.documents import convert_proforma, create_invoice, create_proforma
from app.sales.products import save_product
from app.sales.totals import LineInput
from models.sales import Payment, SalesDocument
from tests.sales.helpers_sales import VALID_CODE, make_customer
from ui.context import AppContext


@pytest.fixture
def setup(db, qtbot, persian_app):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    c1 = make_customer("رضا کریمی", national_id=VALID_CODE)
    c2 = make_customer("بی‌شناسه محض")
    lamp = save_product({"code": "LED40", "name": "لامپ LED-40W", "price": 1_200_000})
    book = save_product({"code": "BK1", "name": "کتاب راهنما", "price": 500_000, "vat_exempt": True})
    inv = create_invoice(c1, [LineInput("خدمات نصب", 1, 2_000_000)], settlement="credit")
    pf = create_proforma(c2, [LineInput("مشاوره", 2, 300_000)])
    from ui.sales.invoices_page import InvoicesPage

    page = InvoicesPage(AppContext())
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitUntil(lambda: not page.documents.reading)         # the list is read on a reader thread
    return dict(page=page, c1=c1, c2=c2, lamp=lamp, book=book, inv=inv, pf=pf)


def test_model_passes_qt_model_tester(qtmodeltester, setup):
    qtmodeltester.check(setup["page"].documents.model)
    assert setup["page"].documents.model.rowCount() == 2


def test_filters(setup, qtbot):
    tab = setup["page"].documents
    tab.type_box.setCurrentIndex(tab.type_box.findData("proforma"))
    assert tab.reading and len(tab.model.rows) == 2         # the rows shown stay until the new ones are read
    qtbot.waitUntil(lambda: not tab.reading)
    assert [r.doc_type for r in tab.model.rows] == ["proforma"]
    tab.type_box.setCurrentIndex(0)
    tab.search.setText("کریمی")
    qtbot.waitUntil(lambda: not tab.reading and len(tab.model.rows) == 1)
    assert tab.model.rows[0].customer_name == "رضا کریمی"
    tab.search.setText(to_persian_digits(setup["inv"].number))
    qtbot.waitUntil(lambda: not tab.reading and len(tab.model.rows) == 1 and tab.model.rows[0].doc_type == "invoice")


def test_new_invoice_with_product_picker_and_live_totals(setup, qtbot):
    page = setup["page"]
    dlg = page.documents.new_document("invoice", customer_id=setup["c1"])
    qtbot.addWidget(dlg)
    assert dlg.customer.currentData() == setup["c1"]
    dlg.product.setCurrentIndex(dlg.product.findData(setup["lamp"].id))
    dlg.btn_add_product.click()
    dlg.product.setCurrentIndex(dlg.product.findData(setup["book"].id))
    dlg.btn_add_product.click()
    assert dlg.lines.rowCount() == 2
    dlg.lines.item(0, 2).setText("۳")                               # 3 lamps, typed in Persian digits
    # 3,600,000 + 10% + book 500,000 exempt
    assert format_rial(4_460_000) in dlg.totals.text()
    assert dlg.lines.item(0, 7).text() == format_number(3_960_000)
    assert dlg.lines.item(1, 6).checkState() == Qt.CheckState.Checked
    assert "چهار میلیون" in dlg.words.text()
    dlg.doc_discount.setText("۱۰۰٬۰۰۰")
    assert dlg.current_totals.doc_discount == 100_000
    doc_id = dlg.save(issue=True)
    doc = SalesDocument.get_by_id(doc_id)
    assert doc.state == "issued" and doc.number == "14050002" and doc.total == dlg.current_totals.total
    assert page.documents.selected().id == doc_id


def test_editor_shows_persian_errors_and_saves_nothing(setup, qtbot):
    page = setup["page"]
    before = SalesDocument.select().count()
    dlg = page.documents.new_document("invoice", customer_id=setup["c1"])
    qtbot.addWidget(dlg)
    row = dlg.add_line(LineInput("کالای اشتباه", 1, 1000))
    dlg.lines.item(row, 2).setText("-2")
    assert "مقدار نمی‌تواند منفی باشد" in dlg.line_error.text()
    assert dlg.save(issue=True) is None and dlg.isVisible()
    dlg.lines.item(row, 2).setText("1")
    dlg.lines.item(row, 4).setText("1000000000000000")
    assert "بیش از حد مجاز" in dlg.line_error.text()
    assert dlg.save(issue=True) is None
    # an official invoice for a customer without economic code / national ID
    dlg2 = page.documents.new_document("invoice", customer_id=setup["c2"])
    qtbot.addWidget(dlg2)
    dlg2.add_line(LineInput("کالا", 1, 1000))
    dlg2.invoice_type.setCurrentIndex(dlg2.invoice_type.findData(1))
    assert dlg2.save(issue=True) is None
    assert "کد اقتصادی" in dlg2.errors.message("invoice_type")
    assert SalesDocument.select().count() == before


def test_issued_invoice_opens_read_only(setup, qtbot):
    tab = setup["page"].documents
    tab.select_id(setup["inv"].id)
    dlg = tab.edit_selected()
    qtbot.addWidget(dlg)
    assert not dlg.editable and not dlg.btn_save.isVisible() and not dlg.customer.isEnabled()
    assert format_rial(2_200_000) in dlg.totals.text()


def test_convert_cancel_and_correct(setup, qtbot):
    tab = setup["page"].documents
    tab.select_id(setup["pf"].id)
    assert tab.btn_convert.isEnabled() and not tab.btn_correct.isEnabled()
    inv = convert_proforma(setup["pf"].id)
    tab.refresh()
    tab.select_id(inv.id)                          # asked for while the list is read: selected once it is drawn
    qtbot.waitUntil(lambda: not tab.reading)
    assert tab.selected().id == inv.id
    assert tab.cancel_selected("مشتری منصرف شد")
    assert SalesDocument.get_by_id(inv.id).state == "cancelled"
    assert not tab.btn_cancel.isEnabled()
    tab.select_id(setup["inv"].id)
    dlg = tab.correct_selected()
    qtbot.addWidget(dlg)
    assert dlg.lines.rowCount() == 1
    dlg.lines.item(0, 4).setText("1800000")
    assert dlg.save() is None                      # no reason yet
    assert dlg.errors.message("reason")
    dlg.reason.setText("مبلغ اشتباه وارد شده بود")
    new_id = dlg.save()
    new = SalesDocument.get_by_id(new_id)
    assert new.corrects_id == setup["inv"].id and new.total == 1_980_000
    assert SalesDocument.get_by_id(setup["inv"].id).state == "corrected"
    states = {r.number: r.state for r in tab.model.rows if r.doc_type == "invoice"}
    assert states[setup["inv"].number] == "corrected" and states[new.number] == "issued"


def test_payments_dialog(setup, qtbot):
    tab = setup["page"].documents
    tab.select_id(setup["inv"].id)
    dlg = tab.payments_for_selected()
    qtbot.addWidget(dlg)
    assert format_rial(2_200_000) in dlg.balance.text() and "بدهکار" in dlg.balance.text()
    assert dlg._selected_open().id == setup["inv"].id
    dlg.kind.setCurrentIndex(dlg.kind.findData("cheque"))
    assert dlg.cheque_number.isVisibleTo(dlg)
    dlg.amount.setText("۱٬۰۰۰٬۰۰۰")
    assert "یک میلیون" in dlg.amount_words.text()
    assert dlg.record() is None                              # cheque number, bank, due date missing
    assert dlg.errors.message("cheque_number") and Payment.select().count() == 0
    dlg.cheque_number.setText("123456")
    dlg.cheque_bank.setText("ملت")
    dlg.cheque_due.setText("1405/10/15")
    dlg.allocate.setCurrentIndex(dlg.allocate.findData("selected"))
    assert dlg.record() is not None
    assert customer_balance(setup["c1"]) == 1_200_000
    assert format_rial(1_200_000) in dlg.balance.text()
    assert dlg.pay_table.rowCount() == 1 and "در جریان وصول" in dlg.pay_table.item(0, 5).text()
    dlg.select_payment(0)
    dlg._cheque_state("bounced")
    assert customer_balance(setup["c1"]) == 2_200_000
    dlg.kind.setCurrentIndex(dlg.kind.findData("cash"))
    dlg.allocate.setCurrentIndex(dlg.allocate.findData("auto"))
    dlg.amount.setText("500000")
    dlg.record()
    assert customer_balance(setup["c1"]) == 1_700_000
    dlg.select_payment(0)
    assert dlg.void_selected("اشتباه ثبت شد")
    assert customer_balance(setup["c1"]) == 2_200_000
    tab.refresh()
    qtbot.waitUntil(lambda: not tab.reading)
    row = next(r for r in tab.model.rows if r.id == setup["inv"].id)
    assert row.paid == 0


def test_print_preview_and_pdf_images(setup, qtbot, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    from ui.sales.preview import paint_pdf, pdf_page_images

    tab = setup["page"].documents
    lines = [LineInput(f"کالای {i}", 1, 1000 + i) for i in range(45)]
    inv = create_invoice(setup["c1"], lines)
    data = tab.pdf_bytes(inv.id)
    pages = len(PdfReader(__import__("io").BytesIO(data)).pages)
    assert pages >= 2
    images = pdf_page_images(data, dpi=50)
    assert len(images) == pages
    assert abs(images[0].width() - 595 * 50 / 72) < 3 and abs(images[0].height() - 842 * 50 / 72) < 3
    # something is drawn: the page is not blank
    assert any(images[0].pixelColor(x, y).lightness() < 128 for x in range(0, images[0].width(), 7)
               for y in range(0, 80))
    job = tab.preview(inv.id, exec_dialog=False)          # rendered off the GUI thread
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert job.error is None and job.worker_thread != threading.get_ident()
    dlg = tab.last_preview
    qtbot.addWidget(dlg)
    dlg.show()                 # paints the pages: once crashed when the printer was collected too early
    qtbot.wait(200)
    dlg.close()
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    paint_pdf(printer, data)
    assert len(PdfReader(str(out)).pages) == pages


def test_save_as_pdf_runs_off_the_gui_thread(setup, qtbot, tmp_path):
    tab = setup["page"].documents
    out = tmp_path / "saved.pdf"
    job = tab.save_pdf(setup["inv"].id, str(out))
    qtbot.waitUntil(lambda: out.exists() and job not in tab._jobs, timeout=10000)
    assert PdfReader(str(out)).metadata.title == f"فاکتور فروش {setup['inv'].number}"
    # a folder that does not exist: a Persian message, no crash, no file
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkey = pytest.MonkeyPatch()
    monkey.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    try:
        job = tab.save_pdf(setup["inv"].id, str(tmp_path / "missing" / "x.pdf"))
        qtbot.waitUntil(lambda: job not in tab._jobs, timeout=10000)
    finally:
        monkey.undo()
    assert shown and "نوشته نشد" in shown[0]


def test_products_tab(setup, qtbot):
    tab = setup["page"].products
    assert len(tab.rows) == 2
    dlg = tab.edit(None, exec_dialog=False)
    qtbot.addWidget(dlg)
    dlg.name.setText("کابل شبکه Cat6")
    dlg.price.setText("۸۵۰٬۰۰۰")
    dlg.goods_id.setText("123")
    assert dlg.save() is None and "۱۳ رقم" in dlg.errors.message("goods_id")
    dlg.goods_id.setText("۲۷۲۰۰۰۰۰۰۰۰۱۷")
    p = dlg.save()
    assert p is not None and p.price == 850_000 and p.goods_id == "2720000000017"
    assert any(r.name == "کابل شبکه Cat6" for r in tab.rows)
    tab.search.setText("Cat6")
    assert [r.code for r in tab.rows] == [p.code]



def test_product_list_shows_prices_flags_and_inactive_products_and_edits_the_chosen_one(setup, qtmodeltester,
                                                                                         qtbot):
    """The catalogue is a model over the read rows (Qt asks for the cells it paints): the price in Persian digits
    aligned as a number, an exempt product marked, a retired one greyed when shown, and «ویرایش» opens the
    selected row's product."""
    from ui.sales.common import GREY
    from ui.widgets.rows_table import select_row

    old = save_product({"code": "OLD1", "name": "لامپ رشته‌ای ۶۰ وات", "price": 90_000, "active": False})
    tab = setup["page"].products
    tab.refresh()
    qtmodeltester.check(tab.model)
    model = tab.model
    assert [p.code for p in tab.rows] == ["BK1", "LED40"]          # by name: «کتاب» before «لامپ»
    cell = {(r, c): model.index(r, c).data() for r in range(model.rowCount()) for c in range(8)}
    assert cell[(1, 4)] == "۱٬۲۰۰٬۰۰۰" and cell[(0, 5)] == "معاف" and cell[(1, 5)] == ""
    assert model.index(1, 4).data(Qt.ItemDataRole.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignLeft
                                                                            | Qt.AlignmentFlag.AlignVCenter)
    assert model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    tab.show_inactive.setChecked(True)
    assert [p.code for p in tab.rows] == ["BK1", "LED40", "OLD1"]
    assert model.index(2, 7).data() == "غیرفعال" and model.index(2, 1).data() == "لامپ رشته‌ای ۶۰ وات"
    assert model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole).color() == GREY
    assert tab.edit_selected() is None                              # nothing chosen yet
    select_row(tab.table, 2)
    dlg = tab.edit_selected()
    qtbot.addWidget(dlg)
    assert dlg.product.id == old.id and dlg.name.text() == old.name


def test_a_shown_product_list_fits_its_columns_after_each_search(setup, qtbot):
    """Searched on screen, key by key: the columns fit their widest cell after each read (they were measured at
    each cell's arrival before: seconds a keystroke with a few hundred products)."""
    for i in range(60):
        save_product({"code": f"C{i:03d}", "name": f"کالای شماره {i}", "price": 1000 * (i * 7919 % 100_000)})
    tab = setup["page"].products
    tab.resize(1200, 700)
    tab.show()
    qtbot.waitExposed(tab)
    header = tab.table.horizontalHeader()
    tab.refresh()                                  # the products saved since the tab was made
    for text in ("", "کالا", "C05"):
        tab.search.setText(text)
        assert tab.model.rowCount() == {"": 62, "کالا": 60, "C05": 10}[text]
        for col in (0, 2, 3, 4, 5, 6, 7):
            assert header.sectionSize(col) >= tab.table.sizeHintForColumn(col), (text, col)


def test_entry_points_for_other_screens(setup, qtbot):
    page = setup["page"]
    dlg = page.open_document(setup["inv"].id)
    qtbot.addWidget(dlg)
    assert not dlg.editable and setup["inv"].number in dlg.windowTitle().translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    pay = page.payments_for(setup["c1"])
    qtbot.addWidget(pay)
    assert pay.open_table.rowCount() == 1
    new = page.new_proforma_for(setup["c2"])
    qtbot.addWidget(new)
    assert new.customer.currentData() == setup["c2"] and new.doc_type == "proforma"


def test_a_list_read_that_fails_keeps_the_rows_shown_and_says_so(setup, qtbot, monkeypatch):
    """The list is read on a reader thread: a failed read leaves the rows of the last one and says in the footer
    that the list was not read; the next filter reads it again."""
    import ui.sales.documents_tab as page

    tab = setup["page"].documents
    tab.select_id(setup["inv"].id)
    read = page.list_documents

    def broken(**_filters):
        raise OSError("disk I/O error")

    monkeypatch.setattr(page, "list_documents", broken)
    tab.type_box.setCurrentIndex(tab.type_box.findData("proforma"))
    qtbot.waitUntil(lambda: not tab.reading)
    assert tab.summary.text().startswith("فهرست اسناد خوانده نشد: ") and "Traceback" not in tab.summary.text()
    assert len(tab.model.rows) == 2 and tab.selected().id == setup["inv"].id
    monkeypatch.setattr(page, "list_documents", read)
    tab.type_box.setCurrentIndex(tab.type_box.findData("invoice"))
    qtbot.waitUntil(lambda: not tab.reading and "جمع" in tab.summary.text())
    assert [r.id for r in tab.model.rows] == [setup["inv"].id] and tab.selected().id == setup["inv"].id


def test_a_change_drawn_at_once_outruns_the_read_under_way_and_leaves_the_users_choice(setup, qtbot, monkeypatch):
    """The user's own change is drawn at once while a filter's read is still under way: that read is not drawn
    when it ends, and the row the user picks afterwards stays selected through the next read."""
    import ui.sales.documents_tab as page

    tab = setup["page"].documents
    read, gate = page.list_documents, threading.Event()

    def held(**filters):
        if threading.current_thread() is not threading.main_thread():
            gate.wait(10)
        return read(**filters)

    monkeypatch.setattr(page, "list_documents", held)
    tab.refresh()                                  # a read held on its reader thread
    assert tab.reading
    tab._changed(setup["pf"].id)                   # e.g. a proforma saved: the list is drawn now
    assert tab.selected().id == setup["pf"].id
    tab.select_row(next(i for i, r in enumerate(tab.model.rows) if r.id == setup["inv"].id))   # the user's pick
    with qtbot.waitSignal(tab.drawn, raising=False, timeout=500) as late:
        gate.set()
        qtbot.waitUntil(lambda: not tab.reading)
    assert not late.signal_triggered               # the held read's rows are not drawn over the newer ones
    monkeypatch.setattr(page, "list_documents", read)
    tab.refresh()
    qtbot.waitUntil(lambda: not tab.reading)
    assert tab.selected().id == setup["inv"].id
