"""SerialSource and the Pump on a real pseudo-terminal: reads, busy/missing ports, idle flush, recovery."""
from __future__ import annotations

import errno
import os
import threading
import time
import tty

import pytest
import serial

from app.callerid import events as ev
from app.callerid import sources
from app.callerid.simulator import (
    Simulator,
    SimulatorOptions,
    modem_cid,
    modem_ring,
    segal_caller,
    segal_ring,
)
from app.callerid.sources import Pump, SerialSource, SourceLost, SourceUnavailable
from app.core.errors import UserError


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    yield master, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


class Collector:
    def __init__(self):
        self.events: list[ev.CallerIdEvent] = []
        self.states: list[tuple[str, str]] = []
        self.times: list[float] = []
        self.cond = threading.Condition()

    def on_event(self, e):
        with self.cond:
            self.events.append(e)
            self.times.append(time.perf_counter())
            self.cond.notify_all()

    def on_state(self, state, text):
        with self.cond:
            self.states.append((state, text))
            self.cond.notify_all()

    def wait(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def incoming(self):
        return [e for e in self.events if e.kind == ev.INCOMING]

    def state_keys(self):
        return [s for s, _ in self.states]


def run_pump(pump):
    stop = threading.Event()
    t = threading.Thread(target=pump.run, args=(stop,), daemon=True)
    t.start()
    return stop, t


def test_reads_bytes_from_a_pty_as_soon_as_they_arrive(pty_pair):
    master, path = pty_pair
    src = SerialSource(path, 57600)
    src.open()
    try:
        os.write(master, b"L1C09121234567@")
        t0 = time.perf_counter()
        data = b""
        while not data.endswith(b"@"):
            data += src.read()
        assert data == b"L1C09121234567@"
        assert time.perf_counter() - t0 < 0.03          # no poll-interval wait when bytes are there
        src.write(b"AT\r")
        time.sleep(0.02)
        assert os.read(master, 100) == b"AT\r"
    finally:
        src.close()
    assert not src.is_open


def test_a_port_held_by_another_program_gives_a_persian_message(pty_pair):
    _master, path = pty_pair
    other = serial.Serial(path, 57600, exclusive=True)      # another program holds the port, locked
    try:
        src = SerialSource(path)
        with pytest.raises(UserError) as exc:
            src.open()
        assert "در اختیار برنامه دیگری است" in exc.value.message
        assert exc.value.state == sources.ERROR
        assert "Traceback" not in exc.value.message
    finally:
        other.close()


def test_a_missing_port_is_no_device_in_persian(tmp_path):
    src = SerialSource(str(tmp_path / "ttyACM9"))
    with pytest.raises(SourceUnavailable) as exc:
        src.open()
    assert exc.value.state == sources.NO_DEVICE
    assert "پیدا نشد" in exc.value.message


def test_no_port_chosen_is_a_clear_message():
    with pytest.raises(SourceUnavailable) as exc:
        SerialSource("  ")
    assert "درگاهی" in exc.value.message


@pytest.mark.parametrize("exc, needle, state", [
    (serial.SerialException(errno.EACCES, "could not open port /dev/ttyS0: [Errno 13] Permission denied: '/dev/ttyS0'"),
     "dialout", sources.ERROR),
    (serial.SerialException("could not open port 'COM3': PermissionError(13, 'Access is denied.', None, 5)"),
     "برنامه دیگری", sources.ERROR),
    (serial.SerialException(errno.EBUSY, "could not open port /dev/ttyACM0: [Errno 16] Device or resource busy"),
     "برنامه دیگری", sources.ERROR),
    (serial.SerialException("could not open port 'COM7': FileNotFoundError(2, 'The system cannot find the file "
                            "specified.', None, 2)"), "پیدا نشد", sources.NO_DEVICE),
])
def test_open_errors_of_every_os_map_to_persian(exc, needle, state):
    err = sources.serial_open_error("PORT", exc)
    assert needle in err.message
    assert err.state == state
    assert "«PORT»" in err.message


def test_a_permission_denied_port_really_opened(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may open any file; the message mapping is covered above")
    p = tmp_path / "ttyS9"
    p.write_bytes(b"")
    p.chmod(0)
    with pytest.raises(SourceUnavailable) as exc:
        SerialSource(str(p)).open()
    assert "اجازه دسترسی" in exc.value.message


def test_the_lost_device_raises_source_lost(pty_pair):
    master, path = pty_pair
    src = SerialSource(path)
    src.open()
    os.close(master)
    with pytest.raises(SourceLost):
        for _ in range(5):
            src.read()
    src.close()


def test_list_ports_includes_the_simulator_link(tmp_path):
    link = tmp_path / "crm-modem"
    with Simulator(SimulatorOptions(device="segal", link=str(link))):
        ports = sources.list_ports(extra=(str(link),))
        assert str(link) in [p.device for p in ports]


# --- the pump ------------------------------------------------------------------------------------------
def test_pump_emits_box_events_at_once_and_modem_calls_on_idle_flush(pty_pair):
    master, path = pty_pair
    col = Collector()
    pump = Pump(SerialSource(path), "auto", on_event=col.on_event, on_state=col.on_state, idle_flush=0.3)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.state_keys())
        # a Segal record: complete at its "@", so the event comes at once (no idle wait)
        os.write(master, segal_caller(2, "09121234567") + segal_ring(2, 1))
        sent = time.perf_counter()
        assert col.wait(lambda: col.incoming())
        assert col.incoming()[0].number == "09121234567" and col.incoming()[0].line == 2
        assert col.times[0] - sent < 0.15
    finally:
        stop.set()
        t.join(2)
    assert not t.is_alive()
    assert col.states[-1][0] == sources.STOPPED


def test_modem_number_without_name_comes_after_the_idle_time(pty_pair):
    master, path = pty_pair
    col = Collector()
    pump = Pump(SerialSource(path), "modem", on_event=col.on_event, on_state=col.on_state, idle_flush=0.3)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.state_keys())
        os.write(master, modem_ring() + modem_cid("02122514321"))
        sent = time.perf_counter()
        assert col.wait(lambda: col.incoming(), timeout=3)
        delay = col.times[col.events.index(col.incoming()[0])] - sent
        assert 0.25 <= delay < 0.6, delay          # flushed ~idle_flush after the last byte, not at the next RING
        assert col.incoming()[0].number == "02122514321"
    finally:
        stop.set()
        t.join(2)


