"""The caller-ID bench's 8-line failure, through the real chain: an Oj Segal box on a pty → listener → decoder →
lifecycle → popup → the one writer.

The box never says a call rang out, so the decoder still holds a line's ring cycle for its own quiet time (8 s)
after the program has closed the call (here: every call closed at once, as the bench does between rounds). When
the same caller rings that line again within that time, the decoder takes the caller-ID record for a repeat and
reports only the ring; the call opened by that ring must still carry the number and show its popup. A different
caller next makes the decoder report the previous caller's call as missed (already closed: dropped) before the
new caller's number: one popup, the new caller's."""
from __future__ import annotations

import pytest

from app import settings
from app.callerid.simulator import Simulator, SimulatorOptions
from app.customers import service as customers
from models.calls import Call
from tests.e2e.rigs import listening_controller


@pytest.fixture
def office(qapp, db):
    settings.set("office.area_code", "021")
    return customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09121234567"]})


def test_the_same_caller_ringing_a_line_again_after_every_call_was_closed_gets_a_popup(office, tmp_path, qtbot):
    sim = Simulator(SimulatorOptions(device="segal", lines=2, ring_period=120.0, max_rings=2,
                                     link=str(tmp_path / "segal-port"))).start()
    try:
        ctrl, _states = listening_controller(qtbot, sim, "segal", 30)
    except BaseException:
        sim.close()
        raise
    shown: list[str] = []
    ctrl.stack.shown.connect(shown.append)
    try:
        assert sim.wait_for_client(5)

        def ring(number: str) -> str:
            before = len(shown)
            sim.ring(2, number)
            qtbot.waitUntil(lambda: len(shown) > before, timeout=3000)
            [key] = shown[before:]
            popup = ctrl.stack.popup_for(key)
            assert popup is not None and popup.view.number_raw == number and popup.view.customer_id == \
                (office.id if number == "09121234567" else None)
            sim.miss(2)                               # the box says nothing
            ctrl.service.close_all()                  # the program closes every call (the bench between rounds)
            ctrl.stack.clear()
            return key

        first = ring("09121234567")
        again = ring("09121234567")                   # within the decoder's 8 s: it reports the ring only
        other = ring("09350001122")                   # the decoder: MISSED (the closed call) + the new caller
        assert len({first, again, other}) == 3
        qtbot.waitUntil(lambda: ctrl.pending == 0 and Call.select().count() == 3, timeout=5000)
        rows = [(r.line, r.number_raw, r.customer_id) for r in Call.select().order_by(Call.id)]
        assert rows == [(2, "09121234567", office.id), (2, "09121234567", office.id), (2, "09350001122", None)]
    finally:
        ctrl.stop()
        sim.close()
        qtbot.waitUntil(lambda: ctrl.pending == 0, timeout=5000)
