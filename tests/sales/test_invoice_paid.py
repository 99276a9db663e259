"""What is paid on each document is kept on the document by the database itself (migration 22): every payment,
allocation, void, bounced or cleared cheque, cancellation and correction leaves `sales_document.paid` equal to the
sum of its counting allocations, on SQLite and on PostgreSQL, and the open invoices are read from their own index."""
from __future__ import annotations

import pytest

from app.money import collection
from app.sales.documents import cancel_document, correct_invoice
from app.sales.payments import record_payment, set_cheque_state, void_payment
from app.sales.totals import LineInput
from models.base import db, is_postgres
from models.sales import Payment, SalesDocument
from tests.plans import plan
from tests.sales.helpers_sales import summed_paid
from tests.sales.money_fixture import build

TRIGGERS_SQLITE = ("payment_allocation_paid_ai", "payment_allocation_paid_ad", "payment_allocation_paid_au",
                   "payment_paid_au", "sales_document_paid_au", "sales_document_paid_ai")
TRIGGERS_PG = (("sales_document_paid", "sales_document"), ("payment_allocation_paid", "payment_allocation"),
               ("payment_paid", "payment"))


def _paid(doc_id: int) -> int:
    return SalesDocument.get_by_id(doc_id).paid


def _all_kept() -> None:
    docs = list(SalesDocument.select(SalesDocument.id, SalesDocument.paid))
    assert docs
    assert {d.id: d.paid for d in docs} == {d.id: summed_paid(d.id) for d in docs}


def _open_by_sum() -> set[int]:
    """The open invoices worked out the old way: total above the sum of their counting allocations."""
    return {d.id for d in SalesDocument.select().where(SalesDocument.doc_type == "invoice",
                                                        SalesDocument.state == "issued")
            if d.total > summed_paid(d.id)}


def _open_read() -> set[int]:
    q, _paid = collection.open_invoices_query(lambda paid: (SalesDocument.id,))
    return {r[0] for r in q.tuples()}


def test_the_paid_figure_follows_every_change_of_money(anydb):
    ids = build()
    _all_kept()
    assert _paid(ids["A1"]) == 4_000_000            # the cash on account went to the oldest invoice
    assert _paid(ids["S1"]) == 5_000_000            # a pending cheque counts
    assert _paid(ids["N1"]) == 0                    # a bounced one does not
    assert _open_read() == _open_by_sum() and ids["N1"] in _open_read()

    set_cheque_state(ids["sara_cheque"], "bounced")
    assert _paid(ids["S1"]) == 0
    set_cheque_state(ids["sara_cheque"], "cleared")
    assert _paid(ids["S1"]) == 5_000_000
    set_cheque_state(ids["nour_cheque"], "cleared")  # the bank paid it after all
    assert _paid(ids["N1"]) == 20_000_000 and ids["N1"] not in _open_read()

    cash = Payment.get((Payment.customer == ids["ali"]) & (Payment.kind == "cash")).id
    void_payment(cash, "ثبت اشتباه")
    assert _paid(ids["A1"]) == 0

    # an invoice paid in part and then cancelled: its payment goes back to credit, and the document, saved whole
    # with the figure it was read with, says nothing is paid on it
    record_payment(ids["ali"], "transfer", 1_000_000, allocations={ids["A2"]: 1_000_000}, reference="42")
    assert _paid(ids["A2"]) == 1_000_000
    cancel_document(ids["A2"], "فاکتور تکراری")
    assert _paid(ids["A2"]) == 0

    # a correction moves the allocations onto the new invoice, as far as its total goes
    new = correct_invoice(ids["S1"], [LineInput("کالا", 1, 3_000_000, vat_exempt=True)], "قیمت اشتباه")
    assert _paid(ids["S1"]) == 0 and _paid(new.id) == 3_000_000
    _all_kept()
    assert _open_read() == _open_by_sum()


def test_the_figure_cannot_be_written_wrong(anydb):
    """Whatever a statement writes into the column, the document keeps what its allocations give."""
    ids = build()
    SalesDocument.update(paid=123).where(SalesDocument.id.in_([ids["A1"], ids["N2"]])).execute()
    assert _paid(ids["A1"]) == 4_000_000 and _paid(ids["N2"]) == 0
    doc = SalesDocument.get_by_id(ids["A2"])
    doc.paid = 999
    doc.notes = "یادداشت تازه"
    doc.save()
    assert _paid(ids["A2"]) == 0
    _all_kept()


def _drop_the_kept_figure() -> None:
    """A database as an older version left it: no column, no triggers, no index."""
    db.execute_sql("DROP INDEX IF EXISTS sales_document_open")
    if is_postgres():
        for name, table in TRIGGERS_PG:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    else:
        for name in TRIGGERS_SQLITE:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    db.execute_sql("ALTER TABLE sales_document DROP COLUMN paid")


