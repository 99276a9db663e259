"""Stages the office defines: name, order, default probability, won/lost flags, rotting days.

Rules:
* at least one open stage, exactly the stages flagged won close a deal as won and those flagged lost as lost;
  a stage cannot be both; there must always be one won and one lost stage (the board's drop targets);
* a stage that holds opportunities (or appears in their history) is deactivated, never deleted;
* the funnel order is: open stages by position, then won stages (lost stages stand aside).

Learned probabilities (``learned_probabilities``): for each open stage s, among the closed opportunities (won
or lost) that *reached* s — their history went through s or through a later open stage, or they were won —
P(won | reached s) = (won + 1) / (closed + 2) (Laplace's rule of succession, so a stage with few closed
deals stays near 50 % rather than jumping to 0 or 100). Offered only when at least ``MIN_CLOSED`` deals
reached the stage; ``apply_learned_probabilities`` writes them as the stages' defaults (opportunities whose
probability was typed by hand keep theirs).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw

from app.core.errors import NotFound, UserError, ValidationError
from app.core.text import clean
from app.pipeline import access
from models import sqlcache
from models.base import db
from models.pipeline import LostReason, Opportunity, PipelineStage, StageChange
from models.writer import writes

MIN_CLOSED = 10


@dataclass(frozen=True)
class StageInfo:
    id: int
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    rot_days: int
    color: str
    active: bool

    @property
    def is_open(self) -> bool:
        return not (self.is_won or self.is_lost)


_STAGE_COLUMNS = (PipelineStage.id, PipelineStage.name, PipelineStage.position, PipelineStage.probability,
                  PipelineStage.is_won, PipelineStage.is_lost, PipelineStage.rot_days, PipelineStage.color,
                  PipelineStage.active)


def _stage_info(sid, name, position, probability, won, lost, rot, color, active) -> StageInfo:
    """A stage from _STAGE_COLUMNS' values, as a row or a model gives them (SQLite's booleans are 0/1)."""
    return StageInfo(sid, name, position, probability, bool(won), bool(lost), rot or 0, color or "", bool(active))


def _info(s: PipelineStage) -> StageInfo:
    return _stage_info(*(getattr(s, f.name) for f in _STAGE_COLUMNS))


def _stages_query(active_only: bool):
    q = PipelineStage.select(*_STAGE_COLUMNS).order_by(PipelineStage.position, PipelineStage.id)
    return q.where(PipelineStage.active == True) if active_only else q  # noqa: E712


def list_stages(active_only: bool = True) -> list[StageInfo]:
    """The stages in the funnel's order (read whenever the dashboard or the board is: the statement is kept)."""
    return [_stage_info(*row) for row in
            sqlcache.run(f"pipeline.stages.{active_only}", lambda: _stages_query(active_only)).fetchall()]

def funnel_order(stages: list[StageInfo] | None = None) -> list[StageInfo]:
    """Open stages by position, then the won stages."""
    stages = list_stages() if stages is None else stages
    return [s for s in stages if s.is_open] + [s for s in stages if s.is_won]


def get_stage(stage_id: int) -> StageInfo:
    s = PipelineStage.get_or_none(PipelineStage.id == stage_id)
    if s is None:
        raise NotFound("این مرحله پیدا نشد.")
    return _info(s)


def first_open_stage() -> StageInfo:
    for s in list_stages():
        if s.is_open:
            return s
    raise UserError("هیچ مرحله بازی برای فرصت‌های فروش تعریف نشده است؛ در تنظیمات مراحل یکی بسازید.")


def won_stage() -> StageInfo:
    for s in list_stages():
        if s.is_won:
            return s
    raise UserError("مرحله «برنده» تعریف نشده است.")


def lost_stage() -> StageInfo:
    for s in list_stages():
        if s.is_lost:
            return s
    raise UserError("مرحله «ازدست‌رفته» تعریف نشده است.")


def _check(name: str, probability, rot_days, is_won: bool, is_lost: bool) -> tuple[str, int, int]:
    errors: dict[str, str] = {}
    name = clean(name or "")
    if not name:
        errors["name"] = "نام مرحله را بنویسید."
    elif len(name) > 60:
        errors["name"] = "نام مرحله بیش از ۶۰ نویسه است."
    try:
        p = int(probability)
        if not 0 <= p <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["probability"] = "احتمال باید عددی بین ۰ و ۱۰۰ باشد."
        p = 0
    try:
        r = int(rot_days or 0)
        if r < 0 or r > 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors["rot_days"] = "روزهای راکد ماندن باید عددی بین ۰ و ۳۶۵۰ باشد."
        r = 0
    if is_won and is_lost:
        errors["is_won"] = "یک مرحله نمی‌تواند هم «برنده» باشد و هم «ازدست‌رفته»."
    if errors:
        raise ValidationError(errors)
    if is_won:
        p = 100
    if is_lost:
        p = 0
    return name, p, r


