"""The outbox: every SMS is a row written before it is sent.

    queue → claim (state "sending", committed) → provider.send → record (sent / failed, committed)

Nothing goes out twice after a crash or a retry: a row is committed as "sending" before its provider call,
and a delivery run first resumes the rows a dead run left in "sending" (older than `stale_after`). Providers
that can be asked about our own id (Kavenegar `statuslocalmessageid`, Ghasedak `CheckSmsStatus Type=2`) are
asked: what they have is recorded as sent, what they never got goes back to the queue. The others (sms.ir,
Melipayamak, IPPanel, a GSM modem) cannot be asked: those rows become "uncertain" and are never re-sent
without a person deciding to.

Group sends exclude opted-out numbers and send each number once; calls are throttled to the provider's
batch size and interval. Every message is written on its customer's timeline.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import peewee as pw

from app import options, settings
from app.core import phones
from app.core.clock import now
from app.core.errors import UserError
from app.core.text import to_ascii_digits
from app.customers import timeline
from app.sms import config, encoding, templates
from app.sms.providers import Outgoing, Provider, ProviderError, Result, make
from app.sms.providers import base as pbase
from models.core import Customer, PhoneNumber
from models.messaging import Campaign, InboundMessage, Message, OptOut
from models.writer import writer, writes

logger = logging.getLogger(__name__)


STATE_LABELS = {"queued": "در صف", "sending": "در حال ارسال", "sent": "فرستاده شد", "delivered": "رسید",
                "undelivered": "نرسید", "failed": "ناموفق", "uncertain": "نامعلوم (قطع در میانه ارسال)",
                "cancelled": "لغو شد"}
UNCERTAIN_TEXT = ("ارسال این پیام در میانه قطع شد و سامانه پیامک راهی برای پرسیدن آن ندارد؛ دوباره فرستاده "
                  "نشد تا دو بار نرسد. در گزارش پنل بررسی کنید و اگر نرسیده است، دوباره بفرستید.")
STALE_AFTER = 120.0          # seconds: a "sending" row older than this belongs to a run that died


def provider_from_settings(**override) -> Provider:
    s = config.provider_settings()
    s.update({k: v for k, v in override.items() if v not in (None, "")})
    name = s.pop("name")
    port = s.pop("port", "")
    if name == "gsm" and not s.get("base_url"):
        s["base_url"] = port
    if name != "gsm" and not s.get("key"):
        raise UserError("کلید دسترسی سامانه پیامک وارد نشده است؛ در تنظیمات پیامک آن را وارد کنید.",
                        en="No SMS provider key is set; enter it in the SMS settings.")
    p = make(name, **s)
    interval = float(settings.get(options.SMS_INTERVAL) or 0)
    if interval > 0:
        p.min_interval = interval
    return p


# --- numbers, opt-outs -------------------------------------------------------------------------------------------

def mobile_of(raw: str) -> str | None:
    """The canonical mobile number (09xxxxxxxxx) of what was typed, or None when it is not an Iranian mobile."""
    p = phones.normalize(raw)
    return p.canonical if p.kind == phones.MOBILE else None


def is_opted_out(number: str) -> bool:
    return OptOut.select().where(OptOut.recipient == number).exists()


@writes
def opt_out(number: str, note: str = "", source: str = "manual", user: int | None = None) -> None:
    m = mobile_of(number) or number.strip().lower()
    if OptOut.get_or_none(OptOut.recipient == m):
        return
    OptOut.create(recipient=m, source=source, note=note)
    for c in _customers_with(m):
        timeline.record(c, "sms_optout", "دریافت پیامک لغو شد" + (" (پاسخ «لغو۱۱»)" if source == "reply" else ""),
                        user=user)


@writes
def opt_in(number: str, user: int | None = None) -> None:
    m = mobile_of(number) or number.strip().lower()
    OptOut.delete().where(OptOut.recipient == m).execute()


def _customers_with(number: str) -> list[int]:
    return [r[0] for r in PhoneNumber.select(PhoneNumber.customer).where(PhoneNumber.canonical == number).tuples()]


# --- recipients of a group send ------------------------------------------------------------------------------------

@dataclass
class Plan:
    """Who a group send reaches: one (customer, mobile) per row, and why the others are left out."""

    rows: list[tuple[int, str]] = field(default_factory=list)
    opted_out: int = 0
    duplicates: int = 0
    no_mobile: int = 0

    @property
    def total(self) -> int:
        return len(self.rows)


def plan(customer_ids: Iterable[int]) -> Plan:
    ids = list(dict.fromkeys(customer_ids))
    mobiles: dict[int, str] = {}
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        q = (PhoneNumber.select(PhoneNumber.customer, PhoneNumber.canonical)
             .where(PhoneNumber.customer.in_(chunk), PhoneNumber.canonical.startswith("09"),
                    pw.fn.LENGTH(PhoneNumber.canonical) == 11)
             .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).tuples())
        for cid, num in q:
            mobiles.setdefault(cid, num)
    blocked = {r[0] for r in OptOut.select(OptOut.recipient).tuples()}
    out, seen = Plan(), set()
    for cid in ids:
        num = mobiles.get(cid)
        if not num:
            out.no_mobile += 1
        elif num in blocked:
            out.opted_out += 1
        elif num in seen:
            out.duplicates += 1
        else:
            seen.add(num)
            out.rows.append((cid, num))
    return out


# --- queueing ------------------------------------------------------------------------------------------------------

def _local_id() -> int:
    return secrets.randbits(53)          # a positive number every provider's "local id" field accepts


def _row(customer_id: int | None, number: str, text: str, purpose: str, campaign: int | None = None,
         auto_key: str | None = None, user: int | None = None, channel: str = "sms", subject: str = "") -> dict:
    return {"channel": channel, "local_id": _local_id(), "customer": customer_id, "campaign": campaign,
            "recipient": number, "subject": subject, "body": text,
            "parts": encoding.parts_of(text) if channel == "sms" else 1, "purpose": purpose, "state": "queued",
            "auto_key": auto_key, "created_by": user, "created_at": now()}


@writes
def queue_one(number: str, text: str, customer_id: int | None = None, purpose: str = "service",
              auto_key: str | None = None, user: int | None = None) -> Message | None:
    """Queue one SMS. Returns None when `auto_key` was already queued (automatic messages go once)."""
    text = (text or "").strip()
    if not text:
        raise UserError("متن پیام خالی است.", field="body", en="The message is empty.")
    m = mobile_of(number)
    if m is None:
        raise UserError(f"«{number}» شماره همراه ایرانی نیست؛ پیامک فقط به شماره‌های ۰۹… فرستاده می‌شود.",
                        field="number", en=f"{number!r} is not an Iranian mobile number.")
    if is_opted_out(m):
        raise UserError("این شماره دریافت پیامک را لغو کرده است؛ پیامی فرستاده نشد.", en="This number opted out.")
    if auto_key and Message.select().where(Message.auto_key == auto_key).exists():
        return None
    if customer_id is None:
        found = _customers_with(m)
        customer_id = found[0] if len(found) == 1 else None
    return Message.create(**_row(customer_id, m, text, purpose, auto_key=auto_key, user=user))


@writes
def queue_group(customer_ids: Iterable[int], body: str, purpose: str = "service", name: str = "",
                segment: str = "", user: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[int, Plan]:
    """Queue one message per recipient of a group send, all in one transaction (all or none are queued).
    Returns the campaign id and the plan (who was left out, and why). Only a role with «messages.group»."""
    from app.office import roles

    roles.require("messages.group")
    if not (body or "").strip():
        raise UserError("متن پیام خالی است.", field="body", en="The message is empty.")
    p = plan(customer_ids)
    if not p.rows:
        raise UserError("در این گروه هیچ شماره همراهی برای فرستادن نیست.", en="No mobile numbers in this group.")
    camp = Campaign.create(name=name or body[:60], purpose=purpose, body=body, segment=segment, total=p.total,
                           created_by=user)
    ctxs = templates.contexts([cid for cid, _ in p.rows], body)
    add_optout = config.service_line() and bool(settings.get(options.SMS_APPEND_OPTOUT))
    rows = []
    for cid, num in p.rows:
        text = templates.render(body, ctxs.get(cid, {}))
        if add_optout:
            text = templates.with_optout(text)
        rows.append(_row(cid, num, text, purpose, campaign=camp.id, user=user))
    for lo in range(0, len(rows), 500):
        Message.insert_many(rows[lo:lo + 500]).execute()
        if progress:
            progress(min(lo + 500, len(rows)), len(rows))
    return camp.id, p


@writes
def cancel_queued(campaign_id: int | None = None) -> int:
    q = Message.update(state="cancelled").where(Message.state == "queued", Message.channel == "sms")
    if campaign_id is not None:
        q = q.where(Message.campaign == campaign_id)
    return q.execute()


# --- delivery --------------------------------------------------------------------------------------------------------

@dataclass
class Summary:
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    requeued: int = 0          # found unsent after a crash and queued again
    remaining: int = 0
    errors: list[str] = field(default_factory=list)


def _scope(q, campaign_id: int | None, ids: list[int] | None):
    if campaign_id is not None:
        q = q.where(Message.campaign == campaign_id)
    if ids is not None:
        q = q.where(Message.id.in_(ids))
    return q


@writes
def _claim(limit: int, provider: Provider, campaign_id: int | None, ids: list[int] | None) -> list[Message]:
    token = secrets.token_hex(8)
    sub = _scope(Message.select(Message.id).where(Message.state == "queued", Message.channel == "sms"),
                 campaign_id, ids).order_by(Message.id).limit(limit)
    picked = [r[0] for r in sub.tuples()]
    if not picked:
        return []
    (Message.update(state="sending", claim=token, sending_at=now(), provider=provider.name,
                    sender=provider.sender or "")
     .where(Message.id.in_(picked), Message.state == "queued").execute())
    return list(Message.select().where(Message.claim == token).order_by(Message.id))


@writes
def _record(results: list[Result], by_local: dict[int, Message], summary: Summary) -> None:
    at = now()
    acts = []
    for r in results:
        m = by_local.get(r.local_id)
        if m is None:
            continue
        if r.ok:
            Message.update(state="sent", provider_id=r.provider_id, status_code=r.code, sent_at=at, error="") \
                .where(Message.id == m.id).execute()
            summary.sent += 1
            what = "پیامک فرستاده شد"
        else:
            Message.update(state="failed", provider_id=r.provider_id, status_code=r.code,
                           error=r.error or pbase.MEANINGS.get(r.kind, ""), status_at=at) \
                .where(Message.id == m.id).execute()
            summary.failed += 1
            what = "پیامک فرستاده نشد"
        if m.customer_id:
            acts.append({"customer": m.customer_id, "kind": "sms_out", "at": at, "ref_table": "message",
                         "ref_id": m.id, "summary": f"{what}: {m.body[:80]}", "data": "", "user": m.created_by_id})
    if acts:
        from models.core import Activity

        for lo in range(0, len(acts), 500):
            Activity.insert_many(acts[lo:lo + 500]).execute()


record_found = _record      # the outbox screen records what a provider turned out to have


@writes
def _set_state(ids: list[int], state: str, error: str = "") -> None:
    if ids:
        fields = {"state": state, "error": error}
        if state == "queued":
            fields["claim"] = ""
        Message.update(**fields).where(Message.id.in_(ids)).execute()


def resume(provider: Provider, stale_after: float = STALE_AFTER, summary: Summary | None = None) -> Summary:
    """Settle the rows a dead run left in "sending" (see the module's docstring)."""
    summary = summary or Summary()
    cutoff = now() - dt.timedelta(seconds=stale_after)
    stuck = list(Message.select().where(Message.state == "sending", Message.channel == "sms",
                                        Message.provider == provider.name, Message.sending_at <= cutoff))
    if not stuck:
        return summary
    if not provider.can_lookup_local:
        _set_state([m.id for m in stuck], "uncertain", UNCERTAIN_TEXT)
        summary.uncertain += len(stuck)
        return summary
    found = provider.lookup_local([m.local_id for m in stuck])
    by_local = {m.local_id: m for m in stuck}
    _record(list(found.values()), by_local, summary)
    missing = [m.id for m in stuck if m.local_id not in found]
    _set_state(missing, "queued")
    summary.requeued += len(missing)
    logger.info("resumed %d interrupted messages: %d had reached %s, %d queued again",
                len(stuck), len(found), provider.name, len(missing))
    return summary


def deliver(provider: Provider | None = None, campaign_id: int | None = None, ids: list[int] | None = None,
            progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None,
            stale_after: float = STALE_AFTER, sleep: Callable[[float], None] = time.sleep) -> Summary:
    """Send what is queued (of one campaign, or these ids, or everything), batch by batch, throttled."""
    provider = provider or provider_from_settings()
    summary = Summary()
    resume(provider, stale_after, summary)
    total = _scope(Message.select().where(Message.state == "queued", Message.channel == "sms"),
                   campaign_id, ids).count()
    done = 0
    last_call = 0.0
    while not (cancelled and cancelled()):
        batch = _claim(provider.max_batch, provider, campaign_id, ids)
        if not batch:
            break
        wait = provider.min_interval - (time.monotonic() - last_call)
        if wait > 0 and last_call:
            sleep(wait)
        last_call = time.monotonic()
        by_local = {m.local_id: m for m in batch}
        items = [Outgoing(m.local_id, m.recipient, m.body) for m in batch]
        try:
            results = provider.send(items)
        except ProviderError as e:
            summary.errors.append(e.message)
            if e.maybe_sent:
                # It may have gone: ask the provider if it can be asked, otherwise never send it again blindly.
                if provider.can_lookup_local:
                    try:
                        found = provider.lookup_local(list(by_local))
                    except ProviderError:
                        found = None
                    if found is not None:
                        _record(list(found.values()), by_local, summary)
                        missing = [m.id for m in batch if m.local_id not in found]
                        _set_state(missing, "queued")
                        raise
                _set_state([m.id for m in batch], "uncertain", UNCERTAIN_TEXT)
                summary.uncertain += len(batch)
            elif e.kind in (pbase.TEXT, pbase.NUMBER, pbase.BLACKLIST) and len(batch) == 1:
                _record([Result(batch[0].local_id, False, code=e.code, kind=e.kind, error=e.message)],
                        by_local, summary)
                continue
            else:
                _set_state([m.id for m in batch], "queued")     # refused as a whole: nothing went; try later
            raise
        _record(results, by_local, summary)
        done += len(batch)
        if progress:
            progress(done, total)
    summary.remaining = _scope(Message.select().where(Message.state == "queued", Message.channel == "sms"),
                               campaign_id, ids).count()
    return summary


def send_now(number: str, text: str, customer_id: int | None = None, purpose: str = "service",
             provider: Provider | None = None, user: int | None = None) -> Message:
    """One SMS from the customer file (or the command line): queued, sent, and its final row returned.
    A refusal raises the provider's Persian message; the row stays in the outbox either way."""
    provider = provider or provider_from_settings()
    queued = queue_one(number, text, customer_id=customer_id, purpose=purpose, user=user)
    assert queued is not None                      # None only for an automatic message's repeated key
    deliver(provider, ids=[queued.id])
    msg = Message.get_by_id(queued.id)
    if msg.state == "failed":
        raise UserError(msg.error or "پیام فرستاده نشد.", en="The message was not sent.")
    if msg.state == "uncertain":
        raise UserError(msg.error, en="Sending was interrupted; the outcome is unknown.")
    return msg


# --- delivery reports and replies ----------------------------------------------------------------------------------

@writes
def _apply_deliveries(rows: list) -> int:
    at, n = now(), 0
    for d in rows:
        n += Message.update(state=d.state, status_code=d.code, status_at=at) \
            .where(Message.provider_id == d.provider_id, Message.state.in_(("sent", "delivered", "undelivered"))) \
            .execute()
    return n


def poll_status(provider: Provider | None = None, days: int = 3) -> int:
    """Ask the provider about messages sent in the last `days` whose delivery is not yet known."""
    provider = provider or provider_from_settings()
    since = now() - dt.timedelta(days=days)
    pids = [r[0] for r in Message.select(Message.provider_id)
            .where(Message.state == "sent", Message.provider == provider.name, Message.sent_at >= since,
                   Message.provider_id != "").tuples()]
    if not pids:
        return 0
    return _apply_deliveries(provider.status(pids))


_OPTOUT_RE = re.compile(r"^\s*(لغو|انصراف|stop|cancel)?\s*11\s*$|^\s*(لغو|انصراف|stop)\s*$", re.IGNORECASE)


def is_optout_reply(text: str) -> bool:
    return bool(_OPTOUT_RE.match(to_ascii_digits(text or "").replace("\u200c", " ")))


@writes
def _store_replies(provider_name: str, rows: list) -> int:
    n = 0
    for r in rows:
        if InboundMessage.select().where(InboundMessage.provider == provider_name,
                                         InboundMessage.provider_id == r.provider_id).exists():
            continue
        sender = mobile_of(r.sender) or r.sender
        found = _customers_with(sender)
        cid = found[0] if found else None
        InboundMessage.create(provider=provider_name, provider_id=r.provider_id, sender=sender, line=r.line,
                              body=r.text, customer=cid)
        if cid:
            timeline.record(cid, "sms_in", f"پاسخ: {r.text[:80]}", ref_table="inbound_message")
        if is_optout_reply(r.text):
            opt_out(sender, note=r.text, source="reply")
        n += 1
    return n


def read_replies(provider: Provider | None = None) -> int:
    provider = provider or provider_from_settings()
    n = _store_replies(provider.name, provider.inbox())
    if n:
        from app.service import survey

        survey.take_replies()            # «۵» after a service survey: the request's satisfaction score
    return n


# --- the customer's messages -----------------------------------------------------------------------------------------

def counts(campaign_id: int | None = None) -> dict[str, int]:
    q = Message.select(Message.state, pw.fn.COUNT(Message.id)).group_by(Message.state)
    if campaign_id is not None:
        q = q.where(Message.campaign == campaign_id)
    return dict(q.tuples())


def customer_name(customer_id: int) -> str:
    c = Customer.get_or_none(Customer.id == customer_id)
    return c.display_name if c else ""


__all__ = ["queue_one", "queue_group", "deliver", "resume", "send_now", "plan", "opt_out", "opt_in",
           "poll_status", "read_replies", "provider_from_settings", "writer"]
