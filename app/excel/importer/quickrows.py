"""The quick path for ordinary rows: cleaning (cleaning._Mapper.build) and checking (app.customers.validate())
fused into one pass, with each column's values cleaned once per distinct value.

An office sheet repeats itself: a few thousand names, cities, job titles, sources and dates make up most of its
cells. Here each cell is looked up in its column's memo of finished values (text cleaned and length-checked,
codes checked, dates parsed) and only a row's phones and its dict are built for the row itself.

A row gets here only the answer the full path would give. Anything that is not plain (a warning, an error, a
field fed by two columns) makes ``rows()`` answer None for it, and that row takes the full path (``_Mapper.build`` and
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
from app.core.jalali import date_field
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
_MISS = object()
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TAG_SPLIT = re.compile(r"[،,;؛|]+")
_QUOTES = ("'", "‘", "’")
_NOT_A_PHONE = (dt.date, dt.time, dt.timedelta, bool)
# each memo is emptied when it grows past this: a sheet of a million distinct addresses keeps memory flat
MEMO_LIMIT = 10_000
_MAX = cs._MAX
_PHONE_LABELS = PhoneNumber.LABELS
_ADDRESS_LABELS = Address.LABELS
_KINDS = Customer.KINDS
_STAGES = Customer.STAGES
_AREA_CODES = ph.AREA_CODES


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

    def column(self, batch: list[list[Any]]) -> list[Any]:
        """The answers for this column of a batch of rows (each at least as wide as the table's mapping)."""
        i = self.index
        if i < 0:
            return [self.empty] * len(batch)
        get = self.memo.get
        values = [r[i] for r in batch]
        out = [get(v, _MISS) for v in values]      # only text is remembered: no other value finds a key
        if _MISS in out:
            memo, fn = self.memo, self.fn
            for k, v in enumerate(values):
                if out[k] is _MISS:
                    if type(v) is str:
                        res = memo.get(v, _MISS)
                        if res is _MISS:
                            res = memo[v] = fn(_gathered(v))
                    else:
                        res = fn(_gathered(v))
                    out[k] = res
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
    """date_field(_date_cell(cell)) with its message dropped: a date, None, or _NO."""
    errors: dict[str, str] = {}
    d = date_field(_date_cell(g), "date", errors)
    return _NO if errors else d


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
    """Rows of one table on the quick path. ``rows(batch)`` → for each row ((first, last, company) as build()
    names them, the validated data) when it is plain, None for any other (it takes the full path)."""

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
        self.address_memo: dict[tuple, Any] = {}
        self.width = max((i for c in cols.values() for i in c), default=-1) + 1
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
        for memo in (self.nid_memo, self.names_memo, self.address_memo):
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

    def rows(self, batch: list[list[Any]]) -> list[tuple[tuple[str, str, str], dict] | None]:
        """Each row's answer (see the class), the columns looked up in their memos a whole batch at a time."""
        width = self.width
        batch = [r if len(r) >= width else [*r, *([None] * (width - len(r)))] for r in batch]
        t = self.texts
        firsts, lasts, companies, titles = (t[f].column(batch) for f in ("first_name", "last_name", "company",
                                                                          "title"))
        fulls, kinds, stages, statuses = (c.column(batch) for c in (self.full_name, self.kind, self.stage,
                                                                    self.status))
        birthdays, anniversaries, assigneds, postals = (c.column(batch) for c in (
            self.birthday, self.anniversary, self.assigned, self.postal_code))
        plain = [t[f].column(batch) for f in ("job", "customer_type", "rank", "activity_field", "source",
                                              "economic_code", "registration_no", "email", "website")]
        if self.description_one is not None:
            descriptions = self.description_one.column(batch)
        else:
            descriptions = [self._description(r) for r in batch]
        tag_columns = [c.column(batch) for c in self.tags]
        provinces, cities, labels, address_postals = (c.column(batch) for c in (
            self.province, self.city, self.address_label, self.address_postal))
        users = self.mapper.users
        today = self.today
        out_rows: list[tuple[tuple[str, str, str], dict] | None] = []
        append = out_rows.append
        for k, row in enumerate(batch):
            first, last, company, title = firsts[k], lasts[k], companies[k], titles[k]
            if first is _NO or last is _NO or company is _NO or title is _NO:
                append(None)
                continue
            first_pre, first_v = first
            last_pre, last_v = last
            company_pre, company_v = company
            title_pre, title_v = title
            if not (first_pre or last_pre):
                full = fulls[k]
                if full is _NO:
                    append(None)
                    continue
                if full is not None:
                    if full[0] and not title_pre:
                        title_pre, title_v = full[0], full[1]
                    first_pre, first_v, last_pre, last_v = full[2], full[3], full[4], full[5]
            if not (first_pre or last_pre or company_pre):
                append(None)          # nameless: a totals row, padding or an error, the full path tells which
                continue
            kind = kinds[k]
            if kind is None:
                kind = "organisation" if company_pre and not (first_pre or last_pre) else "person"
            if kind is _NO or kind not in _KINDS or (kind == "person" and not (first_v or last_v)) or (
                    kind == "organisation" and not company_v):
                append(None)
                continue
            stage, status, birthday, anniversary = stages[k], statuses[k], birthdays[k], anniversaries[k]
            if stage is _NO or status is _NO or birthday is _NO or anniversary is _NO or (
                    birthday is not None and birthday > today):
                append(None)
                continue
            assigned_to = None
            assigned = assigneds[k]
            if assigned:
                assigned_to = users.get(compact_key(assigned))
                if assigned_to is None:
                    append(None)
                    continue
            nid = self._national_id(row, kind)
            postal_code = postals[k]
            job, customer_type, rank, activity_field, source, economic_code, registration_no, email, website = (
                c[k] for c in plain)
            if nid is _NO or postal_code is _NO or _NO in (job, customer_type, rank, activity_field, source,
                                                          economic_code, registration_no, email, website):
                append(None)
                continue
            phones = self._phones(row)
            if phones is None:
                append(None)
                continue
            addresses = self._addresses(row, provinces[k], cities[k], labels[k], address_postals[k])
            if addresses is None:
                append(None)
                continue
            tags: list[str] = []
            for c in tag_columns:
                for tag in c[k]:
                    tag = clean(tag)
                    if tag and tag not in tags:
                        tags.append(tag[:60])
            append(((first_pre, last_pre, company_pre), {
                "kind": kind, "stage": stage, "first_name": first_v, "last_name": last_v, "company": company_v,
                "title": title_v, "job": job[1], "customer_type": customer_type[1], "rank": rank[1],
                "status": status, "activity_field": activity_field[1], "source": source[1],
                "economic_code": economic_code[1], "registration_no": registration_no[1], "postal_code": postal_code,
                "email": email[1], "website": website[1], "description": descriptions[k], "national_id": nid,
                "birthday": birthday, "anniversary": anniversary, "assigned_to": assigned_to, "phones": phones,
                "addresses": addresses, "tags": tags}))
        return out_rows

    def _description(self, row: list[Any]) -> str:
        texts = []
        for c in self.description:
            g = _gathered(row[c.index])
            if g is not None:
                texts.append(_cell_text(g))
        return clean("\n".join(texts))

    def _phones(self, row: list[Any]) -> list[dict] | None:
        raws: list[tuple[str | None, str]] = []
        for i, label in self.phone_cols:
            v = row[i]
            if type(v) is str:
                if v.isascii() and v.isdigit():
                    raws.append((label, v))          # the common cell: one number, digits only
                    continue
                if "، " in v:
                    parts = v.split("، ")            # «0912…، 0935…» as our own export writes several numbers
                    if all(part.isascii() and part.isdigit() for part in parts):
                        raws.extend((label, part) for part in parts)
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
        if self.primary >= 0:
            v = row[self.primary]
            if type(v) is str and v.isascii() and v.isdigit():
                self._put_primary(v, raws, area)
            else:
                g = _gathered(v)
                if g is not None and not isinstance(g, _NOT_A_PHONE):
                    nums = split_phones(g)
                    if nums:
                        self._put_primary(nums[0], raws, area)
        out: list[dict] = []
        seen: set[str] = set()
        normalize = ph.normalize
        for label, raw in raws:
            if len(raw) == 11 and raw[0] == "0" and (raw[1] == "9" or raw[1:3] in _AREA_CODES) and raw.isascii() \
                    and raw.isdigit():
                # a national number already in its canonical form: what ph.normalize() answers, without the
                # parse (a mobile 09…, or 0 + an area code + eight digits)
                if raw in seen:
                    continue
                seen.add(raw)
                out.append({"label": label or ("mobile" if raw[1] == "9" else "work"), "raw": raw,
                            "canonical": raw, "tail": raw[-8:], "extension": ""})
                continue
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

    def _addresses(self, row: list[Any], province: str, city: str, label: str, postal: str) -> list[dict] | None:
        lines = []
        for i in self.address:
            g = _gathered(row[i])
            if g is not None:
                lines.append(_cell_text(g))
        line = "، ".join(lines)
        others = [g for g in (_gathered(row[i]) for i in self.other_addresses) if g is not None]
        if not others:
            key = (province, city, label, line, postal)
            memo = self.address_memo
            done = memo.get(key)
            if done is None:
                done = memo[key] = self._checked_addresses(
                    [{"label": label, "province": province, "city": city, "line": line, "postal_code": postal}]
                    if province or city or line or postal else [])
            return None if done is _NO else [dict(a) for a in done]
        found: list[dict] = []
        if province or city or line or postal:
            found.append({"label": label, "province": province, "city": city, "line": line, "postal_code": postal})
        for g in others:
            found.extend(parse_other_addresses(_cell_text(g)))
        checked = self._checked_addresses(found)
        return None if checked is _NO else checked

    @staticmethod
    def _checked_addresses(found: list[dict]) -> Any:
        """validate()'s addresses (a list of dicts), or _NO."""
        out: list[dict] = []
        for a in found:
            a = {k: clean(str(v or "")) for k, v in a.items()}
            if not (a.get("province") or a.get("city") or a.get("line") or a.get("postal_code")):
                continue
            a["postal_code"] = id_digits(a.get("postal_code", ""))
            if check_postal_code(a["postal_code"]):
                return _NO
            if len(a.get("province", "")) > 60 or len(a.get("city", "")) > 60:
                return _NO
            a["label"] = a.get("label") if a.get("label") in _ADDRESS_LABELS else "work"
            out.append({k: a.get(k, "") for k in ("label", "province", "city", "line", "postal_code")})
        return out
