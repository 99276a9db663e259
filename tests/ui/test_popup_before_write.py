"""The popup goes on screen BEFORE the call is written to the log (latency): the look-up and the summary come
first, the Call row right after in the same GUI turn. The call must still be logged and on the timeline, the
popup's buttons must carry the real call id, and a failed write must not lose the popup."""
from __future__ import annotations

import datetime as dt

import pytest

from app import clock, customers, settings
from app.callerid import events as ev
from app.callerid import service as svc
from models.base import db
from models.calls import Call
from models.core import Activity

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
    for p in ctrl.popups():
        p.close()


def feed(ctrl, event, seconds):
    clock.set_now(T0 + dt.timedelta(seconds=seconds))
    ctrl.on_event(event)


def test_popup_is_shown_before_the_row_and_the_call_is_still_logged(ui):
    ctrl, ctx, c = ui
    at_show = []

    def on_shown(key):
        p = ctrl.stack.popup_for(key)
        at_show.append((Call.select().count(), p.view.call_id, p.isVisible(), p.name_label.text(),
                        dict((k, v.text()) for k, v in p.field_values.items())))

    ctrl.stack.shown.connect(on_shown)
    feed(ctrl, E(ev.INCOMING, number="+98 912 280 0039", source="modem"), 0)

    [(rows_then, id_then, visible, name, fields)] = at_show
    assert rows_then == 0 and id_then == 0          # on screen before the write
    assert visible and "رضایی" in name
    assert fields["شرکت"].endswith("بازرگانی رضایی")  # the summary was there already

    # ...and the write followed in the same call: the row exists and the popup now carries its id
    [row] = list(Call.select())
    assert row.customer_id == c.id and row.number == "09122800039" and row.state == "ringing"
    [p] = ctrl.popups()
    assert p.view.call_id == row.id
    got = []
    ctx.bus.log_call.connect(lambda cust, call: got.append((cust, call)))
    p.action_buttons["follow_up"].click()
    assert got == [(c.id, row.id)]

    # the call ends: same row, on the customer's timeline
    feed(ctrl, E(ev.RING, source="modem"), 3)
    feed(ctrl, E(ev.MISSED, source="modem"), 6)
    assert Call.select().count() == 1
    assert Call.get_by_id(row.id).state == "missed"
    [a] = list(Activity.select().where(Activity.customer == c.id, Activity.ref_table == "call"))
    assert a.ref_id == row.id and a.kind == "call_missed"
    assert at_show and len(at_show) == 1           # one popup, not a second one for the same call


def test_failed_write_keeps_the_popup_and_the_next_event_logs_the_call(ui):
    ctrl, _ctx, c = ui
    # a real database error on the insert only (the look-up and the summary still read)
    db.execute_sql('CREATE TRIGGER bench_no_calls BEFORE INSERT ON "call" '
                   "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.isVisible() and "رضایی" in p.name_label.text()
    assert p.summary is not None and p.summary.customer_id == c.id
    assert p.view.call_id == 0 and Call.select().count() == 0

    db.execute_sql("DROP TRIGGER bench_no_calls")
    feed(ctrl, E(ev.RING, source="modem"), 3)       # the next event of the same call writes it
    [row] = list(Call.select())
    assert row.customer_id == c.id
    assert ctrl.popups() == [p] and p.view.call_id == row.id
    feed(ctrl, E(ev.MISSED, source="modem"), 6)
    assert Call.get_by_id(row.id).state == "missed"
    assert Activity.select().where(Activity.ref_table == "call", Activity.ref_id == row.id).count() == 1


def test_service_without_a_callback_behaves_as_before(db):
    """The service's other callers (tests, the simulator CLI) get the written view, id and all."""
    settings.set("office.area_code", "021")
    s = svc.CallerIdService(ring_timeout=8)
    seen = []
    [v] = s.handle(E(ev.INCOMING, number="09350000000", source="modem"), T0)
    assert v.call_id and Call.get_by_id(v.call_id).number == "09350000000"
    [w] = s.handle(E(ev.INCOMING, number="09350000001", line=2, source="segal"), T0, before_write=seen.append)
    assert [x.call_id for x in seen] == [0] and seen[0].number == "09350000001"
    assert w.call_id and w.call_id != v.call_id
