"""The simulator: its byte writers read back by the real decoders, its AT answers, and whole calls on a pty."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid import simulator as sim_mod
from app.callerid.decoders import decoder_for
from app.callerid.simulator import AtInterpreter, Simulator, SimulatorOptions
from app.callerid.sources import SerialSource

WHEN = dt.datetime(2026, 11, 24, 10, 15)
NOW = lambda: dt.datetime(2026, 11, 24, 10, 16)  # noqa: E731


def decode(fmt: str, data: bytes) -> list[ev.CallerIdEvent]:
    d = decoder_for(fmt, now=NOW)
    out = []
    for i in range(0, len(data), 7):                 # split into odd-sized reads, as a port delivers them
        out += d.feed(data[i:i + 7])
    return out + d.flush()


def kinds(events):
    return [e.kind for e in events]


# --- pure writers, read back by the decoders ------------------------------------------------------------
def test_modem_formatted_block():
    data = sim_mod.modem_ring() + sim_mod.modem_cid("02122514321", None, WHEN) + sim_mod.modem_ring()
    assert b"DATE = 1124\r\nTIME = 1015\r\nNMBR = 02122514321\r\n" in data
    events = [e for e in decode("modem", data) if e.kind == ev.INCOMING]
    assert len(events) == 1
    assert (events[0].number, events[0].name, events[0].time) == ("02122514321", None, WHEN)


def test_modem_withheld_and_named():
    inc = [e for e in decode("auto", sim_mod.modem_ring() + sim_mod.modem_cid("P", None, WHEN)) if e.kind == ev.INCOMING]
    assert inc[0].status == ev.PRIVATE
    inc = [e for e in decode("modem", sim_mod.modem_cid("09121234567", "Vähälä", WHEN)) if e.kind == ev.INCOMING]
    assert inc[0].name == "Vähälä"


def test_sdmf_and_mdmf_checksums_and_round_trip():
    sdmf = sim_mod.sdmf_message("09121234567", WHEN)
    mdmf = sim_mod.mdmf_message("02122514321", "RAHIMI", WHEN)
    for msg in (sdmf, mdmf):
        assert sum(msg) % 256 == 0
        assert msg[1] == len(msg) - 3
    assert sdmf[0] == 0x04 and mdmf[0] == 0x80
    got = [e for e in decode("raw", sim_mod.hex_line(sdmf) + sim_mod.hex_line(mdmf)) if e.kind == ev.INCOMING]
    assert [(e.number, e.name, e.time) for e in got] == [("09121234567", None, WHEN), ("02122514321", "RAHIMI", WHEN)]
    withheld = [e for e in decode("raw", sim_mod.hex_line(sim_mod.mdmf_message("P", None, WHEN))) if e.kind == ev.INCOMING]
    assert withheld[0].status == ev.PRIVATE


def test_segal_call_life():
    data = (sim_mod.segal_caller(2, "09121234567") + sim_mod.segal_ring(2, 1) + sim_mod.segal_ring(2, 2)
            + sim_mod.segal_lift(2) + sim_mod.segal_down(2, 177))
    assert data.startswith(b"L2C09121234567@")
    assert b"L2HND: T0257@" in data
    events = decode("segal", data)
    assert kinds(events) == ["incoming", "ring", "ring", "answered", "hangup"]
    assert events[-1].duration == 177 and events[-1].line == 2


def test_segal_outgoing():
    data = sim_mod.segal_lift(3) + b"".join(sim_mod.segal_digit(3, d) for d in "0912") + \
        sim_mod.segal_down(3, 42, "0912")
    events = decode("segal", data)
    out = [e for e in events if e.kind == ev.OUTGOING]
    assert out[0].number == "0912" and out[0].duration == 42 and out[0].line == 3


def test_yasna_call_life():
    data = (sim_mod.yasna_ring(1, "02122514321", 1) + sim_mod.yasna_ring(1, "02122514321", 2)
            + sim_mod.yasna_lift(1) + sim_mod.yasna_down(1, 35))
    assert data.startswith(b"L1 Ringing CallerID:02122514321 RingsCount:1 \r\n")
    events = decode("yasna", data)
    assert kinds(events)[0] == "incoming" and "answered" in kinds(events) and kinds(events)[-1] == "hangup"
    assert events[-1].duration == 35


def test_techno_call_life_and_missed():
    data = (sim_mod.techno_connect(4) + sim_mod.techno_caller(1, "02166595961") + sim_mod.techno_ring(1, 1)
            + sim_mod.techno_answer(1) + sim_mod.techno_down(1, 61)
            + sim_mod.techno_caller(2, "09351112233") + sim_mod.techno_ring(2, 1) + sim_mod.techno_miss(2, 1))
    events = decode("techno", data)
    line1 = [e.kind for e in events if e.line == 1]
    line2 = [e.kind for e in events if e.line == 2]
    assert line1 == ["incoming", "ring", "answered", "hangup"]
    assert line2 == ["incoming", "ring", "missed"]
    assert [e.duration for e in events if e.kind == ev.HANGUP] == [61]


@pytest.mark.parametrize("device", ["modem", "segal", "yasna", "techno"])
def test_auto_detection_recognises_every_simulated_device(device, tmp_path):
    proto = sim_mod.protocol_for(device)
    data = proto.hello(2) + proto.ring(1, 1, "09121234567") + proto.caller(1, "09121234567", None, WHEN) + \
        proto.ring(1, 2, "09121234567")
    inc = [e for e in decode("auto", data) if e.kind == ev.INCOMING]
    assert [e.number for e in inc] == ["09121234567"]


# --- the AT interpreter --------------------------------------------------------------------------------
def test_at_interpreter_echo_results_and_chipsets():
    at = AtInterpreter("conexant")
    assert at.feed(b"AT\r") == b"AT\r\r\nOK\r\n"
    assert at.feed(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert at.feed(b"ATI\r") == b"\r\nCX93001-EIS_V0.2002-V92\r\nOK\r\n"
    assert at.feed(b"AT#CID=1\r") == b"\r\nERROR\r\n"
    assert at.feed(b"AT+FCLASS=8;+VCID=1\r") == b"\r\nOK\r\n" and at.cid_mode == 1
    assert at.feed(b"AT+VCID=2\r") == b"\r\nOK\r\n" and at.cid_mode == 2
    assert at.feed(b"ATZ\r") == b"\r\nOK\r\n" and at.cid_mode == 0 and at.echo   # typed while E0: no echo
    assert at.feed(b"AT Z S0=0 E1 V1 Q0\r").endswith(b"OK\r\n")
    assert at.feed(b"ATV0\r") == b"ATV0\r0\r"
    assert at.feed(b"AT+BOGUS\r") == b"AT+BOGUS\r4\r"


def test_at_interpreter_usr_accepts_cid_and_chained_commands():
    at = AtInterpreter("usr")
    at.echo = False
    assert at.feed(b"AT+VCID=1\r") == b"\r\nERROR\r\n"
    assert at.feed(b"AT#CLS=8#CID=1\r") == b"\r\nOK\r\n" and at.cid_mode == 1
    assert at.feed(b"AT$JSCID=4,1\r") == b"\r\nERROR\r\n"


def test_at_interpreter_dial():
    at = AtInterpreter("conexant")
    at.echo = False
    assert at.feed(b"ATDT09121234567;\r") == b"\r\nOK\r\n"
    assert at.dialled == ["09121234567"]
    assert at.feed(b"ATH\r") == b"\r\nOK\r\n"
    assert AtInterpreter("conexant", dial_result="NO DIALTONE").execute("ATDT123;") == b"\r\nNO DIALTONE\r\n"


def test_commands_split_across_writes_and_garbage():
    at = AtInterpreter("conexant")
    at.echo = False
    assert at.feed(b"A") == b""
    assert at.feed(b"T\r") == b"\r\nOK\r\n"
    assert at.feed(b"\x00\xff hello\r") == b""          # not a command: ignored, as a modem does
    assert at.feed(b"x" * 1000) == b""                   # no CR ever: dropped, no unbounded buffer


# --- whole calls on a pty -------------------------------------------------------------------------------
def read_for(src: SerialSource, seconds: float) -> bytes:
    data = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data += src.read()
    return data


def test_modem_rings_with_caller_id_only_once_enabled():
    with Simulator(SimulatorOptions(device="modem", ring_period=0.3, cid_delay=0.05, max_rings=2)) as sim:
        with SerialSource(sim.path) as src:
            sim.ring(None, "02122514321")
            data = read_for(src, 0.8)
            assert data.count(b"RING") == 2 and b"NMBR" not in data     # caller ID not enabled: rings only
            src.write(b"AT+VCID=1\r")
            assert b"OK" in read_for(src, 0.2)
            sim.ring(None, "02122514321")
            data = read_for(src, 0.5)
            assert b"NMBR = 02122514321" in data
            assert data.index(b"RING") < data.index(b"NMBR")          # Bellcore: between the rings


def test_modem_in_unformatted_mode_sends_hex():
    with Simulator(SimulatorOptions(device="modem", ring_period=5, cid_delay=0.0)) as sim:
        with SerialSource(sim.path) as src:
            src.write(b"AT+VCID=2\r")
            read_for(src, 0.2)
            sim.ring(None, "09121234567")
            data = read_for(src, 0.3)
    inc = [e for e in decode("modem", data) if e.kind == ev.INCOMING]
    assert inc and inc[0].number == "09121234567" and inc[0].source in ("mdmf", "raw", "modem")


def test_box_several_lines_at_once_with_answer_miss_and_outgoing():
    opts = SimulatorOptions(device="segal", lines=4, ring_period=0.2, max_rings=50, digit_gap=0.01)
    with Simulator(opts) as sim, SerialSource(sim.path) as src:
        sim.ring(1, "09121234567")
        sim.ring(2, "02122514321")
        time.sleep(0.45)
        sim.answer(1)
        sim.miss(2)
        sim.dial(3, "09350001122", wait=True)
        time.sleep(1.1)
        assert sim.hangup(1) >= 1                      # the duration, in whole seconds
        sim.hangup(3)
        data = read_for(src, 0.3)
    d = decoder_for("segal", now=NOW, ring_timeout=0.0)
    events = d.feed(data) + d.tick()
    by_line = {n: [e.kind for e in events if e.line == n] for n in (1, 2, 3)}
    assert by_line[1][0] == "incoming" and "answered" in by_line[1] and by_line[1][-1] == "hangup"
    # Segal never says "missed": the decoder reports the rings only, the lifecycle's ring timeout decides
    assert by_line[2][0] == "incoming" and by_line[2][-1] == "ring" and "missed" not in by_line[2]
    from app.callerid.lifecycle import CallLifecycle

    life = CallLifecycle(ring_timeout=2)
    changes = [c for e in events for c in life.feed(e, NOW())] + life.tick(NOW() + dt.timedelta(seconds=5))
    assert [c.call.state for c in changes if c.call.final and c.call.line == 2] == ["missed"]
    assert by_line[3][0] == "offhook" and by_line[3][-2:] == ["outgoing", "hangup"]
    out = [e for e in events if e.kind == ev.OUTGOING][0]
    assert out.number == "09350001122"


def test_script_and_interactive_commands():
    with Simulator(SimulatorOptions(device="techno", lines=2, ring_period=10)) as sim:
        notes = sim.run_script("ring 2 09121234567; answer 2; hangup 2 95; ring 1 P; miss 1; status")
        assert notes[0].startswith("ringing line 2")
        assert "L2: idle" in notes[-1]
        with pytest.raises(ValueError):
            sim.execute("fly 2")
        with pytest.raises(ValueError):
            sim.execute("answer 1")                        # line 1 is not ringing
        assert b"D1:L2:CallerID=09121234567." in sim.written
        assert b"D1:L2:HangDown,Time=95." in sim.written      # the scripted duration
        assert b"D1:L1:CallerID=P." in sim.written and b"D1:L1:MissCall,Ring=1." in sim.written


def test_the_link_follows_the_pty_when_replugged(tmp_path):
    link = tmp_path / "crm-modem"
    with Simulator(SimulatorOptions(device="segal", link=str(link))) as sim:
        assert os.path.realpath(link) == sim.path
        sim.unplug()
        assert not link.exists() and sim.master is None
        sim.plug()
        assert os.path.realpath(link) == sim.path
    assert not os.path.lexists(link)


def test_writes_with_nobody_reading_do_not_block():
    with Simulator(SimulatorOptions(device="segal")) as sim:
        t0 = time.monotonic()
        for _ in range(2000):
            sim.write(b"L1R01@\r\n" * 8)
        assert time.monotonic() - t0 < 5


# --- the command line -----------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def test_cli_simulate_and_monitor_end_to_end(tmp_path):
    """`crm callerid simulate` in one process, `crm callerid monitor` in another, over the pty link."""
    link = str(tmp_path / "crm-modem")
    env = {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    sim = subprocess.Popen(
        [sys.executable, "main.py", "callerid", "simulate", "--device", "segal", "--lines", "2", "--link", link,
         "--interactive"], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        path = sim.stdout.readline().strip()
        assert path.startswith("/dev/pts/") and os.path.realpath(link) == path
        mon = subprocess.Popen(
            [sys.executable, "main.py", "callerid", "monitor", "--port", link, "--format", "segal",
             "--seconds", "4"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        sim.stdin.write("ring 2 09121234567\nanswer 2\nhangup 2\n")
        sim.stdin.flush()
        out, err = mon.communicate(timeout=15)
        assert mon.returncode == 0, err
        lines = [__import__("json").loads(x) for x in out.splitlines()]
        assert lines[0]["event"] == "incoming" and lines[0]["number"] == "09121234567" and lines[0]["line"] == 2
        assert [x["event"] for x in lines] == ["incoming", "ring", "answered", "hangup"]
        assert "[listening]" in err and "در حال گوش دادن" in err
        assert "Traceback" not in err
    finally:
        sim.stdin.write("quit\n")
        sim.stdin.flush()
        sim.communicate(timeout=5)            # waits, and closes its three pipes
    assert sim.returncode == 0
    assert not os.path.lexists(link)


def test_cli_simulate_rings_then_exits(tmp_path):
    env = {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "main.py", "callerid", "simulate", "--device", "techno", "--ring", "2:09121234567",
         "--rings", "1", "--interval", "0", "--exit", "--trace"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert "D1:L2:CallerID=09121234567." in done.stderr
    assert "D1:L2:MissCall,Ring=1." in done.stderr


def test_cli_monitor_on_a_missing_port_keeps_trying_and_says_why(tmp_path):
    env = {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "main.py", "callerid", "monitor", "--port", str(tmp_path / "ttyACM0"), "--seconds", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    assert "[no_device]" in done.stderr and "پیدا نشد" in done.stderr
    assert "Traceback" not in done.stderr


def test_threads_are_not_left_behind():
    before = threading.active_count()
    with Simulator(SimulatorOptions(device="modem")):
        pass
    time.sleep(0.1)
    assert threading.active_count() <= before
