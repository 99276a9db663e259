"""The outbox screen's service: which messages (filters), their rows, and what a person may do with a message that
did not go: send it again, or mark it.

Sending again keeps the guarantee of app/sms/service.py that a number never gets the same message twice by
accident:
- only a message that did not go (failed: the provider refused it; queued: left waiting) or whose fate is
  unknown (uncertain) is sent again, and only the row itself goes back to the queue — the same row, with the
  same local id, so a provider that keeps local ids (Kavenegar) recognises a message it already has;
- an uncertain message is sent again only when the person confirmed it (`confirm_uncertain`), and first the
  provider is asked about it when it can be asked (then what it has is recorded as sent, not sent again);
- the row goes back to the queue by a compare-and-set (`state IN (failed, uncertain, queued)`), and a delivery
  run claims only queued rows the same way: two desks (or two clicks) resending the same row send it once;
- a row is left alone when the same text already went (or is going) to the same number within a few days, or
  when the number has opted out since, and twice the same text to one number among the chosen rows goes once.

Marking: an uncertain message the office found in its panel's report is marked «رسیده» (sent); a failed or
uncertain one that should not go is marked «کنار گذاشته شد» (cancelled). Every change goes through the writer.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import peewee as pw

from app import fmt
from app.core.clock import now
from app.core.errors import UserError
from app.core.text import clean, search_key, to_ascii_digits
from app.office import audit
from app.sms import service
from app.sms.providers import Provider
from models.base import db
from models.core import Customer
from models.messaging import Campaign, Message, OptOut
from models.writer import writes

logger = logging.getLogger(__name__)

# what the state filter offers: key → (Persian label, states)
STATE_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("همه پیام‌ها", ()),
    "sent": ("فرستاده‌شده", ("sent", "delivered", "undelivered")),
    "delivered": ("رسیده به گوشی", ("delivered",)),
    "failed": ("ناموفق", ("failed",)),
    "uncertain": ("نامعلوم", ("uncertain",)),
    "pending": ("در صف یا در حال ارسال", ("queued", "sending")),
    "cancelled": ("کنار گذاشته یا لغوشده", ("cancelled",)),
}
PERIODS: dict[str, tuple[str, int | None]] = {
    "today": ("امروز", 0), "week": ("هفت روز گذشته", 7), "month": ("سی روز گذشته", 30), "all": ("همه زمان‌ها", None),
}
SHORT_LABELS = {"uncertain": "نامعلوم"}
RESENDABLE = ("failed", "uncertain", "queued")
CHANNELS = {"sms": "پیامک", "email": "ایمیل"}
DUPLICATE_WINDOW = dt.timedelta(days=3)
DISMISSED_TEXT = "به دست کاربر کنار گذاشته شد؛ فرستاده نمی‌شود."
MARKED_SENT_CODE = "manual"


@dataclass
class OutboxFilter:
    state: str = ""                 # a key of STATE_FILTERS
    period: str = "all"             # a key of PERIODS
    text: str = ""                  # a number, a customer's name, or words of the text
    campaign_id: int | None = None
    customer_id: int | None = None
    channel: str = ""               # "" both, "sms" or "email"


def _conditions(f: OutboxFilter, states: bool = True) -> list:
    conds = [Message.channel == f.channel if f.channel in CHANNELS else Message.channel.in_(tuple(CHANNELS))]
    wanted = STATE_FILTERS.get(f.state, ("", ()))[1]
    if states and wanted:
        conds.append(Message.state.in_(wanted))
    days = PERIODS.get(f.period, ("", None))[1]
    if days is not None:
        start = dt.datetime.combine(now().date() - dt.timedelta(days=days), dt.time())
        conds.append(Message.created_at >= start)
    if f.campaign_id is not None:
        conds.append(Message.campaign == f.campaign_id)
    if f.customer_id is not None:
        conds.append(Message.customer == f.customer_id)
    text = clean(f.text)
    if text:
        ascii_text = to_ascii_digits(text).replace(" ", "").replace("-", "").lstrip("+")
        if "@" in text:                                                 # an email address, or part of one
            conds.append(Message.recipient.contains(text.lower()))
        elif ascii_text.isdigit() and len(ascii_text) >= 3:            # part of a number, as typed
            number = "0" + ascii_text[2:] if ascii_text.startswith("98") and len(ascii_text) > 10 else ascii_text
            conds.append(Message.recipient.contains(number))
        else:
            named = Customer.select(Customer.id).where(Customer.search_text.contains(search_key(text)))
            conds.append(Message.body.contains(text) | Message.subject.contains(text) | Message.customer.in_(named))
    return conds


class Pages:
    """The matching messages' ids, newest first, read a page at a time (keyset on the id: the screen shows the
    first rows at once and reads more as the user scrolls, so a year of messages is never read whole)."""

    def __init__(self, f: OutboxFilter):
        self.filter = f
        self.conds = _conditions(f)
        self.exhausted = False
        self._last: int | None = None

    def next_ids(self, n: int) -> list[int]:
        if self.exhausted:
            return []
        q = Message.select(Message.id).where(*self.conds)
        if self._last is not None:
            q = q.where(Message.id < self._last)
        got = [r[0] for r in db.execute(q.order_by(Message.id.desc()).limit(n)).fetchall()]
        if len(got) < n:
            self.exhausted = True
        if got:
            self._last = got[-1]
        return got


def ids(f: OutboxFilter) -> list[int]:
    """All the matching messages' ids, newest first (for tests and small lists; the screen reads Pages)."""
    q = Message.select(Message.id).where(*_conditions(f)).order_by(Message.id.desc())
    return [r[0] for r in db.execute(q).fetchall()]


