"""The owner's money: overdue invoices, cheques due this week (received and issued), bounced cheques, the
collection list and the Jalali-month forecast, each compared with figures worked out by hand
(tests/sales/money_fixture.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from app import fmt
from app.calls import log as call_log
from app.core.errors import ValidationError
from app.money import cheques, collection, forecast
from app.money import reminders as money_reminders
from app.money.summary import money_summary
from app.sales.balances import overdue_amount
from app.sales.payments import record_payment, set_cheque_state
from app.sales.views import get_document
from app.tasks import reminders
from models.sales import IssuedCheque
from models.tasks import Reminder, Task
from tests.sales.money_fixture import TODAY, D, build


@pytest.fixture
def office(anydb):
    return build()


def test_overdue_invoices_with_days_late(office):
    rows = collection.overdue_invoices(TODAY)
    assert [(r.id, r.remaining, r.days_late) for r in rows] == [
        (office["N1"], 20_000_000, 70), (office["A1"], 6_000_000, 24), (office["A2"], 3_000_000, 4)]
    assert rows[0].customer_name == "شرکت نور" and rows[0].phone == "02188776655"
    # a rep sees only the customers assigned to them
    assert [r.id for r in collection.overdue_invoices(TODAY, office["reza"])] == [
        office["N1"], office["A1"], office["A2"]]
    assert collection.overdue_invoices(TODAY, office["boss"]) == []
    # the invoice's own service agrees on what is late
    assert sum(overdue_amount(c) for c in (office["ali"], office["nour"], office["sara"])) == 29_000_000


def test_cheques_this_week_received_and_issued(office):
    week = cheques.cheques_this_week(TODAY)
    assert [(c.direction, c.number, c.amount, c.due) for c in week] == [
        ("out", "9003", 1_500_000, D(2026, 11, 20)),    # its day passed and nobody marked it cleared
        ("out", "9001", 7_000_000, D(2026, 11, 26)),
        ("in", "111222", 5_000_000, D(2026, 11, 27))]
    assert week[2].party == "سارا محمدی" and week[1].party == "پخش البرز"
    assert week[0].days_to(TODAY) == -4 and week[2].days_to(TODAY) == 3
    assert [c.number for c in cheques.cheques_this_week(TODAY, issued=False)] == ["111222"]


def test_bounced_cheques_only_while_owed(office):
    rows = cheques.bounced_cheques()
    assert [(c.direction, c.number, c.amount) for c in rows] == [("out", "9005", 2_500_000),    # newest first
                                                                  ("in", "555666", 20_000_000)]
    # hamid's bounced cheque is made good (he has credit): not listed; once nour pays, hers goes too
    record_payment(office["nour"], "transfer", 26_000_000)
    assert [c.number for c in cheques.bounced_cheques()] == ["9005"]


def test_the_cards_cheque_summaries_are_the_full_lists_cut_with_figures_over_every_cheque(office):
    """The dashboard reads the first rows of the week's and the bounced cheques, and sums all of them in the
    database (an office with thousands listed each one). At every cut, for the office and for a rep, the rows are
    the full list's first ones in its order, and the count and amounts are those of the full list, even where
    cheques of one day come from both sides, and a bounced cheque of a customer who owes nothing is left out."""
    from app.sales.documents import create_invoice
    from app.sales.totals import LineInput

    for i, who in enumerate([office["ali"], office["sara"], office["nour"], office["hamid"]] * 3):
        create_invoice(who, [LineInput("کالا", 1, 9_000_000)], settlement="credit")
        p = record_payment(who, "cheque", 1_000_000 + i, date=D(2026, 11, 1), cheque_number=f"80{i:02d}",
                           cheque_bank="ملت", cheque_due=D(2026, 11, 24 + i % 4))
        if i % 3 == 0:
            set_cheque_state(p.id, "bounced")
    cheques.issue_cheque({"number": "9100", "bank": "تجارت", "amount": 3_000_000, "payee": "پخش البرز",
                          "due_date": D(2026, 11, 25), "issue_date": D(2026, 11, 1)})
    record_payment(office["hamid"], "transfer", 90_000_000)      # hamid owes nothing: his bounced ones go
    for who, issued in ((None, True), (office["reza"], False)):
        week = cheques.cheques_this_week(TODAY, who, issued)
        bounced = cheques.bounced_cheques(who, issued)
        owing = cheques.bounced_by_customer(who)
        assert len(week) >= 4 and len(bounced) >= 2 and office["hamid"] not in owing
        for limit in range(1, len(week) + 2):
            w = cheques.week_summary(TODAY, who, issued, limit=limit)
            assert w.rows == week[:limit]                 # each row whole: its party, phone, state
            assert (w.count, w.received, w.issued) == (
                len(week), sum(c.amount for c in week if c.direction == "in"),
                sum(c.amount for c in week if c.direction == "out"))
        for limit in range(1, len(bounced) + 2):
            b = cheques.bounced_summary(who, issued, limit=limit)
            assert b.rows == bounced[:limit]
            assert (b.count, b.received + b.issued) == (len(bounced), sum(c.amount for c in bounced))
        received = [c for c in bounced if c.direction == "in"]
        assert owing == {cid: (sum(1 for c in received if c.customer_id == cid),
                               sum(c.amount for c in received if c.customer_id == cid))
                         for cid in {c.customer_id for c in received}}


def test_all_received_cheques_latest_due_first_at_every_cut_read_in_due_order(office, caplog):
    """«همه چک‌های دریافتی»: the first rows of every received cheque, latest due first (the later one first on a
    day), with the count and amount of all; SQLite reads them in that order from payment_cheque_due and stops, and
    sorts nothing (it read and sorted every cheque: 144 ms at a million customers)."""
    from models.base import db
    from tests.plans import logged_statement, plan

    for i, who in enumerate([office["ali"], office["sara"], office["nour"]] * 3):
        p = record_payment(who, "cheque", 2_000_000 + i, date=D(2026, 11, 1), cheque_number=f"70{i:02d}",
                           cheque_bank="ملی", cheque_due=D(2026, 12, 1 + i % 4))
        if i % 4 == 1:
            set_cheque_state(p.id, "cleared")
    for who in (None, office["reza"]):
        every = cheques.received_cheques(None, who, limit=10_000)
        assert len(every) >= (9 if who is None else 3)         # reza has ali only
        assert [(c.due, c.id) for c in every] == sorted(((c.due, c.id) for c in every), reverse=True)
        for limit in range(1, len(every) + 2):
            got = cheques.received_summary(None, who, limit)
            assert got.rows == every[:limit]
            assert (got.count, got.received) == (len(every), sum(c.amount for c in every))
    if db.obj.__class__.__name__.startswith("Sqlite"):
        sql, params, _got = logged_statement(caplog, lambda: cheques.received_summary(None, None, 5), "ORDER BY")
        read = plan(sql, params)
        assert "payment_cheque_due" in read and "TEMP B-TREE" not in read, read


def test_collection_list_and_follow_up(office):
    rows = collection.collection_list(TODAY)
    assert [(r.name, r.overdue_amount, r.overdue_count, r.days_late, r.bounced_amount, r.due_now)
            for r in rows] == [("شرکت نور", 20_000_000, 1, 70, 20_000_000, True),
                               ("علی رضایی", 9_000_000, 2, 24, 0, True)]
    assert rows[1].assigned_name == "رضا کریمی" and rows[1].phone == "09121234567"
    assert "۲ فاکتور" in rows[1].reason() and "۲۴ روز" in rows[1].reason()
    # a follow-up in two days makes nour's row scheduled: it sinks, and leaves the "due now" list
    t = collection.schedule_follow_up(office["nour"], D(2026, 11, 26), "قول پرداخت داد", user=office["reza"])
    assert t.customer_id == office["nour"] and t.kind == "followup" and t.all_day
    rows = collection.collection_list(TODAY)
    assert [(r.name, r.due_now) for r in rows] == [("علی رضایی", True), ("شرکت نور", False)]
    assert rows[1].next_follow_up == dt.datetime(2026, 11, 26) and rows[1].follow_up_task_id == t.id
    assert [r.name for r in collection.collection_list(TODAY, due_only=True)] == ["علی رضایی"]
    # on the follow-up's day the row is due again
    assert collection.collection_list(D(2026, 11, 26), due_only=True)[0].name == "شرکت نور"
    with pytest.raises(ValidationError):
        collection.schedule_follow_up(office["nour"], D(2026, 11, 1))


def test_collection_cut_to_a_limit_keeps_the_order_and_counts_every_row(office):
    """The dashboard shows the first rows of the collection list and how many there are: read for those rows
    alone, they are the list's own first rows, with the same details."""
    from app.sales.documents import create_invoice
    from app.sales.totals import LineInput

    for cid, amount in ((office["sara"], 2_000_000), (office["hamid"], 7_000_000)):
        create_invoice(cid, [LineInput("کالا", 1, amount, vat_exempt=True)], date=D(2026, 10, 1),
                       due_date=D(2026, 10, 10), settlement="credit")
    collection.schedule_follow_up(office["sara"], D(2026, 11, 30), "", user=office["reza"])
    full = collection.collection_list(TODAY)
    assert len(full) == 4 and [r.due_now for r in full] == [True, True, True, False]
    for due_only in (False, True):
        whole = [r for r in full if r.due_now or not due_only]
        for limit in (None, 0, 1, 2, 3, 10):
            rows, total = collection.collection_and_total(TODAY, due_only=due_only, limit=limit)
            assert rows == whole[:limit] and total == len(whole), (due_only, limit)
    s = money_summary(TODAY, office["boss"], manager=True)
    assert s.collection == full[:3] and s.collection_due == 3


