"""A serial port or pty read on the GUI thread (the worker lends the open port: sources.ReadSession, read through a
QSocketNotifier by listener._LentReader): events come from the GUI thread itself, records split over reads and
garbage between them decode as before, a closed pty or an unplugged device is reopened, dialling takes the port
back and lends it again, stop() lets go of the descriptor first. On real ptys."""
from __future__ import annotations

import os
import threading
import time

from app.callerid import events as ev
from app.callerid import sources
from app.callerid.simulator import segal_caller, segal_ring
from app.callerid.sources import SerialSource


class Recorder:
    def __init__(self, listener):
        self.events: list[ev.CallerIdEvent] = []
        self.threads: list[threading.Thread] = []
        self.states: list[str] = []
        listener.event_received.connect(self._event)
        listener.state_changed.connect(lambda s, _t: self.states.append(s))

    def _event(self, e):
        self.events.append(e)
        self.threads.append(threading.current_thread())

    def incoming(self):
        return [e for e in self.events if e.kind == ev.INCOMING]

    def device(self, what):
        return [e for e in self.events if e.kind == ev.DEVICE and e.extra.get("device") == what]


def listening(qtbot, lst):
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.LISTENING):
        lst.start()
    qtbot.waitUntil(lambda: lst._reader is not None, timeout=2000)      # the port is lent to the GUI thread


def test_events_come_from_the_gui_thread_reading_the_port(qtbot, sims, listeners):
    sim = sims(device="segal", lines=2, ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal", idle_flush=5.0)
    rec = Recorder(lst)
    listening(qtbot, lst)
    for i in range(5):
        with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING):
            sim.ring(1 + i % 2, f"0912123{i:04d}")
        sim.miss(1 + i % 2)
    assert [e.number for e in rec.incoming()] == [f"0912123{i:04d}" for i in range(5)]
    assert all(t is threading.main_thread() for t in rec.threads)
    assert lst._pump.events_seen >= 5
    assert lst._reader is not None and not lst._reader.closed


def test_a_record_split_over_many_reads_and_garbage_between_records(qtbot, sims, listeners):
    sim = sims(device="segal", lines=4, ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal", idle_flush=5.0)
    rec = Recorder(lst)
    listening(qtbot, lst)
    record = segal_caller(3, "02122514321") + segal_ring(3, 1)
    for i in range(0, len(record), 3):             # three bytes at a time, each its own read
        sim.write(record[i:i + 3])
        qtbot.wait(15)
    qtbot.waitUntil(lambda: len(rec.incoming()) == 1, timeout=3000)
    assert (rec.incoming()[0].line, rec.incoming()[0].number) == (3, "02122514321")
    sim.write(b"\x00\xff\xfeL9Q@@@" + os.urandom(300).replace(b"@", b"") + b"\r\nL?C12@\r\n")
    qtbot.wait(100)
    sim.write(segal_caller(2, "09121234567"))
    qtbot.waitUntil(lambda: len(rec.incoming()) == 2, timeout=3000)
    assert (rec.incoming()[1].line, rec.incoming()[1].number) == (2, "09121234567")
    assert lst.state == sources.LISTENING and lst._reader is not None


def test_a_modem_call_without_a_name_is_completed_by_the_idle_flush(qtbot, sims, listeners):
    sim = sims(device="modem", ring_period=30)
    lst = listeners(SerialSource(sim.path), "modem", idle_flush=0.2)
    rec = Recorder(lst)
    listening(qtbot, lst)
    sim.write(b"\r\nDATE = 1124\r\nTIME = 1000\r\nNMBR = 09121234567\r\n")
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: len(rec.incoming()) == 1, timeout=3000)
    assert time.monotonic() - t0 >= 0.15                      # not before the line went quiet
    assert rec.incoming()[0].number == "09121234567"
    assert threading.current_thread() is rec.threads[0]


def test_the_pty_closed_and_back_while_the_gui_thread_reads_it(qtbot, sims, listeners, tmp_path):
    link = str(tmp_path / "crm-box")
    sim = sims(device="segal", lines=2, link=link, ring_period=30)
    lst = listeners(SerialSource(link), "segal", idle_flush=5.0, backoff=(0.1,))
    rec = Recorder(lst)
    listening(qtbot, lst)
    first = lst._reader
    sim.write(segal_caller(1, "09121234567")[:7])    # half a record when the cable goes
    qtbot.wait(50)
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.RECONNECTING):
        sim.unplug()
    assert first.closed and lst._reader is None
    qtbot.waitUntil(lambda: len(rec.device("lost")) == 1, timeout=3000)
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.LISTENING):
        sim.plug()
    qtbot.waitUntil(lambda: lst._reader is not None, timeout=3000)
    assert lst._reader is not first
    with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING) as b:
        sim.ring(2, "09120000000")
    assert (b.args[0].line, b.args[0].number) == (2, "09120000000")
    assert len(rec.device("back")) == 1
    assert [e.number for e in rec.incoming()] == ["09120000000"]      # the half record made no call
    kinds = [e.kind for e in rec.events]
    assert kinds.index(ev.DEVICE) < kinds.index(ev.INCOMING)


