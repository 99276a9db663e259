"""The call state machine, driven by synthetic events: no database, no Qt."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from app.callerid import events as ev
from app.callerid.lifecycle import (
    ANSWERED,
    CREATED,
    DIALING,
    ENDED,
    MISSED,
    RINGING,
    UPDATED,
    CallLifecycle,
)

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def E(kind, **kw):  # noqa: N802 - reads like the event it builds
    return ev.CallerIdEvent(kind=kind, **kw)


def finals(changes):
    return [c.call for c in changes if c.call.final]


def test_box_answered_call_uses_device_duration():
    m = CallLifecycle()
    ch = m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    assert [(c.action, c.call.state, c.call.number_raw, c.call.line) for c in ch] == [
        (CREATED, RINGING, "09121234567", 1)]
    key = ch[0].call.key
    ch = m.feed(E(ev.RING, line=1, rings=1, source="segal"), at(1))
    assert ch[0].action == UPDATED and ch[0].call.rings == 1 and ch[0].call.key == key
    ch = m.feed(E(ev.ANSWERED, line=1, source="segal"), at(5))
    assert ch[0].call.state == ANSWERED and ch[0].call.answered_at == at(5)
    ch = m.feed(E(ev.HANGUP, line=1, duration=21, source="segal"), at(30))
    [c] = finals(ch)
    assert (c.key, c.state, c.duration, c.ended_at, c.answered_at) == (key, ENDED, 21, at(30), at(5))
    assert m.active() == []


def test_duration_computed_when_device_reports_none():
    m = CallLifecycle()
    m.feed(E(ev.RING, line=2, source="techno"), at(0))
    m.feed(E(ev.INCOMING, number="22514321", line=2, source="techno"), at(0.5))
    m.feed(E(ev.ANSWERED, line=2, source="techno"), at(4))
    [c] = finals(m.feed(E(ev.HANGUP, line=2, source="techno"), at(64)))
    assert c.state == ENDED and c.duration == 60 and c.number_raw == "22514321"


def test_ring_before_number_fills_the_same_call():
    m = CallLifecycle()
    ch1 = m.feed(E(ev.RING, source="modem"), at(0))
    assert ch1[0].action == CREATED and not ch1[0].call.number_known
    ch2 = m.feed(E(ev.INCOMING, number="02122514321", source="modem"), at(1))
    assert ch2[0].action == UPDATED and ch2[0].call.key == ch1[0].call.key
    assert ch2[0].call.number_known and ch2[0].call.number_raw == "02122514321"


def test_explicit_missed():
    m = CallLifecycle()
    m.feed(E(ev.INCOMING, number="09120000000", line=1, source="techno"), at(0))
    [c] = finals(m.feed(E(ev.MISSED, line=1, rings=10, source="techno"), at(7)))
    assert c.state == MISSED and c.duration is None and c.rings == 10 and c.answered_at is None


def test_ringing_that_stops_is_missed_for_a_box():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09120000000", line=1, source="segal"), at(0))
    m.feed(E(ev.RING, line=1, source="segal"), at(3))
    assert m.tick(at(10)) == []
    assert m.next_deadline() == at(11)
    [c] = finals(m.tick(at(11.5)))
    assert c.state == MISSED and c.ended_at == at(3)


def test_modem_call_ends_with_outcome_unknown():
    """A voice modem cannot see the handset: the call is recorded as ended without duration, not missed."""
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.RING, source="modem"), at(0))
    m.feed(E(ev.INCOMING, number="09121112222", source="modem"), at(1))
    m.feed(E(ev.RING, source="modem"), at(5))
    [c] = finals(m.tick(at(14)))
    assert c.state == ENDED and c.duration is None and c.answered_at is None and c.outcome_unknown


def test_ncid_learns_it_reports_outcomes():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="1", source="ncid"), at(0))
    m.feed(E(ev.MISSED, source="ncid"), at(10))
    m.feed(E(ev.INCOMING, number="2", source="ncid"), at(100))
    [c] = finals(m.tick(at(120)))
    assert c.state == MISSED


def test_offhook_while_ringing_means_answered():
    m = CallLifecycle()
    m.feed(E(ev.INCOMING, number="09121234567", line=3, source="segal"), at(0))
    ch = m.feed(E(ev.OFFHOOK, line=3, source="segal"), at(6))
    assert ch[0].call.state == ANSWERED
    [c] = finals(m.feed(E(ev.HANGUP, line=3, number="", duration=15, source="segal"), at(21)))
    assert c.direction == "in" and c.duration == 15


def test_hangup_while_ringing_with_duration_was_answered_unseen():
    m = CallLifecycle(ring_timeout=60)
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    [c] = finals(m.feed(E(ev.HANGUP, line=1, duration=20, source="segal"), at(30)))
    assert c.state == ENDED and c.duration == 20 and c.answered_at == at(10)


def test_hangup_while_ringing_without_duration_is_missed():
    m = CallLifecycle()
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    [c] = finals(m.feed(E(ev.HANGUP, line=1, duration=0, source="segal"), at(30)))
    assert c.state == MISSED


def test_outgoing_from_digits():
    m = CallLifecycle()
    assert m.feed(E(ev.OFFHOOK, line=3, source="segal"), at(0)) == []
    for i, d in enumerate("09121234567"):
        assert m.feed(E(ev.DIGIT, number=d, line=3, source="segal"), at(1 + i * 0.3)) == []
    assert m.active()[0].state == DIALING
    ch = m.feed(E(ev.HANGUP, line=3, source="segal"), at(100))
    assert [c.action for c in ch] == [CREATED]
    c = ch[0].call
    assert (c.direction, c.state, c.number_raw, c.duration, c.started_at) == ("out", ENDED, "09121234567", 100, at(0))


def test_outgoing_number_and_duration_from_the_hangup_record():
    m = CallLifecycle()
    m.feed(E(ev.OFFHOOK, line=1, source="segal"), at(0))
    m.feed(E(ev.DIGIT, number="0", line=1, source="segal"), at(1))
    [c] = finals(m.feed(E(ev.HANGUP, line=1, number="09121991334", duration=21, source="segal"), at(40)))
    assert c.number_raw == "09121991334" and c.duration == 21


def test_outgoing_event_with_duration_ends_call():
    m = CallLifecycle()
    m.feed(E(ev.OFFHOOK, line=2, source="yasna"), at(0))
    [c] = finals(m.feed(E(ev.OUTGOING, number="02188776655", duration=33, line=2, source="yasna"), at(50)))
    assert c.direction == "out" and c.duration == 33
    assert m.feed(E(ev.HANGUP, line=2, source="yasna"), at(51)) == []


def test_outgoing_then_hangup_from_one_record_is_one_call():
    """The Segal decoder turns `L3HND:0912… T0021@` into OUTGOING(number, duration) and HANGUP(number)."""
    m = CallLifecycle()
    m.feed(E(ev.OFFHOOK, line=3, source="segal"), at(0))
    for d in "0912":
        m.feed(E(ev.DIGIT, number=d, line=3, source="segal"), at(1))
    a = m.feed(E(ev.OUTGOING, number="09122800039", duration=21, line=3, source="segal"), at(25))
    b = m.feed(E(ev.HANGUP, number="09122800039", duration=21, line=3, source="segal"), at(25))
    assert len(finals(a)) == 1 and b == []
    # a later, separate hang-up record on that line is a call of its own again
    [c] = finals(m.feed(E(ev.HANGUP, number="02122514321", duration=5, line=3, source="segal"), at(90)))
    assert c.number_raw == "02122514321"


def test_outgoing_without_offhook_reported_whole_at_hangup():
    m = CallLifecycle()
    [c] = finals(m.feed(E(ev.HANGUP, line=4, number="09120001111", duration=12, source="segal"), at(30)))
    assert c.direction == "out" and c.started_at == at(18) and c.duration == 12


def test_handset_lifted_and_put_down_is_not_a_call():
    m = CallLifecycle()
    m.feed(E(ev.OFFHOOK, line=1, source="segal"), at(0))
    assert m.feed(E(ev.HANGUP, line=1, number="", duration=2, source="segal"), at(2)) == []
    assert m.active() == []


def test_two_lines_are_independent():
    m = CallLifecycle(ring_timeout=8)
    a = m.feed(E(ev.INCOMING, number="09121111111", line=1, source="segal"), at(0))[0].call
    b = m.feed(E(ev.INCOMING, number="09122222222", line=2, source="segal"), at(0.2))[0].call
    assert a.key != b.key
    m.feed(E(ev.RING, line=1, source="segal"), at(1))
    m.feed(E(ev.RING, line=2, source="segal"), at(1))
    m.feed(E(ev.ANSWERED, line=1, source="segal"), at(4))
    m.feed(E(ev.RING, line=2, source="segal"), at(5))
    done = finals(m.feed(E(ev.HANGUP, line=1, duration=30, source="segal"), at(35)))
    # line 2 stopped ringing at 5 and timed out at 13: time runs first, then the hang-up
    assert [(c.line, c.state, c.duration, c.ended_at) for c in done] == [
        (2, MISSED, None, at(5)), (1, ENDED, 30, at(35))]
    assert m.active() == []


def test_line_two_missed_by_timeout_while_line_one_talks():
    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09121111111", line=1, source="segal"), at(0))
    m.feed(E(ev.INCOMING, number="09122222222", line=2, source="segal"), at(0))
    m.feed(E(ev.ANSWERED, line=1, source="segal"), at(3))
    [c] = finals(m.tick(at(9)))
    assert (c.line, c.state) == (2, MISSED)
    [c] = finals(m.feed(E(ev.HANGUP, line=1, source="segal"), at(63)))
    assert (c.line, c.state, c.duration) == (1, ENDED, 60)


def test_private_and_unavailable():
    m = CallLifecycle()
    c = m.feed(E(ev.INCOMING, number="P", status=ev.PRIVATE, source="modem"), at(0))[0].call
    assert c.number_status == ev.PRIVATE and c.number_known
    m2 = CallLifecycle()
    c = m2.feed(E(ev.INCOMING, number="", source="modem"), at(0))[0].call
    assert c.number_status == ev.UNAVAILABLE


def test_repeated_number_report_is_one_call():
    m = CallLifecycle()
    a = m.feed(E(ev.INCOMING, number="09121234567", source="modem"), at(0))
    b = m.feed(E(ev.INCOMING, number="09121234567", source="modem"), at(4))
    assert a[0].action == CREATED and b == []


def test_new_number_on_ringing_line_starts_new_call():
    m = CallLifecycle()
    m.feed(E(ev.INCOMING, number="09121234567", source="modem"), at(0))
    ch = m.feed(E(ev.INCOMING, number="09127654321", source="modem"), at(6))
    assert [(c.action, c.call.final, c.call.number_raw) for c in ch] == [
        (UPDATED, True, "09121234567"), (CREATED, False, "09127654321")]


def test_close_all():
    m = CallLifecycle()
    m.feed(E(ev.INCOMING, number="1", line=1, source="segal"), at(0))
    m.feed(E(ev.INCOMING, number="2", line=2, source="segal"), at(0))
    m.feed(E(ev.ANSWERED, line=2, source="segal"), at(1))
    done = finals(m.close_all(at(5)))
    assert sorted((c.line, c.state) for c in done) == [(1, MISSED), (2, ENDED)]
    assert m.active() == []


_kinds = st.sampled_from([ev.INCOMING, ev.RING, ev.ANSWERED, ev.HANGUP, ev.MISSED, ev.OFFHOOK, ev.DIGIT,
                          ev.OUTGOING, ev.DEVICE, "nonsense"])
_events = st.builds(
    lambda k, n, line, dur, src, st_: E(k, number=n, line=line, duration=dur, source=src, status=st_),
    _kinds, st.one_of(st.none(), st.text("0123456789P", max_size=12)), st.one_of(st.none(), st.integers(1, 4)),
    st.one_of(st.none(), st.integers(0, 5000)), st.sampled_from(["modem", "segal", "ncid", ""]),
    st.sampled_from([None, ev.OK, ev.PRIVATE, ev.UNAVAILABLE]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_events, st.floats(0, 20)), max_size=40))
def test_any_event_sequence_keeps_invariants(seq):
    """Whatever arrives: no exception, each key created once, finished at most once, nothing after final."""
    m = CallLifecycle(ring_timeout=8)
    t = 0.0
    created: set[str] = set()
    finished: set[str] = set()
    for e, gap in seq:
        t += gap
        for ch in m.feed(e, at(t)):
            k = ch.call.key
            assert k not in finished
            if ch.action == CREATED:
                assert k not in created
                created.add(k)
            else:
                assert k in created
            if ch.call.final:
                finished.add(k)
                assert ch.call.state in (ENDED, MISSED)
                assert ch.call.duration is None or ch.call.duration >= 0
    for ch in m.close_all(at(t + 1)):
        assert ch.call.key not in finished
    assert m.active() == []


def test_a_late_missed_for_a_call_already_closed_never_opens_another():
    """The lifecycle closed the ringing call on its own timeout; the box's MISSED (or hang-up) record for
    it arrives afterwards: dropped, not a second call. A whole missed record from another number still counts."""
    m = CallLifecycle(ring_timeout=2)
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    m.feed(E(ev.RING, line=1, source="segal"), at(1))
    [c] = finals(m.tick(at(3.5)))
    assert c.state == MISSED
    assert m.feed(E(ev.MISSED, number="09121234567", line=1, rings=2, source="segal"), at(8)) == []
    assert m.feed(E(ev.MISSED, line=1, source="segal"), at(9)) == []
    assert m.feed(E(ev.HANGUP, number="09121234567", line=1, source="segal",
                    extra={"direction": "in"}), at(10)) == []
    assert m.active() == []
    [other] = finals(m.feed(E(ev.MISSED, number="09350000000", line=1, rings=3, source="segal"), at(11)))
    assert other.state == MISSED and other.number_raw == "09350000000" and other.key != c.key


def test_device_lost_closes_every_open_call_outcome_unknown():
    from app.callerid.lifecycle import DEVICE_LOST

    m = CallLifecycle(ring_timeout=8)
    m.feed(E(ev.INCOMING, number="09121234567", line=1, source="segal"), at(0))
    m.feed(E(ev.INCOMING, number="02122514321", line=2, source="segal"), at(0))
    m.feed(E(ev.ANSWERED, line=2, source="segal"), at(2))
    m.feed(E(ev.OFFHOOK, line=3, source="segal"), at(3))            # lifted, nothing dialled
    ch = m.feed(E(ev.DEVICE, source="segal", extra={"device": "lost"}), at(5))
    got = {c.line: c for c in finals(ch)}
    assert set(got) == {1, 2}                                       # line 3 was not a call
    for c in got.values():
        assert (c.state, c.closed_by, c.duration, c.ended_at) == (ENDED, DEVICE_LOST, None, at(5))
    assert got[1].answered_at is None and got[2].answered_at == at(2)
    assert m.active() == [] and m.tick(at(100)) == []
    # the device back: a late hang-up of line 2 opens nothing
    assert m.feed(E(ev.HANGUP, line=2, duration=30, source="segal", extra={"direction": "in"}), at(20)) == []
