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


@pytest.fixture
def office_mail(db, smtp_server):
    settings.set("office.name", "بازرگانی پیوند")
    settings.set("email.host", "127.0.0.1")
    settings.set("email.port", smtp_server.port)
    settings.set("email.security", "none")
    settings.set("email.user", "office")
    settings.set("email.password", "s3cret")
    settings.set("email.sender", "info@peyvand.ir")
    return smtp_server


def test_customer_file_email_button_and_dialog(qtbot, office_mail, tmp_path):
    from app.customers import timeline
    from app.sms import templates
    from tests.sms.conftest import customer
    from ui.context import AppContext
    from ui.customers.file import CustomerFileWindow

    maryam = customer("مریم", "احمدی", "09121111111", title="خانم", email="maryam@example.ir")
    ali = customer("علی", "رضایی", "09122222222", title="آقای")
    templates.save_template("یادآوری مانده", "{نام} گرامی،\nمانده حساب شما {مانده} است.\n{نام_دفتر}",
                            channel="email", subject="مانده حساب {نام}")
    templates.save_template("پیامک سلام", "سلام {نام}")                     # an SMS template: not offered

    w = CustomerFileWindow(AppContext(), ali.id)
    qtbot.addWidget(w)
    assert w.email_button.isHidden()                 # no address, no button
    w = CustomerFileWindow(AppContext(), maryam.id)
    qtbot.addWidget(w)
    assert not w.email_button.isHidden()
    dlg = w.send_email()
    qtbot.addWidget(dlg)
    assert dlg.address.text() == "maryam@example.ir"
    combo = dlg.editor.template_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["— الگوی ایمیل —", "یادآوری مانده"]
    combo.setCurrentIndex(1)
    assert dlg.editor.subject_text() == "مانده حساب {نام}"
    assert dlg.editor.preview_subject.text() == "موضوع: مانده حساب خانم مریم احمدی"
    assert "خانم مریم احمدی گرامی" in dlg.editor.bubble.text()
    dlg.resize(1000, 600)
    shot(dlg, tmp_path, "email-dialog")

    dlg.address.setText("maryam at example")
    assert dlg.send() is None and "نشانی ایمیل درست نیست" in dlg.status.text()
    assert not office_mail.received
    dlg.address.setText("maryam@example.ir")
    op = dlg.send()
    qtbot.waitUntil(lambda: not op.running, timeout=15_000)
    assert dlg.status.text() == "ایمیل به maryam@example.ir فرستاده شد.", dlg.status.text()
    parsed = email.message_from_bytes(office_mail.received[0], policy=policy.default)
    assert parsed["Subject"] == "مانده حساب خانم مریم احمدی" and parsed["To"] == "maryam@example.ir"
    assert "بازرگانی پیوند" in parsed.get_body(("plain",)).get_content()
    m = Message.get(Message.channel == "email")
    assert (m.customer_id, m.state, m.subject) == (maryam.id, "sent", "مانده حساب خانم مریم احمدی")
    assert timeline.entries(maryam.id, kinds=["email_out"])

    settings.set("email.password", "wrong")
    op = dlg.send()
    qtbot.waitUntil(lambda: not op.running, timeout=15_000)
    assert dlg.status.text().startswith("ایمیل فرستاده نشد") and "گذرواژه" in dlg.status.text()
    assert Message.select().where(Message.channel == "email", Message.state == "failed").count() == 1


def test_the_dialog_says_when_email_is_not_set_up(qtbot, db):
    from ui.sms.email_dialog import SendEmailDialog

    dlg = SendEmailDialog(address="a@example.ir")
    qtbot.addWidget(dlg)
    assert "تنظیمات › ایمیل" in dlg.status.text()