def test_collection_call_logs_and_replaces_follow_up(office):
    first = collection.schedule_follow_up(office["ali"], D(2026, 11, 25), user=office["reza"])
    logged = collection.log_collection_call(
        {"customer_id": office["ali"], "direction": "out", "result": "answered", "note": "هفته بعد واریز می‌کند",
         "follow_up_at": D(2026, 12, 1)}, user=office["reza"])
    assert logged.call.customer_id == office["ali"] and logged.call.result == "answered"
    assert "علی رضایی" in logged.task.title and logged.task.customer_id == office["ali"]
    assert Task.get_by_id(first.id).status == "done"          # the new follow-up replaces the earlier one
    row = next(r for r in collection.collection_list(TODAY) if r.customer_id == office["ali"])
    assert row.next_follow_up == dt.datetime(2026, 12, 1) and not row.due_now
    assert row.last_contact is not None
    assert call_log.RESULT_LABELS[logged.call.result] == "پاسخ داده شد"


def test_forecast_by_jalali_month(office):
    rows = forecast.cash_forecast(TODAY, months=4)
    assert [(r.label, r.invoices, r.cheques_in, r.cheques_out, r.net) for r in rows] == [
        ("سررسید گذشته", 29_000_000, 0, 1_500_000, 27_500_000),
        ("آذر ۱۴۰۵", 3_000_000, 5_000_000, 7_000_000, 1_000_000),
        ("دی ۱۴۰۵", 6_000_000, 0, 4_000_000, 2_000_000),
        ("بهمن ۱۴۰۵", 0, 2_000_000, 0, 2_000_000),
        ("اسفند ۱۴۰۵", 0, 0, 0, 0)]
    # a rep's forecast: their customers only, no office cheques
    mine = forecast.cash_forecast(TODAY, months=2, user_id=office["reza"])
    assert [(r.invoices, r.cheques_in, r.cheques_out) for r in mine] == [(29_000_000, 0, 0), (0, 0, 0),
                                                                         (6_000_000, 0, 0)]