def counts(f: OutboxFilter) -> dict[str, int]:
    """How many of the matching messages are in each state (the state filter itself not applied)."""
    conds = _conditions(f, states=False)
    if PERIODS.get(f.period, ("", None))[1] is None:
        q = Message.select(Message.state, pw.fn.COUNT(Message.id)).where(*conds).group_by(Message.state)
        return {state: n for state, n in db.execute(q).fetchall()}
    # A period: one sum per state, so the database reads the period through the created_at index (a GROUP BY
    # state makes SQLite walk the whole state index instead: 170 ms rather than 30 over a year of 200,000).
    sums = [pw.fn.SUM(pw.Case(None, [(Message.state == st, 1)], 0)) for st in Message.STATES]
    row = db.execute(Message.select(*sums).where(*conds)).fetchone()
    return {st: int(n) for st, n in zip(Message.STATES, row or (), strict=False) if n}


def total(f: OutboxFilter, by_state: dict[str, int] | None = None) -> int:
    """How many messages match (from `counts` when the caller has them already)."""
    by_state = counts(f) if by_state is None else by_state
    wanted = STATE_FILTERS.get(f.state, ("", ()))[1]
    return sum(n for state, n in by_state.items() if not wanted or state in wanted)


@dataclass
class Row:
    id: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    recipient: str
    customer_id: int | None
    name: str
    body: str
    parts: int
    state: str
    error: str
    origin: str
    channel: str = "sms"
    subject: str = ""

    @property
    def state_label(self) -> str:
        """Short, for a table column (the reason is in `error`)."""
        return SHORT_LABELS.get(self.state) or service.STATE_LABELS.get(self.state, self.state)

    @property
    def resendable(self) -> bool:
        """Sent again from this screen: SMS only (an email that did not go is written again from the file)."""
        return self.state in RESENDABLE and self.channel == "sms"

    @property
    def recipient_text(self) -> str:
        return fmt.phone(self.recipient) if self.channel == "sms" else self.recipient


def _origin(auto_key: str | None, campaign: str | None, channel: str = "sms") -> str:
    if channel == "email":
        return "ایمیل " + ("گروهی" if campaign is not None else "تکی")
    if auto_key:
        from app import options

        return "خودکار: " + options.SMS_AUTO_LABELS.get(auto_key.split(":", 1)[0], "")
    if campaign is not None:
        return f"گروهی: {campaign}" if campaign else "گروهی"
    return "تکی"


