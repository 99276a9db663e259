"""Decoders that never lie and never lose a call: Windows-1256 names, digits that are not ASCII, line noise
taken for numbers, auto-detection cost, NCID line labels."""
from __future__ import annotations

import datetime as dt
import json
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.base import box_number, parse_duration, to_int, to_text
from app.callerid.decoders.detect import AutoDecoder, detect
from bench.bench_decoders import segal_alphabet_noise
from cli.callerid_decode import decode_main

NOW = dt.datetime(2026, 11, 24, 10, 0)


def decode(fmt: str, data: bytes, chunk: int = 64):
    d = decoder_for(fmt, now=NOW)
    out = []
    for i in range(0, len(data), chunk):
        out += d.feed(data[i:i + chunk])
    return out + d.end(), d


def incoming(events):
    return [e for e in events if e.kind == ev.INCOMING]


# --- 1. names in Windows-1256 ----------------------------------------------------------------------------
# Persian Windows writes ی and ک of a name as Windows-1256's ي (0xED) and ك (0xDF) or ک (0x98).
PERSIAN_NAMES = {"علي رضايي": "علی رضایی", "محمد كاظمي": "محمد کاظمی", "شرکت پارس": "شرکت پارس",
                 "ژاله گلچين": "ژاله گلچین"}


@pytest.mark.parametrize("sent, shown", list(PERSIAN_NAMES.items()))
def test_cp1256_names_from_a_modem_and_ncid_are_read_as_persian(sent, shown):
    raw = sent.encode("cp1256")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")                          # really not UTF-8
    events, _ = decode("modem", b"DATE = 1124\r\nTIME = 0931\r\nNMBR = 09122800039\r\nNAME = " + raw + b"\r\n")
    assert [(e.number, e.name) for e in incoming(events)] == [("09122800039", shown)]
    events, _ = decode("ncid", b"CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*02122514321*MESG*NONE*NAME*" + raw
                       + b"*\r\n")
    assert [(e.number, e.name) for e in incoming(events)] == [("02122514321", shown)]
    assert "Ã" not in to_text(raw) and "Ú" not in to_text(raw)


def test_each_field_decided_on_its_own():
    # a Latin-1 name stays Latin-1 (NCID's published tests), UTF-8 stays UTF-8, in the same stream
    assert to_text("Vähälä".encode("latin-1")) == "Vähälä"
    assert to_text("José García".encode("cp1252")) == "José García"
    assert to_text("Müller Söhne".encode("cp1252")) == "Müller Söhne"
    assert to_text("رضا رضایی".encode()) == "رضا رضایی"
    mixed = b"NAME*" + "Vähälä".encode("latin-1") + b"*MESG*" + "علي".encode("cp1256") + b"*"
    assert to_text(mixed) == "NAME*Vähälä*MESG*علی*"


# --- 2. digits that are not ASCII --------------------------------------------------------------------------
ODD_DIGITS = ["²", "³", "¹", "١", "۳", "３", "৩", "߂"]


@pytest.mark.parametrize("d", ODD_DIGITS)
def test_a_strange_digit_in_a_date_time_or_ring_field_never_drops_the_call(d):
    cases = {
        "modem": f"DATE = 11{d}4\r\nTIME = 09{d}1\r\nNMBR = 09122800039\r\n",
        "ncid": f"CID: *DATE*1124{d}026*TIME*09{d}0*LINE*1*NMBR*09122800039*NAME*X*\r\n",
        "yasna": f"L1 Ringing CallerID:09122800039 RingsCount:{d}\r\nL1 HookOff\r\nL1 HookOn Duration:{d}5\r\n",
        "techno": f"D1:L1:CallerID=09122800039.D1:L1:Ring={d}.D1:L1:Answer.D1:L1:HangDown,Time={d}.",
        "segal": f"L1C09122800039@L1R0{d}@L1HF@L1HND: T01{d}7@",
    }
    for fmt, text in cases.items():
        events, _ = decode(fmt, text.encode())
        assert [e.number for e in incoming(events)] == ["09122800039"], (fmt, events)
        if fmt in ("yasna", "techno", "segal"):
            kinds = [e.kind for e in events]
            assert ev.HANGUP in kinds, (fmt, kinds)             # the rest of the call is still there


