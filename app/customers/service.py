"""Customer service: create, edit, validate, search, look up by phone, detect duplicates, merge.

The UI passes plain dicts and gets model instances or plain rows back; it never builds a query.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from app import settings
from app.core import phones as ph
from app.core.clock import now
from app.core.errors import NotFound, ValidationError
from app.core.identity import check_economic_code, check_national_id, check_postal_code
from app.core.identity import digits as id_digits
from app.core.jalali import date_field
from app.core.text import (
    clean,
    compact_key,
    search_key,
    search_key_of_parts,
    sort_key,
    to_ascii_digits,
    to_persian_digits,
)
from app.customers import search, timeline
from app.office import audit, roles
from models import sqlcache
from models.base import db, is_postgres
from models.core import Activity, Address, Customer, CustomerTag, Note, PhoneNumber, SavedFilter, Tag, User

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("first_name", "last_name", "company", "title", "job", "customer_type", "rank", "status",
               "activity_field", "source", "economic_code", "registration_no", "postal_code", "email",
               "website", "description", "national_id")

KIND_LABELS = {"person": "حقیقی", "organisation": "حقوقی"}
STAGE_LABELS = {"potential": "سرنخ (بالقوه)", "actual": "مشتری"}
STATUS_LABELS = {"active": "فعال", "inactive": "غیرفعال", "blacklist": "لیست سیاه", "merged": "ادغام‌شده"}
PHONE_LABELS = {"mobile": "همراه", "work": "محل کار", "home": "منزل", "fax": "نمابر", "other": "سایر"}
ADDRESS_LABELS = {"work": "محل کار", "home": "منزل", "warehouse": "انبار", "other": "سایر"}

_MAX = {"first_name": 100, "last_name": 100, "company": 200, "title": 40, "job": 120, "customer_type": 60,
        "rank": 10, "status": 40, "activity_field": 120, "source": 80, "email": 200, "website": 200,
        "registration_no": 20}


# --- validation ---------------------------------------------------------------------------------------------

def validate(data: dict) -> dict:
    """Clean and check a customer's fields; raise ValidationError (field → Persian message).

    Returns the cleaned data: text normalised, dates as date, phones parsed, tags as names.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    kind = data.get("kind") or "person"
    if kind not in Customer.KINDS:
        errors["kind"] = "نوع مشتری باید حقیقی یا حقوقی باشد."
    out["kind"] = kind
    stage = data.get("stage") or "actual"
    if stage not in Customer.STAGES:
        errors["stage"] = "وضعیت مشتری (بالقوه/بالفعل) درست نیست."
    out["stage"] = stage
    for f in TEXT_FIELDS:
        v = clean(str(data.get(f) or ""))
        if f in _MAX and len(v) > _MAX[f]:
            errors[f] = f"این متن بیش از {to_persian_digits(_MAX[f])} نویسه است."
        out[f] = v
    out["status"] = out["status"] or "active"
    if kind == "person" and not (out["first_name"] or out["last_name"]):
        errors["last_name"] = "نام یا نام خانوادگی را بنویسید."
    if kind == "organisation" and not out["company"]:
        errors["company"] = "نام شرکت یا سازمان را بنویسید."
    out["national_id"] = id_digits(out["national_id"])
    if msg := check_national_id(out["national_id"], kind):
        errors["national_id"] = msg
    out["economic_code"] = id_digits(out["economic_code"])
    if msg := check_economic_code(out["economic_code"]):
        errors["economic_code"] = msg
    out["postal_code"] = id_digits(out["postal_code"])
    if msg := check_postal_code(out["postal_code"]):
        errors["postal_code"] = msg
    if out["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", out["email"]):
        errors["email"] = "نشانی ایمیل درست نیست."
    out["birthday"] = date_field(data.get("birthday"), "birthday", errors)
    out["anniversary"] = date_field(data.get("anniversary"), "anniversary", errors)
    if out["birthday"] and out["birthday"] > now().date():
        errors["birthday"] = "تاریخ تولد نمی‌تواند در آینده باشد."
    assigned = data.get("assigned_to")
    out["assigned_to"] = None
    if assigned not in (None, "", 0):
        try:
            out["assigned_to"] = int(assigned)
        except (TypeError, ValueError):
            out["assigned_to"] = -1
        if not User.select().where(User.id == out["assigned_to"]).exists():
            errors["assigned_to"] = "کاربر مسئول پیدا نشد."

    area = settings.area_code()
    parsed_phones: list[dict] = []
    seen: set[str] = set()
    for i, p in enumerate(data.get("phones") or []):
        raw = (p.get("raw") if isinstance(p, dict) else str(p)) or ""
        if not str(raw).strip():
            continue
        parsed = ph.normalize(raw, area)
        if not parsed.valid:
            errors[f"phones.{i}"] = ph.problem_message(parsed)
            continue
        if parsed.canonical in seen:
            continue
        seen.add(parsed.canonical)
        label = (p.get("label") if isinstance(p, dict) else None) or (
            "mobile" if parsed.kind == ph.MOBILE else "work")
        if label not in PhoneNumber.LABELS:
            label = "other"
        ext = (p.get("extension") if isinstance(p, dict) else None) or parsed.extension or ""
        parsed_phones.append({"label": label, "raw": clean(str(raw))[:60], "canonical": parsed.canonical,
                              "tail": parsed.tail, "extension": to_ascii_digits(str(ext))[:8]})
    if parsed_phones:
        parsed_phones[0]["is_primary"] = True
    out["phones"] = parsed_phones

    addresses = []
    for i, a in enumerate(data.get("addresses") or []):
        a = {k: clean(str(v or "")) for k, v in a.items()}
        if not any(a.get(k) for k in ("province", "city", "line", "postal_code")):
            continue
        a["postal_code"] = id_digits(a.get("postal_code", ""))
        if msg := check_postal_code(a["postal_code"]):
            errors[f"addresses.{i}"] = msg
        for key, title in (("province", "استان"), ("city", "شهر")):
            if len(a.get(key, "")) > 60:
                errors[f"addresses.{i}"] = f"نام {title} بیش از ۶۰ نویسه است."
        a["label"] = a.get("label") if a.get("label") in Address.LABELS else "work"
        addresses.append({k: a.get(k, "") for k in ("label", "province", "city", "line", "postal_code")})
    out["addresses"] = addresses
    tags = []
    for t in data.get("tags") or []:
        t = clean(t)
        if t and t not in tags:
            tags.append(t[:60])
    out["tags"] = tags
    if errors:
        raise ValidationError(errors)
    return out


