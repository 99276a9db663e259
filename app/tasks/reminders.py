"""Reminders: alarms before tasks and meetings, and birthday / wedding-anniversary reminders by Jalali date.

A reminder is a row that stays `pending` until someone marks it done or dismisses it; snoozing moves its
fire time. So a reminder that fell due while the app was closed is simply still pending at the next start:
`due()` returns it, flagged `missed` when it fell due before the app started.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

import peewee as pw

from app import options, settings
from app.core import jalali
from app.core.clock import now
from app.core.errors import NotFound
from app.core.text import to_persian_digits
from models import sqlcache
from models.base import db
from models.core import Customer
from models.tasks import Meeting, Reminder, Task

logger = logging.getLogger(__name__)



BEFORE_CHOICES = ((None, "بدون یادآوری"), (0, "سر وقت"), (5, "۵ دقیقه قبل"), (15, "۱۵ دقیقه قبل"),
                  (30, "نیم ساعت قبل"), (60, "یک ساعت قبل"), (120, "دو ساعت قبل"), (24 * 60, "یک روز قبل"))
SNOOZE_CHOICES = ((5, "۵ دقیقه"), (15, "۱۵ دقیقه"), (60, "یک ساعت"), (24 * 60, "فردا همین ساعت"))
KIND_LABELS = {"task": "کار", "meeting": "جلسه", "birthday": "تولد", "anniversary": "سالگرد ازدواج",
               "overdue": "فاکتور سررسیدگذشته", "cheque_in": "چک دریافتی", "cheque_out": "چک پرداختی",
               "bounced": "چک برگشتی"}
MONEY_KINDS = ("overdue", "cheque_in", "cheque_out", "bounced")
OVERDUE_REPEAT_DAYS = 30  # an unpaid invoice is reminded when it falls due and again every 30 days
CATCH_UP_DAYS = 7     # birthdays of days the app was closed are still reminded, up to a week back


def day_start_time() -> dt.time:
    try:
        h, m = (int(x) for x in str(settings.get(options.REMINDERS_DAY_START)).split(":"))
        return dt.time(h, m)
    except (ValueError, TypeError):
        return dt.time(9, 0)


def _base_time(when: dt.datetime, all_day: bool) -> dt.datetime:
    return dt.datetime.combine(when.date(), day_start_time()) if all_day else when


# --- task and meeting reminders -----------------------------------------------------------------------------

def sync_task(t: Task) -> None:
    """Make the task's pending reminder match it (due time, assignee, open or not)."""
    Reminder.delete().where(Reminder.task == t.id, Reminder.state == "pending").execute()
    if t.status != "open" or t.due_at is None or t.remind_before is None:
        return
    event = _base_time(t.due_at, t.all_day)
    Reminder.create(kind="task", task=t.id, customer=t.customer_id, user=t.assignee_id, title=t.title[:250],
                    fire_at=event - dt.timedelta(minutes=t.remind_before), event_at=event, created_at=now())


def close_for_task(task_id: int, state: str = "done") -> None:
    Reminder.update(state=state).where(Reminder.task == task_id, Reminder.state == "pending").execute()


def sync_meeting(m: Meeting) -> None:
    Reminder.delete().where(Reminder.meeting == m.id, Reminder.state == "pending").execute()
    if m.status != "planned" or m.remind_before is None:
        return
    Reminder.create(kind="meeting", meeting=m.id, customer=m.customer_id, user=m.user_id,
                    title=(m.subject or "جلسه")[:250], fire_at=m.start_at - dt.timedelta(minutes=m.remind_before),
                    event_at=m.start_at, created_at=now())


# --- birthdays and anniversaries ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DateItem:
    customer_id: int
    name: str
    kind: str              # birthday / anniversary
    original: dt.date
    years: int
    phone: str
    assigned_to: int | None

    @property
    def label(self) -> str:
        what = "تولد" if self.kind == "birthday" else "سالگرد ازدواج"
        n = f" ({to_persian_digits(self.years)} سال)" if self.years > 0 else ""
        return f"{what} {self.name}{n}"


@functools.lru_cache(maxsize=16)
def _same_days(day: dt.date) -> dict[dt.date, int]:
    """Every Gregorian day, from 1900 to `day`, that is this Jalali day in its own Jalali year, with that year.
    An Esfand 30 (leap years only) is kept on Esfand 29 in a common year, so on such a day those count too."""
    j = jalali.to_jalali(day)
    esfand_29_common = (j.month, j.day) == (12, 29) and not jalali.is_leap(j.year)
    out: dict[dt.date, int] = {}
    for jy in range(jalali.to_jalali(dt.date(1900, 1, 1)).year, j.year + 1):
        for jd in ((j.day, 30) if esfand_29_common else (j.day,)):
            try:
                g = jalali.from_jalali(jy, j.month, jd)
            except ValueError:                  # Esfand 30 of a common year, or a day before 1900
                continue
            if dt.date(1900, 1, 1) <= g <= day:
                out[g] = jy
    return out


