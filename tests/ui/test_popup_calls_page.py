"""The calls page (call log + missed calls with call-back), offscreen on a real database."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app import settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.calls import log as call_log
from app.core import clock
from app.customers import service as customers
from models.calls import Call

pytestmark = pytest.mark.usefixtures("persian_app")

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


def E(kind, **kw):
    return ev.CallerIdEvent(kind=kind, **kw)


@pytest.fixture
def page(qapp, db, qtbot):
    from ui.calls.page import CallsPage
    from ui.context import AppContext

    settings.set(sk.LINE_LABELS, "خط فروش|خط پشتیبانی")
    settings.set(sk.LINES, 4)
    clock.set_now(T0)
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"]})
    s = svc.CallerIdService(ring_timeout=5)
    t = lambda x: T0 + dt.timedelta(seconds=x)  # noqa: E731
    s.handle(E(ev.INCOMING, number="09122800039", line=1, source="segal"), t(0))
    s.handle(E(ev.ANSWERED, line=1, source="segal"), t(2))
    s.handle(E(ev.HANGUP, line=1, duration=75, source="segal"), t(77))
    s.handle(E(ev.INCOMING, number="+98 935 111 2233", line=2, source="segal"), t(100))
    s.handle(E(ev.MISSED, line=2, source="segal"), t(104))
    s.handle(E(ev.INCOMING, number="P", status=ev.PRIVATE, line=1, source="segal"), t(200))
    s.handle(E(ev.MISSED, line=1, source="segal"), t(203))
    # an old call, outside the default 30-day window
    call_log.log_manual_call(customer_id=c.id, direction="out", started_at=T0 - dt.timedelta(days=60), duration=30)
    ctx = AppContext()
    p = CallsPage(ctx)
    qtbot.addWidget(p)
    p.resize(1200, 600)
    p.show()
    return p, ctx, c


def test_model_is_sound(page, qtmodeltester):
    p, _ctx, _c = page
    qtmodeltester.check(p.log.model)
    qtmodeltester.check(p.missed.model)


def test_log_lists_recent_calls_with_persian_columns(page):
    p, _ctx, _c = page
    m = p.log.model
    assert m.rowCount() == 3                       # the 60-day-old call is outside the default range
    texts = [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(3)]
    newest, missed, answered = texts
    assert newest[2] == "بی‌پاسخ" and newest[3] == "شماره پنهان" and newest[5] == "خط فروش"
    assert missed[3] == "ناشناس" and missed[4] == "\u2066۰۹۳۵ ۱۱۱ ۲۲۳۳\u2069" and missed[8] == "پیگیری نشده"
    assert answered[3] == "علی رضایی" and answered[6] == "۱:۱۵" and answered[1] == "ورودی"
    assert answered[0] == "۱۴۰۵/۰۹/۰۳ ۱۰:۰۰"
    p.log.date_from.setDate(None)
    assert m.rowCount() == 4


def test_filters(page):
    p, _ctx, c = page
    log = p.log
    log.state.setCurrentIndex(log.state.findData("missed"))
    assert log.model.rowCount() == 2
    log.state.setCurrentIndex(0)
    log.line.setCurrentIndex(log.line.findData(2))
    assert log.model.rowCount() == 1
    log.line.setCurrentIndex(0)
    log.number.setText("۰۹۱۲۲۸۰۰۰۳۹")
    log.refresh()
    assert log.model.rowCount() == 1
    log.number.setText("")
    log.show_customer(c.id, "علی رضایی")
    assert log.model.rowCount() == 2 and log.customer_chip.isVisible()
    log.show_customer(None)
    log.unhandled.setChecked(True)
    assert log.model.rowCount() == 3


def test_missed_tab_and_mark_handled(page):
    p, ctx, _c = page
    assert p.tabs.tabText(1) == "تماس‌های بی‌پاسخ (۲)"
    m = p.missed
    assert m.model.rowCount() == 2
    m.select_row(0)                      # the withheld one: no call-back possible
    assert not m.callback_btn.isEnabled()
    m.select_row(1)
    assert m.callback_btn.isEnabled() and m.new_btn.isEnabled()
    asked = []
    ctx.bus.new_customer_with_phone.connect(asked.append)
    m.new_btn.click()
    assert asked == ["09351112233"]
    m.select_row(0)
    m.handled_btn.click()
    p.refresh()
    assert m.model.rowCount() == 1 and p.tabs.tabText(1) == "تماس‌های بی‌پاسخ (۱)"


def test_one_click_call_back_without_modem(page, qtbot):
    """No modem that can dial: the number is shown to dial by hand, «تماس گرفتم» logs it and clears it."""
    p, _ctx, _c = page
    m = p.missed
    m.select_row(1)
    seen = []

    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, press)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == "تماس گرفتم").click()

    clock.set_now(T0 + dt.timedelta(hours=1))
    QTimer.singleShot(50, press)
    m.callback_btn.click()
    assert seen and "۰۹۳۵ ۱۱۱ ۲۲۳۳" in seen[0]
    out = Call.get(Call.direction == "out", Call.number == "09351112233")
    assert out.source == "manual"
    qtbot.waitUntil(lambda: m.model.rowCount() == 1, timeout=2000)
    assert p.tabs.tabText(1) == "تماس‌های بی‌پاسخ (۱)"


def test_state_colour(page):
    p, _ctx, _c = page
    m = p.log.model
    assert m.data(m.index(1, 2), Qt.ItemDataRole.ForegroundRole).name() == "#dc2626"
