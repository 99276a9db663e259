"""Shared builders for the sales tests (real database rows, no mocks)."""
from __future__ import annotations

from models.core import Customer, User

VALID_CODE = "0499370899"      # a national code whose check digit reads right


def make_customer(name: str = "رضا کریمی", **kw) -> int:
    first, _, last = name.partition(" ")
    fields = dict(first_name=first, last_name=last, search_text=name, sort_key=name)
    fields.update(kw)
    return Customer.create(**fields).id


def make_user(name: str = "مریم فروش", username: str = "maryam") -> int:
    return User.create(name=name, username=username).id


def events(customer_id: int, kind: str | None = None) -> list[tuple[str, str, str, dict]]:
    """(kind, event, summary, data) of the customer's timeline rows, oldest first, read from the table."""
    import json

    from models.core import Activity

    q = Activity.select().where(Activity.customer == customer_id).order_by(Activity.id)
    if kind:
        q = q.where(Activity.kind == kind)
    out = []
    for a in q:
        data = json.loads(a.data) if a.data else {}
        out.append((a.kind, data.get("event"), a.summary, data, a.ref_table))
    return out


def summed_paid(doc_id: int) -> int:
    """What counting payments have allocated to a document, summed from the allocations themselves: what the
    document's kept `paid` column must equal (migration 22)."""
    import peewee as pw

    from app.sales.paid import counting_payments
    from models.sales import Payment, PaymentAllocation

    return int(PaymentAllocation.select(pw.fn.COALESCE(pw.fn.SUM(PaymentAllocation.amount), 0))
               .join(Payment).where(PaymentAllocation.document == doc_id, counting_payments()).scalar() or 0)
