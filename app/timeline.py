"""The customer's timeline: an append-only record every feature writes into."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from app.clock import now
from models.core import Activity

logger = logging.getLogger(__name__)

# Persian labels of the kinds written so far; features add theirs with register_kind().
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
}


def register_kind(kind: str, label: str) -> None:
    KIND_LABELS.setdefault(kind, label)


# Features that write the timeline register their kinds' labels when imported; load them all before showing
# a timeline, so a customer file opened first (before any of those pages) still reads «فاکتور», not "invoice".
FEATURE_MODULES = ("app.tasks", "app.meetings", "app.call_log", "app.sales", "app.callerid.service",
                   "app.pipeline.opportunities", "app.pipeline.conversion")
_features_loaded = False


def _load_feature_labels() -> None:
    global _features_loaded
    if _features_loaded:
        return
    import importlib

    for name in FEATURE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            logger.debug("timeline labels: %s not available", name)
    _features_loaded = True


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
    data: dict


def record(customer_id: int | None, kind: str, summary: str, ref_table: str = "", ref_id: int | None = None,
           data: dict | None = None, user: int | None = None, at: dt.datetime | None = None) -> Activity:
    return Activity.create(
        customer=customer_id, kind=kind, summary=summary, ref_table=ref_table, ref_id=ref_id,
        data=json.dumps(data, ensure_ascii=False, default=str) if data else "", user=user, at=at or now())


def entries(customer_id: int, limit: int | None = None, kinds: list[str] | None = None) -> list[Entry]:
    """Newest first."""
    from peewee import JOIN

    _load_feature_labels()

    from models.core import User

    q = (Activity.select(Activity, User.name)
         .join(User, on=(Activity.user == User.id), join_type=JOIN.LEFT_OUTER)
         .where(Activity.customer == customer_id)
         .order_by(Activity.at.desc(), Activity.id.desc()))
    if kinds:
        q = q.where(Activity.kind.in_(kinds))
    if limit:
        q = q.limit(limit)
    out = []
    for a in q.objects():
        try:
            data = json.loads(a.data) if a.data else {}
        except ValueError:
            data = {}
        out.append(Entry(a.id, a.at, a.kind, KIND_LABELS.get(a.kind, a.kind), a.summary,
                         getattr(a, "name", None) or "", a.ref_table, a.ref_id, data))
    return out
