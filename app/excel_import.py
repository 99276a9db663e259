"""Import customers (and their phones, addresses, tags) from .xlsx / .xls / .ods / .csv sheets.

Three steps, each usable alone (the wizard and `crm import customers` both walk them):

1. ``load_table(path, sheet=None) -> Table``: read a sheet (python-calamine; csv with encoding and delimiter
   sniffing), find the header row under any title rows (merged header cells are filled across their range;
   a two-level header «تلفن» over «همراه | ثابت» reads as «تلفن همراه»), and guess each column's field from
   its Persian or English header. ``Table.mapping`` can be changed before the next step.
2. ``analyse(table) -> Report``: the dry run. Every non-blank row is cleaned (Persian/Arabic digits, phones
   in any format including Excel numbers that lost their 0, several phones in one cell, Jalali text or Excel
   dates) and checked with ``app.customers.validate()``; every problem is listed with its spreadsheet row
   number: errors (bad phone, missing name…), duplicates of an existing customer (shared phone or national
   ID) or of an earlier row, warnings (unknown user…). Nothing is written.
3. ``import_rows(report, duplicates="skip"|"merge"|"add", skip_invalid=False) -> ImportResult``: one
   transaction, all or nothing. Rows with errors make it refuse (UserError) unless ``skip_invalid``. New
   customers go in with bulk inserts (customers, phones, addresses, tags, timeline) whose sort/search keys
   are exactly the customer service's (``app.customers.service.derived_keys``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from app import settings
from app.core import phones as ph
from app.core.clock import now
from app.core.errors import UserError, ValidationError
from app.core.text import compact_key, search_key, to_ascii_digits, to_persian_digits
from app.customers import service as cs
from models.base import db, is_postgres
from models.core import Activity, Address, Customer, CustomerTag, PhoneNumber, Tag, User

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]

MAX_HEADER_SCAN = 30
BATCH = 500

# --- fields and header synonyms ---------------------------------------------------------------------------

FIELDS: dict[str, str] = {
    "": "— وارد نشود —",
    "full_name": "نام و نام خانوادگی",
    "first_name": "نام",
    "last_name": "نام خانوادگی",
    "company": "شرکت / سازمان",
    "title": "عنوان (آقای/خانم)",
    "job": "سمت / شغل",
    "kind": "نوع (حقیقی/حقوقی)",
    "stage": "مرحله (سرنخ/مشتری)",
    "phone": "تلفن (تشخیص خودکار همراه/ثابت)",
    "phone_primary": "تلفن اصلی",
    "phone_mobile": "موبایل",
    "phone_work": "تلفن محل کار",
    "phone_home": "تلفن منزل",
    "phone_fax": "نمابر",
    "phone_other": "سایر تلفن‌ها",
    "email": "ایمیل",
    "address_label": "نوع نشانی",
    "province": "استان",
    "city": "شهر",
    "address": "نشانی",
    "address_postal_code": "کد پستی نشانی",
    "other_addresses": "نشانی‌های دیگر",
    "customer_type": "نوع مشتری",
    "rank": "رتبه",
    "status": "وضعیت",
    "activity_field": "زمینه فعالیت",
    "source": "نحوه آشنایی",
    "assigned": "مسئول",
    "tags": "برچسب‌ها",
    "national_id": "کد ملی / شناسه ملی",
    "economic_code": "کد اقتصادی",
    "registration_no": "شماره ثبت",
    "postal_code": "کد پستی",
    "website": "وب‌سایت",
    "birthday": "تاریخ تولد",
    "anniversary": "سالگرد",
    "description": "توضیحات",
}

# Several columns may feed these (موبایل ۱، موبایل ۲…); any other field takes its first column only.
MULTI = {"phone", "phone_mobile", "phone_work", "phone_home", "phone_fax", "phone_other", "tags", "description",
         "other_addresses"}
PHONE_FIELDS = {"phone": None, "phone_mobile": "mobile", "phone_work": "work", "phone_home": "home",
                "phone_fax": "fax", "phone_other": "other"}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": ("نام و نام خانوادگی", "نام و نام‌خانوادگی", "نام کامل", "نام مشتری", "مشتری", "طرف حساب",
                  "اسم و فامیل", "نام شخص", "full name", "name", "customer", "customer name", "contact",
                  "contact name"),
    "first_name": ("نام", "اسم", "نام کوچک", "first name", "firstname", "given name"),
    "last_name": ("نام خانوادگی", "فامیل", "فامیلی", "نام فامیل", "last name", "lastname", "surname",
                  "family name", "family"),
    "company": ("شرکت", "نام شرکت", "سازمان", "شرکت / سازمان", "نام سازمان", "فروشگاه", "نام فروشگاه",
                "مجموعه", "company", "company name", "organization", "organisation", "business"),
    "title": ("عنوان", "پیشوند", "title", "salutation"),
    "job": ("سمت", "شغل", "سمت / شغل", "سمت شغلی", "job", "job title", "position", "occupation"),
    "kind": ("نوع", "نوع شخص", "حقیقی / حقوقی", "حقیقی/حقوقی", "شخصیت", "kind", "person type", "type"),
    "stage": ("مرحله", "stage", "lead status"),
    "phone": ("تلفن", "شماره", "شماره تلفن", "شماره تماس", "تلفن ها", "تلفن‌ها", "تماس", "شماره ها",
              "phone", "phones", "phone number", "tel", "telephone", "contact number", "number"),
    "phone_mobile": ("موبایل", "همراه", "تلفن همراه", "شماره همراه", "شماره موبایل", "موبایل ۱", "موبایل ۲",
                     "mobile", "cell", "cellphone", "cell phone", "mobile phone", "mobile number"),
    "phone_work": ("تلفن محل کار", "تلفن ثابت", "ثابت", "تلفن کار", "تلفن دفتر", "تلفن شرکت", "تلفن ثابت محل کار",
                   "work phone", "office phone", "landline", "business phone"),
    "phone_home": ("تلفن منزل", "منزل", "تلفن خانه", "home phone", "home"),
    "phone_fax": ("نمابر", "فکس", "fax"),
    "phone_primary": ("تلفن اصلی", "شماره اصلی", "primary phone", "main phone"),
    "address_label": ("نوع نشانی", "نوع آدرس", "address type"),
    "phone_other": ("سایر تلفن‌ها", "سایر تلفن ها", "تلفن های دیگر", "سایر شماره ها", "other phones",
                    "other phone"),
    "email": ("ایمیل", "پست الکترونیک", "پست الکترونیکی", "رایانامه", "ای میل", "email", "e-mail", "mail"),
    "province": ("استان", "province", "state"),
    "city": ("شهر", "city", "town"),
    "address": ("آدرس", "نشانی", "آدرس کامل", "نشانی کامل", "address", "street", "street address"),
    "address_postal_code": ("کد پستی نشانی",),
    "other_addresses": ("نشانی‌های دیگر", "نشانی های دیگر", "آدرس های دیگر", "other addresses"),
    "customer_type": ("نوع مشتری", "گروه", "گروه مشتری", "دسته", "دسته بندی", "دسته‌بندی", "customer type",
                      "category", "group", "segment"),
    "rank": ("رتبه", "درجه", "درجه اعتبار", "rank", "grade", "rating"),
    "status": ("وضعیت", "status"),
    "activity_field": ("زمینه فعالیت", "حوزه فعالیت", "نوع فعالیت", "صنف", "رسته", "industry", "field"),
    "source": ("نحوه آشنایی", "منبع", "روش آشنایی", "نحوه آشنایی با ما", "معرف", "source", "lead source",
               "referral"),
    "assigned": ("مسئول", "کارشناس", "کارشناس فروش", "فروشنده", "ویزیتور", "مسئول پیگیری", "assigned",
                 "assigned to", "owner", "rep", "sales rep"),
    "tags": ("برچسب", "برچسب‌ها", "برچسب ها", "تگ", "تگ ها", "tags", "tag", "labels"),
    "national_id": ("کد ملی", "کدملی", "شناسه ملی", "کد ملی / شناسه ملی", "شماره ملی", "national id",
                    "national code", "melli code", "id number"),
    "economic_code": ("کد اقتصادی", "economic code", "tax id"),
    "registration_no": ("شماره ثبت", "registration", "registration no", "registration number"),
    "postal_code": ("کد پستی", "کدپستی", "postal code", "zip", "zip code", "postcode"),
    "website": ("وب سایت", "وب‌سایت", "سایت", "website", "web", "url"),
    "birthday": ("تاریخ تولد", "تولد", "birthday", "birth date", "date of birth", "dob"),
    "anniversary": ("سالگرد", "سالگرد ازدواج", "anniversary"),
    "description": ("توضیحات", "یادداشت", "شرح", "ملاحظات", "توضیح", "description", "notes", "note",
                    "comment", "comments", "remarks"),
    # headers that are recognised (so the header row is found) but not imported
    "": ("کد مشتری", "ردیف", "شماره ردیف", "#", "row", "id", "تاریخ ثبت", "کد", "created"),
}
_EXACT: dict[str, str] = {}
for _f, _words in _SYNONYMS.items():
    for _w in _words:
        _EXACT.setdefault(compact_key(_w), _f)
# (key, field) longest first, for headers that contain a known word («شماره موبایل مشتری»)
# Bare generic words match only a whole header: «نام پدر»، «شماره شناسنامه»، «شماره حساب»، «تاریخ تماس» are not
# the customer's name or phone (they turned every row of a real sheet into an error, or the father's name into the
# customer's first name).
_GENERIC = {compact_key(w) for w in ("نام", "اسم", "شماره", "تماس", "name", "number", "type", "field", "mail")}
_WEAK = {compact_key(w) for w in ("مشتری", "customer", "contact", "طرف حساب")}
_CONTAINS = sorted(((k, f) for k, f in _EXACT.items() if len(k) >= 3 and f and k not in _GENERIC),
                   key=lambda kf: -len(kf[0]))


def guess_field(header: str) -> str | None:
    """The field a header names, '' for a known column that is not imported, None when unknown."""
    key = compact_key(re.sub(r"\d+$", "", to_ascii_digits(header or "")).strip()) or compact_key(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    # The word nearest the start names the column: Persian puts the head noun first («آدرس منزل» is an address,
    # «شماره موبایل مشتری» a mobile), and «مشتری»/«customer» only qualify a column that names nothing else.
    best = min(((k in _WEAK, key.find(k), -len(k), f) for k, f in _CONTAINS if k in key), default=None)
    return best[3] if best else None


def guess_mapping(headers: list[str]) -> list[str]:
    """One field key per column ('' = not imported)."""
    out: list[str] = []
    used: set[str] = set()
    for h in headers:
        f = guess_field(h) or ""
        if f and f not in MULTI and f in used:
            f = ""
        if f:
            used.add(f)
        out.append(f)
    # «نام» alone, with no «نام خانوادگی» column, is the whole name.
    if "first_name" in used and "last_name" not in used and "full_name" not in used:
        out = ["full_name" if f == "first_name" else f for f in out]
    return out


# --- reading ------------------------------------------------------------------------------------------------

@dataclass
class Table:
    path: Path
    sheet: str
    sheets: list[str]
    rows: list[list[Any]]          # every row from the sheet's first row: rows[i] is spreadsheet row i+1
    header_row: int                # index into rows
    headers: list[str]
    mapping: list[str]

    @property
    def width(self) -> int:
        return len(self.headers)

    def data_rows(self) -> list[tuple[int, list[Any]]]:
        """(spreadsheet row number, values) of the non-blank rows under the header (computed once)."""
        cached = self.__dict__.get("_data_rows")
        if cached is not None and cached[0] == self.header_row:
            return cached[1]
        out = []
        for i in range(self.header_row + 1, len(self.rows)):
            r = self.rows[i]
            for v in r:
                if v is not None and v != "" and (type(v) is not str or not v.isspace()):
                    out.append((i + 1, r))
                    break
        self.__dict__["_data_rows"] = (self.header_row, out)
        return out

    def set_header_row(self, index: int) -> None:
        self.header_row = index
        self.headers = _header_texts(self.rows, index, [])
        self.mapping = guess_mapping(self.headers)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sniff_kind(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» باز نشد.", details=str(e)) from e
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    return "text"


def _is_encrypted_ole(path: Path) -> bool:
    """A password-protected .xlsx is an OLE file holding an «EncryptedPackage» stream."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as f:
        data = f.read(4 * 1024 * 1024)
    return marker in data or "EncryptionInfo".encode("utf-16-le") in data


