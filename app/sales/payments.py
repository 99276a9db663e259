"""Payments and cheques: record (allocated to invoices, oldest due first unless told otherwise; what is not
allocated is credit on account), void, cheque states, and a customer's payment list.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from app import fmt
from app.core.clock import now, today
from app.core.errors import NotFound, UserError, ValidationError
from app.core.jalali import date_field, format_date
from app.core.text import clean, to_ascii_digits, to_persian_digits
from app.customers import timeline
from app.office import audit, roles
from app.sales.common import CHEQUE_STATE_LABELS, MAX_AMOUNT, PAYMENT_KIND_LABELS, write_tx
from app.sales.totals import parse_money
from app.sales.views import list_documents
from models.base import lock_rows
from models.core import Customer
from models.sales import Payment, PaymentAllocation, SalesDocument

logger = logging.getLogger(__name__)


@dataclass
class OpenInvoice:
    id: int
    number: str
    date: dt.date
    due_date: dt.date | None
    total: int
    paid: int

    @property
    def remaining(self) -> int:
        return self.total - self.paid


@roles.guard("money.view")
def open_invoices(customer_id: int) -> list[OpenInvoice]:
    """Issued invoices not fully paid, oldest due first."""
    rows = list_documents(doc_type="invoice", state="issued", customer_id=customer_id, unpaid_only=True,
                          limit=100000)
    out = [OpenInvoice(r.id, r.number or "", r.date, r.due_date, r.total, r.paid) for r in rows]
    out.sort(key=lambda o: (o.due_date or o.date, o.date, o.id))
    return out


def _lock_customer(customer_id: int) -> None:
    """Serialise allocations per customer: on PostgreSQL lock the customer's row for this transaction
    (SQLite's BEGIN IMMEDIATE already serialises every writer)."""
    lock_rows(Customer.select(Customer.id).where(Customer.id == customer_id))


@roles.guard("money.view")
@audit.tracked("create", "payment")
def record_payment(customer_id: int, kind: str, amount: Any, *, date: Any = None,
                   allocations: dict[int, Any] | None = None, auto_allocate: bool = True, reference: str = "",
                   cheque_number: str = "", cheque_bank: str = "", cheque_due: Any = None, note: str = "",
                   user: int | None = None) -> Payment:
    """Record money received. `allocations` maps invoice id → amount; without it the payment settles the
    oldest open invoices first (auto_allocate=False keeps it all as credit)."""
    errors: dict[str, str] = {}
    customer = Customer.get_or_none(Customer.id == customer_id) if customer_id else None
    if customer is None:
        errors["customer"] = "مشتری را انتخاب کنید."
    if kind not in Payment.KINDS:
        errors["kind"] = "نوع پرداخت درست نیست."
    amt = parse_money(amount)
    if amt is None:
        errors["amount"] = "مبلغ را به ریال و با رقم بنویسید."
    elif amt <= 0:
        errors["amount"] = "مبلغ دریافتی باید بیشتر از صفر باشد."
    elif amt > MAX_AMOUNT:
        errors["amount"] = "مبلغ بیش از حد مجاز است."
    day = date_field(date, "date", errors) or today()
    due = date_field(cheque_due, "cheque_due", errors)
    cheque_number = clean(to_ascii_digits(cheque_number or ""))
    if kind == "cheque":
        if not cheque_number:
            errors["cheque_number"] = "شماره چک را بنویسید."
        if due is None and "cheque_due" not in errors:
            errors["cheque_due"] = "تاریخ سررسید چک را وارد کنید."
        if not clean(cheque_bank or ""):
            errors["cheque_bank"] = "نام بانک چک را بنویسید."
    if errors:
        raise ValidationError(errors)
    assert amt is not None and customer is not None
    with write_tx():
        _lock_customer(customer.id)
        plan: list[tuple[int, int]] = []
        if allocations:
            open_map = {o.id: o for o in open_invoices(customer.id)}
            total_alloc = 0
            for inv_id, value in allocations.items():
                a = parse_money(value)
                if a is None or a < 0:
                    raise ValidationError({"allocations": "مبلغ تخصیص به فاکتور درست نیست."})
                if a == 0:
                    continue
                o = open_map.get(int(inv_id))
                if o is None:
                    raise ValidationError({"allocations": "فاکتور انتخاب‌شده باز نیست یا از آن این مشتری نیست."})
                if a > o.remaining:
                    raise ValidationError({"allocations": (
                        f"مبلغ تخصیص به فاکتور {to_persian_digits(o.number)} از مانده آن "
                        f"({fmt.money(o.remaining, toman=False)}) بیشتر است.")})
                total_alloc += a
                plan.append((o.id, a))
            if total_alloc > amt:
                raise ValidationError({"allocations": "جمع تخصیص‌ها از مبلغ دریافتی بیشتر است."})
        elif auto_allocate:
            left = amt
            for o in open_invoices(customer.id):
                if left <= 0:
                    break
                take = min(left, o.remaining)
                plan.append((o.id, take))
                left -= take
        p = Payment.create(customer=customer.id, kind=kind, amount=amt, date=day,
                           reference=clean(to_ascii_digits(reference or "")), cheque_number=cheque_number,
                           cheque_bank=clean(cheque_bank or ""), cheque_due=due,
                           cheque_state="pending" if kind == "cheque" else "", note=clean(note or ""),
                           created_by=user, created_at=now())
        for inv_id, a in plan:
            PaymentAllocation.create(payment=p.id, document=inv_id, amount=a)
        what = PAYMENT_KIND_LABELS[kind]
        extra = ""
        if kind == "cheque":
            extra = f"، چک {to_persian_digits(cheque_number)} {p.cheque_bank} به سررسید {format_date(due)}"
        timeline.record(customer.id, "payment", f"دریافت {fmt.money(amt, toman=False)} ({what}{extra})",
                        ref_table="payment", ref_id=p.id,
                        data={"event": "received", "amount": amt, "kind": kind,
                              "allocations": {str(i): a for i, a in plan}}, user=user)
    return p


def _lock_documents_of(payment_id: int) -> None:
    """Before a payment's state changes (void, a cheque bounced or cleared), lock on PostgreSQL the documents it is
    allocated to: a correction moving one of its allocations finishes first, and the database then works out the
    paid figures where that correction left them (migration 22). SQLite serialises every writer already."""
    lock_rows(SalesDocument.select(SalesDocument.id)
              .where(SalesDocument.id.in_(PaymentAllocation.select(PaymentAllocation.document)
                                          .where(PaymentAllocation.payment == payment_id)))
              .order_by(SalesDocument.id))


@roles.guard("money.view")
@audit.tracked("void", "payment", key="payment_id")
def void_payment(payment_id: int, reason: str, user: int | None = None) -> None:
    reason = clean(reason or "")
    if not reason:
        raise ValidationError({"reason": "علت ابطال دریافت را بنویسید."})
    with write_tx():
        _lock_documents_of(payment_id)
        p = Payment.get_or_none(Payment.id == payment_id)
        if p is None:
            raise NotFound("دریافت پیدا نشد.")
        if p.state == "void":
            raise UserError("این دریافت پیش‌تر باطل شده است.")
        p.state = "void"
        p.void_reason = reason
        p.save()
        timeline.record(p.customer_id, "payment", f"دریافت {fmt.money(p.amount, toman=False)} باطل شد: {reason}",
                        ref_table="payment", ref_id=p.id, data={"event": "voided", "reason": reason}, user=user)


@roles.guard("money.view")
def set_cheque_state(payment_id: int, state: str, user: int | None = None) -> None:
    if state not in Payment.CHEQUE_STATES:
        raise UserError("وضعیت چک درست نیست.")
    with write_tx():
        _lock_documents_of(payment_id)
        p = Payment.get_or_none(Payment.id == payment_id)
        if p is None or p.kind != "cheque":
            raise NotFound("چک پیدا نشد.")
        if p.cheque_state == state:
            return
        p.cheque_state = state
        p.save()
        timeline.record(p.customer_id, "payment",
                        f"چک {to_persian_digits(p.cheque_number)} به مبلغ {fmt.money(p.amount, toman=False)}: "
                        f"{CHEQUE_STATE_LABELS[state]}",
                        ref_table="payment", ref_id=p.id, data={"event": "cheque", "state": state}, user=user)


@dataclass
class PaymentRow:
    id: int
    kind: str
    amount: int
    date: dt.date
    reference: str
    cheque_number: str
    cheque_bank: str
    cheque_due: dt.date | None
    cheque_state: str
    state: str
    note: str
    allocated: int
    allocations: list[tuple[str, int]] = field(default_factory=list)   # (invoice number, amount)

    @property
    def counts(self) -> bool:
        return self.state == "active" and self.cheque_state != "bounced"


@roles.guard("money.view")
def customer_payments(customer_id: int) -> list[PaymentRow]:
    pays = list(Payment.select().where(Payment.customer == customer_id).order_by(Payment.date.desc(),
                                                                                Payment.id.desc()))
    allocs: dict[int, list[tuple[str, int]]] = {}
    if pays:
        for a in (PaymentAllocation.select(PaymentAllocation.payment, PaymentAllocation.amount, SalesDocument.number)
                  .join(SalesDocument).where(PaymentAllocation.payment.in_([p.id for p in pays])).dicts()):
            allocs.setdefault(a["payment"], []).append((a["number"] or "", a["amount"]))
    return [PaymentRow(p.id, p.kind, p.amount, p.date, p.reference, p.cheque_number, p.cheque_bank, p.cheque_due,
                       p.cheque_state, p.state, p.note, sum(x[1] for x in allocs.get(p.id, [])),
                       allocs.get(p.id, [])) for p in pays]


@audit.snapshotter("payment")
def _payment(pid: int) -> dict | None:
    try:
        from models.sales import Payment
    except ImportError:
        return None
    p = Payment.get_or_none(Payment.id == pid)
    if p is None:
        return None
    d = {f: getattr(p, f) for f in ("kind", "amount", "date", "reference", "cheque_number", "cheque_state",
                                      "state", "void_reason", "note")}
    d["customer"] = p.customer.display_name if p.customer_id else None
    d["_label"] = f"دریافت {fmt.money(p.amount, toman=False)}"
    return d
