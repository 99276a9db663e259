"""Everything the dashboard's money cards show, in one call (a handful of grouped queries)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.core.clock import today
from app.money import cheques, collection, forecast

LIST_LIMIT = 50


@dataclass
class MoneySummary:
    on: dt.date
    overdue: list[collection.OverdueInvoice] = field(default_factory=list)
    overdue_count: int = 0
    overdue_total: int = 0
    week: list[cheques.ChequeRow] = field(default_factory=list)     # the first LIST_LIMIT of week_count
    week_count: int = 0
    week_in: int = 0                 # received cheques due within the week (and past-due pending ones)
    week_out: int = 0                # the office's own
    bounced: list[cheques.ChequeRow] = field(default_factory=list)  # the first LIST_LIMIT of bounced_count
    bounced_count: int = 0
    bounced_total: int = 0
    collection_due: int = 0          # rows of the collection list due now
    collection: list[collection.CollectionRow] = field(default_factory=list)
    forecast: list[forecast.ForecastMonth] = field(default_factory=list)
    issued_visible: bool = True      # the office's own cheques (a manager's desk)


def money_summary(on: dt.date | None = None, user_id: int | None = None, manager: bool = True,
                  months: int = 4) -> MoneySummary:
    """A manager (or a desk with nobody signed in: user_id None) sees the office's money; anyone else sees
    their assigned customers', without the office's own cheques."""
    on = on or today()
    who = None if manager else user_id
    issued = manager
    s = MoneySummary(on, issued_visible=issued)
    if who is None:
        amounts = collection.open_by_day(None)          # the open invoices summed a day at a time
        overdue = None                                  # and a customer at a time, by collection_and_total
    else:                                               # a rep's: both from one join to the customers
        per = collection.open_by_customer_and_day(who)
        amounts, overdue = collection.by_day(per), collection.overdue_by_customer(per, on)
    s.overdue_count, s.overdue_total = collection.overdue_totals(on, who, amounts)
    s.overdue = collection.overdue_invoices(on, who, limit=LIST_LIMIT)
    week = cheques.week_summary(on, who, issued, limit=LIST_LIMIT)
    s.week, s.week_count, s.week_in, s.week_out = week.rows, week.count, week.received, week.issued
    owing = cheques.bounced_by_customer(who)             # a customer's bounced cheques are a debt to chase
    bounced = cheques.bounced_summary(who, issued, limit=LIST_LIMIT, owing=owing)
    s.bounced, s.bounced_count, s.bounced_total = bounced.rows, bounced.count, bounced.received + bounced.issued
    s.collection, s.collection_due = collection.collection_and_total(on, who, due_only=True, limit=LIST_LIMIT,
                                                                     bounced=owing, overdue=overdue)
    s.forecast = forecast.cash_forecast(on, months, who, issued, amounts)
    return s
