"""Email through the office's SMTP server (smtplib; STARTTLS on 587, SSL on 465, or plain inside a LAN), with the
same templates and the same outbox as SMS: a row is written before the message is sent, its state after."""
from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from app import options, settings
from app.core.clock import now
from app.core.errors import UserError
from app.customers import timeline
from app.sms import config, templates
from models.messaging import Message, OptOut
from models.writer import writes

logger = logging.getLogger(__name__)
_ = config            # declares the email.* settings

ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class EmailError(UserError):
    pass


def _smtp_error(e: BaseException) -> EmailError:
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return EmailError("نام کاربری یا گذرواژه کارگزار ایمیل (SMTP) پذیرفته نشد.", en="SMTP login refused.")
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return EmailError("کارگزار ایمیل نشانی گیرنده را نپذیرفت.", en="The SMTP server refused the recipient.")
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return EmailError("کارگزار ایمیل STARTTLS را پشتیبانی نمی‌کند؛ در تنظیمات، SSL یا بدون رمزنگاری را برگزینید.",
                          en="The SMTP server does not support STARTTLS.")
    if isinstance(e, ssl.SSLError):
        return EmailError("اتصال امن (TLS) به کارگزار ایمیل برقرار نشد؛ درگاه و نوع امنیت را بررسی کنید.",
                          en="TLS to the SMTP server failed.")
    if isinstance(e, (socket.gaierror, ConnectionRefusedError, TimeoutError, socket.timeout, OSError)):
        return EmailError("به کارگزار ایمیل وصل نشد؛ نشانی و درگاه SMTP و اینترنت را بررسی کنید.",
                          en="Could not connect to the SMTP server.")
    return EmailError("کارگزار ایمیل پیام را نپذیرفت.", en="The SMTP server refused the message.")


def smtp_send(msg: EmailMessage, host: str | None = None, port: int | None = None, security: str | None = None,
              user: str | None = None, password: str | None = None, timeout: float = 20.0) -> None:
    host = host or settings.get(options.EMAIL_HOST)
    port = int(port or settings.get(options.EMAIL_PORT))
    security = security or settings.get(options.EMAIL_SECURITY)
    user = settings.get(options.EMAIL_USER) if user is None else user
    password = settings.get(options.EMAIL_PASSWORD) if password is None else password
    if not host:
        raise EmailError("کارگزار ایمیل (SMTP) در تنظیمات وارد نشده است.", en="No SMTP server is set.")
    smtp: smtplib.SMTP
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                smtp.login(user, password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        logger.warning("smtp to %s:%s failed: %s", host, port, e)
        raise _smtp_error(e) from e


def build(to: str, subject: str, body: str, sender: str | None = None, sender_name: str = "") -> EmailMessage:
    sender = sender or settings.get(options.EMAIL_SENDER)
    sender_name = (sender_name or settings.get(options.EMAIL_SENDER_NAME) or settings.get(options.OFFICE_NAME)
                   or "")
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1] if "@" in sender else None)
    msg.set_content(body)
    # Persian reads right to left in mail clients that honour the HTML part.
    html = "<br>".join(_escape(line) for line in body.splitlines())
    msg.add_alternative(f'<div dir="rtl" style="font-family:Tahoma,Vazirmatn,sans-serif">{html}</div>',
                        subtype="html")
    return msg


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@writes
def _queue(to: str, subject: str, body: str, customer_id: int | None, purpose: str) -> Message:
    from app.sms.service import _row

    return Message.create(**_row(customer_id, to, body, purpose, channel="email", subject=subject))


@writes
def _done(message_id: int, ok: bool, error: str = "") -> None:
    m = Message.get_by_id(message_id)
    m.state = "sent" if ok else "failed"
    m.sent_at = now() if ok else None
    m.error = error
    m.save()
    if m.customer_id:
        timeline.record(m.customer_id, "email_out",
                        f"{'ایمیل فرستاده شد' if ok else 'ایمیل فرستاده نشد'}: {m.subject[:80]}",
                        ref_table="message", ref_id=m.id)