# --- keys ------------------------------------------------------------------------------------------------

def display_name_of(d: dict) -> str:
    person = " ".join(p for p in (d.get("first_name", ""), d.get("last_name", "")) if p)
    if d.get("kind") == "organisation":
        return d.get("company") or person
    return person or d.get("company", "")


def sort_name_of(d: dict) -> str:
    """What the list sorts on: family name, then first name, as Iranian office lists are kept («رضایی علی»
    before «محمدی زهرا»); an organisation by its name."""
    person = " ".join(p for p in (d.get("last_name", ""), d.get("first_name", "")) if p)
    if d.get("kind") == "organisation":
        return d.get("company") or person
    return person or d.get("company", "")


def sort_key_of(d: dict) -> str:
    return sort_key(sort_name_of(d))[:300]


def _search_text(c: dict, phone_rows: list[dict], tags: list[str], cities: list[str]) -> str:
    parts = [c.get("first_name", ""), c.get("last_name", ""), c.get("company", ""), c.get("job", ""),
             c.get("email", ""), " ".join(tags), " ".join(cities), c.get("activity_field", "")]
    text = search_key_of_parts(parts)
    names = " ".join(compact_key(x) for x in (c.get("first_name"), c.get("last_name"), c.get("company")) if x)
    ids = " ".join(x for x in (c.get("national_id"), c.get("economic_code")) if x)
    phone_keys = " ".join(p["canonical"] for p in phone_rows)
    return f" {text} | {names} | {ids} | {phone_keys} "


def refresh_keys(customer: Customer) -> None:
    """Recompute sort and search keys from the stored rows (after phones/tags/addresses change)."""
    phone_rows = [{"canonical": p.canonical} for p in customer.phones]
    tags = [t.tag.name for t in customer.tag_links.join(Tag)]
    cities = [a.city for a in customer.addresses if a.city]
    d = {f: getattr(customer, f) for f in TEXT_FIELDS}
    d["kind"] = customer.kind
    customer.sort_key = sort_key_of(d)
    customer.search_text = _search_text(d, phone_rows, tags, cities)
    customer.save(only=[Customer.sort_key, Customer.search_text])


def derived_keys(d: dict) -> tuple[str, str]:
    """(sort_key, search_text) for validate()d data: the keys create_customer() ends up storing. For bulk
    writers (the Excel import) that insert rows without going through create_customer()."""
    cities = [a["city"] for a in d.get("addresses") or [] if a.get("city")]
    return (sort_key_of(d),
            _search_text(d, d.get("phones") or [], d.get("tags") or [], cities))


# --- create / edit ---------------------------------------------------------------------------------------

@dataclass
class Duplicate:
    customer_id: int
    name: str
    reason: str      # Persian: «شماره ۰۹۱۲… مشترک است»


