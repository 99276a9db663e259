"""What happens to a caller-ID event once decoded: the call log, the customer match, the timeline.

    event ──► CallLifecycle (per-line state machine) ──► call changes ──► Call rows + timeline ──► CallView

Every call is logged, known caller or not, withheld numbers too. The number is normalised with app.phones and
matched with app.customers.find_by_phone (any of the customer's numbers, with or without the office's area
code). The timeline gets one entry per call when its outcome is known (kind call_in, call_out or call_missed;
an unknown caller's entry has no customer and is re-pointed when the number is added to a customer).

Live calls (the GUI's caller-ID controller, on the GUI thread):
    svc = CallerIdService()                 # ring timeout read from settings
    views = svc.handle(event)               # → list[CallView], one per call that changed
    views = svc.tick()                      # call every second or at svc.next_deadline(): ringing that stopped
    svc.close_all()                         # on shutdown
    recover_open_calls()                    # at start-up: calls left ringing by a crash are closed

The call log (pages, dashboards, other features):
    list_call_ids(CallFilter(...)) -> list[int]      newest first; rows fetched lazily with fetch_call_rows(ids)
    count_calls(CallFilter(...)) -> int
    fetch_call_rows(ids) -> dict[int, CallRow]
    get_call_row(call_id) -> CallRow
    missed_call_ids(limit=None) -> list[int]          missed calls nobody has called back yet
    mark_handled(call_id, handled=True, user=None)
    set_call_note(call_id, note, user=None)           the receptionist's note on this call (marks it handled)
    log_manual_call(customer_id=None, number="", direction="out", started_at=None, duration=None,
                    result="", note="", user=None, line=None) -> int (call id)
                                                      a call typed by hand (the tasks/follow-up dialogs use it)
    link_calls_to_customer(customer_id) -> int        after a number is added to a customer: attach the calls
                                                      that came from it while it was unknown
    last_call(customer_id, exclude_id=None) -> CallRow | None
    callback_number(call_id) -> str                   the number to dial back (canonical), "" if withheld

A missed call counts as called back (handled) when it is marked so, when a note is written on it, when an
outgoing call to the same number is logged after it (automatically or by hand), or when the same number calls
again and is answered.

Modem-only sources cannot see the handset: their calls end as state "ended" with no answered time and no
duration (outcome unknown), never as missed (see app/callerid/lifecycle.py).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw

from app import clock, settings, sqlcache, timeline
from app import phones as ph
from app.callerid import events as ev
from app.callerid import lifecycle as lc
from app.callerid import settings_keys as sk
from app.errors import NotFound, ValidationError
from app.text import clean, to_persian_digits
from models.base import db
from models.calls import Call
from models.core import Activity, Customer, PhoneNumber

logger = logging.getLogger(__name__)

RING_TIMEOUT = "callerid.ring_timeout"
POPUP_ENABLED = "callerid.popup_enabled"
POPUP_CLOSE_AFTER = "callerid.popup_close_after"
settings.declare(RING_TIMEOUT, float, lc.DEFAULT_RING_TIMEOUT,
                 "پایان زنگ: چند ثانیه بدون زنگ یعنی تماس تمام شده است", scope=settings.DESK)
settings.declare(POPUP_ENABLED, bool, True, "نمایش پنجره تماس (خاموش: فقط اعلان کنار ساعت)",
                 scope=settings.DESK)
settings.declare(POPUP_CLOSE_AFTER, int, 20, "بستن پنجره تماس تمام‌شده پس از (ثانیه، ۰ یعنی هرگز)",
                 scope=settings.DESK)

timeline.register_kind("call_note", "یادداشت تماس")

DIRECTION_LABELS = {"in": "ورودی", "out": "خروجی"}
STATE_LABELS = {"ringing": "در حال زنگ", "answered": "پاسخ داده شد", "missed": "بی‌پاسخ", "ended": "پایان‌یافته",
                "dialing": "در حال شماره‌گیری"}
STATUS_LABELS = {ev.OK: "", ev.PRIVATE: "شماره پنهان", ev.UNAVAILABLE: "شماره نامشخص"}
SOURCE_LABELS = {"manual": "ثبت دستی", "modem": "مودم", "ncid": "NCID", "segal": "اوج سگال", "yasna": "یاسنا",
                 "techno": "تکنو", "sdmf": "مودم", "mdmf": "مودم", "simulator": "شبیه‌ساز"}


# --- views ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallView:
    """A live call as the popup needs it (also the result of every handle()/tick())."""

    call_id: int
    key: str
    line: int | None
    line_label: str
    direction: str
    state: str
    number_raw: str
    number: str                 # canonical ("" when withheld)
    number_display: str         # 0912 123 4567 with ASCII digits; the UI converts digits
    number_status: str
    caller_name: str
    customer_id: int | None
    customer_name: str
    other_matches: int          # further customers sharing this number
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: int | None
    rings: int
    final: bool
    number_known: bool
    source: str
    outcome_unknown: bool = False


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

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS.get(self.direction, self.direction)

    @property
    def state_label(self) -> str:
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


def display_number(canonical: str, raw: str = "") -> str:
    if not canonical:
        return raw
    p = ph.normalize(canonical)
    return p.display() if p.valid else canonical


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


# --- live calls ------------------------------------------------------------------------------------------------

@dataclass
class _Live:
    call_id: int
    customer_id: int | None
    customer_name: str
    other_matches: int
    number: str
    line_label: str


class CallerIdService:
    """Applies caller-ID events to the call log. Not thread-safe: use it from one thread (the GUI's)."""

    def __init__(self, ring_timeout: float | None = None):
        if ring_timeout is None:
            ring_timeout = settings.get(RING_TIMEOUT)
        self.machine = lc.CallLifecycle(ring_timeout=max(1.0, float(ring_timeout)))
        self._live: dict[str, _Live] = {}

    def handle(self, event: ev.CallerIdEvent, at: dt.datetime | None = None,
               before_write: Callable[[CallView], object] | None = None) -> list[CallView]:
        """Apply one event; the views of the calls it changed, each with its Call row id.

        ``before_write(view)``, when given, is called for a NEW call as soon as its number has been looked up
        and BEFORE its Call row is written (view.call_id is 0 then): the popup can be on screen without
        waiting for the write. The row is written right after, in the same call; the returned view carries the
        id. An exception in ``before_write`` is logged and the call is still written; a failed write is logged
        and that call is left out of the result (the next event of the call retries it)."""
        at = at or _now_precise()
        try:
            changes = self.machine.feed(event, at)
        except Exception:  # noqa: BLE001 - a bad event must never take the listener down
            logger.exception("caller ID: event %r could not be applied", event)
            return []
        return self._apply(changes, before_write)

    def tick(self, at: dt.datetime | None = None) -> list[CallView]:
        return self._apply(self.machine.tick(at or _now_precise()))

    def close_all(self, at: dt.datetime | None = None) -> list[CallView]:
        return self._apply(self.machine.close_all(at or _now_precise()))

    def next_deadline(self) -> dt.datetime | None:
        return self.machine.next_deadline()

    def live_calls(self) -> list[lc.CallSnapshot]:
        return self.machine.active()

    def _apply(self, changes: list[lc.CallChange],
               before_write: Callable[[CallView], object] | None = None) -> list[CallView]:
        out: list[CallView] = []
        for ch in changes:
            try:
                out.append(self._apply_one(ch, before_write))
            except Exception:  # noqa: BLE001 - log it; the next call must still be recorded
                logger.exception("caller ID: could not record call change %r", ch)
        return out

    def _apply_one(self, ch: lc.CallChange, before_write: Callable[[CallView], object] | None = None) -> CallView:
        s = ch.call
        live = self._live.get(s.key)
        if live is None:
            live = _Live(0, None, "", 0, "", sk.line_label(s.line))
            if s.number_known:
                self._match(live, s)
            if before_write is not None and not s.final:
                try:
                    before_write(_view(live, s))
                except Exception:  # noqa: BLE001 - the call must be logged whatever the popup did
                    logger.exception("caller ID: showing call %s before logging it failed", s.key)
            with db.atomic():
                self._create(live, s)
                if s.final:
                    self._finish(live, s)
            if not s.final:
                self._live[s.key] = live
            return _view(live, s)
        with db.atomic():
            return self._apply_existing(live, s)

    def _apply_existing(self, live: _Live, s: lc.CallSnapshot) -> CallView:
        if s.number_known and s.number_status == ev.OK and not live.number and s.number_raw:
            self._match(live, s)          # the number arrived after the first ring
        self._update(live, s)
        if s.final:
            self._live.pop(s.key, None)
            self._finish(live, s)
        return _view(live, s)

    def _match(self, live: _Live, s: lc.CallSnapshot) -> None:
        number, cust, others = _lookup(s.number_raw, s.number_status)
        live.number = number
        live.customer_id = cust[0] if cust else None
        live.customer_name = cust[1] if cust else ""
        live.other_matches = others

    def _create(self, live: _Live, s: lc.CallSnapshot) -> None:
        row = Call.create(
            customer=live.customer_id, direction=s.direction, state=s.state, number_raw=s.number_raw[:40],
            number=live.number[:24], caller_name=(s.caller_name or "")[:120], number_status=s.number_status,
            line=s.line, line_label=live.line_label[:60], source=(s.source or "")[:12] or "modem",
            started_at=_sec(s.started_at), answered_at=_sec(s.answered_at), ended_at=_sec(s.ended_at),
            duration=s.duration, result=_result(s), handled=False)
        live.call_id = row.id

    def _update(self, live: _Live, s: lc.CallSnapshot) -> None:
        Call.update(
            customer=live.customer_id, state=s.state, number_raw=s.number_raw[:40], number=live.number[:24],
            caller_name=(s.caller_name or "")[:120], number_status=s.number_status,
            answered_at=_sec(s.answered_at), ended_at=_sec(s.ended_at), duration=s.duration, result=_result(s),
        ).where(Call.id == live.call_id).execute()

    def _finish(self, live: _Live, s: lc.CallSnapshot) -> None:
        kind = "call_out" if s.direction == "out" else ("call_missed" if s.state == lc.MISSED else "call_in")
        timeline.record(live.customer_id, kind, _summary(live, s), "call", live.call_id,
                        data={"line": s.line, "line_label": live.line_label, "number": live.number,
                              "number_status": s.number_status, "duration": s.duration, "state": s.state,
                              "direction": s.direction},
                        at=_sec(s.started_at))
        if live.number and (s.direction == "out" or (s.state == lc.ENDED and s.answered_at is not None)):
            _resolve_missed(live.number, _sec(s.started_at))


def _now_precise() -> dt.datetime:
    """Office-local time with sub-second precision (the lifecycle measures ring gaps); clock overrides win."""
    if clock._override is not None:  # tests freeze the clock; follow them
        return clock._override
    return dt.datetime.now(clock._zone()).replace(tzinfo=None)


def _sec(t: dt.datetime | None) -> dt.datetime | None:
    return t.replace(microsecond=0) if t is not None else None


def _result(s: lc.CallSnapshot) -> str:
    if s.state == lc.MISSED:
        return "no_answer"
    if s.answered_at is not None or (s.direction == "out" and s.final and s.duration):
        return "answered"
    return ""


def _lookup(number_raw: str, status: str) -> tuple[str, tuple[int, str] | None, int]:
    """(canonical number, the customer's (id, display name) or None, how many other customers share it)."""
    if status != ev.OK or not number_raw:
        return "", None, 0
    from app.customers import find_by_phone

    area = settings.area_code()
    p = ph.normalize(number_raw, area)
    canonical = p.canonical if p.canonical else ""
    if p.kind == ph.INVALID:
        keys = ph.lookup_keys(number_raw, area)
        # a box's outside-line prefix: lookup_keys' last key is the number without it
        canonical = next((k for k in keys if ph.normalize(k, area).valid), canonical)
    try:
        found = _find_fast(number_raw, area) or [(c.id, c.display_name) for c in find_by_phone(number_raw)]
    except Exception:  # noqa: BLE001 - a look-up failure must not lose the call
        logger.exception("caller ID: customer look-up failed for %r", number_raw)
        found = []
    found.sort()
    return canonical, (found[0] if found else None), max(0, len(found) - 1)


def _find_fast(number_raw: str, area: str) -> list[tuple[int, str]]:
    """(id, display name) of the customers holding this number under one of its lookup keys: the first query
    of customers.find_by_phone with its SQL generated once (app.sqlcache). Empty → the caller falls back to
    find_by_phone itself (its other-area-code fallback)."""
    from app.customers import display_name_of

    keys = ph.lookup_keys(number_raw, area)
    if not keys:
        return []

    def build(*ks):
        return (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company,
                                Customer.kind).join(PhoneNumber)
                .where(PhoneNumber.canonical.in_(list(ks)), Customer.merged_into.is_null()).distinct())

    cur = sqlcache.run(f"callerid.lookup.{len(keys)}", build, *keys)
    names = sqlcache.columns(cur)
    return [(r[0], display_name_of(dict(zip(names, r, strict=True)))) for r in cur.fetchall()]


