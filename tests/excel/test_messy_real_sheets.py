"""Sheets the way Iranian offices really keep them, through `crm import customers` and the service.

The rule checked throughout: every non-blank row under the header is either imported or listed in the dry run
with its spreadsheet row number and a Persian reason; a refused import saves nothing.
"""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from app.core.text import to_ascii_digits
from app.excel import importer as ei
from cli.main import run
from models.connection import close_database
from models.core import Customer, PhoneNumber
from tests.excel.helpers import national_code

NID = national_code("001234567")
HEADERS = ["ردیف", "نام و نام خانوادگی", "نام شرکت", "تلفن ثابت", "تلفن همراه", "شماره تماس", "موبایل ۲", "فکس",
           "آدرس", "استان", "شهر", "کد ملی", "کد اقتصادی", "توضیحات", "تاریخ تولد", "معرف"]


def _row(n=None, name=None, company=None, landline=None, mobile=None, contact=None, mobile2=None, fax=None,
         address=None, province=None, city=None, nid=None, econ=None, notes=None, born=None, referrer=None):
    return [n, name, company, landline, mobile, contact, mobile2, fax, address, province, city, nid, econ, notes,
            born, referrer]


# spreadsheet row → cells (None = blank row)
ROWS = {
    4: _row(1, "علی رضایی", None, "021-88776655", 9121234567, None, None, None, "خیابان ولیعصر، کوچه ۱۲",
            "تهران", "تهران", int(NID), 411111111111, "مشتری قدیمی", "1365/4/5", "آقای کریمی"),
    5: _row(2, "مريم كريمي", None, None, "۰۹۱۲۱۱۱۲۲۳۳", None, None, None, born="۱۳۶۵/۰۴/۰۵"),
    6: _row(3, "حسن موسوی", None, None, "9.12E+09", None, None, None, born="65/4/5"),
    7: _row(4, "رضا کریمی", "بازرگانی نور", None, 9122223344.0, "09122223344 - 02166554433", "0935 111 2233",
            "021-66554434", born=24000),
    8: _row(5, "سارا نیک", None, "44556677 داخلی ۱۲", "+989124445566", "09124445567/09125556677",
            born=dt.datetime(1986, 6, 26)),
    9: None,
    10: None,
    11: _row(6, "احمد باقری", None, None, "'09127778899", born="1986-06-26"),
    12: _row(7, None, None, None, "09128889900"),
    13: _row(8, "محمد رضا احمدی"),
    14: _row(9, "علی رضایی", None, None, "0912-123-4567"),
    15: _row(10, "علی رضائی", None, None, "+98 912 123 4567"),
    16: _row(11, "علي رضايي", None, None, "۰۹۱۲۱۲۳۴۵۶۷"),
    17: _row(12, "مهدی حسین زاده", None, None, "9.123456789E+09"),
    18: _row(13),                                   # a pre-numbered empty row: only its «ردیف»
    19: _row(None, "جمع کل", None, None, None, None, None, None, None, None, None, None, None, "۱۳ نفر"),
}
LISTED = {6: "error", 12: "error", 14: "duplicate", 15: "duplicate", 16: "duplicate", 19: "skipped"}


def office_workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "مشتریان"
    ws.sheet_view.rightToLeft = True
    ws["A1"] = "لیست مشتریان دفتر — سال ۱۴۰۳"
    ws.merge_cells("A1:P1")
    ws["A2"] = "تهیه‌کننده: خانم احمدی"
    for c, h in enumerate(HEADERS, 1):
        ws.cell(3, c, h)
    for r, values in ROWS.items():
        for c, v in enumerate(values or [], 1):
            if v is not None:
                ws.cell(r, c, v)
    ws.cell(8, 15).number_format = "yyyy/mm/dd"
    ws.column_dimensions["M"].hidden = True            # «کد اقتصادی» hidden: still imported
    ws2 = wb.create_sheet("خلاصه")
    ws2["A1"], ws2["B1"] = "جمع مشتریان", 13
    ws3 = wb.create_sheet("نمایشگاه")
    ws3.append(["نام", "نام خانوادگی", "موبایل"])
    ws3.append(["نیما", "کاظمی", "09131112233"])
    wb.save(path)
    return path


def _data(report, row):
    return next(r.data for r in report.rows if r.row == row)


