"""The quick path for ordinary rows: cleaning (cleaning._Mapper.build) and checking (app.customers.validate())
fused into one pass, with each column's values cleaned once per distinct value.

An office sheet repeats itself: a few thousand names, cities, job titles, sources and dates make up most of its
cells. Here each cell is looked up in its column's memo of finished values (text cleaned and length-checked,
codes checked, dates parsed) and only a row's phones and its dict are built for the row itself.

A row gets here only the answer the full path would give. Anything that is not plain (a warning, an error, a
field fed by two columns) makes ``row()`` return None, and that row takes the full path (``_Mapper.build`` and
``validate()``), which says what is wrong with it; tests/excel check that both paths agree.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from app import settings
from app.core import phones as ph
from app.core.clock import now
from app.core.identity import check_economic_code, check_national_id, check_postal_code
from app.core.identity import digits as id_digits
from app.core.jalali import JalaliError, parse_date
from app.core.text import clean, compact_key, to_ascii_digits
from app.customers import service as cs
from app.excel.importer.cleaning import (
    _KIND_WORDS,
    _SCIENTIFIC,
    _STAGE_WORDS,
    _STATUS_WORDS,
    _code_cell,
    _date_cell,
    _Mapper,
    address_label_of,
    parse_other_addresses,
    split_full_name,
    split_phones,
    take_honorifics,
)
from app.excel.importer.fields import MULTI, PHONE_FIELDS
from app.excel.importer.reading import _cell_text
from models.core import Address, Customer, PhoneNumber

_NO = object()            # a memo's answer for a value that sends its row down the full path
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TAG_SPLIT = re.compile(r"[،,;؛|]+")
_QUOTES = ("'", "‘", "’")
_NOT_A_PHONE = (dt.date, dt.time, dt.timedelta, bool)
# each column's memo is emptied when it grows past this (a million distinct addresses are not kept)
MEMO_LIMIT = 50_000
_MAX = cs._MAX
_PHONE_LABELS = PhoneNumber.LABELS
_ADDRESS_LABELS = Address.LABELS
_KINDS = Customer.KINDS
_STAGES = Customer.STAGES


def _gathered(v: Any) -> Any:
    """A cell as _Mapper.gather() keeps it: None when blank, a leading apostrophe (Excel's «text» mark) gone."""
    if v is None or v == "":
        return None
    if type(v) is str:
        if not v.strip():
            return None
        if v.lstrip().startswith(_QUOTES):
            v = v.lstrip()[1:]
            if not v.strip():
                return None
    return v


class _Column:
    """One column's memo: raw cell value → finished value (or _NO). Only text cells are remembered (a float
    1 and True are equal keys); other cells are worked out each time."""
    __slots__ = ("index", "fn", "memo", "empty")

    def __init__(self, index: int, fn: Callable[[Any], Any]):
        self.index = index
        self.fn = fn
        self.memo: dict[str, Any] = {}
        self.empty = fn(None)         # a blank cell's answer (and a missing column's)

    def __call__(self, row: list[Any]) -> Any:
        i = self.index
        if i < 0 or i >= len(row):
            return self.empty
        v = row[i]
        if type(v) is not str:
            return self.fn(_gathered(v))
        memo = self.memo
        out = memo.get(v, memo)
        if out is memo:
            out = memo[v] = self.fn(_gathered(v))
        return out


def _text_of(f: str) -> Callable[[Any], Any]:
    """(the cell's text as build() gives it, as validate() stores it) or _NO."""
    limit = _MAX.get(f)

    def fn(g: Any) -> Any:
        pre = _cell_text(g)
        final = clean(pre)
        if limit is not None and len(final) > limit:
            return _NO
        if f == "email" and final and not _EMAIL.fullmatch(final):
            return _NO
        if f == "economic_code":
            final = id_digits(final)
            if check_economic_code(final):
                return _NO
        return pre, final
    return fn


def _full_name(g: Any) -> Any:
    """«نام و نام خانوادگی» → (title, first, last) as build() splits them, and each cleaned; or _NO."""
    full = _cell_text(g)
    if not full:
        return None
    title, full = take_honorifics(full)
    first, last = split_full_name(full)
    out = (title, clean(title), first, clean(first), last, clean(last))
    if len(out[1]) > _MAX["title"] or len(out[3]) > _MAX["first_name"] or len(out[5]) > _MAX["last_name"]:
        return _NO
    return out


def _kind(g: Any) -> Any:
    text = _cell_text(g)
    if not text:
        return None
    kind = _KIND_WORDS.get(compact_key(text))
    return _NO if kind is None else kind


def _stage(g: Any) -> Any:
    text = _cell_text(g)
    if not text:
        return "actual"
    key = compact_key(text)
    if key not in _STAGE_WORDS:
        return _NO
    stage = _STAGE_WORDS.get(key.replace("(", "").replace(")", ""), "actual")
    return stage if stage in _STAGES else _NO


def _status(g: Any) -> Any:
    text = _cell_text(g)
    status = clean(str(_STATUS_WORDS.get(compact_key(text), text) if text else ""))
    if len(status) > _MAX["status"]:
        return _NO
    return status or "active"


def _date(g: Any) -> Any:
    """date_field(_date_cell(cell)) without its errors: a date, None, or _NO."""
    v = _date_cell(g)
    if v in (None, ""):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return parse_date(str(v))
    except JalaliError:
        return _NO


def _postal(g: Any) -> Any:
    code = id_digits(clean(_code_cell(g, 10)))
    return _NO if check_postal_code(code) else code


def _pre_text(g: Any) -> str:
    return _cell_text(g)


def _tags(g: Any) -> tuple[str, ...]:
    return tuple(t.strip() for t in _TAG_SPLIT.split(_cell_text(g)) if t.strip())


def _cleaned(g: Any) -> str:
    return clean(_cell_text(g))


class QuickRows:
    """Rows of one table on the quick path. ``row(values)`` → ((first, last, company) as build() names them,
    the validated data) for a plain row, None for any other (it takes the full path)."""

    def __init__(self, mapper: _Mapper):
        self.mapper = mapper
        cols = mapper.cols
        # a field other than MULTI fed by two columns (a mapping changed by hand): the full path for every row
        self.usable = all(len(c) == 1 for f, c in cols.items() if f not in MULTI)

        def one(f: str, fn: Callable[[Any], Any]) -> _Column:
            return _Column(cols[f][0] if f in cols else -1, fn)

        def many(f: str, fn: Callable[[Any], Any]) -> list[_Column]:
            return [_Column(i, fn) for i in cols.get(f, [])]

        self.texts = {f: one(f, _text_of(f)) for f in (
            "first_name", "last_name", "company", "title", "job", "customer_type", "rank", "activity_field",
            "source", "email", "website", "economic_code", "registration_no")}
        self.full_name = one("full_name", _full_name)
        self.kind = one("kind", _kind)
        self.stage = one("stage", _stage)
        self.status = one("status", _status)
        self.birthday = one("birthday", _date)
        self.anniversary = one("anniversary", _date)
        self.assigned = one("assigned", _pre_text)
        self.postal_code = one("postal_code", _postal)
        self.address_postal = one("address_postal_code", lambda g: _code_cell(g, 10))
        self.address_label = one("address_label", lambda g: address_label_of(_cell_text(g)))
        self.province = one("province", _pre_text)
        self.city = one("city", _pre_text)
        self.address = [c.index for c in many("address", _pre_text)]
        self.other_addresses = [c.index for c in many("other_addresses", _pre_text)]
        self.tags = many("tags", _tags)
        self.description = many("description", _cell_text)
        self.description_one = one("description", _cleaned) if len(self.description) == 1 else None
        self.nid = cols["national_id"][0] if "national_id" in cols else -1
        self.nid_memo: dict[tuple[str, str], Any] = {}
        self.phone_cols = [(i, label) for f, label in PHONE_FIELDS.items() for i in cols.get(f, [])]
        self.primary = cols["phone_primary"][0] if "phone_primary" in cols else -1
        self.names_memo: dict[tuple, bool] = {}
        self.refresh()

    def refresh(self) -> None:
        """Once a batch: today's date, the office's area code, and memos trimmed to MEMO_LIMIT."""
        self.today = now().date()
        self.area = settings.area_code()
        columns = [*self.texts.values(), self.full_name, self.kind, self.stage, self.status, self.birthday,
                   self.anniversary, self.assigned, self.postal_code, self.address_postal, self.address_label,
                   self.province, self.city, *self.tags, *self.description]
        if self.description_one is not None:
            columns.append(self.description_one)
        for c in columns:
            if len(c.memo) > MEMO_LIMIT:
                c.memo.clear()
        for memo in (self.nid_memo, self.names_memo):
            if len(memo) > MEMO_LIMIT:
                memo.clear()

    def _national_id(self, row: list[Any], kind: str) -> Any:
        i = self.nid
        v = row[i] if 0 <= i < len(row) else None
        if type(v) is str:
            key = (v, kind)
            out = self.nid_memo.get(key, _NO)
            if out is _NO and key not in self.nid_memo:
                out = self.nid_memo[key] = self._nid_of(_gathered(v), kind)
            return out
        return self._nid_of(_gathered(v), kind)

    @staticmethod
    def _nid_of(g: Any, kind: str) -> Any:
        code = _code_cell(g, 11 if kind == "organisation" and isinstance(g, float) else 10)
        code = id_digits(clean(code))
        return _NO if check_national_id(code, kind) else code

    def row(self, row: list[Any]) -> tuple[tuple[str, str, str], dict] | None:
        t = self.texts
        first, last, company, title = t["first_name"](row), t["last_name"](row), t["company"](row), t["title"](row)
        if first is _NO or last is _NO or company is _NO or title is _NO:
            return None
        first_pre, first_v = first
        last_pre, last_v = last
        company_pre, company_v = company
        title_pre, title_v = title
        if not (first_pre or last_pre):
            full = self.full_name(row)
            if full is _NO:
                return None
            if full is not None:
                if full[0] and not title_pre:
                    title_pre, title_v = full[0], full[1]
                first_pre, first_v, last_pre, last_v = full[2], full[3], full[4], full[5]
        if not (first_pre or last_pre or company_pre):
            return None               # nameless: a totals row, padding or an error, the full path tells which
        kind = self.kind(row)
        if kind is _NO:
            return None
        if kind is None:
            kind = "organisation" if company_pre and not (first_pre or last_pre) else "person"
        if kind not in _KINDS:
            return None
        if kind == "person" and not (first_v or last_v):
            return None
        if kind == "organisation" and not company_v:
            return None
        stage = self.stage(row)
        status = self.status(row)
        birthday = self.birthday(row)
        anniversary = self.anniversary(row)
        if stage is _NO or status is _NO or birthday is _NO or anniversary is _NO:
            return None
        if birthday is not None and birthday > self.today:
            return None
        assigned_to = None
        assigned = self.assigned(row)
        if assigned:
            assigned_to = self.mapper.users.get(compact_key(assigned))
            if assigned_to is None:
                return None
        nid = self._national_id(row, kind)
        postal_code = self.postal_code(row)
        if nid is _NO or postal_code is _NO:
            return None
        out: dict[str, Any] = {"kind": kind, "stage": stage, "first_name": first_v, "last_name": last_v,
                               "company": company_v, "title": title_v}
        for f in ("job", "customer_type", "rank"):
            v = t[f](row)
            if v is _NO:
                return None
            out[f] = v[1]
        out["status"] = status
        for f in ("activity_field", "source", "economic_code", "registration_no"):
            v = t[f](row)
            if v is _NO:
                return None
            out[f] = v[1]
        out["postal_code"] = postal_code
        for f in ("email", "website"):
            v = t[f](row)
            if v is _NO:
                return None
            out[f] = v[1]
        if self.description_one is not None:
            out["description"] = self.description_one(row)
        else:
            texts = []
            n = len(row)
            for c in self.description:
                if c.index < n:
                    g = _gathered(row[c.index])
                    if g is not None:
                        texts.append(_cell_text(g))
            out["description"] = clean("\n".join(texts))
        out["national_id"] = nid
        out["birthday"] = birthday
        out["anniversary"] = anniversary
        out["assigned_to"] = assigned_to
        phones = self._phones(row)
        if phones is None:
            return None
        out["phones"] = phones
        addresses = self._addresses(row)
        if addresses is None:
            return None
        out["addresses"] = addresses
        tags: list[str] = []
        for c in self.tags:
            for tag in c(row):
                tag = clean(tag)
                if tag and tag not in tags:
                    tags.append(tag[:60])
        out["tags"] = tags
        return (first_pre, last_pre, company_pre), out

    def _phones(self, row: list[Any]) -> list[dict] | None:
        n = len(row)
        raws: list[tuple[str | None, str]] = []
        for i, label in self.phone_cols:
            if i >= n:
                continue
            v = row[i]
            if type(v) is str and v.isascii() and v.isdigit():
                raws.append((label, v))          # the common cell: one number, digits only
                continue
            g = _gathered(v)
            if g is None:
                continue
            if isinstance(g, _NOT_A_PHONE):
                return None
            for num in split_phones(g):
                if _SCIENTIFIC.fullmatch(num):
                    return None
                raws.append((label, num))
        area = self.area
        if 0 <= self.primary < n:
            g = _gathered(row[self.primary])
            if g is not None and not isinstance(g, _NOT_A_PHONE):
                nums = split_phones(g)
                if nums:
                    self._put_primary(nums[0], raws, area)
        out: list[dict] = []
        seen: set[str] = set()
        normalize = ph.normalize
        for label, raw in raws:
            if not raw or not raw.strip():
                continue
            parsed = normalize(raw, area)
            if not parsed.valid:
                return None
            canonical = parsed.canonical
            if canonical in seen:
                continue
            seen.add(canonical)
            label = label or ("mobile" if parsed.kind == ph.MOBILE else "work")
            if label not in _PHONE_LABELS:
                label = "other"
            ext = parsed.extension or ""
            out.append({"label": label, "raw": clean(raw)[:60], "canonical": canonical, "tail": parsed.tail,
                        "extension": to_ascii_digits(ext)[:8]})
        if out:
            out[0]["is_primary"] = True
        return out

    @staticmethod
    def _put_primary(num: str, raws: list[tuple[str | None, str]], area: str) -> None:
        """_Mapper._put_primary on (label, number) pairs."""
        for i, (_label, raw) in enumerate(raws):
            if raw == num:
                raws.insert(0, raws.pop(i))
                return
        want = ph.normalize(num, area).canonical
        for i, (_label, raw) in enumerate(raws):
            if ph.normalize(raw, area).canonical == want:
                raws.insert(0, raws.pop(i))
                return
        raws.insert(0, (None, num))

    def _addresses(self, row: list[Any]) -> list[dict] | None:
        province, city = self.province(row), self.city(row)
        n = len(row)
        lines = []
        for i in self.address:
            if i < n:
                g = _gathered(row[i])
                if g is not None:
                    lines.append(_cell_text(g))
        line = "، ".join(lines)
        postal = self.address_postal(row)
        found: list[dict] = []
        if province or city or line or postal:
            found.append({"label": self.address_label(row), "province": province, "city": city, "line": line,
                          "postal_code": postal})
        for i in self.other_addresses:
            if i < n:
                g = _gathered(row[i])
                if g is not None:
                    found.extend(parse_other_addresses(_cell_text(g)))
        out: list[dict] = []
        for a in found:
            a = {k: clean(str(v or "")) for k, v in a.items()}
            if not (a.get("province") or a.get("city") or a.get("line") or a.get("postal_code")):
                continue
            a["postal_code"] = id_digits(a.get("postal_code", ""))
            if check_postal_code(a["postal_code"]):
                return None
            if len(a.get("province", "")) > 60 or len(a.get("city", "")) > 60:
                return None
            a["label"] = a.get("label") if a.get("label") in _ADDRESS_LABELS else "work"
            out.append({k: a.get(k, "") for k in ("label", "province", "city", "line", "postal_code")})
        return out
