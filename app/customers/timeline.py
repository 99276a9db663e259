"""The customer's timeline: an append-only record every feature writes into."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from app.core.clock import now
from models.base import as_datetime, db
from models.core import Activity

logger = logging.getLogger(__name__)

# Persian labels of every kind of entry, declared here once (a new feature adds its kinds to this table).
KIND_LABELS: dict[str, str] = {
    "created": "ایجاد پرونده",
    "edited": "ویرایش پرونده",
    "note": "یادداشت",
    "merged": "ادغام پرونده",
    "phone_added": "افزودن شماره",
    "call_in": "تماس ورودی",
    "call_out": "تماس خروجی",
    "call_missed": "تماس بی‌پاسخ",
    "imported": "ورود از اکسل",
    "proforma": "پیش‌فاکتور",
    "invoice": "فاکتور",
    "payment": "دریافت وجه",
    "task": "کار",
    "followup": "پیگیری",
    "task_done": "انجام کار",
    "task_reopened": "بازگشایی کار",
    "task_referred": "ارجاع",
    "task_edited": "ویرایش کار",
    "meeting": "جلسه حضوری",
    "meeting_planned": "قرار جلسه",
    "call_note": "یادداشت تماس",
    "converted": "تبدیل سرنخ به مشتری",
    "opportunity": "فرصت فروش",
    "opportunity_stage": "تغییر مرحله فرصت",
    "sms_out": "پیامک",
    "sms_in": "پاسخ پیامکی",
    "sms_optout": "لغو دریافت پیامک",
    "email_out": "ایمیل",
    "service": "درخواست خدمت",
    "service_done": "درخواست خدمت انجام شد",
    "service_assigned": "ارجاع درخواست خدمت",
    "service_survey": "نظرسنجی خدمت",
    "contract": "قرارداد",
    "warranty": "گارانتی",
    "document": "سند پیوست",
    "document_removed": "حذف سند",
}


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    kind: str
    label: str
    summary: str
    user_name: str
    ref_table: str
    ref_id: int | None
    raw_data: str          # the details as stored (JSON text, or "")

    @property
    def data(self) -> dict:
        """The entry's details, parsed when asked: a long history's file lists thousands of entries and reads
        the details of none."""
        try:
            return json.loads(self.raw_data) if self.raw_data else {}
        except ValueError:
            return {}


def record(customer_id: int | None, kind: str, summary: str, ref_table: str = "", ref_id: int | None = None,
           data: dict | None = None, user: int | None = None, at: dt.datetime | None = None) -> Activity:
    return Activity.create(
        customer=customer_id, kind=kind, summary=summary, ref_table=ref_table, ref_id=ref_id,
        data=json.dumps(data, ensure_ascii=False, default=str) if data else "", user=user, at=at or now())


def entries(customer_id: int, limit: int | None = None, kinds: list[str] | None = None) -> list[Entry]:
    """Newest first."""
    from peewee import JOIN

    from models.core import User

    q = (Activity.select(Activity.id, Activity.at, Activity.kind, Activity.summary, User.name, Activity.ref_table,
                         Activity.ref_id, Activity.data)
         .join(User, on=(Activity.user == User.id), join_type=JOIN.LEFT_OUTER)
         .where(Activity.customer == customer_id)
         .order_by(Activity.at.desc(), Activity.id.desc()))
    if kinds:
        q = q.where(Activity.kind.in_(kinds))
    if limit:
        q = q.limit(limit)
    out = []
    # the driver's rows as they come: a model instance per entry cost a long history more than its query
    for entry_id, at, kind, summary, user_name, ref_table, ref_id, raw in db.execute(q):
        out.append(Entry(entry_id, as_datetime(at), kind, KIND_LABELS.get(kind, kind), summary, user_name or "",
                         ref_table, ref_id, raw or ""))
    return out
