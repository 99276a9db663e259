"""The popup's customer summary: every field, «هنوز ثبت نشده» where nothing exists, few indexed queries."""
from __future__ import annotations

import datetime as dt

import pytest

from app import settings
from app.calls import log as call_log
from app.core import clock
from app.customers import service as customers
from app.customers import summary
from models.base import db
from models.core import User

T0 = dt.datetime(2026, 11, 24, 10, 0, 0)


class QueryCounter:
    """Counts the SQL statements the database runs (peewee's execute_sql), on any backend."""

    def __init__(self):
        self.sql: list[str] = []

    def __enter__(self):
        self._orig = db.obj.execute_sql

        def counting(sql, params=None, *a, **kw):
            self.sql.append(sql)
            return self._orig(sql, params, *a, **kw)

        db.obj.execute_sql = counting
        return self

    def __exit__(self, *exc):
        db.obj.execute_sql = self._orig


@pytest.fixture
def customer(anydb):
    settings.set("office.area_code", "021")
    clock.set_now(T0)
    rep = User.create(name="سارا احمدی", username="sara")
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی رضایی",
                                   "rank": "A", "customer_type": "عمده‌فروش", "tags": ["VIP", "تهران"],
                                   "assigned_to": rep.id, "phones": ["09122800039"]})
    return c


def test_new_customer_reads_none_yet(customer):
    s = summary.customer_summary(customer.id)
    assert (s.name, s.company, s.rank, s.assigned_rep, s.tags) == (
        "علی رضایی", "بازرگانی رضایی", "A", "سارا احمدی", ("VIP", "تهران"))
    fields = dict(summary.summary_fields(s))
    for label in ("آخرین پیش‌فاکتور", "آخرین فاکتور", "آخرین بازدید", "آخرین تماس"):
        assert fields[label] == summary.NONE_YET
    assert fields["رتبه و گروه"] == "A، عمده‌فروش"
    assert summary.customer_summary(999999) is None


def test_filled_summary(customer):
    from app.sales.documents import save_document
    from app.tasks import meetings

    save_document("proforma", customer.id, [{"description": "کابل", "quantity": 2, "unit_price": 500_000}],
                        date=dt.date(2026, 11, 1))
    save_document("invoice", customer.id, [{"description": "کابل", "quantity": 3, "unit_price": 1_000_000}],
                        date=dt.date(2026, 11, 10), issue=True, settlement="credit")
    meetings.create_meeting({"customer_id": customer.id, "start_at": dt.datetime(2026, 11, 20, 11, 0),
                             "status": "held", "subject": "بازدید از انبار"})
    cid = call_log.log_manual_call(customer_id=customer.id, direction="out", duration=60, result="answered",
                              note="قرار شد پیش‌فاکتور بفرستیم")
    s = summary.customer_summary(customer.id)
    assert s.last_invoice.total > 3_000_000 and s.last_invoice.date == dt.date(2026, 11, 10)
    assert s.last_proforma.total >= 1_000_000
    assert s.balance == s.last_invoice.total
    assert s.last_visit[1] == "بازدید از انبار"
    assert s.last_call.id == cid and s.last_call.note == "قرار شد پیش‌فاکتور بفرستیم"
    fields = dict(summary.summary_fields(s))
    assert all(v != summary.NONE_YET for v in fields.values())
    assert fields["مانده حساب"].startswith("بدهکار ")
    assert "۱۴۰۵/۰۸/۱۹" in fields["آخرین فاکتور"]          # 10 Nov 2026 in Jalali, Persian digits
    assert "قرار شد" in fields["آنچه گفته شد"] and "۱۴۰۵/۰۹/۰۳" in fields["آنچه گفته شد"]
    assert fields["آخرین تماس"].startswith("تماس خروجی، ۱۴۰۵/۰۹/۰۳")
    # the ringing call itself is not "the last call"
    assert summary.customer_summary(customer.id, exclude_call_id=cid).last_call is None