def find_duplicates(data: dict, exclude_id: int | None = None) -> list[Duplicate]:
    """Existing customers that share a phone number or national ID with `data` (already validated or raw)."""
    area = settings.area_code()
    canon = []
    for p in data.get("phones") or []:
        if isinstance(p, dict) and p.get("canonical"):
            canon.append(p["canonical"])
        else:
            parsed = ph.normalize(p.get("raw") if isinstance(p, dict) else p, area)
            if parsed.valid:
                canon.append(parsed.canonical)
    out: dict[int, Duplicate] = {}
    if canon:
        q = (PhoneNumber.select(PhoneNumber.canonical, Customer.id, Customer.first_name, Customer.last_name,
                                Customer.company, Customer.kind)
             .join(Customer).where(PhoneNumber.canonical.in_(canon), Customer.merged_into.is_null()))
        if exclude_id:
            q = q.where(Customer.id != exclude_id)
        for row in q.dicts():
            out.setdefault(row["id"], Duplicate(row["id"], display_name_of(row),
                                                f"شماره {row['canonical']} در پرونده این مشتری هست"))
    nid = id_digits(data.get("national_id") or "")
    if nid:
        q = Customer.select().where(Customer.national_id == nid, Customer.merged_into.is_null())
        if exclude_id:
            q = q.where(Customer.id != exclude_id)
        for c in q:
            out.setdefault(c.id, Duplicate(c.id, c.display_name, f"کد/شناسه ملی {nid} همین است"))
    return list(out.values())


def _apply(c: Customer, d: dict) -> None:
    for f in TEXT_FIELDS:
        setattr(c, f, d[f])
    c.kind, c.stage = d["kind"], d["stage"]
    c.birthday, c.anniversary = d["birthday"], d["anniversary"]
    c.assigned_to = d["assigned_to"]


def _write_children(c: Customer, d: dict) -> None:
    PhoneNumber.delete().where(PhoneNumber.customer == c.id).execute()
    for i, p in enumerate(d["phones"]):
        PhoneNumber.create(customer=c.id, label=p["label"], raw=p["raw"], canonical=p["canonical"],
                           tail=p["tail"], extension=p.get("extension", ""), is_primary=(i == 0))
    Address.delete().where(Address.customer == c.id).execute()
    for a in d["addresses"]:
        Address.create(customer=c.id, **a)
    CustomerTag.delete().where(CustomerTag.customer == c.id).execute()
    for name in d["tags"]:
        tag = get_or_create_tag(name)
        CustomerTag.create(customer=c.id, tag=tag.id)


def get_or_create_tag(name: str) -> Tag:
    name = clean(name)[:60]
    tag = Tag.get_or_none(Tag.name == name)
    if tag is None:
        try:
            with db.atomic():
                tag = Tag.create(name=name)
        except pw.IntegrityError:
            tag = Tag.get(Tag.name == name)
    return tag


@audit.tracked("create", "customer")
def create_customer(data: dict, user: int | None = None, activity_kind: str = "created") -> Customer:
    d = validate(data)
    with db.atomic():
        c = Customer(created_by=user, created_at=now(), updated_at=now())
        _apply(c, d)
        c.save()
        _write_children(c, d)
        refresh_keys(c)
        timeline.record(c.id, activity_kind, f"پرونده «{c.display_name}» ساخته شد.", "customer", c.id, user=user)
    return c


@audit.tracked("update", "customer", key="customer_id")
def update_customer(customer_id: int, data: dict, user: int | None = None) -> Customer:
    roles.check_customer(customer_id)
    d = validate(data)
    with db.atomic():
        c = get_customer(customer_id)
        before = {f: getattr(c, f) for f in TEXT_FIELDS}
        _apply(c, d)
        c.updated_at = now()
        c.save()
        _write_children(c, d)
        refresh_keys(c)
        changed = [f for f in TEXT_FIELDS if before[f] != getattr(c, f)]
        timeline.record(c.id, "edited", "پرونده ویرایش شد.", "customer", c.id,
                        data={"fields": changed} if changed else None, user=user)
    return c


def get_customer(customer_id: int) -> Customer:
    c = Customer.get_or_none(Customer.id == customer_id)
    if c is None:
        raise NotFound("این مشتری پیدا نشد (شاید حذف یا ادغام شده است).")
    return c


def customer_data(customer_id: int) -> dict:
    """Everything the form needs, as plain data."""
    roles.check_customer(customer_id)
    c = get_customer(customer_id)
    d: dict[str, Any] = {f: getattr(c, f) for f in TEXT_FIELDS}
    d.update(id=c.id, kind=c.kind, stage=c.stage, birthday=c.birthday, anniversary=c.anniversary,
             assigned_to=c.assigned_to_id, created_at=c.created_at, display_name=c.display_name,
             merged_into=c.merged_into_id)
    d["phones"] = [{"label": p.label, "raw": p.raw, "canonical": p.canonical, "extension": p.extension}
                   for p in c.phones.order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id)]
    d["addresses"] = [{"label": a.label, "province": a.province, "city": a.city, "line": a.line,
                       "postal_code": a.postal_code} for a in c.addresses.order_by(Address.id)]
    d["tags"] = [t.tag.name for t in c.tag_links.join(Tag).order_by(Tag.name)]
    d["assigned_name"] = c.assigned_to.name if c.assigned_to_id else ""
    return d


