"""The call log: one module for every screen that lists, logs or settles calls.

Caller ID writes live calls (app/callerid/service.py); everything else about calls is here:

    labels            DIRECTION_LABELS, STATE_LABELS, STATUS_LABELS, SOURCE_LABELS, RESULT_LABELS
    format_duration(seconds) -> «۱:۱۵»          duration_words(seconds) -> «۱ دقیقه و ۱۵ ثانیه»
    display_number(canonical, raw)               call_summary(...) -> the timeline's one-line text
    list_call_ids(CallFilter(...)) -> ids        newest first; rows fetched lazily with fetch_call_rows(ids)
    count_calls(f), fetch_call_rows(ids), get_call_row(id), missed_call_ids(limit), last_call(customer_id)
    callback_number(call_id) -> str              the number to dial back (canonical), "" if withheld
    log_call(data, user) -> Logged               a call typed by hand, or a caller-ID call completed (ثبت تماس)
    log_manual_call(customer_id=…, number=…, …) -> int   the same, with keyword arguments (call id)
    mark_handled(call_id, handled=True, user=…)  «رسیدگی شد»: who handled it is recorded, on every screen
    set_call_note(call_id, note, user=…)         what was said on this call (marks it handled)
    link_calls_to_customer(customer_id) -> int   a number added to a customer: attach its unlinked calls
    resolve_earlier(number, customer_id, before, exclude_id)  earlier waiting calls are now settled

One rule for "settled" (handled), whoever logs the call: a call stops waiting in the missed / unhandled lists
when someone marks it so, writes a note on it, or when a later call with the same customer (any of their
numbers) or the same number reached them: an outgoing call whose result is answered or not given (caller ID
cannot see the far end pick up), or an incoming call that was answered. A later call with result no_answer,
busy, voicemail or wrong_number settles nothing. Every writer here goes through the one door (models.writer).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app import settings
from app.callerid import events as ev
from app.callerid import settings_keys as sk
from app.core import phones as ph
from app.core.clock import now
from app.core.errors import NotFound, ValidationError
from app.core.text import clean, to_ascii_digits, to_persian_digits
from app.customers import timeline
from models.base import db
from models.calls import Call
from models.core import Activity, Customer, PhoneNumber
from models.tasks import Task
from models.writer import writes

logger = logging.getLogger(__name__)

RESULT_LABELS = {"answered": "پاسخ داده شد", "no_answer": "پاسخ نداد", "busy": "مشغول بود",
                 "wrong_number": "شماره اشتباه", "voicemail": "پیغام‌گیر"}
# results set by the program, not offered in the dialog
DEVICE_LOST = "device_lost"
SYSTEM_RESULT_LABELS = {DEVICE_LOST: "قطع ارتباط با دستگاه"}
DIRECTION_LABELS = {"in": "ورودی", "out": "خروجی"}
STATE_LABELS = {"ringing": "در حال زنگ", "answered": "پاسخ داده شد", "missed": "بی‌پاسخ", "ended": "پایان‌یافته",
                "dialing": "در حال شماره‌گیری"}
STATUS_LABELS = {ev.OK: "", ev.PRIVATE: "شماره پنهان", ev.UNAVAILABLE: "شماره نامشخص"}
SOURCE_LABELS = {"manual": "ثبت دستی", "modem": "مودم", "ncid": "NCID", "segal": "اوج سگال", "yasna": "یاسنا",
                 "techno": "تکنو", "sdmf": "مودم", "mdmf": "مودم", "simulator": "شبیه‌ساز"}
NOT_REACHED = frozenset({"no_answer", "busy", "wrong_number", "voicemail"})



# --- text ------------------------------------------------------------------------------------------------------

def format_duration(seconds: int | None, persian: bool = True) -> str:
    """75 → «۱:۱۵»; 3725 → «۱:۰۲:۰۵»; None → ''."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return to_persian_digits(text) if persian else text


