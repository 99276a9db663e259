"""A box's report about an earlier call (late, repeated, or re-sent by the decoder) must never hijack or blank
the next call on the same line; the new caller's number always reaches the call (and so the popup).

The first two tests replay the exact bytes of the 8-line caller-ID benchmark's failing round (seed 2: line 2 rang
for the same customer, in the same number form, in two consecutive rounds, with every call closed between them)
through the real Segal decoder and the lifecycle."""
from __future__ import annotations

import datetime as dt

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.lifecycle import CREATED, ENDED, MISSED, RINGING, CallLifecycle

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def E(kind, **kw):
    return ev.CallerIdEvent(kind=kind, **kw)


class Box:
    """The Segal decoder and the lifecycle as the service chains them, on one clock."""

    def __init__(self, ring_timeout: float = 30) -> None:
        self.clock = Clock()
        self.decoder = decoder_for("segal", now=self.clock)
        self.machine = CallLifecycle(ring_timeout=ring_timeout)
        self.events: list[ev.CallerIdEvent] = []

    def send(self, data: bytes, after: float = 0.05):
        self.clock.advance(after)
        changes = []
        for e in self.decoder.feed(data):
            self.events.append(e)
            changes += self.machine.feed(e, self.clock())
        return changes

    def close_all(self, after: float = 0.05):
        self.clock.advance(after)
        return self.machine.close_all(self.clock())


def _shown(changes):
    """The calls a popup would be shown for: inbound, not over, number reported (ui/calls/controller.py)."""
    return [c.call for c in changes if c.call.direction == "in" and c.call.number_known and not c.call.final]


def test_same_caller_on_the_same_line_after_every_call_was_closed_gets_its_number():
    box = Box()
    first = box.send(b"L2C9129131612@\r\nL2R01@\r\n")
    [a] = {c.call.key: c.call for c in first}.values()
    assert (a.number_raw, a.number_known, a.state) == ("9129131612", True, RINGING)
    closed = box.close_all(after=0.8)
    assert [(c.call.key, c.call.state) for c in closed] == [(a.key, MISSED)]
    # The next round, one second later: the same customer, the same form. The decoder still holds line 2's
    # ring cycle (the box never says a call rang out; its own quiet time has not run out), so it takes the
    # caller-ID record for a repeat and reports only the ring, naming the number it holds.
    again = box.send(b"L2C9129131612@\r\nL2R01@\r\n", after=0.9)
    assert [e.kind for e in box.events[-1:]] == [ev.RING]
    calls = {c.call.key: c.call for c in again}
    assert list(calls) != [a.key] and a.key not in calls
    [b] = calls.values()
    assert (b.number_raw, b.number_known, b.state, b.final) == ("9129131612", True, RINGING, False)
    assert again[0].action == CREATED
    assert _shown(again), "no popup for the caller ringing now"


def test_previous_callers_missed_record_before_the_next_caller_is_dropped():
    """Seed 2, line 8: the decoder turns the new caller-ID record into MISSED (the previous round's caller, whose
    call the bench had closed) + INCOMING (the new caller). Only the new call opens, with its number."""
    box = Box()
    box.send(b"L8C9307806657@\r\nL8R01@\r\n")
    box.close_all(after=0.5)
    changes = box.send(b"L8C09358749092@\r\nL8R01@\r\n", after=0.9)
    assert [(e.kind, e.number) for e in box.events[-3:]] == [
        (ev.MISSED, "9307806657"), (ev.INCOMING, "09358749092"), (ev.RING, "09358749092")]
    assert {c.call.number_raw for c in changes} == {"09358749092"}
    assert [c.number_raw for c in box.machine.active()] == ["09358749092"]
    assert _shown(changes)


def test_a_stale_missed_record_never_closes_the_next_call_on_the_line():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09121234567", line=3, source="segal"), at(0))
    m.close_all(at(2))                                       # the program closed it (the box said nothing)
    m.feed(E(ev.INCOMING, number="02122514321", line=3, source="segal"), at(3))
    # the box's (or the decoder's) report about the first call arrives now, late
    assert m.feed(E(ev.MISSED, number="09121234567", line=3, rings=1, source="segal"), at(3.1)) == []
    assert m.feed(E(ev.HANGUP, number="09121234567", line=3, duration=40, source="segal",
                    extra={"direction": "in"}), at(3.2)) == []
    [cur] = m.active()
    assert (cur.number_raw, cur.state, cur.final) == ("02122514321", RINGING, False)
    # the new call's own end still counts
    [done] = [c.call for c in m.feed(E(ev.MISSED, number="02122514321", line=3, rings=2, source="segal"),
                                     at(9)) if c.call.final]
    assert (done.key, done.state, done.number_raw) == (cur.key, MISSED, "02122514321")