def add_phone(customer_id: int, raw: str, label: str | None = None, user: int | None = None) -> PhoneNumber:
    """Add one number to an existing customer (from the caller-ID popup's «add to existing customer»)."""
    parsed = ph.normalize(raw, settings.area_code())
    if not parsed.valid:
        raise ValidationError({"phone": ph.problem_message(parsed)})
    with db.atomic():
        c = get_customer(customer_id)
        existing = PhoneNumber.get_or_none(PhoneNumber.customer == c.id, PhoneNumber.canonical == parsed.canonical)
        if existing:
            return existing
        p = PhoneNumber.create(customer=c.id, label=label or ("mobile" if parsed.kind == ph.MOBILE else "work"),
                               raw=clean(raw)[:60], canonical=parsed.canonical, tail=parsed.tail,
                               extension=parsed.extension or "", is_primary=not c.phones.exists())
        refresh_keys(c)
        timeline.record(c.id, "phone_added", f"شماره {parsed.canonical} به پرونده افزوده شد.", "phonenumber", p.id,
                        user=user)
    return p


def add_note(customer_id: int, body: str, user: int | None = None) -> Note:
    body = clean(body) if "\n" not in body else "\n".join(clean(x) for x in body.splitlines())
    if not body.strip():
        raise ValidationError({"body": "متن یادداشت خالی است."})
    with db.atomic():
        get_customer(customer_id)
        n = Note.create(customer=customer_id, body=body, author=user, created_at=now())
        timeline.record(customer_id, "note", body[:500], "note", n.id, user=user)
    return n


# --- look-up by phone ------------------------------------------------------------------------------------

def find_by_phone(number: str) -> list[Customer]:
    """Customers owning `number` in any format (caller ID: +98…, 0098…, no area code…). Fast: one indexed
    statement written once per number of keys (no SQL building per call), the keys of a number remembered."""
    area = settings.area_code()
    keys = phone_keys(number, area)
    if not keys:
        return []
    rows = _customers_with_numbers(keys)
    if rows:
        return rows
    # Fallback: the subscriber part alone, when the stored number carries another area code than the office's.
    parsed = ph.normalize(number, area)
    if parsed.kind == ph.LANDLINE and len(re.sub(r"\D", "", number)) <= 8:
        rows = list(Customer.select().join(PhoneNumber)
                    .where(PhoneNumber.tail == parsed.tail, Customer.merged_into.is_null()).distinct())
        if len(rows) == 1:
            return rows
    return []


@functools.lru_cache(maxsize=4096)
def phone_keys(number: str, area: str) -> tuple[str, ...]:
    """phones.lookup_keys, remembered: the same few numbers ring and are looked up again and again."""
    return tuple(ph.lookup_keys(number, area))


_CUSTOMER_FIELDS = Customer._meta.sorted_fields
_CUSTOMER_SELECT = ", ".join(f'c."{f.column_name}"' for f in _CUSTOMER_FIELDS)
# fields whose database value is not already the Python value (SQLite gives dates as text, booleans as 0/1)
_CUSTOMER_CONVERT = [(i, f.python_value) for i, f in enumerate(_CUSTOMER_FIELDS)
                     if isinstance(f, pw.DateField | pw.DateTimeField | pw.TimeField | pw.BooleanField)]
_CUSTOMER_NAMES = [f.name for f in _CUSTOMER_FIELDS]


def _customers_with_numbers(keys: tuple[str, ...]) -> list[Customer]:
    """Customers (not merged away) holding a phone number whose canonical form is one of `keys`."""
    sql = (f'SELECT DISTINCT {_CUSTOMER_SELECT} FROM "customer" c JOIN "phone_number" p ON p.customer_id = c.id '
           f'WHERE p.canonical IN ({", ".join("?" * len(keys))}) AND c.merged_into_id IS NULL')
    out = []
    for r in sqlcache.raw(sql, keys, prepare=f"customers_by_number_{len(keys)}").fetchall():
        values = list(r)
        for i, conv in _CUSTOMER_CONVERT:
            if values[i] is not None:
                values[i] = conv(values[i])
        # a row read back, as peewee makes one (nothing dirty), its values put in place at once rather than
        # one field's setter at a time (a quarter of a look-up's work)
        c = Customer(__no_default__=1)
        c.__data__ = dict(zip(_CUSTOMER_NAMES, values, strict=True))
        out.append(c)
    return out


