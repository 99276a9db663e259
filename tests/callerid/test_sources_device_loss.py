"""The device lost mid-call and back again, on real pseudo-terminals: the Pump says so (DEVICE lost / back) and
no record sent right after the device returns is lost."""
from __future__ import annotations

import os
import threading
import time
import tty

from app.callerid import events as ev
from app.callerid import sources
from app.callerid.simulator import Simulator, SimulatorOptions, segal_caller, segal_lift, segal_ring
from app.callerid.sources import Pump, SerialSource


class Collector:
    def __init__(self):
        self.events: list[ev.CallerIdEvent] = []
        self.times: list[float] = []
        self.states: list[str] = []
        self.cond = threading.Condition()

    def on_event(self, e):
        with self.cond:
            self.events.append(e)
            self.times.append(time.perf_counter())
            self.cond.notify_all()

    def on_state(self, state, _text):
        with self.cond:
            self.states.append(state)
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

    def device(self, what):
        return [e for e in self.events if e.kind == ev.DEVICE and e.extra.get("device") == what]

    def incoming(self):
        return [e for e in self.events if e.kind == ev.INCOMING]


def run_pump(pump):
    stop = threading.Event()
    t = threading.Thread(target=pump.run, args=(stop,), daemon=True)
    t.start()
    return stop, t


def test_closing_the_pty_mid_call_emits_device_lost():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    col = Collector()
    pump = Pump(SerialSource(path), "segal", on_event=col.on_event, on_state=col.on_state)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.states)
        os.write(master, segal_caller(1, "09121234567") + segal_ring(1, 1) + segal_lift(1))
        assert col.wait(lambda: any(e.kind == ev.ANSWERED for e in col.events))
        assert col.device("lost") == []
        os.close(slave)
        os.close(master)                      # the cable pulled in the middle of the call
        assert col.wait(lambda: col.device("lost"), timeout=3)
        lost = col.device("lost")
        assert len(lost) == 1
        assert lost[0].source == "segal"
        # the call's own events came first, the loss after them
        assert col.events.index(lost[0]) > max(i for i, e in enumerate(col.events) if e.kind == ev.ANSWERED)
        assert t.is_alive()
    finally:
        stop.set()
        t.join(3)
    assert not t.is_alive()
    assert len(col.device("lost")) == 1 and col.device("back") == []     # stopping is not a loss


def test_device_back_is_reported_and_a_record_sent_at_once_is_decoded(tmp_path):
    link = str(tmp_path / "crm-box")
    sim = Simulator(SimulatorOptions(device="segal", lines=2, link=link)).start()
    col = Collector()
    # The default back-off, as the desk runs it.
    pump = Pump(SerialSource(link), "auto", on_event=col.on_event, on_state=col.on_state)
    stop, t = run_pump(pump)
    try:
        assert col.wait(lambda: sources.LISTENING in col.states)
        sim.write(segal_caller(1, "09121234567") + segal_lift(1))
        assert col.wait(lambda: len(col.incoming()) == 1)
        sim.unplug()
        assert col.wait(lambda: col.device("lost"))
        assert col.device("lost")[0].source == "segal"       # the protocol auto-detection had found
        time.sleep(3.8)                                      # gone long enough for the back-off to grow
        sim.plug()
        sent = sim.write(segal_caller(2, "02122514321"))     # the first thing the box says once back
        assert col.wait(lambda: len(col.incoming()) == 2, timeout=3), col.events
        call = col.incoming()[1]
        assert (call.number, call.line) == ("02122514321", 2)
        # reopened within the fast re-poll, not after a back-off grown to seconds
        assert col.times[col.events.index(call)] - sent < 1.0
        back = col.device("back")
        assert len(back) == 1 and back[0].source == "segal"
        assert col.events.index(back[0]) < col.events.index(col.incoming()[1])
        assert len(col.device("lost")) == 1
    finally:
        stop.set()
        t.join(3)
        sim.close()
    assert not t.is_alive()