def test_the_same_caller_ringing_again_keeps_the_new_call_against_the_old_calls_late_record():
    """A caller rang out, the program closed the call on its own timeout, the caller rings again seconds later,
    and only then the box's record about the first call arrives: it is the first call's, not the new one's."""
    m = CallLifecycle(ring_timeout=4)
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="techno"), at(0))
    m.feed(E(ev.RING, number="09121234567", line=1, rings=1, source="techno"), at(0.1))
    [first] = [c.call for c in m.tick(at(5)) if c.call.final]
    assert first.state == MISSED
    [new] = [c.call for c in m.feed(E(ev.INCOMING, number="09121234567", line=1, source="techno"), at(6))]
    assert new.key != first.key and new.number_known
    assert m.feed(E(ev.MISSED, number="09121234567", line=1, rings=1, source="techno"), at(6.2)) == []
    [cur] = m.active()
    assert (cur.key, cur.state) == (new.key, RINGING)
    m.feed(E(ev.RING, number="09121234567", line=1, rings=2, source="techno"), at(8))
    [done] = [c.call for c in m.feed(E(ev.MISSED, number="09121234567", line=1, rings=3, source="techno"),
                                     at(11)) if c.call.final]
    assert (done.key, done.state, done.rings) == (new.key, MISSED, 3)


def test_a_caller_who_gives_up_at_once_twice_is_two_missed_calls():
    """The box reported the first call's end itself, so nothing about it is still owed: the same caller's next
    call, given up at once, is missed on the box's record, not held open until the ring timeout."""
    m = CallLifecycle(ring_timeout=30)
    for i in range(2):
        t = 10.0 * i
        m.feed(E(ev.INCOMING, number="09121234567", line=2, source="techno"), at(t))
        m.feed(E(ev.RING, number="09121234567", line=2, rings=1, source="techno"), at(t + 0.01))
        [done] = [c.call for c in m.feed(E(ev.MISSED, number="09121234567", line=2, rings=1, source="techno"),
                                         at(t + 0.02)) if c.call.final]
        assert done.state == MISSED
    assert m.active() == []


def test_a_missed_record_for_a_call_never_seen_is_logged_without_touching_the_ringing_one():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="02122514321", line=4, source="segal"), at(0))
    ch = m.feed(E(ev.MISSED, number="09350000000", line=4, rings=2, source="segal"), at(1))
    [other] = [c.call for c in ch]
    assert (other.state, other.number_raw, other.final) == (MISSED, "09350000000", True)
    [cur] = m.active()
    assert (cur.number_raw, cur.state) == ("02122514321", RINGING)


def test_an_answered_call_is_not_ended_by_the_previous_calls_late_hang_up():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    m.feed(E(ev.ANSWERED, line=1, source="segal"), at(2))
    m.close_all(at(10))                                      # closed without its hang-up
    m.feed(E(ev.INCOMING, number="02122514321", line=1, source="segal"), at(12))
    m.feed(E(ev.ANSWERED, line=1, source="segal"), at(13))
    assert m.feed(E(ev.HANGUP, number="09121234567", line=1, duration=8, source="segal",
                    extra={"direction": "in"}), at(13.5)) == []
    [cur] = m.active()
    assert cur.number_raw == "02122514321" and not cur.final
    [done] = [c.call for c in m.feed(E(ev.HANGUP, number="02122514321", line=1, duration=20, source="segal",
                                       extra={"direction": "in"}), at(33)) if c.call.final]
    assert (done.key, done.state, done.duration) == (cur.key, ENDED, 20)


def test_the_same_callers_answered_call_ends_on_its_own_hang_up():
    """The first call was closed by the program's ring timeout; the caller rang again at once and was answered:
    the hang-up that follows is the answered call's, even within the first call's straggler time."""
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09121234567", line=5, source="segal"), at(0))
    [first] = [c.call for c in m.tick(at(8)) if c.call.final]
    m.feed(E(ev.INCOMING, number="09121234567", line=5, source="segal"), at(9))
    m.feed(E(ev.ANSWERED, line=5, source="segal"), at(10))
    [done] = [c.call for c in m.feed(E(ev.HANGUP, number="09121234567", line=5, duration=4, source="segal",
                                       extra={"direction": "in"}), at(14)) if c.call.final]
    assert done.key != first.key and (done.state, done.duration) == (ENDED, 4)
    assert m.active() == []