def test_garbage_does_not_stop_the_pump(pty_pair):
    master, path = pty_pair
    col = Collector()
    pump = Pump(SerialSource(path), "segal", on_event=col.on_event, on_state=col.on_state, idle_flush=0.1)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.state_keys())
        os.write(master, bytes(range(256)) * 4 + b"\xff\xfe@@@L9Z@" + os.urandom(500))
        time.sleep(0.3)
        os.write(master, b"@L1C02188776655@")
        assert col.wait(lambda: any(e.number == "02188776655" for e in col.incoming()))
        assert t.is_alive()
    finally:
        stop.set()
        t.join(2)


def test_a_failing_event_callback_is_logged_not_fatal(pty_pair):
    master, path = pty_pair
    got = []

    def on_event(e):
        got.append(e)
        if len(got) == 1:
            raise RuntimeError("observer bug")

    pump = Pump(SerialSource(path), "segal", on_event=on_event, idle_flush=0.1)
    stop, t = run_pump(pump)
    try:
        time.sleep(0.2)
        os.write(master, segal_caller(1, "09121111111"))
        os.write(master, segal_caller(3, "09122222222"))
        deadline = time.monotonic() + 3
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e.number for e in got][:2] == ["09121111111", "09122222222"]
    finally:
        stop.set()
        t.join(2)


def test_pump_recovers_when_the_pty_is_closed_and_reopened_behind_a_symlink(tmp_path):
    link = str(tmp_path / "crm-modem")
    sim = Simulator(SimulatorOptions(device="segal", lines=2, link=link)).start()
    col = Collector()
    pump = Pump(SerialSource(link), "segal", on_event=col.on_event, on_state=col.on_state,
                idle_flush=0.2, backoff=(0.1, 0.2))
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.state_keys())
        sim.ring(1, "09121234567")
        assert col.wait(lambda: len(col.incoming()) == 1)
        sim.unplug()                                # the USB cable pulled: pty gone, link gone
        assert col.wait(lambda: sources.RECONNECTING in col.state_keys())
        assert col.wait(lambda: sources.NO_DEVICE in col.state_keys())
        n_listening = col.state_keys().count(sources.LISTENING)
        # a second pty held open meanwhile, so the new one gets another /dev/pts number
        blocker = os.openpty()
        try:
            sim.plug()                              # plugged back: a new pty, the link points to it
            assert col.wait(lambda: col.state_keys().count(sources.LISTENING) > n_listening, timeout=5)
            sim.ring(2, "02122514321")
            assert col.wait(lambda: len(col.incoming()) == 2)
        finally:
            for fd in blocker:
                os.close(fd)
        assert col.incoming()[1].number == "02122514321" and col.incoming()[1].line == 2
        assert t.is_alive()
    finally:
        stop.set()
        t.join(2)
        sim.close()
    assert not t.is_alive()


def test_pump_stops_within_a_second_even_while_the_device_is_missing(tmp_path):
    col = Collector()
    pump = Pump(SerialSource(str(tmp_path / "nothing")), "modem", on_event=col.on_event, on_state=col.on_state,
                backoff=(30.0,))
    stop, t = run_pump(pump)
    assert col.wait(lambda: sources.NO_DEVICE in col.state_keys())
    assert "پیدا نشد" in col.states[-1][1]
    t0 = time.monotonic()
    stop.set()
    t.join(2)
    assert not t.is_alive() and time.monotonic() - t0 < 1.0


def test_submit_runs_on_the_pump_thread_between_reads(pty_pair):
    _master, path = pty_pair
    col = Collector()
    pump = Pump(SerialSource(path), "segal", on_event=col.on_event, on_state=col.on_state)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.state_keys())
        fut = pump.submit(lambda src: (threading.current_thread() is t, src.is_open))
        assert fut.result(2) == (True, True)
    finally:
        stop.set()
        t.join(2)
    fut = pump.submit(lambda src: 1)
    with pytest.raises(UserError):
        fut.result(1)
