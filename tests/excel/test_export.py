"""Excel export: the file is reopened with openpyxl and checked cell by cell."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from app.core import clock
from app.core.errors import UserError
from app.customers import service as cs
from app.excel.export import Column, ExportCancelled, export_calls, export_customers, write_xlsx


@pytest.fixture
def frozen():
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))     # 1405/09/03
    yield
    clock.set_now(None)


def _customers():
    a = cs.create_customer({"first_name": "علی", "last_name": "کریمی", "national_id": "0012345679",
                            "birthday": "1365/05/12", "customer_type": "عمده‌فروش", "tags": ["VIP"],
                            "phones": [{"label": "mobile", "raw": "۰۹۱۲ ۱۲۳ ۴۵۶۷"},
                                       {"label": "work", "raw": "021-22514321 داخلی 12"}],
                            "addresses": [{"province": "تهران", "city": "تهران", "line": "ولیعصر، پلاک ۱۲"}]})
    b = cs.create_customer({"kind": "organisation", "company": "بازرگانی نور & پارس <سهامی>",
                            "phones": [{"raw": "02188776655"}], "tags": ["VIP", "عمده"]})
    c = cs.create_customer({"first_name": "مریم", "last_name": "احمدی", "phones": [{"raw": "09351234567"}]})
    return a, b, c


def test_customer_export_reopened(anydb, tmp_path, frozen):
    a, b, c = _customers()
    out = tmp_path / "customers.xlsx"
    f = cs.Filter(tag="VIP")
    res = export_customers(out, f)
    assert res.rows == 2
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    assert ws.sheet_view.rightToLeft is True
    assert ws.freeze_panes == "A3"
    title = ws["A1"].value
    assert "فهرست مشتریان" in title and "برچسب: VIP" in title and "۱۴۰۵/۰۹/۰۳" in title
    assert ws["A1"].font.b
    header = [cell.value for cell in ws[2]]
    assert header[:5] == ["کد مشتری", "نوع", "عنوان", "نام", "نام خانوادگی"]
    assert all(cell.font.b for cell in ws[2])
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(r, col["کد مشتری"]).value: r for r in range(3, ws.max_row + 1)}
    assert set(rows) == {a.id, b.id}          # the filter applies: مریم has no VIP tag
    ra, rb = rows[a.id], rows[b.id]
    # ids are numbers; phones and codes are text that keeps the leading zero
    assert isinstance(ws.cell(ra, col["کد مشتری"]).value, int)
    mob = ws.cell(ra, col["موبایل"])
    assert mob.value == "09121234567" and mob.data_type == "s" and mob.number_format == "@"
    assert ws.cell(ra, col["تلفن محل کار"]).value == "02122514321 داخلی 12"
    assert ws.cell(ra, col["تلفن اصلی"]).value == "09121234567"
    assert ws.cell(ra, col["نوع نشانی"]).value == "محل کار"
    nid = ws.cell(ra, col["کد ملی / شناسه ملی"])
    assert nid.value == "0012345679" and nid.data_type == "s"
    # Jalali dates as zero-padded text
    assert ws.cell(ra, col["تاریخ تولد"]).value == "1365/05/12"
    assert ws.cell(ra, col["تاریخ ثبت"]).value == "1405/09/03"
    assert ws.cell(ra, col["نوع"]).value == "حقیقی"
    assert ws.cell(rb, col["نوع"]).value == "حقوقی"
    assert ws.cell(rb, col["شرکت"]).value == "بازرگانی نور & پارس <سهامی>"
    assert ws.cell(rb, col["برچسب‌ها"]).value == "VIP، عمده"
    assert ws.cell(ra, col["شهر"]).value == "تهران"
    # empty fields are empty cells, not empty strings
    assert ws.cell(rb, col["نام"]).value is None
    # widths fitted: the company column is wider than the title column
    assert ws.column_dimensions["F"].width > ws.column_dimensions["C"].width >= 8


def test_generic_columns_types_and_formats(db, tmp_path, frozen):
    cols = [Column("name", "نام"), Column("amount", "مبلغ (ریال)", "money"), Column("count", "تعداد", "int"),
            Column("day", "تاریخ", "date"), Column("when", "زمان", "datetime"), Column("g", "میلادی", "gdate"),
            Column("ok", "تسویه", "bool"), Column("phone", "تلفن", "phone"),
            Column("twice", "دو برابر", "int", get=lambda r: r["count"] * 2)]
    rows = [{"name": "الف", "amount": 12_500_000, "count": 3, "day": dt.date(2024, 3, 20),
             "when": dt.datetime(2024, 3, 20, 14, 5), "g": dt.date(2024, 3, 20), "ok": True, "phone": "0912"},
            {"name": "ب\x07", "amount": 0, "count": 0, "day": None, "when": None, "g": None, "ok": False,
             "phone": ""}]
    seen = []
    out = write_xlsx(tmp_path / "x.xlsx", cols, iter(rows), title="گزارش", subtitle="از ۱۴۰۳/۰۱/۰۱",
                     total=2, progress=lambda d, t: seen.append((d, t))).path
    ws = openpyxl.load_workbook(out).active
    r = [c.value for c in ws[3]]
    assert r[0] == "الف"
    assert r[1] == 12_500_000 and ws["B3"].number_format == "#,##0"
    assert r[2] == 3 and ws["C3"].number_format == "#,##0"
    assert r[3] == "1403/01/01"
    assert r[4] == "1403/01/01 14:05"
    assert r[5] == dt.datetime(2024, 3, 20) and ws["F3"].number_format == "yyyy-mm-dd"
    assert r[6] == "بله"
    assert r[8] == 6
    r2 = [c.value for c in ws[4]]
    assert r2[0] == "ب"                  # a control character Excel would reject is dropped
    assert r2[1] == 0 and r2[2] == 0     # zero is a number, not an empty cell
    assert r2[3] is None and r2[6] is None
    assert seen[-1] == (2, 2)
    assert "از ۱۴۰۳/۰۱/۰۱" in ws["A1"].value


def test_cancel_leaves_no_file(db, tmp_path):
    cols = [Column("n", "شماره", "int")]
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "big.xlsx"
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 1

    with pytest.raises(ExportCancelled):
        write_xlsx(out, cols, ({"n": i} for i in range(5000)), title="t", cancel=cancel)
    assert not out.exists()
    assert list(folder.iterdir()) == []     # no temporary file either


def test_unwritable_folder_is_a_persian_error(db, tmp_path):
    with pytest.raises(UserError) as e:
        write_xlsx(tmp_path / "missing" / "x.xlsx", [Column("a", "a")], [], title="t")
    assert "پوشه" in e.value.message


def test_calls_export(anydb, tmp_path, frozen):
    from models.calls import Call

    a, _b, _c = _customers()
    Call.create(customer=a.id, direction="in", state="ended", number="09121234567", duration=95,
                started_at=dt.datetime(2026, 11, 23, 9, 30))
    Call.create(direction="in", state="missed", number="02122223333", started_at=dt.datetime(2026, 11, 24, 8, 0))
    Call.create(direction="out", state="ended", number="0935", started_at=dt.datetime(2026, 10, 1, 8, 0))
    out = export_calls(tmp_path / "calls.xlsx", dt.date(2026, 11, 1), dt.date(2026, 11, 30)).path
    ws = openpyxl.load_workbook(out).active
    assert ws.sheet_view.rightToLeft
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert len(data) == 2
    assert data[0][:6] == ["1405/09/02 09:30", "ورودی", "09121234567", "علی کریمی", "پایان یافته", 95]
    assert data[1][4] == "بی‌پاسخ" and data[1][3] is None


def test_sheet_prints_filters_and_reads_persian(anydb, tmp_path, frozen):
    """Auto-filter on the header, landscape fit to width with the header repeated on every printed page,
    Vazirmatn instead of Calibri, and addresses with Persian digits (a second address too)."""
    _customers()
    a = cs.create_customer({"first_name": "نرگس", "last_name": "امینی", "phones": [{"raw": "09121234567"}],
                            "addresses": [{"province": "تهران", "city": "تهران", "line": "ولیعصر، کوچه 5، پلاک 12"},
                                          {"label": "home", "city": "کرج", "line": "گوهردشت، فاز 3",
                                           "postal_code": "3148765432"}]})
    out = tmp_path / "customers.xlsx"
    res = export_customers(out)
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    last = openpyxl.utils.get_column_letter(ws.max_column)
    assert ws.auto_filter.ref == f"A2:{last}{res.rows + 2}"
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$2:$2"
    assert wb._fonts[0].name == "Vazirmatn"
    for row in (1, 2, 3):
        assert {cell.font.name for cell in ws[row]} == {"Vazirmatn"}
    header = [cell.value for cell in ws[2]]
    col = {h: i + 1 for i, h in enumerate(header)}
    ra = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == a.id)
    assert ws.cell(ra, col["نشانی"]).value == "ولیعصر، کوچه ۵، پلاک ۱۲"
    assert ws.cell(ra, col["نشانی‌های دیگر"]).value == "نوع: منزل؛ شهر: کرج؛ نشانی: گوهردشت، فاز ۳؛ کد پستی: 3148765432"
    # the mobile number and the postal code stay ASCII text
    assert ws.cell(ra, col["موبایل"]).value == "09121234567"