def lookup_report(number: str) -> dict:
    keys = ph.lookup_keys(number, settings.area_code())
    matches = []
    for c in find_by_phone(number):
        phone = c.phones.where(PhoneNumber.canonical.in_(keys)).first() or c.phones.first()
        matches.append({"id": c.id, "name": c.display_name, "company": c.company,
                        "phone": phone.canonical if phone else ""})
    return {"input": number, "area_code": settings.area_code(), "tried": keys, "matches": matches}


# --- search and list -------------------------------------------------------------------------------------

SORT_COLUMNS = {
    "name": Customer.sort_key,
    "company": Customer.company,
    "type": Customer.customer_type,
    "rank": Customer.rank,
    "status": Customer.status,
    "created": Customer.created_at,
    "id": Customer.id,
}


@dataclass
class Filter:
    text: str = ""
    kind: str = ""
    stage: str = ""
    customer_type: str = ""
    status: str = ""
    rank: str = ""
    tag: str = ""
    assigned_to: int | None = None
    source: str = ""
    city: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v not in ("", None, {})}, ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> Filter:
        d = json.loads(s or "{}")
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        parts = []
        if self.text:
            parts.append(f"جستجو: {self.text}")
        labels = {"kind": KIND_LABELS, "stage": STAGE_LABELS, "status": STATUS_LABELS}
        for f, title in (("kind", "نوع"), ("stage", "مرحله"), ("customer_type", "گروه"), ("status", "وضعیت"),
                         ("rank", "رتبه"), ("tag", "برچسب"), ("source", "منبع"), ("city", "شهر")):
            v = getattr(self, f)
            if v:
                parts.append(f"{title}: {labels.get(f, {}).get(v, v)}")
        if self.assigned_to:
            u = User.get_or_none(User.id == self.assigned_to)
            parts.append(f"مسئول: {u.name if u else self.assigned_to}")
        return "، ".join(parts) or "همه مشتریان"


def query_tokens(text: str) -> list[str]:
    """What the user typed → substrings that must all occur in a customer's search text.

    A run that looks like a phone number in any format (+98 912…, 0098…, (021) 2251-4321, Persian digits)
    becomes the digits of its canonical form, so a partial number still matches.
    """
    t = to_ascii_digits(text or "").strip()
    if not t:
        return []
    compact = re.sub(r"[\s\-().]", "", t)
    if re.fullmatch(r"\+?\d{3,}", compact):
        d = compact
        if d.startswith("+98"):
            d = "0" + d[3:]
        elif d.startswith("0098"):
            d = "0" + d[4:]
        elif d.startswith("98") and len(d) >= 12:
            d = "0" + d[2:]
        elif d.startswith("9") and len(d) == 10:
            d = "0" + d
        return [d.lstrip("+")]
    return [tok for tok in search_key(t).split(" ") if tok]


def _filtered(f: Filter, text: bool = True) -> pw.ModelSelect:
    q = roles.scope_customers(Customer.select(Customer.id).where(Customer.merged_into.is_null()))
    if text:
        q = search.apply_text(q, query_tokens(f.text))
    for name in ("kind", "stage", "customer_type", "status", "rank", "source"):
        v = getattr(f, name)
        if v:
            q = q.where(getattr(Customer, name) == v)
    if f.assigned_to:
        q = q.where(Customer.assigned_to == f.assigned_to)
    if f.tag:
        sub = CustomerTag.select(CustomerTag.customer).join(Tag).where(Tag.name == clean(f.tag))
        q = q.where(Customer.id.in_(sub))
    if f.city:
        sub = Address.select(Address.customer).where(Address.city == clean(f.city))
        q = q.where(Customer.id.in_(sub))
    return q


def search_ids(f: Filter | None = None, sort: str = "name", descending: bool = False) -> list[int]:
    """Ids of every customer matching the filter, in display order. Rows are fetched lazily with fetch_rows()."""
    f = f or Filter()
    col = SORT_COLUMNS.get(sort, Customer.sort_key)
    order = [col.desc() if descending else col.asc(), Customer.id.desc() if descending else Customer.id.asc()]
    q = _filtered(f).order_by(*order)
    cursor = db.execute(q)
    return [r[0] for r in cursor.fetchall()]


