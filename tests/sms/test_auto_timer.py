"""The automatic messages' timer in the running program: it starts with the main window when switched on, follows
the SMS settings panel, does its work on a pool thread (ui/ops.py) through the writer, and stops cleanly —
between batches, leaving nothing half-sent; the next run sends the rest, each exactly once."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from app import settings
from app.core import clock, jalali
from models.messaging import Message
from tests.sms.conftest import customer

pytestmark = pytest.mark.usefixtures("persian_app")

NOW = dt.datetime(2026, 11, 24, 10, 0)          # a Tuesday, inside the default window 09:00–20:00


def _birthday_today() -> dt.date:
    j = jalali.to_jalali(NOW.date())
    return jalali.from_jalali(1370, j.month, j.day)


@pytest.fixture
def office(db, kavenegar):
    clock.set_now(NOW)
    settings.set("office.name", "بازرگانی پیوند")
    settings.set("sms.provider", "kavenegar")
    settings.set("sms.sender", "10004346")
    settings.set("sms.base_url", kavenegar.url)
    settings.set("sms.interval", 0.01)
    yield
    clock.set_now(None)


def test_starts_with_the_window_when_switched_on_and_works_off_the_gui_thread(qtbot, office, kavenegar):
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.sms.settings_panel import SmsSettingsPanel

    c = customer("مریم", "احمدی", "09122222222", title="خانم", birthday=_birthday_today())
    ctx = AppContext()
    w = MainWindow(ctx, start_callerid=False)
    qtbot.addWidget(w)
    w._start_sms()                                        # what the window does at start (tests skip services)
    assert w.sms_auto is not None and not w.sms_auto.active          # nothing switched on, no key: idle

    panel = SmsSettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.auto_checks["birthday"].setChecked(True)
    assert not panel.save()                               # no key yet: refused in Persian, nothing changed
    assert "کلید دسترسی" in panel.status.text() and not settings.get("sms.auto.birthday.enabled")
    assert not w.sms_auto.active
    panel.key.setText("test-key")
    assert panel.save()
    assert settings.get("sms.auto.birthday.enabled") and settings.get("sms.auto.birthday.since")
    assert w.sms_auto.active                              # the saved settings started it

    with qtbot.waitSignal(w.sms_auto.ran, timeout=15_000) as sig:
        w.sms_auto.tick()
    report = sig.args[0]
    assert report.ran and report.queued["birthday"] == 1 and report.sent == 1
    assert w.sms_auto.op.worker_thread not in (None, threading.get_ident())
    [m] = Message.select()
    assert m.customer_id == c.id and m.auto_key.startswith("birthday:") and m.body.startswith("خانم مریم احمدی")
    page = w.page("sms")                                  # the SMS section says what the last run did
    assert "پیام‌های خودکار روشن: تبریک تولد" in page.auto_label.text()
    assert "آخرین اجرا: تبریک تولد: ۱. فرستاده: ۱" in page.auto_label.text()
    assert page.model.total == 1
    with qtbot.waitSignal(w.sms_auto.ran, timeout=15_000):
        w.sms_auto.tick()                                 # the same day again: nothing new
    assert kavenegar.by_number["09122222222"] == 1

    panel.auto_checks["birthday"].setChecked(False)
    panel.key.clear()
    settings.set("sms.key", "")                           # no automatic message and no key: the timer stops
    assert panel.save() and not w.sms_auto.active
    w.close()
    assert not w.sms_auto.active and w.sms_auto.reload() is False     # closed: stays stopped


def test_stop_while_sending_stops_between_batches_and_the_rest_goes_once(qtbot, office, kavenegar, monkeypatch):
    from app.sms import automatic
    from app.sms.providers.kavenegar import Kavenegar
    from ui.sms.auto_timer import AutomaticMessages

    settings.set("sms.key", "test-key")
    numbers = [f"0912000000{i}" for i in range(6)]
    for i, n in enumerate(numbers):
        customer(f"نفر{i}", "آزمون", n, birthday=_birthday_today())
    automatic.enable("birthday")
    monkeypatch.setattr(Kavenegar, "max_batch", 1)
    kavenegar.delay = 0.25
    auto = AutomaticMessages(interval_ms=60_000, first_delay_ms=60_000)
    assert auto.start() and auto.active
    auto.tick()
    qtbot.waitUntil(lambda: len(kavenegar.sent) >= 1, timeout=10_000)
    auto.stop()
    assert not auto.active
    qtbot.waitUntil(lambda: not auto.running, timeout=15_000)
    sent = Message.select().where(Message.state == "sent").count()
    assert 1 <= sent < len(numbers)
    assert Message.select().where(Message.state == "sending").count() == 0          # nothing half-sent
    assert Message.select().where(Message.state == "queued").count() == len(numbers) - sent
    kavenegar.delay = 0
    again = AutomaticMessages(interval_ms=60_000, first_delay_ms=60_000)
    with qtbot.waitSignal(again.ran, timeout=15_000):
        again.start()
        again.tick()
    again.stop()
    assert {n: kavenegar.by_number[n] for n in numbers} == {n: 1 for n in numbers}
