"""Import from messy real-world sheets: the dry run's report is asserted row by row, then the import."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from app.core.errors import UserError
from app.customers import service as cs
from app.excel import importer as ei
from models.core import Activity, Customer, PhoneNumber, User
from tests.excel.helpers import national_code

NID_ALI = national_code("001234567")      # starts with 00: Excel drops the zeros of a number
NID_MARYAM = national_code("004455667")


def messy_workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "مشتریان نمایشگاه"
    ws.sheet_view.rightToLeft = True
    ws["A1"] = "فهرست مشتریان نمایشگاه ۱۴۰۳ — تهیه‌شده در دفتر"
    ws.merge_cells("A1:I1")
    # row 2 blank; a two-level header with merged cells in rows 3-4
    for col, text in (("A", "ردیف"), ("B", "نام و نام خانوادگی"), ("C", "شرکت"), ("F", "کد ملی"),
                      ("G", "تاریخ تولد"), ("H", "برچسب"), ("I", "مسئول")):
        ws[f"{col}3"] = text
        ws.merge_cells(f"{col}3:{col}4")
    ws["D3"] = "تلفن"
    ws.merge_cells("D3:E3")
    ws["D4"] = "همراه"
    ws["E4"] = "ثابت"
    rows = {
        5: [1, "علی رضایی", None, 9121234567, "۰۲۱-۲۲۵۱۴۳۲۱", int(NID_ALI), "۱۳۶۵/۰۵/۱۲", "VIP، عمده", "سارا محمدی"],
        # 6: blank
        7: [2, "مريم احمدي", None, 9351234567.0, None, NID_MARYAM, dt.datetime(1990, 1, 1), None, None],
        8: [3, None, "بازرگانی نور", "٠٩١٢٠٠٠١١٢٢ ، 02188776655", None, None, None, None, None],
        9: [4, "رضا کریمی", None, "0912123", None, None, None, None, None],
        10: [5, None, None, "09121112233", None, None, None, None, None],
        11: [6, "علی رضایی", None, 9121234567, "۰۲۱-۲۲۵۱۴۳۲۱", int(NID_ALI), "۱۳۶۵/۰۵/۱۲", "VIP، عمده", "سارا محمدی"],
        12: [7, "حسن موسوی", None, "0912 777 8899", None, None, None, "قدیمی", None],
        13: [8, 12345, None, dt.datetime(2020, 1, 1), None, None, None, None, None],
        14: [9, "نیما", None, "+98 912 555 6677", None, None, "1365/13/01", None, None],
        15: [10, "سینا", None, None, None, None, None, None, "کاربر ناشناس"],
        16: [None, None, None, None, None, None, None, None, None],
    }
    for r, values in rows.items():
        for c, v in enumerate(values, 1):
            if v is not None:
                ws.cell(r, c, v)
    ws.cell(7, 7).number_format = "yyyy-mm-dd"
    wb.save(path)
    return path


@pytest.fixture
def existing(anydb):
    User.create(name="سارا محمدی", username="sara")
    return cs.create_customer({"first_name": "حسن", "last_name": "موسوی", "job": "حسابدار",
                               "phones": [{"raw": "09127778899"}]})


def by_row(report):
    out = {}
    for r in report.rows:
        out[r.row] = (r.status, [p.message for p in r.problems])
    return out


def test_header_found_under_title_and_merged_cells(existing, tmp_path):
    t = ei.load_table(messy_workbook(tmp_path / "messy.xlsx"))
    assert t.sheet == "مشتریان نمایشگاه"
    assert t.header_row == 3                       # spreadsheet row 4 (0-based 3): under the two-level header
    assert t.headers[:6] == ["ردیف", "نام و نام خانوادگی", "شرکت", "تلفن همراه", "تلفن ثابت", "کد ملی"]
    assert t.mapping == ["", "full_name", "company", "phone_mobile", "phone_work", "national_id", "birthday",
                         "tags", "assigned"]


def test_dry_run_report_row_by_row(existing, tmp_path):
    report = ei.analyse(ei.load_table(messy_workbook(tmp_path / "messy.xlsx")))
    rows = by_row(report)
    assert sorted(rows) == [5, 7, 8, 9, 10, 11, 12, 13, 14, 15]     # blank rows 6 and 16 are not rows
    assert rows[5] == ("ok", [])
    assert rows[7] == ("ok", [])
    assert rows[8] == ("ok", [])
    assert rows[9][0] == "error" and len(rows[9][1]) == 1 and "«0912123»" in rows[9][1][0]
    assert rows[10][0] == "error" and rows[10][1] == ["نام ندارد (نام، نام خانوادگی یا نام شرکت لازم است)."]
    assert rows[11][0] == "duplicate" and rows[11][1] == ["تکرار ردیف ۵ همین فایل (شماره مشترک)."]
    assert rows[12][0] == "duplicate" and rows[12][1] == ["شماره 09127778899 در پرونده «حسن موسوی» هست."]
    assert rows[13][0] == "error" and rows[13][1] == ["این خانه تاریخ یا مقدار دیگری است، نه شماره تلفن."]
    assert rows[14][0] == "error" and rows[14][1] == ["ماه باید بین ۱ و ۱۲ باشد."]
    assert rows[15] == ("ok", ["کاربری به نام «کاربر ناشناس» نیست؛ مسئول خالی ماند."])
    # the column of a bad phone is named
    bad = next(p for p in report.problems() if p.row == 9)
    assert bad.column == "تلفن همراه"
    assert bad.text().startswith("ردیف ۹: ستون «تلفن همراه»: ")
    # what the cleaning made of the messy cells
    d5 = next(r.data for r in report.rows if r.row == 5)
    assert (d5["first_name"], d5["last_name"]) == ("علی", "رضایی")
    assert [(p["label"], p["canonical"]) for p in d5["phones"]] == [("mobile", "09121234567"),
                                                                    ("work", "02122514321")]
    assert d5["national_id"] == NID_ALI                  # the lost leading zeros are back
    assert d5["birthday"] == dt.date(1986, 8, 3)          # ۱۳۶۵/۰۵/۱۲
    assert d5["tags"] == ["VIP", "عمده"]
    assert d5["assigned_to"] == User.get(User.username == "sara").id
    d7 = next(r.data for r in report.rows if r.row == 7)
    assert d7["last_name"] == "احمدی"                     # Arabic ي folded
    assert d7["phones"][0]["canonical"] == "09351234567"  # 9351234567.0 from Excel
    assert d7["birthday"] == dt.date(1990, 1, 1)          # a real Excel date
    d8 = next(r.data for r in report.rows if r.row == 8)
    assert d8["kind"] == "organisation"
    assert [p["canonical"] for p in d8["phones"]] == ["09120001122", "02188776655"]   # two numbers, one cell
    assert "۱۰ ردیف خوانده شد" in report.summary() and "۴ ردیف با خطا" in report.summary()


def test_import_refuses_with_errors_and_saves_nothing(existing, tmp_path):
    before = (Customer.select().count(), PhoneNumber.select().count(), Activity.select().count())
    report = ei.analyse(ei.load_table(messy_workbook(tmp_path / "messy.xlsx")))
    with pytest.raises(UserError) as e:
        ei.import_rows(report)
    assert "هیچ ردیفی وارد نشد" in e.value.message
    assert (Customer.select().count(), PhoneNumber.select().count(), Activity.select().count()) == before


@pytest.mark.parametrize("choice,created,merged,skipped", [("skip", 4, 0, 2), ("merge", 4, 2, 0),
                                                            ("add", 6, 0, 0)])
def test_import_duplicate_choices(existing, tmp_path, choice, created, merged, skipped):
    report = ei.analyse(ei.load_table(messy_workbook(tmp_path / "messy.xlsx")))
    before = Customer.select().count()
    res = ei.import_rows(report, duplicates=choice, skip_invalid=True)
    assert (res.created, res.merged, res.skipped_duplicates, res.skipped_invalid) == (created, merged, skipped, 4)
    assert Customer.select().count() == before + created
    ali = [c for c in Customer.select() if c.first_name == "علی"]
    assert len(ali) == (2 if choice == "add" else 1)
    hasan = cs.customer_data(existing.id)
    if choice == "merge":
        assert hasan["tags"] == ["قدیمی"]          # the row's tag joined the existing file
        assert any(e.kind == "imported" for e in Activity.select().where(Activity.customer == existing.id))
    else:
        assert hasan["tags"] == []
    # what was created is exactly what the service would have stored
    new = Customer.select().where(Customer.national_id == NID_ALI).order_by(Customer.id).first()
    d = cs.customer_data(new.id)
    assert d["birthday"] == dt.date(1986, 8, 3)
    sort_key, search_text = new.sort_key, new.search_text
    cs.refresh_keys(new)
    new = Customer.get_by_id(new.id)
    assert (new.sort_key, new.search_text) == (sort_key, search_text)
    if choice != "add":
        assert [c.id for c in cs.find_by_phone("+989121234567")] == [new.id]
        assert cs.search_ids(cs.Filter(text="رضایی")) == [new.id]
    acts = list(Activity.select().where(Activity.customer == new.id))
    assert len(acts) == 1 and acts[0].kind == "imported" and "ردیف ۵" in acts[0].summary


def test_csv_windows_1256_with_semicolons(anydb, tmp_path):
    text = "نام;نام خانوادگی;موبایل;شهر;ایمیل\r\nعلی;کریمی;9121234567;تهران;ali@example.com\r\n" \
           ";;;;\r\nسارا;;0935-123-4567;اصفهان;not-an-email\r\n"
    p = tmp_path / "list.csv"
    # Windows-1256 has no Persian ی/ک: old Persian Windows wrote the Arabic letters ي/ك, which import folds.
    p.write_bytes(text.translate(str.maketrans("یک", "يك")).encode("cp1256"))
    t = ei.load_table(p)
    assert t.mapping == ["first_name", "last_name", "phone_mobile", "city", "email"]
    report = ei.analyse(t)
    rows = by_row(report)
    assert rows == {2: ("ok", []), 4: ("error", ["نشانی ایمیل درست نیست."])}
    res = ei.import_rows(report, skip_invalid=True)
    assert res.created == 1
    d = cs.customer_data(res.customer_ids[0])
    assert d["addresses"][0]["city"] == "تهران" and d["phones"][0]["canonical"] == "09121234567"


def test_csv_utf8_english_headers(db, tmp_path):
    p = tmp_path / "contacts.csv"
    p.write_text("Name,Company,Phone,Tags,Birthday\n"
                 "Sara Jalali,,\"0912 111 2233, 021 8877 6655\",a;b,1990-05-06\n", encoding="utf-8-sig")
    t = ei.load_table(p)
    assert t.mapping == ["full_name", "company", "phone", "tags", "birthday"]
    report = ei.analyse(t)
    d = report.rows[0].data
    assert (d["first_name"], d["last_name"]) == ("Sara", "Jalali")
    assert [(p["label"], p["canonical"]) for p in d["phones"]] == [("mobile", "09121112233"), ("work", "02188776655")]
    assert d["tags"] == ["a", "b"] and d["birthday"] == dt.date(1990, 5, 6)


def test_other_sheet_by_name_and_unknown_sheet(db, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "خالی"
    ws = wb.create_sheet("لیست")
    ws.append(["نام", "نام خانوادگی"])
    ws.append(["علی", "کریمی"])
    p = tmp_path / "two.xlsx"
    wb.save(p)
    assert ei.load_table(p).sheet == "لیست"          # the first sheet with something in it
    assert ei.load_table(p, "لیست").sheets == ["خالی", "لیست"]
    with pytest.raises(UserError) as e:
        ei.load_table(p, "فروش")
    assert "برگه «فروش» در این فایل نیست" in e.value.message
    with pytest.raises(UserError) as e:
        ei.load_table(p, "خالی")
    assert e.value.message == "برگه «خالی» خالی است."


def _xlsx_bytes():
    wb = openpyxl.Workbook()
    wb.active.append(["نام"])
    wb.active.append(["علی"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_bad_files_get_a_persian_message(db, tmp_path):
    cases = {}
    p = tmp_path / "photo.xlsx"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    cases["png named xlsx"] = p
    p = tmp_path / "blob.dat"
    p.write_bytes(bytes(range(256)) * 40)
    cases["binary"] = p
    p = tmp_path / "broken.xlsx"
    p.write_bytes(_xlsx_bytes()[:700])
    cases["truncated"] = p
    p = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    cases["a zip that is no workbook"] = p
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    cases["empty file"] = p
    p = tmp_path / "header-only.csv"
    p.write_text("نام,موبایل\n", encoding="utf-8")
    cases["header only"] = p
    cases["missing"] = tmp_path / "nope.xlsx"
    for name, path in cases.items():
        with pytest.raises(UserError) as e:
            ei.analyse(ei.load_table(path))
        msg = e.value.message
        assert any("\u0600" <= ch <= "\u06ff" for ch in msg), (name, msg)
        assert "Traceback" not in msg


def test_password_protected_workbook(db, tmp_path):
    pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(_xlsx_bytes())
    enc = tmp_path / "locked.xlsx"
    with open(plain, "rb") as src, open(enc, "wb") as out:
        OOXMLFile(src).encrypt("1234", out)
    with pytest.raises(UserError) as e:
        ei.load_table(enc)
    assert "رمز دارد" in e.value.message


def test_no_name_column_is_refused(db, tmp_path):
    p = tmp_path / "phones.csv"
    p.write_text("موبایل\n09121234567\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        ei.analyse(ei.load_table(p))
    assert "نام" in e.value.message


def test_remapping_a_column(db, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("ستون ۱,ستون ۲\nعلی کریمی,09121234567\n", encoding="utf-8")
    t = ei.load_table(p)
    assert t.mapping == ["", ""]
    t.mapping = ["full_name", "phone"]
    report = ei.analyse(t)
    assert report.rows[0].data["phones"][0]["canonical"] == "09121234567"


def test_split_phones_formats():
    assert ei.split_phones(9121234567.0) == ["9121234567"]
    assert ei.split_phones("09121234567 09351234567") == ["09121234567", "09351234567"]
    assert ei.split_phones("0912 123 4567") == ["0912 123 4567"]
    assert ei.split_phones("۰۹۱۲۱۲۳۴۵۶۷ / ۰۲۱۲۲۵۱۴۳۲۱") == ["09121234567", "02122514321"]
    assert ei.split_phones("021-22514321 داخلی 12؛ 09121234567") == ["021-22514321 داخلی 12", "09121234567"]
    assert ei.split_phones("09121234567 و 09351234567") == ["09121234567", "09351234567"]



def test_old_xls_workbook(db, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("مشتریان")
    for c, h in enumerate(("نام", "نام خانوادگی", "موبایل", "تاریخ تولد")):
        ws.write(0, c, h)
    ws.write(1, 0, "علی")
    ws.write(1, 1, "رضایی")
    ws.write(1, 2, 9121234567)
    ws.write(1, 3, dt.date(1990, 1, 1), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    p = tmp_path / "old.xls"
    wb.save(str(p))
    report = ei.analyse(ei.load_table(p))
    d = report.rows[0].data
    assert (d["first_name"], d["phones"][0]["canonical"], d["birthday"]) == ("علی", "09121234567", dt.date(1990, 1, 1))
