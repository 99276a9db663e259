"""The funnel is counted by the database (grouped queries and a window function); here it is compared with a
plain Python reading of the same rows, on a few hundred random deals with untidy histories (skipped stages,
moves back, deals reopened after a win, several moves in one second, a stage since deactivated, deals with no
history at all), under several filters, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from app.pipeline import reports as pr
from app.pipeline import stages as pst
from models.base import db, is_postgres
from models.pipeline import Opportunity, PipelineStage, StageChange
from tests.pipeline.helpers import make_customer, make_user

AT = dt.datetime(2026, 6, 1, 12, 0, 0)            # «now» for the visits still open
SOURCES = ("اینستاگرام", "نمایشگاه", "تماس ورودی", "")


def _seed(rng: random.Random, n: int) -> None:
    users = [make_user(f"کارشناس {i}", f"rep{i}") for i in range(3)] + [None]
    customers = [make_customer(f"مشتری {i}") for i in range(5)]
    stages = pst.list_stages()
    open_ids = [s.id for s in stages if s.is_open]
    won_id = next(s.id for s in stages if s.is_won)
    lost_id = next(s.id for s in stages if s.is_lost)
    every = [s.id for s in stages]
    opps, history = [], []
    for oid in range(1, n + 1):
        created = AT - dt.timedelta(days=rng.randint(0, 150), seconds=rng.randint(0, 86_399))
        status = rng.choice(("open", "open", "won", "lost"))
        path = [rng.choice(open_ids)] + [rng.choice(every) for _ in range(rng.randint(0, 4))]
        if status == "won":
            path.append(won_id)
        elif status == "lost":
            path.append(lost_id)
        elif path[-1] not in open_ids:                     # reopened after a win or a loss
            path.append(rng.choice(open_ids))
        if rng.random() < 0.08:                            # written before the history was kept
            path = path[-1:]
            moments = []
        else:
            moments, t = [], created
            for _ in path:
                moments.append(t)
                # a third of the moves in the same second as the one before (a drop right after creation)
                t = t + dt.timedelta(seconds=0 if rng.random() < 0.3 else rng.randint(1, 20 * 86_400))
            moments = [min(m, AT) for m in moments]
        closed = moments[-1].date() if moments and status != "open" else (created.date() if status != "open"
                                                                           else None)
        opps.append({"id": oid, "customer": rng.choice(customers), "title": f"فرصت {oid}",
                     "value": rng.choice((0, 15_000_000, 80_000_015, 250_000_000, 1_600_000_000)),
                     "probability": rng.randint(0, 100), "stage": path[-1], "status": status,
                     "owner": rng.choice(users), "source": rng.choice(SOURCES), "created_at": created,
                     "stage_changed_at": moments[-1] if moments else created, "closed_at": closed})
        prev = None
        for stage, when in zip(path if moments else [], moments, strict=False):
            history.append({"opportunity": oid, "from_stage": prev, "to_stage": stage, "at": when})
            prev = stage
    rng.shuffle(history)                                  # written out of order: the moments decide
    with db.atomic():
        for lo in range(0, len(opps), 200):
            Opportunity.insert_many(opps[lo:lo + 200]).execute()
        for lo in range(0, len(history), 200):
            StageChange.insert_many(history[lo:lo + 200]).execute()
    if is_postgres():
        db.execute_sql("SELECT setval(pg_get_serial_sequence('opportunity', 'id'), (SELECT MAX(id) FROM opportunity))")
    # a stage that deals went through, then deactivated: no longer in the funnel, its visits not shown
    PipelineStage.update(active=False).where(PipelineStage.id == open_ids[2]).execute()


def _python_funnel(date_from, date_to, owner_id, source):
    """The funnel read row by row, as the module's docstring defines it."""
    order = pst.funnel_order()
    rank = {s.id: i for i, s in enumerate(order)}
    opps = {}
    for o in Opportunity.select():
        if date_from and o.created_at < dt.datetime.combine(date_from, dt.time()):
            continue
        if date_to and o.created_at >= dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()):
            continue
        if (owner_id and o.owner_id != owner_id) or (source and o.source != source):
            continue
        opps[o.id] = o
    moves = defaultdict(list)
    for h in StageChange.select().order_by(StageChange.id):
        if h.opportunity_id in opps:
            moves[h.opportunity_id].append(h)
    reached = [[0, 0] for _ in order]
    visits = defaultdict(list)
    for oid, o in opps.items():
        hist = sorted(moves[oid], key=lambda h: (h.at, h.id))
        top = max((rank[h.to_stage_id] for h in hist if h.to_stage_id in rank), default=-1)
        for i, s in enumerate(order):
            if o.status == "won" or (s.is_open and i <= top):
                reached[i][0] += 1
                reached[i][1] += o.value
        for k, h in enumerate(hist):
            if k + 1 < len(hist):
                end = hist[k + 1].at
            elif o.status == "open":
                end = AT
            else:
                continue
            visits[h.to_stage_id].append(int((end - h.at).total_seconds()))
    rows = []
    for i, s in enumerate(order):
        here = [o for o in opps.values() if o.stage_id == s.id and (o.status == "open" or
                                                                    (o.status == "won" and s.is_won))]
        nxt = round(reached[i + 1][0] * 100 / reached[i][0], 1) if i + 1 < len(order) and reached[i][0] else None
        v = visits.get(s.id)
        rows.append((s.id, s.name, reached[i][0], reached[i][1], len(here), sum(o.value for o in here),
                     (sum(o.value * o.probability for o in here) + 50) // 100, nxt,
                     round(sum(v) / 86400 / len(v), 1) if v else None))
    info = {"total": len(opps), "lost": sum(o.status == "lost" for o in opps.values()),
            "won": sum(o.status == "won" for o in opps.values())}
    return rows, info


