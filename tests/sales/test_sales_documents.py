"""Documents, numbering, cancellation, correction, payments and balances on a real database
(SQLite, and PostgreSQL when CRM_TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from app import options, settings
from app.core import clock
from app.core.errors import UserError, ValidationError
from app.sales.balances import (
    customer_balance,
    customer_debt,
    customer_sales_snapshot,
    overdue_amount,
    overdue_invoices,
)
from app.sales.documents import (
    cancel_document,
    convert_proforma,
    correct_invoice,
    create_invoice,
    create_proforma,
    find_document,
    issue_invoice,
    save_document,
)
from app.sales.paid import paid_amount
from app.sales.payments import record_payment, set_cheque_state, void_payment
from app.sales.products import list_products, save_product
from app.sales.reports import NO_REP, sales_by_month, sales_by_rep, sales_rows, top_customers
from app.sales.totals import LineInput
from app.sales.vat import set_vat_rates
from app.sales.views import get_document, list_documents
from models.base import db as dbproxy
from models.core import Activity
from models.sales import DocumentCounter, Payment, PaymentAllocation, SalesDocument, SalesLine
from tests.sales.helpers_sales import VALID_CODE, events, make_customer, make_user

DAY = dt.datetime(2026, 11, 24, 10, 0)          # 1405/09/03


@pytest.fixture
def frozen():
    clock.set_now(DAY)
    yield DAY


def _lines(n=1, price=1_000_000):
    return [LineInput(f"کالای {i + 1}", 1, price) for i in range(n)]


def test_proforma_numbered_on_creation_invoice_on_issue(anydb, frozen):
    c = make_customer()
    pf = create_proforma(c, _lines())
    assert pf.state == "open" and pf.number == "14050001" and pf.vat_rate == 1000
    assert pf.valid_until == DAY.date() + dt.timedelta(days=7)
    draft = create_invoice(c, _lines(), issue=False)
    assert draft.state == "draft" and draft.number is None
    inv = issue_invoice(draft.id)
    assert inv.number == "14050001" and inv.state == "issued" and inv.total == 1_100_000
    inv2 = create_invoice(c, _lines())
    assert inv2.number == "14050002"
    pf2 = create_proforma(c, _lines())
    assert pf2.number == "14050002"
    assert find_document("۱۴۰۵۰۰۰۲").id == inv2.id
    assert find_document("P14050002").id == pf2.id


def test_numbering_restarts_each_jalali_year(anydb):
    c = make_customer()
    clock.set_now(dt.datetime(2026, 3, 20, 9, 0))      # 1404/12/29
    a = create_invoice(c, _lines())
    clock.set_now(dt.datetime(2026, 3, 21, 9, 0))      # 1405/01/01
    b = create_invoice(c, _lines())
    c2 = create_invoice(c, _lines())
    assert (a.number, b.number, c2.number) == ("14040001", "14050001", "14050002")


def test_failed_save_gives_its_number_back(anydb, frozen):
    ok = make_customer()
    no_code = make_customer("شرکت بی‌کد", kind="organisation", company="شرکت بی‌کد")
    create_invoice(ok, _lines())
    with pytest.raises(ValidationError):
        create_invoice(no_code, _lines(), invoice_type=1)
    inv = create_invoice(ok, _lines())
    assert inv.number == "14050002"


def test_validation_saves_nothing(anydb, frozen):
    c = make_customer()
    before = (SalesDocument.select().count(), SalesLine.select().count(), Activity.select().count())
    with pytest.raises(ValidationError) as e:
        create_invoice(c, [LineInput("خوب", 1, 1000), LineInput("بد", -2, 1000)])
    assert "ردیف ۲" in e.value.errors["lines.1.quantity"]
    with pytest.raises(ValidationError) as e:
        create_invoice(c, [LineInput("گران", 1, 10 ** 15)])
    assert "بیش از حد مجاز" in e.value.message
    after = (SalesDocument.select().count(), SalesLine.select().count(), Activity.select().count())
    assert before == after
    assert not DocumentCounter.select().where(DocumentCounter.last > 0).exists()


def test_official_invoice_needs_buyer_identity(anydb, frozen):
    anon = make_customer("مشتری بی‌شناسه")
    with pytest.raises(ValidationError) as e:
        create_invoice(anon, _lines(), invoice_type=1)
    assert "کد اقتصادی" in e.value.errors["invoice_type"]
    assert SalesDocument.select().count() == 0
    # type 2 (buyer optional) is fine for the same customer
    assert create_invoice(anon, _lines(), invoice_type=2).state == "issued"
    ident = make_customer("علی رضایی", national_id=VALID_CODE)
    assert create_invoice(ident, _lines(), invoice_type=1).invoice_type == 1
    eco = make_customer("شرکت نمونه", kind="organisation", company="شرکت نمونه", economic_code="411111111111")
    assert create_invoice(eco, _lines(), invoice_type=1).state == "issued"


def test_invalid_national_code_is_refused(anydb, frozen):
    bad = make_customer("کد غلط", national_id="0499370898")
    with pytest.raises(ValidationError) as e:
        create_invoice(bad, _lines(), invoice_type=1)
    assert "معتبر نیست" in e.value.errors["customer.national_id"]
    assert SalesDocument.select().count() == 0


def test_document_keeps_its_vat_rate(anydb):
    c = make_customer()
    clock.set_now(dt.datetime(2024, 3, 10, 9, 0))      # 1402/12/20, 9%
    old = create_invoice(c, _lines())
    assert old.vat_rate == 900 and old.total == 1_090_000
    clock.set_now(dt.datetime(2026, 11, 24, 9, 0))
    set_vat_rates("1402/01/01=9,1403/01/01=10,1405/09/01=12")
    new = create_invoice(c, _lines())
    assert new.vat_rate == 1200 and new.total == 1_120_000
    again = get_document(old.id)
    assert again.vat_rate == 900 and again.total == 1_090_000 and again.lines[0].vat == 90_000


def test_draft_reissued_at_current_rate(anydb):
    c = make_customer()
    clock.set_now(dt.datetime(2026, 11, 24, 9, 0))
    draft = create_invoice(c, _lines(), issue=False)
    assert draft.vat_rate == 1000
    set_vat_rates("1403/01/01=10,1405/09/01=12")
    inv = issue_invoice(draft.id)
    assert inv.vat_rate == 1200 and inv.total == 1_120_000
    assert SalesLine.get(SalesLine.document == inv.id).vat == 120_000


def test_issued_invoice_is_never_edited(anydb, frozen):
    c = make_customer()
    inv = create_invoice(c, _lines())
    with pytest.raises(UserError) as e:
        save_document("invoice", c, _lines(2), doc_id=inv.id)
    assert "اصلاحیه" in e.value.message
    assert get_document(inv.id).total == 1_100_000


def test_edit_open_proforma_and_convert(anydb, frozen):
    c = make_customer()
    rep = make_user()
    pf = create_proforma(c, _lines(), rep_id=rep)
    pf = save_document("proforma", c, _lines(3), doc_id=pf.id, doc_discount=300_000, rep_id=rep)
    assert pf.number == "14050001" and pf.total == 2_700_000 + 270_000
    inv = convert_proforma(pf.id)
    assert inv.state == "issued" and inv.source_id == pf.id and inv.total == pf.total and inv.rep_id == rep
    assert SalesDocument.get_by_id(pf.id).state == "converted"
    with pytest.raises(UserError):
        convert_proforma(pf.id)
    with pytest.raises(UserError):
        save_document("proforma", c, _lines(), doc_id=pf.id)
    assert get_document(inv.id).source_number == "14050001"


def test_cancel_keeps_history_and_releases_payment(anydb, frozen):
    c = make_customer()
    inv = create_invoice(c, _lines())
    record_payment(c, "cash", 500_000)
    assert customer_balance(c) == 600_000
    with pytest.raises(ValidationError):
        cancel_document(inv.id, "  ")
    cancel_document(inv.id, "مشتری منصرف شد")
    doc = SalesDocument.get_by_id(inv.id)
    assert doc.state == "cancelled" and doc.cancel_reason == "مشتری منصرف شد" and doc.number == "14050001"
    assert PaymentAllocation.select().count() == 0
    assert customer_balance(c) == -500_000          # the payment is now credit
    with pytest.raises(UserError):
        cancel_document(inv.id, "دوباره")
    # numbering does not reuse the cancelled number
    assert create_invoice(c, _lines()).number == "14050002"
    kinds = [(e[0], e[1]) for e in events(c)]
    assert ("invoice", "cancelled") in kinds and ("invoice", "issued") in kinds


def test_correction_points_to_the_old_invoice(anydb, frozen):
    c = make_customer()
    inv = create_invoice(c, _lines(2))                     # 2,200,000
    record_payment(c, "transfer", 1_000_000, reference="123456")
    new = correct_invoice(inv.id, _lines(1), "یک قلم اشتباه وارد شده بود")
    assert new.corrects_id == inv.id and new.subject == 2 and new.number == "14050002"
    old = SalesDocument.get_by_id(inv.id)
    assert old.state == "corrected" and old.cancel_reason
    assert customer_balance(c) == 1_100_000 - 1_000_000
    assert paid_amount(new.id) == 1_000_000 and paid_amount(inv.id) == 0
    view = get_document(inv.id)
    assert view.corrected_by_number == "14050002"
    assert get_document(new.id).corrects_number == "14050001"
    with pytest.raises(UserError):
        correct_invoice(inv.id, _lines(1), "دوباره")
    listed = {d.number: d.state for d in list_documents(customer_id=c)}
    assert listed == {"14050001": "corrected", "14050002": "issued"}


def test_payments_partial_allocation_balance_overdue(anydb, frozen):
    c = make_customer()
    settings.set(options.SALES_PAYMENT_DAYS, 10)
    clock.set_now(DAY - dt.timedelta(days=30))
    a = create_invoice(c, _lines(1), settlement="credit")            # 1,100,000 due 20 days ago
    clock.set_now(DAY - dt.timedelta(days=5))
    b = create_invoice(c, _lines(2), settlement="credit")            # 2,200,000 due in 5 days
    clock.set_now(DAY)
    assert customer_balance(c) == 3_300_000
    assert [o.number for o in overdue_invoices(c)] == [a.number]
    # partial payment goes to the oldest first
    p1 = record_payment(c, "card", 600_000, reference="998877")
    assert paid_amount(a.id) == 600_000
    assert overdue_amount(c) == 500_000
    # explicit allocation to the newer invoice
    record_payment(c, "cheque", 1_000_000, allocations={b.id: 1_000_000}, cheque_number="123456",
                         cheque_bank="ملت", cheque_due="1405/10/01")
    assert paid_amount(b.id) == 1_000_000
    assert customer_balance(c) == 3_300_000 - 1_600_000
    # a bounced cheque stops counting
    cheque = Payment.get(Payment.kind == "cheque")
    set_cheque_state(cheque.id, "bounced")
    assert customer_balance(c) == 3_300_000 - 600_000
    assert paid_amount(b.id) == 0
    # a voided payment stops counting too
    void_payment(p1.id, "کارت‌خوان دوباره کشیده شد")
    assert customer_balance(c) == 3_300_000 and customer_debt(c) == 3_300_000
    snap = customer_sales_snapshot(c)
    assert snap["balance"] == 3_300_000 and snap["overdue"] == 1_100_000
    assert snap["last_invoice"] == {"number": b.number, "date": b.date, "total": 2_200_000}
    assert snap["last_proforma"] is None
    kinds = [e[1] for e in events(c, "payment")]
    assert kinds.count("received") == 2 and "voided" in kinds and "cheque" in kinds


def test_payment_validation(anydb, frozen):
    c = make_customer()
    inv = create_invoice(c, _lines())
    with pytest.raises(ValidationError) as e:
        record_payment(c, "cheque", 100_000)
    assert {"cheque_number", "cheque_due", "cheque_bank"} <= set(e.value.errors)
    with pytest.raises(ValidationError) as e:
        record_payment(c, "cash", -5)
    assert "بیشتر از صفر" in e.value.errors["amount"]
    with pytest.raises(ValidationError) as e:
        record_payment(c, "cash", 100, allocations={inv.id: 2_000_000})
    assert "مانده" in e.value.message
    assert Payment.select().count() == 0
    # an overpayment leaves credit on account
    record_payment(c, "cash", 1_500_000)
    assert customer_balance(c) == -400_000 and paid_amount(inv.id) == 1_100_000


def test_snapshot_for_new_customer(anydb, frozen):
    c = make_customer()
    assert customer_sales_snapshot(c) == {"last_proforma": None, "last_invoice": None, "balance": 0,
                                                "overdue": 0}
    create_proforma(c, _lines())
    snap = customer_sales_snapshot(c)
    assert snap["last_proforma"]["number"] == "14050001" and snap["last_proforma"]["total"] == 1_100_000
    assert snap["balance"] == 0          # a proforma is not a debt


def test_timeline_records_every_step(anydb, frozen):
    c = make_customer()
    pf = create_proforma(c, _lines())
    convert_proforma(pf.id)
    record_payment(c, "cash", 100_000)
    entries = events(c)
    pairs = [(e[0], e[1]) for e in entries]
    assert ("proforma", "created") in pairs and ("proforma", "converted") in pairs
    assert ("invoice", "issued") in pairs and ("payment", "received") in pairs
    issued = next(e for e in entries if e[1] == "issued")
    assert "۱۴۰۵۰۰۰۱" in issued[2] and "۱٬۱۰۰٬۰۰۰ ریال" in issued[2]
    assert issued[4] == "sales_document"


def test_concurrent_numbering_has_no_gaps_or_duplicates(anydb, frozen):
    customer = make_customer()
    n_threads, per_thread = 6, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def worker():
        try:
            barrier.wait()
            for _ in range(per_thread):
                create_invoice(customer, _lines())
                create_proforma(customer, _lines())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            dbproxy.close()

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for doc_type in ("invoice", "proforma"):
        seqs = sorted(d.seq for d in SalesDocument.select().where(SalesDocument.doc_type == doc_type))
        assert seqs == list(range(1, n_threads * per_thread + 1))


def test_reports_helpers(anydb):
    rep = make_user("حسین فروشنده", "hossein")
    a = make_customer("مشتری الف")
    b = make_customer("مشتری ب", assigned_to=rep)
    clock.set_now(dt.datetime(2026, 10, 1, 9))          # 1405/07/09
    create_invoice(a, _lines(1))
    create_invoice(a, _lines(1))
    clock.set_now(dt.datetime(2026, 11, 1, 9))          # 1405/08/10
    create_invoice(b, _lines(5))
    x = create_invoice(b, _lines(1))
    cancel_document(x.id, "اشتباه")
    create_proforma(a, _lines(9))                 # proformas are not sales
    rows = sales_rows(dt.date(2026, 9, 1), dt.date(2026, 12, 1))
    assert len(rows) == 3
    top = top_customers(dt.date(2026, 9, 1), dt.date(2026, 12, 1))
    assert [t.customer_id for t in top] == [b, a] and top[0].amount == 5_500_000
    assert [t.customer_id for t in top_customers(by="count")] == [a, b]
    months = sales_by_month()
    assert [(m.jalali_year, m.jalali_month, m.count) for m in months] == [(1405, 7, 2), (1405, 8, 1)]
    reps = {r.rep_name: r.amount for r in sales_by_rep()}
    assert reps == {"حسین فروشنده": 5_500_000, NO_REP: 2_200_000}


def test_sales_reports_summed_by_the_database_equal_the_sums_of_the_rows(anydb):
    """Top customers, months and reps are summed by the database; each equals what the invoice rows themselves
    add up to, over a period and over everything: a document's own rep first, else its customer's colleague, else
    «بدون مسئول»; ties go to the customer who bought first; Jalali months split where the calendar does."""
    import random
    from collections import defaultdict

    rng = random.Random(7)
    reps = [make_user(f"فروشنده {i}", f"rep{i}") for i in range(3)]
    customers = [make_customer(f"مشتری {i}", assigned_to=reps[i % 3] if i % 4 else None) for i in range(9)]
    day = dt.datetime(2026, 8, 20, 9)
    for k in range(60):
        clock.set_now(day + dt.timedelta(days=k * 2))               # across three Jalali months' edges
        cust = customers[rng.randrange(len(customers))]
        doc = create_invoice(cust, _lines(rng.choice((1, 1, 2, 5))), rep_id=rng.choice((None, None, *reps)))
        if k % 11 == 0:
            cancel_document(doc.id, "اشتباه")
    clock.set_now(None)
    for period in ((None, None), (dt.date(2026, 9, 10), dt.date(2026, 10, 20))):
        rows = sales_rows(*period)
        assert rows and [r.date for r in rows] == sorted(r.date for r in rows)
        by_customer: dict[int, list] = {}
        for r in rows:
            c = by_customer.setdefault(r.customer_id, [r.customer_name, 0, 0])
            c[1] += 1
            c[2] += r.total
        for by, key in (("amount", lambda c: (-c[1][2], -c[1][1])), ("count", lambda c: (-c[1][1], -c[1][2]))):
            expect = [(cid, name, n, total) for cid, (name, n, total) in sorted(by_customer.items(), key=key)]
            got = [(t.customer_id, t.customer_name, t.count, t.amount) for t in top_customers(*period, by=by,
                                                                                             limit=20)]
            assert got == expect
        months: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
        for r in rows:
            m = months[(r.jalali_year, r.jalali_month)]
            m[0] += 1
            m[1] += r.total
            m[2] += r.vat
        assert [(m.jalali_year, m.jalali_month, m.count, m.amount, m.vat) for m in sales_by_month(*period)] == [
            (y, mo, *v) for (y, mo), v in sorted(months.items())]
        assert len(months) >= 2
        per_rep: dict = defaultdict(lambda: [None, 0, 0])
        for r in rows:
            e = per_rep[r.rep_id]
            e[0], e[1], e[2] = r.rep_name, e[1] + 1, e[2] + r.total
        assert sorted((r.rep_id or 0, r.rep_name, r.count, r.amount) for r in sales_by_rep(*period)) == sorted(
            (rid or 0, name, n, total) for rid, (name, n, total) in per_rep.items())
        assert [r.amount for r in sales_by_rep(*period)] == sorted((v[2] for v in per_rep.values()), reverse=True)


def test_products(anydb):
    p = save_product({"code": "LED40", "name": "لامپ ال‌ای‌دی ۴۰ وات", "price": "۱٬۲۰۰٬۰۰۰",
                            "goods_id": "2720000000017"})
    assert p.price == 1_200_000 and p.unit == "عدد"
    with pytest.raises(ValidationError) as e:
        save_product({"code": "LED40", "name": "تکراری"})
    assert "کد" in e.value.errors["code"]
    with pytest.raises(ValidationError) as e:
        save_product({"name": "x", "goods_id": "123"})
    assert "۱۳ رقم" in e.value.errors["goods_id"]
    with pytest.raises(ValidationError) as e:
        save_product({"name": "x", "price": -1})
    assert "منفی" in e.value.errors["price"]
    auto = save_product({"name": "نصب و راه‌اندازی", "kind": "service", "price": 5_000_000,
                               "vat_exempt": False})
    assert auto.code.startswith("K")
    assert [r.code for r in list_products("لامپ")] == ["LED40"]
    save_product({"name": "لامپ ال‌ای‌دی ۴۰ وات", "code": "LED40", "active": False}, product_id=p.id)
    assert list_products("لامپ") == []
    assert len(list_products("لامپ", active_only=False)) == 1


def test_the_catalogue_is_in_persian_alphabetical_order(anydb):
    """«پ»، «ک»، «گ» and «ی» sort where a Persian reader looks for them (code points put «پنکه» after «یخچال»),
    on either database; equal names keep the order they were added in."""
    for code, name in (("Y", "یخچال"), ("P", "پنکه سقفی"), ("G", "گاز رومیزی"), ("K", "کولر آبی"),
                       ("B", "بخاری گازی"), ("A", "آبگرمکن"), ("K2", "کولر آبی")):
        save_product({"code": code, "name": name, "price": 1000})
    assert [r.code for r in list_products()] == ["A", "B", "P", "K", "K2", "G", "Y"]
    assert [r.code for r in list_products("کولر")] == ["K", "K2"]


def test_concurrent_payments_never_over_allocate(anydb, frozen):
    customer = make_customer()
    inv = create_invoice(customer, _lines())          # 1,100,000
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def worker():
        try:
            barrier.wait()
            for _ in range(3):
                record_payment(customer, "cash", 100_000)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            dbproxy.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert paid_amount(inv.id) == 1_100_000          # 15 × 100,000 received, only 11 allocated
    assert customer_balance(customer) == -400_000