TEMPLATES = {
    "modem": "RING\r\nDATE = {0}{1}{2}{3}\r\nTIME = {4}{5}{6}{7}\r\nNMBR = 09122800039\r\nRING\r\n",
    "ncid": "CID: *DATE*{0}{1}{2}{3}2026*TIME*{4}{5}{6}{7}*LINE*{1}*NMBR*09122800039*NAME*X*\r\n"
            "CIDINFO: *LINE*{2}*RING*{3}*TIME*{4}{5}:{6}{7}:00*\r\n",
    "yasna": "L1 Ringing CallerID:09122800039 RingsCount:{0}\r\nL1 Ringing RingsCount:{1}{2}\r\nL1 HookOff\r\n"
             "L1 HookOn Duration:{3}{4}:{5}{6}\r\n",
    "techno": "D1:L1:CallerID=09122800039.D1:L1:Ring={0}.D1:L1:Ring={1}{2}.D1:L1:Answer."
              "D1:L1:HangDown,Time={3}{4}{5}.D{6}:L{7}:Ring=1.",
    "segal": "L1C09122800039@L1R{0}{1}@L1HF@L1HND: T{2}{3}{4}{5}@L{6}R{7}@",
}


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(sorted(TEMPLATES)), auto=st.booleans(),
       digits=st.lists(st.characters(whitelist_categories=("Nd", "No")), min_size=8, max_size=8))
def test_any_unicode_digit_outside_the_number_never_drops_the_call(fmt, auto, digits):
    # hypothesis found 37 such inputs that used to drop the whole call ('²'.isdigit() but int('²') raises)
    events, _ = decode("auto" if auto else fmt, TEMPLATES[fmt].format(*digits).encode())
    assert [e.number for e in incoming(events)] == ["09122800039"], events


def test_persian_and_arabic_digits_are_folded_not_dropped():
    events, _ = decode("modem", "DATE = ۱۱۲۴\r\nTIME = ٠٩٣١\r\nNMBR = ۰۹۱۲۲۸۰۰۰۳۹\r\n".encode())
    assert [(e.number, e.time) for e in incoming(events)] == [("09122800039", dt.datetime(2026, 11, 24, 9, 31))]
    events, _ = decode("techno", "D1:L1:CallerID=۰۲۱۲۲۵۱۴۳۲۱.D1:L1:Ring=۳.".encode())
    assert [(e.kind, e.number, e.rings) for e in events] == [
        (ev.INCOMING, "02122514321", None), (ev.RING, "02122514321", 3)]
    events, _ = decode("ncid", "CID: *DATE*۱۱۲۴۲۰۲۶*TIME*۰۹۳۰*LINE*۲*NMBR*09122800039*NAME*X*\r\n".encode())
    assert [(e.time, e.line) for e in events] == [(dt.datetime(2026, 11, 24, 9, 30), 2)]


def test_digit_helpers_take_only_ascii_after_folding():
    assert to_int("۱۲") == 12 and to_int(" 7 ") == 7
    assert to_int("²") is None and to_int("３") is None and to_int("") is None and to_int(None) is None
    assert parse_duration("³") is None and parse_duration("0²:10") is None and parse_duration("۰۱:۱۰") == 70


# --- 3. line noise is not a caller ---------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("09122800039", ("09122800039", ev.OK)), ("+989122800039", ("+989122800039", ev.OK)),
    ("00982122514321", ("00982122514321", ev.OK)), ("110", ("110", ev.OK)), ("0912 280 0039", ("09122800039", ev.OK)),
    ("۰۹۱۲۲۸۰۰۰۳۹", ("09122800039", ev.OK)), ("P", ("", ev.PRIVATE)), ("O", ("", ev.UNAVAILABLE)),
    ("", ("", ev.UNAVAILABLE)),
    ("6+9531", None), ("12", None), ("1234567890123456", None), ("0912x345", None), ("+", None),
    ("3+986++80718791215524+5242715064826399", None), ("*622", None), ("09122800039²", None),
])
def test_box_numbers_are_validated(raw, expected):
    assert box_number(raw) == expected


@pytest.mark.parametrize("fmt, record", [
    ("segal", b"L1C6+9531@"), ("segal", b"L2C3830+118407319676576656@"), ("segal", b"L1C09\x93\xff12@"),
    ("segal", b"L109121234567@"),                        # no separator: line and number cannot be told apart
    ("yasna", b"L1 Ringing CallerID:6+9531 RingsCount:1\r\n"),
    ("techno", b"D1:L1:CallerID=1234567890123456789."),
])
def test_a_noise_number_is_discarded_and_counted(fmt, record):
    events, d = decode(fmt, record)
    assert incoming(events) == []
    assert d.noise >= 1