def test_summary_for_manager_and_rep(office):
    s = money_summary(TODAY, office["boss"], manager=True)
    assert (s.overdue_count, s.overdue_total) == (3, 29_000_000)
    assert (s.week_in, s.week_out) == (5_000_000, 8_500_000)
    assert s.bounced_total == 22_500_000 and s.collection_due == 2
    rep = money_summary(TODAY, office["reza"], manager=False)
    assert (rep.overdue_count, rep.week_in, rep.week_out, rep.bounced_total) == (3, 0, 0, 20_000_000)
    assert not rep.issued_visible


def test_issued_cheque_validation_and_states(office):
    with pytest.raises(ValidationError) as e:
        cheques.issue_cheque({"number": "", "bank": "", "amount": "-5", "payee": "", "due_date": "1405/13/40"})
    assert set(e.value.errors) == {"number", "bank", "amount", "payee", "due_date"}
    with pytest.raises(ValidationError) as e:
        cheques.issue_cheque({"number": "9001", "bank": "تجارت", "amount": 1, "payee": "x", "due_date": TODAY})
    assert "پیش‌تر ثبت شده" in e.value.errors["number"]
    n = IssuedCheque.select().count()
    c = cheques.issue_cheque({"number": "۱۲۳۴", "bank": "ملت", "amount": "۱٬۰۰۰٬۰۰۰", "payee": "تعمیرگاه",
                              "due_date": "1405/09/10"})
    assert (c.number, c.amount, c.due_date) == ("1234", 1_000_000, D(2026, 12, 1))
    assert IssuedCheque.select().count() == n + 1
    cheques.set_issued_state(c.id, "cancelled")
    with pytest.raises(Exception) as e:
        cheques.set_issued_state(c.id, "cleared")
    assert "باطل" in e.value.message


