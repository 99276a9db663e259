"""The caller-ID popup and its stack, offscreen, on a real database, driven through the controller."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from app import settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.core import clock
from app.customers import service as customers
from models.calls import Call
from models.core import User

pytestmark = pytest.mark.usefixtures("persian_app")

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def E(kind, **kw):
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture
def ui(qapp, db):
    settings.set("office.area_code", "021")
    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی|خط مدیریت|خط انبار")
    rep = User.create(name="سارا احمدی", username="sara")
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                                   "title": "آقای", "rank": "A", "tags": ["VIP"], "assigned_to": rep.id,
                                   "phones": ["021-22514321", "09122800039"]})
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    ctx = AppContext()
    ctrl = CallerIdController(ctx)
    ctrl.service = svc.CallerIdService(ring_timeout=8)
    yield ctrl, ctx, c
    ctrl.stop()
    for p in ctrl.popups():
        p.close()


def settle(ctrl, timeout: float = 5.0) -> None:
    """Wait until the writer has recorded every queued call and its answer reached the GUI thread."""
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


def test_window_never_takes_focus(ui):
    ctrl, _ctx, _c = ui
    feed(ctrl, E(ev.INCOMING, number="+98 21 2251 4321", source="modem"), 0)
    [p] = ctrl.popups()
    flags = p.windowFlags()
    for f in (Qt.WindowType.Tool, Qt.WindowType.FramelessWindowHint, Qt.WindowType.WindowStaysOnTopHint,
              Qt.WindowType.WindowDoesNotAcceptFocus):
        assert flags & f, f
    assert p.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert all(b.focusPolicy() == Qt.FocusPolicy.NoFocus for b in p.action_buttons.values())


def test_typing_elsewhere_keeps_focus(ui, qtbot):
    ctrl, _ctx, _c = ui
    editor = QLineEdit()
    qtbot.addWidget(editor)
    editor.show()
    editor.activateWindow()
    editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor)
    # checked before the event loop runs again: Qt's offscreen platform activates every window it maps
    # (a real desktop honours WindowDoesNotAcceptFocus / WA_ShowWithoutActivating)
    clock.set_now(T0)
    ctrl.on_event(E(ev.INCOMING, number="09122800039", source="modem"))
    [p] = ctrl.popups()
    assert p.isVisible()
    qtbot.keyClicks(QApplication.focusWidget(), "salam")
    assert editor.text() == "salam"
    assert QApplication.focusWidget() is editor
    settle(ctrl)


def test_known_customer_popup_shows_summary(ui):
    ctrl, ctx, c = ui
    opened = []
    ctx.bus.open_customer.connect(opened.append)
    feed(ctrl, E(ev.INCOMING, number="00982122514321", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.name_label.text() == "آقای علی رضایی"
    assert "۲۲۵۱" in p.number_label.text()
    assert p.field_values["شرکت"].text().lstrip("\u200f") == "بازرگانی رضایی"
    assert p.field_values["مسئول"].text().lstrip("\u200f") == "سارا احمدی"
    assert p.field_values["آخرین فاکتور"].text().lstrip("\u200f") == "هنوز ثبت نشده"
    assert set(p.action_buttons) == {"open", "note", "follow_up", "refer", "service", "sms"}
    p.action_buttons["open"].click()
    assert opened == [c.id]
    logged = []
    ctx.bus.log_call.connect(lambda cid, call: logged.append((cid, call)))
    p.action_buttons["follow_up"].click()
    p.action_buttons["refer"].click()
    assert logged == [(c.id, p.view.call_id)] * 2


def test_unknown_number_offers_new_customer(ui):
    ctrl, ctx, _c = ui
    asked = []
    ctx.bus.new_customer_with_phone.connect(asked.append)
    feed(ctrl, E(ev.INCOMING, number="9351234567", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.name_label.text() == "شماره ناشناس"
    assert set(p.action_buttons) == {"new", "add_existing", "note", "sms"}
    p.action_buttons["new"].click()
    assert asked == ["09351234567"]


def test_add_to_existing_customer(ui, qtbot):
    from ui.calls.popup import AddToCustomerDialog

    ctrl, _ctx, c = ui
    feed(ctrl, E(ev.INCOMING, number="9351234567", source="modem"), 0)
    [p] = ctrl.popups()
    dlg = AddToCustomerDialog(p.view.number)
    qtbot.addWidget(dlg)
    dlg.search.setText("رضایی")
    dlg.run_search()
    assert dlg.results.count() == 1
    dlg._accept()
    assert dlg.customer_id == c.id
    assert p.attach_to(dlg.customer_id)
    settle(ctrl)                                   # the link is written behind the call's row
    assert p.name_label.text() == "آقای علی رضایی"
    assert Call.get_by_id(p.view.call_id).customer_id == c.id
    assert "09351234567" in [x.canonical for x in c.phones]


def test_withheld_number(ui):
    ctrl, _ctx, _c = ui
    feed(ctrl, E(ev.INCOMING, number="P", status=ev.PRIVATE, source="modem"), 0)
    [p] = ctrl.popups()
    assert "پنهان" in p.name_label.text()
    assert set(p.action_buttons) == {"note"}


def test_note_for_this_call(ui, qtbot):
    from ui.calls.popup import CallNoteDialog

    ctrl, _ctx, c = ui
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 0)
    [p] = ctrl.popups()
    dlg = CallNoteDialog(p.view)
    qtbot.addWidget(dlg)
    dlg.save()
    assert "خالی" in dlg.error.text()
    dlg.text.setPlainText("سفارش ۲۰ عدد کابل")
    dlg.save()
    assert Call.get_by_id(p.view.call_id).note == "سفارش 20 عدد کابل"


def test_two_lines_stack_and_follow_their_calls(ui):
    ctrl, _ctx, c = ui
    settings.set(sk.POPUP_ON_HANGUP, "dim")
    feed(ctrl, E(ev.INCOMING, number="09122800039", line=1, source="segal"), 0)
    feed(ctrl, E(ev.INCOMING, number="09350000000", line=2, source="segal"), 0.3)
    p1, p2 = ctrl.popups()
    assert (p1.line_label.text(), p2.line_label.text()) == ("خط فروش", "خط پشتیبانی")
    assert p1.geometry().bottom() < p2.geometry().top()           # stacked, newest lowest
    assert abs(p1.x() - p2.x()) == 0
    feed(ctrl, E(ev.ANSWERED, line=1, source="segal"), 3)
    assert p1.state_label.text() == "پاسخ داده شد"
    feed(ctrl, E(ev.RING, line=2, source="segal"), 4)
    feed(ctrl, E(ev.HANGUP, line=1, duration=30, source="segal"), 33)   # line 2 rang out at 12 (8 s timeout)
    assert p2.state_label.text() == "تماس بی‌پاسخ" and p2.dimmed
    assert p1.state_label.text() == "تماس تمام شد، ۰:۳۰" and p1.dimmed
    assert p1.card.graphicsEffect().isEnabled() and p1.card.graphicsEffect().opacity() < 1


def test_popup_closes_on_hangup_when_configured(ui, qtbot):
    ctrl, _ctx, _c = ui
    settings.set(sk.POPUP_ON_HANGUP, "close")
    feed(ctrl, E(ev.INCOMING, number="09122800039", line=1, source="segal"), 0)
    feed(ctrl, E(ev.MISSED, line=1, source="segal"), 5)
    qtbot.waitUntil(lambda: ctrl.popups() == [], timeout=4000)


def test_popups_off_means_tray_notification(ui):
    ctrl, _ctx, _c = ui
    settings.set(svc.POPUP_ENABLED, False)
    feed(ctrl, E(ev.INCOMING, number="09122800039", line=2, source="segal"), 0)
    assert ctrl.popups() == []
    assert ctrl.tray.history == [("تماس از علی رضایی — خط پشتیبانی", "\u2066۰۹۱۲ ۲۸۰ ۰۰۳۹\u2069")]


def test_ring_without_number_waits_then_fills(ui):
    ctrl, _ctx, c = ui
    feed(ctrl, E(ev.RING, source="modem"), 0)
    assert ctrl.popups() == []           # one ring with no number yet: nothing to show
    feed(ctrl, E(ev.INCOMING, number="22514321", source="modem"), 1)
    [p] = ctrl.popups()
    assert p.view.customer_id == c.id and p.field_values


def test_status_bar_state(ui):
    ctrl, ctx, _c = ui
    seen = []
    ctx.bus.callerid_state.connect(lambda k, t: seen.append((k, t)))
    ctrl._state("listening", "شناسه تماس: در حال گوش دادن")
    assert seen == [("listening", "شناسه تماس: در حال گوش دادن")]


def test_new_customer_from_popup_turns_it_into_their_popup(ui):
    """«مشتری جدید» → the form saves a customer with the number → the open popup and the call follow."""
    ctrl, ctx, _c = ui
    feed(ctrl, E(ev.INCOMING, number="+98 935 777 8899", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.name_label.text() == "شماره ناشناس"
    new = customers.create_customer({"first_name": "رضا", "last_name": "نوری", "phones": ["09357778899"]})
    ctx.bus.customer_changed.emit(new.id)          # what the customer form does after saving
    settle(ctrl)
    assert p.name_label.text() == "رضا نوری" and "open" in p.action_buttons
    assert Call.get_by_id(p.view.call_id).customer_id == new.id


def test_popup_stays_when_main_window_is_minimised(ui, qtbot):
    from PySide6.QtWidgets import QMainWindow

    ctrl, ctx, _c = ui
    main = QMainWindow()
    qtbot.addWidget(main)
    ctx.main_window = main
    main.show()
    main.showMinimized()
    feed(ctrl, E(ev.INCOMING, number="09122800039", source="modem"), 0)
    [p] = ctrl.popups()
    assert p.isVisible() and p.parent() is None      # a top-level tool window: not hidden with the main window


def test_popups_are_reused_without_building_widgets(ui):
    ctrl, _ctx, _c = ui
    feed(ctrl, E(ev.INCOMING, number="09122800039", line=1, source="segal"), 0)
    [first] = ctrl.popups()
    first.close()
    feed(ctrl, E(ev.INCOMING, number="P", status=ev.PRIVATE, line=2, source="segal"), 1)
    [second] = ctrl.popups()
    assert second is first                       # the same widget, showing the new call
    assert "پنهان" in second.name_label.text() and not second.fields_box.isVisible()
    assert set(second.action_buttons) == {"note"}
