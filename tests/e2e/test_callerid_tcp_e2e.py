"""End to end over TCP, as a newcomer on Windows would try it: the simulator listening on socket://127.0.0.1:N
(no pty) → SerialSource opening that URL through pyserial → listener thread → decoder → service → the real GUI
controller and popup (offscreen), with the call log and timeline in a real SQLite file."""
from __future__ import annotations

import pytest

from app import settings
from app.callerid import settings_keys as sk
from app.callerid.simulator import Simulator, SimulatorOptions
from app.customers import service as customers
from models.calls import Call
from models.core import Activity
from tests.e2e.rigs import listening_controller, popup_named

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def office(qapp, db):
    settings.set("office.area_code", "021")
    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی")
    settings.set(sk.POPUP_ON_HANGUP, "dim")
    return customers.create_customer({"first_name": "مریم", "last_name": "کریمی", "company": "پخش کریمی",
                                      "phones": ["0912 280 0039"]})


@pytest.fixture
def tcp_rig(office, qtbot):
    sim = Simulator(SimulatorOptions(device="yasna", lines=2, transport="tcp", ring_period=1.0,
                                     max_rings=60)).start()
    try:
        ctrl, states = listening_controller(qtbot, sim, "yasna", 2.5)
    except BaseException:
        sim.close()
        raise
    try:
        assert sim.wait_for_client(5.0)
        yield sim, ctrl, states
    finally:
        ctrl.stop()
        sim.close()


def test_tcp_simulator_drives_the_popup_and_the_call_log(tcp_rig, office, qtbot):
    sim, ctrl, states = tcp_rig
    karimi = office
    assert sim.port.startswith("socket://127.0.0.1:")

    sim.ring(2, "+989122800039")
    qtbot.waitUntil(lambda: popup_named(ctrl, "مریم کریمی") is not None, timeout=5000)
    p = popup_named(ctrl, "مریم کریمی")
    assert p.isVisible() and p.line_label.text() == "خط پشتیبانی"
    assert p.field_values["شرکت"].text().lstrip("\u200f") == "پخش کریمی"
    sim.answer(2)
    qtbot.waitUntil(lambda: p.view.state == "answered", timeout=3000)
    sim.hangup(2, 65)
    qtbot.waitUntil(lambda: p.view.final, timeout=5000)
    qtbot.waitUntil(lambda: ctrl.pending == 0 and bool(p.view.call_id), timeout=5000)
    call = Call.get_by_id(p.view.call_id)
    assert (call.state, call.line, call.customer_id, call.source) == ("ended", 2, karimi.id, "yasna")
    assert call.duration == 65
    assert Activity.select().where(Activity.customer == karimi.id, Activity.kind == "call_in").count() == 1

    # an unknown number on line 1: its own popup, offering to make a customer of it
    sim.ring(1, "02166595961")
    qtbot.waitUntil(lambda: popup_named(ctrl, "شماره ناشناس") is not None, timeout=5000)
    assert "new" in popup_named(ctrl, "شماره ناشناس").action_buttons
    sim.miss(1)

    # the device drops off the network and comes back at the same address: the listener reconnects by itself
    sim.unplug()
    qtbot.waitUntil(lambda: "reconnecting" in states or "no_device" in states, timeout=5000)
    sim.plug()
    qtbot.waitUntil(lambda: states[-1] == "listening", timeout=8000)
    assert sim.wait_for_client(5.0)
    before = Call.select().count()
    sim.ring(1, "09122800039")
    qtbot.waitUntil(lambda: Call.select().count() == before + 1, timeout=5000)
    sim.miss(1)
