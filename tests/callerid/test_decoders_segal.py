"""Oj Segal / Danjeh boxes: '@'-terminated records, several lines, the whole life of each call."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.base import parse_duration
from app.callerid.decoders.segal import SegalDecoder

CAPTURES = Path(__file__).parent / "captures"


class Clock:
    def __init__(self):
        self.t = dt.datetime(2026, 11, 24, 10, 0)

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += dt.timedelta(seconds=seconds)


def decode(data: bytes, chunk: int | None = None, **kw):
    d = decoder_for("segal", now=Clock(), **kw)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def brief(events):
    return [(e.kind, e.line, e.number, e.status, e.rings, e.duration) for e in events if e.kind != ev.DIGIT]


def test_single_line_capture_incoming_outgoing_and_empty_hangup():
    events = decode((CAPTURES / "segal_line1.txt").read_bytes())
    assert brief(events) == [
        (ev.INCOMING, 1, "09191714505", ev.OK, None, None),      # caller ID before the first ring record
        (ev.RING, 1, "09191714505", ev.OK, 1, None),
        (ev.RING, 1, "09191714505", ev.OK, 2, None),
        (ev.RING, 1, "09191714505", ev.OK, 3, None),
        (ev.ANSWERED, 1, "09191714505", ev.OK, 3, None),
        (ev.HANGUP, 1, "09191714505", ev.OK, None, 177),         # T0257 = 2 min 57 s
        (ev.OFFHOOK, 1, None, None, None, None),
        (ev.OUTGOING, 1, "09122259679", None, None, 65),         # HND:<number> T0105
        (ev.HANGUP, 1, "09122259679", None, None, 65),
        (ev.OFFHOOK, 1, None, None, None, None),
        (ev.HANGUP, 1, None, None, None, 0),                     # lifted, nothing dialled: no OUTGOING
    ]
    digits = "".join(e.number for e in events if e.kind == ev.DIGIT)
    assert digits == "09122259679"
    assert events[5].extra["duration_raw"] == "0257"


def test_four_lines_interleaved_glued_noise_withheld_and_empty_number():
    events = decode((CAPTURES / "segal_four_lines.txt").read_bytes(), chunk=5)
    got = brief(events)
    assert (ev.ANSWERED, 1, "09122800039", ev.OK, 2, None) in got
    assert (ev.HANGUP, 1, "09122800039", ev.OK, None, 90) in got
    # Line 3: the dialled number comes from the D<digit> records when HND carries none.
    assert (ev.OUTGOING, 3, "09122800039", None, None, 44) in got
    assert (ev.INCOMING, 4, "", ev.PRIVATE, None, None) in got
    assert (ev.HANGUP, 4, "", ev.PRIVATE, None, 10) in got
    # Line 2 rang four times and was never lifted; the next caller ID on it closes it as missed.
    assert (ev.MISSED, 2, "+982122514321", ev.OK, 4, None) in got
    assert (ev.INCOMING, 2, "", ev.UNAVAILABLE, None, None) in got
    # The unknown record L4Z99 and the noise produced nothing.
    assert not any("Z99" in e.raw for e in events)
    assert {e.line for e in events} == {1, 2, 3, 4}


def test_ring_out_is_not_invented_by_the_decoder_but_the_line_goes_idle():
    """The decoder reports what the box said; that a quiet line was a missed call is the lifecycle's to say
    (one owner of every timeout). After the ring timeout the line is idle: a lift is an outgoing call."""
    clock = Clock()
    d = SegalDecoder(now=clock, ring_timeout=8)
    d.feed(b"L2C09122800039@L2R01@")
    clock.advance(5)
    d.feed(b"L2R02@")
    clock.advance(7)
    assert d.tick() == []                    # 7 s since the last ring: still ringing
    clock.advance(2)
    assert d.tick() == []                    # quiet for 9 s: nothing reported
    assert [e.kind for e in d.feed(b"L2HF@")] == [ev.OFFHOOK]     # not ANSWERED: that call is over


def test_answered_line_does_not_time_out():
    clock = Clock()
    d = SegalDecoder(now=clock)
    d.feed(b"L1C22514321@L1R01@L1HF@")
    clock.advance(600)
    assert d.tick() == []
    assert [(e.kind, e.duration) for e in d.feed(b"L1HND: T1000@")] == [(ev.HANGUP, 600)]


def test_repeated_caller_id_with_each_ring_is_reported_once():
    events = decode(b"L1C09122800039@L1R01@L1C09122800039@L1R02@")
    assert [e.kind for e in events] == [ev.INCOMING, ev.RING, ev.RING]


@pytest.mark.parametrize("form", ["9122800039", "+989122800039", "00989122800039", "09122800039", "2122514321",
                                  "22514321", "+982122514321", "00982122514321", "02122514321"])
def test_every_iranian_number_form_reported_as_is(form):
    events = decode(f"L3C{form}@\r\n".encode())
    assert [(e.kind, e.line, e.number) for e in events] == [(ev.INCOMING, 3, form)]


def test_tolerant_spacing_leading_zeros_and_danjeh_variants():
    events = decode(b" L 01 C 0912 280 0039 @\r\nL1-R 01@\r\nL01HF@\r\nL1HND : T 0010@")
    assert brief(events) == [
        (ev.INCOMING, 1, "09122800039", ev.OK, None, None), (ev.RING, 1, "09122800039", ev.OK, 1, None),
        (ev.ANSWERED, 1, "09122800039", ev.OK, 1, None), (ev.HANGUP, 1, "09122800039", ev.OK, None, 10)]
    danjeh = decode((CAPTURES / "danjeh.txt").read_bytes())
    assert [(e.kind, e.line, e.number) for e in danjeh] == [
        (ev.INCOMING, 1, "09122800039"), (ev.ANSWERED, 1, "09122800039"), (ev.HANGUP, 1, "09122800039"),
        (ev.INCOMING, 2, "2122514321")]


def test_outgoing_without_lift_record_and_dialled_hnd_only():
    events = decode(b"L2HND:09121991334 T0030@")
    assert [(e.kind, e.number, e.duration) for e in events] == [
        (ev.OUTGOING, "09121991334", 30), (ev.HANGUP, "09121991334", 30)]


def test_duration_units():
    assert parse_duration("0257", "mmss") == 177
    assert parse_duration("0175", "mmss") == 175           # last two digits ≥ 60: cannot be mm:ss → seconds
    assert parse_duration("0257", "seconds") == 257
    assert parse_duration("02:57") == 177 and parse_duration("1:02:03") == 3723
    assert parse_duration("") is None and parse_duration("ab") is None
    assert decode(b"L1HF@L1HND:0912 T0257@", duration_format="seconds")[-1].duration == 257


def test_garbage_between_and_inside_records():
    events = decode(b"\x00\xffL9\xfeQQ@@@\r\n@L1C09122800039@garbageL1R01@L\xff@")
    assert [(e.kind, e.number) for e in events] == [(ev.INCOMING, "09122800039"), (ev.RING, "09122800039")]


def test_a_half_record_then_silence_is_not_reported_until_its_terminator():
    d = SegalDecoder(now=Clock())
    assert d.feed(b"L1C0912280") == [] and d.flush() == [] and d.end() == []
    assert [e.number for e in d.feed(b"0039@")] == ["09122800039"]


def test_hang_up_record_with_spaces_in_the_dialled_number():
    events = decode(b"L1HF@L1HND: 0912 199 1334 T0021@")
    assert [(e.kind, e.number, e.duration) for e in events] == [
        (ev.OFFHOOK, None, None), (ev.OUTGOING, "09121991334", 21), (ev.HANGUP, "09121991334", 21)]
