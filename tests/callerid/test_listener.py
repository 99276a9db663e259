"""The Qt listener: the simulator rings on a real pty and the listener's signals carry the events and states."""
from __future__ import annotations

import os
import time

import pytest

from app import settings
from app.callerid import events as ev
from app.callerid import settings_keys as sk
from app.callerid import sources
from app.callerid.listener import CallerIdListener
from app.callerid.sources import SerialSource


class Recorder:
    def __init__(self, listener):
        self.events, self.states = [], []
        listener.event_received.connect(self.events.append)
        listener.state_changed.connect(lambda s, t: self.states.append((s, t)))

    def keys(self):
        return [s for s, _ in self.states]


def is_incoming(e):
    return e.kind == ev.INCOMING


def test_a_modem_rings_and_the_listener_emits_incoming(qtbot, sims, listeners):
    sim = sims(device="modem", chipset="usr", ring_period=5, cid_delay=0.05)
    lst = listeners(SerialSource(sim.path, init="modem"), "modem", idle_flush=0.3)
    rec = Recorder(lst)
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, t: s == sources.LISTENING) as b:
        lst.start()
    assert "در حال گوش دادن" in b.args[1] and "AT#CID=1" in b.args[1]     # the fallback command worked
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming) as blocker:
        sim.ring(None, "+982122514321")
    e = blocker.args[0]
    assert isinstance(e, ev.CallerIdEvent)
    assert (e.number, e.status, e.source) == ("+982122514321", ev.OK, "modem")
    assert lst.state == sources.LISTENING
    assert rec.keys()[0] == sources.LISTENING


def test_withheld_number(qtbot, sims, listeners):
    sim = sims(device="modem", cid_enabled=True, ring_period=5, cid_delay=0.0)
    lst = listeners(SerialSource(sim.path), "modem", idle_flush=0.2)
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming) as blocker:
        sim.ring(None, "P")
    assert blocker.args[0].status == ev.PRIVATE and blocker.args[0].number == ""


def test_a_box_reports_the_whole_call_on_its_lines(qtbot, sims, listeners):
    sim = sims(device="techno", lines=4, ring_period=10)
    lst = listeners(SerialSource(sim.path), "auto")
    rec = Recorder(lst)
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    qtbot.wait(100)
    sim.ring(2, "09121234567")
    sim.ring(3, "02122514321")
    sim.answer(2)
    sim.miss(3)
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=lambda e: e.kind == ev.HANGUP):
        sim.hangup(2)
    got = [(e.kind, e.line) for e in rec.events if e.kind != ev.DEVICE]
    assert got == [("incoming", 2), ("ring", 2), ("incoming", 3), ("ring", 3), ("answered", 2), ("missed", 3),
                   ("hangup", 2)]


def test_events_arrive_promptly_after_the_last_byte(qtbot, sims, listeners):
    """Box records end with a terminator: the event is emitted without waiting for the idle flush."""
    sim = sims(device="segal", lines=2, ring_period=30)
    lst = listeners(SerialSource(sim.path), "segal", idle_flush=5.0)
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    qtbot.wait(100)
    delays = []
    for i in range(20):
        with qtbot.waitSignal(lst.event_received, timeout=3000, check_params_cb=is_incoming):
            t_sent = sim.ring(1 + i % 2, f"0912123{i:04d}")
        delays.append(time.perf_counter() - t_sent)
        sim.miss(1 + i % 2)
    delays.sort()
    assert delays[len(delays) // 2] < 0.05, delays
    assert delays[-1] < 0.25, delays


def test_the_listener_recovers_when_the_pty_is_closed_and_reopened(qtbot, sims, listeners, tmp_path):
    link = str(tmp_path / "crm-modem")
    sim = sims(device="modem", chipset="conexant", link=link, ring_period=5, cid_delay=0.0)
    lst = listeners(SerialSource(link, init="modem"), "modem", idle_flush=0.2, backoff=(0.1, 0.2, 0.3))
    rec = Recorder(lst)
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming):
        sim.ring(None, "02122514321")

    # unplugged: the pty is closed and the link goes away with it
    with qtbot.waitSignal(lst.state_changed, timeout=5000,
                          check_params_cb=lambda s, t: s == sources.RECONNECTING) as b:
        sim.unplug()
    assert "قطع شد" in b.args[1]
    qtbot.waitUntil(lambda: lst.state == sources.NO_DEVICE, timeout=5000)
    assert "پیدا نشد" in lst.state_text

    # plugged back: a new pty, the link pointed at it; the listener finds it and re-initialises the modem
    with qtbot.waitSignal(lst.state_changed, timeout=5000,
                          check_params_cb=lambda s, t: s == sources.LISTENING):
        sim.plug()
    assert sim.at.cid_mode == 1                       # the new "modem" was initialised again
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming) as blocker:
        sim.ring(None, "09121234567")
    assert blocker.args[0].number == "09121234567"
    assert rec.keys().count(sources.LISTENING) == 2
    assert lst.is_running


