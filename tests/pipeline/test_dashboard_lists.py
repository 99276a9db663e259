"""The dashboard's two opportunity lists (next step due, rotting) read through statements kept per shape
(models.sqlcache): for every role's view, every owner filter, several days and several rotting setups they give
exactly the rows of the statement peewee builds afresh with the values themselves, and the lists keep their
meaning (a rep never sees a colleague's deal on a colleague's customer). SQLite, and PostgreSQL where
CRM_TEST_POSTGRES_URL is set."""
from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from app.core import clock
from app.office import session
from app.pipeline import access
from app.pipeline import board as pb
from app.pipeline import stages as pst
from models.core import Customer
from models.pipeline import Opportunity, PipelineStage
from tests.office.helpers import as_user, make_user

DAY = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(anydb):
    clock.set_now(DAY)
    rep = make_user("رضا فروش", "reza", "sales")
    other = make_user("مینا فروش", "mina", "sales")
    boss = make_user("امیر مدیر", "amir", "manager")
    rng = random.Random(11)
    customers = {}
    for who, owner in (("rep", rep), ("other", other), ("none", None)):
        customers[who] = [Customer.create(first_name=f"مشتری {who}", last_name=str(i), search_text="x",
                                          sort_key="x", assigned_to=owner).id for i in range(3)]
    open_stages = [s.id for s in pst.list_stages() if s.is_open]
    closed = [s.id for s in pst.list_stages() if not s.is_open]
    for i in range(90):
        cust = rng.choice(customers[rng.choice(("rep", "other", "none"))])
        status = rng.choice(("open", "open", "open", "won", "lost"))
        stage = rng.choice(open_stages) if status == "open" else closed[status == "lost"]
        touched = DAY - dt.timedelta(days=rng.randrange(0, 40), hours=rng.randrange(0, 24))
        step_day = DAY.date() + dt.timedelta(days=rng.randrange(-10, 6)) if rng.random() < 0.8 else None
        Opportunity.create(customer=cust, title=f"فرصت {i}", stage=stage, status=status,
                           owner=rng.choice((rep, other, None)), next_step="تماس" if step_day else "",
                           next_step_date=step_day, value=rng.randrange(0, 10) * 1_000_000,
                           stage_changed_at=touched - dt.timedelta(days=rng.randrange(0, 5)),
                           last_activity_at=touched)
    yield {"rep": rep, "other": other, "boss": boss, "open_stages": open_stages}
    clock.set_now(None)


def _fresh_needing_step(user_id, at):
    """The statement as peewee builds it with the values in it (the code before statements were kept)."""
    stages = pb.all_stages()
    q = pb._query(pb.BoardFilter(owner_id=user_id)).where(Opportunity.status == "open",
                                                         Opportunity.next_step_date <= at.date())
    return pb._rows(q.order_by(Opportunity.next_step_date, Opportunity.id).limit(pb.DASHBOARD_LIMIT), at, stages)


def _fresh_rotting(user_id, at):
    stages = pb.all_stages()
    cond = None
    for s in stages.values():
        if s.rot_days and s.is_open:
            c = (Opportunity.stage == s.id) & (Opportunity.last_activity_at <= at - dt.timedelta(days=s.rot_days))
            cond = c if cond is None else (cond | c)
    if cond is None:
        return []
    q = pb._query(pb.BoardFilter(owner_id=user_id)).where(Opportunity.status == "open", cond)
    return pb._rows(q.order_by(Opportunity.last_activity_at, Opportunity.id).limit(pb.DASHBOARD_LIMIT), at, stages)


def _views(office):
    """Each way this desk may be looking: (name, context manager factory)."""
    class _Nobody:
        def __enter__(self):
            session.set_interactive(True)

        def __exit__(self, *exc):
            session.set_interactive(False)

    class _System:
        def __enter__(self):
            return None

        def __exit__(self, *exc):
            return None

    return [("system", _System), ("manager", lambda: as_user(office["boss"])),
            ("rep", lambda: as_user(office["rep"])), ("other rep", lambda: as_user(office["other"])),
            ("nobody signed in", _Nobody)]


