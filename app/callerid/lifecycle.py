"""The life of a call on each line, as a pure state machine: CallerIdEvent in, call changes out.

No database, no Qt, no clock of its own: every input carries the time it arrived (`at`), and `tick(at)` lets the
caller advance time so that ringing that stopped becomes a missed call. The service (app/callerid/service.py)
turns the changes into Call rows and timeline entries; tests drive this module with synthetic events.

Per line (line None, a single-line modem, is its own line):

    inbound   INCOMING / RING            → ringing (a number arriving later fills the same call)
              ANSWERED, or OFFHOOK while ringing (a box that only says "handset lifted")
                                         → answered
              HANGUP after answered      → ended, duration = the device's if reported, else now − answered_at
              HANGUP while ringing       → ended with that duration if the device reports one > 0 (it was
                                           answered without our seeing it), otherwise missed
              MISSED, or no RING/INCOMING for `ring_timeout` seconds while ringing
                                         → missed (sources that report the outcome)
    outbound  OFFHOOK while idle         → dialling starts (nothing is emitted yet)
              DIGIT…                     → the digits are collected
              OUTGOING with the number   → the number (a duration with it ends the call)
              HANGUP                     → ended, number = the device's if reported else the digits, duration =
                                           the device's else now − off-hook. A handset lifted and put down with
                                           nothing dialled is not a call and emits nothing.

Sources that cannot see the handset (voice modems, SDMF/MDMF, an NCID server without CIDINFO lines) report
only the ring and the number. Their calls stay "ringing" until the ring timeout and are then recorded as
**ended, with no answered time and no duration**: an inbound call whose outcome is unknown. They are *not*
recorded as missed: most such calls were answered, and a missed-calls list full of answered calls would teach
the receptionist to ignore it. A source counts as reporting outcomes when it is one of the multi-line boxes
(segal, yasna, techno) or once it has sent any ANSWERED / MISSED / HANGUP / OFFHOOK event (e.g. NCID CIDINFO).

One owner: this machine alone decides that a call rang out, was answered or ended, and it owns every
timeout. Decoders report only what the device said (app/callerid/decoders/base.py LineTracker no longer
invents MISSED on a quiet line). A MISSED or an inbound HANGUP that arrives for a call this machine has
already closed (a box's late record) is dropped: it never opens a new call. Each line remembers its last few
closed inbound calls for ``CLOSED_MEMORY`` seconds (at least four ring timeouts) to recognise such stragglers.

Stale reports never touch the next call. Records come late, repeated, or re-sent by a decoder whose view of the
line outlived the call (the Segal decoder, still holding a ring cycle the program has closed, turns the next
caller-ID record into MISSED for the old caller + INCOMING for the new one). With a call open on the line:

- a MISSED / inbound HANGUP naming a number other than the open call's known number is not about that call: it
  is dropped when it names a call closed on the line lately, and a MISSED for a number never seen is logged as a
  missed call of its own; the open call stays as it was;
- one naming the open call's own number is that call's, unless the open call is still ringing and the line's
  previous call with that number was closed by this machine (timeout, close-all, a new call superseding it)
  within ``ring_timeout`` seconds and the device has not reported its end yet: then the record is that earlier
  call's, late, and is consumed once.

A RING that opens a call (no call open on the line) carries the caller's number when the decoder names one:
a box decoder reports the caller-ID record of a ring cycle once, so when the same caller rings the same line
again before the decoder's own quiet time has run out (the program having closed the first call), the new
call's number arrives on its RING only. Without it the call would open blank and no popup would show.

The device lost (``DEVICE`` event with ``extra={"device": "lost"}``, sent by the source when the port
disappears): every open call is closed at once as **ended, outcome unknown**, with ``closed_by =
"device_lost"`` (the service stores result ``device_lost``, shown as «قطع ارتباط با دستگاه»). A call that was
ringing is not recorded as missed even on a box that reports outcomes: with the box gone nobody can tell
whether the receptionist picked the handset up after the loss, and a wrong "missed" would send someone to
call back a customer who was served.

Start times are the arrival times, not the device's DATE/TIME (device clocks are often wrong and carry no
year); the device's time is kept in the snapshot for the log.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, replace

from app import options
from app.callerid import events as ev

logger = logging.getLogger(__name__)

DEFAULT_RING_TIMEOUT = options.CALLERID_DEFAULT_RING_TIMEOUT   # seconds without a ring: the call is over
DEFAULT_ANSWERED_TIMEOUT = 4 * 3600  # an answered call with no hang-up is closed after this (seconds)
DEFAULT_DIAL_TIMEOUT = 4 * 3600      # an outgoing call with no hang-up is closed after this (seconds)
CLOSED_MEMORY = 60.0                 # seconds a line remembers its last closed inbound call (late records)

DEVICE_LOST = "device_lost"          # CallSnapshot.closed_by when the device went away mid-call

OUTCOME_SOURCES = frozenset({"segal", "yasna", "techno"})

# actions
CREATED = "created"
UPDATED = "updated"

# states (the same words as models.calls.Call.STATES)
RINGING = "ringing"
ANSWERED = "answered"
MISSED = "missed"
ENDED = "ended"
DIALING = "dialing"


@dataclass(frozen=True)
class CallSnapshot:
    """One call as it stands after a change. `key` is unique for the machine's lifetime."""

    key: str
    line: int | None
    direction: str                    # "in" / "out"
    state: str                        # ringing / answered / missed / ended / dialing
    number_raw: str = ""              # as the device reported it ("" until known)
    number_status: str = ev.OK        # ok / private / unavailable
    number_known: bool = False        # an INCOMING (or the dialled number) has been reported
    caller_name: str = ""
    source: str = ""
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration: int | None = None       # seconds
    rings: int = 0
    device_time: dt.datetime | None = None
    final: bool = False               # the call is over; no further change will come
    closed_by: str = ""               # why it was closed other than by the device's report: DEVICE_LOST

    @property
    def outcome_unknown(self) -> bool:
        return self.direction == "in" and self.state == ENDED and self.answered_at is None


