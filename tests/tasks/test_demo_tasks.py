"""The demo seeder for calls, tasks, referrals and meetings: bulk rows that the services read back correctly."""
from __future__ import annotations

import random

from app.core import clock
from app.demo.tasks import seed_tasks
from app.reports import dashboard
from app.tasks import service as ts
from models.calls import Call
from models.core import Activity
from models.tasks import Meeting, Task, TaskReferral
from tests.tasks.helpers import customer, j, user


def test_seed_tasks_is_consistent(anydb):
    clock.set_now(j(1405, 9, 3, 10, 0))
    users = [user(n, u) for n, u in (("مدیر دفتر", "admin"), ("سارا محمدی", "sara"), ("رضا کریمی", "reza"),
                                       ("مریم احمدی", "maryam"), ("امیر حسینی", "amir"))]
    custs = [customer("علی", f"رضایی{i}", f"0912{i:07d}") for i in range(60)]
    counts = seed_tasks(random.Random(5), custs, users, 400, 600)
    assert counts["tasks"] == Task.select().count() == 400
    assert counts["calls"] == Call.select().count() == 600
    assert counts["referrals"] == TaskReferral.select().count() > 0
    assert Meeting.select().count() == counts["meetings"]
    # every call is on its customer's timeline, with the call's id
    assert Activity.select().where(Activity.ref_table == "call").count() == 600
    # the latest referral copied on the task matches the chain's end
    t = Task.select().where(Task.referral_count > 0).first()
    chain = ts.referral_chain(t.id)
    assert len(chain) == t.referral_count and chain[-1].to_id == t.assignee_id
    # ids continue after the bulk insert (PostgreSQL's sequence moved past the explicit ids)
    new = ts.create_task({"title": "پس از داده نمونه"}, user=users[2])
    assert new.id == 401
    d = dashboard.load(users[2])
    assert d.counts["today"] >= 0 and all(r.status == "open" for r in d.overdue + d.today)


def test_demo_office_keeps_office_hours_and_no_future(db):
    """No call that has not happened yet, no task written or due in the small hours (08:00–19:00 only)."""
    import datetime as dt

    from app.core import clock
    from app.demo.customers import seed
    from models.calls import Call
    from models.tasks import Task

    clock.set_now(dt.datetime(2026, 11, 24, 10, 30))
    try:
        seed(customers=120, calls=600, tasks=400, invoices=0)
        at = clock.now()
        calls = list(Call.select(Call.started_at))
        assert calls and all(c.started_at <= at for c in calls)
        assert all(8 <= c.started_at.hour <= 18 for c in calls)
        tasks = list(Task.select(Task.due_at, Task.all_day, Task.created_at, Task.done_at))
        assert all(8 <= t.due_at.hour <= 18 for t in tasks if not t.all_day)
        assert all(8 <= t.created_at.hour <= 18 and t.created_at <= at for t in tasks)
        assert all(t.done_at is None or t.done_at >= t.created_at for t in tasks)
    finally:
        clock.set_now(None)
