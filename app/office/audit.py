"""The audit log: who created, changed, deleted, merged, exported, printed what, and when.

Hooks into the services are one decorator each:

    @audit.tracked("update", "customer", key="customer_id")   # snapshot before and after, field by field
    def update_customer(customer_id, data, user=None): ...

    @audit.exported("customers")                               # after a successful export: rows and file
    def export_customers(path, ...): ...

    @audit.printed("document", key="doc")                      # a PDF made for printing or saving
    def render_document(doc, out=None, ...): ...

A tracked function runs through the one write door together with its log entry, in one transaction: the
change and its entry are written together or not at all.

There is no API to change or delete an entry (the model refuses, and the database refuses by trigger).
Reading is for those whose role has «audit.view»; the list can be filtered and exported to Excel.
"""
from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from app.clock import now
from app.office import session
from models.office import AuditLog
from models.writer import writer

logger = logging.getLogger(__name__)
T = TypeVar("T")

ACTION_LABELS = {
    "create": "ایجاد", "update": "ویرایش", "delete": "حذف", "merge": "ادغام", "export": "خروجی اکسل",
    "print": "چاپ/PDF", "issue": "صدور", "cancel": "ابطال", "correct": "اصلاح", "convert": "تبدیل",
    "void": "ابطال دریافت", "sign_in": "ورود", "sign_in_failed": "ورود ناموفق", "sign_out": "خروج",
    "password": "رمز عبور", "unlock": "باز کردن قفل", "revoke": "لغو ورود به‌خاطرسپرده",
    "auto_sign_in": "ورود خودکار میز", "deactivate": "غیرفعال کردن", "handover": "واگذاری",
    "settings": "تنظیمات",
}
ENTITY_LABELS = {
    "customer": "مشتری", "document": "سند فروش", "payment": "دریافت", "user": "کاربر", "role": "نقش",
    "customers": "فهرست مشتریان", "calls": "تماس‌ها", "documents": "اسناد فروش", "payments": "دریافت‌ها",
    "tasks": "کارها", "report": "گزارش", "audit": "گزارش رویدادها", "settings": "تنظیمات",
}


# --- writing ------------------------------------------------------------------------------------------------

def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v.normalize())
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


def diff(before: dict | None, after: dict | None) -> dict[str, list]:
    """{field: [before, after]} for every field that differs (a created record: before is None)."""
    before, after = before or {}, after or {}
    out: dict[str, list] = {}
    for k in list(before) + [k for k in after if k not in before]:
        if k.startswith("_"):
            continue
        b, a = _jsonable(before.get(k)), _jsonable(after.get(k))
        if b in ("", None, []) and a in ("", None, []):
            continue
        if b != a:
            out[k] = [b, a]
    return out


def _who(user_id: int | None) -> tuple[int | None, str]:
    if user_id is not None:
        from models.core import User

        u = User.get_or_none(User.id == user_id)
        return user_id, (u.name if u else "")
    p = session.current()
    if p is None:
        return None, ""
    return p.user_id, p.name


def record(action: str, entity: str, entity_id: int | None = None, summary: str = "",
           changes: dict | None = None, user_id: int | None = None,
           as_user: tuple[int | None, str] | None = None) -> None:
    """Append one entry (inside the caller's transaction when there is one, else through the write door)."""
    from app.office.auth import desk_name

    uid, name = as_user if as_user is not None else _who(user_id)
    row = dict(at=now(), user_id=uid, user_name=(name or "")[:120], action=action[:20], entity=entity[:30],
               entity_id=entity_id, summary=summary,
               changes=json.dumps(_jsonable(changes), ensure_ascii=False) if changes else "",
               desk=desk_name())
    writer.run(lambda: AuditLog.insert(**row).execute())


# --- snapshots of records -----------------------------------------------------------------------------------

SNAPSHOTS: dict[str, Callable[[int], dict | None]] = {}


def snapshotter(entity: str):
    def deco(fn):
        SNAPSHOTS[entity] = fn
        return fn
    return deco


@snapshotter("customer")
def _customer(cid: int) -> dict | None:
    from app.customers import TEXT_FIELDS
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