def _visible(office, view: str, row) -> bool:
    """What each view may see of a deal, worked out from the rows themselves."""
    if view in ("system", "manager"):
        return True
    if view == "nobody signed in":
        return False
    me = office["rep"] if view == "rep" else office["other"]
    assigned = Customer.get_by_id(row.customer_id).assigned_to_id
    return row.owner_id == me or assigned in (me, None)


ROT_SETUPS = [(), (7,), (3, 10), (1, 5, 14, 30)]       # rot days given to the first open stages, the rest none


@pytest.mark.parametrize("rot", ROT_SETUPS, ids=lambda r: f"{len(r)} rotting")
def test_kept_statements_give_peewees_rows_for_every_view_owner_and_day(office, rot):
    open_stages = office["open_stages"]
    for i, sid in enumerate(open_stages):
        PipelineStage.update(rot_days=rot[i] if i < len(rot) else 0).where(PipelineStage.id == sid).execute()
    seen_due = seen_idle = 0
    for name, ctx in _views(office):
        for owner in (None, office["rep"], office["other"]):
            for days in (-3, 0, 4):
                at = DAY + dt.timedelta(days=days)
                with ctx():
                    due, idle = pb.needing_step(owner, at), pb.rotting(owner, at)
                    assert due == _fresh_needing_step(owner, at), (name, owner, days)
                    assert idle == _fresh_rotting(owner, at), (name, owner, days)
                    # the card's total past its limit: the same deals, each once (here the lists are whole)
                    assert len(due) < pb.DASHBOARD_LIMIT and len(idle) < pb.DASHBOARD_LIMIT
                    assert pb.count_needing_attention(owner, at) == len({r.id for r in due} | {r.id for r in idle})
                seen_due += len(due)
                seen_idle += len(idle)
                for r in due:
                    assert r.status == "open" and r.next_step_date <= at.date()
                    assert owner is None or r.owner_id == owner
                    assert _visible(office, name, r), (name, r)
                for r in idle:
                    assert r.status == "open" and r.rotting and r.idle_days >= pb.all_stages()[r.stage_id].rot_days
                    assert owner is None or r.owner_id == owner
                    assert _visible(office, name, r), (name, r)
                if name == "nobody signed in":
                    assert due == idle == []
    assert seen_due > 50                       # the lists were not empty: the comparison compared something
    assert seen_idle > (20 if rot else -1)


def test_a_rep_and_the_manager_get_different_rows_from_one_kept_statement(office):
    """The statement kept for «own» views must take the person as a value: the rep then the colleague, in
    turn, each see their own (and unassigned customers'), never the last one's."""
    at = DAY + dt.timedelta(days=2)
    with as_user(office["rep"]):
        mine = pb.needing_step(None, at)
    with as_user(office["other"]):
        theirs = pb.needing_step(None, at)
    with as_user(office["rep"]):
        again = pb.needing_step(None, at)
    with as_user(office["boss"]):
        everyone = pb.needing_step(None, at)
    assert mine == again and mine != theirs
    assert {r.id for r in mine} | {r.id for r in theirs} <= {r.id for r in everyone}
    assert len(everyone) > max(len(mine), len(theirs))
    assert access.customer_scope() == ("all", None)          # no one signed in at a script's desk: the system


def test_the_rows_are_the_same_objects_as_before(office):
    """OppRow fields read from the kept statement's raw tuples: names, owners, dates as dates, rotting flags."""
    PipelineStage.update(rot_days=7).where(PipelineStage.id == office["open_stages"][0]).execute()
    rows = pb.rotting(None, DAY) + pb.needing_step(None, DAY)
    assert rows
    for r in rows:
        d = dataclasses.asdict(r)
        assert isinstance(r.customer_name, str) and r.customer_name.startswith("مشتری")
        assert r.owner_name in ("", "رضا فروش", "مینا فروش")
        assert r.next_step_date is None or type(r.next_step_date) is dt.date
        assert d["stage_name"]
