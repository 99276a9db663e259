"""NCID server lines (NCID-API): CID/CIDINFO/OUT/HUP/END by field name, banners and call-log history."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.ncid import NcidDecoder, parse_fields

CAPTURES = Path(__file__).parent / "captures"
NOW = dt.datetime(2026, 11, 24, 10, 0)


def now():
    return NOW


def decode(data: bytes, chunk: int | None = None):
    d = decoder_for("ncid", now=now)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def test_session_capture():
    events = decode((CAPTURES / "ncid_session.txt").read_bytes(), chunk=13)
    got = [(e.kind, e.number, e.line, e.status, e.rings, e.duration) for e in events]
    assert got == [
        (ev.DEVICE, None, None, None, None, None),
        (ev.RING, None, 1, None, 1, None),
        (ev.INCOMING, "09122800039", 1, ev.OK, None, None),
        (ev.RING, None, 1, None, 2, None),
        (ev.RING, None, 2, None, 1, None),
        (ev.INCOMING, "+982122514321", 2, ev.OK, None, None),
        (ev.ANSWERED, None, 1, None, None, None),        # RING 0
        (ev.MISSED, None, 2, None, None, None),          # RING -1
        (ev.HANGUP, None, 1, None, None, None),          # RING -2
        (ev.INCOMING, "", None, ev.PRIVATE, None, None),
        (ev.INCOMING, "", None, ev.UNAVAILABLE, None, None),
        (ev.INCOMING, "22514321", None, ev.OK, None, None),
        (ev.OUTGOING, "09121991334", 1, None, None, None),
        (ev.HANGUP, "09121991334", 1, ev.OK, None, 155),  # END: SCALL → ECALL
        (ev.INCOMING, "09120000001", 1, ev.OK, None, None),  # HUP: the CID line of a blacklisted caller…
        (ev.HANGUP, "09120000001", 1, ev.OK, None, None),  # … whom the server hung up on
        (ev.INCOMING, "", 1, ev.UNAVAILABLE, None, None),  # NO NUMBER
    ]
    assert events[0].name == "Server: ncidd (NCID) 1.11"
    # CIDLOG/HUPLOG/LOG history lines are not live calls: the 0912111… and 0912222… numbers never appear.
    assert not any(e.number in ("09121111111", "09122222222") for e in events)
    rezaei = events[5]
    assert rezaei.name == "رضا رضایی" and rezaei.time == dt.datetime(2026, 11, 24, 9, 30)
    assert events[9].extra["line_label"] == "POTS" and events[9].line is None
    assert events[9].time == dt.datetime(2026, 11, 24, 9, 40)       # ddmmyyyy (24112026) read as such
    assert events[11].name is None                                   # NAME*-*
    assert events[13].extra["direction"] == "out"


def test_fields_by_name_whatever_the_order_and_old_form_without_line():
    a = decode(b"CID: *DATE*11242026*TIME*0930*LINE*3*NMBR*09122800039*MESG*NONE*NAME*NO NAME*\n")
    b = decode(b"CID: *NAME*NO NAME*NMBR*09122800039*MESG*NONE*TIME*0930*LINE*3*DATE*11242026*\n")
    c = decode(b"CID: *DATE*11242026*TIME*0930*NMBR*09122800039*MESG*NONE*NAME*NO NAME*\n")
    strip = [(e.kind, e.number, e.name, e.time, e.line, e.status) for e in a]
    assert strip == [(e.kind, e.number, e.name, e.time, e.line, e.status) for e in b]
    assert (a[0].number, a[0].line, a[0].time) == ("09122800039", 3, dt.datetime(2026, 11, 24, 9, 30))
    assert (c[0].number, c[0].line) == ("09122800039", None)


def test_parse_fields_handles_leading_stars_and_empty_values():
    assert parse_fields("***DATE*11242026*TIME*0930*NMBR**NAME*X*") == {
        "DATE": "11242026", "TIME": "0930", "NMBR": "", "NAME": "X"}


def test_cidinfo_busy_and_unknown_counts_are_skipped_and_auto_hangup_ends():
    events = decode(b"CIDINFO: *LINE*1*RING*-3*TIME*10:00:00*\r\nCIDINFO: *LINE*1*RING*-4*TIME*10:00:01*\r\n"
                    b"CIDINFO: *LINE*1*RING*abc*\r\nCIDINFO: *LINE*-*RING*5*\r\n")
    assert [(e.kind, e.line, e.rings) for e in events] == [(ev.HANGUP, 1, None), (ev.RING, None, 5)]


def test_withheld_words_and_anonymous():
    events = decode(b"CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*ANONYMOUS*MESG*NONE*NAME*ANONYMOUS*\n"
                    b"CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*OUT-OF-AREA*MESG*NONE*NAME*OUT-OF-AREA*\n"
                    b"CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*-*MESG*NONE*NAME*-*\n")
    assert [(e.number, e.status, e.name) for e in events] == [
        ("", ev.PRIVATE, None), ("", ev.UNAVAILABLE, None), ("", ev.UNAVAILABLE, None)]


def test_garbage_and_unknown_line_types_never_raise():
    d = NcidDecoder(now=now)
    assert d.feed(b"\xff\xfe\x00garbage\r\nFOO: bar\r\nCID: no stars at all\r\n: *x*\r\n") == []
    assert d.feed(b"CID: *NMBR*0912") == []                       # split mid-line
    assert [e.number for e in d.feed(b"2800039*NAME*X*\r\n")] == ["09122800039"]


def test_last_line_without_newline_waits_at_idle_and_is_read_at_end_of_input():
    d = NcidDecoder(now=now)
    assert d.feed(b"CID: *DATE*11242026*TIME*0930*NMBR*22514321*NAME*X*") == []
    assert d.flush() == []                                       # idle: the line may not be whole yet
    assert [e.number for e in d.end()] == ["22514321"]