def duration_words(seconds: int | None) -> str:
    """75 → «۱ دقیقه و ۱۵ ثانیه» (for timeline summaries)."""
    if seconds is None:
        return ""
    m, s = divmod(max(0, int(seconds)), 60)
    if m and s:
        text = f"{m} دقیقه و {s} ثانیه"
    elif m:
        text = f"{m} دقیقه"
    else:
        text = f"{s} ثانیه"
    return to_persian_digits(text)


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
            m_text, sec_text = s.split(":", 1)
            m, sec = int(m_text or 0), int(sec_text or 0)
            if sec >= 60 or m < 0 or sec < 0:
                raise ValueError
            return m * 60 + sec
        v = float(s)
        if v < 0:
            raise ValueError
        return int(round(v * 60))
    except ValueError:
        raise ValidationError({"duration": "مدت تماس را به دقیقه بنویسید (مثلاً ۳ یا ۲:۳۰)."}) from None


def display_number(canonical: str, raw: str = "") -> str:
    if not canonical:
        return raw
    p = ph.normalize(canonical)
    return p.display() if p.valid else canonical


def call_summary(direction: str, state: str, number: str, number_raw: str = "", number_status: str = ev.OK,
                 line_label: str = "", duration: int | None = None, outcome_unknown: bool = False,
                 result: str = "") -> str:
    """The timeline's one line for a call: «تماس بی‌پاسخ از ۰۹۱۲… روی خط فروش»."""
    if number_status == ev.PRIVATE:
        who = "شماره پنهان"
    elif number_status == ev.UNAVAILABLE or not (number or number_raw):
        who = "شماره نامشخص"
    else:
        who = display_number(number, number_raw)
    where = f" روی {line_label}" if line_label else ""
    if direction == "out":
        text = f"تماس خروجی با {who}{where}"
    elif state == "missed":
        text = f"تماس بی‌پاسخ از {who}{where}"
    else:
        text = f"تماس ورودی از {who}{where}"
    if result == DEVICE_LOST:
        text += f" ({SYSTEM_RESULT_LABELS[DEVICE_LOST]}؛ پاسخ‌دادن یا ندادن معلوم نیست)"
    elif duration is not None and state != "missed":
        text += f"، مدت {duration_words(duration)}"
    elif outcome_unknown:
        text += " (پاسخ‌دادن یا ندادن را دستگاه گزارش نمی‌کند)"
    return text


# --- rows --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallRow:
    """One line of the call log."""

    id: int
    started_at: dt.datetime
    direction: str
    state: str
    number_raw: str
    number: str
    number_display: str
    number_status: str
    caller_name: str
    customer_id: int | None
    customer_name: str
    line: int | None
    line_label: str
    duration: int | None
    handled: bool
    note: str
    source: str
    result: str
    handled_by: str = ""

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS.get(self.direction, self.direction)

    @property
    def state_label(self) -> str:
        if self.result in SYSTEM_RESULT_LABELS:
            return SYSTEM_RESULT_LABELS[self.result]
        if self.direction == "in" and self.state == "ended" and self.duration is None and self.result == "":
            return "پایان‌یافته (پاسخ نامعلوم)" if self.source not in ("manual",) else STATE_LABELS["ended"]
        return STATE_LABELS.get(self.state, self.state)

    @property
    def who(self) -> str:
        if self.customer_name:
            return self.customer_name
        if self.number_status != ev.OK:
            return STATUS_LABELS[self.number_status]
        return self.caller_name or "ناشناس"


@dataclass
class CallFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None          # inclusive
    direction: str = ""                     # "", "in", "out"
    state: str = ""                         # "", ringing/answered/missed/ended/dialing
    line: int | None = None
    customer_id: int | None = None
    unhandled: bool = False
    number: str = ""                        # any format; matched on the canonical form (prefix)
    known: bool | None = None               # True: only known customers; False: only unknown callers


def _filtered(f: CallFilter) -> pw.ModelSelect:
    q = Call.select(Call.id)
    if f.date_from:
        q = q.where(Call.started_at >= dt.datetime.combine(f.date_from, dt.time()))
    if f.date_to:
        q = q.where(Call.started_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()))
    if f.direction:
        q = q.where(Call.direction == f.direction)
    if f.state:
        q = q.where(Call.state == f.state)
    if f.line is not None:
        q = q.where(Call.line == f.line)
    if f.customer_id:
        q = q.where(Call.customer == f.customer_id)
    if f.unhandled:
        q = q.where(Call.handled == False)  # noqa: E712
    if f.known is True:
        q = q.where(Call.customer.is_null(False))
    elif f.known is False:
        q = q.where(Call.customer.is_null())
    if f.number.strip():
        keys = ph.lookup_keys(f.number, settings.area_code())
        p = ph.normalize(f.number, settings.area_code())
        if p.valid:
            q = q.where(Call.number.in_(keys))
        else:
            digits = "".join(ch for ch in keys[-1] if ch.isdigit()) if keys else ""
            if digits:
                q = q.where(Call.number.startswith(digits))
    return q


