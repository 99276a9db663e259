"""Demo sales data obeys the same rules as real documents."""
from __future__ import annotations

import datetime as dt
import random

import peewee as pw

from app.core import clock
from app.demo.sales import seed_sales
from app.sales.balances import customer_balance
from app.sales.documents import create_invoice
from app.sales.numbering import format_number_of
from app.sales.totals import LineInput
from app.sales.views import get_document
from models.core import Activity
from models.sales import Payment, SalesDocument, SalesLine
from tests.sales.helpers_sales import make_customer, make_user


def test_seed_sales_consistent(anydb):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    customers = [make_customer(f"مشتری {i}") for i in range(20)]
    users = [make_user("الف", "a"), make_user("ب", "b")]
    counts = seed_sales(random.Random(5), customers, users, 300)
    assert counts["invoices"] + counts["proformas"] == 300 and counts["payments"] > 50
    # the office's own cheques: some this week or past due and unmarked, most waiting, a few bounced
    from app.money import cheques
    from models.sales import IssuedCheque

    assert counts["issued_cheques"] == IssuedCheque.select().count() == 12
    assert IssuedCheque.select().where(IssuedCheque.state == "pending").count() >= 6
    assert all(c.amount > 0 and c.payee for c in IssuedCheque.select())
    # and money to chase: overdue invoices
    from app.money import collection

    assert collection.overdue_invoices() and cheques.cheques_due(clock.today() + dt.timedelta(days=120))
    for doc_type in ("invoice", "proforma"):
        by_year: dict[int, list[int]] = {}
        for d in SalesDocument.select().where(SalesDocument.doc_type == doc_type):
            by_year.setdefault(d.year, []).append(d.seq)
            assert d.number == format_number_of(d.year, d.seq)
        for seqs in by_year.values():
            assert sorted(seqs) == list(range(1, len(seqs) + 1))
    # totals agree with the lines
    for d in SalesDocument.select().limit(50):
        s = SalesLine.select(pw.fn.SUM(SalesLine.total)).where(SalesLine.document == d.id).scalar()
        assert s == d.total
    assert sum(customer_balance(c) for c in customers) == (
        sum(d.total for d in SalesDocument.select().where(SalesDocument.doc_type == "invoice",
                                                          SalesDocument.state == "issued"))
        - sum(p.amount for p in Payment.select().where(Payment.cheque_state != "bounced")))
    assert Activity.select().where(Activity.kind == "invoice").count() == counts["invoices"]
    # real documents continue the numbering after the demo ones
    last = SalesDocument.select(pw.fn.MAX(SalesDocument.seq)).where(
        SalesDocument.doc_type == "invoice", SalesDocument.year == 1405).scalar()
    inv = create_invoice(customers[0], [LineInput("کالا", 1, 1000)])
    assert inv.seq == last + 1
    assert get_document(inv.id).buyer["name"] == "مشتری 0"
    # a demo document renders (no buyer snapshot: the live customer is used)
    view = get_document(SalesDocument.select().where(SalesDocument.doc_type == "invoice").first().id)
    assert view.buyer["name"].startswith("مشتری")