def test_the_listener_recovers_when_the_pty_comes_back_at_the_same_path(qtbot, sims, listeners):
    sim = sims(device="segal", ring_period=30)
    path = sim.path
    lst = listeners(SerialSource(path), "segal", backoff=(0.1,))
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.state_changed, timeout=5000, check_params_cb=lambda s, t: s == sources.RECONNECTING):
        sim.unplug()
    # the kernel hands the lowest free /dev/pts number to the next pty: usually the same path again
    sim.plug()
    if sim.path != path:
        pytest.skip("the kernel gave the new pty another number; the symlink test covers that case")
    qtbot.waitUntil(lambda: lst.state == sources.LISTENING, timeout=5000)
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming):
        sim.ring(1, "09120000000")


def test_garbage_never_crashes_the_thread(qtbot, sims, listeners):
    sim = sims(device="yasna", lines=2, ring_period=30)
    lst = listeners(SerialSource(sim.path), "auto", idle_flush=0.1)
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    for _ in range(5):
        sim.write(os.urandom(700) + b"\r\n\x00\xff\xfe" * 50)
    qtbot.wait(300)
    assert lst.is_running and lst.state == sources.LISTENING
    lst.stop()
    # a fresh start of the same listener after garbage: auto-detection from scratch
    lst.start()
    qtbot.waitUntil(lambda: lst.state == sources.LISTENING, timeout=5000)
    with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming) as blocker:
        sim.ring(2, "09121234567")
    assert blocker.args[0].line == 2


def test_stop_is_clean_and_quick(qtbot, sims, listeners):
    sim = sims(device="modem", chipset="nocid")
    lst = listeners(SerialSource(sim.path, init="modem"), "modem")
    with qtbot.waitSignal(lst.state_changed, timeout=5000,
                          check_params_cb=lambda s, t: s == sources.LISTENING) as b:
        lst.start()
    assert "هیچ فرمان" in b.args[1]                  # no caller-ID command accepted: said in the status text
    with qtbot.waitSignal(lst.state_changed, timeout=2000, check_params_cb=lambda s, t: s == sources.STOPPED) as b:
        t0 = time.monotonic()
        assert lst.stop()
        assert time.monotonic() - t0 < 1.0
    assert b.args[1] == "شناسه تماس: خاموش"
    assert not lst.is_running
    # the port is released: another program can open it now
    other = SerialSource(sim.path)
    other.open()
    other.close()


def test_stop_during_a_slow_modem_init_is_still_quick(qtbot, sims, listeners):
    sim = sims(device="segal")              # silent to AT: each init command waits for its timeout
    lst = listeners(SerialSource(sim.path, init="modem"), "modem")
    lst.start()
    qtbot.wait(300)
    t0 = time.monotonic()
    assert lst.stop()
    assert time.monotonic() - t0 < 1.0


def test_a_port_held_by_another_program_shows_a_persian_state(qtbot, sims, listeners):
    import serial

    sim = sims(device="modem")
    other = serial.Serial(sim.path, exclusive=True)
    try:
        lst = listeners(SerialSource(sim.path), "modem", backoff=(0.2,))
        with qtbot.waitSignal(lst.state_changed, timeout=5000) as b:
            lst.start()
        assert b.args[0] == sources.ERROR
        assert "در اختیار برنامه دیگری است" in b.args[1]
    finally:
        other.close()
    qtbot.waitUntil(lambda: lst.state == sources.LISTENING, timeout=5000)     # freed: picked up by itself


