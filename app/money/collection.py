"""Overdue invoices and the collection list (پیگیری مطالبات): one row per customer who owes money past its
due date or gave a cheque that bounced, with what is owed, how late, the last contact and the next follow-up.

A rep works through it like «تماس‌های امروز من»: call (one click), log the result (the call dialog, through
``log_collection_call``), set the next follow-up (a task titled «پیگیری مطالبات از …»). A row whose next
follow-up lies in the future is *scheduled* and sinks to the bottom; the others are due now.
"""
from __future__ import annotations

import datetime as dt
import heapq
import logging
from dataclasses import dataclass

import peewee as pw

from app import fmt
from app.core.clock import now, today
from app.core.errors import NotFound, ValidationError
from app.money.cheques import _phones, bounced_by_customer, id_list
from models import sqlcache
from models.base import as_date, as_datetime, db, is_sqlite
from models.calls import Call
from models.core import Customer, User
from models.sales import SalesDocument
from models.tasks import Task
from models.writer import writes

logger = logging.getLogger(__name__)

COLLECTION_TITLE = "پیگیری مطالبات از"


def _name(first, last, company, kind) -> str:
    from app.core.text import party_name as name_of

    return name_of(first, last, company, kind)


@dataclass(frozen=True)
class OverdueInvoice:
    id: int
    number: str
    customer_id: int
    customer_name: str
    phone: str
    date: dt.date
    due_date: dt.date
    total: int
    paid: int
    days_late: int
    assigned_to: int | None

    @property
    def remaining(self) -> int:
        return self.total - self.paid


_DUE_DAY = pw.fn.COALESCE(SalesDocument.due_date, SalesDocument.date)     # an invoice without a due date: its day