class ResultSet:
    """The ordered ids of a search, read a page at a time (the list shows the first rows at once and reads more
    as the user scrolls).

    SQLite: a search that matches few customers (up to MATERIALISE) is read whole through the trigram index. In
    the list's own order (by name), one that matches more is read a page at a time from the index, which yields its
    matches in that order (search.in_list_order). In another order, one that matches more, up to INDEX_PAGES, is
    read a page at a time through the index or, when its matches are
    common enough, in list order through the list's covering index, each id tested against the index's
    (search.index_page). One that matches many (the first digits of a mobile number match a fifth of all
    customers) is read in list order with keyset pagination, testing each row, which finds a page of matches
    after reading little more than a page when they are dense (search.common_page judges that first).
    PostgreSQL, which cannot count a trigram match cheaply: each page is read by search.next_in_order, which
    chooses between the two ways as it goes.
    """

    MATERIALISE = 500
    INDEX_PAGES = 5000

    def __init__(self, f: Filter | None = None, sort: str = "name", descending: bool = False):
        self.filter = f or Filter()
        self.col = SORT_COLUMNS.get(sort, Customer.sort_key)
        self.descending = descending
        self.exhausted = False
        self._ids: list[int] | None = None
        self._pos = 0
        self._returned = 0                  # ids given by next_ids so far (read a page at a time)
        self._last: tuple | None = None
        tokens = query_tokens(self.filter.text)
        base = _filtered(self.filter, text=False)
        indexed = search.apply_text(base, tokens)
        self._indexed = indexed
        self._total: int | None = None
        self._base = base
        self._cond = search.condition(tokens) if is_postgres() else None
        self._loose = len(tokens) == 1 and len(tokens[0]) < 3
        self._sample: tuple[float, float] | None = None
        self._parts: search.LetterParts | None = None
        self._by_index: tuple[pw.ModelSelect, int] | None = None     # (condition(probe=True)'s query, matches)
        self._common: pw.ModelSelect | None = None                      # condition(probe=True)'s query
        self._rows: int | None = None
        text_alone = self.filter.to_json() == Filter(text=self.filter.text).to_json()
        if self._cond is not None and self._loose and text_alone:
            self._sample = search.first_letters_sample(tokens[0], self.col is Customer.sort_key)
        # Whether the matches are few enough to read whole: counted no further than that (a common prefix
        # matches a fifth of the customers; counting them all is `total`'s business, asked only when shown).
        counts: dict[str, int] = {}
        # In the list's own order, a word of three letters or more is read from the trigram index in that order.
        indexable = any(len(t) >= 3 for t in tokens)          # a token the trigram index can find
        listed = self._cond is None and self.col is Customer.sort_key and indexable and search.has_fts()
        self._listed: list[str] | None = None
        hits: list[int] | None = [] if listed else None
        self._bounds = (search.match_bounds(tokens, self.MATERIALISE if listed else self.INDEX_PAGES, counts, hits)
                        if self._cond is None else None)
        if self._cond is not None:
            self._query = indexed
        elif tokens and self._few(tokens, text_alone):
            # every match the index gives is known already when few: looked up by id, the index not asked again
            whole = search.among(base, tokens, hits) if hits is not None and len(hits) <= self.MATERIALISE else indexed
            self._ids = [r[0] for r in db.execute(whole.order_by(*self._order())).fetchall()]
            self._total = len(self._ids)
            self._query = indexed
        elif listed:
            self._listed = tokens
            self._query = indexed
        elif (self._bounds is not None and self._bounds[1] <= self.INDEX_PAGES
              and indexable):
            self._query = indexed
            self._by_index = (search.apply_text(base, tokens, probe=True), self._bounds[1])
        else:
            self._query = search.apply_text(base, tokens, use_index=False)
            if self._loose and self.col is Customer.sort_key:
                self._parts = search.first_letters_parts(base, tokens[0], self.INDEX_PAGES, counts.get("first"))
            elif self._bounds is not None and indexable:
                self._common = search.apply_text(base, tokens, probe=True)
        # A read of the list in order tests only what its covering index holds: the text alone, seen by a role
        # that sees every customer.
        self._together = 0
        paged = self._by_index is not None or self._common is not None or self._parts is not None
        if paged and text_alone and roles.sees_all_customers():
            self._rows = search.customer_rows()
            if self._by_index and len(tokens) == 1 and self.col is Customer.sort_key:
                self._together = search.key_stretch(tokens[0], self._by_index[1])

    def _few(self, tokens: list[str], text_alone: bool) -> bool:
        bounds = self._bounds
        if bounds is not None and bounds[1] <= self.MATERIALISE:
            return True                # no more than that many match (the filters only take some away)
        if text_alone and bounds is not None and bounds[0] > self.MATERIALISE:
            return False               # more than that many match
        return self._indexed.limit(self.MATERIALISE + 1).count() <= self.MATERIALISE

    @property
    def total(self) -> int:
        """How many customers match (counted on first use: at a million customers, a common word's count reads
        every match, hundreds of milliseconds; see known_total)."""
        if self._total is None:
            self._total = self._indexed.count()
        return self._total

    @property
    def known_total(self) -> int | None:
        """How many customers match when that is known without counting (every match read already), else None."""
        if self._total is None and self.exhausted:
            self._total = self._returned
        return self._total

    def _order(self) -> list:
        return search.ordered(self.col, self.descending)

    def next_ids(self, n: int) -> list[int]:
        if self.exhausted:
            return []
        if self._ids is not None:
            chunk = self._ids[self._pos:self._pos + n]
            self._pos += len(chunk)
            self.exhausted = self._pos >= len(self._ids)
            return chunk
        if self._cond is not None:
            found = search.next_in_order(self._base, self._cond, self.col, self.descending, self._last, n,
                                         self._loose, self._sample)
            rows = found
        elif self._listed is not None:
            rows = search.in_list_order(self._base, self._listed, self.descending, self._last, n)
        elif self._parts is not None:
            rows = self._next_of_parts(n)
        elif self._common is not None and self._rows:
            rows = search.common_page(self._query, self._common, self._base, self.col, self.descending, self._last,
                                      n, self._rows)
        elif self._by_index is not None:
            rows = search.index_page(self._query, self._by_index[0], self._base, self.col, self.descending,
                                     self._last, n, self._by_index[1], self._rows, self._together)
        else:
            rows = db.execute(self._page(self._query, n)).fetchall()
        if len(rows) < n:
            self.exhausted = True
        if rows:
            self._last = (rows[-1][1], rows[-1][0])
        self._returned += len(rows)
        return [r[0] for r in rows]

    def _page(self, q: pw.ModelSelect, n: int) -> pw.ModelSelect:
        """The next n (id, key) of q after the last ones read, in list order."""
        q = search.keyset(q.select(Customer.id, self.col), self.col, self.descending, self._last)
        return q.order_by(*self._order()).limit(n)

    def _next_of_parts(self, n: int) -> list[tuple]:
        """The next n of the union of search.first_letters_parts' two queries, each read no further than n, merged
        in list order (the sort key is text: Python's order of strings is SQLite's)."""
        parts = self._parts
        assert parts is not None
        rows = [tuple(r) for r in db.execute(self._page(parts.by_key, n)).fetchall()]
        if parts.way == "index":
            rows += search.index_page(parts.first, parts.probed, self._base, self.col, self.descending, self._last,
                                      n, parts.matches, self._rows)
        elif parts.way == "rows" and self._rows:
            rows += search.common_page(parts.first, parts.probed, self._base, self.col, self.descending,
                                       self._last, n, self._rows)
        else:                          # "name start": read in list order through an index of its own
            rows += [tuple(r) for r in db.execute(self._page(parts.first, n)).fetchall()]
        merged = sorted(set(rows), key=lambda r: (r[1], r[0]), reverse=self.descending)
        return merged[:n]


