"""Cheques: the ones the office issues (چک پرداختی, IssuedCheque) and the ones it received (a Payment of kind
``cheque``), listed together by due date, and the bounced ones that are not made good yet."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw

from app import fmt
from app.core.clock import now, today
from app.core.errors import NotFound, UserError, ValidationError
from app.core.jalali import date_field
from app.core.text import clean, to_ascii_digits
from models import sqlcache
from models.base import as_date
from models.core import Customer, PhoneNumber
from models.sales import IssuedCheque, Payment, SalesDocument
from models.writer import writes

logger = logging.getLogger(__name__)

ISSUED_STATE_LABELS = {"pending": "در انتظار سررسید", "cleared": "پاس شده", "bounced": "برگشت خورده",
                       "cancelled": "باطل شده"}
RECEIVED_STATE_LABELS = {"pending": "در جریان وصول", "cleared": "وصول شده", "bounced": "برگشتی"}
DIRECTION_LABELS = {"in": "دریافتی", "out": "پرداختی"}
MAX_AMOUNT = 10 ** 16
WEEK_DAYS = 7


@dataclass(frozen=True)
class ChequeRow:
    """A cheque in a list: `direction` «in» (received from a customer) or «out» (issued by the office)."""

    id: int
    direction: str
    number: str
    bank: str
    amount: int
    due: dt.date
    party: str                  # the customer who gave it, or the payee of ours
    customer_id: int | None
    state: str
    phone: str = ""

    def days_to(self, on: dt.date | None = None) -> int:
        """Days until the due date (negative: past due)."""
        return (self.due - (on or today())).days

    @property
    def state_label(self) -> str:
        labels = RECEIVED_STATE_LABELS if self.direction == "in" else ISSUED_STATE_LABELS
        return labels.get(self.state, self.state)


# --- issued cheques ------------------------------------------------------------------------------------------

@writes
def issue_cheque(data: dict, user: int | None = None) -> IssuedCheque:
    """Record a cheque the office wrote. data: number, bank, amount (Rials), payee, due_date (date or Jalali
    text), issue_date (default today), account, customer_id (optional), note. Raises ValidationError."""
    from app.sales.totals import parse_money

    errors: dict[str, str] = {}
    number = clean(to_ascii_digits(str(data.get("number") or "")))
    if not number:
        errors["number"] = "شماره چک را بنویسید."
    elif len(number) > 30:
        errors["number"] = "شماره چک بیش از ۳۰ نویسه است."
    bank = clean(str(data.get("bank") or ""))
    if not bank:
        errors["bank"] = "نام بانک را بنویسید."
    payee = clean(str(data.get("payee") or ""))
    if not payee:
        errors["payee"] = "در وجه چه کسی؟ نام گیرنده را بنویسید."
    amount = parse_money(data.get("amount"))
    if amount is None:
        errors["amount"] = "مبلغ را به ریال و با رقم بنویسید."
    elif amount <= 0:
        errors["amount"] = "مبلغ چک باید بیشتر از صفر باشد."
    elif amount > MAX_AMOUNT:
        errors["amount"] = "مبلغ بیش از حد مجاز است."
    due = date_field(data.get("due_date"), "due_date", errors, required=True)
    issued = date_field(data.get("issue_date"), "issue_date", errors, required=False) or today()
    if due and issued and due < issued - dt.timedelta(days=366):
        errors["due_date"] = "سررسید بیش از یک سال پیش از تاریخ صدور است."
    customer_id = data.get("customer_id") or None
    if customer_id and not Customer.select().where(Customer.id == customer_id).exists():
        errors["customer_id"] = "این مشتری پیدا نشد."
    if number and bank and not errors.get("number"):
        clash = IssuedCheque.select().where(IssuedCheque.number == number, IssuedCheque.bank == bank,
                                            IssuedCheque.state != "cancelled")
        if clash.exists():
            errors["number"] = f"چک شماره {fmt.digits(number)} بانک {bank} پیش‌تر ثبت شده است."
    if errors:
        raise ValidationError(errors)
    c = IssuedCheque.create(number=number, bank=bank, account=clean(to_ascii_digits(str(data.get("account") or ""))),
                            amount=amount, payee=payee, customer=customer_id, issue_date=issued, due_date=due,
                            note=clean(str(data.get("note") or "")), created_by=user, created_at=now(),
                            updated_at=now())
    logger.info("issued cheque %s recorded", c.id)
    return c


@writes
def set_issued_state(cheque_id: int, state: str, user: int | None = None) -> IssuedCheque:
    if state not in IssuedCheque.STATES:
        raise UserError("وضعیت چک درست نیست.")
    c = IssuedCheque.get_or_none(IssuedCheque.id == cheque_id)
    if c is None:
        raise NotFound("چک پیدا نشد.")
    if c.state == "cancelled" and state != "cancelled":
        raise UserError("این چک باطل شده است و وضعیتش دیگر عوض نمی‌شود.")
    c.state = state
    c.updated_at = now()
    c.save()
    return c


# --- lists ---------------------------------------------------------------------------------------------------

def id_list(ids) -> pw.SQL:
    """An IN list of integer ids written into the SQL (ints only): thousands of ids without building one
    parameter object each (which costs more than the query)."""
    return pw.SQL("(" + (",".join(str(int(i)) for i in ids) or "NULL") + ")")


def _phones(customer_ids) -> dict[int, str]:
    ids = [i for i in set(customer_ids) if i]
    out: dict[int, str] = {}
    if not ids:
        return out
    for c, p in (PhoneNumber.select(PhoneNumber.customer, PhoneNumber.canonical)
                 .where(PhoneNumber.customer.in_(id_list(ids)))
                 .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).tuples()):
        out.setdefault(c, p)
    return out


def _name(first, last, company, kind) -> str:
    from app.core.text import party_name as name_of

    return name_of(first, last, company, kind)


# The lists' statements are built once per shape (models.sqlcache) and given their values as parameters: the
# dashboard reads them at every opening, and peewee took longer to write them than SQLite took to run them.

_ORDERS = {"due": (lambda m, due: (due, m.id)), "due_desc": (lambda m, due: (due.desc(), m.id.desc()))}


def _received(name: str, cond, values: tuple, user_id: int | None, first: int | None = None,
              order: str = "") -> list[ChequeRow]:
    """Received cheques (of `user_id`'s customers, when given) matching ``cond(*values)``, in `order` (_ORDERS;
    none when empty); with `first`, only the first so many."""
    rows = _received_rows(name, cond, values, user_id, first, order).fetchall()
    return _received_list(rows)


def _received_rows(name: str, cond, values: tuple, user_id: int | None, first: int | None = None,
                   order: str = ""):
    """The cursor _received() reads."""
    def build(*v):
        *values_, who, most = v
        q = (Payment.select(Payment.id, Payment.cheque_number, Payment.cheque_bank, Payment.amount,
                            Payment.cheque_due, Payment.customer, Payment.cheque_state, Customer.first_name,
                            Customer.last_name, Customer.company, Customer.kind)
             .join(Customer, on=(Payment.customer == Customer.id))
             .where(Payment.kind == "cheque", Payment.state == "active", cond(*values_)))
        q = q if who is None else q.where(Customer.assigned_to == who)
        q = q.order_by(*_ORDERS[order](Payment, Payment.cheque_due)) if order else q
        return q if most is None else q.limit(most)

    return sqlcache.run(f"cheques.received.{name}.{order}", build, *values, user_id or None, first)


def _received_list(rows: list) -> list[ChequeRow]:
    phones = _phones(r[5] for r in rows)
    return [ChequeRow(pid, "in", number, bank, amount, as_date(due), _name(f, la, co, k), cust, state,
                      phones.get(cust, ""))
            for pid, number, bank, amount, due, cust, state, f, la, co, k in rows]


def _received_sums(name: str, cond, values: tuple, user_id: int | None, by_customer: bool = False) -> list[tuple]:
    """(how many, how much) of what _received() lists, summed by the database; `by_customer`: (customer, how
    many, how much) a customer at a time."""
    def build(*v):
        *values_, who = v
        cols = (Payment.customer,) if by_customer else ()
        q = (Payment.select(*cols, pw.fn.COUNT(Payment.id), pw.fn.SUM(Payment.amount))
             .where(Payment.kind == "cheque", Payment.state == "active", cond(*values_)))
        if who is not None:
            q = q.join(Customer, on=(Payment.customer == Customer.id)).where(Customer.assigned_to == who)
        return q.group_by(Payment.customer) if by_customer else q

    rows = sqlcache.run(f"cheques.received_sums.{name}.{by_customer}", build, *values, user_id or None).fetchall()
    return [(*r[:-2], int(r[-2] or 0), int(r[-1] or 0)) for r in rows]


def _issued(name: str, cond, values: tuple, first: int | None = None, order: str = "") -> list[ChequeRow]:
    """The office's own cheques matching ``cond(*values)``, in `order` (none when empty); with `first`, only the
    first so many."""
    def build(*v):
        *values_, most = v
        q = IssuedCheque.select(IssuedCheque.id, IssuedCheque.number, IssuedCheque.bank, IssuedCheque.amount,
                                IssuedCheque.due_date, IssuedCheque.payee, IssuedCheque.customer,
                                IssuedCheque.state).where(cond(*values_))
        q = q.order_by(*_ORDERS[order](IssuedCheque, IssuedCheque.due_date)) if order else q
        return q if most is None else q.limit(most)

    rows = sqlcache.run(f"cheques.issued.{name}.{order}", build, *values, first).fetchall()
    phones = _phones(r[6] for r in rows)
    return [ChequeRow(cid, "out", number, bank, amount, as_date(due), payee, cust, state, phones.get(cust, ""))
            for cid, number, bank, amount, due, payee, cust, state in rows]


def _issued_sums(name: str, cond, values: tuple) -> tuple[int, int]:
    """(how many, how much) of what _issued() lists."""
    n, total = sqlcache.run(f"cheques.issued_sums.{name}", lambda *v: IssuedCheque.select(
        pw.fn.COUNT(IssuedCheque.id), pw.fn.SUM(IssuedCheque.amount)).where(cond(*v)), *values).fetchone()
    return int(n or 0), int(total or 0)


def _due_in(last, first):
    c = (Payment.cheque_state == "pending") & (Payment.cheque_due <= last)
    return c if first is None else c & (Payment.cheque_due >= first)


def _due_out(last, first):
    c = (IssuedCheque.state == "pending") & (IssuedCheque.due_date <= last)
    return c if first is None else c & (IssuedCheque.due_date >= first)


def _due_order(r: ChequeRow) -> tuple:
    return r.due, r.direction, r.id


def cheques_due(until: dt.date, since: dt.date | None = None, user_id: int | None = None,
                issued: bool = True) -> list[ChequeRow]:
    """Pending cheques due on or before `until` (and on or after `since`, when given): received ones not yet
    cleared, and (with `issued`) the office's own. A pending cheque whose day has passed stays listed until
    someone marks it cleared or bounced. Earliest due first."""
    values = (until, since or None)
    rows = _received("due", _due_in, values, user_id)
    if issued:
        rows += _issued("due", _due_out, values)
    rows.sort(key=_due_order)
    return rows


def cheques_this_week(on: dt.date | None = None, user_id: int | None = None, issued: bool = True) -> list[ChequeRow]:
    """What falls due in the seven days from `on` (today), and pending cheques already past their day."""
    on = on or today()
    return cheques_due(on + dt.timedelta(days=WEEK_DAYS - 1), None, user_id, issued)


@dataclass
class ChequeSummary:
    """A list's first rows and its figures over every row (the dashboard's cards: an office with thousands of
    cheques due this week shows the first few and says how many there are)."""
    rows: list[ChequeRow]
    count: int = 0
    received: int = 0           # the amount of the received cheques among all of them
    issued: int = 0             # of the office's own


def week_summary(on: dt.date | None = None, user_id: int | None = None, issued: bool = True,
                 limit: int = 50) -> ChequeSummary:
    """cheques_this_week()'s first `limit` rows, with how many there are and their amounts, summed by the
    database."""
    on = on or today()
    return due_summary(on + dt.timedelta(days=WEEK_DAYS - 1), None, user_id, issued, limit)


def due_summary(until: dt.date, since: dt.date | None = None, user_id: int | None = None, issued: bool = True,
                limit: int = 50) -> ChequeSummary:
    """cheques_due()'s first `limit` rows, with how many there are and their amounts, summed by the database."""
    values = (until, since or None)
    rows = _received("due", _due_in, values, user_id, first=limit, order="due")
    [(n, received)] = _received_sums("due", _due_in, values, user_id)
    out = ChequeSummary([], n, received)
    if issued:
        rows += _issued("due", _due_out, values, first=limit, order="due")
        n_out, out.issued = _issued_sums("due", _due_out, values)
        out.count += n_out
    rows.sort(key=_due_order)
    out.rows = rows[:limit]
    return out


