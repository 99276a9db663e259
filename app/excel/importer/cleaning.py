"""Cleaning one sheet row into the data app.customers.validate() takes: phones in any format, names, dates,
codes that lost their zeros, addresses, tags; each problem noted with its row and column."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from app import settings
from app.core import phones as ph
from app.core.text import compact_key, to_ascii_digits, to_persian_digits
from app.customers import service as cs
from app.excel.importer.fields import FIELDS, PHONE_FIELDS
from app.excel.importer.reading import Table, _blank, _cell_text
from models.core import User

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
    if text.isascii() and text.isdigit():
        return [text]                     # one number, digits only (most cells): nothing to split or strip
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


@dataclass(slots=True)
class Problem:
    row: int                  # spreadsheet row number
    severity: str             # "error" | "duplicate" | "warning"
    message: str              # Persian
    column: str = ""          # the column's header, when one column is at fault

    def text(self) -> str:
        where = f"ستون «{self.column}»: " if self.column else ""
        return f"ردیف {to_persian_digits(self.row)}: {where}{self.message}"


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


