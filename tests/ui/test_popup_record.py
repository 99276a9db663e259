"""The popup goes up from the look-up alone (identify, GUI thread, reads only); the Call row is written by the
one writer behind it (record) and its id comes back through a queued signal. A busy writer never holds the
popup; a failed write is retried; a customer made from the popup stays on the call through every event."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication

from app import call_log, clock, customers, settings, summary
from app.callerid import events as ev
from app.callerid import service as svc
from models.base import db
from models.calls import Call
from models.core import Activity
from models.writer import writer

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def E(kind, **kw):  # noqa: N802
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture
def ui(qapp, db):
    settings.set("office.area_code", "021")
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                                   "phones": ["09122800039"]})
    from ui.callerid_controller import CallerIdController
    from ui.context import AppContext

    ctx = AppContext()
    ctrl = CallerIdController(ctx)
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    yield ctrl, ctx, c
    ctrl.stop()
    settle(ctrl)
    for p in ctrl.popups():
        p.close()


def settle(ctrl, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while ctrl.pending and time.monotonic() < end:
        writer.drain(timeout)
        QCoreApplication.processEvents()
    assert ctrl.pending == 0


def feed(ctrl, event, seconds, wait=True):
    clock.set_now(T0 + dt.timedelta(seconds=seconds))
    ctrl.on_event(event)
    if wait:
        settle(ctrl)


def test_popup_is_shown_before_the_row_and_gets_its_id_after(ui):
    ctrl, ctx, c = ui
    at_show = []

    def on_shown(key):
        p = ctrl.stack.popup_for(key)
        at_show.append((p.view.call_id, p.isVisible(), p.name_label.text(),
                        dict((k, v.text()) for k, v in p.field_values.items())))

    ctrl.stack.shown.connect(on_shown)
    gate = threading.Event()
    writer.submit(gate.wait, 10)               # the writer is busy (an import, a backup…)
    t0 = time.perf_counter()
    feed(ctrl, E(ev.INCOMING, number="+98 912 280 0039", source="modem"), 0, wait=False)
    shown_in = time.perf_counter() - t0
    [(id_then, visible, name, fields)] = at_show
    assert id_then == 0 and visible and "رضایی" in name
    assert fields["شرکت"].endswith("بازرگانی رضایی")
    assert shown_in < 0.5                      # not waiting for the writer
    assert Call.select().count() == 0
    gate.set()
    settle(ctrl)
    [row] = list(Call.select())
    assert row.customer_id == c.id and row.number == "09122800039" and row.state == "ringing"
    [p] = ctrl.popups()
    assert p.view.call_id == row.id
    got = []
    ctx.bus.log_call.connect(lambda cust, call: got.append((cust, call)))
    p.action_buttons["follow_up"].click()
    assert got == [(c.id, row.id)]
    feed(ctrl, E(ev.RING, source="modem"), 3)
    feed(ctrl, E(ev.MISSED, source="modem"), 6)
    assert Call.select().count() == 1 and Call.get_by_id(row.id).state == "missed"
    [a] = list(Activity.select().where(Activity.customer == c.id, Activity.ref_table == "call"))
    assert a.ref_id == row.id and a.kind == "call_missed"
    assert len(at_show) == 1                   # one popup for the call


def test_failed_write_keeps_the_popup_and_is_retried(ui, qtbot):
    ctrl, _ctx, c = ui
    db.execute_sql('CREATE TRIGGER no_calls BEFORE INSERT ON "call" '
                   "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.isVisible() and "رضایی" in p.name_label.text() and p.summary.customer_id == c.id
    assert p.view.call_id == 0 and Call.select().count() == 0
    assert ctrl.service.pending_retry() and ctrl._retry.isActive()
    db.execute_sql("DROP TRIGGER no_calls")
    ctrl._retry.setInterval(10)
    ctrl._retry.start()
    qtbot.waitUntil(lambda: Call.select().count() == 1 and bool(p.view.call_id), timeout=5000)
    [row] = list(Call.select())
    assert row.customer_id == c.id and p.view.call_id == row.id
    feed(ctrl, E(ev.MISSED, source="modem"), 6)
    assert Call.get_by_id(row.id).state == "missed"
    assert Activity.select().where(Activity.ref_table == "call", Activity.ref_id == row.id).count() == 1


def test_new_customer_from_the_popup_owns_the_call_through_every_later_event(ui):
    ctrl, ctx, _c = ui
    # an earlier call from the same unknown number, already over
    feed(ctrl, E(ev.INCOMING, number="09357778899", line=2, source="segal"), -600)
    feed(ctrl, E(ev.MISSED, line=2, source="segal"), -590)
    [earlier] = list(Call.select())
    assert earlier.customer_id is None
    for p in ctrl.popups():
        p.close()
    feed(ctrl, E(ev.INCOMING, number="+98 935 777 8899", line=1, source="segal"), 0)
    [p] = ctrl.popups()
    assert p.name_label.text() == "شماره ناشناس"
    new = customers.create_customer({"first_name": "رضا", "last_name": "نوری", "phones": ["09357778899"]})
    ctx.bus.customer_changed.emit(new.id)       # what the customer form does after saving («مشتری جدید»)
    settle(ctrl)
    assert p.name_label.text() == "رضا نوری" and "open" in p.action_buttons
    live = Call.get_by_id(p.view.call_id)
    assert live.customer_id == new.id and Call.get_by_id(earlier.id).customer_id == new.id
    # the next events of the same call: still the customer's (the popup does not flip back, the row keeps it)
    feed(ctrl, E(ev.RING, line=1, source="segal"), 2)
    assert p.name_label.text() == "رضا نوری"
    feed(ctrl, E(ev.ANSWERED, line=1, source="segal"), 4)
    feed(ctrl, E(ev.HANGUP, line=1, duration=40, source="segal"), 45)
    assert p.name_label.text() == "رضا نوری"
    row = Call.get_by_id(p.view.call_id)
    assert (row.customer_id, row.state, row.duration) == (new.id, "ended", 40)
    kinds = sorted(a.kind for a in Activity.select().where(Activity.customer == new.id,
                                                             Activity.ref_table == "call"))
    assert kinds == ["call_in", "call_missed"]
    s = summary.customer_summary(new.id)
    assert s.last_call is not None and s.last_call.id == row.id
    assert dict(summary.summary_fields(s))["آخرین تماس"] != summary.NONE_YET


def test_add_to_existing_customer_during_the_call(ui, qtbot):
    ctrl, _ctx, c = ui
    feed(ctrl, E(ev.INCOMING, number="9351234567", line=1, source="segal"), 0)
    [p] = ctrl.popups()
    assert p.attach_to(c.id)
    settle(ctrl)
    assert p.view.customer_id == c.id and "رضایی" in p.name_label.text()
    feed(ctrl, E(ev.MISSED, line=1, source="segal"), 8)
    assert Call.get_by_id(p.view.call_id).customer_id == c.id and p.view.customer_id == c.id
    assert call_log.missed_call_ids() == [p.view.call_id]


def test_no_popup_for_a_call_that_is_already_over(ui):
    ctrl, _ctx, _c = ui
    feed(ctrl, E(ev.MISSED, number="09121110000", line=3, rings=4, source="techno"), 0)   # reported whole
    assert ctrl.popups() == []
    [row] = list(Call.select())
    assert row.state == "missed" and call_log.missed_call_ids() == [row.id]


def test_synchronous_handle_for_scripts(db):
    """handle() = identify + record + wait: the CLI and tests get the written view, id and all."""
    settings.set("office.area_code", "021")
    s = svc.CallerIdService(ring_timeout=8)
    [v] = s.handle(E(ev.INCOMING, number="09350000000", source="modem"), T0)
    assert v.call_id and Call.get_by_id(v.call_id).number == "09350000000"
    [w] = s.handle(E(ev.INCOMING, number="09350000001", line=2, source="segal"), T0)
    assert w.call_id and w.call_id != v.call_id