def test_the_outbox_shows_email_rows_beside_sms(qtbot, office_mail, kavenegar, tmp_path):
    from app.sms import service
    from app.sms.email import send_email
    from tests.sms.conftest import customer
    from ui.context import AppContext
    from ui.sms.page import SmsPage

    settings.set("sms.provider", "kavenegar")
    settings.set("sms.key", "test-key")
    settings.set("sms.sender", "10004346")
    settings.set("sms.base_url", kavenegar.url)
    maryam = customer("مریم", "احمدی", "09121111111", title="خانم", email="maryam@example.ir")
    service.send_now("09121111111", "سلام")
    send_email("maryam@example.ir", "فاکتور {نام}", "فاکتور شما صادر شد.", customer_id=maryam.id)
    settings.set("email.password", "wrong")
    with pytest.raises(Exception, match="گذرواژه"):
        send_email("maryam@example.ir", "یادآوری", "متن")
    page = SmsPage(AppContext())
    qtbot.addWidget(page)
    page.resize(1200, 500)
    page.show()
    m = page.model
    assert m.total == 3
    shown = {m.data(m.index(r, 2)): m.data(m.index(r, 3)) for r in range(m.rowCount())}
    assert shown["maryam@example.ir"] in ("فاکتور خانم مریم احمدی: فاکتور شما صادر شد.", "یادآوری: متن")
    assert "۰۹۱۲" in "".join(shown)                   # the SMS row keeps its number
    failed = [r for r in range(m.rowCount()) if m.row(r).state == "failed"]
    assert m.data(m.index(failed[0], 5)) == "ایمیل تکی"
    page.select_rows(failed)
    assert not page.resend_btn.isEnabled()             # an email is written again from the customer file
    page.channel.setCurrentIndex(page.channel.findData("email"))
    assert m.total == 2
    page.channel.setCurrentIndex(page.channel.findData("sms"))
    assert m.total == 1
    page.channel.setCurrentIndex(0)
    page.search.setText("maryam@")
    page.reload()
    assert m.total == 2
    shot(page, tmp_path, "outbox-email")


def test_group_send_by_email(qtbot, office_mail, tmp_path):
    from app.sms import service
    from tests.sms.conftest import customer
    from ui.sms.group_send import GroupSendDialog

    people = [customer("مریم", "احمدی", "09121111111", title="خانم", email="maryam@example.ir", tags=["vip"]),
              customer("علی", "رضایی", "09122222222", title="آقای", email="ali@example.ir", tags=["vip"]),
              customer("سارا", "نوری", "09123333333", email="Maryam@Example.ir", tags=["vip"]),   # the same address
              customer("رضا", "کریمی", "09124444444", email="reza@example.ir", tags=["vip"]),
              customer("نیما", "صادقی", "09125555555", tags=["vip"])]                          # no address
    service.opt_out("reza@example.ir")
    dlg = GroupSendDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.tag.setCurrentIndex(dlg.tag.findData("vip"))
    dlg.channel.setCurrentIndex(dlg.channel.findData("email"))
    assert dlg.editor.isHidden() and not dlg.email_editor.isHidden()
    assert dlg.plan.total == 2 and (dlg.plan.opted_out, dlg.plan.duplicates, dlg.plan.no_address) == (1, 1, 1)
    assert "۱ مشتری نشانی ایمیل ندارند" in dlg.plan_label.text()
    assert dlg.model.headerData(1, __import__("PySide6.QtCore").QtCore.Qt.Orientation.Horizontal) == "نشانی ایمیل"
    assert {dlg.model.data(dlg.model.index(r, 1)) for r in range(2)} == {"maryam@example.ir", "ali@example.ir"}
    dlg.email_editor.subject.setText("دعوت {نام}")
    dlg.email_editor.body.setPlainText("{نام} گرامی، نمایشگاه از شنبه باز است.")
    shot(dlg, tmp_path, "email-group-send")
    asked = []
    dlg.ask = lambda text: asked.append(text) or True
    dlg.send_button.click()
    qtbot.waitUntil(lambda: dlg.summary is not None, timeout=15_000)
    assert "۲ گیرنده" in asked[0]
    assert dlg.summary.sent == 2 and len(office_mail.received) == 2, dlg.status.text()
    subjects = sorted(email.message_from_bytes(m, policy=policy.default)["Subject"] for m in office_mail.received)
    assert subjects == ["دعوت آقای علی رضایی", "دعوت خانم مریم احمدی"]
    rows = list(Message.select().where(Message.campaign == dlg.campaign_id))
    assert {(m.channel, m.state, m.customer_id) for m in rows} == {("email", "sent", people[0].id),
                                                                    ("email", "sent", people[1].id)}