def list_call_ids(f: CallFilter | None = None, limit: int | None = None) -> list[int]:
    """Ids of the calls matching the filter, newest first."""
    f = f or CallFilter()
    if f.unhandled and not (f.date_from or f.customer_id):
        # Unhandled calls are few (missed calls nobody called back), but an index on a yes/no column looks
        # unselective to the planner, which then walks the whole log in date order (5 s with 1,000,000 calls).
        # Read the few matching rows through the `handled` index and order them here instead.
        q = _filtered(f).select(Call.id, Call.started_at)
        rows = sorted(db.execute(q).fetchall(), key=lambda r: (r[1], r[0]), reverse=True)
        return [r[0] for r in (rows[:limit] if limit else rows)]
    q = _filtered(f).order_by(Call.started_at.desc(), Call.id.desc())
    if limit:
        q = q.limit(limit)
    return [r[0] for r in db.execute(q).fetchall()]


def count_calls(f: CallFilter | None = None) -> int:
    return _filtered(f or CallFilter()).count()


def fetch_call_rows(ids: list[int]) -> dict[int, CallRow]:
    """The log's columns for these ids: one query with the customer's and the handler's names joined."""
    if not ids:
        return {}
    from app.customers.service import display_name_of
    from models.core import User

    out: dict[int, CallRow] = {}
    q = (Call.select(Call, Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                     User.name.alias("handled_by"))
         .join(Customer, pw.JOIN.LEFT_OUTER, on=(Call.customer == Customer.id))
         .switch(Call).join(User, pw.JOIN.LEFT_OUTER, on=(Call.user == User.id))
         .where(Call.id.in_(ids)).dicts())
    for r in q:
        name = display_name_of(r) if r.get("customer") else ""
        out[r["id"]] = CallRow(
            id=r["id"], started_at=r["started_at"], direction=r["direction"], state=r["state"],
            number_raw=r["number_raw"], number=r["number"], number_display=display_number(r["number"], r["number_raw"]),
            number_status=r["number_status"], caller_name=r["caller_name"], customer_id=r["customer"],
            customer_name=name, line=r["line"], line_label=r["line_label"], duration=r["duration"],
            handled=bool(r["handled"]), note=r["note"], source=r["source"], result=r["result"],
            handled_by=(r.get("handled_by") or "") if r["handled"] else "")
    return out


def get_call_row(call_id: int) -> CallRow:
    row = fetch_call_rows([call_id]).get(call_id)
    if row is None:
        raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")
    return row


def missed_call_ids(limit: int | None = None) -> list[int]:
    """Missed calls nobody has called back yet, newest first."""
    return list_call_ids(CallFilter(state="missed", unhandled=True), limit=limit)


def last_call(customer_id: int, exclude_id: int | None = None) -> CallRow | None:
    """The customer's latest call (the popup passes the ringing call's id to see the one before it)."""
    q = Call.select(Call.id).where(Call.customer == customer_id)
    if exclude_id:
        q = q.where(Call.id != exclude_id)
    r = (q.order_by(Call.started_at.desc(), Call.id.desc()).limit(1).tuples().first())
    return get_call_row(r[0]) if r else None


def callback_number(call_id: int) -> str:
    row = get_call_row(call_id)
    return row.number if row.number_status == ev.OK else ""


def call_data(call_id: int) -> dict:
    """A call as the dialog shows it (used when the caller-ID popup hands over a call id)."""
    c = Call.get_or_none(Call.id == call_id)
    if c is None:
        raise NotFound("این تماس پیدا نشد.")
    name = c.customer.display_name if c.customer_id else ""
    return {"id": c.id, "customer_id": c.customer_id, "customer_name": name, "direction": c.direction,
            "state": c.state, "result": c.result, "number": c.number or c.number_raw, "started_at": c.started_at,
            "duration": c.duration, "note": c.note, "handled": c.handled, "user_id": c.user_id}


