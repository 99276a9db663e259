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
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name or settings.get(options.OFFICE_NAME) or "", sender))
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
               ctx: dict | None = None, **smtp) -> Message:
    """Render merge fields, write the row, send, record the outcome (a failure raises its Persian reason)."""
    to = (to or "").strip()
    if not ADDRESS.fullmatch(to):
        raise EmailError(f"«{to}» نشانی ایمیل درست نیست.", field="to", en="Invalid email address.")
    if OptOut.select().where(OptOut.recipient == to.lower()).exists():
        raise EmailError("این نشانی دریافت پیام را لغو کرده است؛ ایمیلی فرستاده نشد.", en="This address opted out.")
    if not ADDRESS.fullmatch(settings.get(options.EMAIL_SENDER) or ""):
        raise EmailError("نشانی فرستنده ایمیل در تنظیمات وارد نشده است.", en="No sender address is set.")
    values = {**templates.office_context(), **(ctx or {})}
    if customer_id:
        values.update(templates.contexts([customer_id], subject + body).get(customer_id, {}))
    subject, body = templates.render(subject, values), templates.render(body, values)
    row = _queue(to, subject, body, customer_id, purpose)
    try:
        smtp_send(build(to, subject, body), **smtp)
    except EmailError as e:
        _done(row.id, False, e.message)
        raise
    _done(row.id, True)
    return Message.get_by_id(row.id)