def count(f: Filter | None = None) -> int:
    return _filtered(f or Filter()).count()


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    company: str
    kind: str
    stage: str
    phone: str
    customer_type: str
    rank: str
    status: str
    assigned: str
    city: str
    created_at: dt.datetime | None


def fetch_rows(ids: list[int]) -> dict[int, Row]:
    """The list's columns for these ids: one indexed query whatever the number of ids, the first phone (the
    primary one first) and the first city read beside each row, built once per number of ids (sqlcache): built
    anew, a page's fifty ids cost more in Python than the query itself (the list reads a page at every
    keystroke)."""
    if not ids:
        return {}
    ids = [int(i) for i in ids]
    n = len(ids)
    created = Customer.created_at.python_value
    out: dict[int, Row] = {}
    for (cid, first, last, company, kind, stage, ctype, rank, status, created_at, assigned, phone,
         city) in sqlcache.run(f"customers.rows.{n}", _rows_query, *ids, prepare=f"customer_rows_{n}").fetchall():
        name = display_name_of({"first_name": first, "last_name": last, "company": company, "kind": kind})
        out[cid] = Row(cid, name, company, kind, stage, phone or "", ctype, rank, status, assigned or "",
                       city or "", created(created_at))
    return out


def _rows_query(*some) -> pw.ModelSelect:
    phone = (PhoneNumber.select(PhoneNumber.canonical).where(PhoneNumber.customer == Customer.id)
             .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).limit(1))
    city = (Address.select(Address.city).where((Address.customer == Customer.id) & (Address.city != ""))
            .order_by(Address.id).limit(1))
    return (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                            Customer.stage, Customer.customer_type, Customer.rank, Customer.status,
                            Customer.created_at, User.name, phone, city)
            .join(User, on=(Customer.assigned_to == User.id), join_type=pw.JOIN.LEFT_OUTER)
            .where(Customer.id.in_(some)))


def distinct_values(field_name: str) -> list[str]:
    col = getattr(Customer, field_name)
    return [r[0] for r in Customer.select(col).where(col != "").distinct().order_by(col).tuples()]


def all_tags() -> list[str]:
    return [t.name for t in Tag.select().order_by(Tag.name)]


