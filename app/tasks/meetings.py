"""Meetings and visits (حضوری), recorded like calls so that "last visit" is known."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app.core import jalali
from app.core.clock import now
from app.core.errors import NotFound, ValidationError
from app.core.text import clean
from app.customers import timeline
from models import sqlcache
from models.base import db
from models.core import Customer, User
from models.tasks import Meeting

logger = logging.getLogger(__name__)

KIND_LABELS = {"office": "حضوری در دفتر", "onsite": "بازدید از محل مشتری", "online": "جلسه آنلاین"}
STATUS_LABELS = {"planned": "برنامه‌ریزی‌شده", "held": "برگزار شد", "cancelled": "لغو شد"}



@dataclass(frozen=True)
class MeetingRow:
    id: int
    customer_id: int | None
    customer_name: str
    user_id: int | None
    user_name: str
    kind: str
    status: str
    start_at: dt.datetime
    duration: int | None
    subject: str
    location: str
    summary: str


def _validate(data: dict, existing: Meeting | None = None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}

    def cur(k, default=None):
        return data.get(k, getattr(existing, k) if existing else default)

    cid = data.get("customer_id", existing.customer_id if existing else None) or None
    if cid and not Customer.select().where(Customer.id == cid).exists():
        errors["customer_id"] = "این مشتری پیدا نشد."
    out["customer"] = cid
    uid = data.get("user_id", existing.user_id if existing else None) or None
    if uid and not User.select().where(User.id == uid).exists():
        errors["user_id"] = "این همکار پیدا نشد."
    out["user"] = uid
    kind = cur("kind", "office") or "office"
    if kind not in Meeting.KINDS:
        errors["kind"] = "نوع جلسه درست نیست."
    out["kind"] = kind
    start = cur("start_at")
    if not isinstance(start, dt.datetime):
        errors["start_at"] = "تاریخ و ساعت جلسه را بنویسید."
    out["start_at"] = start
    status = cur("status", None) or ("held" if isinstance(start, dt.datetime) and start <= now() else "planned")
    if status not in Meeting.STATUSES:
        errors["status"] = "وضعیت جلسه درست نیست."
    if status == "held" and isinstance(start, dt.datetime) and start > now() + dt.timedelta(minutes=5):
        errors["status"] = "جلسه‌ای که هنوز نرسیده نمی‌تواند برگزارشده باشد."
    out["status"] = status
    dur = cur("duration")
    if dur in ("",):
        dur = None
    if dur is not None:
        try:
            dur = int(dur)
            if not 0 < dur <= 24 * 60:
                raise ValueError
        except (TypeError, ValueError):
            errors["duration"] = "مدت جلسه را به دقیقه بنویسید."
            dur = None
    out["duration"] = dur
    out["subject"] = clean(cur("subject", "") or "")[:200]
    out["location"] = clean(cur("location", "") or "")[:200]
    out["summary"] = "\n".join(clean(x) for x in str(cur("summary", "") or "").splitlines()).strip()
    if not out["subject"] and not out["summary"]:
        errors["subject"] = "موضوع جلسه را بنویسید."
    if not cid:
        errors.setdefault("customer_id", "مشتری جلسه را انتخاب کنید.")
    rb = cur("remind_before")
    out["remind_before"] = int(rb) if rb not in (None, "") else None
    if errors:
        raise ValidationError(errors)
    return out


def _timeline(m: Meeting, user: int | None, edited: bool = False) -> None:
    if not m.customer_id:
        return
    what = KIND_LABELS.get(m.kind, "جلسه")
    if m.status == "planned":
        text = f"قرار {what} برای {jalali.format_datetime(m.start_at)}: {m.subject}"
        kind = "meeting_planned"
    elif m.status == "cancelled":
        text = f"{what} {jalali.format_datetime(m.start_at)} لغو شد."
        kind = "meeting_planned"
    else:
        text = f"{what}: {m.subject}" + (f" — {m.summary}" if m.summary else "")
        kind = "meeting"
    timeline.record(m.customer_id, kind, text[:1000], "meeting", m.id, user=user,
                    at=m.start_at if (m.status == "held" and not edited) else None)


def create_meeting(data: dict, user: int | None = None) -> Meeting:
    """data: customer_id, user_id (default: who records it), kind, start_at, duration (min), subject,
    location, summary, status (planned/held; default by time), remind_before (min)."""
    data = dict(data)
    data.setdefault("user_id", user)
    d = _validate(data)
    from app.tasks import reminders

    with db.atomic():
        m = Meeting.create(**d, created_by=user, created_at=now())
        reminders.sync_meeting(m)
        _timeline(m, user)
    return m


def update_meeting(meeting_id: int, data: dict, user: int | None = None) -> Meeting:
    m = get_meeting(meeting_id)
    d = _validate(data, existing=m)
    from app.tasks import reminders

    with db.atomic():
        changed_status = d["status"] != m.status
        for k, v in d.items():
            setattr(m, k, v)
        m.save()
        reminders.sync_meeting(m)
        if changed_status or data.get("summary"):
            _timeline(m, user, edited=True)
    return m


def get_meeting(meeting_id: int) -> Meeting:
    m = Meeting.get_or_none(Meeting.id == meeting_id)
    if m is None:
        raise NotFound("این جلسه پیدا نشد.")
    return m


def meeting_data(meeting_id: int) -> dict:
    m = get_meeting(meeting_id)
    return {"id": m.id, "customer_id": m.customer_id,
            "customer_name": m.customer.display_name if m.customer_id else "", "user_id": m.user_id,
            "kind": m.kind, "status": m.status, "start_at": m.start_at, "duration": m.duration,
            "subject": m.subject, "location": m.location, "summary": m.summary, "remind_before": m.remind_before}


def _rows(rows: list[tuple]) -> list[MeetingRow]:
    from app.core.text import party_name as _name
    from app.tasks.service import _dt_set

    out = []
    for (mid, cid, first, last, company, ckind, uid, uname, kind, status, start, dur, subject, loc,
         summary) in rows:
        out.append(MeetingRow(mid, cid, _name(first, last, company, ckind) if cid else "", uid, uname or "", kind,
                              status, _dt_set(start), dur, subject, loc, summary))
    return out


def _query():
    return (Meeting.select(Meeting.id, Meeting.customer, Customer.first_name, Customer.last_name, Customer.company,
                           Customer.kind, Meeting.user, User.name, Meeting.kind, Meeting.status, Meeting.start_at,
                           Meeting.duration, Meeting.subject, Meeting.location, Meeting.summary)
            .join(Customer, pw.JOIN.LEFT_OUTER, on=(Meeting.customer == Customer.id))
            .switch(Meeting).join(User, pw.JOIN.LEFT_OUTER, on=(Meeting.user == User.id)))


def meetings_on(day: dt.date, user_id: int | None = None) -> list[MeetingRow]:
    start = dt.datetime.combine(day, dt.time())

    def build(first, end, who):         # built once per shape, given its values (models.sqlcache)
        q = _query().where(Meeting.start_at >= first, Meeting.start_at < end,
                           Meeting.status != "cancelled").order_by(Meeting.start_at)
        return q if who is None else q.where(Meeting.user == who)

    return _rows(sqlcache.run("meetings.on", build, start, start + dt.timedelta(days=1), user_id or None).fetchall())


def last_visit(customer_id: int) -> tuple[dt.datetime, str] | None:
    """The latest meeting held with this customer: (when, summary or subject). The caller-ID popup shows it."""
    m = (Meeting.select(Meeting.start_at, Meeting.summary, Meeting.subject)
         .where(Meeting.customer == customer_id, Meeting.status == "held")
         .order_by(Meeting.start_at.desc()).first())
    if m is None:
        return None
    return m.start_at, (m.summary or m.subject)