# --- settling ------------------------------------------------------------------------------------------------

def reached(direction: str, result: str, answered: bool = False) -> bool:
    """Did this call reach the other side (so earlier waiting calls with them are settled)?"""
    if result in NOT_REACHED or result in SYSTEM_RESULT_LABELS:
        return False
    if direction == "out":
        return True                 # answered, or not known (caller ID cannot see the far end pick up)
    return result == "answered" or answered


def resolve_earlier(number: str, customer_id: int | None, before: dt.datetime, exclude_id: int | None = None,
                    user: int | None = None) -> int:
    """Earlier unhandled inbound calls from this number or this customer are settled (see the module's rule).
    Runs inside the caller's write transaction. Returns how many were settled."""
    who = []
    if number:
        who.append(Call.number == number)
    if customer_id:
        who.append(Call.customer == customer_id)
    if not who:
        return 0
    cond = who[0] if len(who) == 1 else (who[0] | who[1])
    q = Call.update(handled=True).where(cond, Call.direction == "in", Call.handled == False,  # noqa: E712
                                        Call.started_at <= before,
                                        Call.state.not_in(("ringing", "answered")))
    if exclude_id:
        q = q.where(Call.id != exclude_id)
    n = q.execute()
    if n and user:
        (Call.update(user=user).where(cond, Call.handled == True, Call.user.is_null(),  # noqa: E712
                                      Call.started_at <= before).execute())
    return n


@writes
def mark_handled(call_id: int, handled: bool = True, user: int | None = None) -> None:
    """«رسیدگی شد» (or undone): the call leaves (or rejoins) the waiting lists; who handled it is recorded."""
    c = Call.get_or_none(Call.id == call_id)
    if c is None:
        raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")
    c.handled = bool(handled)
    if handled and user and not c.user_id:
        c.user = user
    c.save()


@writes
def set_call_note(call_id: int, note: str, user: int | None = None) -> None:
    """The receptionist's note on a call (what was said). Marks the call handled; the timeline gets it too."""
    text = "\n".join(clean(x) for x in (note or "").splitlines()).strip()
    if not text:
        raise ValidationError({"note": "متن یادداشت تماس خالی است."})
    c = Call.get_or_none(Call.id == call_id)
    if c is None:
        raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")
    c.note = f"{c.note}\n{text}".strip() if c.note and text not in c.note else text
    c.handled = True
    if user and not c.user_id:
        c.user = user
    c.save()
    timeline.record(c.customer_id, "call_note", text[:500], "call", c.id, user=user)


@writes
def link_calls_to_customer(customer_id: int) -> int:
    """Attach calls from this customer's numbers that were logged while the number was unknown, and move
    their timeline entries to the customer. Returns how many calls were attached."""
    numbers = [p.canonical for p in PhoneNumber.select(PhoneNumber.canonical)
               .where(PhoneNumber.customer == customer_id) if p.canonical]
    if not numbers:
        return 0
    ids = [r[0] for r in Call.select(Call.id).where(Call.number.in_(numbers), Call.customer.is_null()).tuples()]
    if not ids:
        return 0
    Call.update(customer=customer_id).where(Call.id.in_(ids)).execute()
    (Activity.update(customer=customer_id)
     .where(Activity.ref_table == "call", Activity.ref_id.in_(ids), Activity.customer.is_null()).execute())
    return len(ids)


# --- logging a call by hand ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Logged:
    call: Call
    task: Task | None


def _primary_number(customer_id: int | None) -> str:
    if not customer_id:
        return ""
    p = (PhoneNumber.select(PhoneNumber.canonical).where(PhoneNumber.customer == customer_id)
         .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).first())
    return p.canonical if p else ""


def _customer_of(number: str) -> int | None:
    from app.customers.service import find_by_phone

    found = sorted(find_by_phone(number), key=lambda c: c.id)
    return found[0].id if found else None