def users() -> list[User]:
    return list(User.select().where(User.active == True).order_by(User.name))  # noqa: E712


# --- saved filters ----------------------------------------------------------------------------------------

def save_filter(name: str, f: Filter, owner: int | None = None) -> SavedFilter:
    name = clean(name)
    if not name:
        raise ValidationError({"name": "برای فیلتر نامی بنویسید."})
    if len(name) > 80:
        raise ValidationError({"name": "نام فیلتر بیش از ۸۰ نویسه است."})
    existing = SavedFilter.get_or_none(SavedFilter.name == name)
    if existing:
        existing.spec = f.to_json()
        existing.save()
        return existing
    return SavedFilter.create(name=name, spec=f.to_json(), owner=owner)


def saved_filters() -> list[tuple[int, str, Filter]]:
    return [(s.id, s.name, Filter.from_json(s.spec)) for s in SavedFilter.select().order_by(SavedFilter.name)]


def delete_filter(filter_id: int) -> None:
    SavedFilter.delete().where(SavedFilter.id == filter_id).execute()


# --- merge -----------------------------------------------------------------------------------------------

@roles.guard("customers.delete")
@audit.tracked("merge", "customer", key="keep_id", also="drop_id")
def merge(keep_id: int, drop_id: int, user: int | None = None) -> Customer:
    """Fold `drop` into `keep`: every phone, address, tag, note, call, task, document and timeline entry moves
    to `keep`; empty fields of `keep` take `drop`'s values; `drop` stays as a hidden record pointing at `keep`."""
    if keep_id == drop_id:
        raise ValidationError({"customer": "یک پرونده را نمی‌توان با خودش ادغام کرد."})
    with db.atomic():
        keep, drop = get_customer(keep_id), get_customer(drop_id)
        if drop.merged_into_id or keep.merged_into_id:
            raise ValidationError({"customer": "این پرونده قبلاً ادغام شده است."})
        have = {p.canonical for p in keep.phones}
        for p in list(drop.phones):
            if p.canonical in have:
                p.delete_instance()
            else:
                p.customer = keep.id
                p.is_primary = False
                p.save()
                have.add(p.canonical)
        have_tags = {t.tag_id for t in keep.tag_links}
        for link in list(drop.tag_links):
            if link.tag_id in have_tags:
                link.delete_instance()
            else:
                link.customer = keep.id
                link.save()
        for f in TEXT_FIELDS + ("birthday", "anniversary", "assigned_to"):
            if not getattr(keep, f) and getattr(drop, f):
                setattr(keep, f, getattr(drop, f))
        if drop.stage == "actual":
            keep.stage = "actual"
        # Re-point every other table that refers to a customer (calls, tasks, invoices… whatever exists).
        for fk in Customer._meta.backrefs:
            model = fk.model
            if model in (PhoneNumber, CustomerTag) or model is Customer:
                continue
            model.update({fk: keep.id}).where(fk == drop.id).execute()
        drop.merged_into = keep.id
        drop.status = "merged"
        drop.search_text = ""
        drop.save()
        keep.updated_at = now()
        keep.save()
        refresh_keys(keep)
        timeline.record(keep.id, "merged", f"پرونده «{drop.display_name}» در این پرونده ادغام شد.", "customer",
                        drop.id, user=user)
    return keep


def timeline_count(customer_id: int) -> int:
    return Activity.select().where(Activity.customer == customer_id).count()


# --- what the audit log keeps of a record (before/after) ---

@audit.snapshotter("customer")
def _customer(cid: int) -> dict | None:
    from app.customers.service import TEXT_FIELDS
    from models.core import Address, Customer, CustomerTag, PhoneNumber, Tag, User

    c = Customer.get_or_none(Customer.id == cid)
    if c is None:
        return None
    d: dict[str, Any] = {f: getattr(c, f) for f in TEXT_FIELDS}
    d.update(kind=c.kind, stage=c.stage, birthday=c.birthday, anniversary=c.anniversary)
    owner = User.get_or_none(User.id == c.assigned_to_id) if c.assigned_to_id else None
    d["assigned_to"] = owner.name if owner else None
    d["phones"] = "، ".join(p.raw for p in PhoneNumber.select().where(PhoneNumber.customer == cid)
                           .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id))
    d["addresses"] = " | ".join(" ".join(x for x in (a.province, a.city, a.line, a.postal_code) if x)
                                for a in Address.select().where(Address.customer == cid).order_by(Address.id))
    d["tags"] = "، ".join(t.tag.name for t in CustomerTag.select(CustomerTag, Tag).join(Tag)
                         .where(CustomerTag.customer == cid).order_by(Tag.name))
    d["merged_into"] = c.merged_into_id
    d["_label"] = c.display_name
    return d
