"""Reading the audit log: filters, one record's history, the Excel export (the manager's page and `crm audit`).

Recording lives in app/office/audit.py; this side needs the roles and Excel export, which record through it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.office.audit import ACTION_LABELS, ENTITY_LABELS, record
from models.office import AuditLog

logger = logging.getLogger(__name__)


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
    from app.core.text import search_key

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
    from app.excel.export import Column

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
    from app.excel.export import write_xlsx
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
    from app.core.jalali import format_date

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
