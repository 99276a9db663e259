"""What a Persian office notices in its first hour: default buttons, digits, placeholders, lists, paths."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.customers import service as cs
from app.demo.customers import ensure_users
from ui.context import AppContext

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def ctx(db):
    users = ensure_users()
    return AppContext(user_id=users[1])


def answer_modal(cls, action, attempts: int = 300):
    state = {"left": attempts}

    def check():
        w = QApplication.activeModalWidget()
        if isinstance(w, cls):
            action(w)
            return
        state["left"] -= 1
        if state["left"] <= 0:
            if w is not None:
                w.reject()
            return
        QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


# --- 1. Enter in «مشتری تکراری؟» opens the existing file, never saves a duplicate -----------------------------

def test_enter_in_duplicate_warning_opens_the_existing_file(qtbot, ctx):
    from ui.customers.duplicate_dialog import DuplicateWarningDialog
    from ui.customers.form import CustomerFormDialog

    existing = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09123456789"}]})
    form = CustomerFormDialog(ctx)
    qtbot.addWidget(form)
    form.show()
    form.first_name.setText("علی")
    form.last_name.setText("رضایی")
    form.phone_rows[0].number.setText("0912 345 6789")
    seen = {}

    def press_enter(w: DuplicateWarningDialog):
        seen["default"] = [b.text() for b in (w.open_button, w.merge_button, w.save_button, w.back_button)
                           if b.isDefault()]
        QTest.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Return)
        seen["choice"] = w.choice

    opened = []
    ctx.bus.open_customer.connect(opened.append)
    answer_modal(DuplicateWarningDialog, press_enter)
    QTest.keyClick(form.last_name, Qt.Key.Key_Return)
    assert seen["default"] == ["باز کردن پرونده موجود"]
    assert seen["choice"] == DuplicateWarningDialog.OPEN
    assert opened == [existing.id]
    assert cs.search_ids(cs.Filter()) == [existing.id]        # nothing saved


# --- 2 and 3: charts: whole city names on horizontal bars, Persian digits on the value axis -------------------

def _ink_span(img, x0: int, x1: int, y0: int, y1: int) -> int:
    """The width of the text ink between x0 and x1 in rows y0..y1 (0 when there is none)."""
    xs = [x for x in range(x0, x1) if any(img.pixelColor(x, y).lightness() < 150 for y in range(y0, y1))]
    return xs[-1] - xs[0] + 1 if xs else 0


def test_horizontal_bar_labels_are_not_elided(qtbot, db, tmp_path):
    from app.reports.service import Chart, Column, ReportResult
    from ui.reports.page import ReportsPage

    page = ReportsPage()
    qtbot.addWidget(page)
    page.resize(1280, 700)
    page.show()
    qtbot.waitUntil(lambda: not page.reading, timeout=10_000)     # its own report first (read on a worker)
    cities = ["تهران", "اصفهان", "کرمانشاه", "بندرعباس", "اسلامشهر", "شهرکرد", "ارومیه", "زاهدان", "همدان", "کرمان"]
    rows = [{"name": c, "count": 180 - 12 * i} for i, c in enumerate(cities)]
    r = ReportResult(key="t", title="t", period="", columns=[Column("name", "شهر"), Column("count", "تعداد", "int")],
                     rows=rows, chart=Chart("hbar", "name", [("تعداد مشتری", "count")]))
    chart = page.chart_view.show_report(r)
    qtbot.wait(50)
    img = page.chart_view.grab().toImage()
    img.save(str(tmp_path / 'hbar.png'))
    plot = chart.plotArea()
    step = plot.height() / len(cities)
    # Every label is drawn whole: «…» is ~8 px of ink, «همدان» at 9 pt about 30.
    for i in range(len(cities)):
        y0 = int(plot.top() + i * step + 2)
        assert _ink_span(img, 0, int(plot.left()) - 3, y0, int(y0 + step - 4)) > 20, f"label {i} elided"


def test_value_axis_uses_persian_digits_and_separator():
    from ui.reports.charts import nice_ticks, value_axis

    assert nice_ticks(13_263) == [0, 5000, 10000, 15000]
    assert nice_ticks(3) == [0, 1, 2, 3]
    axis = value_axis(13_263)
    assert axis.categoriesLabels() == ["۰", "۵٬۰۰۰", "۱۰٬۰۰۰", "۱۵٬۰۰۰"]
    labels = value_axis(2.7).categoriesLabels()
    assert len(labels) == len(set(labels))            # «%.0f» once wrote 1.5 as a second «2»


# --- 3 and 7: the invoice editor: Persian row numbers, digits in descriptions, «۰», an honest line total ------

@pytest.fixture
def buyer(ctx):
    return cs.create_customer({"first_name": "مینا", "last_name": "صالحی"}).id


def test_invoice_editor_reads_persian(qtbot, ctx, buyer):
    from app.sales.totals import LineInput, compute, parse_money
    from ui.sales.editor import DocumentEditor

    ed = DocumentEditor(ctx, "invoice", customer_id=buyer)
    qtbot.addWidget(ed)
    assert ed.doc_discount.text() == "۰"
    ed.add_line(LineInput("پروژکتور 100 وات LED-40W", 2, 1_500_000))
    ed.add_line(LineInput("نصب", 1, 700_000, vat_exempt=True))
    assert ed.lines.item(0, 1).text() == "پروژکتور ۱۰۰ وات LED-40W"
    header = ed.lines.model().headerData
    assert [header(i, Qt.Orientation.Vertical) for i in range(2)] == ["۱", "۲"]
    # The last column says it carries VAT, and its sum is the payable amount.
    title = ed.lines.horizontalHeaderItem(7).text()
    assert "مالیات" in title
    t = ed.current_totals
    col = sum(parse_money(ed.lines.item(r, 7).text()) for r in range(2))
    assert col == t.total == 3_000_000 + 300_000 + 700_000
    # The description still saves with ASCII digits (search and the tax file read those).
    assert ed.line_inputs()[0].description == "پروژکتور ۱۰۰ وات LED-40W"
    assert compute(ed.line_inputs()).lines[0].description == "پروژکتور 100 وات LED-40W"
    ed.add_line()
    assert header(2, Qt.Orientation.Vertical) == "۳"


def test_payments_dialog_rows_are_numbered_in_persian(qtbot, ctx, buyer):
    from app.sales.documents import create_invoice
    from app.sales.payments import record_payment
    from ui.sales.payments_dialog import PaymentsDialog

    create_invoice(buyer, [{"description": "کالا", "quantity": 1, "unit_price": 5_000_000}])
    record_payment(buyer, "cash", 1_000_000)
    dlg = PaymentsDialog(ctx, buyer)
    qtbot.addWidget(dlg)
    for table in (dlg.open_table, dlg.pay_table):
        assert table.rowCount() >= 1
        assert table.model().headerData(0, Qt.Orientation.Vertical) == "۱"


def test_merge_dialog_second_column_has_a_name_and_fits_the_screen(qtbot, ctx, buyer):
    from ui.customers.merge_dialog import MergeDialog

    dlg = MergeDialog(ctx, buyer)
    qtbot.addWidget(dlg)
    assert dlg.table.model().headerData(1, Qt.Orientation.Horizontal) == "پرونده دوم"
    avail = dlg.screen().availableGeometry()
    assert dlg.height() <= avail.height() - 40 and dlg.width() <= avail.width()


def test_main_window_title_says_the_name_once_and_fits_the_screen(qtbot, ctx):
    from app import APP_TITLE
    from ui.main_window import MainWindow

    win = MainWindow(ctx, start_callerid=False)
    qtbot.addWidget(win)
    assert win.windowTitle().endswith(APP_TITLE) and win.windowTitle().count(APP_TITLE) == 1
    avail = win.screen().availableGeometry()
    assert win.height() <= avail.height() - 40 and win.width() <= avail.width()


# --- 4. an empty date field shows a format, not a date -----------------------------------------------------

def test_empty_date_fields_do_not_look_filled_in(qtbot, ctx):
    import re

    from ui.calls.page import CallsPage
    from ui.customers.form import CustomerFormDialog
    from ui.widgets.jalali_date_edit import JalaliDateEdit

    edit = JalaliDateEdit()
    qtbot.addWidget(edit)
    assert edit.line.placeholderText() == "روز/ماه/سال"
    form = CustomerFormDialog(ctx)
    qtbot.addWidget(form)
    page = CallsPage(ctx)
    qtbot.addWidget(page)
    fields = [form.birthday, form.anniversary, *page.findChildren(JalaliDateEdit)]
    assert len(fields) >= 4
    for f in fields:
        if not f.text():
            assert not re.search(r"[0-9۰-۹]", f.line.placeholderText()), f.line.placeholderText()
    edit.setText("۱۴۰۳/۰۵/۱۲")                 # what it hints at is still what one types
    assert edit.date() is not None


# --- 6. a path in a Persian message keeps its order ---------------------------------------------------------

def test_backup_message_isolates_the_path(qtbot, ctx):
    from ui.settings.backup_panel import BackupPanel

    panel = BackupPanel(ctx)
    qtbot.addWidget(panel)
    job = panel.backup_now()
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    text = panel.message.text()
    assert text.startswith("پشتیبان ذخیره شد: \u2066/") and text.endswith("\u2069")


def test_status_bar_isolates_paths(qtbot, ctx):
    from ui.main_window import MainWindow

    win = MainWindow(ctx, start_callerid=False)
    qtbot.addWidget(win)
    ctx.bus.callerid_state.emit("on", "شناسه تماس: وصل (/tmp/x/modem)")
    assert win.callerid_label.text() == "شناسه تماس: وصل (\u2066/tmp/x/modem\u2069)"
    ctx.bus.status_message.emit("گزارش در /tmp/r/x.pdf ذخیره شد.")
    assert win.statusBar().currentMessage() == "گزارش در \u2066/tmp/r/x.pdf\u2069 ذخیره شد."
    from app import fmt

    wrapped = f"PDF ذخیره شد: {fmt.path('/tmp/a b/x.pdf')}"      # a path with a space, isolated where it is made
    ctx.bus.status_message.emit(wrapped)
    assert win.statusBar().currentMessage() == wrapped


# --- 8. a company's «birthday» is its contact person's --------------------------------------------------------

def test_birthday_of_a_company_names_the_person(db):
    import datetime as dt

    from app.tasks import reminders

    c = cs.create_customer({"kind": "organisation", "company": "شرکت آسمان", "first_name": "کاوه",
                            "last_name": "نوری", "birthday": dt.date(1997, 11, 24)})
    items = [i for i in reminders.dates_on(dt.date(2026, 11, 24)) if i.customer_id == c.id]
    assert [i.label for i in items] == ["تولد کاوه نوری، شرکت آسمان (۲۹ سال)"]


# --- 10. one «کد پستی» label in the customer form --------------------------------------------------------------

def test_customer_form_has_one_postal_code_label(qtbot, ctx):
    from PySide6.QtWidgets import QLabel

    from ui.customers.form import CustomerFormDialog

    form = CustomerFormDialog(ctx)
    qtbot.addWidget(form)
    labels = [w.text().rstrip(":") for w in form.findChildren(QLabel)]
    assert labels.count("کد پستی") <= 1
    assert "کد پستی صورتحساب" in labels


# --- 11. the customer list: counts with the separator, phones grouped like everywhere else --------------------

def test_customer_list_count_and_phone_format(qtbot, ctx):
    from app.demo.customers import seed
    from ui.customers.page import CustomersPage

    seed(customers=1200, calls=0, tasks=0, invoices=0)
    page = CustomersPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.count_label.text() == "۱٬۲۰۰ مشتری", timeout=5000)   # counted on a worker
    col = next(i for i in range(page.model.columnCount()) if page.model.headerData(i, Qt.Orientation.Horizontal)
               == "تلفن")
    phones = [page.model.index(r, col).data() for r in range(20)]
    grouped = [p for p in phones if p]
    assert grouped and all(p.startswith("\u2066۰") and " " in p for p in grouped), grouped[:3]