def test_summary_is_a_handful_of_queries(customer):
    from app.sales.documents import save_document
    save_document("invoice", customer.id, [{"description": "x", "quantity": 1, "unit_price": 10_000}],
                        issue=True)
    summary.customer_summary(customer.id)      # warm imports
    with QueryCounter() as qc:
        summary.customer_summary(customer.id)
    assert len(qc.sql) <= 12, qc.sql

    def statement(q: str) -> str:          # an EXECUTE of a statement prepared on PostgreSQL: the statement
        if not q.upper().startswith("EXECUTE "):
            return q
        return db.execute_sql("SELECT statement FROM pg_prepared_statements WHERE name = %s",
                              (q.split()[1].lower(),)).fetchone()[0]

    assert all("JOIN" in t.upper() or "WHERE" in t.upper() for t in map(statement, qc.sql))   # no full-table reads


def test_what_was_said_is_the_last_call_that_has_a_note(customer):
    """The very last call often has no note (a quick ring); the popup still shows what was said before."""
    noted = call_log.log_manual_call(customer_id=customer.id, direction="in", result="answered",
                                     note="سفارش ۲۰ عدد کابل را تأیید کرد", started_at=T0 - dt.timedelta(days=3))
    bare = call_log.log_manual_call(customer_id=customer.id, direction="out", result="no_answer",
                                    started_at=T0 - dt.timedelta(hours=2))
    s = summary.customer_summary(customer.id)
    assert s.last_call.id == bare and s.last_note.id == noted
    fields = dict(summary.summary_fields(s))
    assert fields["آنچه گفته شد"].endswith("سفارش ۲۰ عدد کابل را تأیید کرد")
    from app.core.jalali import format_date

    assert fields["آنچه گفته شد"].startswith(format_date(T0 - dt.timedelta(days=3)))
    assert "قرار" not in fields["آخرین تماس"] and "تأیید" not in fields["آخرین تماس"]
    # the ringing call excluded: still the noted one
    assert summary.customer_summary(customer.id, exclude_call_id=bare).last_note.id == noted


def test_organisation_shows_its_name_and_its_contact_person(anydb):
    settings.set("office.area_code", "021")
    c = customers.create_customer({"kind": "organisation", "company": "گروه پیشگامان ساختمان", "title": "خانم",
                                   "first_name": "سارا", "last_name": "محمدی", "tags": ["نمایشگاه 1404"],
                                   "phones": ["02188776655"]})
    s = summary.customer_summary(c.id)
    assert s.is_organisation and s.heading == "گروه پیشگامان ساختمان"
    assert s.contact == "خانم سارا محمدی"
    fields = dict(summary.summary_fields(s))
    assert "شرکت" not in fields                                  # the name is the heading, not repeated
    assert fields["برچسب‌ها"] == "نمایشگاه ۱۴۰۴"                  # Persian digits in tags
    person = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "title": "آقای",
                                        "phones": ["09121112233"]})
    p = summary.customer_summary(person.id)
    assert p.heading == "آقای علی رضایی" and p.contact == ""


def test_one_statement_reads_what_the_services_read(customer):
    """The popup's one hand-written statement gives the very summary the services give part by part: money
    owed past its due date, a payment, a held visit, the ringing call left out, an open opportunity."""
    from app.sales import documents, payments
    from app.tasks import meetings

    documents.save_document("proforma", customer.id, [{"description": "کابل", "quantity": 2, "unit_price": 500_000}],
                        date=dt.date(2026, 9, 1))
    inv = documents.save_document("invoice", customer.id, [{"description": "کلید", "quantity": 4,
                                                        "unit_price": 3_400_000}],
                              date=dt.date(2026, 10, 1), due_date=dt.date(2026, 10, 15), issue=True,
                              settlement="credit")
    documents.save_document("invoice", customer.id, [{"description": "لامپ LED-40W", "quantity": 1,
                                                  "unit_price": 900_000}], date=dt.date(2026, 11, 20), issue=True,
                        settlement="credit")
    payments.record_payment(customer.id, "cash", 2_000_000, date=dt.date(2026, 10, 20),
                         allocations={inv.id: 2_000_000})
    meetings.create_meeting({"customer_id": customer.id, "start_at": dt.datetime(2026, 11, 12, 9, 0),
                             "status": "held", "subject": "بازدید", "summary": "سفارش تابلو برق"})
    noted = call_log.log_manual_call(customer_id=customer.id, direction="in", result="answered", note="قیمت خواست",
                                     started_at=T0 - dt.timedelta(days=2))
    ringing = call_log.log_manual_call(customer_id=customer.id, direction="in", result="answered",
                                       started_at=T0 - dt.timedelta(minutes=1))
    for exclude in (None, ringing, noted):
        fast = summary._summary_one_query(customer.id, exclude, True)
        slow = summary._summary_by_parts(customer.id, exclude)
        assert fast == slow
    s = summary.customer_summary(customer.id, exclude_call_id=ringing)
    assert s.overdue and s.overdue < s.last_invoice.total + inv.total and s.balance > s.overdue
    assert s.last_visit[1] == "سفارش تابلو برق" and s.last_call.id == noted
    with QueryCounter() as qc:
        summary.customer_summary(customer.id)
    assert len(qc.sql) == 1, qc.sql
    assert summary._summary_one_query(999999, None, True) is None


