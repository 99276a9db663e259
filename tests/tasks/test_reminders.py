"""Reminders before tasks and meetings, snooze/done, missed while the app was closed, birthdays by Jalali date."""
from __future__ import annotations

from app import settings
from app.core import clock
from app.tasks import meetings, reminders
from app.tasks import service as ts
from models.tasks import Reminder, Task
from tests.tasks.helpers import customer, j, user


def test_task_reminder_fires_before_due_and_follows_edits(anydb):
    u = user("رضا کریمی", "reza")
    clock.set_now(j(1405, 9, 3, 8, 0))
    t = ts.create_task({"title": "تماس با دفتر مرکزی", "due_at": j(1405, 9, 3, 10, 0), "remind_before": 15}, user=u)
    clock.set_now(j(1405, 9, 3, 9, 44))
    assert reminders.due(u) == []
    clock.set_now(j(1405, 9, 3, 9, 45))
    (r,) = reminders.due(u)
    assert (r.task_id, r.kind, r.title, r.event_at) == (t.id, "task", "تماس با دفتر مرکزی", j(1405, 9, 3, 10, 0))
    ts.update_task(t.id, {"due_at": j(1405, 9, 3, 12, 0)})
    assert reminders.due(u) == []
    assert Reminder.select().where(Reminder.state == "pending").count() == 1
    # referring moves the reminder to the new assignee
    m = user("مریم احمدی", "maryam")
    ts.refer(t.id, m, "لطفاً شما پیگیری کنید", by_user=u)
    clock.set_now(j(1405, 9, 3, 11, 50))
    assert reminders.due(u) == [] and [x.task_id for x in reminders.due(m)] == [t.id]


def test_snooze_done_and_dismiss(anydb):
    u = user("رضا کریمی", "reza")
    clock.set_now(j(1405, 9, 3, 9, 0))
    t = ts.create_task({"title": "ارسال کاتالوگ", "due_at": j(1405, 9, 3, 9, 30), "remind_before": 30}, user=u)
    (r,) = reminders.due(u)
    reminders.snooze(r.id, 10)
    assert reminders.due(u) == []
    clock.set_now(j(1405, 9, 3, 9, 10))
    (r,) = reminders.due(u)
    ts.reminder_done(r.id, user=u)
    assert Task.get_by_id(t.id).status == "done" and reminders.due(u) == []
    ts.set_done(t.id, False)            # reopened: the alarm is set again
    assert len(reminders.due(u)) == 1
    reminders.dismiss(reminders.due(u)[0].id)
    assert reminders.due(u) == [] and Task.get_by_id(t.id).status == "open"


def test_reminders_missed_while_closed_show_at_next_start(anydb):
    """The app ran on 3 Azar, was closed overnight; two alarms fell due while closed; it starts on 4 Azar."""
    u = user("رضا کریمی", "reza")
    c = customer()
    clock.set_now(j(1405, 9, 3, 17, 0))
    ts.create_task({"title": "تماس شب", "due_at": j(1405, 9, 3, 20, 0), "remind_before": 0}, user=u)
    meetings.create_meeting({"customer_id": c, "start_at": j(1405, 9, 4, 8, 30), "subject": "بازدید انبار",
                             "status": "planned", "remind_before": 60}, user=u)
    ts.create_task({"title": "کار بعدازظهر", "due_at": j(1405, 9, 4, 15, 0), "remind_before": 15}, user=u)
    assert reminders.due(u) == []
    started = j(1405, 9, 4, 8, 0)       # the next start, after the app was closed
    clock.set_now(started)
    items = reminders.due(u, started_at=started)
    assert [(i.kind, i.title, i.missed) for i in items] == [("task", "تماس شب", True),
                                                            ("meeting", "بازدید انبار", True)]
    assert items[1].customer_name == "علی رضایی"
    clock.set_now(j(1405, 9, 4, 14, 45))
    later = reminders.due(u, started_at=started)
    assert [(i.title, i.missed) for i in later][-1] == ("کار بعدازظهر", False)


def test_reminders_for_nobody_reach_everyone_but_others_do_not(anydb):
    a, b = user("رضا کریمی", "reza"), user("مریم احمدی", "maryam")
    clock.set_now(j(1405, 9, 3, 9, 0))
    ts.create_task({"title": "کار رضا", "due_at": j(1405, 9, 3, 9, 0), "remind_before": 0}, user=a)
    ts.create_task({"title": "کار همه", "due_at": j(1405, 9, 3, 9, 0), "remind_before": 0, "assignee_id": None},
                   user=None)
    assert sorted(i.title for i in reminders.due(a)) == ["کار رضا", "کار همه"]
    assert [i.title for i in reminders.due(b)] == ["کار همه"]
    assert len(reminders.due(None)) == 2


