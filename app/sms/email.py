"""Email through the office's SMTP server (smtplib; STARTTLS on 587, SSL on 465, or plain inside a LAN), with the
same templates and the same outbox as SMS: a row is written before the message is sent, its state after.

A row is committed as "sending" before the server is called. A program that dies in the middle (a crash, a power
cut) leaves it so; SMTP cannot be asked afterwards whether the server took the message, so such a row, once
older than a few minutes, becomes «نامعلوم» (uncertain) like an SMS the provider cannot be asked about — never
sent again without a person deciding to (`settle_interrupted`, run by the outbox screen when it reads and before
a group send). Each single send, and each group send as a whole, is one entry in the office audit log."""
from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from app import fmt, options, settings
from app.core.clock import now
from app.core.errors import UserError
from app.customers import timeline
from app.sms import config, templates
from models.messaging import Campaign, Message, OptOut
from models.writer import writes

logger = logging.getLogger(__name__)
_ = config            # declares the email.* settings

ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
STALE_AFTER = 180.0          # seconds: an email "sending" for longer belongs to a program that died mid-send
UNCERTAIN_TEXT = ("ارسال این ایمیل در میانه قطع شد و معلوم نیست کارگزار ایمیل آن را گرفت یا نه؛ دوباره فرستاده "
                  "نشد تا دو بار نرسد. از گیرنده بپرسید و اگر نرسیده است، دوباره بفرستید.")


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
    """The row of a single send, committed as "sending" before the server is called."""
    from app.sms.service import _row

    row = {**_row(customer_id, to, body, purpose, channel="email", subject=subject), "state": "sending",
           "sending_at": now()}
    return Message.create(**row)


@writes
def _done(message_id: int, ok: bool, error: str = "", audited: bool = False) -> None:
    """The outcome on the row and the customer's timeline; `audited`: a person's single send, also in the audit
    log (in the same transaction)."""
    m = Message.get_by_id(message_id)
    m.state = "sent" if ok else "failed"
    m.sent_at = now() if ok else None
    m.error = error
    m.save()
    if m.customer_id:
        timeline.record(m.customer_id, "email_out",
                        f"{'ایمیل فرستاده شد' if ok else 'ایمیل فرستاده نشد'}: {m.subject[:80]}",
                        ref_table="message", ref_id=m.id)
    if audited:
        from app.office import audit

        summary = f"ایمیل «{m.subject[:60]}» به {m.recipient}"
        if not ok:
            summary += f" — فرستاده نشد: {error}"
        audit.record("email", "message", m.id, summary)


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
        _done(row.id, False, e.message, audited=True)
        raise
    _done(row.id, True, audited=True)
    return Message.get_by_id(row.id)


def _stuck(cutoff: dt.datetime):
    return ((Message.channel == "email") & (Message.state == "sending")
            & ((Message.sending_at <= cutoff) | (Message.sending_at.is_null() & (Message.created_at <= cutoff))))


@writes
def _settle(cutoff: dt.datetime) -> int:
    return Message.update(state="uncertain", error=UNCERTAIN_TEXT, claim="").where(_stuck(cutoff)).execute()


def settle_interrupted(stale_after: float = STALE_AFTER) -> int:
    """Emails left "sending" by a program that died mid-send (older than `stale_after` seconds) become
    uncertain; returns how many. A fresher row may still be in another desk's hands and is left alone. Reads
    first, so the outbox can call it on every read without a write."""
    cutoff = now() - dt.timedelta(seconds=stale_after)
    if not Message.select(Message.id).where(_stuck(cutoff)).exists():
        return 0
    n = _settle(cutoff)
    if n:
        logger.warning("%d email(s) left sending by an interrupted run are now uncertain", n)
    return n



def customer_address(customer_id: int) -> str:
    """The customer's email address as stored ("" when none)."""
    from models.core import Customer

    row = Customer.select(Customer.email).where(Customer.id == customer_id).tuples().first()
    return (row[0] or "").strip() if row else ""


# --- group send -----------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """Who a group email reaches: one (customer, address) per row, and why the others are left out."""

    rows: list[tuple[int, str]] = field(default_factory=list)
    opted_out: int = 0
    duplicates: int = 0
    no_address: int = 0

    @property
    def total(self) -> int:
        return len(self.rows)