def test_sql_funnel_equals_the_plain_reading(anydb):
    rng = random.Random(1405)
    _seed(rng, 400)
    reps = [u for (u,) in Opportunity.select(Opportunity.owner).distinct().tuples() if u]
    cases = [(None, None, None, None), (AT.date() - dt.timedelta(days=60), AT.date(), None, None),
             (None, AT.date() - dt.timedelta(days=30), reps[0], None), (None, None, None, "نمایشگاه"),
             (AT.date() - dt.timedelta(days=90), None, reps[1], "اینستاگرام")]
    for date_from, date_to, owner, source in cases:
        got, info = pr.funnel(date_from, date_to, owner, source, at=AT)
        want, want_info = _python_funnel(date_from, date_to, owner, source)
        assert [(r.stage_id, r.name, r.reached, r.reached_value, r.here, r.here_value, r.weighted, r.conversion,
                 r.avg_days) for r in got] == want, (date_from, date_to, owner, source)
        assert info == want_info
        assert info["total"] > 0
    # the whole office: every stage of the funnel was reached and visited by someone
    got, _info = pr.funnel(at=AT)
    assert all(r.reached and r.avg_days is not None for r in got if r.name != "برنده")


def test_learned_probabilities_follow_the_same_reach(anydb):
    """The stages' learned probabilities read the same grouped query: checked against the plain reading."""
    _seed(random.Random(7), 200)
    order = pst.funnel_order()
    rank = {s.id: i for i, s in enumerate(order)}
    top: dict[int, int] = {}
    for h in StageChange.select():
        if h.to_stage_id in rank:
            top[h.opportunity_id] = max(top.get(h.opportunity_id, -1), rank[h.to_stage_id])
    closed = {o.id: o.status for o in Opportunity.select().where(Opportunity.status != "open")}
    want = {}
    for s in order:
        if not s.is_open:
            continue
        reached = [st for oid, st in closed.items() if st == "won" or top.get(oid, -1) >= rank[s.id]]
        won = reached.count("won")
        if len(reached) >= 10:
            want[s.id] = (round((won + 1) * 100 / (len(reached) + 2)), won, len(reached))
    assert pst.learned_probabilities() == want
    assert len(want) >= 3


def test_funnel_of_an_office_without_deals(anydb):
    rows, info = pr.funnel(at=AT)
    assert info == {"total": 0, "lost": 0, "won": 0}
    assert [r.reached for r in rows] == [0] * len(rows) and all(r.avg_days is None for r in rows)