def test_money_reminders_once_each(office):
    made = money_reminders.generate_money_reminders(TODAY)
    got = {r.key: (r.kind, r.title, r.user_id) for r in Reminder.select().where(Reminder.kind.in_(
        reminders.MONEY_KINDS))}
    assert made == len(got) == 6
    a2 = get_document(office["A2"]).number
    kind, title, user_id = got[f"overdue:{office['A2']}:0"]
    assert (kind, user_id) == ("overdue", office["reza"])
    assert all(part in title for part in (fmt.digits(a2), "علی رضایی", "۳٬۰۰۰٬۰۰۰", "۴ روز"))
    assert {k.split(":")[0] for k in got} == {"overdue", "cheque_in", "cheque_out", "bounced_in", "bounced_out"}
    title = got[f"cheque_in:{office['sara_cheque']}:2026-11-27"][1]
    assert all(part in title for part in ("۱۱۱۲۲۲", "سارا محمدی", "۵٬۰۰۰٬۰۰۰", "۱۴۰۵/۰۹/۰۶"))
    assert money_reminders.generate_money_reminders(TODAY) == 0            # idempotent
    due = reminders.due(office["reza"], at=dt.datetime(2026, 11, 24, 10, 0))
    assert any(r.kind == "overdue" and r.when_text == "۱۴۰۵/۰۸/۲۹" for r in due)