def _read_workbook(path: Path, sheet: str | None) -> tuple[str, list[str], list[list[Any]], list]:
    import python_calamine as pc

    kind = _sniff_kind(path)
    if kind == "ole" and _is_encrypted_ole(path):
        raise UserError(f"فایل «{path.name}» رمز دارد. در اکسل رمز را بردارید (File › Info › Protect Workbook) "
                        "و دوباره امتحان کنید.")
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as e:
        raise UserError(f"فایل «{path.name}» رمز دارد. در اکسل رمز را بردارید و دوباره امتحان کنید.") from e
    except (pc.CalamineError, pc.ZipError, pc.XmlError, ValueError, OSError) as e:
        logger.info("calamine could not open %s: %s", path, e)
        if kind == "zip":
            raise UserError(f"فایل «{path.name}» کارپوشه اکسل سالمی نیست (شاید آسیب دیده یا نوع دیگری از فایل "
                            "است).", details=str(e)) from e
        raise UserError(f"فایل «{path.name}» صفحه‌گسترده نیست یا آسیب دیده است. فایل xlsx، xls یا csv بدهید.",
                        details=str(e)) from e
    except Exception as e:  # noqa: BLE001 - calamine raises various internal types for broken files
        logger.info("calamine failed on %s: %r", path, e)
        raise UserError(f"فایل «{path.name}» خوانده نشد؛ شاید آسیب دیده است.", details=str(e)) from e
    try:
        names = [m.name for m in wb.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(wb.sheet_names)
        if not names:
            raise UserError(f"در فایل «{path.name}» برگه‌ای نیست.")
        if sheet is None:
            chosen = None
            # hidden sheets (the lists behind drop-downs) come last: the first visible sheet with data is the one
            hidden = {m.name for m in wb.sheets_metadata if not str(m.visible).endswith("Visible")}
            for name in sorted(names, key=lambda n: n in hidden):   # the first sheet that has anything in it
                s = wb.get_sheet_by_name(name)
                if s.height and s.width:
                    chosen = name
                    break
            chosen = chosen or names[0]
        else:
            matches = [n for n in names if n == sheet] or [n for n in names if search_key(n) == search_key(sheet)]
            if not matches:
                raise UserError(f"برگه «{sheet}» در این فایل نیست. برگه‌ها: {'، '.join(names)}")
            chosen = matches[0]
        s = wb.get_sheet_by_name(chosen)
        rows = s.to_python(skip_empty_area=False)
        merged = list(s.merged_cell_ranges or [])
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001
        logger.info("reading sheet failed on %s: %r", path, e)
        raise UserError(f"برگه‌های فایل «{path.name}» خوانده نشد؛ شاید آسیب دیده است.", details=str(e)) from e
    finally:
        try:
            wb.close()
        except Exception:  # noqa: BLE001
            pass
    return chosen, names, rows, merged


def _decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise UserError("این فایل متنی نیست؛ فایل xlsx، xls یا csv بدهید.")
    # Excel on a Persian Windows saves «CSV» in Windows-1256.
    return data.decode("cp1256", errors="replace")


def _read_csv(path: Path) -> list[list[Any]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"فایل «{path.name}» باز نشد.", details=str(e)) from e
    if not data.strip():
        raise UserError(f"فایل «{path.name}» خالی است.")
    text = _decode(data)
    sample = text[:8192]
    if sum(ch.isprintable() or ch in "\r\n\t" for ch in sample) < 0.95 * len(sample):
        raise UserError(f"فایل «{path.name}» صفحه‌گسترده نیست. فایل xlsx، xls یا csv بدهید.")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|،؛")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = max(",;\t|", key=sample.count) if any(c in sample for c in ",;\t|") else ","
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _fill_merged(rows: list[list[Any]], merged: list) -> set[tuple[int, int]]:
    """Copy each merged range's value into all its cells; returns cells filled from a horizontal merge."""
    horizontal: set[tuple[int, int]] = set()
    for rng in merged:
        try:
            (r1, c1), (r2, c2) = rng
        except (TypeError, ValueError):
            continue
        if r1 >= len(rows) or r1 > MAX_HEADER_SCAN + 5:
            continue
        value = rows[r1][c1] if c1 < len(rows[r1]) else ""
        for r in range(r1, min(r2, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c2:
                row.extend([""] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    row[c] = value
                if c2 > c1:
                    horizontal.add((r, c))
    return horizontal


def _cell_text(v: Any) -> str:
    """A cell as text. Strings are only trimmed: app.customers.validate() normalises them (clean())."""
    if v is None:
        return ""
    if type(v) is str:
        return v.strip()
    if isinstance(v, bool):
        return "بله" if v else "خیر"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        from app.core.jalali import format_date

        return format_date(v, persian=False)
    if isinstance(v, dt.date):
        from app.core.jalali import format_date

        return format_date(v, persian=False)
    return str(v).strip()


def _header_texts(rows: list[list[Any]], index: int, horizontal: list | set) -> list[str]:
    row = rows[index]
    above = rows[index - 1] if index > 0 else []
    out = []
    for c, v in enumerate(row):
        own = _cell_text(v)
        parent = _cell_text(above[c]) if c < len(above) else ""
        if parent and parent != own and (index - 1, c) in horizontal:
            combined = f"{parent} {own}".strip()
            if guess_field(combined):
                own = combined
            elif not own:
                own = parent
        out.append(own)
    while out and not out[-1]:
        out.pop()
    return out


def _find_header(rows: list[list[Any]]) -> int:
    best, best_score = None, 0
    for i, row in enumerate(rows[:MAX_HEADER_SCAN]):
        texts = [_cell_text(v) for v in row]
        # distinct fields named by short cells: a merged title row repeats one long text across the sheet
        known = len({guess_field(t) for t in set(texts) if t and len(t) <= 40} - {None})
        filled = sum(1 for t in texts if t)
        if filled == 0:
            continue
        if best is None:
            best = i
        # a header has several known names; a title row above it has one long merged text
        if known > best_score:
            best, best_score = i, known
    if best is None:
        return -1
    return best


def load_table(path: str | Path, sheet: str | None = None) -> Table:
    """Read one sheet and guess its header row and columns. Raises UserError (Persian) for a file that is
    not a spreadsheet, is password-protected or damaged, or a sheet with nothing in it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"فایل «{path}» پیدا نشد.")
    if path.is_dir():
        raise UserError(f"«{path}» یک پوشه است، نه فایل.")
    if path.stat().st_size == 0:
        raise UserError(f"فایل «{path.name}» خالی است.")
    kind = _sniff_kind(path)
    ext = path.suffix.lower()
    merged: list = []
    if kind == "text" and ext not in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        rows = _read_csv(path)
        name, names = path.stem, [path.stem]
    elif kind == "text":
        raise UserError(f"فایل «{path.name}» با پسوند {ext} صفحه‌گسترده اکسل نیست یا آسیب دیده است.")
    else:
        name, names, rows, merged = _read_workbook(path, sheet)
    rows = [list(r) for r in rows]
    horizontal = _fill_merged(rows, merged)
    header = _find_header(rows)
    if header < 0:
        raise UserError(f"برگه «{name}» خالی است.")
    headers = _header_texts(rows, header, horizontal)
    table = Table(path, name, names, rows, header, headers, guess_mapping(headers))
    if not table.data_rows():
        raise UserError(f"در برگه «{name}» زیر سرستون‌ها ردیفی نیست.")
    return table


# --- cleaning one row ---------------------------------------------------------------------------------------

_SPLIT_PHONES = re.compile(r"[،,;؛|\n\r]+|\s+/\s+|(?<=\d{7})/(?=\+?\d{7})|\s+و\s+|\s+-\s+(?=\+?0|\+)")
# «9.12E+09»: a number Excel showed in scientific notation and that was then saved as text
_SCIENTIFIC = re.compile(r"[+-]?\d(?:\.(\d+))?[eE]\+?(\d{1,2})")
# a totals row under the data: «جمع»، «جمع کل»، «مجموع»…
_TOTAL_WORDS = {compact_key(w) for w in ("جمع", "جمع کل", "جمع‌کل", "مجموع", "مجموع کل", "جمعا", "جمعاً",
                                         "total", "sum", "grand total")}
# words that belong to the last name when a whole name is in one column: «علی حسین زاده»
_SURNAME_TAILS = {"زاده", "نژاد", "پور", "فر", "راد", "نیا", "منش", "وند"}
_SURNAME_HEADS = {"آل", "ابن", "بنی"}
_KIND_WORDS = {"حقیقی": "person", "شخص": "person", "شخصی": "person", "فرد": "person", "person": "person",
               "individual": "person", "حقوقی": "organisation", "شرکت": "organisation", "سازمان": "organisation",
               "organisation": "organisation", "organization": "organisation", "company": "organisation"}
_STAGE_WORDS = {"مشتری": "actual", "بالفعل": "actual", "قطعی": "actual", "actual": "actual", "customer": "actual",
                "سرنخ": "potential", "بالقوه": "potential", "سرنخبالقوه": "potential", "potential": "potential",
                "lead": "potential", "prospect": "potential"}
_STATUS_WORDS = {compact_key(v): k for k, v in cs.STATUS_LABELS.items()} | {k: k for k in cs.STATUS_LABELS}


_RANGE = re.compile(r"(?P<head>.*?(?<!\d))(?P<line>\d{7,8})\s*(?:-|/|~|الی|تا|إلى)\s*(?P<tail>\d{1,2})")


def _line_range(part: str) -> list[str]:
    """An office's consecutive lines written the Iranian way: «88776655-8» or «021-88776655 الی 58» are
    …55, …56, …57, …58 (at most ten lines; a tail that does not go forward is not a range)."""
    m = _RANGE.fullmatch(part)
    if not m:
        return []
    head, line, tail = m.group("head"), m.group("line"), m.group("tail")
    first = int(line)
    last = int(line[: -len(tail)] + tail)
    if not first < last <= first + 9:
        return []
    return [f"{head}{n:0{len(line)}d}" for n in range(first, last + 1)]


def split_phones(value: Any) -> list[str]:
    """One cell → the numbers in it: «0912…، 021…», «0912… / 0935…», an Excel number 9121234567.0."""
    if _blank(value):
        return []
    if isinstance(value, bool):
        return [str(value)]
    if isinstance(value, float):
        return [str(int(value))] if value.is_integer() else [repr(value)]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return [str(value)]
    text = to_ascii_digits(str(value)).strip()
    out = []
    for part in _SPLIT_PHONES.split(text):
        part = part.strip()
        if not part:
            continue
        part = re.sub(r"^[^\d+:()]{1,20}:\s*(?=[+\d(])", "", part)     # «همراه: 0912…», «Tel: 021…»
        if re.fullmatch(r"\d+\.0", part):
            part = part[:-2]
        sci = _SCIENTIFIC.fullmatch(part)
        if sci and len(sci.group(1) or "") >= int(sci.group(2)):
            part = str(int(float(part)))      # «9.121234567E+09» still has every digit
        digits = re.sub(r"\D", "", part)
        lines = _line_range(part)
        if lines:
            out.extend(lines)
            continue
        # two numbers separated only by spaces: «09121234567 09351234567»
        words = part.split()
        if len(digits) > 12 and len(words) > 1 and all(len(re.sub(r"\D", "", w)) >= 10 for w in words):
            out.extend(words)
        else:
            out.append(part)
    return out


_HONORIFICS = {compact_key(w) for w in ("آقای", "آقا", "خانم", "دکتر", "مهندس", "جناب", "سرکار", "حاج", "حاجی",
                                        "استاد", "آقای دکتر", "خانم دکتر", "dr", "dr.", "mr", "mr.", "mrs", "mrs.",
                                        "ms", "ms.", "eng", "eng.")}


def take_honorifics(full: str) -> tuple[str, str]:
    """«آقای دکتر علی رضایی» → («آقای دکتر», «علی رضایی»): the leading honorifics are the title, not the first
    name. A name that is only honorifics is left alone."""
    parts = full.split()
    n = 0
    while n < len(parts) - 1 and compact_key(parts[n]) in _HONORIFICS:
        n += 1
    return " ".join(parts[:n]), " ".join(parts[n:])


def split_full_name(full: str) -> tuple[str, str]:
    """«نام و نام خانوادگی» in one column → (first, last). The last word is the last name («محمد رضا احمدی» →
    «محمد رضا»، «احمدی»), with a detached tail or head kept on it («علی حسین زاده»، «حسن آل احمد»); one word
    is a last name."""
    parts = full.split()
    if len(parts) <= 1:
        return "", full.strip()
    cut = len(parts) - 1
    if len(parts) >= 3 and parts[-1] in _SURNAME_TAILS:
        cut -= 1
    if cut >= 2 and parts[cut - 1] in _SURNAME_HEADS:
        cut -= 1
    return " ".join(parts[:cut]), " ".join(parts[cut:])


def _date_cell(v: Any) -> Any:
    """A date as the sheet gave it → date, or text for validate() (Jalali) to judge."""
    if _blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        n = int(v)
        if 13000000 <= n <= 14999999:            # 13650512: Jalali without separators
            s = str(n)
            return f"{s[:4]}/{s[4:6]}/{s[6:]}"
        if 1 <= n <= 80000:                       # an Excel serial date that lost its format
            return dt.date(1899, 12, 30) + dt.timedelta(days=n)
        return str(v)
    s = to_ascii_digits(str(v)).strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?", s)
    if m and 1900 <= int(m.group(1)) <= 2100:     # a Gregorian date typed as text
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return s
    if re.fullmatch(r"1[34]\d{6}", s):
        return f"{s[:4]}/{s[4:6]}/{s[6:]}"
    if m:
        return s[:10]
    return s


def _code_cell(v: Any, width: int = 0) -> str:
    """National IDs, postal codes: an Excel number loses leading zeros (0012345678 → 12345678)."""
    if _blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        s = str(int(v))
    else:
        s = re.sub(r"[\s\-]", "", to_ascii_digits(str(v)).strip())
        if re.fullmatch(r"\d+\.0", s):
            s = s[:-2]
    if width and s.isdigit() and width - 3 < len(s) < width:
        s = s.zfill(width)
    return s


_OTHER_ADDR = re.compile(r"(?:نوع:\s*(?P<label>[^؛]*))?؛?\s*"
                         r"(?:استان:\s*(?P<province>[^؛]*))?؛?\s*(?:شهر:\s*(?P<city>[^؛]*))?؛?\s*"
                         r"(?:نشانی:\s*(?P<line>[^؛]*))?؛?\s*(?:کد پستی:\s*(?P<postal>[\d\s]*))?\s*$")


def address_label_of(text: str) -> str:
    """«انبار» / «warehouse» → the Address label key; anything else is «محل کار»."""
    key = compact_key(text)
    for k, v in cs.ADDRESS_LABELS.items():
        if key in (compact_key(v), k):
            return k
    return "work"


def parse_other_addresses(text: str) -> list[dict]:
    out = []
    for part in re.split(r"\s*\|\s*", text or ""):
        part = part.strip()
        if not part:
            continue
        m = _OTHER_ADDR.fullmatch(part) if "نشانی:" in part or "شهر:" in part else None
        if m:
            out.append({"label": address_label_of(m.group("label") or ""),
                        "province": (m.group("province") or "").strip(),
                        "city": (m.group("city") or "").strip(), "line": (m.group("line") or "").strip(),
                        "postal_code": (m.group("postal") or "").strip()})
        else:
            out.append({"label": "work", "province": "", "city": "", "line": part, "postal_code": ""})
    return out


@dataclass
class Problem:
    row: int                  # spreadsheet row number
    severity: str             # "error" | "duplicate" | "warning"
    message: str              # Persian
    column: str = ""          # the column's header, when one column is at fault

    def text(self) -> str:
        where = f"ستون «{self.column}»: " if self.column else ""
        return f"ردیف {to_persian_digits(self.row)}: {where}{self.message}"


@dataclass
class RowResult:
    row: int
    data: dict | None                       # validated data (None when the row has errors)
    problems: list[Problem] = field(default_factory=list)
    dup_customer: int | None = None
    dup_customer_name: str = ""
    dup_row: int | None = None
    keys: tuple = ()                        # phone canonicals and national id used for duplicate checks

    @property
    def has_error(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    @property
    def is_duplicate(self) -> bool:
        return self.dup_customer is not None or self.dup_row is not None

    @property
    def status(self) -> str:
        if self.has_error:
            return "error"
        if self.data is None:
            return "skipped"              # a totals row or a row with nothing to import: listed, not imported
        if self.is_duplicate:
            return "duplicate"
        return "ok"


@dataclass
class Report:
    table: Table
    rows: list[RowResult]

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.has_error]

    @property
    def duplicates(self) -> list[RowResult]:
        return [r for r in self.rows if not r.has_error and r.is_duplicate]

    @property
    def ready(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "ok"]

    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.problems]

    def summary(self) -> str:
        n = len(self.rows)
        parts = [f"{to_persian_digits(n)} ردیف خوانده شد",
                 f"{to_persian_digits(len(self.ready))} ردیف آماده",
                 f"{to_persian_digits(len(self.errors))} ردیف با خطا",
                 f"{to_persian_digits(len(self.duplicates))} ردیف تکراری"]
        skipped = sum(1 for r in self.rows if r.status == "skipped")
        if skipped:
            parts.append(f"{to_persian_digits(skipped)} ردیف بی‌داده یا جمع که وارد نمی‌شود")
        warnings = sum(1 for p in self.problems() if p.severity == "warning")
        if warnings:
            parts.append(f"{to_persian_digits(warnings)} هشدار")
        return "، ".join(parts) + "."


_FIELD_NAMES = {"first_name": "نام", "last_name": "نام", "company": "شرکت", "national_id": "کد ملی",
                "economic_code": "کد اقتصادی", "postal_code": "کد پستی", "email": "ایمیل",
                "birthday": "تاریخ تولد", "anniversary": "سالگرد", "kind": "نوع", "stage": "مرحله"}


class _Mapper:
    """Turns a sheet row into the dict app.customers.validate() takes, noting problems as it goes."""

    def __init__(self, table: Table):
        self.table = table
        self.cols: dict[str, list[int]] = {}
        for i, f in enumerate(table.mapping):
            if f and f in FIELDS:
                self.cols.setdefault(f, []).append(i)
        self.mapped = [(i, f) for i, f in enumerate(table.mapping) if f and f in FIELDS]
        self._cur: dict[str, list[tuple[int, Any]]] = {}
        self.headers = table.headers
        self.users: dict[str, int] = {}
        for uid, name, username in User.select(User.id, User.name, User.username).tuples():
            self.users.setdefault(compact_key(name), uid)
            self.users.setdefault(compact_key(username), uid)

    def header(self, f: str) -> str:
        cols = self.cols.get(f) or []
        return self.headers[cols[0]] if cols and cols[0] < len(self.headers) else FIELDS.get(f, f)

    def gather(self, row: list[Any]) -> None:
        """Index this row's non-blank mapped cells by field (done once per row)."""
        cur: dict[str, list[tuple[int, Any]]] = {}
        n = len(row)
        for i, f in self.mapped:
            if i < n:
                v = row[i]
                if v is None or v == "" or (type(v) is str and not v.strip()):
                    continue
                if type(v) is str and v.lstrip().startswith(("'", "‘", "’")):
                    v = v.lstrip()[1:]
                    if not v.strip():
                        continue
                cur.setdefault(f, []).append((i, v))
        self._cur = cur

    def values(self, row: list[Any], f: str) -> list[tuple[int, Any]]:
        return self._cur.get(f, [])

    def first(self, row: list[Any], f: str) -> Any:
        v = self._cur.get(f)
        return v[0][1] if v else None

    def text(self, row: list[Any], f: str) -> str:
        return _cell_text(self.first(row, f))

    def build(self, row_no: int, row: list[Any]) -> tuple[dict, list[Problem]]:
        self.gather(row)
        problems: list[Problem] = []
        d: dict[str, Any] = {}
        for f in ("first_name", "last_name", "company", "title", "job", "customer_type", "rank", "activity_field",
                  "source", "email", "website", "economic_code", "registration_no"):
            d[f] = self.text(row, f)
        d["description"] = "\n".join(_cell_text(v) for _i, v in self.values(row, "description"))
        full = self.text(row, "full_name")
        if full and not (d["first_name"] or d["last_name"]):
            title, full = take_honorifics(full)
            if title and not d["title"]:
                d["title"] = title
            d["first_name"], d["last_name"] = split_full_name(full)
        d["national_id"] = _code_cell(self.first(row, "national_id"), 10)
        d["postal_code"] = _code_cell(self.first(row, "postal_code"), 10)

        kind_text = self.text(row, "kind")
        if kind_text:
            kind = _KIND_WORDS.get(compact_key(kind_text))
            if kind is None:
                problems.append(Problem(row_no, "warning", f"نوع «{kind_text}» شناخته نشد؛ از روی نام حدس زده شد.",
                                        self.header("kind")))
        else:
            kind = None
        if kind is None:
            kind = "organisation" if d["company"] and not (d["first_name"] or d["last_name"]) else "person"
        if kind == "organisation" and isinstance(self.first(row, "national_id"), float):
            d["national_id"] = _code_cell(self.first(row, "national_id"), 11)
        d["kind"] = kind
        stage_text = self.text(row, "stage")
        d["stage"] = _STAGE_WORDS.get(compact_key(stage_text).replace("(", "").replace(")", ""), "actual") \
            if stage_text else "actual"
        if stage_text and compact_key(stage_text) not in _STAGE_WORDS:
            problems.append(Problem(row_no, "warning", f"مرحله «{stage_text}» شناخته نشد؛ «مشتری» گذاشته شد.",
                                    self.header("stage")))
        status_text = self.text(row, "status")
        d["status"] = _STATUS_WORDS.get(compact_key(status_text), status_text) if status_text else ""
        for f in ("birthday", "anniversary"):
            d[f] = _date_cell(self.first(row, f))
        assigned = self.text(row, "assigned")
        if assigned:
            uid = self.users.get(compact_key(assigned))
            if uid is None:
                problems.append(Problem(row_no, "warning", f"کاربری به نام «{assigned}» نیست؛ مسئول خالی ماند.",
                                        self.header("assigned")))
            d["assigned_to"] = uid
        phones = []
        self._phone_cols: list[tuple[str, str]] = []
        for f, label in PHONE_FIELDS.items():
            for i, v in self.values(row, f):
                if isinstance(v, dt.date | dt.time | dt.timedelta | bool):
                    problems.append(Problem(row_no, "error", "این خانه تاریخ یا مقدار دیگری است، نه شماره تلفن.",
                                            self.headers[i] if i < len(self.headers) else ""))
                    continue
                for num in split_phones(v):
                    if _SCIENTIFIC.fullmatch(num):
                        problems.append(Problem(
                            row_no, "error", f"شماره «{num}» در اکسل به شکل علمی ذخیره شده و رقم‌هایش گرد شده است؛ "
                            "شماره کامل را در فایل بنویسید.", self.headers[i] if i < len(self.headers) else ""))
                        continue
                    phones.append({"label": label, "raw": num})
                    self._phone_cols.append((self.headers[i] if i < len(self.headers) else "", num))
        primary = self.first(row, "phone_primary")
        if primary is not None and not isinstance(primary, dt.date | dt.time | dt.timedelta | bool):
            self._put_primary(split_phones(primary), phones)
        d["phones"] = phones
        addresses = []
        province, city = self.text(row, "province"), self.text(row, "city")
        line = "، ".join(_cell_text(v) for _i, v in self.values(row, "address"))
        postal = _code_cell(self.first(row, "address_postal_code"), 10)
        if province or city or line or postal:
            addresses.append({"label": address_label_of(self.text(row, "address_label")), "province": province,
                              "city": city, "line": line, "postal_code": postal})
        for _i, v in self.values(row, "other_addresses"):
            addresses.extend(parse_other_addresses(_cell_text(v)))
        d["addresses"] = addresses
        tags: list[str] = []
        for _i, v in self.values(row, "tags"):
            tags.extend(t.strip() for t in re.split(r"[،,;؛|]+", _cell_text(v)) if t.strip())
        d["tags"] = tags
        return d, problems

    def _put_primary(self, nums: list[str], phones: list[dict]) -> None:
        """The «تلفن اصلی» number goes first (validate() makes the first number the primary one); when it is
        also in a label column, that entry (with its label) moves to the front instead of a second copy."""
        if not nums:
            return
        header = self.header("phone_primary")
        for i, p in enumerate(phones):        # the same text (our own export): no parsing needed
            if p["raw"] == nums[0]:
                phones.insert(0, phones.pop(i))
                self._phone_cols.insert(0, self._phone_cols.pop(i))
                return
        area = settings.area_code()
        want = ph.normalize(nums[0], area).canonical
        for i, p in enumerate(phones):
            if ph.normalize(p["raw"], area).canonical == want:
                phones.insert(0, phones.pop(i))
                self._phone_cols.insert(0, self._phone_cols.pop(i))
                return
        phones.insert(0, {"label": None, "raw": nums[0]})
        self._phone_cols.insert(0, (header, nums[0]))

    def problems_of(self, row_no: int, errors: dict[str, str], d: dict) -> list[Problem]:
        out = []
        for key, msg in errors.items():
            if key.startswith("phones."):
                idx = int(key.split(".")[1])
                column, num = self._phone_cols[idx] if idx < len(self._phone_cols) else ("", "")
                out.append(Problem(row_no, "error", f"شماره «{num}»: {msg}", column))
            elif key.startswith("addresses."):
                out.append(Problem(row_no, "error", f"نشانی: {msg}", self.header("address_postal_code")))
            elif key == "last_name" and not (d.get("first_name") or d.get("last_name")):
                out.append(Problem(row_no, "error", "نام ندارد (نام، نام خانوادگی یا نام شرکت لازم است)."))
            elif key == "company" and d.get("kind") == "organisation":
                out.append(Problem(row_no, "error", "نام شرکت ندارد.", self.header("company")))
            else:
                field_name = {"assigned_to": "assigned"}.get(key, key)
                out.append(Problem(row_no, "error", msg, self.header(field_name) if field_name in self.cols
                                   else _FIELD_NAMES.get(key, "")))
        return out


# --- the dry run ---------------------------------------------------------------------------------------------

def _existing_keys() -> tuple[dict[str, int], dict[str, int]]:
    phones: dict[str, int] = {}
    q = (PhoneNumber.select(PhoneNumber.canonical, PhoneNumber.customer).join(Customer)
         .where(Customer.merged_into.is_null()).order_by(PhoneNumber.customer))
    for canonical, cid in db.execute(q).fetchall():
        phones.setdefault(canonical, cid)
    nids: dict[str, int] = {}
    q = Customer.select(Customer.national_id, Customer.id).where(Customer.national_id != "",
                                                                 Customer.merged_into.is_null())
    for nid, cid in db.execute(q).fetchall():
        nids.setdefault(nid, cid)
    return phones, nids


def _personal(canonical: str) -> bool:
    """A mobile belongs to one person; an office line (and its fax) is shared by everyone who works there."""
    return canonical.startswith("09")


def _person_of(d: dict) -> tuple:
    return compact_key(d.get("first_name")), compact_key(d.get("last_name")), compact_key(d.get("company"))


def _same_person(a: tuple, b: tuple) -> bool:
    """Could two rows sharing an office number be one customer? Not when they name two different people."""
    (fa, la, ca), (fb, lb, cb) = a, b
    if (fa or la) and (fb or lb):
        return la == lb and (fa == fb or not fa or not fb)
    if not (fa or la) and not (fb or lb):
        return ca == cb or not ca or not cb
    return False


def _shared_office_lines(shared: list[tuple[RowResult, str, int, tuple]]) -> None:
    """Rows whose office number is an existing customer's: the same customer only when the names agree."""
    shared = [s for s in shared if s[0].dup_customer is None]
    if not shared:
        return
    ids = sorted({cid for _r, _c, cid, _n in shared})
    people: dict[int, tuple] = {}
    for lo in range(0, len(ids), 500):
        for c in (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company)
                  .where(Customer.id.in_(ids[lo:lo + 500])).dicts()):
            people[c["id"]] = _person_of(c)
    warned: set[int] = set()
    for rr, canonical, cid, names in shared:
        if rr.dup_customer is not None:
            continue
        if _same_person(names, people.get(cid, ("", "", ""))):
            rr.dup_customer = cid
            rr.problems = [p for p in rr.problems if not (p.severity == "warning" and "پرونده مشتری دیگری" in
                                                         p.message)]
            rr.problems.append(Problem(rr.row, "duplicate", f"شماره {canonical} در پرونده مشتری دیگری هست."))
        elif id(rr) not in warned:
            warned.add(id(rr))
            rr.problems.append(Problem(rr.row, "warning", f"شماره ثابت {canonical} در پرونده مشتری دیگری هم هست "
                                                          "ولی نام دیگری دارد؛ مشتری جداگانه ثبت می‌شود."))


def _name_only_duplicates(results: list[RowResult]) -> None:
    """A row with no phone and no national ID whose name (and company, email) is already a customer's is that
    customer: without this, importing the same sheet twice doubled every name-only row."""
    lonely = [r for r in results if r.data and not r.keys[0] and not r.keys[1] and r.dup_customer is None]
    if not lonely:
        return
    last_names = sorted({r.data.get("last_name") or "" for r in lonely})
    found: dict[tuple, int] = {}
    for lo in range(0, len(last_names), 500):
        q = (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.email)
             .where(Customer.merged_into.is_null(), Customer.last_name.in_(last_names[lo:lo + 500]))
             .order_by(Customer.id))
        for c in q.dicts():
            found.setdefault(_fingerprint(c), c["id"])
    for r in lonely:
        cid = found.get(_fingerprint(r.data))
        if cid is not None:
            r.dup_customer = cid
            r.problems.append(Problem(
                r.row, "duplicate", "نام این ردیف با پرونده مشتری دیگری یکی است (شماره تلفن و کد ملی ندارد که "
                                    "با آن سنجیده شود)."))


def _names_of(ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    ids_l = sorted(ids)
    for lo in range(0, len(ids_l), 500):
        for r in (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company,
                                  Customer.kind).where(Customer.id.in_(ids_l[lo:lo + 500])).dicts()):
            out[r["id"]] = cs.display_name_of(r)
    return out


def _fingerprint(d: dict) -> tuple:
    return (compact_key(d.get("first_name")), compact_key(d.get("last_name")), compact_key(d.get("company")),
            (d.get("email") or "").lower())


_ROW_NUMBER_HEADERS = {compact_key(w) for w in ("ردیف", "شماره ردیف", "#", "row", "")}


def _has_unmapped_data(table: Table, row: list[Any]) -> bool:
    for i, v in enumerate(row):
        if _blank(v):
            continue
        header = table.headers[i] if i < len(table.headers) else ""
        if (compact_key(header) in _ROW_NUMBER_HEADERS
                and re.fullmatch(r"\d+(\.0)?", to_ascii_digits(str(v)).strip())):
            continue          # only the row's number
        return True
    return False


def _is_totals_row(d: dict, row: list[Any]) -> bool:
    """«جمع کل» where a name goes, or in a nameless row's «ردیف» cell: the sheet's totals row, not a customer."""
    if not any(d.get(f) for f in ("first_name", "last_name", "company")):
        return any(type(v) is str and compact_key(v).rstrip(":") in _TOTAL_WORDS for v in row)
    name = compact_key(" ".join(str(d.get(f) or "") for f in ("first_name", "last_name", "company")))
    name = name.rstrip(":")
    return bool(name) and (name in _TOTAL_WORDS or any(name.startswith(w) and not name[len(w):].isalpha()
                                                         for w in _TOTAL_WORDS))


def analyse(table: Table, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Report:
    """The dry run: every row cleaned and checked; nothing is written."""
    mapped = {f for f in table.mapping if f}
    if not mapped & {"full_name", "first_name", "last_name", "company"}:
        raise UserError("هیچ ستونی برای نام یا شرکت انتخاب نشده است؛ دست‌کم یکی لازم است.")
    mapper = _Mapper(table)
    existing_phones, existing_nids = _existing_keys()
    seen_phone: dict[str, int] = {}
    who: dict[int, tuple] = {}               # row → its names, for numbers several people share
    seen_office: dict[str, list[int]] = {}   # office number → every row that has it
    shared_existing: list[tuple[RowResult, str, int, tuple]] = []
    seen_nid: dict[str, int] = {}
    seen_print: dict[tuple, int] = {}
    results: list[RowResult] = []
    rows = table.data_rows()
    total = len(rows)
    settings.area_code()  # warm the settings cache before the loop
    for n, (row_no, row) in enumerate(rows, 1):
        if n % BATCH == 0:
            if cancel and cancel():
                raise UserError("بررسی فایل لغو شد.")
            if progress:
                progress(n, total)
        d, problems = mapper.build(row_no, row)
        if all(not v for k, v in d.items() if k not in ("kind", "stage")) and not d["phones"] and not problems:
            # Nothing in the imported columns. A row with only its «ردیف» number is padding; anything else
            # (a column left as «وارد نشود», a note far to the side) is listed so no row disappears unseen.
            if _has_unmapped_data(table, row):
                results.append(RowResult(row_no, None, [Problem(
                    row_no, "warning", "در ستون‌هایی که وارد می‌شوند چیزی ندارد؛ این ردیف وارد نشد.")]))
            continue
        if _is_totals_row(d, row):
            results.append(RowResult(row_no, None, [Problem(
                row_no, "warning", "ردیف جمع (جمع کل) است، نه مشتری؛ وارد نشد.")]))
            continue
        rr = RowResult(row_no, None, problems)
        # The mapper resolved the user from the users table already; validate() would look it up once per row.
        assigned = d.pop("assigned_to", None)
        try:
            clean_d = cs.validate(d)
            clean_d["assigned_to"] = assigned
        except ValidationError as e:
            rr.problems.extend(mapper.problems_of(row_no, e.errors, d))
            clean_d = None
        rr.data = clean_d
        src = clean_d or d
        canon = [p["canonical"] for p in clean_d["phones"]] if clean_d else []
        nid = clean_d["national_id"] if clean_d else ""
        rr.keys = (tuple(canon), nid)
        # duplicates of existing customers
        names = _person_of(src)
        who[row_no] = names
        for c in canon:
            if c in existing_phones:
                if not _personal(c):          # an office line: decided below, once the other name is known
                    shared_existing.append((rr, c, existing_phones[c], names))
                    continue
                rr.dup_customer = existing_phones[c]
                rr.problems.append(Problem(row_no, "duplicate", f"شماره {c} در پرونده مشتری دیگری هست."))
                break
        if rr.dup_customer is None and nid and nid in existing_nids:
            rr.dup_customer = existing_nids[nid]
            rr.problems.append(Problem(row_no, "duplicate", f"کد/شناسه ملی {nid} در پرونده مشتری دیگری هست."))
        # duplicates of an earlier row in this file
        earlier = None
        for c in canon:
            if c in seen_phone:
                if _personal(c):
                    earlier = seen_phone[c]
                    break
                earlier = next((r0 for r0 in seen_office[c] if _same_person(names, who[r0])), None)
                if earlier is not None:
                    break
                rr.problems.append(Problem(row_no, "warning", f"شماره ثابت {c} در ردیف {to_persian_digits(seen_phone[c])} "
                                           "هم هست ولی نام دیگری دارد؛ مشتری جداگانه ثبت می‌شود."))
        reason = "شماره مشترک"
        if earlier is None and nid and nid in seen_nid:
            earlier, reason = seen_nid[nid], "کد ملی یکسان"
        # rows with no phone and no national ID: the same name (and company, email) is the same customer
        fp = _fingerprint(src) if not canon and not nid else ()
        if earlier is None and any(fp) and fp in seen_print:
            earlier, reason = seen_print[fp], "همان نام"
        if earlier is not None:
            rr.dup_row = earlier
            rr.problems.append(Problem(row_no, "duplicate",
                                       f"تکرار ردیف {to_persian_digits(earlier)} همین فایل ({reason})."))
        for c in canon:
            seen_phone.setdefault(c, row_no)
            if not _personal(c):
                seen_office.setdefault(c, []).append(row_no)
        if nid:
            seen_nid.setdefault(nid, row_no)
        if any(fp):
            seen_print.setdefault(fp, row_no)
        results.append(rr)
    _shared_office_lines(shared_existing)
    _name_only_duplicates(results)
    dup_ids = {r.dup_customer for r in results if r.dup_customer}
    if dup_ids:
        names = _names_of(dup_ids)
        for r in results:
            if r.dup_customer:
                r.dup_customer_name = names.get(r.dup_customer, "")
                for p in r.problems:
                    if p.severity == "duplicate" and "مشتری دیگری" in p.message and r.dup_customer_name:
                        p.message = p.message.replace("مشتری دیگری", f"«{r.dup_customer_name}»")
    if progress:
        progress(total, total)
    if not results:
        raise UserError(f"در برگه «{table.sheet}» ردیفی با داده نیست.")
    return Report(table, results)


# --- the real import -----------------------------------------------------------------------------------------

DUPLICATE_CHOICES = {"skip": "وارد نشود", "merge": "با پرونده موجود ادغام شود", "add": "به‌عنوان مشتری جدید"}


@dataclass
class ImportResult:
    created: int = 0
    merged: int = 0
    skipped_duplicates: int = 0
    skipped_invalid: int = 0
    customer_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        p = to_persian_digits
        parts = [f"{p(self.created)} مشتری تازه"]
        if self.merged:
            parts.append(f"{p(self.merged)} ردیف ادغام با پرونده موجود")
        if self.skipped_duplicates:
            parts.append(f"{p(self.skipped_duplicates)} ردیف تکراری وارد نشد")
        if self.skipped_invalid:
            parts.append(f"{p(self.skipped_invalid)} ردیف خطادار وارد نشد")
        return "، ".join(parts) + "."


class ImportCancelled(UserError):
    def __init__(self):
        super().__init__("ورود اطلاعات لغو شد؛ چیزی ذخیره نشد.")


def _merge_data(into: dict, extra: dict) -> None:
    """Fold a duplicate row's validated data into an earlier row's (empty fields filled, lists united)."""
    for f in cs.TEXT_FIELDS + ("birthday", "anniversary", "assigned_to"):
        if not into.get(f) and extra.get(f):
            into[f] = extra[f]
    have = {p["canonical"] for p in into["phones"]}
    for p in extra["phones"]:
        if p["canonical"] not in have:
            into["phones"].append(dict(p, is_primary=False))
            have.add(p["canonical"])
    for t in extra["tags"]:
        if t not in into["tags"]:
            into["tags"].append(t)
    lines = {(a["city"], a["line"]) for a in into["addresses"]}
    for a in extra["addresses"]:
        if (a["city"], a["line"]) not in lines:
            into["addresses"].append(a)


def _merge_into_existing(cid: int, d: dict, row_no: int, source: str, user: int | None) -> None:
    from app.customers import timeline

    c = Customer.get_by_id(cid)
    changed = []
    for f in cs.TEXT_FIELDS + ("birthday", "anniversary"):
        if f == "status":
            continue
        if not getattr(c, f) and d.get(f):
            setattr(c, f, d[f])
            changed.append(f)
    if not c.assigned_to_id and d.get("assigned_to"):
        c.assigned_to = d["assigned_to"]
        changed.append("assigned_to")
    if d["stage"] == "actual" and c.stage != "actual":
        c.stage = "actual"
    c.updated_at = now()
    c.save()
    have = {p.canonical for p in c.phones}
    has_primary = any(p.is_primary for p in c.phones)
    for p in d["phones"]:
        if p["canonical"] not in have:
            PhoneNumber.create(customer=cid, label=p["label"], raw=p["raw"], canonical=p["canonical"],
                               tail=p["tail"], extension=p.get("extension", ""), is_primary=not has_primary)
            has_primary = True
            have.add(p["canonical"])
            changed.append("phone")
    lines = {(a.city, a.line) for a in c.addresses}
    for a in d["addresses"]:
        if (a["city"], a["line"]) not in lines:
            Address.create(customer=cid, **a)
            changed.append("address")
    have_tags = {t.tag.name for t in c.tag_links.join(Tag)}
    for name in d["tags"]:
        if name not in have_tags:
            CustomerTag.create(customer=cid, tag=cs.get_or_create_tag(name).id)
            changed.append("tag")
    cs.refresh_keys(c)
    timeline.record(cid, "imported", f"اطلاعات ردیف {to_persian_digits(row_no)} فایل «{source}» به این پرونده "
                                     "افزوده شد.", "customer", cid, data={"fields": sorted(set(changed))},
                    user=user)


def import_rows(report: Report, duplicates: str = "skip", skip_invalid: bool = False, user: int | None = None,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> ImportResult:
    """Write the report's rows in one transaction: all of them or none."""
    if duplicates not in DUPLICATE_CHOICES:
        raise UserError("برای ردیف‌های تکراری یکی از «وارد نشود»، «ادغام» یا «مشتری جدید» را انتخاب کنید.")
    errors = report.errors
    if errors and not skip_invalid:
        first = errors[0].problems[0].text() if errors[0].problems else ""
        raise UserError(f"{to_persian_digits(len(errors))} ردیف خطا دارد؛ هیچ ردیفی وارد نشد. "
                        f"خطاها را در فایل درست کنید یا «ردیف‌های خطادار وارد نشوند» را انتخاب کنید. ({first})")
    result = ImportResult(skipped_invalid=len(errors))
    source = report.table.path.name
    stamp = now()
    with db.atomic():
        # Re-check against the database as it is now (someone may have added customers since the dry run).
        existing_phones, existing_nids = _existing_keys()
        pending: dict[int, dict] = {}          # row number → data to create
        merge_existing: list[tuple[int, dict, int]] = []
        target_of_row: dict[int, tuple[str, int]] = {}   # row → ("new", row) | ("existing", customer id)
        invalid_rows = {r.row for r in errors}
        for r in report.rows:
            if r.has_error or r.data is None:
                continue
            d = {**r.data, "phones": [dict(p) for p in r.data["phones"]], "tags": list(r.data["tags"]),
                 "addresses": [dict(a) for a in r.data["addresses"]]}
            canon, nid = r.keys
            existing = next((existing_phones[c] for c in canon if c in existing_phones
                             and (_personal(c) or existing_phones[c] == r.dup_customer)), None)
            if existing is None and nid:
                existing = existing_nids.get(nid)
            if existing is None and not canon and not nid and r.dup_customer is not None \
                    and Customer.select().where(Customer.id == r.dup_customer,
                                                Customer.merged_into.is_null()).exists():
                existing = r.dup_customer          # a name-only row matching a customer by name
            if existing is not None and duplicates != "add":
                if duplicates == "skip":
                    result.skipped_duplicates += 1
                else:
                    merge_existing.append((existing, d, r.row))
                    target_of_row[r.row] = ("existing", existing)
                continue
            if r.dup_row is not None and duplicates != "add" and r.dup_row in target_of_row:
                if duplicates == "skip":
                    result.skipped_duplicates += 1
                    continue
                kind, target = target_of_row[r.dup_row]
                if kind == "new":
                    _merge_data(pending[target], d)
                    result.merged += 1
                else:
                    merge_existing.append((target, d, r.row))
                target_of_row[r.row] = (kind, target)
                continue
            if r.dup_row is not None and duplicates == "skip" and r.dup_row not in invalid_rows:
                result.skipped_duplicates += 1
                continue            # (the twin of a row left out for its errors is not a duplicate of anything)
            pending[r.row] = d
            target_of_row[r.row] = ("new", r.row)
        result.merged += len(merge_existing)
        _bulk_create(pending, source, stamp, user, result, progress, cancel)
        for n, (cid, d, row_no) in enumerate(merge_existing, 1):
            if cancel and n % 50 == 0 and cancel():
                raise ImportCancelled()
            _merge_into_existing(cid, d, row_no, source, user)
    logger.info("import from %s: %s", source, result)
    return result


class _RawInsert:
    """INSERT through the driver's cursor with plain parameters: peewee's insert_many builds a node per value,
    which costs more than the import's whole checking for 50,000 rows. Values go through each field's
    db_value(), so what is stored is what peewee would store."""

    def __init__(self, model, columns: list[str]):
        self.fields = [model._meta.fields[c] for c in columns]
        q0, q1 = db.quote if hasattr(db, "quote") else ('"', '"')
        names = ", ".join(f"{q0}{f.column_name}{q1}" for f in self.fields)
        params = ", ".join([db.param] * len(self.fields))
        self.table = model._meta.table_name
        self.sql = f"INSERT INTO {q0}{self.table}{q1} ({names}) VALUES ({params})"
        # PostgreSQL: one multi-row statement per page (psycopg2's executemany sends a statement per row)
        self.pg_sql = f"INSERT INTO {q0}{self.table}{q1} ({names}) VALUES %s"
        self.pg_sql_with_id = f"INSERT INTO {q0}{self.table}{q1} (id, {names}) VALUES %s"
        self.convert = [(i, f.db_value) for i, f in enumerate(self.fields)
                        if isinstance(f, pw.DateField | pw.DateTimeField | pw.BooleanField)]

    def _params(self, row: tuple) -> tuple:
        if not self.convert:
            return row
        out = list(row)
        for i, fn in self.convert:
            if out[i] is not None:
                out[i] = fn(out[i])
        return out

    def many(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if is_postgres():
            from psycopg2.extras import execute_values

            execute_values(db.cursor(), self.pg_sql, [self._params(r) for r in rows], page_size=1000)
        else:
            db.cursor().executemany(self.sql, [self._params(r) for r in rows])

    def many_with_new_ids(self, rows: list[tuple]) -> list[int]:
        """Insert rows that need their new ids back, in order. PostgreSQL: the ids are drawn from the table's
        sequence first and inserted explicitly (safe beside other desks inserting at the same time); SQLite:
        row by row (the write lock is ours for the whole transaction anyway)."""
        if not rows:
            return []
        if is_postgres():
            from psycopg2.extras import execute_values

            cur = db.execute_sql("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                 (self.table, len(rows)))
            ids = [r[0] for r in cur.fetchall()]
            execute_values(db.cursor(), self.pg_sql_with_id,
                           [(i, *self._params(r)) for i, r in zip(ids, rows, strict=True)], page_size=1000)
            return ids
        return [self.one_returning_id(r) for r in rows]

    def one_returning_id(self, row: tuple) -> int:
        cur = db.cursor()
        if is_postgres():
            cur.execute(self.sql + " RETURNING id", self._params(row))
            return cur.fetchone()[0]
        cur.execute(self.sql, self._params(row))
        return cur.lastrowid


_CUSTOMER_COLS = list(cs.TEXT_FIELDS) + ["kind", "stage", "birthday", "anniversary", "assigned_to", "sort_key",
                                          "search_text", "created_by", "created_at", "updated_at"]


def _bulk_create(pending: dict[int, dict], source: str, stamp: dt.datetime, user: int | None,
                 result: ImportResult, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    tag_ids: dict[str, int] = {}
    for d in pending.values():
        for t in d["tags"]:
            if t not in tag_ids:
                tag_ids[t] = cs.get_or_create_tag(t).id
    ins_customer = _RawInsert(Customer, _CUSTOMER_COLS)
    ins_phone = _RawInsert(PhoneNumber, ["customer", "label", "raw", "canonical", "tail", "extension", "is_primary"])
    ins_address = _RawInsert(Address, ["customer", "label", "province", "city", "line", "postal_code"])
    ins_tag = _RawInsert(CustomerTag, ["customer", "tag"])
    ins_act = _RawInsert(Activity, ["customer", "at", "kind", "user", "summary", "ref_table", "ref_id", "data"])
    text_fields = cs.TEXT_FIELDS
    items = list(pending.items())
    total = len(items)
    for lo in range(0, total, BATCH):
        if cancel and cancel():
            raise ImportCancelled()
        page = items[lo:lo + BATCH]
        rows = []
        for _row_no, d in page:
            sk, st = cs.derived_keys(d)
            rows.append(tuple(d[f] for f in text_fields) + (d["kind"], d["stage"], d["birthday"], d["anniversary"],
                                                            d["assigned_to"], sk, st, user, stamp, stamp))
        ids = ins_customer.many_with_new_ids(rows)
        phones, addresses, links, acts = [], [], [], []
        for cid, (row_no, d) in zip(ids, page, strict=True):
            for i, p in enumerate(d["phones"]):
                phones.append((cid, p["label"], p["raw"], p["canonical"], p["tail"], p.get("extension", ""), i == 0))
            for a in d["addresses"]:
                addresses.append((cid, a["label"], a["province"], a["city"], a["line"], a["postal_code"]))
            for t in d["tags"]:
                links.append((cid, tag_ids[t]))
            acts.append((cid, stamp, "imported", user,
                         f"پرونده «{cs.display_name_of(d)}» از ردیف {to_persian_digits(row_no)} فایل «{source}» "
                         "وارد شد.", "customer", cid, ""))
            result.customer_ids.append(cid)
        ins_phone.many(phones)
        ins_address.many(addresses)
        ins_tag.many(links)
        ins_act.many(acts)
        result.created = len(result.customer_ids)
        if progress:
            progress(min(lo + BATCH, total), total)


def import_file(path: str | Path, sheet: str | None = None, duplicates: str = "skip", skip_invalid: bool = False,
                user: int | None = None) -> tuple[Report, ImportResult]:
    """Read, check and import in one call (the CLI's path)."""
    report = analyse(load_table(path, sheet))
    return report, import_rows(report, duplicates, skip_invalid, user)