@writes
def save_stage(data: dict, stage_id: int | None = None) -> StageInfo:
    """data: name, probability, is_won, is_lost, rot_days, color, position (new stages go before won/lost)."""
    access.require_settings()
    is_won, is_lost = bool(data.get("is_won")), bool(data.get("is_lost"))
    name, p, r = _check(data.get("name", ""), data.get("probability", 10), data.get("rot_days", 0), is_won, is_lost)
    clash = PipelineStage.get_or_none((PipelineStage.name == name) & (PipelineStage.active == True))  # noqa: E712
    if clash and clash.id != stage_id:
        raise ValidationError({"name": f"مرحله‌ای به نام «{name}» هست."})
    if stage_id is None:
        if "position" in data:
            pos = int(data["position"])
        else:
            closing = [s.position for s in list_stages(False) if not s.is_open]
            pos = min(closing) if closing and not (is_won or is_lost) else \
                (max([s.position for s in list_stages(False)], default=-1) + 1)
        PipelineStage.update(position=PipelineStage.position + 1).where(PipelineStage.position >= pos).execute()
        s = PipelineStage.create(name=name, position=pos, probability=p, is_won=is_won, is_lost=is_lost,
                                 rot_days=r, color=data.get("color", ""))
    else:
        s = PipelineStage.get_or_none(PipelineStage.id == stage_id)
        if s is None:
            raise NotFound("این مرحله پیدا نشد.")
        was_won, was_lost = s.is_won, s.is_lost
        s.name, s.probability, s.is_won, s.is_lost, s.rot_days = name, p, is_won, is_lost, r
        s.color = data.get("color", s.color)
        s.save()
        if (was_won, was_lost) != (is_won, is_lost) and \
                Opportunity.select().where(Opportunity.stage == s.id).exists():
            raise UserError("این مرحله فرصت دارد؛ برنده یا ازدست‌رفته بودن آن را نمی‌توان تغییر داد.")
    _check_set()
    return _info(s)


def _check_set() -> None:
    stages = list_stages()
    if not any(s.is_open for s in stages):
        raise UserError("دست‌کم یک مرحله باز (نه برنده، نه ازدست‌رفته) لازم است.")
    if not any(s.is_won for s in stages):
        raise UserError("دست‌کم یک مرحله «برنده» لازم است.")
    if not any(s.is_lost for s in stages):
        raise UserError("دست‌کم یک مرحله «ازدست‌رفته» لازم است.")


@writes
def reorder_stages(ids: list[int]) -> None:
    """Give the stages these positions (0, 1, 2, … in the order given)."""
    access.require_settings()
    for i, sid in enumerate(ids):
        PipelineStage.update(position=i).where(PipelineStage.id == sid).execute()


@writes
def remove_stage(stage_id: int) -> None:
    """Delete an unused stage; deactivate a stage that opportunities or history refer to (needs it empty)."""
    access.require_settings()
    s = PipelineStage.get_or_none(PipelineStage.id == stage_id)
    if s is None:
        raise NotFound("این مرحله پیدا نشد.")
    if Opportunity.select().where(Opportunity.stage == s.id, Opportunity.status == "open").exists():
        raise UserError(f"مرحله «{s.name}» هنوز فرصت باز دارد؛ اول آن‌ها را به مرحله دیگری ببرید.")
    used = (Opportunity.select().where(Opportunity.stage == s.id).exists()
            or StageChange.select().where((StageChange.to_stage == s.id) | (StageChange.from_stage == s.id)).exists())
    if used:
        s.active = False
        s.save()
    else:
        s.delete_instance()
    _check_set()


# --- lost reasons -------------------------------------------------------------------------------------------

def lost_reasons(active_only: bool = True) -> list[tuple[int, str]]:
    q = LostReason.select().order_by(LostReason.position, LostReason.id)
    if active_only:
        q = q.where(LostReason.active == True)  # noqa: E712
    return [(r.id, r.name) for r in q]