def test_real_records_are_not_noise():
    events, d = decode("segal", b"L1C09122800039@L1R01@L1HF@L1HND: T0010@L2:2122514321@L3 0912 280 0039@")
    assert [e.number for e in incoming(events)] == ["09122800039", "2122514321", "09122800039"]
    assert d.noise == 0


def test_random_bytes_give_no_fake_calls():
    rng = random.Random(17)
    events, d = decode("segal", rng.randbytes(2 * 1024 * 1024))
    assert incoming(events) == []             # the decoder without the validation reported 6 here (35 in 10 MB)
    assert d.noise > 1000
    for fmt in ("yasna", "techno"):
        events, _ = decode(fmt, rng.randbytes(512 * 1024))
        assert incoming(events) == []


def test_segal_alphabet_noise_gives_no_fake_numbers():
    fake_numbers = fake_calls = 0
    for seed in range(10):
        events, d = decode("segal", segal_alphabet_noise(4096, seed))
        fake_numbers += sum(1 for e in incoming(events) if e.number)
        fake_calls += len(incoming(events))
        assert d.noise > 0
    # Without the validation: 43 fake numbers in these 40 KB. An empty caller ID ("L6C@", a record boxes
    # really send) can still appear by chance: at most a couple in 40 KB.
    assert fake_numbers == 0
    assert fake_calls <= 2


def test_decode_cli_reports_the_noise_count_in_persian(tmp_path, capsys):
    f = tmp_path / "box.txt"
    f.write_bytes(b"L1C09122800039@L1C6+9531@L2Cxx77@\xff\xfe@L1R01@")
    assert decode_main(str(f), "segal") == 0
    captured = capsys.readouterr()
    assert [json.loads(x)["number"] for x in captured.out.splitlines()] == ["09122800039"]
    assert "۳ رکورد نامفهوم نادیده گرفته شد" in captured.err
    f.write_bytes(b"L1C09122800039@")
    assert decode_main(str(f), "auto") == 0
    assert "نامفهوم" not in capsys.readouterr().err


# --- 4. auto-detection in linear time ---------------------------------------------------------------------
def test_a_megabyte_of_random_bytes_decodes_in_auto_mode_quickly():
    data = random.Random(1405).randbytes(1024 * 1024)
    t = time.perf_counter()
    decode("auto", data)
    elapsed = time.perf_counter() - t
    # It took 30-110 s before (the 16 KB held were rescanned on every 64-byte feed); about 0.3-0.8 s now.
    assert elapsed < 5.0, elapsed


def test_incremental_detection_agrees_with_whole_buffer_detection():
    rng = random.Random(3)
    tails = [b"L1C09122800039@", b"D1:L1:CallerID=02166595961.", b"RING\r\n", b"L1 Ringing CallerID:0912 \r\n",
             b"CID: *NMBR*0912*\r\n"]
    for _ in range(40):
        noise = bytes(rng.choice(b"abcL1:@.\r\n D=") for _ in range(rng.randrange(0, 3000)))
        stream = noise + rng.choice(tails) + rng.choice(tails)
        a = AutoDecoder(now=NOW)
        for i in range(0, len(stream), 7):
            a.feed(stream[i:i + 7])
        assert a.protocol == (detect(stream) or "auto"), stream[-80:]


# --- 7. NCID line labels -----------------------------------------------------------------------------------
def test_ncid_line_labels_reach_the_json(tmp_path, capsys):
    f = tmp_path / "ncid.txt"
    f.write_bytes(b"CID: *DATE*11242026*TIME*0930*LINE*1234*NMBR*09122800039*NAME*A*\r\n"
                  b"CID: *DATE*11242026*TIME*0931*LINE*A*NMBR*09122800040*NAME*B*\r\n"
                  b"CID: *DATE*11242026*TIME*0932*LINE*POTS*NMBR*09122800041*NAME*C*\r\n"
                  b"CID: *DATE*11242026*TIME*0933*LINE*2*NMBR*09122800042*NAME*D*\r\n"
                  b"CID: *DATE*11242026*TIME*0934*LINE*-*NMBR*09122800043*NAME*E*\r\n")
    assert decode_main(str(f)) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["line"], r.get("line_label")) for r in rows] == [
        (1234, None), (None, "A"), (None, "POTS"), (2, None), (None, None)]
    assert all({"number", "name", "time", "line", "status"} <= set(r) for r in rows)
    assert decode_main(str(f), all_events=True) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows[1]["line_label"] == "A" and rows[1]["event"] == "incoming"
