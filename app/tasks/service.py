"""Tasks and follow-ups: create, edit, done/undone, Jalali recurrence, referral (ارجاع) and the inbox (کارتابل).

Due times are naive office-local datetimes (Iran keeps +03:30 all year, so no DST gaps). A task with a date but
no time is `all_day`: stored at 00:00 and overdue only from the next day.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from app.core import jalali
from app.core.clock import now
from app.core.errors import NotFound, UserError, ValidationError
from app.core.text import clean, party_name, search_key
from app.customers import timeline
from app.office import events as office_events
from app.office.users import names_by_id
from models import sqlcache
from models.base import as_datetime, db, is_postgres
from models.core import Customer, User
from models.tasks import Task, TaskReferral

logger = logging.getLogger(__name__)

KIND_LABELS = {"task": "کار", "followup": "پیگیری", "call": "تماس"}
PRIORITY_LABELS = {0: "کم", 1: "عادی", 2: "مهم", 3: "فوری"}
STATUS_LABELS = {"open": "باز", "done": "انجام شد", "cancelled": "لغو شد"}
RECURRENCE_LABELS = {"": "بدون تکرار", "daily": "روزانه", "weekly": "هفتگی", "monthly": "ماهانه", "yearly": "سالانه"}
MANAGER_ROLES = ("admin", "manager")



# --- recurrence (pure) ----------------------------------------------------------------------------------------

def next_occurrence(due: dt.datetime, recurrence: str, interval: int = 1, anchor_day: int | None = None,
                    anchor_month: int | None = None) -> dt.datetime:
    """The occurrence after `due` in the Jalali calendar, keeping the time of day.

    Monthly keeps the anchor day: "every 31st" is Shahrivar 31, Mehr 30 … Esfand 29/30, Farvardin 31.
    Yearly keeps the anchor month and day: "every Esfand 30" is Esfand 30 in leap years, Esfand 29 otherwise.
    """
    interval = max(1, int(interval or 1))
    t = due.time()
    d = due.date()
    if recurrence == "daily":
        nd = d + dt.timedelta(days=interval)
    elif recurrence == "weekly":
        nd = d + dt.timedelta(weeks=interval)
    elif recurrence == "monthly":
        nd = jalali.add_months(d, interval, day=anchor_day or jalali.to_jalali(d).day)
    elif recurrence == "yearly":
        j = jalali.to_jalali(d)
        nd = jalali.add_years(d, interval, month=anchor_month or j.month, day=anchor_day or j.day)
    else:
        raise ValueError(f"not a recurrence: {recurrence!r}")
    return dt.datetime.combine(nd, t)


def occurrences(first: dt.datetime, recurrence: str, count: int, interval: int = 1) -> list[dt.datetime]:
    """The first `count` occurrences of a series starting at `first` (for previews and tests)."""
    j = jalali.to_jalali(first)
    out = [first]
    while len(out) < count:
        out.append(next_occurrence(out[-1], recurrence, interval, j.day, j.month))
    return out


# --- rows for lists ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskRow:
    id: int
    title: str
    kind: str
    customer_id: int | None
    customer_name: str
    assignee_id: int | None
    assignee_name: str
    due_at: dt.datetime | None
    all_day: bool
    priority: int
    status: str
    overdue: bool
    recurrence: str
    referred_by: str
    referred_at: dt.datetime | None
    referral_note: str
    done_at: dt.datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class ReferralInfo:
    at: dt.datetime
    from_name: str
    to_name: str
    reason: str
    from_id: int | None = None
    to_id: int | None = None


def is_overdue(due_at: dt.datetime | None, all_day: bool, status: str, at: dt.datetime | None = None) -> bool:
    if status != "open" or due_at is None:
        return False
    at = at or now()
    if all_day:
        return due_at.date() < at.date()
    return due_at < at


def overdue_condition(at: dt.datetime, day_start: dt.datetime | None = None):
    """SQL: open tasks whose time has passed (all-day ones from the next day). `day_start` (the start of `at`'s
    day) may be given apart, so that a statement kept by models.sqlcache takes both as parameters."""
    if day_start is None:
        day_start = dt.datetime.combine(at.date(), dt.time())
    # One range on due_at (< at, which covers the day's start too) with all_day checked per row: the index on
    # (status, assignee, due_at) then yields the overdue tasks already in due order, and a list of the first
    # 100 stops there instead of sorting all of a busy rep's overdue tasks (an OR of two ranges cannot).
    return (Task.status == "open") & (Task.due_at < at) & (
        (Task.all_day == False) | ((Task.all_day == True) & (Task.due_at < day_start)))  # noqa: E712


def _contains(column, needle: str):
    """Substring test without LIKE patterns (a typed % or _ means itself)."""
    if is_postgres():
        return pw.fn.strpos(column, needle) > 0
    return pw.fn.instr(column, needle) > 0


Assignee = User.alias("assignee_user")
Referrer = User.alias("referrer_user")


def _rows_query():
    return (Task.select(Task.id, Task.title, Task.kind, Task.customer, Customer.first_name, Customer.last_name,
                        Customer.company, Customer.kind.alias("ckind"), Task.assignee,
                        Assignee.name.alias("aname"), Task.due_at, Task.all_day, Task.priority, Task.status,
                        Task.recurrence, Referrer.name.alias("rname"), Task.referred_at, Task.referral_note,
                        Task.done_at, Task.description)
            .join(Customer, pw.JOIN.LEFT_OUTER, on=(Task.customer == Customer.id))
            .switch(Task).join(Assignee, pw.JOIN.LEFT_OUTER, on=(Task.assignee == Assignee.id))
            .switch(Task).join(Referrer, pw.JOIN.LEFT_OUTER, on=(Task.referred_by == Referrer.id)))


def _to_rows(q, at: dt.datetime) -> list[TaskRow]:
    return _rows_of(db.execute(q).fetchall(), at)


def _rows_of(rows: list[tuple], at: dt.datetime) -> list[TaskRow]:
    out = []
    for (tid, title, kind, cid, first, last, company, ckind, aid, aname, due, all_day, prio, status, rec, rname,
         rat, rnote, done_at, desc) in rows:
        due = as_datetime(due)
        all_day = bool(all_day)
        out.append(TaskRow(tid, title, kind, cid, party_name(first, last, company, ckind) if cid else "", aid,
                           aname or "", due, all_day, prio, status, is_overdue(due, all_day, status, at), rec,
                           rname or "", as_datetime(rat), rnote or "", as_datetime(done_at), desc or ""))
    return out


def _dt_set(v: Any) -> dt.datetime:
    """_dt for a NOT NULL column: a NULL there is a broken row, not a value to pass on."""
    d = as_datetime(v)
    if d is None:
        raise ValueError("a NOT NULL date-time column was read as NULL")
    return d


# --- the inbox (کارتابل) --------------------------------------------------------------------------------------

DUE_FILTERS = {"all": "همه تاریخ‌ها", "today": "امروز", "overdue": "عقب‌افتاده", "today_overdue": "امروز و عقب‌افتاده",
               "week": "تا هفت روز آینده", "none": "بدون تاریخ"}


@dataclass
class InboxFilter:
    user_id: int | None = None           # None: everyone's tasks (a manager's view)
    status: str = "open"                 # open / done / all
    due: str = "all"                     # see DUE_FILTERS
    kinds: tuple[str, ...] = ()          # () = every kind
    customer_id: int | None = None
    text: str = ""
    calls_only: bool = False             # "calls I must make today": follow-ups and calls due today or before
    limit: int | None = None
    extra: dict = field(default_factory=dict)


def calls_today_filter(user_id: int | None) -> InboxFilter:
    return InboxFilter(user_id=user_id, status="open", due="today_overdue", kinds=("call", "followup"),
                       calls_only=True)


def list_tasks(f: InboxFilter | None = None, at: dt.datetime | None = None) -> list[TaskRow]:
    """The inbox: tasks matching the filter, overdue first, then by due time (undated last)."""
    f = f or InboxFilter()
    at = at or now()
    # The statement's SQL is built once per shape of filter (models.sqlcache): peewee took longer to write it
    # than SQLite takes to run it, for each of the dashboard's lists. The values go in as parameters, in the
    # order _inbox_query takes them.
    values: list[Any] = []
    if f.user_id is not None:
        values.append(f.user_id)
    status = f.status in ("open", "done", "cancelled")
    if status:
        values.append(f.status)
    kinds = list(f.kinds or (("call", "followup") if f.calls_only else ()))
    values += kinds
    if f.customer_id:
        values.append(f.customer_id)
    day_start = dt.datetime.combine(at.date(), dt.time())
    tomorrow = day_start + dt.timedelta(days=1)
    due = "today_overdue" if f.calls_only and f.due == "all" else f.due
    values += {"today": [day_start, tomorrow], "overdue": [at, day_start], "today_overdue": [tomorrow],
               "week": [day_start + dt.timedelta(days=8)]}.get(due, [])
    text = search_key(f.text)
    tokens = text.split(" ") if text else []
    values += tokens
    if f.limit:
        values.append(f.limit)
    shape = (f.user_id is not None, status, len(kinds), bool(f.customer_id), due, len(tokens), f.status == "done",
             bool(f.limit))
    name = "tasks.inbox." + ".".join(str(x) for x in shape)
    rows = sqlcache.run(name, lambda *v: _inbox_query(shape, list(v)), *values).fetchall()
    return _rows_of(rows, at)


def _inbox_query(shape: tuple, values: list):
    """The inbox's statement for one shape of filter, taking `values` in list_tasks' order."""
    has_user, status, n_kinds, has_customer, due, n_tokens, done, has_limit = shape
    take = iter(values).__next__
    q = _rows_query()
    if has_user:
        q = q.where(Task.assignee == take())
    if status:
        q = q.where(Task.status == take())
    if n_kinds:
        q = q.where(Task.kind.in_([take() for _ in range(n_kinds)]))
    if has_customer:
        q = q.where(Task.customer == take())
    if due == "today":
        q = q.where(Task.due_at >= take(), Task.due_at < take())
    elif due == "overdue":
        q = q.where(overdue_condition(take(), take()))
    elif due in ("today_overdue", "week"):
        q = q.where(Task.due_at < take())
    elif due == "none":
        q = q.where(Task.due_at.is_null())
    for _ in range(n_tokens):
        tok = take()
        cust = Customer.select(Customer.id).where(_contains(Customer.search_text, tok))
        q = q.where(_contains(pw.fn.lower(Task.title), tok) | Task.customer.in_(cust))
    if done:
        q = q.order_by(Task.done_at.desc(nulls="LAST"), Task.id.desc())
    else:
        q = q.order_by(Task.due_at.asc(nulls="LAST"), Task.priority.desc(), Task.id)
    if has_limit:
        q = q.limit(take())
    return q


def get_row(task_id: int, at: dt.datetime | None = None) -> TaskRow:
    rows = _to_rows(_rows_query().where(Task.id == task_id), at or now())
    if not rows:
        raise NotFound("این کار پیدا نشد (شاید حذف شده است).")
    return rows[0]


def counts_per_user(at: dt.datetime | None = None, open_counts: bool = True) -> list[dict]:
    """For a manager: each colleague's open, overdue and due-today tasks (unassigned ones under user None;
    "today_ahead": those of today not yet overdue). `open_counts=False`: without the open ones ("open" None), the
    longest of the four ranges (the dashboard's totals above the first screen need only the other three); a
    colleague is then listed when any of the three is not zero.

    Counted per colleague as ranges of the (status, assignee, due_at) index: the open ones, those due before
    today, those of today already past (not all-day) and those due today. One GROUP BY over every open task
    weighed each row with two CASEs (15 ms for 65,000 open tasks); the ranges count index entries (4 ms)."""
    at = at or now()
    day_start = dt.datetime.combine(at.date(), dt.time())
    tomorrow = day_start + dt.timedelta(days=1)
    names = names_by_id()
    # the overdue ones (overdue_condition): due before today, or earlier today and not all-day
    rng = "FROM task WHERE status = ? AND {who} AND due_at >= ? AND due_at < ?"
    cols = ", ".join([
        "(SELECT COUNT(*) FROM task WHERE status = ? AND {who})" if open_counts else "?",
        "(SELECT COUNT(*) FROM task WHERE status = ? AND {who} AND due_at < ?)",
        f"(SELECT COUNT(*) {rng} AND all_day = ?)",
        f"(SELECT COUNT(*) {rng})"])
    sql = " UNION ALL ".join(
        [f'SELECT u.id, {cols.format(who="assignee_id = u.id")} FROM "user" u',
         f'SELECT NULL, {cols.format(who="assignee_id IS NULL")}'])
    one = ["open" if open_counts else None, "open", day_start, "open", day_start, at, False, "open", day_start,
           tomorrow]
    if not is_postgres():
        one = [v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in one]
    out = []
    for aid, n, before_today, earlier_today, n_today in sqlcache.raw(sql, one * 2).fetchall():
        if not (n if open_counts else (before_today or earlier_today or n_today)):
            continue
        out.append({"user_id": aid, "name": names.get(aid, "بدون مسئول") if aid else "بدون مسئول",
                    "open": int(n) if open_counts else None,
                    "overdue": int(before_today or 0) + int(earlier_today or 0),
                    "today": int(n_today or 0),
                    # today's not yet overdue: what the dashboard's «امروز» card counts
                    "today_ahead": int(n_today or 0) - int(earlier_today or 0)})
    out.sort(key=lambda r: (-r["overdue"], -(r["open"] or 0), r["name"]))
    return out


# --- users --------------------------------------------------------------------------------------------------

def users() -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in User.select(User.id, User.name).where(User.active == True)  # noqa: E712
            .order_by(User.name)]


def _name_and_role(user_id: int) -> tuple[str, str] | None:
    """A colleague's name and role (read at every dashboard and inbox reading: the statement is kept)."""
    return sqlcache.run("tasks.user", lambda u: User.select(User.name, User.role).where(User.id == u),
                        user_id).fetchone()


def is_manager(user_id: int | None) -> bool:
    """A manager (or admin) sees every colleague's tasks. With nobody signed in at this desk, everyone can."""
    if not user_id:
        return True
    row = _name_and_role(user_id)
    return bool(row and row[1] in MANAGER_ROLES)


def user_name(user_id: int | None) -> str:
    if not user_id:
        return ""
    row = _name_and_role(user_id)
    return row[0] if row else ""


def customer_choices(text: str, limit: int = 20) -> list[tuple[int, str]]:
    """Customers whose name, company or phone matches what was typed, for a picker."""
    from app.customers import service as cs

    if not (text or "").strip():
        return []
    if hasattr(cs, "ResultSet"):        # reads only the first ids (fast on 100,000 customers)
        ids = cs.ResultSet(cs.Filter(text=text)).next_ids(limit)
    else:
        ids = cs.search_ids(cs.Filter(text=text))[:limit]
    rows = cs.fetch_rows(ids)
    return [(i, f"{rows[i].name} — {rows[i].phone}" if rows[i].phone else rows[i].name) for i in ids if i in rows]


def customer_name(customer_id: int | None) -> str:
    if not customer_id:
        return ""
    c = Customer.get_or_none(Customer.id == customer_id)
    return c.display_name if c else ""


# --- create / edit ------------------------------------------------------------------------------------------

def _validate(data: dict, existing: Task | None = None) -> dict:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = clean(data.get("title", existing.title if existing else ""))
    if not title:
        errors["title"] = "عنوان کار را بنویسید."
    elif len(title) > 200:
        errors["title"] = "عنوان کار بیش از ۲۰۰ نویسه است."
    out["title"] = title
    desc = data.get("description", existing.description if existing else "") or ""
    out["description"] = "\n".join(clean(x) for x in str(desc).splitlines()).strip()
    kind = data.get("kind") or (existing.kind if existing else "task")
    if kind not in Task.KINDS:
        errors["kind"] = "نوع کار درست نیست."
    out["kind"] = kind
    prio = data.get("priority", existing.priority if existing else 1)
    try:
        prio = int(prio)
    except (TypeError, ValueError):
        prio = -1
    if prio not in Task.PRIORITIES:
        errors["priority"] = "اولویت درست نیست."
    out["priority"] = prio
    for key, model, label in (("customer_id", Customer, "این مشتری پیدا نشد."),
                              ("assignee_id", User, "این همکار پیدا نشد.")):
        v = data.get(key, getattr(existing, key.replace("_id", "") + "_id") if existing else None)
        if v in ("", 0):
            v = None
        if v is not None and not model.select().where(model.id == v).exists():
            errors[key] = label
        out[key] = v
    due = data.get("due_at", existing.due_at if existing else None)
    if due is not None and not isinstance(due, dt.datetime):
        if isinstance(due, dt.date):
            due = dt.datetime.combine(due, dt.time())
            data = {**data, "all_day": data.get("all_day", True)}
        else:
            errors["due_at"] = "زمان سررسید درست نیست."
            due = None
    all_day = bool(data.get("all_day", existing.all_day if existing else False))
    if due is not None and all_day:
        due = dt.datetime.combine(due.date(), dt.time())
    out["due_at"] = due
    out["all_day"] = all_day if due is not None else False
    rec = data.get("recurrence", existing.recurrence if existing else "") or ""
    if rec not in Task.RECURRENCES:
        errors["recurrence"] = "نوع تکرار درست نیست."
    if rec and due is None:
        errors["recurrence"] = "برای کار تکرارشونده تاریخ سررسید لازم است."
    out["recurrence"] = rec
    try:
        interval = int(data.get("recur_interval", existing.recur_interval if existing else 1) or 1)
    except (TypeError, ValueError):
        interval = 0
    if not 1 <= interval <= 999:
        errors["recur_interval"] = "فاصله تکرار باید عددی بین ۱ و ۹۹۹ باشد."
    out["recur_interval"] = interval
    until = data.get("recur_until", existing.recur_until if existing else None)
    if isinstance(until, dt.datetime):
        until = until.date()
    if until is not None and due is not None and until < due.date():
        errors["recur_until"] = "پایان تکرار پیش از نخستین سررسید است."
    out["recur_until"] = until
    rb = data.get("remind_before", existing.remind_before if existing else None)
    if rb in ("",):
        rb = None
    if rb is not None:
        try:
            rb = int(rb)
        except (TypeError, ValueError):
            rb = -1
        if rb < 0 or rb > 60 * 24 * 60:
            errors["remind_before"] = "زمان یادآوری درست نیست."
        if due is None:
            errors["remind_before"] = "برای یادآوری، تاریخ سررسید لازم است."
    out["remind_before"] = rb
    out["call_id"] = data.get("call_id", existing.call_id if existing else None) or None
    if errors:
        raise ValidationError(errors)
    return out


def _fields(d: dict) -> dict:
    f = {k: d[k] for k in ("title", "description", "kind", "priority", "due_at", "all_day", "recurrence",
                           "recur_interval", "recur_until", "remind_before")}
    f["customer"] = d["customer_id"]
    f["assignee"] = d["assignee_id"]
    f["call"] = d["call_id"]
    if d["recurrence"] and d["due_at"] is not None:
        j = jalali.to_jalali(d["due_at"])
        f["recur_day"], f["recur_month"] = j.day, j.month
    else:
        f["recur_day"] = f["recur_month"] = None
    return f


def _describe_due(t: Task) -> str:
    if t.due_at is None:
        return ""
    return jalali.format_date(t.due_at) if t.all_day else jalali.format_datetime(t.due_at)


def create_task(data: dict, user: int | None = None) -> Task:
    """data: title, description, kind, customer_id, assignee_id (default: the creator), due_at, all_day,
    priority, recurrence, recur_interval, recur_until, remind_before (minutes), call_id."""
    data = dict(data)
    data.setdefault("assignee_id", user)
    d = _validate(data)
    from app.tasks import reminders

    with db.atomic():
        t = Task.create(**_fields(d), created_by=user, created_at=now(), updated_at=now())
        if t.recurrence:
            t.series = t.id
            t.save(only=[Task.series])
        reminders.sync_task(t)
        office_events.task_assigned(t, user)
        if t.customer_id:
            due = _describe_due(t)
            timeline.record(t.customer_id, "followup" if t.kind in ("followup", "call") else "task",
                            f"{KIND_LABELS[t.kind]}: {t.title}" + (f" (سررسید {due})" if due else ""),
                            "task", t.id, user=user)
    logger.info("task %s created", t.id)
    return t


def update_task(task_id: int, data: dict, user: int | None = None) -> Task:
    t = get_task(task_id)
    d = _validate(data, existing=t)
    from app.tasks import reminders

    with db.atomic():
        for k, v in _fields(d).items():
            setattr(t, k, v)
        if t.recurrence and not t.series:
            t.series = t.id
        t.updated_at = now()
        t.save()
        reminders.sync_task(t)
        if t.customer_id:
            timeline.record(t.customer_id, "task_edited", f"ویرایش: {t.title}", "task", t.id, user=user)
    return t


def get_task(task_id: int) -> Task:
    t = Task.get_or_none(Task.id == task_id)
    if t is None:
        raise NotFound("این کار پیدا نشد (شاید حذف شده است).")
    return t


def task_data(task_id: int) -> dict:
    """Everything the task dialog shows, as plain data."""
    t = get_task(task_id)
    return {"id": t.id, "title": t.title, "description": t.description, "kind": t.kind,
            "customer_id": t.customer_id, "customer_name": customer_name(t.customer_id),
            "assignee_id": t.assignee_id, "assignee_name": user_name(t.assignee_id),
            "created_by_name": user_name(t.created_by_id), "created_at": t.created_at,
            "due_at": t.due_at, "all_day": t.all_day, "priority": t.priority, "status": t.status,
            "done_at": t.done_at, "done_by_name": user_name(t.done_by_id), "recurrence": t.recurrence,
            "recur_interval": t.recur_interval, "recur_until": t.recur_until, "remind_before": t.remind_before,
            "call_id": t.call_id, "overdue": is_overdue(t.due_at, t.all_day, t.status),
            "referrals": referral_chain(t.id)}


def set_done(task_id: int, done: bool = True, user: int | None = None) -> Task:
    """Mark done (a recurring task then gets its next occurrence) or open again (that occurrence goes,
    unless someone already worked on it)."""
    from app.tasks import reminders

    with db.atomic():
        t = get_task(task_id)
        if done and t.status == "done":
            return t
        if not done and t.status == "open":
            return t
        at = now()
        if done:
            t.status, t.done_at, t.done_by = "done", at, user
            nxt = _spawn_next(t, at)
            t.next_task = nxt.id if nxt else None
            reminders.close_for_task(t.id, "done")
            if t.customer_id:
                timeline.record(t.customer_id, "task_done", f"انجام شد: {t.title}", "task", t.id, user=user)
        else:
            t.status, t.done_at, t.done_by = "open", None, None
            if t.next_task:
                n = Task.get_or_none(Task.id == t.next_task)
                if n and n.status == "open" and n.referral_count == 0 and n.updated_at == n.created_at:
                    n.delete_instance()
                t.next_task = None
            reminders.sync_task(t)
            if t.customer_id:
                timeline.record(t.customer_id, "task_reopened", f"دوباره باز شد: {t.title}", "task", t.id,
                                user=user)
        t.updated_at = at
        t.save()
    return t


def _spawn_next(t: Task, at: dt.datetime) -> Task | None:
    if not t.recurrence or t.due_at is None:
        return None
    due = t.due_at
    # Skip occurrences already in the past: a daily task done three days late comes back tomorrow, not
    # yesterday. Bounded, so a bad interval can never loop for ever.
    for _ in range(5000):
        due = next_occurrence(due, t.recurrence, t.recur_interval, t.recur_day, t.recur_month)
        if due > at if not t.all_day else due.date() > at.date():
            break
    if t.recur_until and due.date() > t.recur_until:
        return None
    from app.tasks import reminders

    n = Task.create(title=t.title, description=t.description, kind=t.kind, customer=t.customer_id,
                    assignee=t.assignee_id, created_by=t.created_by_id, due_at=due, all_day=t.all_day,
                    priority=t.priority, recurrence=t.recurrence, recur_interval=t.recur_interval,
                    recur_day=t.recur_day, recur_month=t.recur_month, recur_until=t.recur_until,
                    series=t.series or t.id, remind_before=t.remind_before, created_at=at, updated_at=at)
    reminders.sync_task(n)
    return n


def cancel_task(task_id: int, user: int | None = None) -> Task:
    from app.tasks import reminders

    with db.atomic():
        t = get_task(task_id)
        t.status, t.updated_at = "cancelled", now()
        t.save()
        reminders.close_for_task(t.id, "dismissed")
        if t.customer_id:
            timeline.record(t.customer_id, "task_edited", f"لغو شد: {t.title}", "task", t.id, user=user)
    return t


# --- referral (ارجاع) -------------------------------------------------------------------------------------------

def refer(task_id: int, to_user: int, reason: str = "", by_user: int | None = None) -> TaskReferral:
    """Hand a task to a colleague: it leaves the current assignee's inbox and lands in theirs, with who, when
    and why; the chain of hand-overs stays on the task."""
    reason = clean(reason)
    if not to_user:
        raise ValidationError({"to_user": "همکاری را که کار به او ارجاع می‌شود انتخاب کنید."})
    target = User.get_or_none(User.id == to_user)
    if target is None or not target.active:
        raise ValidationError({"to_user": "این همکار پیدا نشد یا غیرفعال است."})
    from app.tasks import reminders

    with db.atomic():
        t = get_task(task_id)
        if t.status != "open":
            raise UserError("کار انجام‌شده یا لغوشده را نمی‌توان ارجاع داد؛ اول آن را دوباره باز کنید.")
        if t.assignee_id == to_user:
            raise ValidationError({"to_user": f"این کار همین حالا در کارتابل {target.name} است."})
        at = now()
        r = TaskReferral.create(task=t.id, from_user=by_user if by_user else t.assignee_id, to_user=to_user,
                                at=at, reason=reason)
        t.assignee = to_user
        t.referred_by = r.from_user_id
        t.referred_at = at
        t.referral_note = reason
        t.referral_count = (t.referral_count or 0) + 1
        t.updated_at = at
        t.save()
        reminders.sync_task(t)
        office_events.task_assigned(t, r.from_user_id, reason, referral=True)
        if t.customer_id:
            who = user_name(r.from_user_id) or "—"
            timeline.record(t.customer_id, "task_referred",
                            f"«{t.title}» از {who} به {target.name} ارجاع شد" + (f": {reason}" if reason else "."),
                            "task", t.id, data={"from": r.from_user_id, "to": to_user, "reason": reason},
                            user=by_user)
    return r


def referral_chain(task_id: int) -> list[ReferralInfo]:
    From = User.alias("from_u")
    To = User.alias("to_u")
    q = (TaskReferral.select(TaskReferral.at, From.name, To.name, TaskReferral.reason, TaskReferral.from_user,
                             TaskReferral.to_user)
         .join(From, pw.JOIN.LEFT_OUTER, on=(TaskReferral.from_user == From.id))
         .switch(TaskReferral).join(To, pw.JOIN.LEFT_OUTER, on=(TaskReferral.to_user == To.id))
         .where(TaskReferral.task == task_id).order_by(TaskReferral.at, TaskReferral.id))
    return [ReferralInfo(_dt_set(at), fn or "", tn or "", reason or "", fid, tid)
            for at, fn, tn, reason, fid, tid in db.execute(q).fetchall()]


def reminder_done(reminder_id: int, user: int | None = None) -> None:
    """«انجام شد» on a reminder: the reminder closes, and a task reminder marks its task done too."""
    from models.tasks import Reminder

    with db.atomic():
        r = Reminder.get_or_none(Reminder.id == reminder_id)
        if r is None:
            raise NotFound("این یادآوری پیدا نشد.")
        r.state = "done"
        r.save()
        if r.task_id:
            set_done(r.task_id, True, user=user)