def _bounced_in() -> pw.Expression:
    return Payment.cheque_state == "bounced"


def _bounced_out() -> pw.Expression:
    return IssuedCheque.state == "bounced"


def bounced_by_customer(user_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Customer → (how many, how much) of the received cheques bounced_cheques() lists: those of customers who
    still owe the office money."""
    per = {cid: (n, amount) for cid, n, amount in _received_sums("bounced", _bounced_in, (), user_id,
                                                                 by_customer=True)}
    owing = owing_customers(list(per))
    return {cid: v for cid, v in per.items() if cid in owing}


def bounced_cheques(user_id: int | None = None, issued: bool = True) -> list[ChequeRow]:
    """Received cheques that bounced and are not made good yet (the customer still owes money), and the
    office's own bounced cheques not yet settled. Newest due first."""
    rows = _received("bounced", _bounced_in, (), user_id)
    if rows:
        owing = owing_customers([r.customer_id for r in rows if r.customer_id])
        rows = [r for r in rows if r.customer_id in owing]
    if issued:
        rows += _issued("bounced", _bounced_out, ())
    rows.sort(key=lambda r: (r.due, r.id), reverse=True)
    return rows


def bounced_summary(user_id: int | None = None, issued: bool = True, limit: int = 50,
                    owing: dict[int, tuple[int, int]] | None = None) -> ChequeSummary:
    """bounced_cheques()'s first `limit` rows, with how many there are and their amounts. `owing`: what
    bounced_by_customer(user_id) returned, when the caller has it already."""
    if owing is None:
        owing = bounced_by_customer(user_id)
    out = ChequeSummary([], sum(n for n, _a in owing.values()), sum(a for _n, a in owing.values()))
    picked = []
    if owing:           # newest first, those of owing customers, until `limit` are found
        for r in _received_rows("bounced", _bounced_in, (), user_id, order="due_desc"):
            if r[5] in owing:
                picked.append(r)
                if len(picked) == limit:
                    break
    rows = _received_list(picked)
    if issued:
        rows += _issued("bounced", _bounced_out, (), first=limit, order="due_desc")
        n_out, out.issued = _issued_sums("bounced", _bounced_out, ())
        out.count += n_out
    rows.sort(key=lambda r: (r.due, r.id), reverse=True)
    out.rows = rows[:limit]
    return out


def owing_customers(customer_ids: list[int]) -> set[int]:
    """Those of these customers whose balance is positive (they owe the office money): two grouped sums."""
    ids = list(set(customer_ids))
    if not ids:
        return set()
    invoiced = dict(SalesDocument.select(SalesDocument.customer, pw.fn.SUM(SalesDocument.total))
                    .where(SalesDocument.customer.in_(id_list(ids)), SalesDocument.doc_type == "invoice",
                           SalesDocument.state == "issued")
                    .group_by(SalesDocument.customer).tuples())
    received = dict(Payment.select(Payment.customer, pw.fn.SUM(Payment.amount))
                    .where(Payment.customer.in_(id_list(ids)), Payment.state == "active",
                           Payment.cheque_state != "bounced")
                    .group_by(Payment.customer).tuples())
    return {c for c in ids if int(invoiced.get(c) or 0) - int(received.get(c) or 0) > 0}


def _in_state(model_state):
    return lambda s: model_state == s


def _any_state():
    return pw.SQL("1=1")


def issued_cheques(state: str | None = None, limit: int = 5000) -> list[ChequeRow]:
    """The office's cheques, latest due first (the cheque book's list)."""
    return issued_summary(state, limit).rows


def issued_summary(state: str | None = None, limit: int = 5000) -> ChequeSummary:
    """issued_cheques()'s rows (the first `limit`, read so), with how many there are and their amount."""
    name, cond, values = ("in_state", _in_state(IssuedCheque.state), (state,)) if state else ("all", _any_state, ())
    rows = _issued(name, cond, values, first=limit, order="due_desc")
    n, amount = _issued_sums(name, cond, values)
    return ChequeSummary(rows, n, 0, amount)


def received_cheques(state: str | None = None, user_id: int | None = None, limit: int = 5000) -> list[ChequeRow]:
    return received_summary(state, user_id, limit).rows


def received_summary(state: str | None = None, user_id: int | None = None, limit: int = 5000) -> ChequeSummary:
    """received_cheques()'s rows (the first `limit`, latest due first, read so), with how many there are and their
    amount."""
    name, cond, values = (("in_state", _in_state(Payment.cheque_state), (state,)) if state
                          else ("all", _any_state, ()))
    rows = _received(name, cond, values, user_id, first=limit, order="due_desc")
    [(n, amount)] = _received_sums(name, cond, values, user_id)
    return ChequeSummary(rows, n, amount)