def test_every_row_imported_or_listed_with_a_persian_reason(anydb, tmp_path):
    report = ei.analyse(ei.load_table(office_workbook(tmp_path / "office.xlsx")))
    assert report.table.header_row == 2                       # under the merged title and the «تهیه‌کننده» line
    status = {r.row: r.status for r in report.rows}
    data_rows = {r for r, v in ROWS.items() if v and any(x is not None for x in v[1:])}
    assert set(status) == data_rows                            # row 18 (only «ردیف») is padding, 9–10 blank
    assert {r: s for r, s in status.items() if s != "ok"} == LISTED
    for r in report.rows:
        if r.status != "ok":
            assert r.problems and all(any("\u0600" <= ch <= "\u06ff" for ch in p.message) for p in r.problems)
    msgs = {r.row: [p.message for p in r.problems] for r in report.rows}
    assert "به شکل علمی" in msgs[6][0]
    assert msgs[12] == ["نام ندارد (نام، نام خانوادگی یا نام شرکت لازم است)."]
    assert msgs[19] == ["ردیف جمع (جمع کل) است، نه مشتری؛ وارد نشد."]
    assert all(m == ["تکرار ردیف ۴ همین فایل (شماره مشترک)."] for m in (msgs[14], msgs[15], msgs[16]))

    d4 = _data(report, 4)
    assert (d4["first_name"], d4["last_name"]) == ("علی", "رضایی")
    assert sorted((p["label"], p["canonical"]) for p in d4["phones"]) == [("mobile", "09121234567"),
                                                                          ("work", "02188776655")]
    assert d4["national_id"] == NID and d4["economic_code"] == "411111111111"
    assert d4["birthday"] == dt.date(1986, 6, 26) and d4["source"] == "آقای کریمی"
    assert d4["addresses"][0]["city"] == "تهران"
    assert _data(report, 5)["last_name"] == "کریمی"             # Arabic ك/ي folded
    d7 = _data(report, 7)
    assert sorted((p["canonical"], p["label"]) for p in d7["phones"]) == [
        ("02166554433", "work"), ("02166554434", "fax"), ("09122223344", "mobile"), ("09351112233", "mobile")]
    assert d7["birthday"] == dt.date(1965, 9, 15)          # an Excel serial number
    d8 = _data(report, 8)
    assert sorted((p["canonical"], p.get("extension", "")) for p in d8["phones"]) == [
        ("02144556677", "12"), ("09124445566", ""), ("09124445567", ""), ("09125556677", "")]
    assert _data(report, 11)["phones"][0]["canonical"] == "09127778899"     # leading apostrophe
    assert _data(report, 11)["birthday"] == dt.date(1986, 6, 26)              # Gregorian text
    assert (_data(report, 13)["first_name"], _data(report, 13)["last_name"]) == ("محمد رضا", "احمدی")
    d17 = _data(report, 17)
    assert (d17["first_name"], d17["last_name"]) == ("مهدی", "حسین زاده")
    assert d17["phones"][0]["canonical"] == "09123456789"      # scientific text that kept every digit