def test_the_device_unplugged_for_good_leaves_the_listener_looking(qtbot, sims, listeners):
    sim = sims(device="segal", ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal", backoff=(0.1,))
    listening(qtbot, lst)
    sim.unplug()
    qtbot.waitUntil(lambda: lst.state in (sources.RECONNECTING, sources.NO_DEVICE), timeout=5000)
    qtbot.wait(300)                                  # the event loop keeps turning: no notifier on a dead descriptor
    assert lst._reader is None and lst.is_running
    t0 = time.monotonic()
    assert lst.stop()
    assert time.monotonic() - t0 < 1.0


def test_dialling_takes_the_port_back_and_lends_it_again(qtbot, sims, listeners):
    sim = sims(device="modem", chipset="conexant", ring_period=30)
    lst = listeners(SerialSource(sim.path, init="modem"), "modem", idle_flush=0.2)
    rec = Recorder(lst)
    listening(qtbot, lst)
    before = lst._reader
    with qtbot.waitSignal(lst.dial_finished, timeout=5000) as b:
        lst.dial("09121234567", release_after=0.2)
    assert b.args[0] and "ATDT09121234567;" in sim.at.history
    assert before.closed
    qtbot.waitUntil(lambda: lst._reader is not None and lst._reader is not before, timeout=3000)
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=lambda e: e.kind == ev.INCOMING) as got:
        sim.ring(None, "02122514321", "CUSTOMER")
    assert got.args[0].number == "02122514321"
    assert rec.threads[-1] is threading.main_thread()


def test_stop_lets_go_of_the_port_quickly(qtbot, sims, listeners):
    sim = sims(device="segal", ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal")
    listening(qtbot, lst)
    reader = lst._reader
    t0 = time.monotonic()
    assert lst.stop()
    assert time.monotonic() - t0 < 1.0
    assert reader.closed and lst._reader is None and not lst.is_running
    qtbot.wait(100)
    other = SerialSource(sim.path)                   # released: another program can open it
    other.open()
    other.close()
    listening(qtbot, lst)                             # and started again, lent again
    with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING):
        sim.ring(1, "09121112233")


def test_reading_on_the_worker_thread_when_asked(qtbot, sims, listeners):
    sim = sims(device="segal", lines=2, ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal", read_on_gui_thread=False)
    rec = Recorder(lst)
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.LISTENING):
        lst.start()
    with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING) as b:
        sim.ring(2, "09121234567")
    assert b.args[0].number == "09121234567"
    assert lst._reader is None
    assert rec.threads[0] is threading.main_thread()     # re-emitted on the GUI thread all the same


def test_a_socket_port_is_read_on_the_gui_thread_and_reconnected_when_dropped(qtbot, sims, listeners):
    """A serial-to-Ethernet converter (socket://host:port, here the simulator over TCP) is lent to the GUI
    thread like a serial port on POSIX: its calls come from the GUI thread, and a converter that goes away and
    comes back at the same address is connected to again and read on the GUI thread once more."""
    sim = sims(device="segal", lines=2, ring_period=30, transport="tcp")
    lst = listeners(SerialSource(sim.port), "segal", idle_flush=5.0, backoff=(0.1,))
    rec = Recorder(lst)
    listening(qtbot, lst)
    assert sim.wait_for_client(5.0)
    first = lst._reader
    with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING):
        sim.ring(1, "09121234567")
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.RECONNECTING):
        sim.unplug()
    assert first.closed
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, _t: s == sources.LISTENING):
        sim.plug()
    qtbot.waitUntil(lambda: lst._reader is not None and lst._reader is not first, timeout=3000)
    assert sim.wait_for_client(5.0)
    with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=lambda e: e.kind == ev.INCOMING):
        sim.ring(2, "09351112233")
    assert [(e.line, e.number) for e in rec.incoming()] == [(1, "09121234567"), (2, "09351112233")]
    assert all(t is threading.main_thread() for t in rec.threads)