def test_birthdays_by_jalali_date_and_esfand_30(anydb):
    # born 1369/09/03 (Gregorian 1990-11-24); born on Esfand 30 of leap 1399; married 1380/01/01
    a = customer("علی", "رضایی", "09121111111", birthday=j(1369, 9, 3).date())
    b = customer("سارا", "محمدی", "09122222222", birthday=j(1399, 12, 30).date())
    c = customer("حمید", "نوری", "09123333333", anniversary=j(1380, 1, 1).date())
    on = {(i.customer_id, i.kind, i.years) for i in reminders.dates_on(j(1405, 9, 3).date())}
    assert on == {(a, "birthday", 36)}
    assert reminders.dates_on(j(1405, 9, 4).date()) == []
    # 1404 is a common year: the Esfand 30 birthday is remembered on Esfand 29
    assert [(i.customer_id, i.years) for i in reminders.dates_on(j(1404, 12, 29).date())] == [(b, 5)]
    # 1403 is a leap year: on Esfand 30 itself, and not the day before
    assert [i.customer_id for i in reminders.dates_on(j(1403, 12, 30).date())] == [b]
    assert reminders.dates_on(j(1403, 12, 29).date()) == []
    (ann,) = reminders.dates_on(j(1405, 1, 1).date())
    assert (ann.customer_id, ann.kind, ann.years, ann.phone) == (c, "anniversary", 25, "09123333333")
    assert "سالگرد ازدواج" in ann.label and "۲۵" in ann.label


def test_birthday_reminders_catch_up_days_the_app_was_closed(anydb):
    a = customer("علی", "رضایی", "09121111111", birthday=j(1369, 9, 3).date())
    b = customer("نگار", "کاظمی", "09124444444", birthday=j(1375, 9, 5).date())
    clock.set_now(j(1405, 9, 2, 9, 30))
    assert reminders.generate_date_reminders() == 0
    assert settings.get("reminders.generated_through") == j(1405, 9, 2).date().isoformat()
    clock.set_now(j(1405, 9, 5, 10, 0))   # closed on 3 and 4 Azar
    assert reminders.generate_date_reminders() == 2
    assert reminders.generate_date_reminders() == 0          # idempotent
    items = reminders.due(None, started_at=j(1405, 9, 5, 9, 59))
    assert [(i.customer_id, i.kind) for i in items] == [(a, "birthday"), (b, "birthday")]
    assert items[0].missed and "۳ آذر ۱۴۰۵" in items[0].when_text


def test_birthdays_of_a_crowd_match_a_day_by_day_jalali_check(anydb):
    """Four hundred random birth dates since 1900 (a few with a time of day stored, as old imports left them):
    on each of 40 days, dates_on lists exactly those whose Jalali month and day are that day's (an Esfand 30
    birthday counted on Esfand 29 of a common year), with whole years."""
    import datetime as dt
    import random

    import jdatetime

    from models.core import Customer

    rng = random.Random(1405)
    born: dict[int, dt.date] = {}
    start = dt.date(1900, 1, 1)
    for i in range(400):
        d = start + dt.timedelta(days=rng.randrange((dt.date(2026, 12, 31) - start).days))
        born[customer(f"نفر{i}", "آزمون", f"0912{i:07d}", birthday=d)] = d
    Customer.update(birthday=dt.datetime(1990, 11, 24, 8, 30)).where(Customer.id == next(iter(born))).execute()
    born[next(iter(born))] = dt.date(1990, 11, 24)
    days = [dt.date(2026, 3, 19), dt.date(2025, 3, 19), dt.date(2025, 3, 20)]       # Esfand 29/30 around Nowruz
    days += [dt.date(2026, 12, 5) - dt.timedelta(days=rng.randrange(3000)) for _ in range(37)]
    matched = 0
    for day in days:
        jd = jdatetime.date.fromgregorian(date=day)
        common_29 = (jd.month, jd.day) == (12, 29) and not jd.isleap()
        want = set()
        for cid, d in born.items():
            o = jdatetime.date.fromgregorian(date=d)
            if d <= day and ((o.month, o.day) == (jd.month, jd.day) or (common_29 and (o.month, o.day) == (12, 30))):
                want.add((cid, jd.year - o.year))
        got = {(i.customer_id, i.years) for i in reminders.dates_on(day) if i.kind == "birthday"}
        assert got == want, day
        matched += len(got)
    assert matched >= 15                                   # the days do hold birthdays