def test_cli_dry_run_refusal_then_import(tmp_path, capsys):
    dbfile = str(tmp_path / "office.sqlite3")
    path = office_workbook(tmp_path / "office.xlsx")
    from models.connection import open_database
    open_database(dbfile, create=True)           # --db never makes a new database: the office has one
    close_database()
    try:
        assert run(["--db", dbfile, "import", "customers", str(path), "--dry-run"]) == 1
        out = capsys.readouterr().out
        assert "سرستون در ردیف ۳" in out
        for row, kind in ((6, "خطا"), (12, "خطا"), (14, "تکراری"), (19, "هشدار")):
            p = "۰۱۲۳۴۵۶۷۸۹"
            assert f"[{kind}] ردیف {''.join(p[int(c)] for c in str(row))}:" in out
        assert "۱ ردیف بی‌داده یا جمع که وارد نمی‌شود" in out and "چیزی ذخیره نشد" in out

        assert run(["--db", dbfile, "import", "customers", str(path)]) == 3
        assert "هیچ ردیفی وارد نشد" in capsys.readouterr().err
        assert run(["--db", dbfile, "import", "customers", str(path), "--duplicates", "merge"]) == 3
        capsys.readouterr()
        from models.connection import open_database
        open_database(dbfile)
        assert Customer.select().count() == 0 and PhoneNumber.select().count() == 0     # nothing half-saved
        close_database()

        assert run(["--db", dbfile, "import", "customers", str(path), "--skip-invalid",
                    "--duplicates", "merge"]) == 0
        out = capsys.readouterr().out
        assert "۷ مشتری تازه" in out and "۳ ردیف ادغام" in out and "۲ ردیف خطادار وارد نشد" in out
        open_database(dbfile)
        names = sorted(c.last_name for c in Customer.select())
        assert "کل" not in names and names.count("رضایی") == 1
        ali = Customer.get(Customer.last_name == "رضایی")
        assert sorted(p.canonical for p in ali.phones) == ["02188776655", "09121234567"]
        close_database()

        # the same file again: every customer is already there
        assert run(["--db", dbfile, "import", "customers", str(path), "--skip-invalid"]) == 0
        assert "۰ مشتری تازه" in capsys.readouterr().out

        # a second sheet by name; a sheet that is only a totals line
        assert run(["--db", dbfile, "import", "customers", str(path), "--sheet", "نمایشگاه"]) == 0
        assert "۱ مشتری تازه" in capsys.readouterr().out
        assert run(["--db", dbfile, "import", "customers", str(path), "--sheet", "خلاصه", "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert "در برگه «خلاصه» زیر سرستون‌ها ردیفی نیست" in err and "Traceback" not in err
        assert run(["--db", dbfile, "import", "customers", str(path), "--sheet", "برگه۹"]) == 2
        assert "برگه‌ها: مشتریان، خلاصه، نمایشگاه" in capsys.readouterr().err
    finally:
        close_database()


CSV_ROWS = [
    ["ردیف", "نام و نام خانوادگی", "تلفن همراه", "تلفن ثابت", "شهر", "تاریخ تولد"],
    ["1", "كاظم علي‌پور", "9121234567", "88776655", "اصفهان", "1365/4/5"],
    ["2", "زهرا نيكو", "9.12E+09", "", "شیراز", ""],
    ["", "", "", "", "", ""],
    ["3", "پرویز یزدانی", "09131112233 / 09132223344", "031-32223344", "اصفهان", "۶۵/۰۴/۰۵"],
    ["جمع", "", "", "", "", ""],
]


@pytest.mark.parametrize("encoding,delimiter", [("cp1256", ","), ("utf-8-sig", ";")])
def test_csv_from_excel(anydb, tmp_path, encoding, delimiter):
    path = tmp_path / "customers.csv"
    text = "\r\n".join(delimiter.join(r) for r in CSV_ROWS) + "\r\n"
    if encoding == "cp1256":          # Windows-1256 has only the Arabic ي and ك: Excel writes those
        text = to_ascii_digits(text.replace("ی", "ي").replace("ک", "ك"))
    path.write_bytes(text.encode(encoding))
    report = ei.analyse(ei.load_table(path))
    status = {r.row: r.status for r in report.rows}
    assert status == {2: "ok", 3: "error", 5: "ok", 6: "skipped"}
    d2 = _data(report, 2)
    assert (d2["first_name"], d2["last_name"]) == ("کاظم", "علی‌پور")
    assert sorted(p["canonical"] for p in d2["phones"]) == ["02188776655", "09121234567"]
    assert d2["birthday"] == dt.date(1986, 6, 26)
    d5 = _data(report, 5)
    assert sorted(p["canonical"] for p in d5["phones"]) == ["03132223344", "09131112233", "09132223344"]
    assert d5["birthday"] == dt.date(1986, 6, 26)
    assert "ستون «جمع»" not in report.summary()
    with pytest.raises(ei.UserError, match="هیچ ردیفی وارد نشد"):
        ei.import_rows(report)
    assert Customer.select().count() == 0
    res = ei.import_rows(report, skip_invalid=True)
    assert (res.created, res.skipped_invalid) == (2, 1)
    assert Customer.select().count() == 2


def test_full_name_split():
    assert ei.split_full_name("علی رضایی") == ("علی", "رضایی")
    assert ei.split_full_name("سید محمد حسینی") == ("سید محمد", "حسینی")
    assert ei.split_full_name("علی حسین زاده") == ("علی", "حسین زاده")
    assert ei.split_full_name("جلال آل احمد") == ("جلال", "آل احمد")
    assert ei.split_full_name("رضایی") == ("", "رضایی")
    assert ei.take_honorifics("جناب آقای دکتر کریمی") == ("جناب آقای دکتر", "کریمی")
    assert ei.take_honorifics("خانم احمدی") == ("خانم", "احمدی")
    assert ei.take_honorifics("دکتر") == ("", "دکتر")


def test_phone_cells():
    assert ei.split_phones("09124445566/09125556677") == ["09124445566", "09125556677"]
    assert ei.split_phones("۰۹۱۲۱۲۳۴۵۶۷ - ۰۲۱۸۸۷۷۶۶۵۵") == ["09121234567", "02188776655"]
    assert ei.split_phones("9.121234567E+09") == ["9121234567"]
    assert ei.split_phones("9.12E+09") == ["9.12E+09"]       # digits lost: the dry run says so
    assert ei.split_phones(9121234567.0) == ["9121234567"]


@pytest.mark.parametrize("header,field", [
    ("نام پدر", None), ("شماره شناسنامه", None), ("شماره حساب", None), ("شماره کارت", None), ("تاریخ تماس", None),
    ("نام مدیرعامل", None), ("آدرس منزل", "address"), ("e-mail address", "email"), ("نوع فعالیت", "activity_field"),
    ("شماره موبایل مشتری", "phone_mobile"), ("آدرس مشتری", "address"), ("نام طرف حساب", "full_name"),
    ("شماره تماس ۲", "phone"), ("موبایل ۲", "phone_mobile"), ("تلفن منزل", "phone_home"), ("فکس", "phone_fax"),
    ("معرف", "source"), ("کد اقتصادی", "economic_code"),
])
def test_header_guesses(header, field):
    assert ei.guess_field(header) == field


def test_identity_card_columns_do_not_break_the_sheet(anydb, tmp_path):
    """A sheet kept for invoices: «نام پدر» was read as the first name and «شماره شناسنامه» as a phone, so every
    row was an error and the father's name replaced the customer's."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ردیف", "نام و نام خانوادگی", "نام پدر", "شماره شناسنامه", "کد ملی", "آدرس منزل", "تلفن همراه"])
    ws.append([1, "آقای مهندس علی رضایی", "حسن", 1234, NID, "تهران، نارمک", "09121234567"])
    path = tmp_path / "ids.xlsx"
    wb.save(path)
    report = ei.analyse(ei.load_table(path))
    assert [r.status for r in report.rows] == ["ok"]
    d = report.rows[0].data
    assert (d["title"], d["first_name"], d["last_name"]) == ("آقای مهندس", "علی", "رضایی")
    assert d["addresses"][0]["line"] == "تهران، نارمک"
    assert [p["canonical"] for p in d["phones"]] == ["09121234567"]


def test_colleagues_sharing_the_office_line_are_not_merged(anydb, tmp_path):
    from app.customers import service as cs

    boss = cs.create_customer({"first_name": "کامران", "last_name": "نوری", "company": "بازرگانی نور",
                               "phones": [{"raw": "02166554433"}]})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["نام و نام خانوادگی", "نام شرکت", "تلفن ثابت", "تلفن همراه"])
    ws.append(["رضا کریمی", "بازرگانی نور", "021-66554433", "09122223344"])
    ws.append(["زهرا امینی", "بازرگانی نور", "66554433", "09135556677"])
    ws.append(["زهرا امینی", "بازرگانی نور", "66554433", None])          # the same person again
    ws.append(["کامران نوری", None, "021 6655 4433", None])              # the boss, already a customer
    ws.append(["مینا صدری", None, None, "09122223344"])                   # someone else's mobile: same person
    path = tmp_path / "colleagues.xlsx"
    wb.save(path)
    report = ei.analyse(ei.load_table(path))
    status = {r.row: r.status for r in report.rows}
    assert status == {2: "ok", 3: "ok", 4: "duplicate", 5: "duplicate", 6: "duplicate"}
    msgs = {r.row: [p.message for p in r.problems] for r in report.rows}
    assert msgs[2] == ["شماره ثابت 02166554433 در پرونده مشتری دیگری هم هست ولی نام دیگری دارد؛ "
                       "مشتری جداگانه ثبت می‌شود."]
    assert "شماره ثابت 02166554433 در ردیف ۲ هم هست ولی نام دیگری دارد؛ مشتری جداگانه ثبت می‌شود." in msgs[3]
    assert "تکرار ردیف ۳ همین فایل (شماره مشترک)." in msgs[4]
    assert msgs[5][-1] == "شماره 02166554433 در پرونده «کامران نوری» هست."
    res = ei.import_rows(report, duplicates="merge")
    assert (res.created, res.merged) == (2, 3)
    office = PhoneNumber.select().where(PhoneNumber.canonical == "02166554433")
    assert sorted(p.customer.last_name for p in office) == sorted(["امینی", "کریمی", "نوری"])
    assert Customer.get_by_id(boss.id if hasattr(boss, "id") else boss).last_name == "نوری"


def test_labelled_numbers_and_a_hidden_lists_sheet(anydb, tmp_path):
    wb = openpyxl.Workbook()
    lists = wb.active
    lists.title = "لیست‌ها"                           # the values behind drop-downs, hidden, first
    lists.append(["تهران", "اصفهان", "شیراز"])
    lists.sheet_state = "hidden"
    ws = wb.create_sheet("مشتریان")
    ws.append(["نام و نام خانوادگی", "شماره تماس"])
    ws.append(["سارا نیک", "همراه: 09124445566، ثابت: 021-44556677"])
    ws.append(["علی رضایی", "09121234567 (آقای رضایی)"])
    wb.active = 1
    path = tmp_path / "lists.xlsx"
    wb.save(path)
    table = ei.load_table(path)
    assert table.sheet == "مشتریان" and table.sheets == ["لیست‌ها", "مشتریان"]
    report = ei.analyse(table)
    assert sorted(p["canonical"] for p in report.rows[0].data["phones"]) == ["02144556677", "09124445566"]
    assert report.rows[1].status == "error"               # words after the number: listed, not guessed
    assert report.rows[1].problems[0].text().startswith("ردیف ۳: ستون «شماره تماس»: شماره «09121234567 (آقای")


def test_csv_with_a_title_line_and_totals_in_the_row_number_column(anydb, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("لیست مشتریان دفتر\r\n\r\nردیف,نام,نام خانوادگی,موبایل,تلفن ثابت\r\n"
                    "1,علی,رضایی,9121234567,\"88776655, 88776656\"\r\n2,سارا,نیک,09124445566,\r\n,,,,\r\n"
                    "جمع کل:,,,2,\r\n", encoding="utf-8")
    report = ei.analyse(ei.load_table(path))
    assert report.table.header_row == 2
    assert {r.row: r.status for r in report.rows} == {4: "ok", 5: "ok", 7: "skipped"}
    assert sorted(p["canonical"] for p in _data(report, 4)["phones"]) == ["02188776655", "02188776656",
                                                                          "09121234567"]
    assert ei.import_rows(report).created == 2


def test_the_good_copy_of_a_row_left_out_for_errors_is_imported(anydb, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["نام و نام خانوادگی", "شهر", "تاریخ تولد"])
    ws.append(["علی رضایی", "تهران", "1365/13/05"])          # no month 13
    ws.append(["علی رضایی", "تهران", "1365/4/5"])            # the same man again, clean (same name: a twin)
    path = tmp_path / "twins.xlsx"
    wb.save(path)
    report = ei.analyse(ei.load_table(path))
    assert [r.status for r in report.rows] == ["error", "duplicate"]
    res = ei.import_rows(report, duplicates="skip", skip_invalid=True)
    assert (res.created, res.skipped_invalid, res.skipped_duplicates) == (1, 1, 0)
    assert Customer.get().birthday == dt.date(1986, 6, 26)


def test_consecutive_office_lines():
    assert ei.split_phones("۸۸۷۷۶۶۵۵-۶") == ["88776655", "88776656"]
    assert ei.split_phones("021-88776655 الی 58") == ["021-88776655", "021-88776656", "021-88776657",
                                                       "021-88776658"]
    assert ei.split_phones("88776655-12") == ["88776655-12"]          # not forward: left for the dry run to list
    assert ei.split_phones("09121234567-12") == ["09121234567-12"]    # a mobile has no line range
    assert ei.split_phones("0912-123-4567") == ["0912-123-4567"]