@writes
def log_call(data: dict, user: int | None = None) -> Logged:
    """Record a call (every screen's «ثبت تماس» and the tasks' follow-ups). data:
      call_id            an existing call (from caller ID) to complete instead of creating one
      customer_id        who (found from `number` when not given; None for an unknown number)
      number             the number dialled/seen, any format (optional when the customer has one)
      direction          "in" / "out"
      started_at         datetime (default now)
      duration           seconds (int) or text: '3' minutes, '2:30'
      result             answered / no_answer / busy / wrong_number / voicemail
      note               what was said
      line               the line it was made on (optional)
      follow_up_at       datetime or date → a follow-up task; follow_up_all_day when only a date was given
      follow_up_title    its title (default: «پیگیری تماس با …»)
      follow_up_assignee who does it (default: the person logging the call)
      refer_to, refer_reason   hand the follow-up to a colleague (a task is created when none was asked for)
    The call is handled; earlier waiting calls with the same customer or number are settled by the module's
    rule. Bad input raises ValidationError and writes nothing.
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
        errors["customer_id"] = "این مشتری پیدا نشد (شاید حذف یا ادغام شده است)."
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
        duration = parse_duration(data.get("duration")) if data.get("duration") is not None else (
            existing.duration if existing else None)
    except ValidationError as e:
        errors.update(e.errors)
        duration = None
    if duration is not None and (duration < 0 or duration > 24 * 3600):
        errors["duration"] = "مدت تماس باید بین ۰ و ۲۴ ساعت باشد."
    note = "\n".join(clean(x) for x in str(data.get("note") or "").splitlines()).strip()
    number_raw = clean(data.get("number") or "")
    number = ""
    if number_raw:
        parsed = ph.normalize(number_raw, settings.area_code())
        if not parsed.valid:
            errors["number"] = ph.problem_message(parsed)
        number = parsed.canonical
    elif not existing:
        number = _primary_number(customer_id)
        number_raw = number
        if not customer_id and not number and "customer_id" not in errors:
            errors["customer_id"] = "مشتری یا شماره تلفن تماس را مشخص کنید."
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
    if not customer_id and number and not existing:
        customer_id = _customer_of(number)
    started = started.replace(microsecond=0)

    from app.tasks import service as tasks

    line = data.get("line")
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
        if c.state in ("ringing", "dialing", "answered"):
            c.state = "missed" if (direction == "in" and result == "no_answer") else "ended"
        c.handled = True
        c.user = c.user_id or user
        c.save()
    else:
        was_logged = False
        state = "missed" if (direction == "in" and result == "no_answer") else "ended"
        c = Call.create(customer=customer_id, direction=direction, state=state, result=result,
                        number_raw=number_raw[:40], number=number[:24], number_status=ev.OK, line=line,
                        line_label=sk.line_label(line)[:60], source="manual", started_at=started,
                        answered_at=started if result == "answered" else None,
                        ended_at=started + dt.timedelta(seconds=duration or 0), duration=duration, note=note,
                        user=user, handled=True)
    if reached(direction, result):
        resolve_earlier(c.number, customer_id, c.started_at, exclude_id=c.id, user=user)
    parts = [call_summary(direction, c.state, c.number, c.number_raw, c.number_status, c.line_label,
                          duration if not was_logged else None)]
    if result:
        parts.append(RESULT_LABELS.get(result, ""))
    summary = "، ".join(p for p in parts if p) + (f": {note}" if note else "")
    kind = "call_note" if was_logged else (
        "call_out" if direction == "out" else ("call_missed" if c.state == "missed" else "call_in"))
    timeline.record(customer_id, kind, summary[:1000], "call", c.id,
                    data={"result": result, "duration": duration, "number": c.number, "manual": not existing},
                    user=user, at=c.started_at if not existing else None)
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


def log_manual_call(customer_id: int | None = None, number: str = "", direction: str = "out",
                    started_at: dt.datetime | None = None, duration: int | None = None, result: str = "",
                    note: str = "", user: int | None = None, line: int | None = None) -> int:
    """log_call with keyword arguments (duration in seconds); returns the new call's id."""
    if duration is not None and not isinstance(duration, int):
        raise ValidationError({"duration": "مدت تماس باید عددی بین ۰ و ۲۴ ساعت (به ثانیه) باشد."})
    data = {"customer_id": customer_id, "number": number, "direction": direction, "started_at": started_at,
            "duration": duration, "result": result, "note": note, "line": line}
    return log_call(data, user=user).call.id