def rows(message_ids: Iterable[int]) -> dict[int, Row]:
    """The rows of these messages, by id (a page of the table: one query)."""
    wanted = list(message_ids)
    if not wanted:
        return {}
    q = (Message.select(Message, Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                        Campaign.name)
         .join(Customer, pw.JOIN.LEFT_OUTER, on=(Message.customer == Customer.id), attr="who")
         .switch(Message).join(Campaign, pw.JOIN.LEFT_OUTER, on=(Message.campaign == Campaign.id), attr="camp")
         .where(Message.id.in_(wanted)))
    out = {}
    for m in q:
        c = getattr(m, "who", None) if m.customer_id else None
        camp = m.camp.name if m.campaign_id and getattr(m, "camp", None) else None
        out[m.id] = Row(m.id, m.created_at, m.sent_at, m.recipient, m.customer_id, c.display_name if c else "",
                        m.body, m.parts, m.state, m.error, _origin(m.auto_key, camp, m.channel), m.channel,
                        m.subject)
    return out


# --- sending again ---------------------------------------------------------------------------------------------

SKIP_REASONS = {
    "state": "فرستاده شده یا در حال ارسال است",
    "confirm": "نامعلوم است و ارسال دوباره‌اش تأیید نشد",
    "duplicate": "همین متن به همین شماره فرستاده شده است",
    "optout": "شماره دریافت پیامک را لغو کرده است",
}


@dataclass
class Requeued:
    ids: list[int] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    def describe_skipped(self) -> str:
        return "، ".join(f"{fmt.num(n)} پیام ({SKIP_REASONS[k]})" for k, n in self.skipped.items() if n)


@writes
def requeue(message_ids: Iterable[int], confirm_uncertain: bool = False) -> Requeued:
    """Put these messages back in the queue, where that cannot send a message twice (see the module)."""
    out = Requeued()
    wanted = list(dict.fromkeys(message_ids))
    msgs = list(Message.select().where(Message.id.in_(wanted), Message.channel == "sms").order_by(Message.id))
    out.skip("state", len(wanted) - len(msgs))
    blocked = {r[0] for r in OptOut.select(OptOut.recipient)
               .where(OptOut.recipient.in_([m.recipient for m in msgs])).tuples()}
    chosen: list[Message] = []
    seen: set[tuple[str, str]] = set()
    for m in msgs:
        if m.state not in RESENDABLE:
            out.skip("state")
        elif m.state == "uncertain" and not confirm_uncertain:
            out.skip("confirm")
        elif m.recipient in blocked:
            out.skip("optout")
        elif (m.recipient, m.body) in seen or _went_already(m):
            out.skip("duplicate")
        else:
            seen.add((m.recipient, m.body))
            chosen.append(m)
    if chosen:
        ids_ = [m.id for m in chosen]
        (Message.update(state="queued", claim="", error="", status_code="")
         .where(Message.id.in_(ids_), Message.state.in_(RESENDABLE)).execute())
        out.ids = [r[0] for r in Message.select(Message.id)
                   .where(Message.id.in_(ids_), Message.state == "queued").tuples()]
        out.skip("state", len(ids_) - len(out.ids))
        if out.ids:
            _audit("resend", out.ids, f"ارسال دوباره {fmt.count(len(out.ids), 'پیام')}")
    return out


def _audit(action: str, message_ids: list[int], summary: str) -> None:
    """One entry in the office audit log for a person's action on outbox rows (inside the caller's write)."""
    rows = list(Message.select(Message.id, Message.recipient, Message.channel)
                .where(Message.id.in_(message_ids)).order_by(Message.id).limit(5).tuples())
    if len(message_ids) == 1 and rows:
        summary += f" به {fmt.phone(rows[0][1]) if rows[0][2] == 'sms' else rows[0][1]}"
    audit.record(action, "message", message_ids[0] if len(message_ids) == 1 else None, summary,
                 {"ids": [None, message_ids[:50]]} if len(message_ids) > 1 else None)