@snapshotter("document")
def _document(doc_id: int) -> dict | None:
    try:
        from models.sales import SalesDocument, SalesLine
    except ImportError:
        return None
    doc = SalesDocument.get_or_none(SalesDocument.id == doc_id)
    if doc is None:
        return None
    d: dict[str, Any] = {f: getattr(doc, f) for f in (
        "doc_type", "state", "number", "date", "due_date", "valid_until", "invoice_type", "settlement",
        "subtotal", "line_discount", "doc_discount", "vat_total", "total", "notes", "terms", "cancel_reason")}
    d["customer"] = doc.customer.display_name if doc.customer_id else None
    d["lines"] = "؛ ".join(f"{ln.description} × {_jsonable(ln.quantity)} @ {ln.unit_price}"
                          for ln in SalesLine.select().where(SalesLine.document == doc_id)
                          .order_by(SalesLine.position))
    kind = "پیش‌فاکتور" if doc.doc_type == "proforma" else "فاکتور"
    d["_label"] = f"{kind} {doc.number}" if doc.number else f"{kind} پیش‌نویس (شناسه {doc.id})"
    return d


@snapshotter("payment")
def _payment(pid: int) -> dict | None:
    try:
        from models.sales import Payment
    except ImportError:
        return None
    p = Payment.get_or_none(Payment.id == pid)
    if p is None:
        return None
    d = {f: getattr(p, f) for f in ("kind", "amount", "date", "reference", "cheque_number", "cheque_state",
                                      "state", "void_reason", "note")}
    d["customer"] = p.customer.display_name if p.customer_id else None
    d["_label"] = f"دریافت {p.amount:,} ریال".replace(",", "٬")
    return d


@snapshotter("user")
def _user(uid: int) -> dict | None:
    from models.core import User

    u = User.get_or_none(User.id == uid)
    if u is None:
        return None
    return {"name": u.name, "username": u.username, "role": u.role, "active": u.active, "_label": u.name}


def snapshot(entity: str, entity_id: int | None) -> dict | None:
    fn = SNAPSHOTS.get(entity)
    if fn is None or entity_id is None:
        return None
    return fn(int(entity_id))


# --- decorators ---------------------------------------------------------------------------------------------

