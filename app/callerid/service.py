"""Live caller-ID calls: an event in, who is calling at once (read-only), the Call row written behind it.

    event ──► CallLifecycle (per-line state machine) ──► identify: look-up + view ──► popup (GUI thread)
                                                     └─► record: CallRecord ──► the writer (models.writer) ──► ids

The two halves are separate on purpose. ``identify(event)`` runs on the GUI thread and only reads (the number
is normalised with app.phones and matched against every customer's numbers); the popup is shown from its
views. ``record(views)`` queues the rows to the one writer and returns a Future at once: a call that rings
while an import holds the write transaction waits behind it in the writer's queue, nothing is lost and the
GUI never waits. The writer runs jobs in submission order, so a call's later changes always follow its
creation; the Call row id of each live call is kept writer-side (CallRecorder), never guessed by the GUI.
When the job is done ``recorded(results)`` gives the views their ids (ui/calls/controller.py delivers the
Future's result to the GUI thread with a queued Qt signal). A failed record is retried with the call's latest
state (``retry()``); the recorder creates a missing row, so nothing depends on the first write succeeding.

Every call is logged, known caller or not, withheld numbers too. The timeline gets one entry per call when
its outcome is known (kind call_in, call_out or call_missed; the entry takes the customer the row has then,
so a customer linked mid-call owns it). A customer created or chosen for a live call (``link_customer``) is
carried by every later record of that call; the rows already written are attached by
app.call_log.link_calls_to_customer, queued behind them.

Live calls (the GUI's caller-ID controller, on the GUI thread):
    svc = CallerIdService()                 # ring timeout read from settings
    views = svc.identify(event)             # → list[CallView], one per call that changed (call_id 0 until known)
    fut = svc.record(views)                 # → Future[dict[key, call id or None]]  (never blocks)
    views = svc.recorded(fut.result())      # → the views whose id just became known / changed
    views = svc.tick()                      # every half second: ringing that stopped
    views = svc.link_customer(customer_id)  # a customer now holds these numbers: live calls follow
    views = svc.handle(event)               # identify + record + wait (scripts, tests; blocks: not for the GUI)
    svc.close_all()                         # on shutdown
    recover_open_calls()                    # at start-up: calls left ringing by a crash are closed

The call log itself (lists, manual logging, handled, labels) is app/calls/log.py.

Modem-only sources cannot see the handset: their calls end as state "ended" with no answered time and no
duration (outcome unknown), never as missed (see app/callerid/lifecycle.py).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from app import options, settings
from app.callerid import events as ev
from app.callerid import lifecycle as lc
from app.callerid import settings_keys as sk
from app.calls import log as call_log
from app.core import clock
from app.core import phones as ph
from app.customers import timeline
from models import sqlcache
from models.calls import Call
from models.core import Customer, PhoneNumber, User
from models.writer import writer, writes

logger = logging.getLogger(__name__)

# declared in app/options.py; these names stay as aliases so callers keep working
RING_TIMEOUT = options.CALLERID_RING_TIMEOUT
POPUP_ENABLED = options.CALLERID_POPUP_ENABLED
POPUP_CLOSE_AFTER = options.CALLERID_POPUP_CLOSE_AFTER

MAX_RETRIES = 5


# --- views ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallView:
    """A live call as the popup needs it (the result of identify()/tick()/recorded())."""

    call_id: int                # 0 until the writer has reported the row's id
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
    result: str = ""            # the result the row gets ("device_lost" when the device went away)
    extension: str = ""         # a PBX's extension that rang (the one that answered, once it has)
    answered_by: str = ""       # the extension that answered (PBX sources), "" when none did / not known
    extensions: tuple[str, ...] = ()    # every extension that rang (a PBX's ring group); the popup's desks
    colleague: str = ""         # set by app.office.visibility: the customer is this colleague's, not shown here
    snap: lc.CallSnapshot | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CallRecord:
    """One call's state as the writer stores it (a full snapshot: applying the latest one is always right)."""

    key: str
    snap: lc.CallSnapshot
    number: str
    customer_id: int | None
    line_label: str
    user_id: int | None = None          # the colleague at the answering extension (PBX sources)


# --- live calls ------------------------------------------------------------------------------------------------

@dataclass
class _Live:
    call_id: int
    customer_id: int | None
    customer_name: str
    other_matches: int
    number: str
    line_label: str
    snap: lc.CallSnapshot | None = None
    extension: str = ""
    answered_by: str = ""
    extensions: tuple[str, ...] = ()
    user_id: int | None = None
    recorded_state: bool = False        # the writer has stored the latest snapshot
    retries: int = 0


