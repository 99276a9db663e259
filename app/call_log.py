"""Logging a call by hand (ثبت تماس): an outbound call, an inbound one typed in, or a note on a call caller ID
already recorded. Writes the Call row (handled), the customer's timeline, and the follow-up task or referral.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from app import jalali, settings, timeline
from app.clock import now
from app.errors import NotFound, ValidationError
from app.text import clean, to_ascii_digits
from models.base import db
from models.calls import Call
from models.core import Activity, Customer, PhoneNumber
from models.tasks import Task

logger = logging.getLogger(__name__)

RESULT_LABELS = {"answered": "پاسخ داده شد", "no_answer": "پاسخ نداد", "busy": "مشغول بود",
                 "wrong_number": "شماره اشتباه", "voicemail": "پیغام‌گیر"}
DIRECTION_LABELS = {"in": "ورودی", "out": "خروجی"}

timeline.register_kind("call_note", "یادداشت تماس")


@dataclass(frozen=True)
class Logged:
    call: Call
    task: Task | None


def parse_duration(text: str | int | None) -> int | None:
    """'5' → 300 s (minutes), '2:30' → 150 s, '' → None. Raises ValidationError for anything else."""
    if text is None:
        return None
    if isinstance(text, int):
        return text
    s = to_ascii_digits(str(text)).strip()
    if not s:
        return None
    try:
        if ":" in s:
            m, sec = s.split(":", 1)
            m, sec = int(m or 0), int(sec or 0)
            if sec >= 60 or m < 0 or sec < 0:
                raise ValueError
            return m * 60 + sec
        v = float(s)
        if v < 0:
            raise ValueError
        return int(round(v * 60))
    except ValueError:
        raise ValidationError({"duration": "مدت تماس را به دقیقه بنویسید (مثلاً ۳ یا ۲:۳۰)."}) from None


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    return jalali.to_persian_digits(f"{m}:{s:02d}")


def call_data(call_id: int) -> dict:
    """A call as the dialog shows it (used when the caller-ID popup hands over a call id)."""
    c = Call.get_or_none(Call.id == call_id)
    if c is None:
        raise NotFound("این تماس پیدا نشد.")
    name = c.customer.display_name if c.customer_id else ""
    return {"id": c.id, "customer_id": c.customer_id, "customer_name": name, "direction": c.direction,
            "state": c.state, "result": c.result, "number": c.number or c.number_raw, "started_at": c.started_at,
            "duration": c.duration, "note": c.note, "handled": c.handled, "user_id": c.user_id}


def _primary_number(customer_id: int | None) -> str:
    if not customer_id:
        return ""
    p = (PhoneNumber.select(PhoneNumber.canonical).where(PhoneNumber.customer == customer_id)
         .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).first())
    return p.canonical if p else ""


def log_call(data: dict, user: int | None = None) -> Logged:
    """Record a call. data:
      call_id            an existing call (from caller ID) to complete instead of creating one
      customer_id        who (may be None for an unknown number: then `number` is needed)
      number             the number dialled/seen, any format (optional when the customer has one)
      direction          "in" / "out"
      started_at         datetime (default now)
      duration           seconds (int) or text: '3' minutes, '2:30'
      result             answered / no_answer / busy / wrong_number / voicemail
      note               what was said
      follow_up_at       datetime or date → a follow-up task; follow_up_all_day when only a date was given
      follow_up_title    its title (default: «پیگیری تماس با …»)
      follow_up_assignee who does it (default: the person logging the call)
      refer_to, refer_reason   hand the follow-up to a colleague (a task is created when none was asked for)
    """
    errors: dict[str, str] = {}
    call_id = data.get("call_id") or None
    existing = None
    if call_id:
        existing = Call.get_or_none(Call.id == call_id)
        if existing is None:
            raise NotFound("این تماس پیدا نشد (شاید حذف شده است).")
    customer_id = data.get("customer_id", existing.customer_id if existing else None) or None
    if customer_id and not Customer.select().where(Customer.id == customer_id).exists():
        errors["customer_id"] = "این مشتری پیدا نشد."
    direction = data.get("direction") or (existing.direction if existing else "out")
    if direction not in Call.DIRECTIONS:
        errors["direction"] = "جهت تماس باید ورودی یا خروجی باشد."
    result = data.get("result", existing.result if existing else "") or ""
    if result and result not in RESULT_LABELS:
        errors["result"] = "نتیجه تماس درست نیست."
    started = data.get("started_at") or (existing.started_at if existing else now())
    if not isinstance(started, dt.datetime):
        errors["started_at"] = "زمان تماس درست نیست."
    elif started > now() + dt.timedelta(minutes=5):
        errors["started_at"] = "زمان تماس در آینده است."
    try:
        duration = parse_duration(data.get("duration")) if "duration" in data else (
            existing.duration if existing else None)
    except ValidationError as e:
        errors.update(e.errors)
        duration = None
    if duration is not None and duration > 24 * 3600:
        errors["duration"] = "مدت تماس بیش از یک روز است."
    note = "\n".join(clean(x) for x in str(data.get("note") or "").splitlines()).strip()
    number_raw = clean(data.get("number") or "")
    number = ""
    if number_raw:
        from app import phones as ph

        parsed = ph.normalize(number_raw, settings.area_code())
        if not parsed.valid:
            errors["number"] = ph.problem_message(parsed)
        number = parsed.canonical
    elif not existing:
        number = _primary_number(customer_id)
        number_raw = number
        if not customer_id and not number:
            errors["customer_id"] = "مشتری یا شماره تلفن را مشخص کنید."
    follow_at = data.get("follow_up_at")
    follow_all_day = bool(data.get("follow_up_all_day", False))
    if follow_at is not None and not isinstance(follow_at, dt.datetime):
        if isinstance(follow_at, dt.date):
            follow_at, follow_all_day = dt.datetime.combine(follow_at, dt.time()), True
        else:
            errors["follow_up_at"] = "تاریخ پیگیری درست نیست."
            follow_at = None
    if follow_at is not None:
        limit = now().date() if follow_all_day else now()
        if (follow_at.date() if follow_all_day else follow_at) < limit:
            errors["follow_up_at"] = "تاریخ پیگیری گذشته است."
    refer_to = data.get("refer_to") or None
    if errors:
        raise ValidationError(errors)

    from app import tasks

    with db.atomic():
        if existing:
            c = existing
            was_logged = Activity.select().where(Activity.ref_table == "call", Activity.ref_id == c.id).exists()
            c.customer = customer_id
            c.direction = direction
            c.result = result
            if duration is not None:
                c.duration = duration
            if note:
                c.note = f"{c.note}\n{note}".strip() if c.note and note not in c.note else note
            if number:
                c.number, c.number_raw = number, number_raw
            if c.state in ("ringing", "dialing"):
                c.state = "ended" if result == "answered" else ("missed" if direction == "in" else "ended")
            c.handled = True
            c.user = c.user_id or user
            c.save()
        else:
            was_logged = False
            state = "ended" if (direction == "out" or result != "no_answer") else "missed"
            c = Call.create(customer=customer_id, direction=direction, state=state, result=result,
                            number_raw=number_raw[:40], number=number, source="manual", started_at=started,
                            answered_at=started if result == "answered" else None,
                            ended_at=started + dt.timedelta(seconds=duration) if duration else None,
                            duration=duration, note=note, user=user, handled=True)
        # Earlier unhandled calls from the same customer count as answered by this one.
        if customer_id:
            (Call.update(handled=True)
             .where(Call.customer == customer_id, Call.handled == False, Call.id != c.id,  # noqa: E712
                    Call.started_at <= c.started_at).execute())
        if customer_id:
            parts = [RESULT_LABELS.get(result, "")]
            if duration:
                parts.append(f"مدت {format_duration(duration)}")
            head = "، ".join(p for p in parts if p)
            summary = (head + (": " if head and note else "") + note) or "تماس ثبت شد."
            kind = "call_note" if was_logged else ("call_in" if direction == "in" else "call_out")
            timeline.record(customer_id, kind, summary[:1000], "call", c.id,
                            data={"result": result, "duration": duration}, user=user, at=c.started_at if not existing else None)
        task = None
        if follow_at is not None or refer_to:
            who = tasks.customer_name(customer_id) or number or "تماس‌گیرنده"
            title = clean(data.get("follow_up_title") or "") or f"پیگیری تماس با {who}"
            assignee = data.get("follow_up_assignee") or user
            task = tasks.create_task({"title": title, "kind": "call", "customer_id": customer_id,
                                      "assignee_id": assignee, "due_at": follow_at, "all_day": follow_all_day,
                                      "description": note, "call_id": c.id,
                                      "remind_before": data.get("remind_before")}, user=user)
            if refer_to and refer_to != task.assignee_id:
                tasks.refer(task.id, refer_to, data.get("refer_reason") or "", by_user=user or assignee)
                task = tasks.get_task(task.id)
    logger.info("call %s logged (existing=%s, task=%s)", c.id, bool(existing), task.id if task else None)
    return Logged(c, task)


def mark_handled(call_id: int, user: int | None = None) -> None:
    """«رسیدگی شد» from the dashboard: the call leaves the waiting lists (who answered it is kept)."""
    q = Call.update(handled=True).where(Call.id == call_id)
    q.execute()
    if user:
        Call.update(user=user).where(Call.id == call_id, Call.user.is_null()).execute()