ALL_CUSTOMERS = ("all", None)


@functools.lru_cache(maxsize=16)
def _day_ranges(day: dt.date) -> tuple[str, ...]:
    """_same_days(day) as the bounds of one-day ranges, in ISO text (SQLite's parameters for _dates_match)."""
    return tuple(d.isoformat() for g in sorted(_same_days(day)) for d in (g, g + dt.timedelta(days=1)))


def _dates_match(kind: str, day: dt.date, scope: tuple[str, int | None]) -> tuple[str, list]:
    """The WHERE clause (over customer `c`) of the customers whose `kind` date falls on `day` (_same_days), within
    what `scope` (app.office.roles.customer_scope's answer) lets the person see, and its parameters."""
    days = _same_days(day)
    params: list[object]
    if sqlcache.is_postgres():
        # the column is a DATE there: the days are one array, looked up in the index
        match, params = f"c.{kind} = ANY(?)", [sorted(days)]
    else:
        # written by hand: a nested chain of 120 ORs overflows SQLite's parser, and peewee took longer to write
        # these ranges than the database takes to read them (a stored value with a time of day still matches)
        match = " OR ".join([f"(c.{kind} >= ? AND c.{kind} < ?)"] * len(days))
        params = list(_day_ranges(day))
    where = f"({match}) AND c.merged_into_id IS NULL"
    if scope[0] == "none":
        where += " AND c.id < 0"
    elif scope[0] == "own":
        where += " AND (c.assigned_to_id = ? OR c.assigned_to_id IS NULL)"
        params.append(scope[1])
    return where, params


def dates_on(day: dt.date, *, limit: int | None = None, scope: tuple[str, int | None] = ALL_CUSTOMERS,
             mine: int | None = None) -> list[DateItem]:
    """Customers whose birthday or wedding anniversary falls on this Jalali day (Esfand 30 births fall on
    Esfand 29 in common years). The Jalali day is turned into its Gregorian day in every year since 1900, and
    the database reads those days alone over the indexed birthday/anniversary columns (one flat OR of
    one-day ranges).

    Birthdays come first, then anniversaries; within each, the customers of `mine` (a user id) first, then by
    first name (a company's by its name), last name and id. `limit`: at most this many, chosen in that order by
    the database, which reads the phones of those alone (dates_and_total() also says how many there are in all).
    `scope`: which customers the person may see (the default, everyone's, is for the office's own jobs:
    reminders, greetings)."""
    return dates_and_total(day, limit=limit, scope=scope, mine=mine)[0]


def dates_and_total(day: dt.date, *, limit: int | None = None, scope: tuple[str, int | None] = ALL_CUSTOMERS,
                    mine: int | None = None) -> tuple[list[DateItem], int]:
    """dates_on(), and how many occasions there are in all (the dashboard's card: its first rows and its count).
    The count comes with the rows, from the same reading of the day's customers (a window count before the
    limit); a kind left out by the limit is counted alone."""
    j = jalali.to_jalali(day)
    days = _same_days(day)
    out: list[DateItem] = []
    total = 0
    if not days:
        return out, total
    from app.core.text import party_name as _name

    for kind in ("birthday", "anniversary"):
        left = None if limit is None else limit - len(out)
        where, params = _dates_match(kind, day, scope)
        if left == 0:
            total += sqlcache.raw(f'SELECT COUNT(*) FROM "customer" c WHERE {where}', params).fetchone()[0]
            continue
        # the whole list is its own count; a cut one is counted before the cut
        counted = "COUNT(*) OVER ()" if left is not None else "0"
        rows_sql = (f'SELECT c.id, c.first_name, c.last_name, c.company, c.kind, c.{kind} AS occasion, '
                    f'c.assigned_to_id, {counted} AS total FROM "customer" c WHERE {where}')
        if left is not None:
            # the order of the sort below, so that a limited list is the start of the whole one
            rows_sql += (" ORDER BY CASE WHEN c.assigned_to_id = ? THEN 0 ELSE 1 END, "
                         "COALESCE(CASE WHEN c.kind = 'organisation' AND c.company <> '' THEN c.company "
                         "ELSE c.first_name END, ''), COALESCE(c.last_name, ''), c.id LIMIT ?")
            params += [mine or 0, left]
        # The phone to show is the customer's primary one, else the first entered: read by the phone table's
        # customer index, a few rows per customer, for the rows chosen alone.
        sql = (f'SELECT c.id, c.first_name, c.last_name, c.company, c.kind, c.occasion, c.assigned_to_id, c.total, '
               '(SELECT p.canonical FROM "phone_number" p WHERE p.customer_id = c.id '
               f'ORDER BY p.is_primary DESC, p.id LIMIT 1) FROM ({rows_sql}) c')
        found = []
        rows = sqlcache.raw(sql, params).fetchall()
        total += (rows[0][7] if left is not None else len(rows)) if rows else 0
        for cid, first, last, company, ckind, orig, assigned, _n, phone in rows:
            if isinstance(orig, str):
                orig = dt.date.fromisoformat(orig[:10])
            elif isinstance(orig, dt.datetime):
                orig = orig.date()
            born = days.get(orig)
            if born is None:
                continue
            # On the day itself the years are whole (an Esfand 30 birthday kept on Esfand 29 counts too).
            years = j.year - born
            # A company has no birthday: the date is its contact person's, so the person is named first.
            name = _name(first, last, company, ckind)
            if ckind == "organisation" and company:
                person = " ".join(p for p in (first, last) if p)
                name = f"{person}، {company}" if person else f"رابط {company}"
            by = company if ckind == "organisation" and company else first
            key = (mine is None or assigned != mine, by or "", last or "", cid)
            found.append((key, DateItem(cid, name, kind, orig, years, phone or "", assigned)))
        found.sort(key=lambda pair: pair[0])
        out += [item for _key, item in found]
    return out, total


