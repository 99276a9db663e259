"""Fuzzing the decoders: random bytes and random splits never raise, and the events do not depend on how
the stream was cut into reads.

The public feed()/flush() guard against exceptions by design, so "never raises" is checked one level down:
the guard logs an ERROR when it catches something, and any such record fails the test.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.callerid import events as ev
from app.callerid.decoders import CHOICES, decoder_for
from app.callerid.decoders.raw import build_mdmf, build_sdmf

CAPTURES = Path(__file__).parent / "captures"
FORMATS = list(CHOICES)
NOW = dt.datetime(2026, 11, 24, 10, 0)


def now():
    return NOW


class ErrorTrap(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _trap():
    trap = ErrorTrap()
    logging.getLogger("app.callerid").addHandler(trap)
    return trap


def _untrap(trap):
    logging.getLogger("app.callerid").removeHandler(trap)


def decode(fmt: str, data: bytes, cuts: list[int]):
    """Feed `data` cut at the given offsets; flush and tick at the end."""
    d = decoder_for(fmt, now=now)
    out = []
    prev = 0
    for c in sorted(set(x for x in cuts if 0 < x < len(data))) + [len(data)]:
        out += d.feed(data[prev:c])
        prev = c
    out += d.flush()
    out += d.tick()
    for e in out:
        assert isinstance(e, ev.CallerIdEvent)
        assert e.kind in {ev.INCOMING, ev.RING, ev.ANSWERED, ev.HANGUP, ev.MISSED, ev.OFFHOOK, ev.DIGIT,
                          ev.OUTGOING, ev.DEVICE}
        e.to_json_dict()
    return out


# Fragments of every protocol, valid and broken, to make random streams that look like real traffic.
FRAGMENTS = [
    b"RING", b"\r\n", b"\n", b"\r", b"DATE = 1124", b"TIME = 0931", b"NMBR = 09122800039", b"NAME = REZAEI",
    b"NMBR=P", b"NMBR = O", b"DDN_NMBR = +982122514321", b"MESG = 110101", b"OK", b"AT+VCID=1", b"\x10R",
    b"DATE = 1124 TIME = 0932 NMBR = 22514321", b"###DATE11241102...NMBR02122514321...NAMEX+++",
    build_sdmf("11240931", "09122800039").hex().encode(), build_mdmf([(2, b"22514321"), (7, b"X")]).hex().encode(),
    b"0412303531", b"CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*09122800039*MESG*NONE*NAME*NO NAME*",
    b"CIDINFO: *LINE*1*RING*", b"-1*", b"0*", b"2*", b"CIDLOG: *NMBR*1*", b"200 Server: ncidd (NCID) 1.11",
    b"OUT: *DATE*11242026*TIME*0950*LINE*1*NMBR*0912*NAME*X*", b"L1C09122800039@", b"L2C+982122514321@", b"L1R01@",
    b"L1HF@", b"L1D9@", b"L1HND:0912 T0257@", b"L3HND: T0000@", b"L4CP@", b"@", b"L1 Ringing CallerID:0912 ",
    b"RingsCount:2 ", b"HookOff", b"HookOn Duration:12", b"L2 Dialed:0912 ", b"D1:L1:CallerID=02166595961.",
    b"D1:L1:Ring=1.", b"D1:L1:Answer.", b"D1:L1:HangDown,Time=0001.", b"D1:L2:MissCall,Ring=10.",
    b"D1:L2:HangUp.", b"D1:L2:Dial=9.", b"D1:DeviceConnect,Serial=0,CountLine=2.", b".", b"\x00", b"\xff\xfe",
    "رضا".encode(), b"\xe4", b" ", b"*", b":", b"=", b"L", b"D1:",
]

streams = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join)
cuts = st.lists(st.integers(min_value=0, max_value=4000), max_size=40)
fuzz_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz_settings
@given(data=st.binary(max_size=3000), fmt=st.sampled_from(FORMATS), cut=cuts)
def test_random_bytes_never_raise(data, fmt, cut):
    trap = _trap()
    try:
        decode(fmt, data, cut)
    finally:
        _untrap(trap)
    assert trap.records == [], [r.getMessage() for r in trap.records]


@fuzz_settings
@given(data=streams, fmt=st.sampled_from(FORMATS), cut=cuts)
def test_same_events_whatever_the_chunking(data, fmt, cut):
    trap = _trap()
    try:
        whole = decode(fmt, data, [])
        split = decode(fmt, data, cut)
        bytewise = decode(fmt, data, list(range(len(data))))
    finally:
        _untrap(trap)
    assert trap.records == []
    assert split == whole
    assert bytewise == whole


@fuzz_settings
@given(data=streams, noise=st.binary(max_size=200), fmt=st.sampled_from(FORMATS), cut=cuts)
def test_noise_before_real_traffic_never_raises_and_is_chunking_independent(data, noise, fmt, cut):
    stream = noise + b"\r\n" + data
    assert decode(fmt, stream, cut) == decode(fmt, stream, [])


@settings(max_examples=60, deadline=None)
@given(cut=cuts, name=st.sampled_from(sorted(p.name for p in CAPTURES.glob("*.txt"))))
def test_captures_decode_identically_whatever_the_chunking(cut, name):
    data = (CAPTURES / name).read_bytes()
    assert decode("auto", data, cut) == decode("auto", data, [])


def test_huge_input_without_terminators_stays_bounded():
    for fmt in FORMATS:
        d = decoder_for(fmt, now=now)
        for _ in range(200):
            assert d.feed(b"A" * 1000) == []
        # the decoder kept at most a bounded tail and still works afterwards
        held = max(len(getattr(d, name, b"") or b"") for name in ("_buf", "_held"))
        assert held <= 20000
        events = d.feed(b"\r\n@.") + d.flush()
        assert all(isinstance(e, ev.CallerIdEvent) for e in events)
