"""Contracts (with a renewal reminder) and warranty per sold item (looked up by serial number).

A warranty runs from the invoice date (or a date given) for a number of Jalali months; its last covered day is
the day before the same date that many months later (12 months from 1405/03/10 cover through 1406/03/09).
Reminders are tasks in the responsible colleague's inbox with an alarm, so they follow the existing reminder
machinery (missed while closed → shown at the next start).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import peewee as pw

from app import fmt
from app.core import jalali
from app.core.clock import today
from app.core.errors import NotFound, ValidationError
from app.core.text import clean, to_ascii_digits
from app.customers import timeline
from models.core import Customer
from models.sales import Product, SalesDocument
from models.service import Contract, Warranty
from models.writer import writes

logger = logging.getLogger(__name__)



def serial_key(s: str) -> str:
    """'sn 12-ab ۳۴' → 'SN12AB34': spaces, dashes and slashes dropped, digits ASCII, letters upper case."""
    return re.sub(r"[\s\-_/.]", "", to_ascii_digits(s or "")).upper()


def _int(v, key: str, errors: dict, lo: int, hi: int, label: str) -> int:
    try:
        n = int(to_ascii_digits(str(v)).replace(",", "").replace("٬", "")) if v not in (None, "") else 0
    except ValueError:
        n = -1
    if not lo <= n <= hi:
        errors[key] = label
    return n


def _reminder(customer_id: int, title: str, due: dt.date, user: int | None) -> int:
    from app.tasks import service as tasks

    c = Customer.get_by_id(customer_id)
    due = max(due, today())
    t = tasks.create_task({"title": title[:200], "kind": "followup", "customer_id": customer_id,
                           "assignee_id": c.assigned_to_id or user, "due_at": due, "all_day": True,
                           "remind_before": 0, "priority": 2}, user=user)
    return t.id


# --- contracts ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContractRow:
    id: int
    customer_id: int
    customer_name: str
    number: str
    title: str
    start_date: dt.date
    end_date: dt.date
    value: int
    state: str
    days_left: int
    renewal_task: int | None

    @property
    def state_label(self) -> str:
        if self.state == "cancelled":
            return "لغو شده"
        if self.days_left < 0:
            return "پایان یافته"
        return "فعال"


@writes
def create_contract(data: dict, user: int | None = None) -> Contract:
    """data: customer_id, title, number, start_date, end_date (dates or Jalali text), value (Rials),
    remind_days (renewal reminder before the end; 0 = none), notes."""
    errors: dict[str, str] = {}
    cust = Customer.get_or_none(Customer.id == data.get("customer_id")) if data.get("customer_id") else None
    if cust is None:
        errors["customer_id"] = "مشتری قرارداد را انتخاب کنید."
    title = clean(data.get("title"))
    if not title:
        errors["title"] = "عنوان قرارداد را بنویسید."
    start = jalali.date_field(data.get("start_date"), "start_date", errors, required=True)
    end = jalali.date_field(data.get("end_date"), "end_date", errors, required=True)
    if start and end and end < start:
        errors["end_date"] = "پایان قرارداد پیش از شروع آن است."
    value = _int(data.get("value", 0), "value", errors, 0, 10**16, "مبلغ قرارداد درست نیست.")
    remind = _int(data.get("remind_days", 30), "remind_days", errors, 0, 3650, "روزهای یادآوری درست نیست.")
    if errors:
        raise ValidationError(errors)
    assert cust is not None and start is not None and end is not None      # each one missing is an error above
    c = Contract.create(customer=cust.id, number=clean(data.get("number"))[:40], title=title[:200],
                        start_date=start, end_date=end, value=value, remind_days=remind,
                        notes=clean(data.get("notes")), created_by=user)
    if remind:
        c.renewal_task = _reminder(cust.id, f"تمدید قرارداد «{title}» (پایان {fmt.date(end)})",
                                   end - dt.timedelta(days=remind), user)
        c.save()
    timeline.record(cust.id, "contract", f"قرارداد «{title}» از {fmt.date(start)} تا {fmt.date(end)}"
                    + (f"، {fmt.money(value)}" if value else ""), "contract", c.id, user=user)
    return c


@writes
def cancel_contract(contract_id: int, user: int | None = None) -> None:
    c = Contract.get_or_none(Contract.id == contract_id)
    if c is None:
        raise NotFound("این قرارداد پیدا نشد.")
    c.state = "cancelled"
    c.save()
    if c.renewal_task:
        from app.tasks import service as tasks

        try:
            tasks.cancel_task(c.renewal_task, user=user)
        except NotFound:
            pass


def list_contracts(customer_id: int | None = None, at: dt.date | None = None) -> list[ContractRow]:
    at = at or today()
    q = (Contract.select(Contract, Customer).join(Customer).order_by(Contract.end_date.desc()))
    if customer_id:
        q = q.where(Contract.customer == customer_id)
    return [ContractRow(c.id, c.customer_id, c.customer.display_name, c.number, c.title, c.start_date, c.end_date,
                        c.value, c.state, (c.end_date - at).days, c.renewal_task) for c in q]


# --- warranty -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WarrantyRow:
    id: int
    customer_id: int
    customer_name: str
    item: str
    serial: str
    invoice_id: int | None
    invoice_number: str
    start_date: dt.date
    months: int
    end_date: dt.date
    days_left: int
    remind_days: int

    @property
    def active(self) -> bool:
        return self.days_left >= 0

    @property
    def state_label(self) -> str:
        if self.days_left < 0:
            return "پایان یافته"
        if self.days_left <= self.remind_days:
            return "رو به پایان"
        return "فعال"


def warranty_end(start: dt.date, months: int) -> dt.date:
    return jalali.add_months(start, months) - dt.timedelta(days=1)


@writes
def create_warranty(data: dict, user: int | None = None) -> Warranty:
    """data: customer_id (or the invoice's), invoice_id, product_id, item, serial, start_date (default: the
    invoice date), months, remind_days (0 = no reminder), notes."""
    errors: dict[str, str] = {}
    inv = SalesDocument.get_or_none(SalesDocument.id == data["invoice_id"]) if data.get("invoice_id") else None
    if data.get("invoice_id") and inv is None:
        errors["invoice_id"] = "این فاکتور پیدا نشد."
    cid = data.get("customer_id") or (inv.customer_id if inv else None)
    cust = Customer.get_or_none(Customer.id == cid) if cid else None
    if cust is None:
        errors["customer_id"] = "مشتری را انتخاب کنید."
    prod = Product.get_or_none(Product.id == data["product_id"]) if data.get("product_id") else None
    item = clean(data.get("item")) or (prod.name if prod else "")
    if not item:
        errors["item"] = "نام کالا را بنویسید."
    serial = clean(data.get("serial"))
    if not serial:
        errors["serial"] = "شماره سریال را بنویسید."
    start = jalali.date_field(data.get("start_date") or (inv.date if inv else None), "start_date", errors,
                              required=True)
    months = _int(data.get("months", 12), "months", errors, 1, 240, "مدت گارانتی باید بین ۱ و ۲۴۰ ماه باشد.")
    remind = _int(data.get("remind_days", 30), "remind_days", errors, 0, 3650, "روزهای یادآوری درست نیست.")
    if errors:
        raise ValidationError(errors)
    assert cust is not None and start is not None                          # each one missing is an error above
    key = serial_key(serial)
    clash = Warranty.get_or_none(Warranty.serial_key == key, Warranty.customer == cust.id)
    if clash is not None:
        raise ValidationError({"serial": f"برای سریال {fmt.ltr(serial)} همین حالا گارانتی ثبت شده است."})
    end = warranty_end(start, months)
    w = Warranty.create(customer=cust.id, invoice=inv.id if inv else None, product=prod.id if prod else None,
                        item=item[:300], serial=serial[:80], serial_key=key[:80], start_date=start, months=months,
                        end_date=end, remind_days=remind, notes=clean(data.get("notes")))
    if remind:
        w.reminder_task = _reminder(cust.id, f"پایان گارانتی {item} (سریال {serial}) در {fmt.date(end)}",
                                    end - dt.timedelta(days=remind), user)
        w.save()
    timeline.record(cust.id, "warranty", f"گارانتی {item}، سریال {serial}، تا {fmt.date(end)}", "warranty", w.id,
                    user=user)
    return w


def _wrows(q, at: dt.date) -> list[WarrantyRow]:
    out = []
    for w in q:
        out.append(WarrantyRow(w.id, w.customer_id, w.customer.display_name, w.item, w.serial, w.invoice_id,
                               (w.invoice.number or "") if w.invoice_id else "", w.start_date, w.months,
                               w.end_date, (w.end_date - at).days, w.remind_days))
    return out


def _wq():
    return (Warranty.select(Warranty, Customer, SalesDocument).join(Customer)
            .switch(Warranty).join(SalesDocument, pw.JOIN.LEFT_OUTER, on=(Warranty.invoice == SalesDocument.id)))


def list_warranties(customer_id: int, at: dt.date | None = None) -> list[WarrantyRow]:
    return _wrows(_wq().where(Warranty.customer == customer_id).order_by(Warranty.end_date.desc()), at or today())


def lookup_serial(serial: str, at: dt.date | None = None) -> list[WarrantyRow]:
    """Warranties whose serial matches however it was typed (spaces, dashes, Persian digits, case);
    a partial serial (at least 4 characters) matches as a prefix."""
    key = serial_key(serial)
    if not key:
        return []
    cond = (Warranty.serial_key == key) if len(key) < 4 else Warranty.serial_key.startswith(key)
    return _wrows(_wq().where(cond).order_by(Warranty.end_date.desc()).limit(50), at or today())


def expiring(within_days: int = 30, at: dt.date | None = None) -> list[WarrantyRow]:
    at = at or today()
    return _wrows(_wq().where(Warranty.end_date.between(at, at + dt.timedelta(days=within_days)))
                  .order_by(Warranty.end_date), at)


@dataclass(frozen=True)
class WarrantyBrief:
    active: int
    expiring: int
    next_end: dt.date | None
    next_item: str
    text: str


def warranty_brief(customer_id: int, at: dt.date | None = None) -> WarrantyBrief:
    """One line for the caller-ID popup: «۲ گارانتی فعال؛ نزدیک‌ترین پایان ۱۴۰۵/۰۶/۰۱ (پمپ آب)»."""
    at = at or today()
    rows = [w for w in list_warranties(customer_id, at) if w.active]
    contracts = [c for c in list_contracts(customer_id, at) if c.state == "active" and c.days_left >= 0]
    if not rows and not contracts:
        return WarrantyBrief(0, 0, None, "", "")
    parts = []
    nxt = min(rows, key=lambda w: w.end_date) if rows else None
    soon = sum(1 for w in rows if w.days_left <= w.remind_days)
    if nxt is not None:
        parts.append(f"{fmt.count(len(rows), 'گارانتی فعال')}؛ نزدیک‌ترین پایان {fmt.date(nxt.end_date)} ({nxt.item})")
    if contracts:
        c = min(contracts, key=lambda c: c.end_date)
        parts.append(f"قرارداد «{c.title}» تا {fmt.date(c.end_date)}")
    return WarrantyBrief(len(rows), soon, nxt.end_date if nxt else None, nxt.item if nxt else "", "؛ ".join(parts))
