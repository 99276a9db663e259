"""The simulator over TCP (socket://127.0.0.1:PORT, the way to try caller ID on Windows, which has no ptys) and
SerialSource opening such a URL through pyserial: a box's calls, a modem's AT initialisation, unplug and back,
refused and malformed addresses, and the two `crm callerid` verbs talking over the socket."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid import sources
from app.callerid.simulator import Simulator, SimulatorOptions
from app.callerid.sources import Pump, SerialSource, SourceUnavailable

ROOT = Path(__file__).resolve().parents[2]


class Collector:
    def __init__(self):
        self.events: list[ev.CallerIdEvent] = []
        self.states: list[str] = []
        self.cond = threading.Condition()

    def on_event(self, e):
        with self.cond:
            self.events.append(e)
            self.cond.notify_all()

    def on_state(self, state, text):
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    def wait(self, pred, timeout=8.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def kinds(self):
        return [e.kind for e in self.events]


@pytest.fixture
def pump_on():
    running = []

    def start(sim: Simulator, fmt: str, **kw) -> Collector:
        got = Collector()
        pump = Pump(SerialSource(sim.port, fmt=fmt, **kw), fmt, on_event=got.on_event, on_state=got.on_state,
                    backoff=(0.1,))
        stop = threading.Event()
        t = threading.Thread(target=pump.run, args=(stop,), daemon=True)
        t.start()
        running.append((stop, t))
        assert got.wait(lambda: "listening" in got.states), got.states
        assert sim.wait_for_client(5.0)
        return got

    yield start
    for stop, t in running:
        stop.set()
        t.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_box_on_tcp_is_a_serial_port_by_its_url(pump_on):
    with Simulator(SimulatorOptions(device="techno", lines=4, transport="tcp", digit_gap=0.01)) as sim:
        assert sim.port.startswith("socket://127.0.0.1:") and sim.path == sim.port
        got = pump_on(sim, "techno")
        sim.ring(3, "09121234567")
        sim.answer(3)
        sim.hangup(3, 42)
        assert got.wait(lambda: ev.HANGUP in got.kinds())
        calls = [e for e in got.events if e.line == 3]
        assert [e.kind for e in calls][:2] == [ev.INCOMING, ev.RING]
        assert calls[0].number == "09121234567" and calls[-1].duration == 42
        # the box's greeting went to the computer the moment it connected, while the port was still opening: kept,
        # not drained by the open
        assert sim.written.startswith(b"D1:DeviceConnect,")
        assert any(e.kind == ev.DEVICE and e.name == "DeviceConnect" for e in got.events)


def test_a_modem_on_tcp_answers_the_at_initialisation(pump_on):
    with Simulator(SimulatorOptions(device="modem", transport="tcp", ring_period=0.5, cid_delay=0.1)) as sim:
        got = pump_on(sim, "modem", init="modem")
        assert sim.at.cid_mode == 1                      # AT+VCID=1 (or its chipset's form) reached the modem
        assert b"AT" in sim.received
        sim.ring(None, "02122514321", "RAHIMI")
        assert got.wait(lambda: any(e.kind == ev.INCOMING for e in got.events))
        inc = next(e for e in got.events if e.kind == ev.INCOMING)
        assert inc.number == "02122514321"
        sim.miss(None)


def test_unplugged_and_back_on_the_same_address(pump_on):
    with Simulator(SimulatorOptions(device="segal", lines=2, transport="tcp")) as sim:
        url = sim.port
        got = pump_on(sim, "segal")
        sim.unplug()
        assert not sim.plugged
        assert got.wait(lambda: any(e.kind == ev.DEVICE and e.extra.get("device") == "lost" for e in got.events))
        sim.plug()
        assert sim.port == url
        assert got.wait(lambda: any(e.kind == ev.DEVICE and e.extra.get("device") == "back" for e in got.events))
        assert sim.wait_for_client(5.0)
        sim.ring(2, "09351112233")
        assert got.wait(lambda: any(e.kind == ev.INCOMING and e.number == "09351112233" for e in got.events))


def test_a_new_connection_takes_over_the_line_like_a_cable():
    with Simulator(SimulatorOptions(device="segal", transport="tcp")) as sim:
        first = SerialSource(sim.port, fmt="segal")
        first.open()
        assert sim.wait_for_client(5.0)
        second = SerialSource(sim.port, fmt="segal")
        second.open()
        deadline = time.monotonic() + 5
        while sim.client is None or sim.client.getpeername()[1] != second._ser._socket.getsockname()[1]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sim.ring(1, "09121234567")
        data = b""
        while b"@" not in data and time.monotonic() < deadline:
            data += second.read(0.1)
        assert data.startswith(b"L1C09121234567@")
        first.close()
        second.close()


def test_nobody_listening_is_a_missing_device_with_a_persian_message():
    src = SerialSource(f"socket://127.0.0.1:{free_port()}")
    with pytest.raises(SourceUnavailable) as e:
        src.open()
    assert e.value.state == sources.NO_DEVICE
    assert "اتصال را نپذیرفت" in e.value.message and "socket://127.0.0.1:" in e.value.message


@pytest.mark.parametrize("port", ["socket://127.0.0.1", "foo://bar", "socket://127.0.0.1:99999"])
def test_a_malformed_port_url_needs_the_user(port):
    with pytest.raises(SourceUnavailable) as e:
        SerialSource(port).open()
    assert e.value.state == sources.ERROR
    assert "درست نیست" in e.value.message and "COM3" in e.value.message


def test_a_link_makes_no_sense_for_a_tcp_simulator():
    with pytest.raises(ValueError):
        Simulator(SimulatorOptions(transport="tcp", link="/tmp/x"))


def _env(tmp_path):
    return {**os.environ, "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}


def test_cli_simulate_over_tcp_and_monitor_the_url(tmp_path):
    """`crm callerid simulate --tcp` in one process, `crm callerid monitor --port socket://…` in another."""
    env = _env(tmp_path)
    sim = subprocess.Popen(
        [sys.executable, "main.py", "callerid", "simulate", "--device", "segal", "--lines", "2", "--tcp",
         "--tcp-port", "0", "--interactive"], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        url = sim.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:") and not url.endswith(":0")
        mon = subprocess.Popen(
            [sys.executable, "main.py", "callerid", "monitor", "--port", url, "--format", "segal", "--seconds", "5"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        sim.stdin.write("ring 2 09121234567\nanswer 2\nhangup 2\n")
        sim.stdin.flush()
        out, err = mon.communicate(timeout=20)
        assert mon.returncode == 0, err
        lines = [json.loads(x) for x in out.splitlines()]
        assert [x["event"] for x in lines] == ["incoming", "ring", "answered", "hangup"]
        assert lines[0]["number"] == "09121234567" and lines[0]["line"] == 2
        assert "[listening]" in err and "Traceback" not in err
    finally:
        sim.stdin.write("quit\n")
        sim.stdin.close()
        sim.wait(10)
        sim.stdout.close()
        errors = sim.stderr.read()
        sim.stderr.close()
    assert sim.returncode == 0, errors
    assert "socket://127.0.0.1:" in errors and "«درگاه»" in errors


def test_cli_simulate_tcp_with_a_link_is_refused_in_persian(tmp_path):
    done = subprocess.run([sys.executable, "main.py", "callerid", "simulate", "--tcp", "--link", "/tmp/x", "--exit"],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "--link" in done.stderr and "Traceback" not in done.stderr


def test_cli_simulate_tcp_port_in_use_is_a_persian_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "main.py", "callerid", "simulate", "--tcp", "--tcp-port", str(port),
                               "--exit"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "--tcp-port 0" in done.stderr and "Traceback" not in done.stderr


def test_the_port_test_button_probes_a_modem_over_tcp():
    """Settings → «آزمایش این درگاه» (app.callerid.modem.probe) on a socket:// port: AT and ATI answered."""
    from app.callerid import modem

    with Simulator(SimulatorOptions(device="modem", chipset="conexant", transport="tcp")) as sim:
        text = modem.probe(sim.port, 57600)
    assert text.startswith("AT → ") and "OK" in text
    assert "CX93001" in text                         # the simulated Conexant's ATI answer
