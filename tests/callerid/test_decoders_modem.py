"""Formatted modem caller ID: DATE/TIME/NMBR/NAME between RINGs, every line-ending and layout variant."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.modem import ModemDecoder

CAPTURES = Path(__file__).parent / "captures"
NOW = dt.datetime(2026, 11, 24, 10, 0)


def now():
    return NOW


def decode(data: bytes, chunk: int | None = None, fmt: str = "modem") -> list[ev.CallerIdEvent]:
    d = decoder_for(fmt, now=now)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def incoming(events):
    return [e for e in events if e.kind == ev.INCOMING]


def test_bellcore_block_between_rings_with_name_and_mesg():
    events = decode((CAPTURES / "modem_bellcore_crlf.txt").read_bytes())
    assert [e.kind for e in events] == [ev.RING, ev.INCOMING, ev.RING, ev.RING]
    call = events[1]
    assert (call.number, call.name, call.status, call.line) == ("4075550000", "JOHN DOE", ev.OK, None)
    assert call.time == dt.datetime(2026, 5, 11, 18, 52)
    assert call.extra["mesg"] == "110101"
    assert call.to_json_dict() == {"number": "4075550000", "name": "JOHN DOE", "time": "2026-05-11T18:52:00",
                                   "line": None, "status": "ok"}


def test_iranian_line_number_only_before_first_ring_lf_endings():
    events = decode((CAPTURES / "modem_iran_lf.txt").read_bytes())
    calls = incoming(events)
    assert [c.number for c in calls] == ["09122800039", "22514321", "+982122514321"]
    assert all(c.name is None and c.status == ev.OK for c in calls)
    assert [c.time for c in calls] == [dt.datetime(2026, 11, 24, 9, 31), dt.datetime(2026, 11, 24, 9, 35),
                                      dt.datetime(2026, 11, 24, 9, 40)]
    # The call is reported at the RING that follows its block, not held back for a NAME that never comes.
    assert [e.kind for e in events[:2]] == [ev.INCOMING, ev.RING]


def test_number_without_name_is_reported_by_flush_not_by_waiting():
    d = ModemDecoder(now=now)
    assert d.feed(b"RING\r\nDATE = 1124\r\nTIME = 0931\r\nNMBR = 09122800039\r\n") == \
        [ev.CallerIdEvent(kind=ev.RING, source="modem", raw="RING")]
    assert d.has_pending()
    out = d.flush()                                    # the source's idle timeout
    assert [(e.kind, e.number, e.name) for e in out] == [(ev.INCOMING, "09122800039", None)]
    assert d.flush() == []                             # reported once
    assert d.feed(b"RING\r\n")[0].kind == ev.RING


def test_complete_block_is_reported_at_once():
    d = ModemDecoder(now=now)
    out = d.feed(b"DATE = 1124\r\nTIME = 0931\r\nNMBR = 09122800039\r\nNAME = REZAEI\r\n")
    assert [(e.kind, e.number, e.name) for e in out] == [(ev.INCOMING, "09122800039", "REZAEI")]


def test_cr_only_echo_ok_ddn_private_unavailable():
    calls = incoming(decode((CAPTURES / "modem_cr_echo.txt").read_bytes()))
    assert [(c.number, c.status) for c in calls] == [
        ("00989122800039", ev.OK),          # DDN_NMBR used as the number
        ("", ev.PRIVATE),                   # NMBR = P
        ("", ev.UNAVAILABLE),               # NMBR = O
        ("", ev.PRIVATE),                   # NMBR = PRIVATE
        ("", ev.UNAVAILABLE),               # all zeros
        ("", ev.UNAVAILABLE),               # empty value
    ]
    assert all(c.name is None for c in calls)


def test_single_line_and_netcallerid_variants():
    calls = incoming(decode((CAPTURES / "modem_single_line.txt").read_bytes()))
    assert [(c.number, c.name) for c in calls] == [
        ("9122800039", "Reza Rezaei"), ("2122514321", None), ("02122514321", None)]
    assert calls[2].time == dt.datetime(2026, 11, 24, 11, 2)


def test_reset_mid_message_noise_and_names_in_two_encodings():
    events = decode((CAPTURES / "modem_reset_noise.txt").read_bytes())
    calls = incoming(events)
    # The block cut by the reset had no number: dropped, not reported as a call.
    assert [(c.number, c.name) for c in calls] == [("00982122514321", "Vähälä"), ("09122800039", "Vähälä")]
    assert calls[1].time is None                     # no DATE/TIME in that block


def test_voice_mode_dle_ring():
    events = decode((CAPTURES / "modem_voice_dle.txt").read_bytes())
    assert [e.kind for e in events] == [ev.RING, ev.INCOMING, ev.RING, ev.RING]
    assert events[1].number == "09122800039"


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r", b"\n\r", b"\r\r\n"])
def test_every_line_ending(ending):
    lines = [b"RING", b"DATE=1124", b"TIME=0931", b"NMBR=09122800039", b"NAME=", b"RING"]
    events = decode(ending.join(lines) + ending)
    assert [(e.kind, e.number) for e in incoming(events)] == [(ev.INCOMING, "09122800039")]


@pytest.mark.parametrize("line", [b"NMBR = 09122800039", b"NMBR=09122800039", b"NMBR =09122800039",
                                  b"nmbr = 09122800039", b"  NMBR  =  09122800039  ", b"CALLER NUMBER: 09122800039",
                                  b"NMBR = 0912-280-0039", b"NMBR = 0912 280 0039"])
def test_spacing_and_label_variants(line):
    calls = incoming(decode(b"RING\r\n" + line + b"\r\nRING\r\n"))
    assert [c.number for c in calls] == ["09122800039"]


def test_value_containing_equals_and_order_not_fixed():
    calls = incoming(decode(b"NAME = A=B\r\nNMBR = 22514321\r\nTIME = 0102\r\nDATE = 0304\r\n"))
    assert [(c.number, c.name, c.time) for c in calls] == [("22514321", "A=B", dt.datetime(2026, 3, 4, 1, 2))]


def test_two_blocks_without_ring_between_are_two_calls():
    calls = incoming(decode(b"DATE=1124\r\nTIME=0900\r\nNMBR=09122800039\r\n"
                            b"DATE=1124\r\nTIME=0901\r\nNMBR=22514321\r\n"))
    assert [c.number for c in calls] == ["09122800039", "22514321"]


def test_private_name_overrides_unknown_number():
    calls = incoming(decode(b"NMBR = \r\nNAME = PRIVATE\r\nRING\r\n"))
    assert [(c.number, c.status, c.name) for c in calls] == [("", ev.PRIVATE, None)]


def test_date_without_year_uses_current_year_or_last_year_across_new_year():
    d = ModemDecoder(now=lambda: dt.datetime(2027, 1, 1, 0, 5))
    out = d.feed(b"DATE = 1231\r\nTIME = 2359\r\nNMBR = 09122800039\r\nNAME = X\r\n")
    assert out[0].time == dt.datetime(2026, 12, 31, 23, 59)
    out = ModemDecoder(now=now).feed(b"DATE = 1399\r\nTIME = 2599\r\nNMBR = 22514321\r\nNAME = X\r\n")
    assert out[0].time is None and out[0].number == "22514321"     # impossible date: kept as no time


def test_default_now_is_the_office_clock():
    from app.core import clock

    clock.set_now(dt.datetime(2031, 6, 1, 8, 0))
    out = ModemDecoder().feed(b"DATE = 0601\r\nTIME = 0759\r\nNMBR = 22514321\r\nNAME = X\r\n")
    assert out[0].time == dt.datetime(2031, 6, 1, 7, 59)


def test_results_and_echo_are_not_calls():
    assert decode(b"AT+VCID=1\r\nOK\r\nERROR\r\nNO CARRIER\r\nATI3\r\nCX93001-EIS_V0.2002-V92\r\nOK\r\n") == []


def test_raw_hex_lines_accepted_by_the_modem_decoder_too():
    from app.callerid.decoders.raw import build_sdmf

    hexline = build_sdmf("11240931", "09122800039").hex().upper().encode()
    calls = incoming(decode(b"RING\r\n" + hexline + b"\r\nRING\r\n"))
    assert [(c.number, c.source) for c in calls] == [("09122800039", "sdmf")]


def test_overlong_line_is_dropped_and_decoding_continues():
    junk = b"X" * 10000
    events = decode(junk + b"\r\nRING\r\nNMBR = 22514321\r\nRING\r\n", chunk=100)
    assert [c.number for c in incoming(events)] == ["22514321"]


def test_str_input_is_tolerated():
    d = ModemDecoder(now=now)
    out = d.feed("NMBR = 09122800039\r\nNAME = رضا\r\nRING\r\n")
    assert [(e.kind, e.name) for e in out][0] == (ev.INCOMING, "رضا")


# Layouts that real modems produce, as collected in open-source caller-ID code (MisterHouse's callerid
# module, mgetty's cnd.c, ncidd.c): two fields on one line, rings and fields glued, 6-digit dates, ZyXEL and
# Swiss labels, a number masked by a second NMBR.
@pytest.mark.parametrize("data,expected", [
    (b"DATE = 990305\r\nTIME = 1351\r\nNMBR = 5071234567\r\nNAME = KLIER BRIAN J\r\n\r\n\r\nRING\r\n",
     ("5071234567", "KLIER BRIAN J", dt.datetime(1999, 3, 5, 13, 51))),
    (b"DATE=0119\r\nTIME=2215\r\nNAME=ARCHER L       NMBR=5071234567\r\n\r\nRING\r\n",
     ("5071234567", "ARCHER L", dt.datetime(2026, 1, 19, 22, 15))),
    (b"RING RING DATE=0224 NAME=ONMBR=5072884388\r\n", ("5072884388", None, None)),
    (b"DATE = 0910\r\nTIME = 0137\r\nNAME = O\r\nDDN_NMBR= 9932562\r\n",
     ("9932562", None, dt.datetime(2026, 9, 10, 1, 37))),
    (b"RING\r\nFM:0765628300 TO:8673300\r\n", ("0765628300", None, None)),
    (b"RING\r\nTIME: 03-05 13:51\r\nCALLER NUMBER: 5071234567\r\nCALLER NAME: JOHN\r\n",
     ("5071234567", "JOHN", dt.datetime(2026, 3, 5, 13, 51))),
    (b"RING\r\nCALLER'S NUMBER: 09122800039\r\nRING\r\n", ("09122800039", None, None)),
    (b"RING\r\nNBR=22514321\r\nRING\r\n", ("22514321", None, None)),
    (b"DATE = 11242026\r\nTIME = 0931\r\nNMBR = 22514321\r\nRING\r\n",
     ("22514321", None, dt.datetime(2026, 11, 24, 9, 31))),
    (b"DATE = 1124\r\nTIME = 1806\r\nNMBR = 09122800039\r\nNMBR = O\r\nRING\r\n",
     ("09122800039", None, dt.datetime(2026, 11, 24, 18, 6))),
])
def test_real_world_layouts(data, expected):
    events = decode(data, chunk=3)
    calls = incoming(events)
    assert [(c.number, c.name, c.time) for c in calls] == [expected]
    if data.startswith(b"RING RING"):
        assert [e.kind for e in events] == [ev.RING, ev.RING, ev.INCOMING]


def test_idle_flush_never_cuts_a_number_short():
    d = ModemDecoder(now=now)
    assert d.feed(b"RING\r\nDATE = 1124\r\nTIME = 0931\r\nNMBR = 0912280") == \
        [ev.CallerIdEvent(kind=ev.RING, source="modem", raw="RING")]
    assert d.flush() == []                   # an idle gap inside the NMBR line: nothing half-read
    assert d.feed(b"0039\r\n") == []
    assert [(e.number, e.time) for e in d.flush()] == [("09122800039", dt.datetime(2026, 11, 24, 9, 31))]


def test_end_of_input_reads_a_last_line_without_its_end():
    d = ModemDecoder(now=now)
    d.feed(b"NMBR = 22514321")
    assert d.flush() == []
    assert [e.number for e in d.end()] == ["22514321"]
