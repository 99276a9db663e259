"""The SMS screens, offscreen: the template editor's live preview and counter, the one-message dialog, the group
send (recipients preview, exclusions, progress, cancel), the segment builder's live count, the settings panel
(the key is never shown again). Screenshots are saved (and copied to $CRM_SHOTS_DIR when set)."""
from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from app import settings
from app.core import clock
from app.sms import service
from models.messaging import Message
from tests.sms.conftest import customer

pytestmark = pytest.mark.usefixtures("persian_app")


def shot(widget, tmp_path, name):
    from PySide6.QtGui import QImage

    path = tmp_path / f"{name}.png"
    assert widget.grab().save(str(path))
    img = QImage(str(path))
    assert img.width() > 300 and img.height() > 200
    if os.environ.get("CRM_SHOTS_DIR"):
        os.makedirs(os.environ["CRM_SHOTS_DIR"], exist_ok=True)
        shutil.copy(path, os.path.join(os.environ["CRM_SHOTS_DIR"], path.name))
    return img


@pytest.fixture
def office(db, kavenegar):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    settings.set("office.name", "بازرگانی پیوند")
    settings.set("sms.provider", "kavenegar")
    settings.set("sms.key", "test-key")
    settings.set("sms.sender", "10004346")
    settings.set("sms.base_url", kavenegar.url)
    settings.set("sms.interval", 0.01)
    people = [customer("علی", "رضایی", "09121111111", title="آقای", tags=["vip"]),
              customer("مریم", "احمدی", "09122222222", title="خانم", tags=["vip"]),
              customer("سارا", "نوری", "09122222222", title="خانم", tags=["vip"]),     # the same mobile
              customer("رضا", "کریمی", "09123333333", title="آقای", tags=["vip"]),
              customer("شرکت", "بی‌همراه", "02188776655", tags=["vip"]),
              customer("نیما", "صادقی", "09124444444", title="آقای")]
    service.opt_out("09123333333")
    yield people
    clock.set_now(None)


def test_template_editor_preview_counter_and_warning(qtbot, office, tmp_path, typer):
    from ui.sms.template_editor import TemplateEditor

    settings.set("sms.line_kind", "service")
    ed = TemplateEditor(sample={"نام": "خانم مریم احمدی"})
    qtbot.addWidget(ed)
    ed.resize(1000, 420)
    ed.show()
    typer(ed.body, "سلام ")
    ed.insert_field("نام")
    typer(ed.body, "، جشنواره پاییزه با ۳۰٪ تخفیف تا آخر هفته.")
    p = ed.preview()
    assert ed.bubble.text() == p.text == "سلام خانم مریم احمدی، جشنواره پاییزه با ۳۰٪ تخفیف تا آخر هفته."
    assert len(p.text) == 62 and ed.counter.text().startswith("۶۲ نویسه، ۱ پیامک، فارسی")
    assert "خط شما خدماتی" in ed.warnings.text() and ed.warnings.isVisible()
    typer(ed.body, " " + "ب" * 10)
    assert "، ۲ پیامک،" in ed.counter.text() and "۶۷ نویسه در هر پیامک" in ed.counter.text()
    ed.name.setText("جشنواره")
    ed.save()
    assert "ذخیره شد" in ed.saved_label.text()
    shot(ed, tmp_path, "sms-template-editor")


def test_send_one_from_the_customer_file(qtbot, office, kavenegar):
    from ui.sms import send_sms_dialog

    dlg = send_sms_dialog(None, customer_id=office[0].id)
    qtbot.addWidget(dlg)
    assert dlg.chosen_number() == "09121111111"
    dlg.editor.set_text("{نام} عزیز، سفارش شما آماده تحویل است.")
    dlg.send()
    qtbot.waitUntil(lambda: dlg.result_message is not None, timeout=10_000)
    assert kavenegar.sent[0]["text"] == "آقای علی رضایی عزیز، سفارش شما آماده تحویل است."
    assert "فرستاده شد" in dlg.status.text()
    kavenegar.error = 418
    dlg.send()
    qtbot.waitUntil(lambda: "اعتبار" in dlg.status.text(), timeout=10_000)


def test_group_send_preview_exclusions_and_progress(qtbot, office, tmp_path, kavenegar):
    from ui.sms.group_send import GroupSendDialog

    dlg = GroupSendDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.tag.setCurrentIndex(dlg.tag.findData("vip"))
    assert dlg.plan.total == 2
    assert (dlg.plan.opted_out, dlg.plan.duplicates, dlg.plan.no_mobile) == (1, 1, 1)
    assert dlg.model.rowCount() == 2
    assert "۲ گیرنده" in dlg.plan_label.text() and "لغو دریافت" in dlg.plan_label.text()
    dlg.editor.set_text("{نام} گرامی، فروشگاه از شنبه ساعت ۹ باز است.")
    assert dlg.editor.bubble.text().startswith("خانم مریم احمدی گرامی")     # the first in list order
    shot(dlg, tmp_path, "sms-group-send")
    asked = []
    dlg.ask = lambda text: asked.append(text) or False
    dlg.send_button.click()
    assert asked and "۲ گیرنده" in asked[0] and "نزدیک به ۲ پیامک" in asked[0]
    assert not kavenegar.sent and dlg.status.text() == "فرستاده نشد." and not Message.select().exists()
    dlg.ask = lambda text: True
    dlg.send_button.click()
    qtbot.waitUntil(lambda: dlg.summary is not None, timeout=15_000)
    assert dlg.summary.sent == 2 and sorted(kavenegar.by_number) == ["09121111111", "09122222222"]
    assert "فرستاده: ۲" in dlg.status.text()
    assert service.counts(dlg.campaign_id) == {"sent": 2}