def _went_already(m: Message) -> bool:
    """The same text to the same number went (or is going) in another row around the same time."""
    at = m.created_at or now()
    return (Message.select().where(Message.id != m.id, Message.recipient == m.recipient, Message.body == m.body,
                                   Message.state.in_(("sending", "sent", "delivered", "undelivered")),
                                   Message.created_at.between(at - DUPLICATE_WINDOW, at + DUPLICATE_WINDOW))
            .exists())


@dataclass
class ResendReport:
    found: int = 0              # uncertain ones the provider turned out to have: recorded as sent
    requeued: Requeued = field(default_factory=Requeued)
    summary: service.Summary = field(default_factory=service.Summary)

    def describe(self) -> str:
        s = self.summary
        parts = [f"فرستاده: {fmt.num(s.sent)}"]
        if s.failed:
            parts.append(f"ناموفق: {fmt.num(s.failed)}")
        if s.uncertain:
            parts.append(f"نامعلوم: {fmt.num(s.uncertain)}")
        if self.found:
            parts.append(f"پیش‌تر به سامانه رسیده بود: {fmt.num(self.found)}")
        if s.remaining:
            parts.append(f"مانده در صف: {fmt.num(s.remaining)}")
        text = "، ".join(parts)
        if self.requeued.skipped:
            text += f". دوباره فرستاده نشد: {self.requeued.describe_skipped()}"
        return text + "."


def resend(message_ids: Iterable[int], confirm_uncertain: bool = False, provider: Provider | None = None,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> ResendReport:
    """Send these messages again (in the background: it calls the provider). See the module's docstring."""
    wanted = list(dict.fromkeys(message_ids))
    if not wanted:
        raise UserError("پیامی برای ارسال دوباره انتخاب نشده است.", en="No message was chosen.")
    provider = provider or service.provider_from_settings()
    report = ResendReport()
    if confirm_uncertain and provider.can_lookup_local:
        unsure = list(Message.select().where(Message.id.in_(wanted), Message.state == "uncertain",
                                             Message.provider == provider.name))
        if unsure:
            found = provider.lookup_local([m.local_id for m in unsure])
            if found:
                service.record_found(list(found.values()), {m.local_id: m for m in unsure}, service.Summary())
                report.found = len(found)
                had = {m.id for m in unsure if m.local_id in found}
                wanted = [i for i in wanted if i not in had]
    report.requeued = requeue(wanted, confirm_uncertain=confirm_uncertain)
    if report.requeued.ids:
        report.summary = service.deliver(provider, ids=report.requeued.ids, progress=progress, cancelled=cancelled)
    return report


# --- marking ---------------------------------------------------------------------------------------------------

@writes
def mark_sent(message_ids: Iterable[int]) -> int:
    """Uncertain messages the office found in its panel's report: recorded as sent, never sent again."""
    ids_ = list(message_ids)
    chosen = [r[0] for r in Message.select(Message.id).where(Message.id.in_(ids_), Message.state == "uncertain")
              .order_by(Message.id).tuples()]
    n = (Message.update(state="sent", status_code=MARKED_SENT_CODE, error="", sent_at=now())
         .where(Message.id.in_(chosen), Message.state == "uncertain").execute()) if chosen else 0
    if n:
        _audit("mark_sent", chosen, f"{fmt.count(n, 'پیام')} نامعلوم «رسیده» ثبت شد")
    return n


@writes
def dismiss(message_ids: Iterable[int]) -> int:
    """Failed, uncertain or waiting messages that should not go: set aside (cancelled), never sent."""
    ids_ = list(message_ids)
    chosen = [r[0] for r in Message.select(Message.id).where(Message.id.in_(ids_), Message.state.in_(RESENDABLE))
              .order_by(Message.id).tuples()]
    n = (Message.update(state="cancelled", error=DISMISSED_TEXT, claim="")
         .where(Message.id.in_(chosen), Message.state.in_(RESENDABLE)).execute()) if chosen else 0
    if n:
        _audit("dismiss", chosen, f"{fmt.count(n, 'پیام')} کنار گذاشته شد")
    return n
