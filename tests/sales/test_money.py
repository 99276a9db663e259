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
from app.sales.payments import record_payment
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