def open_invoices_query(fields, user_id: int | None = None, with_customer: bool = False):
    """Issued invoices with money still owed on them (read from their own index, migration 22), joined to their
    customer when `with_customer` (its columns among `fields`) or `user_id` (only that user's customers): at a
    million customers the join alone cost more than the rest. `fields(paid)` gives the columns to select, `paid`
    being what has been paid on the row's invoice; returns (query, paid)."""
    paid = SalesDocument.paid
    q = (SalesDocument.select(*fields(paid))
         .where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued", SalesDocument.total > paid))
    if with_customer or user_id:
        q = q.join(Customer, on=(SalesDocument.customer == Customer.id))
    if user_id:
        q = q.where(Customer.assigned_to == user_id)
    return q, paid


def overdue_invoices(on: dt.date | None = None, user_id: int | None = None,
                     limit: int | None = None) -> list[OverdueInvoice]:
    """Issued invoices past their due date (due before `on`) with money still owed, most overdue first
    (at most `limit`). `user_id`: only the customers assigned to that user."""
    on = on or today()

    def build(before, who, most):   # built once per shape, given its values (models.sqlcache): the dashboard reads it
        q, _paid = open_invoices_query(lambda paid: (
            SalesDocument.id, SalesDocument.number, SalesDocument.customer, SalesDocument.date,
            SalesDocument.due_date, SalesDocument.total, paid.alias("paid"), Customer.first_name,
            Customer.last_name, Customer.company, Customer.kind, Customer.assigned_to), user_id=who,
            with_customer=True)
        q = q.where(SalesDocument.due_date < before).order_by(SalesDocument.due_date, SalesDocument.id)
        return q if most is None else q.limit(most)

    rows = sqlcache.run("collection.overdue", build, on, user_id or None, limit or None).fetchall()
    phones = _phones(r[2] for r in rows)
    out = []
    for did, number, cust, date, due, total, paid_v, first, last, company, kind, assigned in rows:
        due = as_date(due)
        out.append(OverdueInvoice(did, number or "", cust, _name(first, last, company, kind), phones.get(cust, ""),
                                  as_date(date), due, int(total), int(paid_v or 0), (on - due).days, assigned))
    return out


def open_by_day(user_id: int | None = None) -> list[tuple[dt.date, int, int]]:
    """The open invoices summed a day at a time: (due day, amount still owed, invoices). What the totals and the
    forecast read (the dashboard: a few hundred days, where an office can have tens of thousands of open
    invoices)."""
    def build(who):     # built once per shape, given its values (models.sqlcache)
        q, _paid = open_invoices_query(lambda paid: (_DUE_DAY, pw.fn.SUM(SalesDocument.total - paid),
                                                     pw.fn.COUNT(SalesDocument.id)), user_id=who)
        return q.group_by(_DUE_DAY)

    rows = sqlcache.run("collection.open_by_day", build, user_id or None)
    return [(as_date(day), int(owed or 0), int(n)) for day, owed, n in rows.fetchall()]


def _overdue_by_customer(on: dt.date, user_id: int | None) -> list[tuple[int, int, int, dt.date]]:
    """(customer, owed past its due date, invoices, the oldest due day) of every customer owing on `on`."""
    def build(before, who):     # built once per shape, given its values (models.sqlcache)
        q, _paid = open_invoices_query(lambda paid: (SalesDocument.customer, pw.fn.SUM(SalesDocument.total - paid),
                                                     pw.fn.COUNT(SalesDocument.id), pw.fn.MIN(_DUE_DAY)), user_id=who)
        return q.where(_DUE_DAY < before).group_by(SalesDocument.customer)

    rows = sqlcache.run("collection.overdue_by_customer", build, on, user_id or None)
    days: dict = {}          # the due days repeat (a few hundred days for tens of thousands of debtors)
    return [(cid, int(owed or 0), int(n), days.get(day) or days.setdefault(day, as_date(day)))
            for cid, owed, n, day in rows.fetchall()]


def open_by_customer_and_day(user_id: int | None = None) -> list[tuple[int, dt.date, int, int]]:
    """The open invoices summed a customer and a day at a time: (customer, due day, amount still owed, invoices).
    by_day() and overdue_by_customer() fold it into what open_by_day() and the collection list read: for a rep,
    whose invoices are found by a join to the customers, one join instead of two (at a million customers each
    join cost about 100 ms)."""
    def build(who):     # built once per shape, given its values (models.sqlcache)
        q, _paid = open_invoices_query(lambda paid: (SalesDocument.customer, _DUE_DAY,
                                                     pw.fn.SUM(SalesDocument.total - paid),
                                                     pw.fn.COUNT(SalesDocument.id)), user_id=who)
        return q.group_by(SalesDocument.customer, _DUE_DAY)

    rows = sqlcache.run("collection.open_by_customer_and_day", build, user_id or None)
    return [(cid, as_date(day), int(owed or 0), int(n)) for cid, day, owed, n in rows.fetchall()]


def by_day(rows: list[tuple[int, dt.date, int, int]]) -> list[tuple[dt.date, int, int]]:
    """open_by_customer_and_day()'s rows as open_by_day() gives them, earliest day first."""
    days: dict[dt.date, list[int]] = {}
    for _cid, day, owed, n in rows:
        a = days.get(day)
        if a is None:
            days[day] = [owed, n]
        else:
            a[0] += owed
            a[1] += n
    return [(day, owed, n) for day, (owed, n) in sorted(days.items())]


def overdue_by_customer(rows: list[tuple[int, dt.date, int, int]], on: dt.date) -> list[tuple[int, int, int, dt.date]]:
    """open_by_customer_and_day()'s rows as _overdue_by_customer(on) gives them."""
    per: dict[int, list] = {}
    for cid, day, owed, n in rows:
        if day >= on:
            continue
        a = per.get(cid)
        if a is None:
            per[cid] = [owed, n, day]
        else:
            a[0] += owed
            a[1] += n
            if day < a[2]:
                a[2] = day
    return [(cid, owed, n, oldest) for cid, (owed, n, oldest) in per.items()]


def overdue_totals(on: dt.date | None = None, user_id: int | None = None,
                   amounts: list | None = None) -> tuple[int, int]:
    """(how many invoices, how much) is owed past its due date. `amounts`: what open_by_day() returned, when the
    caller has it already."""
    on = on or today()
    rows = open_by_day(user_id) if amounts is None else amounts
    late = [(owed, n) for day, owed, n in rows if day < on]
    return sum(n for _o, n in late), sum(o for o, _n in late)


# --- the collection list --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectionRow:
    customer_id: int
    name: str
    phone: str
    assigned_name: str
    overdue_amount: int           # owed on invoices past their due date
    overdue_count: int
    days_late: int                # of the oldest overdue invoice
    bounced_amount: int           # received cheques that bounced (customer still owing)
    bounced_count: int
    last_contact: dt.datetime | None
    next_follow_up: dt.datetime | None
    follow_up_task_id: int | None
    due_now: bool

    @property
    def amount(self) -> int:
        """What the rep asks for: the overdue money; a bounced cheque's amount when it is the larger."""
        return max(self.overdue_amount, self.bounced_amount)

    def reason(self) -> str:
        parts = []
        if self.overdue_count:
            parts.append(f"{fmt.count(self.overdue_count, 'فاکتور')} سررسیدگذشته "
                         f"(قدیمی‌ترین {fmt.count(self.days_late, 'روز')} دیرکرد)")
        if self.bounced_count:
            parts.append(f"{fmt.count(self.bounced_count, 'چک')} برگشتی")
        return "؛ ".join(parts)


def open_follow_ups_query():
    """(customer, due, task) of every open collection follow-up, earliest first: a few per debtor being chased,
    found by their titles (on SQLite through the open tasks' titles index, migration 22) rather than by looking
    up each of thousands of debtors' tasks."""
    cond = (Task.status == "open") & Task.customer.is_null(False)
    if is_sqlite():     # its LIKE cannot use an index; the same prefix as a range can (binary order)
        cond &= (Task.title.startswith(COLLECTION_TITLE) & (Task.title >= COLLECTION_TITLE)
                 & (Task.title < COLLECTION_TITLE + "\U0010ffff"))
    else:               # LIKE (not peewee's ILIKE), which the index's text_pattern_ops serve
        cond &= Task.title % (COLLECTION_TITLE + "%")
    return Task.select(Task.customer, Task.due_at, Task.id).where(cond).order_by(Task.due_at, Task.id).tuples()


def collection_list(on: dt.date | None = None, user_id: int | None = None,
                    due_only: bool = False) -> list[CollectionRow]:
    """The collection list for `on` (today): rows due now first (most overdue money first), then the
    scheduled ones (nearest follow-up first). `due_only` leaves the scheduled ones out."""
    return collection_and_total(on, user_id, due_only)[0]


def collection_and_total(on: dt.date | None = None, user_id: int | None = None, due_only: bool = False,
                         limit: int | None = None,
                         bounced: dict[int, tuple[int, int]] | None = None,
                         overdue: list[tuple[int, int, int, dt.date]] | None = None) -> tuple[list[CollectionRow], int]:
    """collection_list()'s first `limit` rows (all when None), and how many rows the whole list has. The order
    and the count come from the money and the follow-ups alone; names, phones, colleagues and last calls are read
    for the rows returned only (an office with thousands of debtors shows the dashboard 50). `bounced`: what
    bounced_by_customer(user_id) returned, and `overdue` what _overdue_by_customer(on, user_id) would, when the
    caller has them already."""
    rows, figures = collection_page(on, user_id, due_only, limit, bounced, overdue)
    return rows, figures.count


@dataclass(frozen=True)
class CollectionFigures:
    """The whole collection list's figures, whatever part of it is read."""
    count: int = 0                   # rows
    due: int = 0                     # rows due now
    overdue_total: int = 0           # owed past its due date, summed over the rows


def collection_page(on: dt.date | None = None, user_id: int | None = None, due_only: bool = False,
                    limit: int | None = None, bounced: dict[int, tuple[int, int]] | None = None,
                    overdue: list[tuple[int, int, int, dt.date]] | None = None
                    ) -> tuple[list[CollectionRow], CollectionFigures]:
    """collection_and_total()'s rows, with the figures of the whole list (the money page shows the first
    thousand of an office's tens of thousands of debtors, and says how many there are and what they owe)."""
    on = on or today()
    agg: dict[int, dict] = {}
    for cid, owed, n, oldest in (_overdue_by_customer(on, user_id) if overdue is None else overdue):
        agg[cid] = {"over": owed, "n": n, "days": (on - oldest).days, "bounced": 0, "nb": 0}
    for cid, (nb, amount) in (bounced_by_customer(user_id) if bounced is None else bounced).items():
        a = agg.setdefault(cid, {"over": 0, "n": 0, "days": 0, "bounced": 0, "nb": 0})
        a["bounced"] += amount
        a["nb"] += nb
    if not agg:
        return [], CollectionFigures()
    follow: dict[int, tuple[dt.datetime | None, int]] = {}
    for cid, due_at, task_id in db.execute(open_follow_ups_query()).fetchall():    # the driver's values
        if cid in agg and cid not in follow:
            follow[cid] = (as_datetime(due_at), task_id)
    far = dt.datetime.max
    keyed = []
    due = over = 0
    for cid, a in agg.items():
        nxt = follow.get(cid, (None, None))[0]
        due_now = nxt is None or nxt.date() <= on
        if due_only and not due_now:
            continue
        due += due_now
        over += a["over"]
        amount = max(a["over"], a["bounced"])           # CollectionRow.amount
        keyed.append(((not due_now, (nxt or far) if not due_now else far, -amount, -a["days"], cid), cid, due_now))
    figures = CollectionFigures(len(keyed), due, over)
    chosen = sorted(keyed) if limit is None else heapq.nsmallest(limit, keyed)
    ids = [cid for _k, cid, _d in chosen]
    names = {cid: _name(f, la, co, k) for cid, f, la, co, k in (
        Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
        .where(Customer.id.in_(id_list(ids))).tuples())}
    phones = _phones(ids)
    assigned = dict(Customer.select(Customer.id, User.name).join(User, on=(Customer.assigned_to == User.id))
                    .where(Customer.id.in_(id_list(ids))).tuples())
    last_call = dict(Call.select(Call.customer, pw.fn.MAX(Call.started_at)).where(Call.customer.in_(id_list(ids)))
                     .group_by(Call.customer).tuples())
    out = []
    for _k, cid, due_now in chosen:
        a = agg[cid]
        nxt, tid = follow.get(cid, (None, None))
        out.append(CollectionRow(cid, names.get(cid, ""), phones.get(cid, ""), assigned.get(cid, ""), a["over"],
                                 a["n"], a["days"], a["bounced"], a["nb"], as_datetime(last_call.get(cid)), nxt, tid,
                                 due_now))
    return out, figures


def collection_title(customer_id: int) -> str:
    from app.tasks.service import customer_name

    return f"{COLLECTION_TITLE} {customer_name(customer_id)}".strip()


def _close_earlier(customer_id: int, keep: int | None, user: int | None) -> int:
    """Earlier open collection follow-ups of this customer are done: the new one replaces them."""
    q = Task.select(Task.id).where(Task.customer == customer_id, Task.status == "open",
                                   Task.title.startswith(COLLECTION_TITLE))
    if keep:
        q = q.where(Task.id != keep)
    from app.tasks import service as tasks

    n = 0
    for (tid,) in q.tuples():
        tasks.set_done(tid, True, user=user)
        n += 1
    return n


@writes
def schedule_follow_up(customer_id: int, when: dt.datetime | dt.date, note: str = "", user: int | None = None,
                       assignee: int | None = None) -> Task:
    """Set the next collection follow-up for a customer (a «پیگیری» task); earlier open ones are closed."""
    if not Customer.select().where(Customer.id == customer_id).exists():
        raise NotFound("این مشتری پیدا نشد.")
    if when is None:
        raise ValidationError({"follow_up_at": "تاریخ پیگیری بعدی را وارد کنید."})
    if isinstance(when, dt.datetime):
        all_day, at, late = False, when, when < now()
    else:
        all_day, at, late = True, dt.datetime.combine(when, dt.time()), when < today()
    if late:
        raise ValidationError({"follow_up_at": "تاریخ پیگیری گذشته است."})
    from app.tasks import service as tasks

    t = tasks.create_task({"title": collection_title(customer_id), "kind": "followup", "customer_id": customer_id,
                           "assignee_id": assignee or user, "due_at": at, "all_day": all_day,
                           "description": note}, user=user)
    _close_earlier(customer_id, t.id, user)
    return t


@writes
def log_collection_call(data: dict, user: int | None = None):
    """Log a collection call through the ordinary call log (call_log.log_call, same data). A follow-up asked
    for is titled «پیگیری مطالبات از …» and replaces the customer's earlier open collection follow-ups."""
    from app.calls import log as call_log

    data = dict(data)
    cid = data.get("customer_id")
    if cid and data.get("follow_up_at") is not None and not data.get("follow_up_title"):
        data["follow_up_title"] = collection_title(cid)
    logged = call_log.log_call(data, user=user)
    if cid and logged.task is not None:
        _close_earlier(cid, logged.task.id, user)
    return logged
