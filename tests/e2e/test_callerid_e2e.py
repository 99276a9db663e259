"""End to end: a simulated device on a real pty → listener thread → decoder → service → popup (offscreen),
and the call log and timeline in a real SQLite file. Nothing of ours is replaced."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app import settings
from app.callerid import settings_keys as sk
from app.callerid.simulator import Simulator, SimulatorOptions
from app.calls import log as call_log
from app.customers import service as customers
from models.calls import Call
from models.core import Activity
from tests.e2e.rigs import listening_controller, popup_named

pytestmark = pytest.mark.usefixtures("persian_app")

RING_PERIOD = 1.0          # seconds between rings (real lines: 4–5 s), so the tests run quickly
RING_TIMEOUT = 2.5         # must exceed the ring period


@pytest.fixture
def office(qapp, db):
    settings.set("office.area_code", "021")
    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی|خط مدیریت|خط انبار")
    settings.set(sk.POPUP_ON_HANGUP, "dim")
    rezaei = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                                        "phones": ["021-22514321"]})
    karimi = customers.create_customer({"first_name": "مریم", "last_name": "کریمی", "phones": ["0912 280 0039"]})
    return rezaei, karimi


@pytest.fixture
def rig(office, tmp_path, qtbot):
    """Builds simulator + listener + controller for a device; tears everything down."""
    made = []

    def build(device: str, lines: int = 1):
        sim = Simulator(SimulatorOptions(device=device, lines=lines, cid_enabled=True, ring_period=RING_PERIOD,
                                         cid_delay=0.2, max_rings=60, digit_gap=0.02,
                                         link=str(tmp_path / f"{device}-port"))).start()
        try:
            ctrl, states = listening_controller(qtbot, sim, device, RING_TIMEOUT)
        except BaseException:
            sim.close()
            raise
        made.append((sim, ctrl))
        return sim, ctrl, states

    yield build
    for sim, ctrl in made:
        ctrl.stop()
        sim.close()


def timeline_of(customer_id, kind):
    return list(Activity.select().where(Activity.customer == customer_id, Activity.kind == kind))


def test_modem_known_unknown_withheld(rig, office, qtbot):
    rezaei, _ = office
    sim, ctrl, states = rig("modem")
    # a customer stored as 021-22514321 calls, the line presents +98 21 …
    sim.ring(None, "+982122514321")
    qtbot.waitUntil(lambda: popup_named(ctrl, "علی رضایی") is not None, timeout=5000)
    p = popup_named(ctrl, "علی رضایی")
    assert p.isVisible() and p.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus
    assert p.field_values["شرکت"].text().lstrip("\u200f") == "بازرگانی رضایی"
    qtbot.waitUntil(lambda: ctrl.pending == 0 and bool(p.view.call_id), timeout=5000)   # the row follows the popup
    call = Call.get_by_id(p.view.call_id)
    assert (call.customer_id, call.number, call.number_raw, call.source) == (
        rezaei.id, "02122514321", "+982122514321", "modem")
    sim.miss(None)       # rings stop; a modem cannot tell whether someone answered
    qtbot.waitUntil(lambda: len(timeline_of(rezaei.id, "call_in")) == 1, timeout=6000)
    assert Call.get_by_id(call.id).state == "ended"

    sim.ring(None, "09350001122")
    qtbot.waitUntil(lambda: popup_named(ctrl, "شماره ناشناس") is not None, timeout=5000)
    p = popup_named(ctrl, "شماره ناشناس")
    assert "new" in p.action_buttons and "add_existing" in p.action_buttons
    qtbot.waitUntil(lambda: ctrl.pending == 0 and bool(p.view.call_id), timeout=5000)
    assert Call.get_by_id(p.view.call_id).customer_id is None
    sim.miss(None)

    sim.ring(None, "P")
    qtbot.waitUntil(lambda: any("پنهان" in x.name_label.text() for x in ctrl.popups()), timeout=6000)
    withheld = next(x for x in ctrl.popups() if "پنهان" in x.name_label.text())
    qtbot.waitUntil(lambda: ctrl.pending == 0 and bool(withheld.view.call_id), timeout=5000)
    assert Call.get_by_id(withheld.view.call_id).number_status == "private"
    sim.miss(None)
    qtbot.waitUntil(lambda: Call.select().where(Call.state == "ringing").count() == 0, timeout=6000)
    assert Call.select().count() == 3          # every call logged: known, unknown, withheld
    assert Activity.select().where(Activity.ref_table == "call").count() == 3

    # the pty goes away and comes back (USB modem unplugged and replugged): the listener recovers
    sim.reopen()
    qtbot.waitUntil(lambda: "reconnecting" in states or "no_device" in states, timeout=5000)
    qtbot.waitUntil(lambda: states[-1] == "listening", timeout=8000)
    n = len(ctrl.popups())
    sim.ring(None, "02122514321")
    qtbot.waitUntil(lambda: len(ctrl.popups()) > n or Call.select().count() == 4, timeout=5000)
    assert Call.select().count() == 4
    sim.miss(None)


def test_four_line_box_two_calls_then_outgoing(rig, office, qtbot):
    rezaei, karimi = office
    sim, ctrl, _ = rig("segal", lines=4)
    sim.ring(1, "+98 912 280 0039")        # Karimi, stored as 0912 280 0039
    sim.ring(2, "22514321")                # Rezaei's office, presented without the area code
    qtbot.waitUntil(lambda: len(ctrl.popups()) == 2, timeout=5000)
    labels = {p.name_label.text(): p.line_label.text() for p in ctrl.popups()}
    assert labels == {"مریم کریمی": "خط فروش", "علی رضایی": "خط پشتیبانی"}
    p1, p2 = sorted(ctrl.popups(), key=lambda p: p.view.line)
    assert p1.geometry().intersected(p2.geometry()).isEmpty()        # stacked, not on top of each other

    sim.answer(1)
    qtbot.waitUntil(lambda: p1.view.state == "answered", timeout=3000)
    assert p1.state_label.text() == "پاسخ داده شد"
    qtbot.wait(1200)
    sim.hangup(1)
    sim.miss(2)                            # line 2 rings out
    qtbot.waitUntil(lambda: p1.view.final and p2.view.final, timeout=6000)
    qtbot.waitUntil(lambda: ctrl.pending == 0, timeout=5000)      # the writer has recorded the ends too
    a = Call.get_by_id(p1.view.call_id)
    m = Call.get_by_id(p2.view.call_id)
    assert (a.state, a.line, a.customer_id, a.answered_at is not None) == ("ended", 1, karimi.id, True)
    assert a.duration is not None and a.duration >= 1
    assert (m.state, m.line, m.customer_id, m.duration) == ("missed", 2, rezaei.id, None)
    assert p1.dimmed and p2.dimmed
    assert call_log.missed_call_ids() == [m.id]
    assert len(timeline_of(karimi.id, "call_in")) == 1 and len(timeline_of(rezaei.id, "call_missed")) == 1

    # an outgoing call on line 3 to Karimi's mobile (calling back is not needed: it is Rezaei who was missed)
    sim.dial(3, "09122800039", wait=True)
    qtbot.wait(300)
    sim.hangup(3)
    qtbot.waitUntil(lambda: len(timeline_of(karimi.id, "call_out")) == 1, timeout=5000)
    out = Call.get(Call.direction == "out")
    assert (out.line, out.number, out.customer_id, out.line_label) == (3, "09122800039", karimi.id, "خط مدیریت")
    assert len(ctrl.popups()) == 2         # no popup for our own outgoing call

    # calling Rezaei back from line 4 clears the missed call
    sim.dial(4, "02122514321", wait=True)
    sim.hangup(4)
    qtbot.waitUntil(lambda: call_log.missed_call_ids() == [], timeout=5000)
