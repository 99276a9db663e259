"""Unformatted caller ID: SDMF (0x04) and MDMF (0x80) messages as hex, checksums good and bad."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.raw import build_mdmf, build_sdmf, checksum_ok, parse_message

CAPTURES = Path(__file__).parent / "captures"
NOW = dt.datetime(2026, 11, 24, 10, 0)


def now():
    return NOW


def decode(data: bytes, fmt: str = "raw", chunk: int | None = None):
    d = decoder_for(fmt, now=now)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    return out + d.end()


def test_ncid_api_published_examples_decode():
    # The two worked examples in NCID-API ("ASCII Hex Format Caller ID"), with their own checksums.
    sdmf = bytes.fromhex("041230353131313835323430373535353030303059")
    mdmf = bytes.fromhex("802001083035313131383532020A3430373535353030303007084A4F484E20444F4584")
    assert checksum_ok(sdmf) and checksum_ok(mdmf)
    a = parse_message(sdmf, NOW)
    b = parse_message(mdmf, NOW)
    assert (a.number, a.name, a.time, a.source) == ("4075550000", None, dt.datetime(2026, 5, 11, 18, 52), "sdmf")
    assert (b.number, b.name, b.time, b.source) == ("4075550000", "JOHN DOE", dt.datetime(2026, 5, 11, 18, 52),
                                                    "mdmf")


def test_capture_good_and_bad_checksums_private_unavailable_and_unknown_params():
    events = decode((CAPTURES / "raw_hex.txt").read_bytes())
    calls = [e for e in events if e.kind == ev.INCOMING]
    assert [(c.number, c.name, c.status, c.source) for c in calls] == [
        ("09122800039", None, ev.OK, "sdmf"),
        ("", None, ev.PRIVATE, "sdmf"),
        ("+989122800039", "REZAEI", ev.OK, "mdmf"),
        ("", None, ev.UNAVAILABLE, "mdmf"),             # 0x04 reason = O
        ("22514321", None, ev.OK, "mdmf"),              # call-type 0x11 and an unknown 0x99 skipped
        # the bad-checksum message and the message-waiting message give nothing
        ("4075550000", None, ev.OK, "sdmf"),
        ("4075550000", "JOHN DOE", ev.OK, "mdmf"),      # hex wrapped over two lines
        ("4075550000", None, ev.OK, "sdmf"),            # hex with spaces between bytes
    ]
    assert calls[4].extra["skipped_params"] == ["11:01", "99:78797A"]
    assert sum(1 for e in events if e.kind == ev.RING) == 11


def test_bad_checksum_is_dropped_and_logged(caplog):
    msg = bytearray(build_mdmf([(0x01, b"11240931"), (0x02, b"09122800039")]))
    msg[-1] = (msg[-1] + 1) % 256
    with caplog.at_level("INFO", logger="app.callerid.decoders.raw"):
        assert decode(msg.hex().encode() + b"\r\n") == []
    assert "checksum" in caplog.text


@pytest.mark.parametrize("corrupt", [
    lambda m: m[:-3],                                  # truncated
    lambda m: m[:1] + bytes([m[1] + 5]) + m[2:],       # length byte says more than there is
    lambda m: bytes([0x80, 0x04, 0x02, 0x09, 0x30, 0x30]) + bytes([(-(0x80 + 4 + 2 + 9 + 0x60)) % 256]),  # param overrun
])
def test_malformed_messages_are_skipped(corrupt):
    msg = build_mdmf([(0x01, b"11240931"), (0x02, b"09122800039")])
    assert decode(corrupt(msg).hex().encode() + b"\r\nRING\r\n") == [
        ev.CallerIdEvent(kind=ev.RING, source="raw", raw="RING")]


def test_etsi_called_number_only_used_when_calling_number_missing():
    both = build_mdmf([(0x02, b"22514321"), (0x03, b"88776655")])
    only3 = build_mdmf([(0x01, b"11240931"), (0x03, b"09122800039")])
    calls = decode(both.hex().encode() + b"\n" + only3.hex().encode() + b"\n")
    assert [c.number for c in calls] == ["22514321", "09122800039"]


def test_name_absent_reason_and_utf8_name():
    msg = build_mdmf([(0x02, b"09122800039"), (0x08, b"P")])
    utf = build_mdmf([(0x02, b"09122800039"), (0x07, "رضایی".encode())])
    a, b = decode(msg.hex().encode() + b"\n" + utf.hex().encode() + b"\n")
    assert a.name is None and b.name == "رضایی"


def test_sdmf_anonymous_letter_and_every_number_form():
    forms = ["9122800039", "+989122800039", "00989122800039", "09122800039", "2122514321", "22514321",
             "+982122514321", "00982122514321"]
    data = b"".join(build_sdmf("11240931", f).hex().encode() + b"\r\n" for f in forms)
    data += build_sdmf("11240932", "A").hex().encode() + b"\r\n"
    calls = decode(data, chunk=7)
    assert [c.number for c in calls] == forms + [""]
    assert calls[-1].status == ev.PRIVATE


def test_text_lines_and_hex_looking_words_are_not_messages():
    assert decode(b"ADD\r\nBEEF\r\nOK\r\nDATE = 1124\r\n0412\r\n") == []
