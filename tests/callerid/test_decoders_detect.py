"""Auto-detection of the protocol, the decode CLI, and every number form matched to one stored customer."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.cli_decode import decode_main, lookup_main
from app.callerid.decoders import CHOICES, decoder_for
from app.callerid.decoders.detect import detect

CAPTURES = Path(__file__).parent / "captures"

EXPECTED = {
    "modem_bellcore_crlf.txt": "modem", "modem_iran_lf.txt": "modem", "modem_cr_echo.txt": "modem",
    "modem_single_line.txt": "modem", "modem_reset_noise.txt": "modem", "modem_voice_dle.txt": "modem",
    "raw_hex.txt": "modem", "ncid_session.txt": "ncid", "segal_line1.txt": "segal",
    "segal_four_lines.txt": "segal", "danjeh.txt": "segal", "yasna_two_lines.txt": "yasna",
    "techno_session.txt": "techno",
}


def now():
    return dt.datetime(2026, 11, 24, 10, 0)


def run(fmt: str, data: bytes, chunk: int):
    d = decoder_for(fmt, now=now)
    out = []
    for i in range(0, len(data), chunk):
        out += d.feed(data[i:i + chunk])
    return d, out + d.end()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_auto_detects_each_capture_and_decodes_like_the_manual_choice(name):
    data = (CAPTURES / name).read_bytes()
    auto, auto_events = run("auto", data, 7)
    assert auto.protocol == EXPECTED[name]
    manual_fmt = EXPECTED[name]
    _, manual_events = run(manual_fmt, data, len(data))
    assert auto_events == manual_events
    assert any(e.kind == ev.INCOMING for e in auto_events)


def test_every_capture_file_is_listed():
    assert {p.name for p in CAPTURES.glob("*.txt")} == set(EXPECTED)


def test_detection_waits_for_a_whole_record_and_ignores_leading_noise():
    assert detect(b"L1C0912") is None
    assert detect(b"\x00\xff~~~\r\nOK\r\n") is None                   # only weak signs: wait
    assert detect(b"\x00\xff~~~\r\nOK\r\n", final=True) == "modem"    # at the end, the weak sign decides
    assert detect(b"noise@L1C09122800039@") == "segal"
    assert detect(b"junk.D1:L1:Ring=1.") == "techno"
    assert detect(b"200 Server: ncidd (NCID) 1.11\r\n") == "ncid"
    assert detect(b"L1 Ringing CallerID:0912 RingsCount:1\n") == "yasna"
    # The first sure record to *end* wins: a Segal record closed before the first newline.
    assert detect(b"L1C22514321@\r\nRING\r\n") == "segal"
    assert detect(b"RING\r\nL1C22514321@") == "modem"


def test_auto_with_unrecognisable_input_emits_nothing():
    d = decoder_for("auto", now=now)
    assert d.feed(bytes(range(256)) * 100) == []
    assert d.unrecognised_bytes == 25600
    assert d.flush() == [] and d.end() == []
    assert d.protocol == "auto"


def test_auto_delegates_ticks():
    t = [dt.datetime(2026, 11, 24, 10, 0)]
    d = decoder_for("auto", now=lambda: t[0], ring_timeout=5)
    d.feed(b"L1C09122800039@L1R01@")
    t[0] += dt.timedelta(seconds=5)
    assert d.tick() == []                    # delegated; the box's decoder reports no invented MISSED
    assert [e.kind for e in d.feed(b"L1HF@")] == [ev.OFFHOOK]      # the tick reached it: the line is idle


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        decoder_for("klingon")
    assert set(CHOICES) == {"auto", "modem", "raw", "ncid", "segal", "yasna", "techno", "ami", "smdr"}
    assert decoder_for("danjeh").protocol == "segal" and decoder_for("caspian").protocol == "yasna"


# --- the CLI ----------------------------------------------------------------------------------------------

def test_decode_cli_prints_one_json_object_per_incoming_call(capsys):
    from app import clock

    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    assert decode_main(str(CAPTURES / "segal_four_lines.txt")) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [json.loads(x) for x in lines]
    assert rows[0] == {"number": "09122800039", "name": None, "time": None, "line": 1, "status": "ok"}
    assert {"number": "", "name": None, "time": None, "line": 4, "status": "private"} in rows
    assert all(set(r) == {"number", "name", "time", "line", "status"} for r in rows)


def test_decode_cli_all_events_and_manual_format(capsys):
    assert decode_main(str(CAPTURES / "techno_session.txt"), "techno", all_events=True) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    kinds = [r["event"] for r in rows]
    assert kinds[:4] == ["device", "device", "device", "incoming"]
    hang = next(r for r in rows if r["event"] == "hangup")
    assert hang["duration"] == 65 and hang["line"] == 1 and hang["source"] == "techno"
    missed = next(r for r in rows if r["event"] == "missed")
    assert missed["rings"] == 10


def test_decode_cli_persian_utf8_name_printed_unescaped(tmp_path, capsys):
    f = tmp_path / "ncid.txt"
    f.write_bytes("CID: *DATE*11242026*TIME*0930*LINE*1*NMBR*09122800039*NAME*رضا رضایی*\r\n".encode())
    assert decode_main(str(f)) == 0
    out = capsys.readouterr().out
    assert "رضا رضایی" in out
    assert json.loads(out) == {"number": "09122800039", "name": "رضا رضایی", "time": "2026-11-24T09:30:00",
                               "line": 1, "status": "ok"}


def test_decode_cli_missing_file_and_bad_format(tmp_path, capsys):
    assert decode_main(str(tmp_path / "nope.bin")) == 2
    err = capsys.readouterr().err
    assert "پیدا نشد" in err
    assert decode_main(str(tmp_path)) == 2
    assert "پوشه" in capsys.readouterr().err
    f = tmp_path / "x.txt"
    f.write_bytes(b"RING\r\n")
    assert decode_main(str(f), "klingon") == 2
    assert "قالب" in capsys.readouterr().err


def test_decode_cli_empty_and_binary_files(tmp_path, capsys):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "bin").write_bytes(bytes(range(256)) * 50)
    assert decode_main(str(tmp_path / "empty")) == 0
    assert decode_main(str(tmp_path / "bin")) == 0
    assert capsys.readouterr().out == ""


# --- every Iranian number form reaches the same customer ------------------------------------------------

FORMS_MOBILE = ["9122800039", "+989122800039", "00989122800039", "09122800039"]
FORMS_LANDLINE = ["2122514321", "22514321", "+982122514321", "00982122514321", "02122514321"]


def _customers():
    from models.core import Customer, PhoneNumber

    mobile = Customer.create(first_name="رضا", last_name="رضایی")
    PhoneNumber.create(customer=mobile, raw="0912 280 0039", canonical="09122800039", tail="22800039")
    office = Customer.create(company="بازرگانی پیوند")
    PhoneNumber.create(customer=office, raw="021-22514321", canonical="02122514321", tail="22514321")
    return mobile, office


def _captures_for(number: str) -> dict[str, bytes]:
    from app.callerid.decoders.raw import build_mdmf, build_sdmf

    return {
        "modem": f"RING\r\nDATE = 1124\r\nTIME = 0931\r\nNMBR = {number}\r\nRING\r\n".encode(),
        "sdmf": build_sdmf("11240931", number).hex().encode() + b"\r\n",
        "mdmf": build_mdmf([(0x01, b"11240931"), (0x02, number.encode())]).hex().encode() + b"\r\n",
        "ncid": f"CID: *DATE*11242026*TIME*0931*LINE*2*NMBR*{number}*MESG*NONE*NAME*NO NAME*\r\n".encode(),
        "segal": f"\r\nL2C{number}@\r\n\r\nL2R01@\r\n".encode(),
        "yasna": f"L2 Ringing CallerID:{number} RingsCount:1 \r\n".encode(),
        "techno": f"D1:L2:CallerID={number}.D1:L2:Ring=1.".encode(),
    }


@pytest.mark.parametrize("form", FORMS_MOBILE + FORMS_LANDLINE)
def test_every_form_from_every_device_matches_the_same_customer(db, form):
    from app import customers

    mobile, office = _customers()
    expected = mobile.id if form in FORMS_MOBILE else office.id
    for kind, data in _captures_for(form).items():
        _, events = run("auto", data, 5)
        calls = [e for e in events if e.kind == ev.INCOMING]
        assert [c.number for c in calls] == [form], kind
        found = customers.find_by_phone(calls[0].number)
        assert [c.id for c in found] == [expected], (kind, form)


def test_lookup_cli(db, capsys):
    mobile, office = _customers()
    assert lookup_main("+98 912 280 0039") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["input"] == "+98 912 280 0039"
    assert out["tried"][0] == "09122800039"
    assert [m["id"] for m in out["matches"]] == [mobile.id]
    assert out["matches"][0]["phone"] == "09122800039"
    assert lookup_main("22514321") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tried"][0] == "02122514321"
    assert [m["id"] for m in out["matches"]] == [office.id]
    assert lookup_main("09350000000") == 0
    assert json.loads(capsys.readouterr().out)["matches"] == []
    assert lookup_main("  ") == 2
    assert "شماره" in capsys.readouterr().err


def test_modem_layout_variants_are_recognised():
    assert detect(b"RING RING DATE=0224 NAME=ONMBR=5072884388\r\n") == "modem"
    assert detect(b"CALLER NUMBER: 5071234567\r\n") == "modem"
    assert detect(b"DDN_NMBR= 9932562\r\n") == "modem"


def test_crm_callerid_decode_through_the_real_entry_point(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "utf-8"}

    def crm(*args):
        return subprocess.run([sys.executable, str(root / "main.py"), "callerid", *args], cwd=root, env=env,
                              capture_output=True, text=True, encoding="utf-8", timeout=120)

    r = crm("decode", str(CAPTURES / "yasna_two_lines.txt"))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["number"], x["line"], x["status"]) for x in rows] == [
        ("09122800039", 1, "ok"), ("00982122514321", 2, "ok"), ("", 4, "unavailable")]
    r = crm("decode", str(CAPTURES / "techno_session.txt"), "--format", "techno", "--all")
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["event"] == "device"
    r = crm("decode", str(tmp_path / "missing.bin"))
    assert r.returncode == 2 and "پیدا نشد" in r.stderr and "Traceback" not in r.stderr
