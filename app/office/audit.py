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
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from app.core.clock import now
from app.core.text import format_number
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
    "settings": "تنظیمات", "import": "ورود از اکسل", "resend": "ارسال دوباره", "mark_sent": "ثبت رسیدن پیام", "dismiss": "کنار گذاشتن پیام",
    "email": "ارسال ایمیل", "email_group": "ارسال گروهی ایمیل",
}
ENTITY_LABELS = {
    "customer": "مشتری", "document": "سند فروش", "payment": "دریافت", "user": "کاربر", "role": "نقش",
    "customers": "فهرست مشتریان", "calls": "تماس‌ها", "documents": "اسناد فروش", "payments": "دریافت‌ها",
    "tasks": "کارها", "report": "گزارش", "audit": "گزارش رویدادها", "settings": "تنظیمات",
    "message": "پیام", "campaign": "پیام گروهی",
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
           as_user: tuple[int | None, str] | None = None, at: dt.datetime | None = None) -> None:
    """Append one entry (inside the caller's transaction when there is one, else through the write door). `at`:
    when it happened, for an entry written later (now by default)."""
    from app.office.session import desk_name

    uid, name = as_user if as_user is not None else _who(user_id)
    row = dict(at=at or now(), user_id=uid, user_name=(name or "")[:120], action=action[:20], entity=entity[:30],
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
                count = f"{format_number(rows)} ردیف " if isinstance(rows, int) else ""    # as app.fmt.count
                record("export", entity, None, f"خروجی اکسل {what}: {count}در {path}",
                       {"file": [None, str(path)], "rows": [None, rows]})
            except Exception:
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
                where = f" در {os.fsdecode(out) if isinstance(out, bytes) else out}" if isinstance(out, (str, bytes)) or hasattr(out, "__fspath__") else ""
                record("print", entity, rid, f"{ENTITY_LABELS.get(entity, entity)} «{snap.get('_label', rid)}» "
                                             f"برای چاپ آماده شد{where}")
            except Exception:
                logger.exception("audit entry for a print failed")
            return result

        logged.audited = ("print", entity)  # type: ignore[attr-defined]
        return logged

    return deco


# --- reading ------------------------------------------------------------------------------------------------