def _view(live: _Live, s: lc.CallSnapshot) -> CallView:
    return CallView(
        call_id=live.call_id, key=s.key, line=s.line, line_label=live.line_label, direction=s.direction,
        state=s.state, number_raw=s.number_raw, number=live.number,
        number_display=display_number(live.number, s.number_raw), number_status=s.number_status,
        caller_name=s.caller_name, customer_id=live.customer_id, customer_name=live.customer_name,
        other_matches=live.other_matches, started_at=s.started_at, answered_at=s.answered_at,
        ended_at=s.ended_at, duration=s.duration, rings=s.rings, final=s.final, number_known=s.number_known,
        source=s.source, outcome_unknown=s.outcome_unknown)


def _summary(live: _Live, s: lc.CallSnapshot) -> str:
    if s.number_status == ev.PRIVATE:
        who = "شماره پنهان"
    elif s.number_status == ev.UNAVAILABLE or not (live.number or s.number_raw):
        who = "شماره نامشخص"
    else:
        who = display_number(live.number, s.number_raw)
    where = f" روی {live.line_label}" if live.line_label else ""
    if s.direction == "out":
        text = f"تماس خروجی با {who}{where}"
    elif s.state == lc.MISSED:
        text = f"تماس بی‌پاسخ از {who}{where}"
    else:
        text = f"تماس ورودی از {who}{where}"
    if s.duration is not None and s.state != lc.MISSED:
        text += f"، مدت {duration_words(s.duration)}"
    elif s.outcome_unknown:
        text += " (پاسخ‌دادن یا ندادن را دستگاه گزارش نمی‌کند)"
    return text