def send_email(to: str, subject: str, body: str, customer_id: int | None = None, purpose: str = "service",
               ctx: dict | None = None, sender: str | None = None, sender_name: str = "", **smtp) -> Message:
    """Render merge fields, write the row, send, record the outcome (a failure raises its Persian reason).
    `sender`/`sender_name` and the SMTP keywords override the saved settings (the settings' test send)."""
    to = (to or "").strip()
    if not ADDRESS.fullmatch(to):
        raise EmailError(f"«{to}» نشانی ایمیل درست نیست.", field="to", en="Invalid email address.")
    if OptOut.select().where(OptOut.recipient == to.lower()).exists():
        raise EmailError("این نشانی دریافت پیام را لغو کرده است؛ ایمیلی فرستاده نشد.", en="This address opted out.")
    if not subject.strip():
        raise EmailError("موضوع ایمیل خالی است.", field="subject", en="The subject is empty.")
    if not body.strip():
        raise EmailError("متن ایمیل خالی است.", field="body", en="The message is empty.")
    sender = (sender or settings.get(options.EMAIL_SENDER) or "").strip()
    if not ADDRESS.fullmatch(sender):
        raise EmailError("نشانی فرستنده ایمیل در تنظیمات وارد نشده است.", en="No sender address is set.")
    values = {**templates.office_context(), **(ctx or {})}
    if customer_id:
        values.update(templates.contexts([customer_id], subject + body).get(customer_id, {}))
    subject, body = templates.render(subject, values), templates.render(body, values)
    row = _queue(to, subject, body, customer_id, purpose)
    try:
        smtp_send(build(to, subject, body, sender=sender, sender_name=sender_name), **smtp)
    except EmailError as e:
        _done(row.id, False, e.message)
        raise
    _done(row.id, True)
    return Message.get_by_id(row.id)



def customer_address(customer_id: int) -> str:
    """The customer's email address as stored ("" when none)."""
    from models.core import Customer

    row = Customer.select(Customer.email).where(Customer.id == customer_id).tuples().first()
    return (row[0] or "").strip() if row else ""


# --- settings -------------------------------------------------------------------------------------------------

SECURITY_LABELS = {"starttls": "STARTTLS (معمولاً درگاه ۵۸۷)", "ssl": "SSL/TLS (معمولاً درگاه ۴۶۵)",
                   "none": "بدون رمزنگاری (فقط درون شبکه دفتر)"}


def password_is_set() -> bool:
    return bool(settings.get(options.EMAIL_PASSWORD))


def can_send() -> bool:
    """An SMTP server and a sender address are set."""
    return bool(settings.get(options.EMAIL_HOST)) and bool(ADDRESS.fullmatch(settings.get(options.EMAIL_SENDER) or ""))


def check_settings(host: str, port, security: str, sender: str) -> dict:
    """The email settings a person typed, checked: {option: value}, or a Persian UserError naming the field."""
    from app.core.text import to_ascii_digits

    host, sender = (host or "").strip(), (sender or "").strip()
    port_text = to_ascii_digits(str(port if port is not None else "")).strip()
    if not host:
        raise EmailError("نشانی کارگزار ایمیل (SMTP) را بنویسید، مانند smtp.gmail.com یا mail.example.ir.",
                         field="host", en="Write the SMTP server.")
    if any(c.isspace() for c in host) or "@" in host or "/" in host:
        raise EmailError(f"«{host}» نشانی کارگزار درستی نیست؛ فقط نام کارگزار را بنویسید، مانند mail.example.ir.",
                         field="host", en="Invalid SMTP server name.")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise EmailError("درگاه SMTP باید عددی میان ۱ تا ۶۵۵۳۵ باشد (معمولاً ۵۸۷ یا ۴۶۵).", field="port",
                         en="The SMTP port must be a number from 1 to 65535.")
    if security not in SECURITY_LABELS:
        raise EmailError("نوع امنیت اتصال را برگزینید.", field="security", en="Choose the connection security.")
    if not ADDRESS.fullmatch(sender):
        raise EmailError(f"«{sender}» نشانی ایمیل درستی برای فرستنده نیست (مانند info@example.ir)."
                         if sender else "نشانی ایمیل فرستنده را بنویسید (مانند info@example.ir).",
                         field="sender", en="Invalid sender address.")
    return {options.EMAIL_HOST: host, options.EMAIL_PORT: int(port_text), options.EMAIL_SECURITY: security,
            options.EMAIL_SENDER: sender}


@writes
def save_settings(host: str, port, security: str, user: str, sender: str, sender_name: str = "",
                  password: str | None = None) -> None:
    """Save the email settings in one transaction; a bad value saves nothing. The password is written only
    when a new one is given (it is never read back into the screen)."""
    values = check_settings(host, port, security, sender)
    values[options.EMAIL_USER] = (user or "").strip()
    values[options.EMAIL_SENDER_NAME] = (sender_name or "").strip()
    if password:
        values[options.EMAIL_PASSWORD] = password
    for opt, value in values.items():
        settings.set(opt, value)


TEST_SUBJECT = "ایمیل آزمایشی پیوند"
TEST_BODY = "این ایمیل آزمایشی است: تنظیمات ایمیل نرم‌افزار درست است."
