"""The reports page: every report draws a chart and a table; Excel (background, with progress) and PDF with
the chart; a screenshot of a report page is saved and checked for content."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading

import openpyxl
import pytest
from PySide6.QtCore import Qt

from app.core import clock
from app.core.jalali import parse_date
from app.customers import service as cs
from app.sales.documents import create_invoice
from models.calls import Call
from models.core import User

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def office(db):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))     # 1405/09/03
    reza = User.create(name="رضا کریمی", username="reza")
    people = []
    for i, (first, last, city, source) in enumerate((("علی", "رضایی", "تهران", "اینستاگرام"),
                                                      ("مریم", "احمدی", "اصفهان", "نمایشگاه"),
                                                      ("سینا", "نوری", "تهران", "اینستاگرام"))):
        c = cs.create_customer({"first_name": first, "last_name": last, "source": source,
                                "addresses": [{"city": city}], "assigned_to": reza.id,
                                "phones": [{"raw": f"0912000000{i}"}]})
        people.append(c)
        for m in range(i + 1):
            create_invoice(c.id, [{"description": "کالا", "quantity": 1, "unit_price": 25_000_000 * (i + 1)}],
                                 date=parse_date(f"1405/0{6 + m}/1{i}"))
    for d in range(1, 25):
        Call.create(direction="in" if d % 3 else "out", state="missed" if d % 5 == 0 else "ended",
                    user=reza.id, duration=60 * d, customer=people[0].id,
                    started_at=dt.datetime.combine(parse_date(f"1405/08/{d:02d}"), dt.time(9, 0)))
    yield people
    clock.set_now(None)


def _page(qtbot):
    from ui.reports.page import ReportsPage

    page = ReportsPage()
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    _drawn(qtbot, page)
    return page


def _drawn(qtbot, page):
    """The report chosen last is on the page (reports are read on a worker thread)."""
    qtbot.waitUntil(lambda: not page.reading, timeout=10_000)
    return page.result


def test_every_report_draws(qtbot, office):
    from app.reports import service as reports

    page = _page(qtbot)
    assert page.preset.currentData() == "this_year"
    assert page.date_from.date() == parse_date("1405/01/01")
    for key in reports.REPORTS:
        page.select_report(key)
        assert page.current_key() == key
        r = _drawn(qtbot, page)
        assert r is not None and r.key == key
        assert page.heading.text() == r.title
        assert page.table.rowCount() == len(r.rows) + (1 if r.rows and r.totals else 0)
        if r.rows and r.chart:
            assert page.chart_view.chart().series(), key


def test_sales_month_screenshot_and_outputs(qtbot, office, tmp_path):
    page = _page(qtbot)
    page.select_report("sales_month")
    page.set_range(parse_date("1405/06/01"), parse_date("1405/08/30"))
    r = _drawn(qtbot, page)
    assert [x["month"] for x in r.rows] == ["شهریور ۱۴۰۵", "مهر ۱۴۰۵", "آبان ۱۴۰۵"]
    assert page.table.item(0, 0).text() == "شهریور ۱۴۰۵"
    assert page.table.item(3, 0).text() == "جمع"
    # Shahrivar: 25M + 50M + 75M, Mehr: 50M + 75M, Aban: 75M; plus 10% VAT
    assert page.table.item(0, 2).text() == "۱۶۵٬۰۰۰٬۰۰۰"
    assert page.table.item(3, 2).text() == "۳۸۵٬۰۰۰٬۰۰۰"
    series = page.chart_view.chart().series()[0]
    assert [round(v, 1) for v in [series.barSets()[0].at(i) for i in range(3)]] == [165.0, 137.5, 82.5]
    shot = tmp_path / "reports-page.png"
    assert page.grab().save(str(shot))
    from PySide6.QtGui import QImage

    img = QImage(str(shot))
    assert img.width() == 1280 and img.height() == 800
    colors = {img.pixelColor(x, y).name() for x in range(0, 1280, 16) for y in range(150, 520, 8)}
    assert "#2563eb" in colors                               # the bars are drawn

    dlg = page.export_excel(tmp_path / "sales.xlsx")
    qtbot.waitUntil(lambda: dlg.outcome is not None or bool(dlg.error), timeout=10_000)
    assert dlg.error is None and not dlg.open_button.isHidden(), (dlg.outcome, dlg.label.text(), dlg.op.running)
    ws = openpyxl.load_workbook(tmp_path / "sales.xlsx").active
    assert ws.sheet_view.rightToLeft and "فروش ماهانه" in ws["A1"].value and "۱۴۰۵/۰۶/۰۱" in ws["A1"].value
    assert ws["A3"].value == "شهریور ۱۴۰۵" and ws["C3"].value == 165_000_000
    assert ws["C3"].number_format == "#,##0"
    dlg.close()

    job = page.print_pdf(tmp_path / "sales.pdf")                # written off the GUI thread
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert job.error is None and job.worker_thread != threading.get_ident()
    pdf = job.result
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 1
    assert reader.pages[0].images                             # the chart went onto the page
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
        assert (tmp_path / "page-1.png").stat().st_size > 5000


def test_invalid_range_is_a_persian_message(qtbot, office):
    page = _page(qtbot)
    page.set_range(parse_date("1405/09/01"), parse_date("1405/01/01"))
    _drawn(qtbot, page)
    assert page.note.isVisible() and "بعد از" in page.note.text()


def test_top_customer_row_opens_the_customer(qtbot, office):
    page = _page(qtbot)
    page.select_report("top_customers_amount")
    _drawn(qtbot, page)
    opened = []
    page.ctx.bus.open_customer.connect(opened.append)
    page._open_row(0, 0)
    assert opened == [office[2].id]


def test_a_report_is_read_off_the_gui_thread_and_only_the_latest_choice_is_drawn(qtbot, office, monkeypatch):
    """A long report greys the one on screen and says it is coming; the page stays usable; a report chosen
    meanwhile is read next, and the long one's figures never replace it."""
    from app.reports import service as reports

    gate = threading.Event()
    threads = []

    def slow(date_from, date_to):
        threads.append(threading.get_ident())
        assert gate.wait(10)
        return reports.ReportResult("slow", "گزارش کند", "", [reports.Column("name", "نام")], [{"name": "کند"}])

    def failing(date_from, date_to):
        assert not gate.wait(0.4)          # long enough for the page to say it is reading «گزارش خراب»
        raise RuntimeError("disk I/O error")

    monkeypatch.setitem(reports.REPORTS, "slow", reports.ReportDef("slow", "گزارش کند", "آزمون", slow))
    monkeypatch.setitem(reports.REPORTS, "failing", reports.ReportDef("failing", "گزارش خراب", "آزمون", failing))
    page = _page(qtbot)
    first = page.result
    assert first is not None and page.excel_button.isEnabled()
    shown = []
    page.report_shown.connect(lambda: shown.append(page.result.key if page.result else None))

    page.select_report("slow")
    qtbot.waitUntil(lambda: page.period.text() == "در حال محاسبه…", timeout=5_000)
    assert page.heading.text() == "گزارش کند"
    if shot_dir := os.environ.get("CRM_SHOTS"):
        page.grab().save(os.path.join(shot_dir, "report-busy.png"))
    assert not page.table.isEnabled() and not page.excel_button.isEnabled() and not page.pdf_button.isEnabled()
    assert page.chart_view.foregroundBrush().style() != Qt.BrushStyle.NoBrush      # the previous chart veiled
    assert page.reading and threads and threads[0] != threading.get_ident()
    page.select_report("sales_month")          # chosen while the long one is read
    page.preset.setCurrentIndex(next(i for i in range(page.preset.count())
                                     if page.preset.itemData(i) == "all"))
    gate.set()
    r = _drawn(qtbot, page)
    assert r.key == "sales_month" and shown == ["sales_month"]       # drawn once, the latest choice
    assert page.period.text() == r.period != "در حال محاسبه…"
    assert page.table.isEnabled() and page.excel_button.isEnabled()
    assert page.chart_view.foregroundBrush().style() == Qt.BrushStyle.NoBrush
    assert page.table.item(0, 0).text() == "شهریور ۱۴۰۵"

    gate.clear()
    page.select_report("failing")
    qtbot.waitUntil(lambda: page.heading.text() == "گزارش خراب", timeout=5_000)
    _drawn(qtbot, page)
    assert page.note.isVisible() and "پیش‌بینی‌نشده" in page.note.text()
    assert page.result is r and page.excel_button.isEnabled()      # the last report drawn may still be saved
    assert page.heading.text() == r.title and page.period.text() == r.period        # under its own title


def test_a_hidden_page_reads_its_report_when_shown(qtbot, office):
    from ui.reports.page import ReportsPage

    page = ReportsPage()
    qtbot.addWidget(page)
    page.select_report("sales_month")
    assert page.result is None and not page.reading
    page.show()
    assert _drawn(qtbot, page).key == "sales_month"