class CallerIdService:
    """The GUI-thread half (identify) and the queue to the writer-side half (record). Not thread-safe: use it
    from one thread (the GUI's); the CallRecorder it submits to runs on the writer thread."""

    def __init__(self, ring_timeout: float | None = None, recorder: CallRecorder | None = None):
        if ring_timeout is None:
            ring_timeout = settings.get(RING_TIMEOUT)
        self.machine = lc.CallLifecycle(ring_timeout=max(1.0, float(ring_timeout)))
        self.recorder = recorder or CallRecorder()
        self._live: dict[str, _Live] = {}                       # open calls
        self._closed: OrderedDict[str, _Live] = OrderedDict()   # finished calls, kept for their late ids
        self._dirty: set[str] = set()                           # keys whose last record failed
        self._pending_ext: dict[str, dict] = {}                 # PBX extension facts of calls not yet seen

    # --- the read-only half ------------------------------------------------------------------------------------

    def identify(self, event: ev.CallerIdEvent, at: dt.datetime | None = None) -> list[CallView]:
        """Apply one event to the calls' lives and look the caller up: the views of the calls it changed.
        Reads only (never waits for the writer); never raises."""
        at = at or _now_precise()
        try:
            changes = self.machine.feed(event, at)
        except Exception:  # a bad event must never take the listener down
            logger.exception("caller ID: event %r could not be applied", event)
            return []
        extra = event.extra or {}
        if extra.get("extension") or extra.get("answered_by"):
            for ch in changes:
                self._note_extension(ch.call.key, extra)
        return self._views(changes)

    def _note_extension(self, key: str, extra: dict) -> None:
        """A PBX event names the extension that rang and the one that answered: kept on the live call, and the
        answering extension's colleague (the office's extension map) is the call's user."""
        live = self._live.get(key) or self._closed.get(key)
        if live is None:                # its first event: the view is made just after (_view_of_change)
            self._pending_ext[key] = extra
            return
        _apply_extension(live, extra)

    def tick(self, at: dt.datetime | None = None) -> list[CallView]:
        return self._views(self.machine.tick(at or _now_precise()))

    def close_all(self, at: dt.datetime | None = None) -> list[CallView]:
        return self._views(self.machine.close_all(at or _now_precise()))

    def next_deadline(self) -> dt.datetime | None:
        return self.machine.next_deadline()

    def live_calls(self) -> list[lc.CallSnapshot]:
        return self.machine.active()

    def view_of(self, key: str) -> CallView | None:
        live = self._live.get(key) or self._closed.get(key)
        return _view(live, live.snap) if live is not None and live.snap is not None else None

    def _views(self, changes: list[lc.CallChange]) -> list[CallView]:
        out: list[CallView] = []
        for ch in changes:
            try:
                out.append(self._view_of_change(ch))
            except Exception:  # log it; the next call must still be shown and recorded
                logger.exception("caller ID: could not apply call change %r", ch)
        return out

    def _view_of_change(self, ch: lc.CallChange) -> CallView:
        s = ch.call
        live = self._live.get(s.key) or self._closed.get(s.key)
        if live is None:
            live = _Live(0, None, "", 0, "", sk.line_label(s.line))
            self._live[s.key] = live
            if s.key in self._pending_ext:
                _apply_extension(live, self._pending_ext.pop(s.key))
            if s.number_known:
                self._match(live, s)
        elif s.number_known and s.number_status == ev.OK and not live.number and s.number_raw:
            self._match(live, s)          # the number arrived after the first ring
        live.snap = s
        live.recorded_state = False
        if s.final and s.key in self._live:
            self._closed[s.key] = self._live.pop(s.key)
            while len(self._closed) > 500:
                self._closed.popitem(last=False)
        return _view(live, s)

    def _match(self, live: _Live, s: lc.CallSnapshot) -> None:
        number, cust, others = _lookup(s.number_raw, s.number_status)
        live.number = number
        if live.customer_id is None:          # a customer linked from the popup is kept
            live.customer_id = cust[0] if cust else None
            live.customer_name = cust[1] if cust else ""
        live.other_matches = others

    def link_customer(self, customer_id: int) -> list[CallView]:
        """A customer now holds some numbers (created or chosen from a popup, or edited): the live and
        recently finished calls from those numbers that had no customer take this one, in every later record.
        Returns their views. The rows already written are attached by call_log.link_calls_to_customer."""
        from app.customers.service import display_name_of

        numbers = {p.canonical for p in PhoneNumber.select(PhoneNumber.canonical)
                   .where(PhoneNumber.customer == customer_id) if p.canonical}
        if not numbers:
            return []
        row = (Customer.select(Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
               .where(Customer.id == customer_id).dicts().first())
        if row is None:
            return []
        name = display_name_of(row)
        out = []
        for live in [*self._live.values(), *self._closed.values()]:
            if live.snap is None or live.customer_id or live.number not in numbers:
                continue
            live.customer_id, live.customer_name = customer_id, name
            live.recorded_state = False
            out.append(_view(live, live.snap))
        return out

    # --- the writing half ----------------------------------------------------------------------------------------

    def record(self, views: list[CallView]) -> Future:
        """Queue these calls' rows to the one writer; a Future of {key: call id, or None when it failed}.
        Keys whose earlier record failed ride along with their latest state."""
        keys = list(dict.fromkeys([v.key for v in views] + sorted(self._dirty)))
        records = []
        for key in keys:
            live = self._live.get(key) or self._closed.get(key)
            if live is None or live.snap is None:
                continue
            records.append(CallRecord(key, live.snap, live.number, live.customer_id, live.line_label,
                                      live.user_id))
        self._dirty.difference_update(keys)
        if not records:
            fut: Future = Future()
            fut.set_result({})
            return fut
        return writer.submit(self.recorder.apply, records)

    def recorded(self, results: dict[str, int | None]) -> list[CallView]:
        """The writer's answer to record(): ids into the live calls; failed keys are kept for retry().
        Returns the views whose id is new (the popup's buttons need it)."""
        out = []
        for key, call_id in results.items():
            live = self._live.get(key) or self._closed.get(key)
            if live is None:
                continue
            if not call_id:
                live.retries += 1
                if live.retries <= MAX_RETRIES:
                    self._dirty.add(key)
                else:
                    logger.error("caller ID: call %s could not be recorded after %d tries", key, MAX_RETRIES)
                continue
            live.retries = 0
            if live.call_id != call_id and live.snap is not None:
                live.call_id = call_id
                out.append(_view(live, live.snap))
            live.call_id = call_id
        return out

    def record_failed(self, views_or_keys) -> None:
        """A whole record job failed (the database stayed locked by another program, the disk is full):
        its calls are retried with their latest state."""
        for x in views_or_keys:
            key = x if isinstance(x, str) else x.key
            live = self._live.get(key) or self._closed.get(key)
            if live is not None:
                live.retries += 1
                if live.retries <= MAX_RETRIES:
                    self._dirty.add(key)

    def pending_retry(self) -> bool:
        return bool(self._dirty)

    def retry(self) -> Future:
        return self.record([])

    # --- both at once (scripts, tests) ---------------------------------------------------------------------------

    def handle(self, event: ev.CallerIdEvent, at: dt.datetime | None = None) -> list[CallView]:
        """identify + record, waiting for the writer: the views with their ids. Blocks while the writer is
        busy, so the GUI uses identify()/record() instead. A call whose record failed is left out."""
        return self._settle(self.identify(event, at))

    def tick_and_record(self, at: dt.datetime | None = None) -> list[CallView]:
        return self._settle(self.tick(at))

    def _settle(self, views: list[CallView]) -> list[CallView]:
        if not views and not self._dirty:
            return []
        try:
            results = self.record(views).result()
        except Exception:  # logged; the calls are retried with the next record
            logger.exception("caller ID: recording failed")
            self.record_failed(views)
            return []
        self.recorded(results)
        return [replace(v, call_id=results[v.key]) for v in views if results.get(v.key)]


class CallRecorder:
    """The writer-side half: applies CallRecords to Call rows and the timeline. Its state (which row each live
    call has) is touched only inside writer jobs, which run one at a time in submission order."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._done: OrderedDict[str, int] = OrderedDict()

    def apply(self, records: list[CallRecord]) -> dict[str, int | None]:
        """Run through the writer (one transaction); each record in its own savepoint, so one bad record
        does not lose the others. {key: call id, or None when that record failed}."""
        from models.base import db

        out: dict[str, int | None] = {}
        for r in records:
            try:
                with db.atomic():
                    out[r.key] = self._apply_one(r)
            except Exception:  # reported as None; the GUI retries with the latest state
                logger.exception("caller ID: could not record call %s", r.key)
                out[r.key] = None
        return out

    def _apply_one(self, r: CallRecord) -> int:
        s = r.snap
        done = self._done.get(r.key)
        if done is not None:
            if Call.select(Call.id).where(Call.id == done).exists():
                return done                 # a late or repeated record of a finished call: nothing to do
            del self._done[r.key]
        call_id = self._ids.get(r.key)
        if call_id and not self._update(call_id, r):
            call_id = None                  # the row vanished (a rolled-back write): write it again
        if not call_id:
            call_id = self._create(r)
        self._ids[r.key] = call_id
        if s.final:
            self._finish(call_id, r)
            self._ids.pop(r.key, None)
            self._done[r.key] = call_id
            while len(self._done) > 2000:
                self._done.popitem(last=False)
        return call_id

    @staticmethod
    def _create(r: CallRecord) -> int:
        s = r.snap
        row = Call.create(
            customer=r.customer_id, direction=s.direction, state=s.state, number_raw=s.number_raw[:40],
            number=r.number[:24], caller_name=(s.caller_name or "")[:120], number_status=s.number_status,
            line=s.line, line_label=r.line_label[:60], source=(s.source or "")[:12] or "modem",
            started_at=_sec(s.started_at), answered_at=_sec(s.answered_at), ended_at=_sec(s.ended_at),
            duration=s.duration, result=_result(s), handled=False, user=r.user_id)
        return row.id

    @staticmethod
    def _update(call_id: int, r: CallRecord) -> int:
        s = r.snap
        fields = dict(state=s.state, number_raw=s.number_raw[:40], number=r.number[:24],
                      caller_name=(s.caller_name or "")[:120], number_status=s.number_status,
                      answered_at=_sec(s.answered_at), ended_at=_sec(s.ended_at), duration=s.duration,
                      result=_result(s))
        if r.customer_id:
            fields["customer"] = r.customer_id       # never reset to NULL: a linked customer stays
        if r.user_id:
            fields["user"] = r.user_id               # the colleague who answered (PBX); never reset
        return Call.update(**fields).where(Call.id == call_id).execute()

    @staticmethod
    def _finish(call_id: int, r: CallRecord) -> None:
        s = r.snap
        customer_id = Call.select(Call.customer).where(Call.id == call_id).scalar()
        kind = "call_out" if s.direction == "out" else ("call_missed" if s.state == lc.MISSED else "call_in")
        timeline.record(customer_id, kind, _summary(r.number, r.line_label, s), "call", call_id,
                        data={"line": s.line, "line_label": r.line_label, "number": r.number,
                              "number_status": s.number_status, "duration": s.duration, "state": s.state,
                              "direction": s.direction, **({"result": _result(s)} if s.closed_by else {})},
                        at=_sec(s.started_at))
        if call_log.reached(s.direction, _result(s), answered=s.state == lc.ENDED and s.answered_at is not None):
            call_log.resolve_earlier(r.number, customer_id, _sec(s.started_at), exclude_id=call_id)


def _now_precise() -> dt.datetime:
    """Office-local time with sub-second precision (the lifecycle measures ring gaps); clock overrides win."""
    if clock._override is not None:  # tests freeze the clock; follow them
        return clock._override
    return dt.datetime.now(clock._zone()).replace(tzinfo=None)


def _sec(t: dt.datetime | None) -> dt.datetime | None:
    return t.replace(microsecond=0) if t is not None else None


def _result(s: lc.CallSnapshot) -> str:
    if s.closed_by == lc.DEVICE_LOST:
        return call_log.DEVICE_LOST
    if s.state == lc.MISSED:
        return "no_answer"
    if s.answered_at is not None or (s.direction == "out" and s.final and s.duration):
        return "answered"
    return ""


def _summary(number: str, line_label: str, s: lc.CallSnapshot) -> str:
    return call_log.call_summary(s.direction, s.state, number, s.number_raw, s.number_status, line_label,
                                 s.duration, s.outcome_unknown, _result(s))


def _lookup(number_raw: str, status: str) -> tuple[str, tuple[int, str] | None, int]:
    """(canonical number, the customer's (id, display name) or None, how many other customers share it)."""
    if status != ev.OK or not number_raw:
        return "", None, 0
    from app.customers.service import find_by_phone

    area = settings.area_code()
    p = ph.normalize(number_raw, area)
    canonical = p.canonical if p.canonical else ""
    if p.kind == ph.INVALID:
        keys = ph.lookup_keys(number_raw, area)
        # a box's outside-line prefix: lookup_keys' last key is the number without it
        canonical = next((k for k in keys if ph.normalize(k, area).valid), canonical)
    try:
        found = _find_fast(number_raw, area) or [(c.id, c.display_name) for c in find_by_phone(number_raw)]
    except Exception:  # a look-up failure must not lose the call
        logger.exception("caller ID: customer look-up failed for %r", number_raw)
        found = []
    found.sort()
    return canonical, (found[0] if found else None), max(0, len(found) - 1)


def prewarm() -> None:
    """Make the look-up's statements and import what it reads, once caller ID starts: the first call of the day
    is looked up as fast as the next ones (a number in each shape a device sends: with and without its leading
    0, so one lookup key and two; reads only, of a number no office holds)."""
    from app.office import events as _events  # noqa: F401 - the popup's call event (office.live.publish_call)

    try:
        for number in ("09000000000", "9000000000"):
            _lookup(number, ev.OK)
    except Exception:  # the look-up is made again at the first call
        logger.exception("caller ID: could not prepare the look-up")


def _find_fast(number_raw: str, area: str) -> list[tuple[int, str]]:
    """(id, display name) of the customers holding this number under one of its lookup keys: the first query
    of customers.find_by_phone with its SQL generated once (app.sqlcache). Empty → the caller falls back to
    find_by_phone itself (its other-area-code fallback)."""
    from app.customers.service import display_name_of

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
        number_display=call_log.display_number(live.number, s.number_raw), number_status=s.number_status,
        caller_name=s.caller_name, customer_id=live.customer_id, customer_name=live.customer_name,
        other_matches=live.other_matches, started_at=s.started_at, answered_at=s.answered_at,
        ended_at=s.ended_at, duration=s.duration, rings=s.rings, final=s.final, number_known=s.number_known,
        source=s.source, outcome_unknown=s.outcome_unknown, result=_result(s), extension=live.extension,
        answered_by=live.answered_by, extensions=live.extensions, snap=s)


def _apply_extension(live: _Live, extra: dict) -> None:
    ext = str(extra.get("extension") or "").strip()
    answered = str(extra.get("answered_by") or "").strip()
    if ext:
        live.extension = ext
    rang = tuple(str(e).strip() for e in (extra.get("extensions") or ()) if str(e).strip())
    if rang:
        live.extensions = tuple(dict.fromkeys(live.extensions + rang))
    elif ext and ext not in live.extensions:
        live.extensions = (*live.extensions, ext)
    if answered and answered != live.answered_by:
        live.answered_by = answered
        live.extension = answered
        user = user_at_extension(answered)
        if user:
            live.user_id = user
        live.recorded_state = False


def user_at_extension(ext: str) -> int | None:
    """The colleague at an extension: the colleague whose own extension it is (Settings › colleagues), else the
    office's extension map (settings_keys.user_for_extension), which names them by username or by name; None
    when neither says or the map names nobody we know."""
    try:
        from app.office.users import user_by_extension

        u = user_by_extension(ext)
        if u is not None:
            return u.id
    except Exception:  # a look-up failure must not lose the call
        logger.exception("caller ID: user look-up failed for extension %r", ext)
    who = sk.user_for_extension(ext).strip()
    if not who:
        return None
    try:
        row = (User.select(User.id).where((User.username == who) | (User.name == who))
               .order_by(User.active.desc(), User.id).first())
    except Exception:  # a look-up failure must not lose the call
        logger.exception("caller ID: user look-up failed for extension %r", ext)
        return None
    return row.id if row else None


@writes
def recover_open_calls(at: dt.datetime | None = None) -> int:
    """Calls left open by a crash or a power cut (ringing/answered/dialing) are closed, as best we know.

    A ringing call from a box becomes missed; anything else becomes ended without a duration. Each gets its
    timeline entry. Returns how many were closed.
    """
    at = at or clock.now()
    n = 0
    for c in Call.select().where(Call.state.in_(("ringing", "answered", "dialing")), Call.source != "manual"):
        if c.state == "ringing" and c.source in lc.OUTCOME_SOURCES:
            c.state, c.result = "missed", "no_answer"
        else:
            c.state = "ended"
        c.ended_at = c.ended_at or min(at, c.started_at + dt.timedelta(minutes=1))
        c.save()
        kind = "call_out" if c.direction == "out" else ("call_missed" if c.state == "missed" else "call_in")
        summary = call_log.call_summary(c.direction, c.state, c.number, c.number_raw, c.number_status,
                                        c.line_label, c.duration, c.direction == "in" and c.state == "ended"
                                        and c.answered_at is None)
        timeline.record(c.customer_id, kind, summary, "call", c.id, at=c.started_at,
                        data={"line": c.line, "number": c.number, "state": c.state, "recovered": True})
        n += 1
    if n:
        logger.info("caller ID: closed %d call(s) left open by the last session", n)
    return n
