"""Automatic messages the office switches on: birthday and wedding anniversary (Jalali), a cheque due in N days,
an invoice issued, a missed call. Each has its template; all go only inside the daily send window (not at
night, not on Fridays unless allowed).

`run()` is called by a timer in the GUI and by `crm sms run-automatic` (cron): it may run every few minutes —
each event has a key (``birthday:<customer>:<day>``, ``cheque:<payment>``, …) that the outbox keeps unique, so
an event is queued once however often the runner runs or however many desks run it. A birthday that falls on a
day without sending (a Friday) is greeted on the last sending day before it.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import peewee as pw

from app import options, settings
from app.core.clock import now
from app.core.errors import UserError
from app.sms import service, templates
from models.messaging import Message

logger = logging.getLogger(__name__)

# the options of each kind are declared in app/options.py
KINDS = options.SMS_AUTO_KINDS
LABELS = options.SMS_AUTO_LABELS
DEFAULT_TEXT = options.SMS_AUTO_DEFAULT_TEXT

INVOICE_LOOKBACK = dt.timedelta(days=3)
MISSED_LOOKBACK = dt.timedelta(hours=12)


def _time(text: str, default: dt.time) -> dt.time:
    try:
        h, m = str(text).strip().split(":")
        return dt.time(int(h), int(m))
    except ValueError:
        return default


def window() -> tuple[dt.time, dt.time]:
    return (_time(settings.get(options.SMS_AUTO_WINDOW_START), dt.time(9)),
            _time(settings.get(options.SMS_AUTO_WINDOW_END), dt.time(20)))


def is_send_day(day: dt.date) -> bool:
    return day.weekday() != 4 or bool(settings.get(options.SMS_AUTO_FRIDAYS))      # 4 = Friday (آدینه)


def in_window(at: dt.datetime) -> bool:
    start, end = window()
    return is_send_day(at.date()) and start <= at.time() < end


def enable(kind: str, on: bool = True, text: str | None = None) -> None:
    """Switch a rule on or off (from now on: invoices and calls from before are not messaged)."""
    from models.writer import writer

    def write():
        if on and not settings.get(options.SMS_AUTO_ENABLED[kind]):
            settings.set(options.SMS_AUTO_SINCE[kind], now().isoformat())
        settings.set(options.SMS_AUTO_ENABLED[kind], on)
        if text is not None:
            settings.set(options.SMS_AUTO_TEXT[kind], text)

    writer.run(write)


def _since(kind: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(settings.get(options.SMS_AUTO_SINCE[kind])))
    except ValueError:
        return now()


@dataclass
class Candidate:
    key: str
    customer_id: int | None
    number: str
    ctx: dict = field(default_factory=dict)


@dataclass
class Report:
    ran: bool = False
    reason: str = ""
    queued: dict = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.ran:
            return self.reason
        parts = [f"{LABELS[k]}: {v}" for k, v in self.queued.items() if v]
        text = "، ".join(parts) or "پیام تازه‌ای برای فرستادن نبود"
        return f"{text}. فرستاده: {self.sent}، ناموفق: {self.failed}"


# --- who gets what today --------------------------------------------------------------------------------------

def _occasion_days(today: dt.date) -> list[dt.date]:
    """Today and the following days on which nothing is sent (their greetings go today)."""
    days, d = [today], today + dt.timedelta(days=1)
    while not is_send_day(d) and len(days) < 7:
        days.append(d)
        d += dt.timedelta(days=1)
    return days


def _mobiles(customer_ids: list[int]) -> dict[int, str]:
    p = service.plan(customer_ids)
    return dict(p.rows)


def dates(kind: str, today: dt.date) -> list[Candidate]:
    from app.tasks.reminders import dates_on

    items = [(day, i) for day in _occasion_days(today) for i in dates_on(day) if i.kind == kind]
    mob = _mobiles([i.customer_id for _, i in items])
    return [Candidate(f"{kind}:{i.customer_id}:{day.isoformat()}", i.customer_id, mob[i.customer_id])
            for day, i in items if i.customer_id in mob]


def cheques(today: dt.date) -> list[Candidate]:
    from models.sales import Payment

    days = int(settings.get(options.SMS_AUTO_CHEQUE_DAYS))
    rows = list(Payment.select().where(Payment.kind == "cheque", Payment.state == "active",
                                       Payment.cheque_state.in_(("", "pending")),
                                       Payment.cheque_due.between(today, today + dt.timedelta(days=days))))
    mob = _mobiles([p.customer_id for p in rows])
    return [Candidate(f"cheque:{p.id}:{p.cheque_due.isoformat()}", p.customer_id, mob[p.customer_id],
                      templates.cheque_context(p)) for p in rows if p.customer_id in mob]


def invoices(at: dt.datetime) -> list[Candidate]:
    from models.sales import SalesDocument

    since = max(_since("invoice"), at - INVOICE_LOOKBACK)
    rows = list(SalesDocument.select().where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued",
                                             SalesDocument.issued_at >= since, SalesDocument.issued_at <= at))
    mob = _mobiles([d.customer_id for d in rows])
    return [Candidate(f"invoice:{d.id}", d.customer_id, mob[d.customer_id], templates.invoice_context(d))
            for d in rows if d.customer_id in mob]


def missed_calls(at: dt.datetime) -> list[Candidate]:
    from models.calls import Call

    since = max(_since("missed_call"), at - MISSED_LOOKBACK)
    rows = list(Call.select().where(Call.direction == "in", Call.state == "missed", Call.started_at >= since,
                                    Call.started_at <= at, Call.handled == False)  # noqa: E712
                .order_by(Call.started_at))
    out, seen = [], set()
    for c in rows:
        m = service.mobile_of(c.number or c.number_raw)
        if not m or m in seen:
            continue
        seen.add(m)
        out.append(Candidate(f"missed_call:{m}:{c.started_at.date().isoformat()}", c.customer_id, m))
    return out


def surveys(at: dt.datetime) -> list[Candidate]:
    """Requests done since the rule was switched on (the last three days at most) and not yet surveyed."""
    from app.service import survey

    rows = survey.due(max(_since("survey"), at - survey.LOOKBACK), at)
    mob = _mobiles([r.customer_id for r in rows])
    return [Candidate(survey.key_of(r.request_id), r.customer_id, mob[r.customer_id],
                      {"شماره_درخواست": r.number}) for r in rows if r.customer_id in mob]


def candidates(kind: str, at: dt.datetime) -> list[Candidate]:
    if kind == "survey":
        return surveys(at)
    if kind in ("birthday", "anniversary"):
        return dates(kind, at.date())
    if kind == "cheque":
        return cheques(at.date())
    if kind == "invoice":
        return invoices(at)
    return missed_calls(at)


# --- the runner ----------------------------------------------------------------------------------------------

def run(at: dt.datetime | None = None, provider=None, cancelled: Callable[[], bool] | None = None) -> Report:
    """Queue today's automatic messages and send what is queued (stopping between batches when `cancelled`)."""
    at = at or now()
    report = Report()
    enabled = [k for k in KINDS if settings.get(options.SMS_AUTO_ENABLED[k])]
    if not enabled:
        report.reason = "هیچ پیام خودکاری روشن نیست."
        return report
    if not in_window(at):
        start, end = window()
        report.reason = (f"بیرون از بازه ارسال ({start:%H:%M} تا {end:%H:%M}"
                         + ("" if settings.get(options.SMS_AUTO_FRIDAYS) else "، جز جمعه") + "); چیزی فرستاده نشد.")
        return report
    report.ran = True
    blocked = {r for r in _opted_out()}
    for kind in enabled:
        if cancelled and cancelled():
            break
        body = settings.get(options.SMS_AUTO_TEXT[kind])
        cands = [c for c in candidates(kind, at) if c.number not in blocked]
        if not cands:
            report.queued[kind] = 0
            continue
        done = {r[0] for r in Message.select(Message.auto_key)
                .where(Message.auto_key.in_([c.key for c in cands])).tuples()}
        fresh = [c for c in cands if c.key not in done]
        ctxs = templates.contexts([c.customer_id for c in fresh if c.customer_id], body)
        n = 0
        for c in fresh:
            ctx = {**templates.office_context(), **(ctxs.get(c.customer_id, {}) if c.customer_id else {}), **c.ctx}
            text = templates.render(body, ctx)
            try:
                if service.queue_one(c.number, text, customer_id=c.customer_id, auto_key=c.key) is not None:
                    n += 1
            except UserError as e:
                logger.info("automatic %s for %s skipped: %s", kind, c.number, e.message)
            except pw.IntegrityError:              # another desk queued the same event a moment ago
                logger.info("automatic %s for %s already queued by another desk", kind, c.number)
        report.queued[kind] = n
    pending = [r[0] for r in Message.select(Message.id).where(Message.state == "queued",
                                                              Message.auto_key.is_null(False)).tuples()]
    if pending:
        try:
            s = service.deliver(provider, ids=pending, cancelled=cancelled)
            report.sent, report.failed = s.sent, s.failed
            report.errors += s.errors
        except UserError as e:
            report.errors.append(e.message)
    return report


def _opted_out() -> list[str]:
    from models.messaging import OptOut

    return [r[0] for r in OptOut.select(OptOut.recipient).tuples()]