def test_from_settings_without_a_port_says_so(qtbot, listeners):
    lst = listeners()
    lst.reload_settings(start=False)
    with qtbot.waitSignal(lst.state_changed, timeout=1000) as b:
        lst.start()
    assert b.args[0] == sources.NO_DEVICE and "درگاهی" in b.args[1]
    assert not lst.is_running


def test_from_settings_disabled(qtbot, listeners):
    settings.set(sk.ENABLED, False)
    lst = CallerIdListener.from_settings()
    with qtbot.waitSignal(lst.state_changed, timeout=1000) as b:
        lst.start()
    assert b.args[0] == sources.STOPPED and "خاموش" in b.args[1]


def test_from_settings_with_the_simulator_link(qtbot, sims, tmp_path):
    link = str(tmp_path / "crm-modem")
    sim = sims(device="segal", lines=4, link=link, ring_period=30)
    settings.set(sk.DEVICE, "segal")
    settings.set(sk.PORT, link)
    settings.set(sk.BAUD, 19200)
    lst = CallerIdListener.from_settings()
    try:
        assert isinstance(lst.source, SerialSource) and lst.source.baud == 19200 and lst.source.init is None
        with qtbot.waitSignal(lst.state_changed, timeout=5000):
            lst.start()
        with qtbot.waitSignal(lst.event_received, timeout=5000, check_params_cb=is_incoming) as blocker:
            sim.ring(4, "09121234567")
        assert blocker.args[0].line == 4 and blocker.args[0].source == "segal"
    finally:
        lst.stop()


def test_dial_through_the_listeners_open_port(qtbot, sims, listeners):
    sim = sims(device="modem", chipset="conexant")
    lst = listeners(SerialSource(sim.path, init="modem"), "modem")
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.dial_finished, timeout=5000) as b:
        lst.dial("09121234567", release_after=5)
        qtbot.wait(200)
        lst.picked_up()
    ok, msg = b.args
    assert ok and "گرفته شد" in msg
    assert "ATDT09121234567;" in sim.at.history and sim.at.history[-1] == "ATH"
    with qtbot.waitSignal(lst.probe_finished, timeout=5000) as b:
        lst.probe()
    assert b.args[0] and "CX93001" in b.args[1]


def test_dial_refused_by_the_modem(qtbot, sims, listeners):
    sim = sims(device="modem", dial_result="NO DIALTONE")
    lst = listeners(SerialSource(sim.path), "modem")
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.dial_finished, timeout=5000) as b:
        lst.dial("09121234567", release_after=0.1)
    ok, message = b.args
    assert ok is False and "بوق آزاد" in message


def test_dial_on_a_box_is_refused_politely(qtbot, sims, listeners):
    sim = sims(device="segal")
    lst = listeners(SerialSource(sim.path), "segal")
    with qtbot.waitSignal(lst.state_changed, timeout=5000):
        lst.start()
    with qtbot.waitSignal(lst.dial_finished, timeout=1000) as b:
        lst.dial("09121234567")
    assert b.args[0] is False and "شماره‌گیری ندارد" in b.args[1]


def test_line_labels():
    assert sk.line_label(None) == ""
    assert sk.line_label(2) == "خط ۲"
    assert sk.split_commands("AT+VCID=1|AT+FCLASS=8;+VCID=1\nAT$JSCID=4,1") == [
        "AT+VCID=1", "AT+FCLASS=8;+VCID=1", "AT$JSCID=4,1"]
    assert sk.parse_host_port("192.168.1.5") == ("192.168.1.5", 3333)
    assert sk.parse_host_port("[::1]:4000") == ("::1", 4000)


def test_signal_emits_do_not_drain_the_reference_count_of_true(qtbot, listeners):
    """PySide6 6.12.0 on Python 3.11 took a reference from True on every emit (the process aborts after a
    few thousand: "Fatal Python error: bool_dealloc"); importing the listener installs the fix."""
    import sys

    from app.callerid.listener import fix_signal_emit_refcount

    fix_signal_emit_refcount()
    lst = listeners()
    got = []
    lst.event_received.connect(got.append)
    before = sys.getrefcount(True)
    for i in range(20000):
        lst.event_received.emit(i)
    assert len(got) == 20000
    assert abs(sys.getrefcount(True) - before) < 50
