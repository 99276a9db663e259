"""Shared decoder helpers: number/withheld classification, names, dates without a year, record splitting."""
from __future__ import annotations

import datetime as dt

import pytest

from app.callerid import events as ev
from app.callerid.decoders.base import (
    RecordSplitter,
    classify_number,
    clean_name,
    line_number,
    month_day_time,
    parse_mmddhhmm,
    to_text,
)


@pytest.mark.parametrize("raw,expected", [
    ("09122800039", ("09122800039", ev.OK)),
    ("+989122800039", ("+989122800039", ev.OK)),
    ("00989122800039", ("00989122800039", ev.OK)),
    ("9122800039", ("9122800039", ev.OK)),
    ("22514321", ("22514321", ev.OK)),
    ("+98 21 2251 4321", ("+982122514321", ev.OK)),
    ("(021) 2251-4321", ("02122514321", ev.OK)),
    ("۰۹۱۲۲۸۰۰۰۳۹", ("09122800039", ev.OK)),             # Persian digits from a localised gateway
    ("++989122800039", ("+989122800039", ev.OK)),
    ("110", ("110", ev.OK)),
    ("P", ("", ev.PRIVATE)), ("p", ("", ev.PRIVATE)), ("PRIVATE", ("", ev.PRIVATE)),
    ("Anonymous", ("", ev.PRIVATE)), ("A", ("", ev.PRIVATE)), ("Restricted", ("", ev.PRIVATE)),
    ("Private Number", ("", ev.PRIVATE)),
    ("O", ("", ev.UNAVAILABLE)), ("OUT-OF-AREA", ("", ev.UNAVAILABLE)), ("Unavailable", ("", ev.UNAVAILABLE)),
    ("NO NUMBER", ("", ev.UNAVAILABLE)), ("NO-NUMBER", ("", ev.UNAVAILABLE)), ("", ("", ev.UNAVAILABLE)),
    (None, ("", ev.UNAVAILABLE)), ("0000000000", ("", ev.UNAVAILABLE)), ("00000", ("", ev.UNAVAILABLE)),
    ("-", ("", ev.UNAVAILABLE)), ("x", ("", ev.UNAVAILABLE)),
    ("0912280003 9xx", ("09122800039", ev.OK)),           # stray letters: the digits are kept
])
def test_classify_number(raw, expected):
    assert classify_number(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("JOHN DOE", "JOHN DOE"), ("  رضا رضایی ", "رضا رضایی"), ("", None), (None, None), ("NO NAME", None),
    ("P", None), ("O", None), ("PRIVATE", None), ("OUT-OF-AREA", None), ("-", None), ("Anonymous", None),
])
def test_clean_name(raw, expected):
    assert clean_name(raw) == expected


def test_dates_without_a_year():
    now = dt.datetime(2026, 11, 24, 10, 0)
    assert parse_mmddhhmm("11240931", now) == dt.datetime(2026, 11, 24, 9, 31)
    assert parse_mmddhhmm("11250931", now) == dt.datetime(2026, 11, 25, 9, 31)     # a day ahead: clock skew
    assert parse_mmddhhmm("12310931", now) == dt.datetime(2025, 12, 31, 9, 31)     # far ahead: last year
    assert parse_mmddhhmm("13310931", now) is None
    assert parse_mmddhhmm("0229", now) is None
    assert month_day_time(2, 29, 10, 0, dt.datetime(2027, 3, 1)) is None          # no 29 Feb this year
    assert month_day_time(2, 29, 10, 0, dt.datetime(2028, 3, 1)) == dt.datetime(2028, 2, 29, 10, 0)
    assert month_day_time(1, 1, 24, 0, now) is None


def test_to_text_never_raises_and_prefers_utf8():
    assert to_text("Vähälä".encode()) == "Vähälä"
    assert to_text("Vähälä".encode("latin-1")) == "Vähälä"
    assert to_text(b"A\x00B\x07C\tD") == "ABC\tD"
    assert isinstance(to_text(bytes(range(256))), str)


def test_line_number():
    assert [line_number(x) for x in ("1", "01", "L2", "line 3", "POTS", "-", None, "1234", "A", "۲")] == \
        [1, 1, 2, 3, None, None, None, 1234, None, 2]


def test_record_splitter_bounds_and_chunking():
    whole = RecordSplitter(b"@", limit=10)
    data = b"L1C1@" + b"X" * 25 + b"@L2C2@" + b"Y" * 5
    recs = whole.push(data)
    split = RecordSplitter(b"@", limit=10)
    recs2 = []
    for i in range(len(data)):
        recs2 += split.push(data[i:i + 1])
    assert recs == recs2 == [b"L1C1", b"L2C2"]
    assert whole.pending() == split.pending() == b"YYYYY"
    assert whole.take_pending() == b"YYYYY" and whole.pending() == b""


def test_a_fixed_datetime_is_accepted_as_now():
    from app.callerid.decoders import decoder_for

    d = decoder_for("modem", now=dt.datetime(2026, 11, 24, 10, 0))
    out = d.feed(b"DATE = 1124\r\nTIME = 0931\r\nNMBR = 22514321\r\nNAME = X\r\n")
    assert out[0].time == dt.datetime(2026, 11, 24, 9, 31)
