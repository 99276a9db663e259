"""A customer's balance, debt and overdue invoices, and the snapshot the caller-ID popup and the customer file show.

Balance (positive = the customer owes us) = Σ issued invoices − Σ active payments (a bounced cheque and a voided
payment do not count).

``customer_sales_snapshot(customer_id)`` → ``{"last_proforma": None | {"number", "date", "total"},
"last_invoice": …, "balance": int, "overdue": int}``.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app.core.clock import today
from app.office import roles
from app.sales.paid import counting_payments, paid_expr
from app.sales.views import list_documents
from models.sales import Payment, SalesDocument

logger = logging.getLogger(__name__)


# --- balances ----------------------------------------------------------------------------------------------

def _invoiced(customer_id: int) -> int:
    return int(SalesDocument.select(pw.fn.COALESCE(pw.fn.SUM(SalesDocument.total), 0))
               .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == "invoice",
                      SalesDocument.state == "issued").scalar() or 0)


def _received(customer_id: int) -> int:
    return int(Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.amount), 0))
               .where(Payment.customer == customer_id, counting_payments()).scalar() or 0)


@roles.guard("money.view")
def customer_balance(customer_id: int) -> int:
    """Σ issued invoices − Σ counting payments; positive = the customer owes us, negative = credit."""
    return _invoiced(customer_id) - _received(customer_id)


@roles.guard("money.view")
def customer_debt(customer_id: int) -> int:
    return max(customer_balance(customer_id), 0)


@dataclass
class OverdueRow:
    id: int
    number: str
    customer_id: int
    customer_name: str
    date: dt.date
    due_date: dt.date
    total: int
    paid: int

    @property
    def remaining(self) -> int:
        return self.total - self.paid

    def days_late(self, on: dt.date | None = None) -> int:
        return ((on or today()) - self.due_date).days


@roles.guard("money.view")
def overdue_invoices(customer_id: int | None = None) -> list[OverdueRow]:
    """Issued invoices past their due date with money still owed on them, most overdue first."""
    rows = list_documents(doc_type="invoice", customer_id=customer_id, overdue_only=True, limit=100000)
    out = [OverdueRow(r.id, r.number or "", r.customer_id, r.customer_name, r.date, r.due_date, r.total, r.paid)
           for r in rows if r.due_date]
    out.sort(key=lambda o: (o.due_date, o.id))
    return out


@roles.guard("money.view")
def overdue_amount(customer_id: int) -> int:
    """What is owed on this customer's invoices past their due date (one aggregate query)."""
    paid = paid_expr()
    return int(SalesDocument.select(pw.fn.COALESCE(pw.fn.SUM(SalesDocument.total - paid), 0))
               .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == "invoice",
                      SalesDocument.state == "issued", SalesDocument.due_date < today(),
                      SalesDocument.total > paid).scalar() or 0)


def _last(customer_id: int, doc_type: str) -> dict | None:
    q = (SalesDocument.select(SalesDocument.number, SalesDocument.date, SalesDocument.total)
         .where(SalesDocument.customer == customer_id, SalesDocument.doc_type == doc_type,
                SalesDocument.number.is_null(False))
         .order_by(SalesDocument.date.desc(), SalesDocument.id.desc()).limit(1).dicts())
    r = q.first()
    return {"number": r["number"], "date": r["date"], "total": r["total"]} if r else None


@roles.guard("money.view")
def customer_sales_snapshot(customer_id: int) -> dict:
    """For the caller-ID popup and the customer file (see the module docstring)."""
    return {
        "last_proforma": _last(customer_id, "proforma"),
        "last_invoice": _last(customer_id, "invoice"),
        "balance": customer_balance(customer_id),
        "overdue": overdue_amount(customer_id),
    }
