"""Demo sales: a price list, proformas and invoices over the last year and a half, payments (some partial,
some by cheque, a few bounced), a few cancellations, all on the customers' timelines.

Written with bulk inserts (priced by app.sales.compute, so the figures obey the same rules as real documents),
so tens of thousands of documents take seconds. `crm demo-data` calls seed_sales(rng, customer_ids, user_ids, n).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import random
from decimal import Decimal

from app import fmt
from app.core.clock import now, today
from app.core.jalali import to_jalali
from app.core.text import search_key, to_persian_digits
from app.sales.common import PAYMENT_KIND_LABELS, TYPE_LABELS
from app.sales.numbering import format_number_of
from app.sales.totals import LineInput, compute
from app.sales.vat import vat_rates
from models.base import db, is_postgres
from models.core import Activity
from models.sales import (
    DocumentCounter,
    IssuedCheque,
    Payment,
    PaymentAllocation,
    Product,
    SalesDocument,
    SalesLine,
)

logger = logging.getLogger(__name__)

# (name, unit, price in Rials, kind, exempt, goods id)
PRODUCTS = (
    ("لامپ LED-40W مهتابی", "عدد", 1_200_000, "goods", False, "2720000000017"),
    ("لامپ LED-12W حبابی", "عدد", 450_000, "goods", False, ""),
    ("کابل برق ۲.۵ افشان نیکسان (حلقه ۱۰۰ متری)", "حلقه", 38_500_000, "goods", False, "2720000000024"),
    ("کابل برق ۱.۵ افشان", "متر", 185_000, "goods", False, ""),
    ("کلید و پریز سری ویرا", "عدد", 310_000, "goods", False, ""),
    ("تابلو برق ۱۲ خانه", "عدد", 2_750_000, "goods", False, ""),
    ("فیوز مینیاتوری ۲۵ آمپر", "عدد", 690_000, "goods", False, ""),
    ("چراغ سقفی توکار ۶۰×۶۰", "عدد", 4_900_000, "goods", False, ""),
    ("پروژکتور ۱۰۰ وات", "عدد", 6_300_000, "goods", False, ""),
    ("لوله فلکسی ۱۶", "متر", 42_000, "goods", False, ""),
    ("سیم ارت ۱۰", "متر", 260_000, "goods", False, ""),
    ("دوربین مداربسته تحت شبکه", "دستگاه", 14_800_000, "goods", False, ""),
    ("دستگاه ضبط ۸ کانال", "دستگاه", 22_500_000, "goods", False, ""),
    ("کتاب راهنمای نصب تأسیسات برقی", "جلد", 850_000, "goods", True, ""),
    ("نان و پذیرایی جلسه", "بسته", 1_500_000, "goods", True, ""),
    ("نصب و راه‌اندازی سیستم روشنایی", "خدمت", 45_000_000, "service", False, ""),
    ("سیم‌کشی ساختمان (هر واحد)", "واحد", 95_000_000, "service", False, ""),
    ("بازدید فنی و برآورد هزینه", "خدمت", 3_500_000, "service", False, ""),
    ("آموزش کاربری سامانه", "ساعت", 2_000_000, "service", True, ""),
    ("پشتیبانی سالانه", "سال", 120_000_000, "service", False, ""),
    ("حمل و تخلیه کالا", "سرویس", 4_000_000, "service", False, ""),
)
BANKS = ("ملی", "ملت", "صادرات", "تجارت", "سپه", "پاسارگاد", "سامان", "پارسیان", "رسالت", "کشاورزی")
SUPPLIERS = ("پخش البرز", "بازرگانی نور گستر", "صنایع سیم و کابل ابهر", "روشنایی پارس شعاع", "شرکت مهتاب لامپ",
             "حمل و نقل سریع‌السیر", "اجاره دفتر (آقای صادقی)", "پخش سراسری ایران‌الکتریک")
NOTES = ("", "", "", "تحویل در محل خریدار", "ارسال با باربری به هزینه خریدار", "گارانتی ۱۸ ماهه",
         "پرداخت در دو قسط", "قیمت‌ها تا پایان ماه معتبر است")


def ensure_products() -> list[Product]:
    have = {p.code: p for p in Product.select()}
    rows = []
    for i, (name, unit, price, kind, exempt, goods_id) in enumerate(PRODUCTS, start=1):
        code = f"K{i:04d}"
        if code not in have:
            rows.append(dict(code=code, name=name, unit=unit, price=price, kind=kind, vat_exempt=exempt,
                             goods_id=goods_id, search_text=search_key(f"{code} {name} {goods_id}")))
    if rows:
        Product.insert_many(rows).execute()
    return list(Product.select().order_by(Product.id))


def _next_id(model) -> int:
    return (model.select(model.id).order_by(model.id.desc()).scalar() or 0) + 1


def _fix_sequence(model) -> None:
    if is_postgres():
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def _flush(model, rows: list[dict], batch: int = 500) -> None:
    for i in range(0, len(rows), batch):
        model.insert_many(rows[i:i + batch]).execute()
    rows.clear()


def seed_sales(rng: random.Random, customer_ids: list[int], user_ids: list[int], n_invoices: int,
               days_back: int = 540, focus_customer: int | None = None) -> dict[str, int]:
    """About n_invoices documents (a quarter of them proformas), with payments. `focus_customer`, when given,
    gets every document (for benchmarks of one customer's balance)."""
    if not customer_ids or n_invoices <= 0:
        return {"invoices": 0, "proformas": 0, "payments": 0}
    products = ensure_products()
    rates = vat_rates()

    def rate_on(d: dt.date) -> int:
        r = 0
        for start, v in rates:
            if start <= d:
                r = v
        return r

    end = today()
    plans = []
    for _ in range(n_invoices):
        day = end - dt.timedelta(days=int(rng.triangular(0, days_back, 0)))
        plans.append((day, "proforma" if rng.random() < 0.25 else "invoice"))
    plans.sort(key=lambda p: p[0])

    counters: dict[tuple[str, int], int] = {
        (c.doc_type, c.year): c.last for c in DocumentCounter.select()}
    doc_id = _next_id(SalesDocument)
    line_id = _next_id(SalesLine)
    pay_id = _next_id(Payment)
    docs: list[dict] = []
    lines: list[dict] = []
    pays: list[dict] = []
    allocs: list[dict] = []
    acts: list[dict] = []
    counts = {"invoices": 0, "proformas": 0, "payments": 0, "issued_cheques": 0}
    ts = now()
    payment_days = 30

    with db.atomic():
        for day, doc_type in plans:
            customer = focus_customer or rng.choice(customer_ids)
            rep = rng.choice(user_ids) if user_ids and rng.random() < 0.8 else None
            n_lines = min(1 + int(rng.expovariate(0.45)), 25)
            inputs = []
            for _ in range(n_lines):
                p = rng.choice(products)
                qty = Decimal(rng.choice((1, 1, 1, 2, 3, 5, 10, 12, 20, 50))) if p.unit != "متر" else \
                    Decimal(rng.randrange(5, 400)) / (2 if rng.random() < 0.2 else 1)
                disc = 0
                gross_guess = int(qty * p.price)
                if rng.random() < 0.15:
                    disc = gross_guess * rng.choice((5, 10, 15)) // 100
                inputs.append(LineInput(p.name, qty, p.price, discount=disc, unit=p.unit, code=p.code,
                                              goods_id=p.goods_id, product_id=p.id, vat_exempt=p.vat_exempt))
            pre = compute(inputs, 0, rate_on(day), products={p.id: p for p in products})
            doc_disc = 0
            if rng.random() < 0.1:
                doc_disc = (pre.taxable * rng.choice((2, 3, 5)) // 100) // 1000 * 1000
            t = compute(inputs, doc_disc, rate_on(day), products={p.id: p for p in products})
            year = to_jalali(day).year
            key = (doc_type, year)
            counters[key] = counters.get(key, 0) + 1
            seq = counters[key]
            number = format_number_of(year, seq)
            settlement = rng.choice(("cash", "cash", "credit", "credit", "mixed"))
            state = "open" if doc_type == "proforma" else "issued"
            if doc_type == "proforma" and day < end - dt.timedelta(days=30):
                state = rng.choice(("open", "open", "cancelled"))
            if doc_type == "invoice" and rng.random() < 0.03:
                state = "cancelled"
            due = None if doc_type == "proforma" else (day if settlement == "cash" else
                                                       day + dt.timedelta(days=payment_days))
            at = dt.datetime.combine(day, dt.time(rng.randrange(8, 19), rng.randrange(60)))
            did = doc_id
            doc_id += 1
            docs.append(dict(
                id=did, doc_type=doc_type, state=state, number=number, year=year, seq=seq, customer=customer,
                date=day, due_date=due, valid_until=(day + dt.timedelta(days=7)) if doc_type == "proforma" else None,
                invoice_type=2, subject=1, settlement=settlement, vat_rate=t.vat_rate, subtotal=t.subtotal,
                line_discount=t.line_discount, doc_discount=t.doc_discount, vat_total=t.vat_total, total=t.total,
                notes=rng.choice(NOTES), terms="", buyer="", seller="", rep=rep, created_by=rep, created_at=at,
                updated_at=at, issued_at=at if doc_type == "invoice" else None,
                cancelled_at=at if state == "cancelled" else None,
                cancel_reason="درخواست مشتری" if state == "cancelled" else ""))
            for pos, c in enumerate(t.lines):
                lines.append(dict(id=line_id, document=did, position=pos, product=c.product_id, code=c.code,
                                  goods_id=c.goods_id, description=c.description, unit=c.unit, quantity=c.quantity,
                                  unit_price=c.unit_price, gross=c.gross, discount=c.discount,
                                  doc_discount_share=c.doc_discount_share, taxable=c.taxable,
                                  vat_exempt=c.vat_exempt, vat_rate=c.vat_rate, vat=c.vat, total=c.total))
                line_id += 1
            label = TYPE_LABELS[doc_type]
            event = "issued" if doc_type == "invoice" else "created"
            acts.append(dict(customer=customer, at=at, kind=doc_type, user=rep, ref_table="sales_document",
                             ref_id=did, summary=f"{label} شماره {to_persian_digits(number)} به مبلغ "
                                                 f"{fmt.money(t.total, toman=False)} {'صادر' if event == 'issued' else 'ثبت'} شد",
                             data=json.dumps({"event": event, "total": t.total, "number": number})))
            counts["invoices" if doc_type == "invoice" else "proformas"] += 1
            # payments for issued invoices
            if doc_type == "invoice" and state == "issued":
                r = rng.random()
                share = 1.0 if r < 0.65 else (rng.choice((0.3, 0.5, 0.7)) if r < 0.85 else 0.0)
                if due and due < end - dt.timedelta(days=5) and r >= 0.85:
                    share = 0.0                                  # some overdue debt
                if share < 1 and due and due < end - dt.timedelta(days=120) and rng.random() < 0.85:
                    share = 1.0                                  # old debts are mostly collected by now
                amount = int(t.total * share) // 1000 * 1000 if share < 1 else t.total
                if amount > 0:
                    kind = rng.choice(("cash", "card", "card", "transfer", "transfer", "cheque"))
                    pay_day = min(end, day + dt.timedelta(days=rng.randrange(0, 25)))
                    cheque = kind == "cheque"
                    cheque_state = ""
                    cheque_due = (pay_day + dt.timedelta(days=rng.randrange(10, 90))) if cheque else None
                    if cheque_due is not None:
                        # a cheque whose day is over was cashed (one in twenty-five bounced; a few days' grace
                        # before the bank says so); one still to come is waiting
                        if cheque_due < end - dt.timedelta(days=3):
                            cheque_state = "bounced" if rng.random() < 0.04 else "cleared"
                        else:
                            cheque_state = "pending"
                    pays.append(dict(
                        id=pay_id, customer=customer, kind=kind, amount=amount, date=pay_day,
                        reference="" if kind in ("cash", "cheque") else str(rng.randrange(100000, 999999)),
                        cheque_number=str(rng.randrange(1000000, 9999999)) if cheque else "",
                        cheque_bank=rng.choice(BANKS) if cheque else "",
                        cheque_due=cheque_due,
                        cheque_state=cheque_state, note="", state="active", void_reason="", created_by=rep,
                        created_at=dt.datetime.combine(pay_day, dt.time(12, 0))))
                    allocs.append(dict(payment=pay_id, document=did, amount=amount))
                    acts.append(dict(customer=customer, at=dt.datetime.combine(pay_day, dt.time(12, 0)),
                                     kind="payment", user=rep, ref_table="payment", ref_id=pay_id,
                                     summary=f"دریافت {fmt.money(amount, toman=False)} ({PAYMENT_KIND_LABELS[kind]})",
                                     data=json.dumps({"event": "received", "amount": amount, "kind": kind})))
                    pay_id += 1
                    counts["payments"] += 1
            if len(lines) > 5000:
                _flush(SalesDocument, docs)
                _flush(SalesLine, lines)
                _flush(Payment, pays)
                _flush(PaymentAllocation, allocs)
                _flush(Activity, acts)
        _flush(SalesDocument, docs)
        _flush(SalesLine, lines)
        _flush(Payment, pays)
        _flush(PaymentAllocation, allocs)
        _flush(Activity, acts)
        counts["issued_cheques"] = _seed_issued_cheques(rng, max(4, n_invoices // 25), end, user_ids)
        for (doc_type, year), last in counters.items():
            DocumentCounter.insert(doc_type=doc_type, year=year, last=last).on_conflict(
                conflict_target=[DocumentCounter.doc_type, DocumentCounter.year],
                update={DocumentCounter.last: last}).execute()
        for model in (SalesDocument, SalesLine, Payment, IssuedCheque):
            _fix_sequence(model)
    logger.info("demo sales: %s (%.1fs)", counts, (now() - ts).total_seconds())
    return counts


def _seed_issued_cheques(rng: random.Random, n: int, end: dt.date, user_ids: list[int]) -> int:
    """The office's own cheques to its suppliers: due from two months back to four months on. Those whose day
    has passed are mostly cleared (a few still unmarked, one in twenty-five bounced); the rest wait."""
    start = (IssuedCheque.select(IssuedCheque.number).order_by(IssuedCheque.id.desc()).scalar() or "")
    base = int(start) + 1 if start.isdigit() else 3_250_001
    rows = []
    for i in range(n):
        due = end + dt.timedelta(days=int(rng.triangular(-60, 120, 10)))
        issued = due - dt.timedelta(days=rng.choice((0, 15, 30, 30, 45, 60, 90)))
        if due < end:
            r = rng.random()
            state = "bounced" if r < 0.04 else ("pending" if r < 0.12 else "cleared")
        else:
            state = "pending"
        amount = rng.choice((5, 8, 12, 15, 20, 25, 40, 60, 85, 120, 250)) * 1_000_000 + rng.randrange(10) * 100_000
        at = dt.datetime.combine(min(issued, end), dt.time(11, 0))
        rows.append(dict(number=str(base + i), bank=rng.choice(BANKS), account="", amount=amount,
                         payee=rng.choice(SUPPLIERS), customer=None, issue_date=issued, due_date=due, state=state,
                         note="", created_by=rng.choice(user_ids) if user_ids else None, created_at=at,
                         updated_at=at))
    _flush(IssuedCheque, rows)
    return n
