"""Telephone-system events through the call-life model (app/callerid/lifecycle.CallLifecycle): a ring group is
one call answered by the right extension, a transfer stays one call, missed and outgoing calls, concurrent
calls on separate line slots, a long ring kept alive, and every call logged exactly once."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid import lifecycle as lc
from app.callerid.decoders import decoder_for
from app.callerid.decoders.ami import AmiDecoder
from app.callerid.pbx_simulator import CallScript

PBX = Path(__file__).parent / "captures" / "pbx"
T0 = dt.datetime(2025, 11, 24, 12, 0)


def run(events, step=0.2, life=None):
    """Feed events 0.2 s apart; returns (final snapshots, every change, the events that caused each final)."""
    life = life or lc.CallLifecycle()
    at = T0
    changes, finals = [], {}
    for e in events:
        at += dt.timedelta(seconds=step)
        for ch in life.feed(e, at):
            changes.append(ch)
            if ch.call.final:
                assert ch.call.key not in finals, f"call {ch.call.key} finished twice"
                finals[ch.call.key] = (ch.call, e)
    return finals, changes, life


def calls(finals):
    return [(s.direction, s.state, s.number_raw, s.line, s.duration, e.extra.get("answered_by"))
            for s, e in finals.values()]


def test_asterisk16_transcript_gives_each_call_once():
    d = decoder_for("ami", now=lambda: T0)
    events = d.feed((PBX / "ami_asterisk16.txt").read_bytes()) + d.end()
    finals, changes, life = run(events)
    assert calls(finals) == [
        ("in", lc.MISSED, "02122514321", 2, None, None),           # rang 101 while line 1 was talking
        ("in", lc.ENDED, "09121234567", 1, 120, "103"),            # ring group → 102 → transferred to 103
        ("out", lc.ENDED, "09351112233", 1, 45, None),
        ("in", lc.ENDED, "09187654321", 1, 30, "102"),             # from a Cdr alone
        ("in", lc.MISSED, "", 1, None, None),                      # withheld, hung up in the IVR
    ]
    created = [c for c in changes if c.action == lc.CREATED]
    assert len(created) == len(finals) == 5
    assert life.active() == []
    ring_group = next(s for s, _e in finals.values() if s.number_raw == "09121234567")
    assert ring_group.answered_at is not None and ring_group.rings == 2


def test_asterisk11_transcript_gives_each_call_once():
    d = decoder_for("ami", now=lambda: T0)
    events = d.feed((PBX / "ami_asterisk11.txt").read_bytes()) + d.end()
    finals, changes, _ = run(events)
    assert [(a, b, c, e) for a, b, c, _l, _d, e in calls(finals)] == [
        ("in", lc.ENDED, "09121234567", "101"), ("in", lc.MISSED, "02122514321", None),
        ("out", lc.ENDED, "09351112233", None)]
    assert len([c for c in changes if c.action == lc.CREATED]) == 3


def test_smdr_records_fill_the_log_once_each():
    d = decoder_for("smdr", now=lambda: T0)
    events = d.feed((PBX / "smdr_panasonic.txt").read_bytes()) + d.end()
    finals, changes, life = run(events)
    got = [(a, b, c, dur) for a, b, c, _l, dur, _e in calls(finals)]
    assert got == [
        ("in", lc.ENDED, "09121234567", 65), ("out", lc.ENDED, "02188776655", 220),
        ("in", lc.MISSED, "02122514321", None), ("in", lc.ENDED, "09351112233", 602),
        ("out", lc.ENDED, "02166595961", 45), ("in", lc.ENDED, "", 120), ("in", lc.ENDED, "09243121", 0),
        ("in", lc.MISSED, "", None)]
    assert len([c for c in changes if c.action == lc.CREATED]) == 8 and life.active() == []


def _script_events(style, steps, clock):
    """Decode a CallScript's steps, advancing the decoder's clock by each step's delay."""
    d = AmiDecoder(now=lambda: clock[0])
    out = []
    for delay, data in steps:
        clock[0] += dt.timedelta(seconds=delay)
        out.append((clock[0], d.feed(data)))
    return d, out


@pytest.mark.parametrize("style", ["16", "11"])
def test_a_long_ring_group_is_one_call_answered_by_the_extension_that_picked_up(style):
    """Three phones ring for 30 s (longer than the ring timeout) and 103 answers: one call, answered by 103,
    never closed as missed in between, because the decoder rings again every few seconds."""
    if True:
        script = CallScript(style, base=1_700_000_000)
        clock = [T0]
        d = AmiDecoder(now=lambda: clock[0])
        life = lc.CallLifecycle(ring_timeout=8)
        changes = []
        steps = script.incoming("09121234567", ["101", "102", "103"], answer_by="103", ring=30, talk=20)
        for delay, data in steps:
            target = clock[0] + dt.timedelta(seconds=delay)
            while clock[0] + dt.timedelta(seconds=1) <= target:          # time passes: the Pump ticks each second
                clock[0] += dt.timedelta(seconds=1)
                for e in d.tick():
                    changes += life.feed(e, clock[0])
                changes += life.tick(clock[0])
            clock[0] = target
            for e in d.feed(data):
                changes += life.feed(e, clock[0])
        finals = [c.call for c in changes if c.call.final]
        assert len({c.call.key for c in changes}) == 1, style
        assert len(finals) == 1 and finals[0].state == lc.ENDED and finals[0].answered_at is not None, style
        assert finals[0].answered_at - finals[0].started_at == dt.timedelta(seconds=30), style
        assert finals[0].duration == 20, style      # 16: from the Timestamp fields; 11: from the clock


def test_concurrent_calls_take_separate_lines_and_free_them():
    script = CallScript("16", base=1_700_000_000)
    d = AmiDecoder(now=lambda: T0)
    a = script.incoming("09120000001", ["101"], answer_by="101")
    b = script.incoming("09120000002", ["102"], answer_by="102")
    c = script.outgoing("103", "02144556677")
    # a and b ring and are answered, c dials out, then all three end: interleaved
    events = []
    assert (len(a), len(b), len(c)) == (4, 4, 3)
    for data in (a[0][1], a[1][1], a[2][1], b[0][1], b[1][1], b[2][1], a[3][1], c[0][1], c[1][1], b[3][1],
                 c[2][1]):
        events += d.feed(data)
    starts = [(e.kind, e.number, e.line) for e in events if e.kind in (ev.INCOMING, ev.OUTGOING)]
    assert starts == [(ev.INCOMING, "09120000001", 1), (ev.INCOMING, "09120000002", 2),
                      (ev.OUTGOING, "02144556677", 1)]                   # line 1 free again after call a
    finals, _changes, life = run(events)
    assert sorted((s.number_raw, s.state, e.extra.get("extension")) for s, e in finals.values()) == [
        ("02144556677", lc.ENDED, "103"), ("09120000001", lc.ENDED, "101"), ("09120000002", lc.ENDED, "102")]
    assert life.active() == [] and d.active_calls == 0


def test_unanswered_outgoing_call_has_no_talk_time():
    d = AmiDecoder(now=lambda: T0)
    events = []
    for _delay, data in CallScript("16").outgoing("101", "09121234567", answer=False):
        events += d.feed(data)
    end = events[-1]
    assert (end.kind, end.duration, end.extra["answered"], end.extra["dial_status"]) == (ev.HANGUP, 0, False, "BUSY")
    finals, _c, _l = run(events)
    assert [(s.direction, s.duration) for s, _e in finals.values()] == [("out", 0)]
