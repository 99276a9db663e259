"""What the popup shows and offers from the newer features: open opportunities, warranties, a service
request, an SMS, the PBX extension (and the colleague who answered), click-to-call through the exchange.
Offscreen, a real database, the real controller; click-to-call against the AMI simulator."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication

from app import settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.core import clock
from app.customers import service as customers
from models.calls import Call
from models.core import User

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)       # 1405/09/03


def E(kind, **kw):
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture(autouse=True)
def _persian_app(qapp):
    from PySide6.QtCore import QLocale

    from ui.application import setup_qt_app

    before = (qapp.layoutDirection(), QLocale(), qapp.styleSheet(), qapp.font())
    setup_qt_app()
    yield
    qapp.setLayoutDirection(before[0])
    QLocale.setDefault(before[1])
    qapp.setStyleSheet(before[2])
    qapp.setFont(before[3])


@pytest.fixture
def ui(qapp, db):
    clock.set_now(T0)
    settings.set("office.area_code", "021")
    rep = User.create(name="سارا احمدی", username="sara")
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                                   "title": "آقای", "assigned_to": rep.id, "phones": ["021-22514321", "09122800039"]})
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    ctx = AppContext()
    ctrl = CallerIdController(ctx)
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    yield ctrl, ctx, c, rep
    ctrl.stop()
    for p in ctrl.popups():
        p.close()
    for w in QApplication.topLevelWidgets():
        if w.isVisible() and w.metaObject().className() in ("SendSmsDialog", "RequestDialog"):
            w.close()
    clock.set_now(None)


def settle(ctrl, timeout: float = 5.0) -> None:
    import time

    from PySide6.QtCore import QCoreApplication

    from models.writer import writer

    end = time.monotonic() + timeout
    while ctrl.pending and time.monotonic() < end:
        writer.drain(timeout)
        QCoreApplication.processEvents()
    assert ctrl.pending == 0


def feed(ctrl, event, seconds):
    clock.set_now(T0 + dt.timedelta(seconds=seconds))
    ctrl.on_event(event)
    settle(ctrl)


def opened(cls_name: str, before: set) -> object:
    [w] = [w for w in QApplication.topLevelWidgets()
           if w.metaObject().className() == cls_name and w.isVisible() and _ptr(w) not in before]
    return w


def windows() -> set:
    return {_ptr(w) for w in QApplication.topLevelWidgets()}


def _ptr(w) -> int:
    import shiboken6

    return shiboken6.getCppPointer(w)[0]


def shown(p, label: str) -> str | None:
    lv = p.field_values.get(label)
    return lv.text().lstrip("\u200f") if lv is not None and lv.isVisible() else None


def test_open_opportunities_and_warranty_lines(ui):
    from app import contracts
    from app.pipeline import opportunities as opps

    ctrl, _ctx, c, rep = ui
    feed(ctrl, E(ev.INCOMING, number="02122514321", source="modem"), 0)
    [p] = ctrl.popups()
    assert shown(p, "فرصت‌های باز") is None and shown(p, "گارانتی") is None     # nothing to say: no line
    feed(ctrl, E(ev.HANGUP), 2)
    p.close()

    opps.create_opportunity({"customer_id": c.id, "title": "سیم‌کشی", "value": "۱۲۰٬۰۰۰٬۰۰۰",
                             "close_date": "1405/10/15", "next_step_date": "1405/09/10"}, user=rep.id)
    opps.create_opportunity({"customer_id": c.id, "title": "دوربین", "value": "۳۰٬۰۰۰٬۰۰۰",
                             "close_date": "1405/11/15"}, user=rep.id)
    contracts.create_warranty({"customer_id": c.id, "item": "کولر", "serial": "AC1",
                               "start_date": dt.date(2026, 4, 4), "months": 12})
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 10)
    [p] = [x for x in ctrl.popups() if x.isVisible()]
    assert shown(p, "فرصت‌های باز") == "۲ فرصت باز؛ اولی: سرنخ جدید، ۱۲۰٬۰۰۰٬۰۰۰ ریال"
    assert shown(p, "گارانتی") == "۱ گارانتی فعال؛ نزدیک‌ترین پایان ۱۴۰۶/۰۱/۱۴ (کولر)"
    assert p.height() <= 560, p.height()          # still a compact popup
    p.grab().save("/tmp/wire2/popup_known.png")
    feed(ctrl, E(ev.HANGUP), 12)


def test_service_request_and_sms_buttons_open_their_dialogs(ui, qtbot):
    ctrl, _ctx, c, _rep = ui
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.view.call_id
    assert {p.action_buttons[k].text() for k in ("service", "sms")} == {"درخواست خدمت", "پیامک"}
    before = windows()
    p.action_buttons["service"].click()
    dlg = opened("RequestDialog", before)
    assert dlg.isVisible() and dlg.call_id == p.view.call_id
    assert dlg.customer.customer_id() == c.id
    assert dlg.channel.currentData() == "phone"
    dlg.close()
    before = windows()
    p.action_buttons["sms"].click()
    sms = opened("SendSmsDialog", before)
    assert sms.isVisible() and sms.customer_id == c.id
    assert sms.number.currentData() == "09122800039"
    sms.close()
    feed(ctrl, E(ev.HANGUP), 2)


def test_unknown_caller_gets_an_sms_button_with_the_number(ui):
    ctrl, _ctx, _c, _rep = ui
    feed(ctrl, E(ev.INCOMING, number="09351112233", source="modem"), 0)
    [p] = ctrl.popups()
    assert "service" not in p.action_buttons
    before = windows()
    p.action_buttons["sms"].click()
    sms = opened("SendSmsDialog", before)
    assert sms.customer_id is None and sms.number.currentData() == "09351112233"
    sms.close()
    feed(ctrl, E(ev.HANGUP), 2)


def test_pbx_extension_in_the_header_and_the_answering_colleague_owns_the_call(ui):
    ctrl, _ctx, _c, rep = ui
    other = User.create(name="مریم احمدی", username="maryam")
    settings.set(sk.PBX_EXTENSIONS, "101=maryam|102=سارا احمدی")
    settings.set(sk.LINE_LABELS, "خط فروش")
    feed(ctrl, E(ev.INCOMING, number="02122514321", line=1, source="ami",
                 extra={"extension": "101", "extensions": ["101", "102"], "answered_by": None}), 0)
    [p] = ctrl.popups()
    assert p.view.extension == "101" and p.view.answered_by == ""
    assert p.line_label.text() == "خط فروش · داخلی ۱۰۱" and p.line_label.isVisible()
    assert Call.get_by_id(p.view.call_id).user_id is None
    feed(ctrl, E(ev.ANSWERED, line=1, source="ami", extra={"extension": "102", "answered_by": "102"}), 3)
    assert p.view.answered_by == "102" and p.line_label.text() == "خط فروش · داخلی ۱۰۲"
    assert Call.get_by_id(p.view.call_id).user_id == rep.id
    feed(ctrl, E(ev.HANGUP, line=1, source="ami", duration=20, extra={"extension": "102", "answered_by": "102"}), 25)
    row = Call.get_by_id(p.view.call_id)
    assert (row.user_id, row.state) == (rep.id, "ended")
    assert other.id != rep.id
    p.grab().save("/tmp/wire2/popup_ami.png")


def test_a_modem_call_has_no_extension_and_no_user(ui):
    ctrl, _ctx, _c, _rep = ui
    feed(ctrl, E(ev.INCOMING, number="02122514321", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.view.extension == "" and not p.line_label.isVisible()
    feed(ctrl, E(ev.HANGUP), 2)
    assert Call.get_by_id(p.view.call_id).user_id is None


@pytest.fixture
def ami():
    from app.callerid.pbx_simulator import AmiServer

    with AmiServer(originate_delay=0.05) as s:
        yield s


def test_dial_goes_through_the_exchange_when_the_device_is_ami(qapp, db, ami, qtbot):
    from ui.calls.dialing import dial_reason, start_dial
    from ui.context import AppContext

    ctx = AppContext()
    messages: list[str] = []
    ctx.bus.status_message.connect(messages.append)
    settings.set(sk.DEVICE, "ami")
    settings.set(sk.PBX_ADDRESS, ami.address)
    settings.set(sk.PBX_USER, "crm")
    settings.set(sk.PBX_SECRET, "s3cret")
    assert "داخلی تلفن این میز" in dial_reason(ctx)          # no extension for this desk yet
    assert "داخلی تلفن این میز" in start_dial(ctx, "02122514321")
    settings.set(sk.PBX_EXTENSION, "102")
    assert dial_reason(ctx) is None                          # no listener needed: the exchange dials
    done: list[tuple[bool, str]] = []
    assert start_dial(ctx, "+98 21 2251 4321", lambda ok, m: done.append((ok, m))) is None
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert done[0][0] is True and "داخلی ۱۰۲ پاسخ داد" in done[0][1], done
    assert messages == [done[0][1]]
    action = next(a for a in ami.actions if a.get("Action") == "Originate")
    assert (action["Channel"], action["Exten"]) == ("PJSIP/102", "02122514321")

    ami.extension_states["102"] = "busy"
    done.clear()
    assert start_dial(ctx, "02122514321", lambda ok, m: done.append((ok, m))) is None
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert done[0][0] is False and "مشغول" in done[0][1]


def test_dial_with_a_modem_device_still_asks_the_listener(qapp, db):
    from ui.calls.dialing import dial_reason
    from ui.context import AppContext

    settings.set(sk.DEVICE, "modem")
    assert "شناسه تماس روشن نیست" in dial_reason(AppContext())


def test_missed_calls_list_offers_an_sms_in_its_bar_and_row_menu(qapp, db, qtbot):
    from ui.calls.page import CallsPage
    from ui.context import AppContext

    clock.set_now(T0)
    try:
        s = svc.CallerIdService(ring_timeout=5)
        s.handle(E(ev.INCOMING, number="+98 935 111 2233", source="modem"), T0)
        s.handle(E(ev.MISSED), T0 + dt.timedelta(seconds=4))
        s.handle(E(ev.INCOMING, number="P", status=ev.PRIVATE, source="modem"), T0 + dt.timedelta(seconds=60))
        s.handle(E(ev.MISSED), T0 + dt.timedelta(seconds=64))
        p = CallsPage(AppContext())
        qtbot.addWidget(p)
        p.resize(1200, 600)
        p.show()
        m = p.missed
        rows = {m.model.call_id(i): i for i in range(m.model.rowCount())}
        withheld = next(r for cid, r in rows.items() if Call.get_by_id(cid).number_status == ev.PRIVATE)
        m.select_row(withheld)
        assert not m.sms_btn.isEnabled()
        menu = m.row_menu()
        assert [a.isEnabled() for a in menu.actions() if a.text() == "پیامک"] == [False]
        m.select_row(1 - withheld)
        assert m.sms_btn.isEnabled()
        menu = m.row_menu()
        [sms_action] = [a for a in menu.actions() if a.text() == "پیامک"]
        assert sms_action.isEnabled()
        before = windows()
        sms_action.trigger()
        dlg = opened("SendSmsDialog", before)
        assert dlg.customer_id is None and dlg.number.currentData() == "09351112233"
        dlg.close()
    finally:
        clock.set_now(None)
