"""Recurrence in the Jalali calendar: month lengths, Esfand 30 in leap years, time of day kept (no DST)."""
from __future__ import annotations

import datetime as dt

from app.core import clock
from app.tasks import service as ts
from models.tasks import Task
from tests.tasks.helpers import j, jd, user


def test_monthly_first_of_month_is_first_of_each_jalali_month():
    occ = ts.occurrences(j(1403, 11, 1, 9, 0), "monthly", 5)
    assert [jd(o) for o in occ] == [(1403, 11, 1), (1403, 12, 1), (1404, 1, 1), (1404, 2, 1), (1404, 3, 1)]
    assert all(o.time() == dt.time(9, 0) for o in occ)


def test_monthly_31st_clamps_in_short_months_and_comes_back():
    occ = ts.occurrences(j(1403, 5, 31, 10, 30), "monthly", 10)
    assert [jd(o) for o in occ] == [
        (1403, 5, 31), (1403, 6, 31), (1403, 7, 30), (1403, 8, 30), (1403, 9, 30), (1403, 10, 30),
        (1403, 11, 30), (1403, 12, 30), (1404, 1, 31), (1404, 2, 31)]


def test_monthly_30th_in_esfand_of_common_year_is_29th():
    occ = ts.occurrences(j(1404, 10, 30), "monthly", 4)
    assert [jd(o) for o in occ] == [(1404, 10, 30), (1404, 11, 30), (1404, 12, 29), (1405, 1, 30)]


def test_yearly_esfand_30_in_leap_years_only():
    occ = ts.occurrences(j(1399, 12, 30, 8, 0), "yearly", 10)
    days = [jd(o) for o in occ]
    assert days == [(1399, 12, 30), (1400, 12, 29), (1401, 12, 29), (1402, 12, 29), (1403, 12, 30),
                    (1404, 12, 29), (1405, 12, 29), (1406, 12, 29), (1407, 12, 29), (1408, 12, 30)]


def test_weekly_and_daily_cross_nowruz_without_dst_shift():
    # Iran dropped DST in 1402: 24 hours apart every day, including around the old spring-forward date.
    occ = ts.occurrences(j(1404, 12, 28, 23, 30), "daily", 4)
    assert [jd(o) for o in occ] == [(1404, 12, 28), (1404, 12, 29), (1405, 1, 1), (1405, 1, 2)]
    assert all(b - a == dt.timedelta(days=1) for a, b in zip(occ, occ[1:], strict=False))
    wk = ts.occurrences(j(1405, 1, 1, 9), "weekly", 3, interval=2)
    assert [b - a for a, b in zip(wk, wk[1:], strict=False)] == [dt.timedelta(days=14)] * 2


def test_clock_is_iran_time_all_year(monkeypatch):
    monkeypatch.setenv("CRM_TIMEZONE", "Asia/Tehran")
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Tehran")
    for month in (1, 4, 7, 10):   # summer and winter: the same +03:30 since 1402
        assert dt.datetime(2025, month, 15, 12, tzinfo=tz).utcoffset() == dt.timedelta(hours=3, minutes=30)


def test_done_recurring_task_spawns_next_occurrence(anydb):
    u = user("رضا کریمی", "reza")
    clock.set_now(j(1403, 6, 31, 8, 0))
    t = ts.create_task({"title": "پرداخت اجاره", "due_at": j(1403, 6, 31, 9, 0), "recurrence": "monthly"}, user=u)
    ts.set_done(t.id, True, user=u)
    nxt = Task.get_by_id(Task.get_by_id(t.id).next_task)
    assert jd(nxt.due_at) == (1403, 7, 30) and nxt.due_at.time() == dt.time(9, 0)
    assert nxt.status == "open" and nxt.series == t.id and nxt.assignee_id == u
    # done again on time: back to the 31st in Farvardin after the short months
    clock.set_now(j(1403, 7, 30, 9, 5))
    ts.set_done(nxt.id, True, user=u)
    n2 = Task.get_by_id(Task.get_by_id(nxt.id).next_task)
    assert jd(n2.due_at) == (1403, 8, 30)


def test_late_done_skips_past_occurrences(anydb):
    u = user("رضا کریمی", "reza")
    clock.set_now(j(1404, 1, 10, 8))
    t = ts.create_task({"title": "گزارش روزانه", "due_at": j(1404, 1, 10, 17), "recurrence": "daily"}, user=u)
    clock.set_now(j(1404, 1, 14, 12))
    ts.set_done(t.id, True, user=u)
    nxt = Task.get_by_id(Task.get_by_id(t.id).next_task)
    assert jd(nxt.due_at) == (1404, 1, 14) and nxt.due_at.hour == 17


def test_undone_removes_untouched_next_occurrence_and_until_stops_series(anydb):
    u = user("رضا کریمی", "reza")
    clock.set_now(j(1404, 1, 1, 8))
    t = ts.create_task({"title": "تماس ماهانه", "due_at": j(1404, 1, 1, 10), "recurrence": "monthly",
                        "recur_until": j(1404, 1, 20).date()}, user=u)
    ts.set_done(t.id, True, user=u)
    assert Task.get_by_id(t.id).next_task is None          # the next one would be after the end date
    t2 = ts.create_task({"title": "هفتگی", "due_at": j(1404, 1, 1, 10), "recurrence": "weekly"}, user=u)
    ts.set_done(t2.id, True, user=u)
    spawned = Task.get_by_id(t2.id).next_task
    assert Task.get_or_none(Task.id == spawned) is not None
    ts.set_done(t2.id, False, user=u)
    assert Task.get_or_none(Task.id == spawned) is None
    assert Task.get_by_id(t2.id).status == "open"


def test_recurrence_needs_a_due_date(anydb):
    import pytest

    from app.core.errors import ValidationError

    with pytest.raises(ValidationError) as e:
        ts.create_task({"title": "بدون تاریخ", "recurrence": "yearly"})
    assert "recurrence" in e.value.errors
    assert Task.select().count() == 0