@writes
def save_lost_reason(name: str, reason_id: int | None = None) -> int:
    access.require_settings()
    name = clean(name or "")
    if not name:
        raise ValidationError({"name": "علت را بنویسید."})
    clash = LostReason.get_or_none(LostReason.name == name)
    if clash and clash.id != reason_id:
        if not clash.active:
            clash.active = True
            clash.save()
        return clash.id
    if reason_id:
        LostReason.update(name=name).where(LostReason.id == reason_id).execute()
        return reason_id
    pos = (LostReason.select(LostReason.position).order_by(LostReason.position.desc()).scalar() or 0) + 1
    return LostReason.create(name=name, position=pos).id


# --- learned probabilities ----------------------------------------------------------------------------------

def reach_groups(narrow: Callable | None = None, order: list[StageInfo] | None = None) \
        -> dict[tuple[str, int], tuple[int, int]]:
    """How far the opportunities got, counted by the database: {(status, top): (count, Σ value)}, where top is
    the rank (in ``funnel_order``) of the furthest stage their history went through, -1 when none did.

    ``narrow(query)`` adds the caller's conditions on Opportunity (period, owner, source, status). An
    opportunity *reached* an open stage of rank r when it was won or its top ≥ r (skipping a stage counts as
    passing it); it reached a won stage when it was won."""
    order = funnel_order() if order is None else order
    narrow = narrow or (lambda q: q)
    if not order:
        q = narrow(Opportunity.select(Opportunity.status, pw.fn.COUNT(Opportunity.id),
                                      pw.fn.SUM(Opportunity.value))).group_by(Opportunity.status)
        return {(st, -1): (n, int(v or 0)) for st, n, v in db.execute(q).fetchall()}
    rank = pw.Case(StageChange.to_stage, [(s.id, i) for i, s in enumerate(order)])
    per_opp = (narrow(Opportunity.select(Opportunity.status, Opportunity.value, pw.fn.MAX(rank).alias("top"))
                      .join(StageChange, pw.JOIN.LEFT_OUTER, on=(StageChange.opportunity == Opportunity.id)))
               .group_by(Opportunity.id, Opportunity.status, Opportunity.value))
    t = per_opp.alias("t")
    q = (pw.Select([t], [t.c.status, t.c.top, pw.fn.COUNT(pw.SQL("*")), pw.fn.SUM(t.c.value)])
         .group_by(t.c.status, t.c.top))
    return {(st, -1 if top is None else int(top)): (n, int(v or 0)) for st, top, n, v in db.execute(q).fetchall()}


def reached(groups: dict[tuple[str, int], tuple[int, int]], order: list[StageInfo]) -> list[tuple[int, int]]:
    """(count, Σ value) of the opportunities that reached each stage of ``order`` (see ``reach_groups``)."""
    out = []
    for i, s in enumerate(order):
        n = v = 0
        for (status, top), (count, value) in groups.items():
            if status == "won" or (s.is_open and top >= i):
                n += count
                v += value
        out.append((n, v))
    return out


def learned_probabilities(min_closed: int = MIN_CLOSED) -> dict[int, tuple[int, int, int]]:
    """{open stage id: (learned %, won, closed)} for stages with at least `min_closed` closed deals that
    reached them (see the module's docstring for the rule)."""
    order = funnel_order()
    groups = reach_groups(lambda q: q.where(Opportunity.status != "open"), order)
    won = sum(n for (status, _top), (n, _v) in groups.items() if status == "won")
    out: dict[int, tuple[int, int, int]] = {}
    for s, (closed, _value) in zip(order, reached(groups, order), strict=True):
        if s.is_open and closed >= min_closed:
            out[s.id] = (round((won + 1) * 100 / (closed + 2)), won, closed)
    return out


@writes
def apply_learned_probabilities(min_closed: int = MIN_CLOSED) -> dict[int, int]:
    """Write the learned probabilities as the stages' defaults and re-derive the probability of open
    opportunities that follow their stage (not typed by hand). Returns {stage id: new %}."""
    access.require_settings()
    learned = learned_probabilities(min_closed)
    for sid, (p, _w, _c) in learned.items():
        PipelineStage.update(probability=p).where(PipelineStage.id == sid).execute()
        (Opportunity.update(probability=p)
         .where(Opportunity.stage == sid, Opportunity.status == "open",
                Opportunity.probability_manual == False)  # noqa: E712
         .execute())
    return {sid: v[0] for sid, v in learned.items()}
