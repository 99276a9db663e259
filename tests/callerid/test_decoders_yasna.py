"""Yasna System / Caspian boxes: line records with CallerID:/RingsCount:/Duration:/Dialed: and state words."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.yasna import YasnaDecoder

CAPTURES = Path(__file__).parent / "captures"


def now():
    return dt.datetime(2026, 11, 24, 10, 0)


def decode(data: bytes, chunk: int | None = None):
    d = decoder_for("yasna", now=now)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def brief(events):
    return [(e.kind, e.line, e.number, e.status, e.rings, e.duration) for e in events]


def test_two_lines_answered_outgoing_empty_number_and_noise():
    events = decode((CAPTURES / "yasna_two_lines.txt").read_bytes(), chunk=11)
    assert brief(events) == [
        (ev.INCOMING, 1, "09122800039", ev.OK, None, None),
        (ev.RING, 1, "09122800039", ev.OK, 1, None),
        (ev.INCOMING, 2, "00982122514321", ev.OK, None, None),
        (ev.RING, 2, "00982122514321", ev.OK, 1, None),
        (ev.RING, 1, "09122800039", ev.OK, 2, None),
        (ev.ANSWERED, 1, "09122800039", ev.OK, 2, None),
        (ev.RING, 2, "00982122514321", ev.OK, 2, None),
        (ev.HANGUP, 1, "09122800039", ev.OK, None, 95),
        (ev.OFFHOOK, 3, None, None, None, None),
        (ev.OUTGOING, 3, "09121991334", None, None, 40),
        (ev.HANGUP, 3, "09121991334", None, None, 40),
        (ev.INCOMING, 4, "", ev.UNAVAILABLE, None, None),
        (ev.RING, 4, "", ev.UNAVAILABLE, 1, None),
    ]


@pytest.mark.parametrize("lift,down", [("HookOff", "HookOn"), ("HookOn", "HookOff"), ("Off-hook", "On-hook")])
def test_hook_words_toggle_by_line_state(lift, down):
    # Vendors disagree on what HookOn/HookOff mean; either way the first word after ringing answers and the
    # next one ends the call.
    events = decode(f"L2 Ringing CallerID:22514321 RingsCount:1\nL2 {lift}\nL2 {down}\n".encode())
    assert [e.kind for e in events] == [ev.INCOMING, ev.RING, ev.ANSWERED, ev.HANGUP]


def test_on_hook_while_idle_is_ignored_and_off_hook_starts_an_outgoing_call():
    events = decode(b"L1 On-hook\nL1 Off-hook\nL1 Dialed:09122800039\nL1 On-hook\n")
    assert [(e.kind, e.number) for e in events] == [
        (ev.OFFHOOK, None), (ev.OUTGOING, "09122800039"), (ev.HANGUP, "09122800039")]


def test_fields_in_any_order_and_line_spellings():
    events = decode(b"RingsCount:3 CallerID:+989122800039 Line 2 Ringing\r\nL02: HookOff\r\nDuration:12 L2\r\n")
    assert brief(events) == [
        (ev.INCOMING, 2, "+989122800039", ev.OK, None, None), (ev.RING, 2, "+989122800039", ev.OK, 3, None),
        (ev.ANSWERED, 2, "+989122800039", ev.OK, 3, None), (ev.HANGUP, 2, "+989122800039", ev.OK, None, 12)]


def test_dialed_and_duration_in_one_record_ends_an_outgoing_call():
    events = decode(b"L1 Dialed:02122514321 Duration:61\n")
    assert [(e.kind, e.number, e.duration) for e in events] == [
        (ev.OUTGOING, "02122514321", 61), (ev.HANGUP, "02122514321", 61)]


def test_ring_out_is_left_to_the_lifecycle():
    t = [dt.datetime(2026, 11, 24, 10, 0)]
    d = YasnaDecoder(now=lambda: t[0], ring_timeout=6)
    d.feed(b"L1 Ringing CallerID:09122800039 RingsCount:1\n")
    t[0] += dt.timedelta(seconds=6)
    assert d.tick() == []                    # no MISSED invented on a timeout (app/callerid/lifecycle.py owns it)


def test_last_record_without_newline_is_read_at_end_of_input():
    d = YasnaDecoder(now=now)
    assert d.feed(b"L1 Ringing CallerID:09122800039 RingsCount:1") == []
    assert d.flush() == []
    assert [e.kind for e in d.end()] == [ev.INCOMING, ev.RING]


def test_unknown_and_garbage_records_are_skipped():
    assert decode(b"\xff\xfe\r\nhello\r\nL1 Foo:bar\r\nL0 Ringing\r\nL99999 Ringing\r\n") == []


def test_duration_while_ringing_is_a_hang_up_not_an_answer():
    events = decode(b"L1 Ringing CallerID:22514321 RingsCount:3\nL1 HookOn Duration:0\n")
    assert [(e.kind, e.duration) for e in events] == [(ev.INCOMING, None), (ev.RING, None), (ev.HANGUP, 0)]