def test_group_send_cancel_stops_between_batches(qtbot, office, kavenegar, monkeypatch):
    from app.sms.providers.kavenegar import Kavenegar
    from ui.sms.group_send import GroupSendDialog

    monkeypatch.setattr(Kavenegar, "max_batch", 1)
    kavenegar.delay = 0.3
    dlg = GroupSendDialog()
    qtbot.addWidget(dlg)
    dlg.editor.set_text("اطلاعیه")
    dlg.send()
    qtbot.waitUntil(lambda: len(kavenegar.sent) >= 1, timeout=10_000)
    dlg.cancel()
    qtbot.waitUntil(lambda: dlg.summary is not None, timeout=15_000)
    assert dlg.plan.total == 3 and 1 <= dlg.summary.sent < 3
    assert Message.select().where(Message.state == "queued").count() == 0
    assert Message.select().where(Message.state == "cancelled").count() == 3 - dlg.summary.sent
    assert sum(kavenegar.by_number.values()) == dlg.summary.sent


def test_segment_builder_live_count_and_save(qtbot, office, tmp_path):
    from app.sms import segments
    from ui.sms.segment_builder import SegmentBuilder

    w = SegmentBuilder()
    qtbot.addWidget(w)
    w.resize(1100, 560)
    w.show()
    assert w.count == 6
    w.gender.setCurrentIndex(w.gender.findData("female"))
    qtbot.waitUntil(lambda: w.count == 2, timeout=3000)
    assert w.count_label.text().startswith("۲ مشتری") and "بانوان" in w.count_label.text()
    w.tag.setCurrentIndex(w.tag.findData("vip"))
    w.period_from.setText("1405/13/01")
    qtbot.waitUntil(lambda: "ماه" in w.error_label.text(), timeout=3000)
    w.period_from.setText("")
    w.name.setText("بانوان ویژه")
    w.save()
    assert [n for _, n, _ in segments.saved()] == ["بانوان ویژه"]
    shot(w, tmp_path, "sms-segment-builder")


def test_settings_panel_never_shows_the_key(qtbot, office, kavenegar):
    from ui.sms.settings_panel import KEY_SAVED, SmsSettingsPanel

    panel = SmsSettingsPanel()
    qtbot.addWidget(panel)
    assert panel.key.text() == "" and panel.key.placeholderText() == KEY_SAVED
    panel.key.setText("new-key")
    panel.save()
    assert settings.get("sms.key") == "new-key" and panel.key.text() == ""
    panel.key.setText("test-key")
    panel.test_number.setText("09125555555")
    panel.test_send()
    qtbot.waitUntil(lambda: "فرستاده شد" in panel.test_status.text(), timeout=10_000)
    assert kavenegar.by_number["09125555555"] == 1
    assert settings.get("sms.key") == "new-key"           # the test used the page's key without saving it


def test_settings_panel_window_friday_rule_and_test_send_messages(qtbot, office, kavenegar, tmp_path):
    from PySide6.QtCore import QTime

    from app.sms import automatic
    from ui.sms.settings_panel import SmsSettingsPanel

    panel = SmsSettingsPanel()
    qtbot.addWidget(panel)
    panel.resize(1150, 520)
    panel.show()
    panel.window_start.setTime(QTime(21, 0))
    panel.window_end.setTime(QTime(8, 0))
    assert not panel.save() and "پایان بازه ارسال" in panel.status.text()
    assert settings.get("sms.auto.window_start") == "09:00"                 # nothing changed
    panel.window_start.setTime(QTime(8, 30))
    panel.window_end.setTime(QTime(19, 0))
    assert panel.window_start.text() == "۰۸:۳۰"          # hours first, also in the right-to-left layout
    panel.fridays.setChecked(True)
    panel.auto_checks["cheque"].setChecked(True)
    panel.cheque_days.setValue(2)
    dlg = panel.edit_text("cheque")
    dlg.editor.set_text("{نام} گرامی، چک {شماره_چک} در {سررسید_چک} سررسید می‌شود.")
    dlg.accept()
    assert panel.save() and "یادآوری سررسید چک" in panel.status.text()
    assert automatic.window() == (dt.time(8, 30), dt.time(19, 0)) and automatic.is_send_day(dt.date(2026, 11, 27))
    assert settings.get("sms.auto.cheque.enabled") and settings.get("sms.auto.cheque.days") == 2
    assert settings.get("sms.auto.cheque.text").startswith("{نام} گرامی، چک")

    panel.test_number.setText("")
    panel.test_send()
    assert "شماره همراهی" in panel.test_status.text()
    panel.test_number.setText("02188776655")
    panel.test_send()
    assert "شماره همراه نیست" in panel.test_status.text() and not kavenegar.sent
    panel.key.setText("wrong-key")
    panel.test_number.setText("۰۹۱۲۵۵۵۵۵۵۵")
    op = panel.test_send()
    qtbot.waitUntil(lambda: not op.running, timeout=10_000)
    assert panel.test_status.text().startswith("ارسال آزمایشی انجام نشد:") and "کلید" in panel.test_status.text()
    assert panel.test_button.isEnabled()
    panel.key.clear()
    op = panel.test_send()
    qtbot.waitUntil(lambda: not op.running, timeout=10_000)
    assert "فرستاده شد" in panel.test_status.text() and kavenegar.by_number["09125555555"] == 1
    shot(panel, tmp_path, "sms-settings")
