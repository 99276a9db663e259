"""Email in the program: the settings tab (checked values, the password never shown again, «ارسال آزمایشی»
through a real SMTP conversation with a local server) and the email dialog of the customer file."""
from __future__ import annotations

import email
from email import policy

import pytest

from app import settings
from models.messaging import Message
from tests.sms.test_ui import shot

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def panel(qtbot, db):
    from ui.sms.email_settings import EmailSettingsPanel

    settings.set("office.name", "بازرگانی پیوند")
    p = EmailSettingsPanel()
    qtbot.addWidget(p)
    p.resize(1100, 480)
    p.show()
    return p


def _fill(panel, port, sender="info@peyvand.ir", password="s3cret"):
    panel.host.setText("127.0.0.1")
    panel.security.setCurrentIndex(panel.security.findData("none"))
    panel.port.setText(str(port))
    panel.user.setText("office")
    panel.password.setText(password)
    panel.sender.setText(sender)
    panel.sender_name.setText("فروش پیوند")


def test_bad_port_or_sender_saves_nothing(panel):
    _fill(panel, "پنجاه")
    assert not panel.save()
    assert "درگاه SMTP باید عددی" in panel.status.text()
    assert settings.get("email.host") == "" and settings.get("email.password") == ""
    _fill(panel, "70000")
    assert not panel.save() and "درگاه" in panel.status.text()
    _fill(panel, "۵۸۷", sender="info at peyvand")
    assert not panel.save()
    assert "«info at peyvand» نشانی ایمیل درستی برای فرستنده نیست" in panel.status.text()
    assert settings.get("email.host") == "" and settings.get("email.sender") == ""


def test_saved_with_persian_digits_and_the_password_is_never_shown(panel, tmp_path):
    from ui.sms.email_settings import PASSWORD_SAVED

    _fill(panel, "۵۸۷")
    panel.security.setCurrentIndex(panel.security.findData("starttls"))
    assert panel.save(), panel.status.text()
    assert "ذخیره شد" in panel.status.text()
    assert (settings.get("email.host"), settings.get("email.port"), settings.get("email.security"),
            settings.get("email.password"), settings.get("email.sender_name")) == \
        ("127.0.0.1", 587, "starttls", "s3cret", "فروش پیوند")
    assert panel.password.text() == "" and panel.password.placeholderText() == PASSWORD_SAVED
    panel.user.setText("office2")                    # saved again without a password: the old one stays
    assert panel.save() and settings.get("email.password") == "s3cret" and settings.get("email.user") == "office2"
    panel.security.setCurrentIndex(panel.security.findData("ssl"))
    assert panel.port.text() == "465"                # the usual port follows the security
    shot(panel, tmp_path, "email-settings")


def test_test_send_reaches_the_server_or_says_why_not(qtbot, panel, smtp_server):
    _fill(panel, smtp_server.port)
    panel.test_address.setText("not an address")
    assert panel.test_send() is None and "نشانی ایمیل درست نیست" in panel.test_status.text()
    panel.test_address.setText("me@example.ir")
    op = panel.test_send()                           # the values on the page, not saved
    qtbot.waitUntil(lambda: not op.running, timeout=15_000)
    assert "ایمیل آزمایشی به me@example.ir فرستاده شد" in panel.test_status.text(), panel.test_status.text()
    parsed = email.message_from_bytes(smtp_server.received[0], policy=policy.default)
    assert parsed["Subject"] == "ایمیل آزمایشی پیوند" and "info@peyvand.ir" in parsed["From"]
    assert "فروش پیوند" in str(parsed["From"])
    assert settings.get("email.host") == ""          # a test sends; it does not save
    panel.password.setText("wrong")
    op = panel.test_send()
    qtbot.waitUntil(lambda: not op.running, timeout=15_000)
    assert panel.test_status.text().startswith("ارسال آزمایشی انجام نشد")
    assert "گذرواژه" in panel.test_status.text()
    assert Message.select().where(Message.channel == "email").count() == 2