def _resolve_missed(number: str, after: dt.datetime) -> int:
    """Missed calls from `number` before `after` are now handled: we called back or they got through."""
    return (Call.update(handled=True)
            .where(Call.number == number, Call.state == "missed", Call.handled == False,  # noqa: E712
                   Call.started_at <= after)
            .execute())


def recover_open_calls(at: dt.datetime | None = None) -> int:
    """Calls left open by a crash or a power cut (ringing/answered/dialing) are closed, as best we know.

    A ringing call from a box becomes missed; anything else becomes ended without a duration. Each gets its
    timeline entry. Returns how many were closed.
    """
    at = at or clock.now()
    n = 0
    for c in Call.select().where(Call.state.in_(("ringing", "answered", "dialing")), Call.source != "manual"):
        with db.atomic():
            if c.state == "ringing" and c.source in lc.OUTCOME_SOURCES:
                c.state, c.result = "missed", "no_answer"
            else:
                c.state = "ended"
            c.ended_at = c.ended_at or min(at, c.started_at + dt.timedelta(minutes=1))
            c.save()
            live = _Live(c.id, c.customer_id, "", 0, c.number, c.line_label)
            snap = lc.CallSnapshot(key=f"recover#{c.id}", line=c.line, direction=c.direction, state=c.state,
                                   number_raw=c.number_raw, number_status=c.number_status, number_known=True,
                                   source=c.source, started_at=c.started_at, answered_at=c.answered_at,
                                   ended_at=c.ended_at, duration=c.duration, final=True)
            kind = "call_out" if c.direction == "out" else ("call_missed" if c.state == "missed" else "call_in")
            timeline.record(c.customer_id, kind, _summary(live, snap), "call", c.id, at=c.started_at,
                            data={"line": c.line, "number": c.number, "state": c.state, "recovered": True})
            n += 1
    if n:
        logger.info("caller ID: closed %d call(s) left open by the last session", n)
    return n


