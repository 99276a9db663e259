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
import functools
import logging
from dataclasses import dataclass

import peewee as pw

from app.core.jalali import group_by_period, to_jalali
from app.core.text import party_name
from app.office import roles
from models.base import as_date, db
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


def _issued_invoices(q: pw.ModelSelect, date_from: dt.date | None, date_to: dt.date | None) -> pw.ModelSelect:
    q = q.where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued")
    if date_from:
        q = q.where(SalesDocument.date >= date_from)
    if date_to:
        q = q.where(SalesDocument.date <= date_to)
    return q


@functools.lru_cache(maxsize=4096)
def _jalali_month(d: dt.date) -> tuple[int, int]:
    j = to_jalali(d)
    return j.year, j.month


@roles.guard("money.view")
def sales_rows(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[SaleRow]:
    """Issued invoices between the dates (inclusive), oldest first."""
    Rep = User.alias()
    Assigned = User.alias()
    q = _issued_invoices(
        SalesDocument.select(SalesDocument.id, SalesDocument.number, SalesDocument.date, SalesDocument.customer,
                             SalesDocument.rep, SalesDocument.subtotal, SalesDocument.line_discount,
                             SalesDocument.doc_discount, SalesDocument.vat_total, SalesDocument.total,
                             Customer.first_name, Customer.last_name, Customer.company, Customer.kind,
                             Customer.assigned_to, Rep.name, Assigned.name)
        .join(Customer, on=(SalesDocument.customer == Customer.id))
        .join(Rep, pw.JOIN.LEFT_OUTER, on=(SalesDocument.rep == Rep.id))
        .join(Assigned, pw.JOIN.LEFT_OUTER, on=(Customer.assigned_to == Assigned.id)), date_from, date_to)
    out = []
    # the driver's rows as they come, and a month per day (an office's year holds tens of thousands of invoices)
    for (doc_id, number, date, customer, rep, subtotal, line_discount, doc_discount, vat, total, first, last,
         company, kind, assigned, rep_name, assigned_name) in db.execute(q.order_by(SalesDocument.date,
                                                                                    SalesDocument.id)):
        date = as_date(date)
        year, month = _jalali_month(date)
        out.append(SaleRow(doc_id, number, date, year, month, customer, party_name(first, last, company, kind),
                           rep or assigned, rep_name or assigned_name or NO_REP, subtotal,
                           line_discount + doc_discount, vat, total))
    return out


@roles.guard("money.view")
def top_customers(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "amount",
                  limit: int = 10) -> list[CustomerSales]:
    """The customers who bought the most (`by` amount, else count), summed and chosen by the database; ties go to
    the customer who bought first."""
    n, amount = pw.fn.COUNT(SalesDocument.id), pw.fn.SUM(SalesDocument.total)
    first = (pw.fn.MIN(SalesDocument.date), pw.fn.MIN(SalesDocument.id))
    order = (n.desc(), amount.desc()) if by == "count" else (amount.desc(), n.desc())
    q = _issued_invoices(SalesDocument.select(SalesDocument.customer, n, amount), date_from, date_to)
    rows = db.execute(q.group_by(SalesDocument.customer).order_by(*order, *first).limit(limit)).fetchall()
    names = {cid: party_name(f, la, co, k) for cid, f, la, co, k in db.execute(
        Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.kind)
        .where(Customer.id.in_([r[0] for r in rows])))}
    return [CustomerSales(cid, names.get(cid, ""), int(count), int(total or 0)) for cid, count, total in rows]


@roles.guard("money.view")
def sales_by_month(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[MonthSales]:
    """Summed a day at a time by the database, the days then gathered into Jalali months."""
    q = _issued_invoices(SalesDocument.select(SalesDocument.date, pw.fn.COUNT(SalesDocument.id),
                                              pw.fn.SUM(SalesDocument.total), pw.fn.SUM(SalesDocument.vat_total)),
                         date_from, date_to)
    days = [(as_date(d), int(n), int(total or 0), int(vat or 0))
            for d, n, total, vat in db.execute(q.group_by(SalesDocument.date).order_by(SalesDocument.date))]
    out = []
    for start, rows in group_by_period(days, lambda r: r[0], "month"):
        year, month = _jalali_month(start)
        out.append(MonthSales(year, month, sum(r[1] for r in rows), sum(r[2] for r in rows),
                              sum(r[3] for r in rows)))
    return out


@roles.guard("money.view")
def sales_by_rep(date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[RepSales]:
    """Summed by the database for each document's rep, else its customer's assigned user; most sold first."""
    who = pw.fn.COALESCE(SalesDocument.rep, Customer.assigned_to)
    q = _issued_invoices(SalesDocument.select(who, pw.fn.COUNT(SalesDocument.id), pw.fn.SUM(SalesDocument.total))
                         .join(Customer, on=(SalesDocument.customer == Customer.id)), date_from, date_to)
    rows = db.execute(q.group_by(who).order_by(pw.fn.SUM(SalesDocument.total).desc(),
                                               pw.fn.MIN(SalesDocument.date), pw.fn.MIN(SalesDocument.id))).fetchall()
    names = dict(db.execute(User.select(User.id, User.name).where(User.id.in_([r[0] for r in rows if r[0]]))))
    return [RepSales(uid, names.get(uid) or NO_REP if uid else NO_REP, int(n), int(total or 0))
            for uid, n, total in rows]
