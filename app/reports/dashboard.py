"""The morning dashboard: what today holds for this desk's user, in a handful of indexed queries."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import peewee as pw

from app.core.clock import now
from app.core.text import party_name
from app.money.summary import MoneySummary, money_summary
from app.office import roles
from app.tasks import meetings, reminders
from app.tasks import service as tasks
from models import sqlcache
from models.calls import Call
from models.core import Customer, User
from models.tasks import Task

logger = logging.getLogger(__name__)

RECENT_CALL_DAYS = 7
SECTION_LIMIT = 50                 # rows per card; the card says how many more (the inbox lists them all)


@dataclass(frozen=True)
class CallItem:
    id: int
    customer_id: int | None
    name: str
    number: str
    started_at: dt.datetime
    state: str
    direction: str
    user_name: str


@dataclass
class Dashboard:
    at: dt.datetime
    user_id: int | None
    manager: bool
    overdue: list[tasks.TaskRow] = field(default_factory=list)
    today: list[tasks.TaskRow] = field(default_factory=list)
    calls_today: int = 0                           # follow-ups/calls due today or overdue
    meetings: list[meetings.MeetingRow] = field(default_factory=list)
    dates: list[reminders.DateItem] = field(default_factory=list)
    unhandled_calls: list[CallItem] = field(default_factory=list)
    missed_calls: list[CallItem] = field(default_factory=list)
    per_user: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)     # totals behind each (possibly cut) list
    money: MoneySummary | None = None              # the office's money (or this user's customers')
    below: bool = True                             # the part below the first screen was read (see load())


# Each statement's SQL is built once per shape (models.sqlcache) and given its values as parameters: peewee took
# longer to write the dashboard's statements than SQLite took to run them.

def _calls(at: dt.datetime, missed: bool, user_id: int | None) -> tuple[list[CallItem], int]:
    since = at - dt.timedelta(days=RECENT_CALL_DAYS)
    out = []
    for (cid_, cust, first, last, company, ckind, number, raw, cname, started, state, direction,
         owner) in sqlcache.run(f"dashboard.calls.{missed}", lambda s: _calls_query(s, missed), since).fetchall():
        name = party_name(first, last, company, ckind) if cust else (cname or "")
        out.append(CallItem(cid_, cust, name, number or raw, tasks._dt_set(started), state, direction, owner or ""))
    if len(out) < SECTION_LIMIT:
        return out, len(out)
    total = sqlcache.run(f"dashboard.calls_count.{missed}", lambda s: _count_of(Call, _calls_condition(s, missed)),
                         since).fetchone()[0]
    return out, total


def _calls_condition(since, missed: bool):
    cond = (Call.handled == False) & (Call.started_at >= since) & (Call.direction == "in")  # noqa: E712
    return cond & ((Call.state == "missed") if missed else (Call.state != "missed"))


def _calls_query(since, missed: bool):
    Owner = User.alias("owner")
    return (Call.select(Call.id, Call.customer, Customer.first_name, Customer.last_name, Customer.company,
                        Customer.kind, Call.number, Call.number_raw, Call.caller_name, Call.started_at, Call.state,
                        Call.direction, Owner.name)
            .join(Customer, pw.JOIN.LEFT_OUTER, on=(Call.customer == Customer.id))
            .switch(Call).join(Owner, pw.JOIN.LEFT_OUTER, on=(Customer.assigned_to == Owner.id))
            .where(_calls_condition(since, missed)).order_by(Call.started_at.desc()).limit(SECTION_LIMIT))


def _count_of(model, cond):
    # COUNT(*), not COUNT(id): PostgreSQL then counts from an index holding every column of the condition
    # without reading the rows (an index-only scan; 2.9 → 0.7 ms for a week's missed calls), SQLite as before
    return model.select(pw.fn.COUNT(pw.SQL("*"))).where(cond)


def _count_tasks(name: str, cond, who: int | None, *values) -> int:
    """COUNT of the tasks matching ``cond(*stand_ins)`` (and assigned to `who`, when given)."""
    def build(*v):
        *values_, assignee = v
        c = cond(*values_)
        return _count_of(Task, c if assignee is None else c & (Task.assignee == assignee))

    return sqlcache.run(f"dashboard.{name}", build, *values, who or None).fetchone()[0]


def _day_start(at: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(at.date(), dt.time())


def _count_overdue(at: dt.datetime, who: int | None) -> int:
    return _count_tasks("overdue", tasks.overdue_condition, who, at, _day_start(at))


def _count_calls_today(at: dt.datetime, who: int | None) -> int:
    """What «تماس‌های امروز من» will list: open calls and follow-ups due today or earlier."""
    return _count_tasks("calls_today", lambda tomorrow: (Task.status == "open") & (Task.due_at < tomorrow) & (
        Task.kind.in_(["call", "followup"])), who, _day_start(at) + dt.timedelta(days=1))


def _count_today(at: dt.datetime, who: int | None) -> int:
    return _count_tasks("today", lambda at_, start, end: (Task.status == "open") & (Task.due_at >= start) & (
        Task.due_at < end) & ~tasks.overdue_condition(at_, start), who,
        at, _day_start(at), _day_start(at) + dt.timedelta(days=1))


def load(user_id: int | None, manager: bool | None = None, at: dt.datetime | None = None,
         below: bool = True) -> Dashboard:
    """Everything the dashboard shows. A manager (or a desk with nobody signed in) sees everyone's tasks
    and the counts per colleague; anyone else sees their own. `below=False` leaves out what only the part below
    the first screen shows: the money cards' summary (`money` None) and each colleague's open tasks (the counts
    per colleague hold only what the totals above need). A page reads those afterwards with read_below()."""
    at = at or now()
    if manager is None:
        manager = tasks.is_manager(user_id)
    who = None if (manager and not user_id) else user_id
    d = Dashboard(at=at, user_id=user_id, manager=manager)
    if manager:
        d.per_user = tasks.counts_per_user(at, open_counts=below)
    # a manager's totals come from the counts per colleague (everyone's summed, or the row of the manager's own)
    mine = [r for r in d.per_user if who is None or r["user_id"] == who] if manager else None
    d.overdue = tasks.list_tasks(tasks.InboxFilter(user_id=who, due="overdue", limit=SECTION_LIMIT), at=at)
    if len(d.overdue) < SECTION_LIMIT:
        d.counts["overdue"] = len(d.overdue)
    else:
        d.counts["overdue"] = sum(r["overdue"] for r in mine) if mine is not None else _count_overdue(at, who)
    raw_today = tasks.list_tasks(tasks.InboxFilter(user_id=who, due="today", limit=SECTION_LIMIT), at=at)
    d.today = [r for r in raw_today if not r.overdue]
    if len(raw_today) < SECTION_LIMIT:
        d.counts["today"] = len(d.today)
    else:
        d.counts["today"] = sum(r["today_ahead"] for r in mine) if mine is not None else _count_today(at, who)
    d.calls_today = _count_calls_today(at, who)
    d.meetings = meetings.meetings_on(at.date(), who)
    # the day's occasions within what this person may see, theirs first; the card holds SECTION_LIMIT and says
    # how many there are (a million customers have thousands on a day: «همه» lists them, dates_dialog)
    d.dates, d.counts["dates"] = reminders.dates_and_total(at.date(), limit=SECTION_LIMIT,
                                                           scope=roles.customer_scope(), mine=user_id)
    d.unhandled_calls, d.counts["unhandled"] = _calls(at, False, who)
    d.missed_calls, d.counts["missed"] = _calls(at, True, who)
    d.below = below
    if below:
        d.money = _money(d)
    return d


def read_below(d: Dashboard) -> tuple[MoneySummary | None, list[dict]]:
    """What load(below=False) left out of `d`: the money cards' summary and the counts per colleague with each
    one's open tasks (a manager's; empty for anyone else). Returned, not put into `d`, which the GUI thread may be
    showing meanwhile."""
    return _money(d), tasks.counts_per_user(d.at) if d.manager else []


def _money(d: Dashboard) -> MoneySummary | None:
    """The money cards' summary for the dashboard `d` was read for (None when it could not be read: the rest of
    the dashboard is shown without it)."""
    try:
        return money_summary(d.at.date(), d.user_id, d.manager)
    except Exception:
        logger.exception("money summary failed")
        return None