def generate_date_reminders(today: dt.date | None = None) -> int:
    """Create today's birthday/anniversary reminders, and those of days the app did not run (up to a week).
    Idempotent: each (kind, customer, day) gets one reminder. Returns how many were created."""
    today = today or now().date()
    last = str(settings.get(options.REMINDERS_GENERATED_THROUGH) or "")
    try:
        start = dt.date.fromisoformat(last) + dt.timedelta(days=1)
    except ValueError:
        start = today
    start = max(start, today - dt.timedelta(days=CATCH_UP_DAYS - 1))
    created = 0
    day = start
    with db.atomic():
        while day <= today:
            fire = dt.datetime.combine(day, day_start_time())
            rows = []
            for item in dates_on(day):
                rows.append({"kind": item.kind, "customer": item.customer_id, "user": item.assigned_to,
                             "title": item.label[:250], "fire_at": fire, "event_at": fire, "state": "pending",
                             "key": f"{item.kind}:{item.customer_id}:{day.isoformat()}", "created_at": now()})
            for lo in range(0, len(rows), 500):
                created += (Reminder.insert_many(rows[lo:lo + 500])
                            .on_conflict_ignore().as_rowcount().execute() or 0)
            day += dt.timedelta(days=1)
        if start <= today:
            settings.set(options.REMINDERS_GENERATED_THROUGH, today.isoformat())
    return created


# --- what is due now ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderItem:
    id: int
    kind: str
    title: str
    fire_at: dt.datetime
    event_at: dt.datetime | None
    task_id: int | None
    meeting_id: int | None
    customer_id: int | None
    customer_name: str
    missed: bool            # fell due before the app started (while it was closed)

    @property
    def when_text(self) -> str:
        at = self.event_at or self.fire_at
        if self.kind in ("birthday", "anniversary"):
            return jalali.format_long(at)
        if self.kind in MONEY_KINDS:
            return jalali.format_date(at)
        return jalali.format_datetime(at)


def due(user_id: int | None, at: dt.datetime | None = None, started_at: dt.datetime | None = None,
        limit: int = 200) -> list[ReminderItem]:
    """Pending reminders whose time has come, for this desk's user (None: everyone's), oldest first."""
    at = at or now()
    q = (Reminder.select(Reminder, Customer.first_name, Customer.last_name, Customer.company,
                         Customer.kind.alias("ckind"))
         .join(Customer, pw.JOIN.LEFT_OUTER, on=(Reminder.customer == Customer.id))
         .where(Reminder.state == "pending", Reminder.fire_at <= at)
         .order_by(Reminder.fire_at, Reminder.id).limit(limit))
    if user_id:
        q = q.where((Reminder.user == user_id) | Reminder.user.is_null())
    from app.core.text import party_name as _name

    out = []
    for r in q.objects():
        name = _name(getattr(r, "first_name", ""), getattr(r, "last_name", ""), getattr(r, "company", ""),
                     getattr(r, "ckind", "")) if r.customer_id else ""
        out.append(ReminderItem(r.id, r.kind, r.title, r.fire_at, r.event_at, r.task_id, r.meeting_id,
                                r.customer_id, name, bool(started_at and r.fire_at < started_at)))
    return out


def _get(reminder_id: int) -> Reminder:
    r = Reminder.get_or_none(Reminder.id == reminder_id)
    if r is None:
        raise NotFound("این یادآوری پیدا نشد.")
    return r


def snooze(reminder_id: int, minutes: int) -> Reminder:
    r = _get(reminder_id)
    r.fire_at = now() + dt.timedelta(minutes=max(1, int(minutes)))
    r.state = "pending"
    r.snoozes += 1
    r.save()
    return r


def dismiss(reminder_id: int) -> None:
    r = _get(reminder_id)
    r.state = "dismissed"
    r.save()