def test_a_day_of_many_occasions_is_cut_counted_and_scoped(anydb):
    """The dashboard's card reads the first occasions of the day, the person's own customers first, and counts
    the rest in the database: the cut list is the start of the whole one, at every length, and a role that sees
    only its own customers sees neither colleagues' occasions nor their count."""
    reza, maryam = user("رضا کریمی", "reza"), user("مریم احمدی", "maryam")
    day = j(1405, 9, 3).date()
    owners = [reza, maryam, None]
    names = ["بهرام", "آرش", "ژاله", "سیما", "آرش", "پرویز", "کاوه", "تینا"]
    born = {customer(n, f"آزمون{i}", f"0912{i:07d}", birthday=j(1360 + i, 9, 3).date(),
                     assigned_to=owners[i % 3]): owners[i % 3] for i, n in enumerate(names)}
    married = {customer(f"زوج{i}", "آزمون", f"0935{i:07d}", anniversary=j(1390 + i, 9, 3).date(),
                        assigned_to=owners[i % 3]): owners[i % 3] for i in range(3)}
    customer("ناهید", "دیروز", "09130000000", birthday=j(1370, 9, 2).date())
    whole = reminders.dates_on(day, mine=reza)
    assert len(whole) == 11 == reminders.dates_and_total(day, limit=0)[1]
    assert [i.kind for i in whole] == ["birthday"] * 8 + ["anniversary"] * 3
    mine_first = [i.assigned_to == reza for i in whole[:8]]
    assert mine_first == sorted(mine_first, reverse=True) and sum(mine_first) == 3
    assert [i.name for i in whole if i.assigned_to == reza and i.kind == "birthday"] == \
        ["بهرام آزمون0", "سیما آزمون3", "کاوه آزمون6"]
    for limit in range(13):
        assert reminders.dates_and_total(day, limit=limit, mine=reza) == (whole[:limit], 11), limit
    assert {i.customer_id for i in reminders.dates_on(day)} == set(born) | set(married)
    # a sales rep who sees only their own customers and the unassigned ones
    own = ("own", maryam)
    seen = {cid for cid, owner in {**born, **married}.items() if owner in (maryam, None)}
    assert {i.customer_id for i in reminders.dates_on(day, scope=own, mine=maryam)} == seen
    assert reminders.dates_and_total(day, limit=0, scope=own)[1] == len(seen) == 7
    cut, total = reminders.dates_and_total(day, limit=2, scope=own, mine=maryam)
    assert [i.customer_id for i in cut] == [i.customer_id for i in reminders.dates_on(day, scope=own, mine=maryam)][:2]
    assert total == 7
    assert reminders.dates_on(day, scope=("none", None)) == [] and reminders.dates_and_total(day, limit=0, scope=("none", None))[1] == 0


def test_the_days_occasions_are_read_from_their_index_alone(db, caplog):
    """The card's statement reads each date's index without the customers' rows (a million customers have a
    couple of thousand occasions a day, spread over the whole table), for everyone's customers and a rep's own,
    and the count alone too; a customer without the date is not in that index."""
    from tests.plans import logged_statement, plan

    reza = user("رضا کریمی", "reza")
    day = j(1405, 9, 3).date()
    for i in range(6):
        customer(f"نام{i}", "آزمون", f"0912{i:07d}", birthday=j(1360 + i, 9, 3).date(),
                 anniversary=j(1390 + i, 9, 3).date() if i % 2 else None, assigned_to=reza if i % 3 else None)
    customer("بی‌تاریخ", "آزمون", "09350000000")
    _planned_as_a_million_customers()
    from models.base import db as database

    for scope in (reminders.ALL_CUSTOMERS, ("own", reza)):
        for kind in ("birthday", "anniversary"):
            sql, params, _ = logged_statement(
                caplog, lambda scope=scope: reminders.dates_and_total(day, limit=20, scope=scope, mine=reza),
                f"c.{kind} AS occasion")
            got = plan(sql, params)
            assert f"COVERING INDEX customer_{kind}_card" in got and "SEARCH c USING INDEX" not in got, got
        where, params = reminders._dates_match("birthday", day, scope)
        got = plan(f'SELECT COUNT(*) FROM "customer" c WHERE {where}', params)
        assert "COVERING INDEX customer_birthday_card" in got, got
    assert database.execute_sql("SELECT COUNT(*) FROM customer INDEXED BY customer_anniversary_card "
                                "WHERE anniversary IS NOT NULL").fetchone() == (3,)


# The planner's statistics of the customer table at a million customers (half with a birthday, a fifth with a
# wedding anniversary), as models.statistics gathers them: the plan the office of that size gets.
_MILLION = {
    "customer_merged_into_id": "1000000 1000000", "customer_assigned_to_id": "1000000 200000",
    "customer_list_created": "1000000 1000000 2 1", "customer_list_company": "1000000 1000000 588 1",
    "customer_list_name": "1000000 1000000 237 1", "customer_report": "1000000 1000000 2 1 1 1",
    "customer_birthday_card": "500620 34 34 7 4 1 1 1", "customer_anniversary_card": "199604 19 19 4 3 1 1 1",
}


def _planned_as_a_million_customers() -> None:
    from models.base import db as database

    database.execute_sql("ANALYZE")
    database.execute_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'customer'")
    for _seq, name, *_rest in database.execute_sql("PRAGMA index_list(customer)").fetchall():
        width = len(database.execute_sql(f'PRAGMA index_info("{name}")').fetchall())
        stat = _MILLION.get(name, "1000000" + " 1" * width)
        database.execute_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('customer', ?, ?)", (name, stat))
    database.execute_sql("ANALYZE sqlite_schema")        # this connection reads them again
