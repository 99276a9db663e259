"""Fifty rung-out calls on a four-line box, with random timing, through the real chain: simulator on a pty →
listener thread → decoder → lifecycle → popup (GUI thread) → the one writer. Every call is logged exactly
once and is missed exactly once, whatever the timing; every call has one popup, shown while it rang; a
customer created from a popup mid-call owns the call row at the end.

The box (Oj Segal) never says "missed": the lifecycle's ring timeout alone decides (the decoder's own timeout
used to send a second, late MISSED that opened a new call and a second red popup)."""
from __future__ import annotations

import random
import time

import pytest
from PySide6.QtCore import QTimer

from app import settings
from app.callerid import settings_keys as sk
from app.callerid.simulator import Simulator, SimulatorOptions
from app.calls import log as call_log
from app.customers import service as customers
from models.calls import Call
from models.core import Activity
from tests.e2e.rigs import listening_controller

RING_PERIOD = 0.4          # seconds between rings (real lines: 4–5 s)
RING_TIMEOUT = 1.2         # the lifecycle's: must exceed the ring period
CALLS = 50
LINES = 4


@pytest.fixture
def office(qapp, db):
    settings.set("office.area_code", "021")
    settings.set(sk.POPUP_ON_HANGUP, "close")
    known = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["021-22514321"]})
    return known


def test_fifty_rung_out_calls_are_each_logged_and_missed_once(office, tmp_path, qtbot):
    known = office
    sim = Simulator(SimulatorOptions(device="segal", lines=LINES, ring_period=RING_PERIOD, max_rings=60,
                                     link=str(tmp_path / "segal-port"))).start()
    # the decoder's own quiet-line timeout shorter than the lifecycle's, as in the field report: it must not
    # matter any more (the decoder reports nothing on a timeout)
    try:
        ctrl, _states = listening_controller(qtbot, sim, "segal", RING_TIMEOUT, decoder_options={"ring_timeout": 1.0})
    except BaseException:
        sim.close()
        raise
    ctrl._timer.setInterval(100)
    try:

        shows: list[tuple[str, bool]] = []        # (call key, was the call already over when shown)
        finals: dict[str, float] = {}
        ctrl.call_changed.connect(lambda v: finals.setdefault(v.key, time.monotonic()) if v.final else None)

        def on_shown(key: str) -> None:
            p = ctrl.stack.popup_for(key)
            shows.append((key, p.view.final))
            if p.view.number == NEW_NUMBER and not created:
                # «مشتری جدید» on this popup, mid-call: the form saves a customer with the number
                c = customers.create_customer({"first_name": "رضا", "last_name": "نوری", "phones": [NEW_NUMBER]})
                created.append(c.id)
                ctrl.ctx.bus.customer_changed.emit(c.id)

        created: list[int] = []
        ctrl.stack.shown.connect(on_shown)
        rng = random.Random(1411)
        numbers = [f"0935{rng.randrange(10**7):07d}" for _ in range(CALLS)]
        numbers[7] = "22514321"                   # a known customer, without the area code
        NEW_NUMBER = numbers[23] = "09357778899"  # the caller who becomes a customer mid-call
        free_at = dict.fromkeys(range(1, LINES + 1), 0.0)
        for number in numbers:
            qtbot.wait(int(rng.uniform(0.05, 0.5) * 1000))
            while True:
                now = time.monotonic()
                free = [ln for ln, t in free_at.items() if t <= now]
                if free:
                    break
                qtbot.wait(50)
            line = rng.choice(free)
            ring_for = rng.uniform(0.2, 1.6)
            sim.ring(line, number)
            QTimer.singleShot(int(ring_for * 1000), lambda ln=line: sim.miss(ln))
            # the line is free again once the lifecycle has closed the call (ring timeout after the last ring)
            free_at[line] = time.monotonic() + ring_for + RING_TIMEOUT + 0.6

        qtbot.waitUntil(lambda: Call.select().where(Call.state == "ringing").count() == 0
                        and not ctrl.service.live_calls() and ctrl.pending == 0, timeout=20000)
        qtbot.wait(2500)                          # long enough for any straggler (the old late MISSED came ~8 s
        qtbot.waitUntil(lambda: ctrl.pending == 0, timeout=5000)     # after; the decoder's timeout here is 1 s)

        rows = list(Call.select().order_by(Call.started_at, Call.id))
        assert len(rows) == CALLS, [(r.line, r.number, r.state) for r in rows]
        assert sorted(r.number_raw for r in rows) == sorted(numbers)
        assert all(r.state == "missed" and r.result == "no_answer" for r in rows)
        assert len(call_log.missed_call_ids()) == CALLS
        assert Activity.select().where(Activity.kind == "call_missed").count() == CALLS
        assert Activity.select().where(Activity.ref_table == "call").count() == CALLS
        # one popup per call, none for a call already over
        assert len(shows) == CALLS and len({k for k, _ in shows}) == CALLS
        assert not any(over for _k, over in shows)
        # the known caller and the customer created mid-call own their rows
        assert Call.get(Call.number_raw == "22514321").customer_id == known.id
        [new_id] = created
        assert Call.get(Call.number == NEW_NUMBER).customer_id == new_id
        assert Activity.get(Activity.ref_table == "call", Activity.customer == new_id).kind == "call_missed"
    finally:
        ctrl.stop()
        sim.close()
        qtbot.waitUntil(lambda: ctrl.pending == 0, timeout=5000)
