"""Cash forecast per Jalali month: what should come in (open invoices by their due date, received cheques by
theirs) and go out (the office's own cheques), from today on.

Money already late goes in one bucket before the months («سررسید گذشته»): invoices past due, and pending
cheques whose day has passed without being marked cleared. Payments by cheque are already allocated to their
invoices, so an invoice's remaining amount and a cheque never count the same money twice; a bounced cheque
counts for nothing (its invoice is open again and counts there).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import peewee as pw

from app.core import jalali
from app.core.clock import today
from app.money.collection import open_by_day
from models import sqlcache
from models.base import as_date
from models.core import Customer
from models.sales import IssuedCheque, Payment

PAST = (0, 0)


@dataclass
class ForecastMonth:
    year: int                   # 0 for the past-due bucket
    month: int
    invoices: int = 0           # remaining on open invoices due in the month
    cheques_in: int = 0         # received cheques due in the month (pending)
    cheques_out: int = 0        # the office's cheques due in the month (pending)

    @property
    def cash_in(self) -> int:
        return self.invoices + self.cheques_in

    @property
    def net(self) -> int:
        return self.cash_in - self.cheques_out

    @property
    def label(self) -> str:
        if (self.year, self.month) == PAST:
            return "سررسید گذشته"
        return jalali.month_label(self.year, self.month)


@functools.lru_cache(maxsize=4096)     # open invoices and cheques fall due on a few hundred days
def _month_of(d: dt.date) -> tuple[int, int]:
    j = jalali.to_jalali(d)
    return j.year, j.month


def cash_forecast(on: dt.date | None = None, months: int = 6, user_id: int | None = None,
                  issued: bool = True, amounts: list | None = None) -> list[ForecastMonth]:
    """The past-due bucket, then `months` Jalali months from the month of `on`. Money due after the last
    month is left out. `user_id` narrows to that user's customers (and leaves the office's cheques out)."""
    on = on or today()
    y, m = _month_of(on)
    buckets: dict[tuple[int, int], ForecastMonth] = {PAST: ForecastMonth(0, 0)}
    order = [PAST]
    for _ in range(months):
        buckets[(y, m)] = ForecastMonth(y, m)
        order.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)

    def bucket(day: dt.date) -> ForecastMonth | None:
        return buckets[PAST] if day < on else buckets.get(_month_of(day))

    for due, owed, _n in (open_by_day(user_id) if amounts is None else amounts):
        b = bucket(due)
        if b is not None:
            b.invoices += owed
    def received(who):         # built once per shape, given its values (models.sqlcache)
        q = (Payment.select(Payment.cheque_due, pw.fn.SUM(Payment.amount))
             .join(Customer, on=(Payment.customer == Customer.id))
             .where(Payment.kind == "cheque", Payment.state == "active", Payment.cheque_state == "pending",
                    Payment.cheque_due.is_null(False)))
        return (q if who is None else q.where(Customer.assigned_to == who)).group_by(Payment.cheque_due)

    for due, amount in sqlcache.run("forecast.cheques_in", received, user_id or None).fetchall():
        b = bucket(as_date(due))
        if b is not None:
            b.cheques_in += int(amount or 0)
    if issued and not user_id:
        for due, amount in sqlcache.run("forecast.cheques_out", lambda: IssuedCheque.select(
                IssuedCheque.due_date, pw.fn.SUM(IssuedCheque.amount)).where(IssuedCheque.state == "pending")
                .group_by(IssuedCheque.due_date)).fetchall():
            b = bucket(as_date(due))
            if b is not None:
                b.cheques_out += int(amount or 0)
    return [buckets[k] for k in order]