def _id_of(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    v = getattr(value, "id", None)
    return v if isinstance(v, int) else None


_VERB = {"create": "ایجاد شد", "update": "ویرایش شد", "delete": "حذف شد", "merge": "ادغام شد",
         "issue": "صادر شد", "cancel": "باطل شد", "correct": "اصلاح شد", "convert": "تبدیل شد",
         "void": "باطل شد"}


def tracked(action: str | Callable[[dict], str], entity: str, key: str | None = None,
            user_arg: str = "user", also: str | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Log a service call with the record's fields before and after.

    action: a verb, or a function of the bound arguments returning one (create vs update).
    key: the argument naming the record (None: the record is the function's result).
    also: an argument naming a second record of the same kind (a merge's dropped customer).
    """
    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def logged(*args: Any, **kwargs: Any) -> T:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.update(arguments.pop("kwargs", {}) or {})
            verb = action(arguments) if callable(action) else action

            def job() -> T:
                target = _id_of(arguments.get(key)) if key else None
                before = snapshot(entity, target) if target is not None else None
                other = snapshot(entity, _id_of(arguments.get(also))) if also else None
                result = fn(*args, **kwargs)
                rid = target if target is not None else _id_of(result)
                after = snapshot(entity, rid) if (rid is not None and verb != "delete") else None
                changes = diff(before, after)
                if verb == "update" and not changes:
                    return result
                if other is not None:
                    changes["merged"] = [other.get("_label"), (after or {}).get("_label")]
                label = (after or before or {}).get("_label") or f"{ENTITY_LABELS.get(entity, entity)} {rid or ''}"
                what = ENTITY_LABELS.get(entity, entity)
                summary = f"{what} «{label}» {_VERB.get(verb, verb)}"
                if other is not None:
                    summary = f"{what} «{other.get('_label')}» در «{label}» ادغام شد"
                result_label = _result_label(entity, result)
                if result_label and result_label != label:
                    summary += f" → «{result_label}»"
                record(verb, entity, rid, summary, changes, user_id=_id_of(arguments.get(user_arg)))
                return result

            return writer.run(job)

        logged.audited = (action, entity)  # type: ignore[attr-defined]
        return logged

    return deco


def _result_label(entity: str, result: Any) -> str | None:
    rid = _id_of(result)
    if rid is None:
        return None
    snap = snapshot(entity, rid)
    return snap.get("_label") if snap else None


def exported(entity: str, path_arg: str = "path") -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Log a finished export: what, how many rows, which file."""
    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def logged(*args: Any, **kwargs: Any) -> T:
            result = fn(*args, **kwargs)
            try:
                bound = sig.bind(*args, **kwargs)
                path = getattr(result, "path", None) or bound.arguments.get(path_arg) or result
                rows = getattr(result, "rows", None)
                if rows is None:
                    given = bound.arguments.get("rows")
                    rows = len(given) if isinstance(given, (list, tuple)) else None
                what = ENTITY_LABELS.get(entity, entity)
                count = f"{rows:,} ردیف ".replace(",", "٬") if isinstance(rows, int) else ""
                record("export", entity, None, f"خروجی اکسل {what}: {count}در {path}",
                       {"file": [None, str(path)], "rows": [None, rows]})
            except Exception:  # noqa: BLE001 - the file is written; a failed log entry is logged, not raised
                logger.exception("audit entry for an export failed")
            return result

        logged.audited = ("export", entity)  # type: ignore[attr-defined]
        return logged

    return deco


def printed(entity: str, key: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Log a document rendered to PDF for printing or saving."""
    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def logged(*args: Any, **kwargs: Any) -> T:
            result = fn(*args, **kwargs)
            try:
                bound = sig.bind(*args, **kwargs)
                rid = _id_of(bound.arguments.get(key))
                snap = snapshot(entity, rid) or {}
                out = bound.arguments.get("out")
                where = f" در {out}" if isinstance(out, (str, bytes)) or hasattr(out, "__fspath__") else ""
                record("print", entity, rid, f"{ENTITY_LABELS.get(entity, entity)} «{snap.get('_label', rid)}» "
                                             f"برای چاپ آماده شد{where}")
            except Exception:  # noqa: BLE001
                logger.exception("audit entry for a print failed")
            return result

        logged.audited = ("print", entity)  # type: ignore[attr-defined]
        return logged

    return deco


# --- reading ------------------------------------------------------------------------------------------------

@dataclass
class AuditFilter:
    user_id: int | None = None
    action: str = ""
    entity: str = ""
    entity_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str = ""


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    user_id: int | None
    user_name: str
    action: str
    action_label: str
    entity: str
    entity_label: str
    entity_id: int | None
    summary: str
    changes: dict
    desk: str

    def changes_text(self) -> str:
        parts = []
        for k, (b, a) in self.changes.items():
            parts.append(f"{FIELD_LABELS.get(k, k)}: {_short(b)} ← {_short(a)}")
        return "؛ ".join(parts)


FIELD_LABELS = {
    "first_name": "نام", "last_name": "نام خانوادگی", "company": "شرکت", "title": "عنوان", "job": "شغل",
    "customer_type": "نوع", "rank": "رتبه", "status": "وضعیت", "activity_field": "زمینه فعالیت",
    "source": "نحوه آشنایی", "economic_code": "کد اقتصادی", "registration_no": "شماره ثبت",
    "postal_code": "کد پستی", "email": "ایمیل", "website": "وب‌سایت", "description": "توضیحات",
    "national_id": "کد ملی", "kind": "حقیقی/حقوقی", "stage": "مرحله", "birthday": "تولد",
    "anniversary": "سالگرد ازدواج", "assigned_to": "مسئول", "phones": "تلفن‌ها", "addresses": "نشانی‌ها",
    "tags": "برچسب‌ها", "merged_into": "ادغام در", "merged": "ادغام", "state": "وضعیت", "number": "شماره",
    "date": "تاریخ", "due_date": "سررسید", "total": "مبلغ کل", "subtotal": "جمع", "vat_total": "مالیات",
    "doc_discount": "تخفیف", "line_discount": "تخفیف ردیف‌ها", "lines": "ردیف‌ها", "customer": "مشتری",
    "notes": "یادداشت", "cancel_reason": "علت ابطال", "amount": "مبلغ", "name": "نام", "username": "نام کاربری",
    "role": "نقش", "active": "فعال", "permissions": "دسترسی‌ها", "file": "پرونده", "rows": "ردیف‌ها",
    "settlement": "تسویه", "valid_until": "اعتبار تا", "invoice_type": "نوع صورتحساب", "doc_type": "نوع سند",
    "terms": "شرایط", "void_reason": "علت ابطال", "auto_sign_in": "ورود خودکار",
}


def _short(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, bool):
        return "بله" if v else "خیر"
    if isinstance(v, list):
        v = "، ".join(str(x) for x in v)
    s = str(v)
    return s if len(s) <= 80 else s[:77] + "…"


def _query(f: AuditFilter):
    q = AuditLog.select()
    if f.user_id is not None:
        q = q.where(AuditLog.user_id == f.user_id)
    if f.action:
        q = q.where(AuditLog.action == f.action)
    if f.entity:
        q = q.where(AuditLog.entity == f.entity)
    if f.entity_id is not None:
        q = q.where(AuditLog.entity_id == f.entity_id)
    if f.date_from:
        q = q.where(AuditLog.at >= dt.datetime.combine(f.date_from, dt.time.min))
    if f.date_to:
        q = q.where(AuditLog.at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min))
    return q


def _entry(r: AuditLog) -> Entry:
    try:
        changes = json.loads(r.changes) if r.changes else {}
    except ValueError:
        changes = {}
    return Entry(r.id, r.at, r.user_id, r.user_name, r.action, ACTION_LABELS.get(r.action, r.action), r.entity,
                 ENTITY_LABELS.get(r.entity, r.entity), r.entity_id, r.summary, changes, r.desk)


def entries(f: AuditFilter | None = None, limit: int | None = 2000) -> list[Entry]:
    """Newest first. Only for roles with «audit.view»."""
    from app.office import roles

    roles.require("audit.view")
    f = f or AuditFilter()
    q = _query(f).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    out = []
    needle = _fold(f.text)
    for r in q.iterator():
        if needle and needle not in _fold(f"{r.summary} {r.user_name} {r.changes}"):
            continue
        out.append(_entry(r))
        if limit and len(out) >= limit:
            break
    return out


def _fold(s: str) -> str:
    from app.text import search_key

    return search_key(s or "")


def history(entity: str, entity_id: int) -> list[Entry]:
    """One record's story, oldest first."""
    return list(reversed(entries(AuditFilter(entity=entity, entity_id=entity_id), limit=None)))


def users_in_log() -> list[tuple[int, str]]:
    from app.office import roles

    roles.require("audit.view")
    rows = (AuditLog.select(AuditLog.user_id, AuditLog.user_name).where(AuditLog.user_id.is_null(False))
            .distinct().tuples())
    seen: dict[int, str] = {}
    for uid, name in rows:
        seen.setdefault(uid, name)
    return sorted(seen.items(), key=lambda x: x[1])


def columns():
    from app.excel_export import Column

    return [
        Column("at", "زمان", "datetime", width=18),
        Column("user_name", "کاربر", width=18),
        Column("action_label", "کار", width=14),
        Column("entity_label", "نوع", width=14),
        Column("entity_id", "شناسه", "int", width=8),
        Column("summary", "شرح", width=50),
        Column("changes", "پیش و پس از تغییر", width=70, get=lambda e: e.changes_text()),
        Column("desk", "رایانه", width=14),
    ]


def export_xlsx(path, f: AuditFilter | None = None, progress=None, cancel=None):
    """The filtered log as an Excel file (needs «audit.view» and «export»); the export itself is logged."""
    from app.excel_export import write_xlsx
    from app.office import roles

    roles.require("export")
    rows = entries(f, limit=None)
    subtitle = describe(f or AuditFilter())
    result = write_xlsx(path, columns(), rows, title="گزارش رویدادها", subtitle=subtitle,
                        sheet_name="رویدادها", total=len(rows), progress=progress, cancel=cancel)
    record("export", "audit", None, f"خروجی اکسل گزارش رویدادها: {len(rows)} ردیف در {path}",
           {"file": [None, str(path)], "rows": [None, len(rows)]})
    return result


def describe(f: AuditFilter) -> str:
    from app.jalali import format_date

    parts = []
    if f.user_id is not None:
        from models.core import User

        u = User.get_or_none(User.id == f.user_id)
        parts.append(f"کاربر: {u.name if u else f.user_id}")
    if f.action:
        parts.append(f"کار: {ACTION_LABELS.get(f.action, f.action)}")
    if f.entity:
        parts.append(f"نوع: {ENTITY_LABELS.get(f.entity, f.entity)}")
    if f.date_from:
        parts.append(f"از {format_date(f.date_from)}")
    if f.date_to:
        parts.append(f"تا {format_date(f.date_to)}")
    if f.text:
        parts.append(f"جستجو: {f.text}")
    return "، ".join(parts) or "همه رویدادها"


def actions() -> Iterable[tuple[str, str]]:
    return ACTION_LABELS.items()