def test_an_older_database_gets_the_figure_filled_in(anydb):
    from models.migrations import m0022_invoice_paid

    ids = build()
    with db.atomic():
        _drop_the_kept_figure()
    assert "paid" not in {c.name for c in db.get_columns("sales_document")}
    with db.atomic():
        m0022_invoice_paid.up(db.obj)
    _all_kept()
    assert _paid(ids["A1"]) == 4_000_000 and _paid(ids["S1"]) == 5_000_000
    record_payment(ids["ali"], "cash", 6_000_000)                       # the triggers are there again
    assert _paid(ids["A1"]) == 10_000_000
    assert _open_read() == _open_by_sum()
    m0022_invoice_paid.up(db.obj)                                            # and running it again changes nothing
    _all_kept()


@pytest.mark.usefixtures("db")
def test_the_open_invoices_are_read_from_their_own_index():
    """An office with years of invoices, most of them paid: the open ones are found without reading the rest, and
    the received cheques without reading every payment."""
    from app.demo.customers import seed

    seed(customers=300, seed=5, calls=0, tasks=3000, invoices=3000)
    db.execute_sql("ANALYZE")
    assert _open_read() == _open_by_sum() != set()
    for user_id in (None, 1):
        q, _paid = collection.open_invoices_query(
            lambda paid: (SalesDocument.customer, SalesDocument.due_date, SalesDocument.total - paid),
            user_id=user_id)
        read = plan(q)
        assert "sales_document_open" in read, read
    for state in ("bounced", "pending"):           # the received cheques the money cards list
        read = plan(Payment.select(Payment.id, Payment.amount)
                    .where(Payment.kind == "cheque", Payment.state == "active", Payment.cheque_state == state))
        assert "payment_cheque" in read, read
    # the open collection follow-ups, by their titles
    read = plan(collection.open_follow_ups_query())
    assert "task_open_title" in read, read


def _raw_connection(url: str):
    """A connection of its own, outside the program (another desk's, or a tool's)."""
    from models.connection import sqlite_path_of

    path = sqlite_path_of(url)
    if path is not None:
        import sqlite3

        return sqlite3.connect(path, timeout=10, isolation_level=None), "?"
    import psycopg2

    con = psycopg2.connect(url)
    con.autocommit = True
    return con, "%s"


def test_two_desks_paying_one_invoice_at_once_both_count(anydb):
    """Two connections allocate money to the same invoice at the same time: the second waits for the first and
    works the figure out with the first's allocation in it (on PostgreSQL the trigger reads after the row lock)."""
    import threading

    ids = build()
    pay = [record_payment(ids["ali"], "cash", amount, auto_allocate=False).id for amount in (1_000_000, 2_000_000)]
    first_in = threading.Event()
    errors: list[BaseException] = []

    def desk(payment_id: int, amount: int, first: bool) -> None:
        con, mark = _raw_connection(anydb)
        try:
            cur = con.cursor()
            if not first:
                first_in.wait(10)
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO payment_allocation (payment_id, document_id, amount) VALUES ({mark}, {mark}, "
                        f"{mark})", (payment_id, ids["A1"], amount))
            if first:
                first_in.set()
                threading.Event().wait(0.4)        # the other desk's insert comes meanwhile, and waits
            cur.execute("COMMIT")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            con.close()

    threads = [threading.Thread(target=desk, args=(pay[0], 1_000_000, True)),
               threading.Thread(target=desk, args=(pay[1], 2_000_000, False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert summed_paid(ids["A1"]) == 7_000_000
    assert _paid(ids["A1"]) == 7_000_000


def test_a_void_while_a_correction_moves_its_allocation_leaves_both_invoices_right(anydb):
    """One desk corrects an invoice (its allocations move to the new invoice) while another voids the payment
    behind them: the void waits for the correction, and then both invoices say what is paid on them."""
    import threading

    ids = build()
    cheque = ids["sara_cheque"]                       # 5,000,000 allocated to S1
    new = _inv_for(ids["sara"])
    con, mark = _raw_connection(anydb)
    cur = con.cursor()
    errors: list[BaseException] = []
    started = threading.Event()

    def void() -> None:
        started.set()
        try:
            void_payment(cheque, "چک اشتباه ثبت شده بود")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    try:
        cur.execute("BEGIN IMMEDIATE" if mark == "?" else "BEGIN")
        if mark != "?":
            cur.execute("SELECT id FROM sales_document WHERE id = %s FOR UPDATE", (ids["S1"],))  # as correct_invoice
        cur.execute(f"UPDATE payment_allocation SET document_id = {mark} WHERE payment_id = {mark}", (new, cheque))
        t = threading.Thread(target=void)
        t.start()
        started.wait(10)
        threading.Event().wait(0.4)                   # the void comes meanwhile, and waits
        cur.execute("COMMIT")
    finally:
        con.close()
    t.join(30)
    assert not errors
    for doc in (ids["S1"], new):
        assert _paid(doc) == summed_paid(doc) == 0


def _inv_for(customer: int) -> int:
    from app.sales.documents import create_invoice

    return create_invoice(customer, [LineInput("کالا", 1, 9_000_000, vat_exempt=True)], settlement="credit").id
