"""Tasks: overdue logic, the inbox and its filters, referral chains, a manager's view, validation."""
from __future__ import annotations

import pytest

from app.core import clock
from app.core.errors import UserError, ValidationError
from app.tasks import service as ts
from models.tasks import Task, TaskReferral
from tests.tasks.helpers import customer, j, timeline_kinds, user


@pytest.fixture
def people(anydb):
    return {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
            "amir": user("امیر حسینی", "amir", role="manager"), "ali": customer()}


def test_overdue_timed_and_all_day(people):
    clock.set_now(j(1405, 9, 3, 8, 0))
    timed = ts.create_task({"title": "ارسال پیش‌فاکتور", "due_at": j(1405, 9, 3, 10, 0)}, user=people["reza"])
    allday = ts.create_task({"title": "تماس با آقای رضایی", "due_at": j(1405, 9, 3), "all_day": True},
                            user=people["reza"])
    assert not ts.get_row(timed.id).overdue and not ts.get_row(allday.id).overdue
    clock.set_now(j(1405, 9, 3, 10, 1))
    assert ts.get_row(timed.id).overdue
    assert not ts.get_row(allday.id).overdue            # a date without a time is due all that day
    clock.set_now(j(1405, 9, 4, 0, 0))
    assert ts.get_row(allday.id).overdue
    ids = [r.id for r in ts.list_tasks(ts.InboxFilter(user_id=people["reza"], due="overdue"))]
    assert sorted(ids) == sorted([timed.id, allday.id])
    ts.set_done(timed.id, True, user=people["reza"])
    assert not ts.get_row(timed.id).overdue
    assert [r.id for r in ts.list_tasks(ts.InboxFilter(user_id=people["reza"], due="overdue"))] == [allday.id]


def test_referral_chain_moves_task_between_inboxes(people):
    clock.set_now(j(1405, 9, 3, 9, 0))
    t = ts.create_task({"title": "پیگیری سفارش کابل", "kind": "followup", "customer_id": people["ali"],
                        "due_at": j(1405, 9, 5, 11, 0)}, user=people["reza"])
    assert [r.id for r in ts.list_tasks(ts.InboxFilter(user_id=people["reza"]))] == [t.id]
    ts.refer(t.id, people["maryam"], "من فردا مرخصی هستم", by_user=people["reza"])
    clock.set_now(j(1405, 9, 4, 14, 0))
    ts.refer(t.id, people["amir"], "نیاز به تأیید تخفیف دارد", by_user=people["maryam"])
    assert ts.list_tasks(ts.InboxFilter(user_id=people["reza"])) == []
    assert ts.list_tasks(ts.InboxFilter(user_id=people["maryam"])) == []
    (row,) = ts.list_tasks(ts.InboxFilter(user_id=people["amir"]))
    assert (row.referred_by, row.referral_note, row.referred_at) == ("مریم احمدی", "نیاز به تأیید تخفیف دارد",
                                                                       j(1405, 9, 4, 14, 0))
    chain = ts.referral_chain(t.id)
    assert [(c.from_name, c.to_name, c.reason) for c in chain] == [
        ("رضا کریمی", "مریم احمدی", "من فردا مرخصی هستم"),
        ("مریم احمدی", "امیر حسینی", "نیاز به تأیید تخفیف دارد")]
    assert [c.at for c in chain] == [j(1405, 9, 3, 9, 0), j(1405, 9, 4, 14, 0)]
    kinds = timeline_kinds(people["ali"])
    assert kinds.count("task_referred") == 2 and "followup" in kinds


def test_referral_refusals_change_nothing(people):
    t = ts.create_task({"title": "کار", "assignee_id": people["maryam"]}, user=people["reza"])
    with pytest.raises(ValidationError):
        ts.refer(t.id, people["maryam"], "", by_user=people["reza"])
    with pytest.raises(ValidationError):
        ts.refer(t.id, 9999, "", by_user=people["reza"])
    ts.set_done(t.id, True)
    with pytest.raises(UserError):
        ts.refer(t.id, people["amir"], "", by_user=people["reza"])
    assert TaskReferral.select().count() == 0 and Task.get_by_id(t.id).assignee_id == people["maryam"]


def test_manager_sees_everyones_open_tasks_and_counts(people):
    clock.set_now(j(1405, 9, 3, 12, 0))
    for who, n_over, n_today in (("reza", 2, 1), ("maryam", 0, 3)):
        for i in range(n_over):
            ts.create_task({"title": f"عقب‌افتاده {i}", "due_at": j(1405, 9, 1, 10)}, user=people[who])
        for i in range(n_today):
            ts.create_task({"title": f"امروز {i}", "due_at": j(1405, 9, 3, 18)}, user=people[who])
    done = ts.create_task({"title": "انجام‌شده", "due_at": j(1405, 9, 1)}, user=people["reza"])
    ts.set_done(done.id, True)
    assert ts.is_manager(people["amir"]) and not ts.is_manager(people["reza"])
    everyone = ts.list_tasks(ts.InboxFilter(user_id=None, status="open"))
    assert len(everyone) == 6 and {r.assignee_name for r in everyone} == {"رضا کریمی", "مریم احمدی"}
    counts = {c["name"]: (c["open"], c["overdue"], c["today"]) for c in ts.counts_per_user()}
    assert counts == {"رضا کریمی": (3, 2, 1), "مریم احمدی": (3, 0, 3)}
    # without the open ones (the dashboard's first screen): the same overdue and today, open left as None
    ts.create_task({"title": "بدون تاریخ"}, user=people["amir"])      # open, but neither overdue nor today
    full = ts.counts_per_user()
    assert [c["name"] for c in full] == ["رضا کریمی", "مریم احمدی", "امیر حسینی"]
    assert ts.counts_per_user(open_counts=False) == [dict(c, open=None) for c in full if c["overdue"] or c["today"]]


