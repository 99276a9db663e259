"""Sales figures for reports. Dates are Gregorian ``datetime.date``, inclusive; only issued invoices count as sales,
and a corrected invoice's correction counts instead of it.

* ``sales_rows(date_from, date_to) -> list[SaleRow]``: one row per invoice with customer, rep, Jalali year/month
  and the money columns.
* ``top_customers(date_from, date_to, by="amount"|"count", limit=10) -> list[CustomerSales]``.
* ``sales_by_month(date_from, date_to) -> list[MonthSales]`` (Jalali months, oldest first).
* ``sales_by_rep(date_from, date_to) -> list[RepSales]`` (the document's rep, else the customer's
  assigned user; "بدون مسئول" when neither).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app.core.jalali import group_by_period, to_jalali
from app.office import roles
from app.sales.views import name_of
from models.core import Customer, User
from models.sales import SalesDocument

logger = logging.getLogger(__name__)


# --- reports -----------------------------------------------------------------------------------------------

@dataclass
class SaleRow:
    id: int
    number: str
    date: dt.date
    jalali_year: int
    jalali_month: int
    customer_id: int
    customer_name: str
    rep_id: int | None
    rep_name: str
    subtotal: int
    discount: int
    vat: int
    total: int
    lines: int = 0


@dataclass
class CustomerSales:
    customer_id: int
    customer_name: str
    count: int
    amount: int


@dataclass
class MonthSales:
    jalali_year: int
    jalali_month: int
    count: int
    amount: int
    vat: int


@dataclass
class RepSales:
    rep_id: int | None
    rep_name: str
    count: int
    amount: int


NO_REP = "بدون مسئول"


@roles.guard("money.view")
def sales_rows(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[SaleRow]:
    """Issued invoices between the dates (inclusive), oldest first."""
    Rep = User.alias()
    Assigned = User.alias()
    q = (SalesDocument.select(SalesDocument.id, SalesDocument.number, SalesDocument.date, SalesDocument.customer,
                              SalesDocument.rep, SalesDocument.subtotal, SalesDocument.line_discount,
                              SalesDocument.doc_discount, SalesDocument.vat_total, SalesDocument.total,
                              Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                              Customer.assigned_to, Rep.name.alias("rep_name"),
                              Assigned.name.alias("assigned_name"))
         .join(Customer, on=(SalesDocument.customer == Customer.id))
         .join(Rep, pw.JOIN.LEFT_OUTER, on=(SalesDocument.rep == Rep.id))
         .join(Assigned, pw.JOIN.LEFT_OUTER, on=(Customer.assigned_to == Assigned.id))
         .where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued"))
    if date_from:
        q = q.where(SalesDocument.date >= date_from)
    if date_to:
        q = q.where(SalesDocument.date <= date_to)
    out = []
    for r in q.order_by(SalesDocument.date, SalesDocument.id).dicts():
        j = to_jalali(r["date"])
        rep_id = r["rep"] or r["assigned_to"]
        rep_name = r["rep_name"] or r["assigned_name"] or NO_REP
        out.append(SaleRow(r["id"], r["number"], r["date"], j.year, j.month, r["customer"], name_of(r), rep_id,
                           rep_name, r["subtotal"], r["line_discount"] + r["doc_discount"], r["vat_total"],
                           r["total"]))
    return out


@roles.guard("money.view")
def top_customers(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "amount",
                  limit: int = 10) -> list[CustomerSales]:
    agg: dict[int, CustomerSales] = {}
    for r in sales_rows(date_from, date_to):
        c = agg.setdefault(r.customer_id, CustomerSales(r.customer_id, r.customer_name, 0, 0))
        c.count += 1
        c.amount += r.total
    key = (lambda c: (c.count, c.amount)) if by == "count" else (lambda c: (c.amount, c.count))
    return sorted(agg.values(), key=key, reverse=True)[:limit]


@roles.guard("money.view")
def sales_by_month(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[MonthSales]:
    out = []
    for start, rows in group_by_period(sales_rows(date_from, date_to), lambda r: r.date, "month"):
        j = to_jalali(start)
        out.append(MonthSales(j.year, j.month, len(rows), sum(r.total for r in rows), sum(r.vat for r in rows)))
    return out


@roles.guard("money.view")
def sales_by_rep(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[RepSales]:
    agg: dict[int | None, RepSales] = {}
    for r in sales_rows(date_from, date_to):
        s = agg.setdefault(r.rep_id, RepSales(r.rep_id, r.rep_name, 0, 0))
        s.count += 1
        s.amount += r.total
    return sorted(agg.values(), key=lambda s: s.amount, reverse=True)