def test_kept_statements_read_what_peewee_builds_with_the_values(office, monkeypatch):
    """The money lists, the meetings of a day, the inbox and the whole dashboard keep their statements per shape
    (models.sqlcache) and put each call's values in: every answer, over many values and both kinds of desk, is
    the one given when peewee builds each statement afresh with the values themselves."""
    from app.reports import dashboard
    from app.tasks import meetings
    from app.tasks import service as ts
    from models import sqlcache
    from models.base import db

    for k, (when, who) in enumerate([(dt.datetime(2026, 11, 24, 10), office["reza"]),
                                     (dt.datetime(2026, 11, 24, 16), office["boss"]),
                                     (dt.datetime(2026, 11, 25, 9), None)]):
        meetings.create_meeting({"customer_id": office["ali"], "start_at": when, "subject": f"جلسه {k}",
                                 "user_id": who}, user=office["boss"])
    ts.create_task({"title": "پیگیری چک", "kind": "call", "due_at": dt.datetime(2026, 11, 23, 9),
                    "customer_id": office["sara"], "assignee_id": office["reza"]}, user=office["boss"])
    ts.create_task({"title": "ارسال پیش‌فاکتور", "due_at": dt.datetime(2026, 11, 24, 15)}, user=office["boss"])
    call_log.log_call({"customer_id": office["ali"], "direction": "in", "state": "missed",
                       "started_at": dt.datetime(2026, 11, 23, 18)}, user=office["reza"])

    def answers():
        out = []
        for on in (TODAY - dt.timedelta(days=30), TODAY, TODAY + dt.timedelta(days=10)):
            for who in (None, office["reza"], office["boss"]):
                out += [collection.overdue_invoices(on, who), collection.overdue_invoices(on, who, limit=2),
                        collection.open_by_day(who), collection.collection_list(on, who), cheques.cheques_this_week(on, who),
                        cheques.cheques_this_week(on, who, issued=False),
                        cheques.cheques_due(on + dt.timedelta(days=40), on, who), cheques.bounced_cheques(who),
                        meetings.meetings_on(D(2026, 11, 24), who), meetings.meetings_on(on, who),
                        money_summary(on, who, manager=who != office["reza"])]
            for state in (None, "pending", "bounced", "cleared"):
                out += [cheques.received_cheques(state), cheques.received_cheques(state, office["reza"]),
                        cheques.issued_cheques(state)]
        for at in (dt.datetime(2026, 11, 24, 8), dt.datetime(2026, 11, 24, 23, 59)):
            for who in (None, office["reza"], office["boss"]):
                d = dashboard.load(who, at=at)
                out += [d.overdue, d.today, d.calls_today, d.meetings, d.unhandled_calls, d.missed_calls, d.counts,
                        d.money, ts.list_tasks(ts.calls_today_filter(who), at)]
        return out

    kept = answers()
    # and each list keeps its meaning with the values put in
    from models.tasks import Meeting

    for on in (TODAY - dt.timedelta(days=30), TODAY, TODAY + dt.timedelta(days=1)):
        for who in (None, office["reza"], office["boss"]):
            rows = collection.overdue_invoices(on, who)
            assert all(r.due_date < on for r in rows)
            assert collection.overdue_invoices(on, who, limit=2) == rows[:2]
            until = on + dt.timedelta(days=40)
            every = cheques.received_cheques(None, who) + cheques.issued_cheques(None)
            assert sorted((c.direction, c.id) for c in cheques.cheques_due(until, on, who)) == sorted(
                (c.direction, c.id) for c in every if c.state == "pending" and on <= c.due <= until)
            day = [m.subject for m in meetings.meetings_on(on, who)]
            assert day == [m.subject for m in Meeting.select().where(
                Meeting.start_at >= on, Meeting.start_at < on + dt.timedelta(days=1),
                (Meeting.user == who) if who else True).order_by(Meeting.start_at)]
    assert [m.subject for m in meetings.meetings_on(TODAY)] == ["جلسه 0", "جلسه 1"]
    assert cheques.cheques_due(TODAY + dt.timedelta(days=40), TODAY)          # that check had cheques to find
    for state in ("pending", "bounced", "cleared"):
        assert all(c.state == state for c in cheques.received_cheques(state) + cheques.issued_cheques(state))
    monkeypatch.setattr(sqlcache, "run", lambda _name, build, *args, prepare=None: db.execute(build(*args)))
    fresh = answers()
    assert kept == fresh
    assert any(kept) and sum(1 for a in kept if a) > len(kept) // 3      # most of them found something


def test_one_pass_by_customer_and_day_folds_into_the_sums_by_day_and_by_customer(office):
    """A rep's money is read in one pass (one join to the customers) and folded: into exactly what the sums a day
    at a time and a customer at a time give, for the office, a rep, and someone with no customers, on days
    before, on and after the due dates."""
    from app.sales.documents import create_invoice
    from app.sales.totals import LineInput

    for i, who in enumerate([office["ali"], office["sara"], office["nour"]] * 2):
        create_invoice(who, [LineInput("کالا", 1, 1_000_000 * (i + 1))], settlement="credit",
                       date=D(2026, 11, 1), due_date=D(2026, 11, 20 + i))
    for who in (None, office["reza"], office["boss"]):
        per = collection.open_by_customer_and_day(who)
        assert collection.by_day(per) == sorted(collection.open_by_day(who))
        for on in (D(2026, 10, 1), D(2026, 11, 22), TODAY, D(2027, 3, 1)):
            assert sorted(collection.overdue_by_customer(per, on)) == sorted(
                collection._overdue_by_customer(on, who))
    rep = money_summary(TODAY, office["reza"], manager=False)
    assert rep.collection and rep.overdue_total == sum(r.remaining for r in collection.overdue_invoices(
        TODAY, office["reza"]))


def test_a_page_of_the_collection_list_has_the_whole_lists_figures(office):
    for who in (None, office["reza"]):
        for due_only in (True, False):
            full = collection.collection_list(TODAY, who, due_only)
            for limit in range(1, len(full) + 2):
                rows, figures = collection.collection_page(TODAY, who, due_only, limit=limit)
                assert rows == full[:limit]
                assert figures == collection.CollectionFigures(len(full), sum(r.due_now for r in full),
                                                               sum(r.overdue_amount for r in full))