def test_inbox_filters_and_calls_today(people):
    clock.set_now(j(1405, 9, 3, 9, 0))
    u = people["reza"]
    call_today = ts.create_task({"title": "تماس با علی رضایی", "kind": "call", "customer_id": people["ali"],
                                 "due_at": j(1405, 9, 3), "all_day": True}, user=u)
    call_late = ts.create_task({"title": "پیگیری دیروز", "kind": "followup", "due_at": j(1405, 9, 2, 16)}, user=u)
    ts.create_task({"title": "تماس فردا", "kind": "call", "due_at": j(1405, 9, 4, 10)}, user=u)
    ts.create_task({"title": "جلسه داخلی", "kind": "task", "due_at": j(1405, 9, 3, 11)}, user=u)
    ts.create_task({"title": "بدون تاریخ"}, user=u)
    calls = ts.list_tasks(ts.calls_today_filter(u))
    assert [r.id for r in calls] == [call_late.id, call_today.id]     # oldest due first
    assert len(ts.list_tasks(ts.InboxFilter(user_id=u, due="none"))) == 1
    assert len(ts.list_tasks(ts.InboxFilter(user_id=u, due="today"))) == 2
    assert len(ts.list_tasks(ts.InboxFilter(user_id=u, due="week"))) == 4
    found = ts.list_tasks(ts.InboxFilter(user_id=u, text="رضایی"))
    assert [r.id for r in found] == [call_today.id]                  # by the customer's name
    assert [r.title for r in ts.list_tasks(ts.InboxFilter(user_id=u, text="جلسه"))] == ["جلسه داخلی"]


def test_validation_is_persian_and_saves_nothing(people):
    with pytest.raises(ValidationError) as e:
        ts.create_task({"title": "  ", "priority": 9, "customer_id": 12345})
    assert set(e.value.errors) >= {"title", "priority", "customer_id"}
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in m) for m in e.value.errors.values())
    with pytest.raises(ValidationError):
        ts.create_task({"title": "یادآور بدون تاریخ", "remind_before": 15})
    assert Task.select().count() == 0


def test_edit_and_task_data(people):
    t = ts.create_task({"title": "کار", "due_at": j(1405, 9, 3, 9)}, user=people["reza"])
    ts.update_task(t.id, {"title": "کار ویرایش‌شده", "priority": 3, "customer_id": people["ali"]})
    d = ts.task_data(t.id)
    assert (d["title"], d["priority"], d["customer_name"], d["assignee_name"]) == (
        "کار ویرایش‌شده", 3, "علی رضایی", "رضا کریمی")


def test_customer_choices_for_the_picker(people):
    from app.customers import service as cs

    cs.create_customer({"first_name": "پرویز", "last_name": "یزدانی", "phones": [{"raw": "0912 555 6677"}]})
    cs.create_customer({"kind": "organisation", "company": "صنایع کاوه", "phones": [{"raw": "021-22514321"}]})
    assert [label for _id, label in ts.customer_choices("یزدانی")] == ["پرویز یزدانی — 09125556677"]
    assert [label.split(" — ")[0] for _id, label in ts.customer_choices("۰۹۱۲۵۵۵")] == ["پرویز یزدانی"]
    assert [label.split(" — ")[0] for _id, label in ts.customer_choices("کاوه")] == ["صنایع کاوه"]
    assert ts.customer_choices("  ") == []


def test_a_managers_dashboard_totals_come_from_the_counts_per_colleague(people):
    """Past the card's limit the dashboard shows totals; a manager's are the counts per colleague summed (or the
    manager's own row), and must equal counting the tasks themselves, at any moment of the day."""
    from app.reports import dashboard as dash
    from models.tasks import Task

    clock.set_now(j(1405, 9, 3, 7, 0))
    rows = []
    for k in range(dash.SECTION_LIMIT + 3):
        for who in (people["amir"], people["reza"], None):
            rows += [dict(title=f"دیروز {k}", due_at=j(1405, 9, 2, 10), all_day=False, assignee=who),
                     dict(title=f"صبح {k}", due_at=j(1405, 9, 3, 8, k % 60), all_day=False, assignee=who),
                     dict(title=f"عصر {k}", due_at=j(1405, 9, 3, 17), all_day=False, assignee=who),
                     dict(title=f"امروز {k}", due_at=j(1405, 9, 3), all_day=True, assignee=who)]
    Task.insert_many(rows).execute()
    for moment in (j(1405, 9, 3, 7, 0), j(1405, 9, 3, 8, 30), j(1405, 9, 3, 12, 0), j(1405, 9, 4, 0, 0)):
        for user_id in (None, people["amir"]):
            d = dash.load(user_id, manager=True, at=moment)
            who = user_id
            assert len(d.overdue) == dash.SECTION_LIMIT
            assert d.counts["overdue"] == dash._count_overdue(moment, who), (moment, who)
            if d.counts["today"] >= dash.SECTION_LIMIT:
                assert d.counts["today"] == dash._count_today(moment, who), (moment, who)
    d = dash.load(None, manager=True, at=j(1405, 9, 3, 8, 30))
    n = dash.SECTION_LIMIT + 3
    assert d.counts["overdue"] == 3 * n + 3 * 30                  # yesterday's, and 08:00–08:29 of today
    assert d.counts["today"] == 3 * 2 * n + 3 * (n - 30)         # all-day, the evening's, 08:30 onwards
