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


def test_names_and_roles_are_read_afresh_through_the_kept_statement(people):
    """is_manager and user_name share one kept statement: each colleague gets their own row, an unknown id none,
    and a rename or a new role shows at the next reading."""
    from models.core import User

    assert [ts.user_name(people[k]) for k in ("reza", "maryam", "amir")] == ["رضا کریمی", "مریم احمدی", "امیر حسینی"]
    assert [ts.is_manager(people[k]) for k in ("reza", "maryam", "amir")] == [False, False, True]
    assert ts.user_name(999_999) == "" and ts.is_manager(999_999) is False
    assert ts.user_name(None) == "" and ts.is_manager(None) is True          # nobody signed in: everyone's
    User.update(name="رضا کریمی‌نژاد", role="manager").where(User.id == people["reza"]).execute()
    assert ts.user_name(people["reza"]) == "رضا کریمی‌نژاد" and ts.is_manager(people["reza"])
    assert ts.user_name(people["maryam"]) == "مریم احمدی" and not ts.is_manager(people["maryam"])


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
    import datetime as dt

    from app.reports import dashboard as dash
    from models.tasks import Task
    from tests.tasks.helpers import jd

    clock.set_now(j(1405, 9, 3, 7, 0))
    rows = []
    for k in range(dash.SECTION_LIMIT + 3):
        for who in (people["amir"], people["reza"], None):
            rows += [dict(title=f"دیروز {k}", due_at=j(1405, 9, 2, 10), all_day=False, assignee=who,
                          kind=("task", "call", "followup")[k % 3]),
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
        # the counts' statements are kept and given their values (models.sqlcache): what peewee counts with them
        day = j(*jd(moment))
        for who in (None, people["amir"], people["reza"], people["maryam"]):
            mine = (Task.assignee == who) if who else True
            assert dash._count_overdue(moment, who) == Task.select().where(
                ts.overdue_condition(moment), mine).count(), (moment, who)
            assert dash._count_today(moment, who) == Task.select().where(
                Task.status == "open", Task.due_at >= day, Task.due_at < day + dt.timedelta(days=1),
                ~ts.overdue_condition(moment), mine).count(), (moment, who)
            assert dash._count_calls_today(moment, who) == Task.select().where(
                Task.status == "open", Task.due_at < day + dt.timedelta(days=1), Task.kind.in_(["call", "followup"]),
                mine).count(), (moment, who)
    d = dash.load(None, manager=True, at=j(1405, 9, 3, 8, 30))
    n = dash.SECTION_LIMIT + 3
    assert d.counts["overdue"] == 3 * n + 3 * 30                  # yesterday's, and 08:00–08:29 of today
    assert d.counts["today"] == 3 * 2 * n + 3 * (n - 30)         # all-day, the evening's, 08:30 onwards


def test_every_inbox_filter_reads_what_peewee_builds_with_its_values(people):
    """list_tasks keeps one statement per shape of filter and puts the values in (models.sqlcache): for every
    shape, at two moments and with different values, the rows are those of the statement peewee builds with the
    values themselves, and the filter keeps its meaning (each row matches it)."""
    import datetime as dt
    import itertools

    from models.base import db

    other = customer("مریم", "کاظمی", "09351112233")
    at0 = j(1405, 9, 3, 10, 0)
    clock.set_now(at0 - dt.timedelta(days=3))
    for i, (who, kind, due, all_day, cust) in enumerate(itertools.product(
            (people["reza"], people["maryam"], None), ("call", "followup", "task"),
            (at0 - dt.timedelta(days=2), at0 - dt.timedelta(hours=1), j(1405, 9, 3), at0 + dt.timedelta(days=3),
             None), (False, True), (people["ali"], other, None))):
        if due is None and all_day:
            continue
        t = ts.create_task({"title": f"کار {i} سفارش" if i % 3 else f"کار {i}", "kind": kind, "due_at": due,
                            "all_day": all_day, "customer_id": cust, "assignee_id": who}, user=people["amir"])
        if i % 7 == 0:
            ts.set_done(t.id, True, user=people["amir"])
    filters = [ts.InboxFilter(user_id=u, status=s, due=d, kinds=k, customer_id=c, text=x, limit=lim)
               for u, s, d, k, c, x, lim in itertools.product(
                   (None, people["reza"]), ("open", "done", "all"), tuple(ts.DUE_FILTERS),
                   ((), ("call", "followup")), (None, people["ali"]), ("", "مریم کاظمی"), (None, 4))]
    filters += [ts.calls_today_filter(people["maryam"]), ts.calls_today_filter(None)]
    seen = 0
    for at in (at0, at0 + dt.timedelta(days=1, hours=3)):
        for f in filters:
            rows = ts.list_tasks(f, at)
            got = [r.id for r in rows]
            shape_values = []            # peewee building the same statement with the real values
            day = dt.datetime.combine(at.date(), dt.time())
            due = "today_overdue" if f.calls_only and f.due == "all" else f.due
            kinds = list(f.kinds or (("call", "followup") if f.calls_only else ()))
            tokens = ts.search_key(f.text).split(" ") if f.text else []
            shape_values += [f.user_id] if f.user_id is not None else []
            shape_values += [f.status] if f.status in ("open", "done", "cancelled") else []
            shape_values += kinds + ([f.customer_id] if f.customer_id else [])
            shape_values += {"today": [day, day + dt.timedelta(days=1)], "overdue": [at, day],
                             "today_overdue": [day + dt.timedelta(days=1)],
                             "week": [day + dt.timedelta(days=8)]}.get(due, [])
            shape_values += tokens + ([f.limit] if f.limit else [])
            shape = (f.user_id is not None, f.status in ("open", "done", "cancelled"), len(kinds),
                     bool(f.customer_id), due, len(tokens), f.status == "done", bool(f.limit))
            want = [r[0] for r in db.execute(ts._inbox_query(shape, shape_values)).fetchall()]
            assert got == want, (f, at)
            for r in rows:
                assert f.user_id is None or r.assignee_id == f.user_id
                assert f.status == "all" or r.status == f.status
                assert not kinds or r.kind in kinds
                assert not f.customer_id or r.customer_id == f.customer_id
                assert due != "none" or r.due_at is None
                assert due != "overdue" or r.overdue
            seen += len(got)
    assert seen > 1000                      # the filters do find rows


def test_the_dashboards_call_cards_and_their_totals(people):
    """The unhandled and missed calls of the last week, newest first, at most SECTION_LIMIT each, with the totals
    behind them: as peewee reads them with the values themselves."""
    import datetime as dt

    from app.reports import dashboard as dash
    from models.calls import Call

    at = j(1405, 9, 10, 12, 0)
    rows = []
    for k in range(6 * dash.SECTION_LIMIT + 20):
        rows.append(dict(number=f"0912000{k:04d}", direction=("in", "in", "out")[k % 3],
                         state=("missed", "answered", "ended")[k % 3 if k % 5 else 0], handled=k % 4 == 0,
                         started_at=at - dt.timedelta(minutes=k * 35), customer=people["ali"] if k % 2 else None))
    Call.insert_many(rows).execute()
    for missed in (True, False):
        listed, total = dash._calls(at, missed, None)
        cond = ((Call.handled == False) & (Call.started_at >= at - dt.timedelta(days=dash.RECENT_CALL_DAYS))  # noqa: E712
                & (Call.direction == "in") & ((Call.state == "missed") if missed else (Call.state != "missed")))
        want = [c.id for c in Call.select(Call.id).where(cond).order_by(Call.started_at.desc())]
        assert [c.id for c in listed] == want[:dash.SECTION_LIMIT]
        assert total == len(want)
        assert all(c.name == "علی رضایی" for c in listed if c.customer_id)
        assert dash.SECTION_LIMIT < total < len(rows)       # the totals are counted, and old ones left out


def test_a_reps_dashboard_lists_and_counts_only_the_occasions_their_role_sees(people):
    """A sales rep sees their own customers and the unassigned ones: the dashboard's birthdays card neither lists
    nor counts a colleague's customers (their names and numbers), past its limit too; an administrator's does."""
    from app.reports import dashboard as dash
    from tests.office.helpers import as_user

    clock.set_now(j(1405, 9, 3, 8, 0))
    owners = {"reza": people["reza"], "maryam": people["maryam"], "none": None}
    made = {k: [customer(f"{k}{i:02d}", "تولدی", f"0913{n:03d}{i:04d}", birthday=j(1370, 9, 3).date(),
                         assigned_to=owner) for i in range(dash.SECTION_LIMIT)]
            for n, (k, owner) in enumerate(owners.items())}
    with as_user(people["reza"]):
        d = dash.load(people["reza"])
    listed = {i.customer_id for i in d.dates}
    assert len(d.dates) == dash.SECTION_LIMIT and d.counts["dates"] == 2 * dash.SECTION_LIMIT
    assert listed == set(made["reza"])                       # their own first
    assert not listed & set(made["maryam"])
    boss = user("مدیر سیستم", "boss", role="admin")
    with as_user(boss):
        d = dash.load(boss)
    assert d.counts["dates"] == 3 * dash.SECTION_LIMIT and len(d.dates) == dash.SECTION_LIMIT