@dataclass(frozen=True)
class CallChange:
    action: str                       # CREATED / UPDATED
    call: CallSnapshot


class _Call:
    """Mutable working state of one call (internal)."""

    def __init__(self, key: str, line: int | None, direction: str, state: str, at: dt.datetime, source: str):
        self.snap = CallSnapshot(key=key, line=line, direction=direction, state=state, started_at=at,
                                 source=source)
        self.last_activity = at
        self.emitted = False
        self.digits = ""

    def set(self, **kw) -> None:
        self.snap = replace(self.snap, **kw)


@dataclass
class _Closed:
    """An inbound call closed on a line, remembered to recognise the device's late records about it."""

    number: str
    status: str
    at: dt.datetime     # when the call ended
    owed: bool          # closed by this machine, not by the device's own end record: that record may still come
    decided: dt.datetime | None = None    # when this machine closed it (owed calls)


CLOSED_KEPT = 4         # closed inbound calls remembered per line


class CallLifecycle:
    """Feed it events with `feed(event, at)` and time with `tick(at)`; both return the call changes."""

    def __init__(self, ring_timeout: float = DEFAULT_RING_TIMEOUT,
                 answered_timeout: float = DEFAULT_ANSWERED_TIMEOUT, dial_timeout: float = DEFAULT_DIAL_TIMEOUT):
        self.ring_timeout = float(ring_timeout)
        self.answered_timeout = float(answered_timeout)
        self.dial_timeout = float(dial_timeout)
        self._lines: dict[int | None, _Call] = {}
        self._seq = itertools.count(1)
        self._outcome_sources: set[str] = set(OUTCOME_SOURCES)
        # line → (number, time) of an outgoing call just finished by an OUTGOING record that carried the
        # duration: some decoders also give a HANGUP for the same record, which must not log a second call.
        self._just_ended_out: dict[int | None, tuple[str, dt.datetime]] = {}
        # line → the inbound calls closed on it lately, newest last: a late MISSED or hang-up record of one of
        # them must neither open another call nor end the one now open on the line.
        self._closed_in: dict[int | None, list[_Closed]] = {}

    # --- queries ---------------------------------------------------------------------------------------------

    def active(self) -> list[CallSnapshot]:
        return [c.snap for c in self._lines.values()]

    def reports_outcome(self, source: str) -> bool:
        return source in self._outcome_sources

    def next_deadline(self) -> dt.datetime | None:
        """When the next tick could change something (for a timer); None when nothing is waiting."""
        out = None
        for c in self._lines.values():
            t = c.last_activity + dt.timedelta(seconds=self._timeout_of(c))
            out = t if out is None or t < out else out
        return out

    # --- input ---------------------------------------------------------------------------------------------

    def feed(self, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        out: list[CallChange] = []
        out += self.tick(at)
        kind = event.kind
        source = event.source or ""
        if kind in (ev.ANSWERED, ev.MISSED, ev.HANGUP, ev.OFFHOOK) and source:
            self._outcome_sources.add(source)
        line = event.line
        cur = self._lines.get(line)
        if kind == ev.INCOMING:
            out += self._incoming(cur, event, at)
        elif kind == ev.RING:
            out += self._ring(cur, event, at)
        elif kind == ev.ANSWERED:
            out += self._answered(cur, event, at)
        elif kind == ev.OFFHOOK:
            if cur is not None and cur.snap.direction == "in" and cur.snap.state == RINGING:
                out += self._answered(cur, event, at)
            elif cur is None:
                self._lines[line] = _Call(self._key(line), line, "out", DIALING, at, source)
            else:
                cur.last_activity = at
        elif kind == ev.DIGIT:
            out += self._digit(cur, event, at)
        elif kind == ev.OUTGOING:
            out += self._outgoing(cur, event, at)
        elif kind == ev.HANGUP:
            out += self._hangup(cur, event, at)
        elif kind == ev.MISSED:
            stale = cur is not None and cur.snap.direction == "in" and self._not_this_call(cur, event, at)
            if stale == _OTHER and event.number:
                out += self._missed_whole(event, at)       # a missed call never seen ringing: logged on its own
            elif stale:
                logger.debug("missed record about an earlier call on line %s: dropped", line)
            elif cur is not None and cur.snap.direction == "in" and cur.snap.state == RINGING:
                cur.set(rings=max(cur.snap.rings, event.rings or 0))
                out += self._finish(cur, MISSED, at, reported=True)
            elif cur is None and self._already_closed(event, at):
                logger.debug("missed record for a call already closed on line %s: dropped", line)
            elif cur is None and event.number:
                # A box that reports a missed call whole (number and ring count) with nothing before it.
                out += self._missed_whole(event, at)
        elif kind == ev.DEVICE:
            if (event.extra or {}).get("device") == "lost":
                out += self.device_lost(at)
        else:
            logger.debug("lifecycle: ignoring event kind %r", kind)
        return out

    def tick(self, at: dt.datetime) -> list[CallChange]:
        """Close calls whose time has run out (ringing that stopped, hang-ups never reported)."""
        out: list[CallChange] = []
        for c in list(self._lines.values()):
            idle = (at - c.last_activity).total_seconds()
            if idle < self._timeout_of(c):
                continue
            s = c.snap
            end_at = c.last_activity    # the last thing we heard: the ring that was not followed by another
            if s.direction == "in" and s.state == RINGING:
                state = MISSED if self.reports_outcome(s.source) else ENDED
                out += self._finish(c, state, end_at, decided=at)
            elif s.direction == "in":
                out += self._finish(c, ENDED, end_at, no_duration=True, decided=at)   # the hang-up never came
            elif c.snap.number_raw or c.digits:
                out += self._finish_out(c, None, end_at, number=None, no_duration=True)
            else:
                self._lines.pop(s.line, None)
        return out

    def device_lost(self, at: dt.datetime) -> list[CallChange]:
        """The device went away: every open call ends now, outcome unknown (see the module's docstring)."""
        out: list[CallChange] = []
        for c in list(self._lines.values()):
            s = c.snap
            c.set(closed_by=DEVICE_LOST)
            if s.direction == "in":
                out += self._finish(c, ENDED, at, no_duration=True)
            elif s.number_raw or c.digits:
                out += self._finish_out(c, None, at, number=None, no_duration=True)
            else:
                self._lines.pop(s.line, None)
        return out

    def close_all(self, at: dt.datetime) -> list[CallChange]:
        """Finish every open call now (the app is closing)."""
        out: list[CallChange] = []
        for c in list(self._lines.values()):
            s = c.snap
            if s.direction == "in":
                if s.state == RINGING:
                    out += self._finish(c, MISSED if self.reports_outcome(s.source) else ENDED, at)
                else:
                    out += self._finish(c, ENDED, at, no_duration=True)
            elif s.number_raw or c.digits:
                out += self._finish_out(c, None, at, number=None, no_duration=True)
            else:
                self._lines.pop(s.line, None)
        return out

    # --- transitions ---------------------------------------------------------------------------------------

    def _key(self, line: int | None) -> str:
        return f"{line if line is not None else 0}#{next(self._seq)}"

    def _timeout_of(self, c: _Call) -> float:
        if c.snap.direction == "in" and c.snap.state == RINGING:
            return self.ring_timeout
        if c.snap.direction == "in":
            return self.answered_timeout
        return self.dial_timeout

    def _emit(self, c: _Call) -> list[CallChange]:
        action = UPDATED if c.emitted else CREATED
        c.emitted = True
        return [CallChange(action, c.snap)]

    def _start_in(self, line: int | None, event: ev.CallerIdEvent, at: dt.datetime) -> _Call:
        c = _Call(self._key(line), line, "in", RINGING, at, event.source or "")
        self._lines[line] = c
        if event.kind in (ev.INCOMING, ev.MISSED) or (event.kind == ev.RING and _names_caller(event)):
            self._apply_number(c, event)
        if event.rings:
            c.set(rings=event.rings)
        return c

    @staticmethod
    def _apply_number(c: _Call, event: ev.CallerIdEvent) -> None:
        status = event.status or ev.OK
        number = (event.number or "").strip()
        if status == ev.OK and not number:
            status = ev.UNAVAILABLE
        c.set(number_raw=number, number_status=status, number_known=True,
              caller_name=(event.name or c.snap.caller_name or "").strip(),
              device_time=event.time or c.snap.device_time)

    def _incoming(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        out: list[CallChange] = []
        if cur is not None:
            s = cur.snap
            same = (s.direction == "in" and s.state == RINGING
                    and (not s.number_known
                         or (s.number_raw == (event.number or "").strip()
                             and s.number_status == (event.status or ev.OK))))
            if same:
                before = cur.snap
                self._apply_number(cur, event)
                cur.last_activity = at
                if cur.snap != before or not cur.emitted:
                    out += self._emit(cur)
                return out
            if s.direction == "out" and not (s.number_raw or cur.digits):
                self._lines.pop(s.line, None)   # a lifted handset with nothing dialled: the phone is ringing
            else:
                out += self._supersede(cur, at)
        c = self._start_in(event.line, event, at)
        return out + self._emit(c)

    def _supersede(self, cur: _Call, at: dt.datetime) -> list[CallChange]:
        """Another call starts on a line that still holds one: close the old one as best we know."""
        s = cur.snap
        if s.direction == "in" and s.state == RINGING:
            return self._finish(cur, MISSED if self.reports_outcome(s.source) else ENDED, cur.last_activity)
        if s.direction == "in":
            return self._finish(cur, ENDED, at)
        return self._finish_out(cur, None, at, number=None)

    def _ring(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        if cur is None or (cur.snap.direction == "out" and not (cur.snap.number_raw or cur.digits)):
            c = self._start_in(event.line, event, at)
            c.set(rings=max(event.rings or 0, 1))
            return self._emit(c)
        s = cur.snap
        if s.direction == "in" and s.state == RINGING:
            cur.last_activity = at
            rings = event.rings if event.rings else s.rings + 1
            cur.set(rings=max(rings, s.rings))
            if not s.number_known and _names_caller(event):
                self._apply_number(cur, event)     # the number arrived with a later ring
            return self._emit(cur)
        # A ring on a line that is busy in another call: a new call has started (the old one's hang-up was lost).
        out = self._supersede(cur, at)
        c = self._start_in(event.line, event, at)
        c.set(rings=max(event.rings or 0, 1))
        return out + self._emit(c)

    def _answered(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        if cur is None:
            if event.kind == ev.ANSWERED:
                logger.debug("answered on idle line %s: ignored", event.line)
            return []
        s = cur.snap
        cur.last_activity = at
        if s.direction == "in" and s.state == RINGING:
            cur.set(state=ANSWERED, answered_at=at)
            return self._emit(cur)
        return []

    def _digit(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        d = (event.number or "").strip()
        if cur is None:
            # Some boxes send no "handset lifted" before the digits.
            cur = _Call(self._key(event.line), event.line, "out", DIALING, at, event.source or "")
            self._lines[event.line] = cur
        if cur.snap.direction != "out":
            cur.last_activity = at
            return []      # DTMF typed during an inbound call (menus, extensions): not a number
        cur.digits += d
        cur.last_activity = at
        return []

    def _outgoing(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        if cur is None:
            cur = _Call(self._key(event.line), event.line, "out", DIALING, at, event.source or "")
            self._lines[event.line] = cur
        if cur.snap.direction != "out":
            logger.debug("outgoing number on a line with an inbound call: ignored")
            return []
        number = (event.number or "").strip()
        if number:
            cur.set(number_raw=number, number_known=True)
        cur.last_activity = at
        if event.duration is not None:
            out = self._finish_out(cur, event.duration, at, number=number or None)
            if out:
                self._just_ended_out[event.line] = (out[0].call.number_raw, at)
            return out
        return []

    def _recent_closed(self, line: int | None, at: dt.datetime) -> list[_Closed]:
        """The inbound calls closed on `line` within the memory, newest last (older ones are forgotten)."""
        memory = max(CLOSED_MEMORY, 4 * self.ring_timeout)
        kept = [c for c in self._closed_in.get(line, []) if (at - c.at).total_seconds() <= memory]
        if kept:
            self._closed_in[line] = kept
        else:
            self._closed_in.pop(line, None)
        return kept

    @staticmethod
    def _names(closed: _Closed, event: ev.CallerIdEvent) -> bool:
        """Does the record name this closed call's caller (the same number, or withheld both times)?"""
        reported = (event.number or "").strip()
        if reported:
            return reported == closed.number
        return (event.status or ev.OK) != ev.OK and closed.status != ev.OK

    def _already_closed(self, event: ev.CallerIdEvent, at: dt.datetime) -> bool:
        """Is this record (MISSED / inbound HANGUP on an idle line) about an inbound call lately closed there?"""
        recent = self._recent_closed(event.line, at)
        if not recent:
            return False
        hit = next((c for c in reversed(recent) if self._names(c, event)), None)
        if hit is None and not (event.number or "").strip():
            hit = recent[-1]             # a record that names no one: the call last closed on the line
        if hit is None:
            return False
        hit.owed = False                 # the device has now reported that call's end
        return True

    def _not_this_call(self, cur: _Call, event: ev.CallerIdEvent, at: dt.datetime) -> str:
        """A MISSED / inbound HANGUP arriving while `cur` (inbound) is open on its line: is it about an earlier
        call instead? "" = it is cur's; _STALE = an earlier call's (drop it); _OTHER = a call never seen."""
        reported = (event.number or "").strip()
        if not reported:
            return ""                    # names no one: the open call's (as before)
        s = cur.snap
        recent = self._recent_closed(event.line, at)
        hit = next((c for c in reversed(recent) if c.number == reported), None)
        if s.number_known and s.number_status == ev.OK and s.number_raw != reported:
            if hit is not None:
                hit.owed = False
                return _STALE
            return _OTHER
        # cur's own number (or cur has none yet): while cur is still ringing, the earlier call with that number
        # is owed its end record when this machine closed it a moment ago; then the record is that call's, once.
        # (Once cur is answered, a hang-up is cur's: better an early end than a call left open for hours.)
        decided = hit.decided or hit.at if hit is not None else None
        if hit is not None and hit.owed and decided is not None and s.state == RINGING \
                and (at - decided).total_seconds() <= self.ring_timeout \
                and s.started_at is not None and s.started_at >= decided:
            hit.owed = False
            return _STALE
        return ""

    def _missed_whole(self, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        """A missed call reported whole (number, ring count) that was never seen ringing: logged as its own call,
        leaving whatever is open on the line alone."""
        c = _Call(self._key(event.line), event.line, "in", RINGING, at, event.source or "")
        self._apply_number(c, event)
        if event.rings:
            c.set(rings=event.rings)
        return self._finish(c, MISSED, at, reported=True)

    def _hangup(self, cur: _Call | None, event: ev.CallerIdEvent, at: dt.datetime) -> list[CallChange]:
        if cur is None:
            if (event.extra or {}).get("direction") == "in" or self._already_closed(event, at):
                logger.debug("hang-up for a call already closed on line %s: dropped", event.line)
                return []
            number = (event.number or "").strip()
            recent = self._just_ended_out.pop(event.line, None)
            if recent and (not number or number == recent[0]) and (at - recent[1]).total_seconds() <= 3:
                return []       # the same hang-up record, already logged from its OUTGOING event
            if number:
                # An outgoing call reported whole at hang-up (number and duration), nothing seen before.
                c = _Call(self._key(event.line), event.line, "out", DIALING, at, event.source or "")
                if event.duration is not None:
                    c.set(started_at=at - dt.timedelta(seconds=event.duration))
                self._lines[event.line] = c
                return self._finish_out(c, event.duration, at, number=number)
            return []
        s = cur.snap
        if s.direction == "out":
            return self._finish_out(cur, event.duration, at, number=(event.number or "").strip() or None)
        if (event.extra or {}).get("direction") != "out" and self._not_this_call(cur, event, at):
            logger.debug("hang-up record about an earlier call on line %s: dropped", event.line)
            return []
        if s.state == ANSWERED:
            dur = event.duration if event.duration is not None else _secs(at - s.answered_at)
            cur.set(duration=dur)
            return self._finish(cur, ENDED, at, reported=True)
        if s.state == RINGING:
            if event.duration:
                answered = at - dt.timedelta(seconds=event.duration)
                cur.set(answered_at=max(answered, s.started_at), duration=event.duration)
                return self._finish(cur, ENDED, at, reported=True)
            return self._finish(cur, MISSED, at, reported=True)
        return []

    def _finish(self, c: _Call, state: str, at: dt.datetime, no_duration: bool = False,
                reported: bool = False, decided: dt.datetime | None = None) -> list[CallChange]:
        """Close `c` as ended at `at`. reported: the device's own end record closed it; else this machine did (at
        `decided`, by default `at`) and the device's record about it may still come: see _not_this_call."""
        s = c.snap
        duration = s.duration
        if state == ENDED and duration is None and s.answered_at is not None and not no_duration:
            duration = _secs(at - s.answered_at)
        if state == MISSED:
            duration = None
        c.set(state=state, ended_at=at, duration=duration, final=True)
        if self._lines.get(s.line) is c:
            del self._lines[s.line]
        if s.direction == "in":
            closed = self._closed_in.setdefault(s.line, [])
            closed.append(_Closed(s.number_raw, s.number_status, at, owed=not reported, decided=decided or at))
            del closed[:-CLOSED_KEPT]
        return self._emit(c)

    def _finish_out(self, c: _Call, duration: int | None, at: dt.datetime, number: str | None,
                    no_duration: bool = False) -> list[CallChange]:
        s = c.snap
        self._lines.pop(s.line, None)
        number = number or s.number_raw or c.digits
        if not number:
            return []       # lifted and put down
        if duration is None and not no_duration:
            duration = _secs(at - s.started_at)
        c.set(number_raw=number, number_known=True, number_status=ev.OK, state=ENDED, ended_at=at,
              duration=duration, final=True)
        return self._emit(c)


_STALE = "stale"        # _not_this_call: a record about a call closed on the line lately
_OTHER = "other"        # _not_this_call: a record about a call never seen on the line


def _names_caller(event: ev.CallerIdEvent) -> bool:
    """Does a RING name its caller (a decoder that knows the ring cycle's caller-ID puts it on each ring)?"""
    return bool((event.number or "").strip()) or event.status in (ev.PRIVATE, ev.UNAVAILABLE)


def _secs(delta: dt.timedelta) -> int:
    return max(0, int(round(delta.total_seconds())))
