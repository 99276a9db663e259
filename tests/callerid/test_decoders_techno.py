"""Techno boxes: '.'-terminated messages D<d>:L<n>:…, device records, missed calls, digits."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.techno import TechnoDecoder

CAPTURES = Path(__file__).parent / "captures"


def now():
    return dt.datetime(2026, 11, 24, 10, 0)


def decode(data: bytes, chunk: int | None = None):
    d = decoder_for("techno", now=now)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def brief(events):
    return [(e.kind, e.line, e.number, e.status, e.rings, e.duration) for e in events if e.kind != ev.DIGIT]


def test_session_capture():
    events = decode((CAPTURES / "techno_session.txt").read_bytes(), chunk=3)
    assert brief(events) == [
        (ev.DEVICE, None, None, None, None, None),
        (ev.DEVICE, 1, None, None, None, None),
        (ev.DEVICE, 2, None, None, None, None),
        (ev.INCOMING, 1, "02166595961", ev.OK, None, None),
        (ev.RING, 1, "02166595961", ev.OK, 1, None),
        (ev.RING, 1, "02166595961", ev.OK, 2, None),
        (ev.ANSWERED, 1, "02166595961", ev.OK, 2, None),
        (ev.INCOMING, 2, "9122800039", ev.OK, None, None),
        (ev.RING, 2, "9122800039", ev.OK, 1, None),
        (ev.RING, 2, "9122800039", ev.OK, 2, None),
        (ev.HANGUP, 1, "02166595961", ev.OK, None, 65),          # Time=0065: seconds
        (ev.MISSED, 2, "9122800039", ev.OK, 10, None),
        (ev.OFFHOOK, 2, None, None, None, None),                 # HangUp = handset lifted
        (ev.OUTGOING, 2, "09121991334", None, None, 30),         # digits from Dial=<d>
        (ev.HANGUP, 2, "09121991334", None, None, 30),
        (ev.INCOMING, 1, "", ev.UNAVAILABLE, None, None),        # CallerID= (empty)
        (ev.MISSED, 1, "", ev.UNAVAILABLE, 3, None),
        (ev.DEVICE, 2, None, None, None, None),
        (ev.DEVICE, None, None, None, None, None),
    ]
    dev = events[0]
    assert dev.name == "DeviceConnect" and dev.extra == {"device": 1, "serial": "0", "countline": "2"}
    assert [e.name for e in events if e.kind == ev.DEVICE] == [
        "DeviceConnect", "LineConnect", "LineConnect", "LineDisconnect", "DeviceDisconnect"]
    assert all(e.extra.get("device") == 1 for e in events)


def test_two_devices_keep_their_own_lines():
    events = decode(b"D1:L1:CallerID=09122800039.D2:L1:CallerID=22514321.D1:L1:Answer.D2:L1:MissCall,Ring=4.")
    assert [(e.kind, e.extra["device"], e.line, e.number) for e in events] == [
        (ev.INCOMING, 1, 1, "09122800039"), (ev.INCOMING, 2, 1, "22514321"),
        (ev.ANSWERED, 1, 1, "09122800039"), (ev.MISSED, 2, 1, "22514321")]


def test_spacing_case_line_endings_and_mm_ss_time():
    events = decode(b" d1 : l02 : callerid = +982122514321 .\r\nD1:L2:ring=1.\nD1:L2:ANSWER.\rD1:L2:HangDown, Time=01:05.")
    assert brief(events) == [
        (ev.INCOMING, 2, "+982122514321", ev.OK, None, None), (ev.RING, 2, "+982122514321", ev.OK, 1, None),
        (ev.ANSWERED, 2, "+982122514321", ev.OK, 1, None), (ev.HANGUP, 2, "+982122514321", ev.OK, None, 65)]


def test_answer_after_handset_lift_is_reported_once():
    events = decode(b"D1:L1:CallerID=22514321.D1:L1:Ring=1.D1:L1:HangUp.D1:L1:Answer.D1:L1:HangDown,Time=5.")
    assert [e.kind for e in events] == [ev.INCOMING, ev.RING, ev.ANSWERED, ev.HANGUP]


def test_record_split_across_reads_and_last_one_without_dot():
    d = TechnoDecoder(now=now)
    assert d.feed(b"D1:L1:Call") == [] and d.feed(b"erID=0912") == []
    assert [e.number for e in d.feed(b"2800039.D1:L1:Ring=1")] == ["09122800039"]
    assert d.flush() == []
    assert [e.kind for e in d.end()] == [ev.RING]


def test_unknown_and_garbage():
    assert decode(b"\x00\x01.D1:L1:Foo=1.D1:.D:L1:Ring=1.D1:L0:Ring=1.hello world.") == []


def test_time_unit_option():
    data = b"D1:L1:CallerID=22514321.D1:L1:Answer.D1:L1:HangDown,Time=0130."
    assert decode(data)[-1].duration == 130
    d = decoder_for("techno", now=now, duration_format="mmss")
    assert (d.feed(data) + d.end())[-1].duration == 90