def plan(customer_ids: Iterable[int]) -> Plan:
    """The customers' addresses (a well-formed one each), opted-out addresses and duplicates left out."""
    from models.core import Customer

    ids = list(dict.fromkeys(customer_ids))
    found: dict[int, str] = {}
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        found.update((cid, (mail or "").strip().lower()) for cid, mail in
                     Customer.select(Customer.id, Customer.email).where(Customer.id.in_(chunk)).tuples())
    addresses = {a for a in found.values() if a}
    blocked: set[str] = set()
    listed = sorted(addresses)
    for lo in range(0, len(listed), 500):
        blocked.update(r[0] for r in OptOut.select(OptOut.recipient)
                       .where(OptOut.recipient.in_(listed[lo:lo + 500])).tuples())
    out, seen = Plan(), set()
    for cid in ids:
        a = found.get(cid, "")
        if not ADDRESS.fullmatch(a):
            out.no_address += 1
        elif a in blocked:
            out.opted_out += 1
        elif a in seen:
            out.duplicates += 1
        else:
            seen.add(a)
            out.rows.append((cid, a))
    return out


@writes
def queue_group(customer_ids: Iterable[int], subject: str, body: str, purpose: str = "service",
                name: str = "") -> tuple[int, Plan]:
    """Queue one email per recipient of a group send, all in one transaction (all or none are queued).
    Only a role with «messages.group»."""
    from app.office import roles
    from app.sms.service import _row

    roles.require("messages.group")
    if not (subject or "").strip():
        raise EmailError("موضوع ایمیل خالی است.", field="subject", en="The subject is empty.")
    if not (body or "").strip():
        raise EmailError("متن ایمیل خالی است.", field="body", en="The message is empty.")
    if not can_send():
        raise EmailError("ایمیل هنوز راه نیفتاده است: در «تنظیمات › ایمیل» کارگزار SMTP و نشانی فرستنده را وارد "
                         "کنید.", en="Email is not set up.")
    p = plan(customer_ids)
    if not p.rows:
        raise EmailError("در این گروه هیچ نشانی ایمیلی برای فرستادن نیست.", en="No email addresses in this group.")
    camp = Campaign.create(name=name or subject[:60], channel="email", purpose=purpose, body=body, total=p.total)
    _audit_group(camp.id, subject, p)
    ctxs = templates.contexts([cid for cid, _ in p.rows], subject + body)
    rows = []
    for cid, address in p.rows:
        values = {**templates.office_context(), **ctxs.get(cid, {})}
        rows.append(_row(cid, address, templates.render(body, values), purpose, campaign=camp.id, channel="email",
                         subject=templates.render(subject, values)[:200]))
    for lo in range(0, len(rows), 500):
        Message.insert_many(rows[lo:lo + 500]).execute()
    return camp.id, p


def _audit_group(campaign_id: int, subject: str, p: Plan) -> None:
    """One audit entry for the whole group send (not one per message), in the queueing transaction."""
    from app.office import audit

    summary = f"ایمیل گروهی «{subject[:60]}» به {fmt.count(p.total, 'نشانی')}"
    left = [(p.opted_out, "لغوکرده"), (p.duplicates, "تکراری"), (p.no_address, "بی‌نشانی")]
    if any(n for n, _ in left):
        summary += " (کنار ماند: " + "، ".join(f"{label} {fmt.num(n)}" for n, label in left if n) + ")"
    audit.record("email_group", "campaign", campaign_id, summary,
                 {"recipients": [None, p.total], "opted_out": [None, p.opted_out],
                  "duplicates": [None, p.duplicates], "no_address": [None, p.no_address]})


@writes
def _claim(message_id: int) -> bool:
    """queued → sending by a compare-and-set: two runs (two desks) never send the same row."""
    return bool(Message.update(state="sending", sending_at=now())
                .where(Message.id == message_id, Message.state == "queued").execute())


def deliver_group(campaign_id: int, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None):
    """Send a campaign's queued emails one by one (a row is `sending` before the server is called, so a crash
    never sends it twice). Stops between messages when cancelled; returns a service.Summary."""
    from app.sms.service import Summary

    settle_interrupted()
    ids = [r[0] for r in Message.select(Message.id).where(Message.campaign == campaign_id, Message.channel == "email",
                                                          Message.state == "queued").order_by(Message.id).tuples()]
    summary = Summary()
    for i, mid in enumerate(ids):
        if cancelled is not None and cancelled():
            summary.remaining = len(ids) - i
            break
        if not _claim(mid):
            continue
        m = Message.get_by_id(mid)
        try:
            smtp_send(build(m.recipient, m.subject, m.body))
        except EmailError as e:
            _done(mid, False, e.message)
            summary.failed += 1
            summary.errors.append(e.message)
        else:
            _done(mid, True)
            summary.sent += 1
        if progress is not None:
            progress(i + 1, len(ids))
    return summary


@writes
def cancel_queued(campaign_id: int) -> int:
    return (Message.update(state="cancelled").where(Message.campaign == campaign_id, Message.channel == "email",
                                                    Message.state == "queued").execute())


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
