"""Panasonic SMDR records → caller-ID events: the fixed columns, the manual's free-form line, header lines,
page breaks, login prompts, date orders, and splitting the stream at every byte."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.smdr import SmdrDecoder, parse_duration, parse_ring
from app.callerid.pbx_simulator import smdr_record

PBX = Path(__file__).parent / "captures" / "pbx"
NOW = dt.datetime(2025, 11, 24, 12, 0)


def now():
    return NOW


def decode(data: bytes, cuts=()):
    d = decoder_for("smdr", now=now)
    out, prev = [], 0
    for c in [*sorted(set(cuts)), len(data)]:
        out += d.feed(data[prev:c])
        prev = c
    return out + d.end()


def key(e):
    return (e.kind, e.number, e.name, e.status, e.line, e.duration, e.time, tuple(sorted(e.extra.items(), key=str)))


def test_capture():
    events = decode((PBX / "smdr_panasonic.txt").read_bytes())
    got = [(e.kind, e.number, e.status, e.line, e.duration, e.extra["extension"], e.extra.get("answered_by"))
           for e in events]
    assert got == [
        (ev.INCOMING, "09121234567", ev.OK, 3, None, "103", "103"),
        (ev.ANSWERED, "09121234567", ev.OK, 3, None, "103", "103"),
        (ev.HANGUP, "09121234567", ev.OK, 3, 65, "103", "103"),
        (ev.OUTGOING, "02188776655", None, 1, 220, "105", None),
        (ev.HANGUP, "02188776655", None, 1, 220, "105", None),
        (ev.INCOMING, "02122514321", ev.OK, 2, None, "101", None),          # CD NA: missed
        (ev.MISSED, "02122514321", ev.OK, 2, None, "101", None),
        (ev.INCOMING, "09351112233", ev.OK, 4, None, "102", "102"),         # <D>DDI<I>caller, transferred
        (ev.ANSWERED, "09351112233", ev.OK, 4, None, "102", "102"),
        (ev.HANGUP, "09351112233", ev.OK, 4, 602, "102", "102"),
        # after the page break (form feed + header again)
        (ev.OUTGOING, "02166595961", None, 1, 45, "104", None),             # 9P…: outside-line digit and pause
        (ev.HANGUP, "02166595961", None, 1, 45, "104", None),
        (ev.INCOMING, "", ev.UNAVAILABLE, 3, None, "101", "101"),           # <I> with no caller ID, **/**/**
        (ev.ANSWERED, "", ev.UNAVAILABLE, 3, None, "101", "101"),
        (ev.HANGUP, "", ev.UNAVAILABLE, 3, 120, "101", "101"),
        # (LOG IN record skipped) the KX-TD816 manual's own, not column-aligned, example
        (ev.INCOMING, "09243121", ev.OK, 3, None, "103", "103"),
        (ev.ANSWERED, "09243121", ev.OK, 3, None, "103", "103"),
        (ev.HANGUP, "09243121", ev.OK, 3, 0, "103", "103"),
        (ev.INCOMING, "", ev.UNAVAILABLE, 2, None, "106", None),            # name only, not answered
        (ev.MISSED, "", ev.UNAVAILABLE, 2, None, "106", None),
    ]
    assert events[0].time == dt.datetime(2024, 5, 14, 10, 7) and events[0].extra["ring_seconds"] == 5
    assert events[0].extra["after_the_fact"] is True and events[0].extra["condition"] == "AN"
    assert events[7].extra["ddi"] == "88776655" and events[7].extra["account_code"] == "1234"
    assert events[10].time == dt.datetime(2024, 5, 14, 13, 5) and events[10].extra["account_code"] == "77"
    assert events[12].time is None                                           # **/**/**: the clock was changed
    assert events[15].name == "TONY" and events[15].time == dt.datetime(1996, 6, 24, 10, 7)
    assert events[18].name == "Q COMPANY" and events[18].time == dt.datetime(2014, 5, 24, 14, 0)   # 24/05: D/M/Y


def test_split_at_every_byte_position():
    data = (PBX / "smdr_panasonic.txt").read_bytes()
    whole = [key(e) for e in decode(data)]
    for i in range(1, len(data)):
        assert [key(e) for e in decode(data, [i])] == whole, f"split at byte {i}"
    assert [key(e) for e in decode(data, range(1, len(data)))] == whole       # one byte at a time


def test_cr_only_and_lf_only_line_ends():
    data = (PBX / "smdr_panasonic.txt").read_bytes()
    whole = [key(e) for e in decode(data)]
    assert [key(e) for e in decode(data.replace(b"\r\n", b"\r"))] == whole
    assert [key(e) for e in decode(data.replace(b"\r\n", b"\n"))] == whole


def test_simulator_records_decode_back():
    when = dt.datetime(2025, 3, 2, 16, 45)
    data = (smdr_record("101", 2, "09121234567", incoming=True, ring=7, duration=3725, when=when, name="ALI")
            + smdr_record("105", 12, "02188776655", duration=61, when=when, account="42")
            + smdr_record("103", 1, "02122514321", incoming=True, answered=False, ring=25, when=when))
    got = [(e.kind, e.number, e.name, e.line, e.duration, e.time) for e in decode(data)]
    assert got == [
        (ev.INCOMING, "09121234567", "ALI", 2, None, when), (ev.ANSWERED, "09121234567", None, 2, None, when),
        (ev.HANGUP, "09121234567", None, 2, 3725, when),
        (ev.OUTGOING, "02188776655", None, 12, 61, when), (ev.HANGUP, "02188776655", None, 12, 61, when),
        (ev.INCOMING, "02122514321", None, 1, None, when), (ev.MISSED, "02122514321", None, 1, None, when)]


def test_date_order_setting_and_field_parsers():
    line = b"03/04/25 09:05PM 101   01 <I>09121234567            0'03 00:00'10            AN\r\n"
    mdy = SmdrDecoder(now=now).feed(line)[0]
    dmy = SmdrDecoder(now=now, date_order="dmy").feed(line)[0]
    assert mdy.time == dt.datetime(2025, 3, 4, 21, 5) and dmy.time == dt.datetime(2025, 4, 3, 21, 5)
    assert parse_ring("1'05") == 65 and parse_ring("x") is None
    assert parse_duration("01:02'03") == 3723 and parse_duration("00:01") is None


def test_prompts_headers_and_noise_give_nothing():
    d = SmdrDecoder(now=now)
    assert d.feed(b"-\r\nEnter Password:\r\nSMDR\r\n\x0c\r\nDate     Time    Ext   CO Dial Number\r\n----\r\n"
                  b"\x00\xffgarbage line\r\n05/14/24 01:20PM 103 LOG OUT\r\n") == []
    assert d.end() == []