def test_open_opportunities_line_comes_from_the_one_statement(customer):
    """The open opportunities' line (how many, the first by next step: its stage and value) is read by the one
    statement, and is the very line the board's brief gives; a lost one does not count, one with no next step
    comes last. A role that sees only some customers still goes through the board's own scoping."""
    from app.office import session
    from app.pipeline import open_opportunities_brief, stages
    from app.pipeline import opportunities as opps

    rep = User.get(User.username == "sara")
    reason = stages.lost_reasons()[0][0]
    opps.create_opportunity({"customer_id": customer.id, "title": "دوربین", "value": "۳۰٬۰۰۰٬۰۰۰",
                             "close_date": "1405/11/15"}, user=rep.id)
    opps.create_opportunity({"customer_id": customer.id, "title": "سیم‌کشی", "value": "۱۲۰٬۰۰۰٬۰۰۰",
                             "next_step_date": "1405/09/20"}, user=rep.id)
    soonest = opps.create_opportunity({"customer_id": customer.id, "title": "تابلو", "value": "۷۵٬۰۰۰٬۰۰۰",
                                       "next_step_date": "1405/09/10"}, user=rep.id)
    lost = opps.create_opportunity({"customer_id": customer.id, "title": "آسانسور", "value": "۹۰۰٬۰۰۰٬۰۰۰",
                                    "next_step_date": "1405/09/01"}, user=rep.id)
    opps.mark_lost(lost.id, reason, user=rep.id)
    board_line = summary.opportunities_text(open_opportunities_brief(customer.id))
    assert board_line.startswith("۳ فرصت باز؛ اولی: ") and "۷۵٬۰۰۰٬۰۰۰" in board_line
    summary.customer_summary(customer.id)          # on PostgreSQL the statement is prepared on first use
    with QueryCounter() as qc:
        s = summary.customer_summary(customer.id)
    assert len(qc.sql) == 1, qc.sql
    assert s.opportunities == board_line
    assert dict(summary.summary_fields(s))["فرصت‌های باز"] == board_line
    assert summary._summary_one_query(customer.id, None, True) == summary._summary_by_parts(customer.id)
    opps.mark_lost(soonest.id, reason, user=rep.id)
    assert summary.customer_summary(customer.id).opportunities == summary.opportunities_text(
        open_opportunities_brief(customer.id)) != board_line
    with session.acting_as(session.Principal(rep.id, rep.name, "sales", how="test")):
        assert summary.customer_summary(customer.id).opportunities == summary.opportunities_text(
            open_opportunities_brief(customer.id))


def test_postgres_keeps_the_prepared_summary_plan_from_its_first_run(customer, anydb):
    """On PostgreSQL the popup's summary is PREPAREd once per connection; the server plans it once, not afresh at
    each of its first five runs (planning it took eight times as long as running it), on a new connection too.
    SQLite keeps every statement's plan in its own cache: nothing to check there."""
    if not anydb.startswith("postgres"):
        pytest.skip("plans of prepared statements are PostgreSQL's")
    from models import sqlcache

    def plans() -> tuple[int, int]:
        row = db.execute_sql("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                             "WHERE name LIKE 'popup_summary_%%'").fetchone()
        return int(row[0]), int(row[1])

    for _ in range(7):
        assert summary.customer_summary(customer.id).name == "علی رضایی"
    assert plans() == (7, 0)
    db.close()                                   # a new connection: prepared again, planned once again
    sqlcache._prepared.clear()
    db.connect()
    for _ in range(3):
        summary.customer_summary(customer.id)
    assert plans() == (3, 0)