# --- the call log ----------------------------------------------------------------------------------------------

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
    """The log's columns for these ids: one query with the customer's name joined."""
    if not ids:
        return {}
    out: dict[int, CallRow] = {}
    q = (Call.select(Call, Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
         .join(Customer, pw.JOIN.LEFT_OUTER, on=(Call.customer == Customer.id))
         .where(Call.id.in_(ids)).dicts())
    from app.customers import display_name_of

    for r in q:
        name = display_name_of(r) if r.get("customer") else ""
        out[r["id"]] = CallRow(
            id=r["id"], started_at=r["started_at"], direction=r["direction"], state=r["state"],
            number_raw=r["number_raw"], number=r["number"], number_display=display_number(r["number"], r["number_raw"]),
            number_status=r["number_status"], caller_name=r["caller_name"], customer_id=r["customer"],
            customer_name=name, line=r["line"], line_label=r["line_label"], duration=r["duration"],
            handled=bool(r["handled"]), note=r["note"], source=r["source"], result=r["result"])
    return out


def get_call_row(call_id: int) -> CallRow:
    row = fetch_call_rows([call_id]).get(call_id)
    if row is None:
        raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")
    return row


def missed_call_ids(limit: int | None = None) -> list[int]:
    """Missed calls nobody has called back yet, newest first."""
    return list_call_ids(CallFilter(state="missed", unhandled=True), limit=limit)


def mark_handled(call_id: int, handled: bool = True, user: int | None = None) -> None:
    n = Call.update(handled=bool(handled)).where(Call.id == call_id).execute()
    if not n:
        raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")


def set_call_note(call_id: int, note: str, user: int | None = None) -> None:
    """The receptionist's note on a call (what was said). Marks the call handled; a known customer's
    timeline gets the note too."""
    text = "\n".join(clean(x) for x in (note or "").splitlines()).strip()
    if not text:
        raise ValidationError({"note": "متن یادداشت تماس خالی است."})
    with db.atomic():
        c = Call.get_or_none(Call.id == call_id)
        if c is None:
            raise NotFound("این تماس در دفتر تماس‌ها پیدا نشد.")
        c.note = text
        c.handled = True
        if user and not c.user_id:
            c.user = user
        c.save()
        if c.customer_id:
            timeline.record(c.customer_id, "call_note", text[:500], "call", c.id, user=user)


def log_manual_call(customer_id: int | None = None, number: str = "", direction: str = "out",
                    started_at: dt.datetime | None = None, duration: int | None = None, result: str = "",
                    note: str = "", user: int | None = None, line: int | None = None) -> int:
    """Record a call typed by hand (a follow-up made from a mobile, a call the box did not see).

    The customer may be given, or found from the number; at least one of the two is needed. Returns the id.
    """
    errors: dict[str, str] = {}
    if direction not in Call.DIRECTIONS:
        errors["direction"] = "جهت تماس باید ورودی یا خروجی باشد."
    if result not in Call.RESULTS:
        errors["result"] = "نتیجه تماس درست نیست."
    if duration is not None and (not isinstance(duration, int) or duration < 0 or duration > 24 * 3600):
        errors["duration"] = "مدت تماس باید عددی بین ۰ و ۲۴ ساعت (به ثانیه) باشد."
    area = settings.area_code()
    canonical = ""
    if number and number.strip():
        p = ph.normalize(number, area)
        if not p.valid:
            errors["number"] = ph.problem_message(p)
        canonical = p.canonical
    if customer_id is not None and not Customer.select().where(Customer.id == customer_id).exists():
        errors["customer"] = "این مشتری پیدا نشد (شاید حذف یا ادغام شده است)."
    if customer_id is None and not canonical and not errors:
        errors["number"] = "شماره تلفن یا مشتری تماس را مشخص کنید."
    if errors:
        raise ValidationError(errors)
    if customer_id is None and canonical:
        from app.customers import find_by_phone

        found = sorted(find_by_phone(canonical), key=lambda c: c.id)
        customer_id = found[0].id if found else None
    if customer_id is not None and not canonical:
        ph_row = (PhoneNumber.select().where(PhoneNumber.customer == customer_id)
                  .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).first())
        canonical = ph_row.canonical if ph_row else ""
    started_at = started_at or clock.now()
    state = "missed" if (direction == "in" and result == "no_answer") else "ended"
    text = "\n".join(clean(x) for x in (note or "").splitlines()).strip()
    with db.atomic():
        c = Call.create(customer=customer_id, direction=direction, state=state, result=result,
                        number_raw=clean(number)[:40], number=canonical[:24], number_status=ev.OK, line=line,
                        line_label=sk.line_label(line), source="manual", started_at=_sec(started_at),
                        answered_at=_sec(started_at) if result == "answered" else None,
                        ended_at=_sec(started_at + dt.timedelta(seconds=duration or 0)), duration=duration,
                        note=text, user=user, handled=True)
        live = _Live(c.id, customer_id, "", 0, canonical, c.line_label)
        snap = lc.CallSnapshot(key=f"manual#{c.id}", line=line, direction=direction, state=state,
                               number_raw=number, number_known=True, source="manual", started_at=started_at,
                               answered_at=c.answered_at, duration=duration, final=True)
        kind = "call_out" if direction == "out" else ("call_missed" if state == "missed" else "call_in")
        summary = _summary(live, snap) + (f": {text[:300]}" if text else "")
        timeline.record(customer_id, kind, summary, "call", c.id, user=user, at=_sec(started_at),
                        data={"number": canonical, "duration": duration, "result": result, "manual": True})
        if canonical and (direction == "out" or result == "answered"):
            _resolve_missed(canonical, _sec(started_at))
    return c.id


def link_calls_to_customer(customer_id: int) -> int:
    """Attach calls from this customer's numbers that were logged while the number was unknown, and move
    their timeline entries to the customer. Returns how many calls were attached."""
    numbers = [p.canonical for p in PhoneNumber.select(PhoneNumber.canonical)
               .where(PhoneNumber.customer == customer_id) if p.canonical]
    if not numbers:
        return 0
    with db.atomic():
        ids = [r[0] for r in Call.select(Call.id).where(Call.number.in_(numbers), Call.customer.is_null()).tuples()]
        if not ids:
            return 0
        Call.update(customer=customer_id).where(Call.id.in_(ids)).execute()
        (Activity.update(customer=customer_id)
         .where(Activity.ref_table == "call", Activity.ref_id.in_(ids), Activity.customer.is_null()).execute())
    return len(ids)


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
