"""What the board, the list, the customer file, the dashboard and the caller-ID popup read: plain rows built
from one query each.

* ``load_board(BoardFilter)`` → ``Board``: the active stages (funnel order of position), each column's count,
  total and weighted total (one grouped query over the whole column) and its first ``PAGE`` cards, soonest
  expected close first (one query for every column's first page); ``read_more(board, column)`` reads the
  column's next page after the last card read (keyset paging, so cards moved in the meantime are neither lost
  nor doubled). The board of 10,000 open opportunities reads a few hundred rows.
  Won/lost columns show what closed in the last ``closed_days`` days (older ones are the archive), or what
  closed inside the period when one is chosen. Open cards are filtered by expected close date.
* ``list_opportunities(BoardFilter)`` → rows of every status for the list view.
* ``open_opportunities_brief(customer_id)`` → the customer's open opportunities (for the popup and the file).
* ``needing_step(user_id)`` / ``rotting(user_id)`` → the dashboard's lists.

Rotting: an open opportunity whose stage has ``rot_days`` > 0 and that nobody touched (moved, edited, linked a
document) for at least that many days.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from app.core.clock import now
from app.office.users import names_by_id
from app.pipeline import access
from app.pipeline.stages import StageInfo, list_stages
from models import sqlcache
from models.base import as_date, db
from models.core import Customer, User
from models.pipeline import Opportunity, PipelineStage

DASHBOARD_LIMIT = 100
PAGE = 100                               # cards read per column at a time


@dataclass(slots=True)
class OppRow:
    id: int
    title: str
    customer_id: int
    customer_name: str
    value: int
    probability: int
    close_date: dt.date | None
    stage_id: int
    status: str
    owner_id: int | None
    owner_name: str
    source: str
    next_step: str
    next_step_date: dt.date | None
    days_in_stage: int
    rotting: bool
    closed_at: dt.date | None
    created_at: dt.datetime | None = None
    stage_name: str = ""
    idle_days: int = 0                   # days since anyone touched it (rotting is measured by this)

    @property
    def weighted(self) -> int:
        return (self.value * self.probability + 50) // 100


@dataclass
class BoardFilter:
    owner_id: int | None = None
    source: str | None = None
    date_from: dt.date | None = None         # expected close (open) / closed (won, lost)
    date_to: dt.date | None = None
    text: str = ""
    status: str | None = None                # the list view: "open" | "won" | "lost" | None (all)
    closed_days: int = 30
    customer_id: int | None = None


@dataclass
class Column:
    """A stage's cards read so far (``rows``, in board order) and the figures of the whole column."""

    stage: StageInfo
    rows: list[OppRow] = field(default_factory=list)
    count: int = 0                       # every card of the column under the filter, read or not
    total: int = 0                       # Σ value
    weighted_raw: int = 0                # Σ value × probability
    after: tuple | None = None           # the board-order key of the last card read from the database

    @property
    def weighted(self) -> int:
        """Σ value × probability / 100, rounded half-up once for the column."""
        return (self.weighted_raw + 50) // 100

    @property
    def unread(self) -> int:
        return max(0, self.count - len(self.rows))

    def extend(self, rows: list[OppRow], after: tuple | None, complete: bool) -> None:
        """Append a page read by ``read_more``; a column read to its end counts what it shows (another desk may
        have moved cards away meanwhile)."""
        self.rows.extend(rows)
        self.after = after
        if complete:
            self.count = len(self.rows)

    def add(self, r: OppRow, sign: int = 1) -> None:
        """Count a card in (or, sign -1, out of) the column's figures."""
        self.count += sign
        self.total += sign * r.value
        self.weighted_raw += sign * r.value * r.probability


@dataclass
class Board:
    columns: list[Column]
    at: dt.datetime
    filter: BoardFilter = field(default_factory=BoardFilter)

    def column_of(self, stage_id: int) -> Column | None:
        return next((c for c in self.columns if c.stage.id == stage_id), None)


def _narrow(q, f: BoardFilter, scope: tuple[str, int | None] | None = None):
    """The filter's conditions other than dates and status (the text search needs Customer joined), within
    what the person at this desk may see (`scope`: as access.scope takes it)."""
    q = access.scope(q, scope)
    if f.owner_id:
        q = q.where(Opportunity.owner == f.owner_id)
    if f.source:
        q = q.where(Opportunity.source == f.source)
    if f.customer_id:
        q = q.where(Opportunity.customer == f.customer_id)
    if f.text:
        from app.core.text import search_key

        for tok in search_key(f.text).split():
            q = q.where(Opportunity.title.contains(tok) | Customer.search_text.contains(tok))
    return q


def _customer_name():
    """The customer's display name made by the database (Customer joined): one string per row, not four."""
    person = pw.fn.TRIM(pw.fn.COALESCE(Customer.first_name, "").concat(" ").concat(
        pw.fn.COALESCE(Customer.last_name, "")))
    return pw.Case(None, [(((Customer.kind == "organisation") & (Customer.company != "")), Customer.company),
                          (person != "", person)], Customer.company)


def _query(f: BoardFilter, scope: tuple[str, int | None] | None = None):
    # "customer + 0": the join reads the opportunities by their own index (status) and looks each customer up
    # by its key, instead of walking every customer first (the planner's choice otherwise, 3× slower).
    q = (Opportunity.select(Opportunity.id, Opportunity.title, Opportunity.customer, _customer_name(),
                            Opportunity.value,
                            Opportunity.probability, Opportunity.close_date, Opportunity.stage, Opportunity.status,
                            Opportunity.owner, Opportunity.source, Opportunity.next_step,
                            Opportunity.next_step_date, Opportunity.stage_changed_at, Opportunity.last_activity_at,
                            Opportunity.closed_at)
         .join(Customer, on=(Customer.id == Opportunity.customer + 0)))
    return _narrow(q, f, scope)


def _rows(q, at: dt.datetime, stages: dict[int, StageInfo]) -> list[OppRow]:
    return _rows_of(db.execute(q).fetchall(), at, stages)


def _rows_of(rows: list[tuple], at: dt.datetime, stages: dict[int, StageInfo]) -> list[OppRow]:
    """Rows from the raw cursor's tuples, _query's columns (the board reads thousands: no per-row model
    objects, each distinct date parsed once)."""
    days: dict = {None: None}
    fromiso = dt.datetime.fromisoformat
    info = {sid: (st.name, st.rot_days if st.is_open else 0) for sid, st in stages.items()}
    owners = names_by_id()
    out: list = []
    append = out.append
    today_ = at.date()
    for (oid, title, cid, cname, value, prob, close, stage_id, status, owner_id,
         source, step, step_date, changed, activity, closed) in rows:
        name_, rot_days = info.get(stage_id, ("", 0))
        if changed.__class__ is str:
            changed = fromiso(changed[:19])
        if activity is None:
            activity = changed
        elif activity.__class__ is str:
            activity = fromiso(activity[:19])
        idle = (at - activity).days
        for v in (close, step_date, closed):
            if v not in days:
                days[v] = as_date(v)
        append(OppRow(oid, title, cid, cname or "", value or 0, prob or 0, days[close], stage_id, status, owner_id,
                      owners.get(owner_id, "") if owner_id else "", source or "", step or "", days[step_date], (today_ - changed.date()).days,
                      status == "open" and rot_days > 0 and idle >= rot_days, days[closed], None, name_,
                      idle if idle > 0 else 0))
    return out


def board_key(r: OppRow) -> tuple:
    """A card's place in its column: soonest expected close first, undated last, then the oldest."""
    return (r.close_date is None, r.close_date or dt.date.max, r.id)


def _halves(f: BoardFilter, at: dt.datetime, *columns):
    """The board's two halves as selects of ``columns``, to be glued with UNION ALL: the open deals (by
    expected close date when a period is chosen) and the closed ones (closed in the period, else in the last
    ``closed_days`` days). Each half is read by its own index: the status, or the closing date."""
    def half(*conds):
        q = Opportunity.select(*columns)
        if f.text:
            q = q.join(Customer, on=(Customer.id == Opportunity.customer + 0))
        return _narrow(q, f).where(*conds)

    open_c = [Opportunity.status == "open"]
    if f.date_from:
        open_c.append(Opportunity.close_date >= f.date_from)
    if f.date_to:
        open_c.append(Opportunity.close_date <= f.date_to)
    closed_c = [Opportunity.status.in_(["won", "lost"])]
    if f.date_from or f.date_to:
        if f.date_from:
            closed_c.append(Opportunity.closed_at >= f.date_from)
        if f.date_to:
            closed_c.append(Opportunity.closed_at <= f.date_to)
    else:
        closed_c.append(Opportunity.closed_at >= at.date() - dt.timedelta(days=f.closed_days))
    return half, open_c, closed_c


def _totals(f: BoardFilter, at: dt.datetime, stage_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """{stage id: (count, Σ value, Σ value × probability)} of the columns, in one grouped query (naming the
    stages lets the closed half read the board index by status, stage and closing day)."""
    cols = (Opportunity.stage.alias("stage"), Opportunity.value.alias("value"),
            Opportunity.probability.alias("probability"))
    half, open_c, closed_c = _halves(f, at, *cols)
    u = (half(*open_c) + half(*closed_c, Opportunity.stage.in_(stage_ids))).alias("u")
    q = (pw.Select([u], [u.c.stage, pw.fn.COUNT(pw.SQL("*")), pw.fn.SUM(pw.fn.COALESCE(u.c.value, 0)),
                         pw.fn.SUM(pw.fn.COALESCE(u.c.value, 0) * pw.fn.COALESCE(u.c.probability, 0))])
         .group_by(u.c.stage))
    return {sid: (n, int(v or 0), int(w or 0)) for sid, n, v, w in db.execute(q).fetchall()}


def _after(after: tuple | None):
    """Cards after a board-order key (no date last, then id)."""
    if after is None:
        return []
    undated, day, oid = after
    if undated:
        return [Opportunity.close_date.is_null() & (Opportunity.id > oid)]
    return [(Opportunity.close_date > day) | ((Opportunity.close_date == day) & (Opportunity.id > oid))
            | Opportunity.close_date.is_null()]


def _pages(f: BoardFilter, at: dt.datetime, wanted: list[tuple[int, tuple | None]], limit: int,
           stages: dict[int, StageInfo]) -> list[OppRow]:
    """The next ``limit`` cards of each (stage id, after) in ``wanted``, in one query: per column the ids in
    board order (both halves, each by its index), then the cards of all of them."""
    if not wanted:
        return []
    undated = Opportunity.close_date.is_null()
    cols = (Opportunity.id.alias("id"), pw.Case(None, [(undated, 1)], 0).alias("nul"),
            Opportunity.close_date.alias("d"))
    half, open_c, closed_c = _halves(f, at, *cols)
    parts = []
    for i, (stage_id, after) in enumerate(wanted):
        more = [Opportunity.stage == stage_id, *_after(after)]
        page = ((half(*open_c, *more) + half(*closed_c, *more))
                .order_by(pw.SQL('"nul"'), pw.SQL('"d"'), pw.SQL('"id"')).limit(limit)).alias(f"p{i}")
        parts.append(pw.Select([page], [page.c.id]))
    ids = parts[0]
    for p in parts[1:]:
        ids = ids + p
    return _rows(_query(f).where(Opportunity.id.in_(ids)), at, stages)


def load_board(f: BoardFilter | None = None, at: dt.datetime | None = None, page: int = PAGE) -> Board:
    f = f or BoardFilter()
    at = at or now()
    stage_list = list_stages()
    stages = {s.id: s for s in stage_list}
    columns = {s.id: Column(s) for s in stage_list}
    for sid, (n, total, wsum) in _totals(f, at, list(columns)).items():
        col = columns.get(sid)
        if col is not None:
            col.count, col.total, col.weighted_raw = n, total, wsum
    wanted: list[tuple[int, tuple | None]] = [(sid, None) for sid, col in columns.items() if col.count]
    for r in _pages(f, at, wanted, page, stages):
        columns[r.stage_id].rows.append(r)
    for col in columns.values():
        col.rows.sort(key=board_key)
        if col.rows:
            col.after = board_key(col.rows[-1])
    return Board([columns[s.id] for s in stage_list], at, f)


def read_more(board: Board, column: Column, page: int = PAGE) -> tuple[list[OppRow], tuple | None, bool]:
    """The column's next page, read after its last card read: (the cards not already on it — a card dropped
    into the column is there before its turn —, the new last key, whether the column is read to its end).
    ``column.extend`` takes them."""
    if column.unread <= 0:
        return [], column.after, True
    stages = {c.stage.id: c.stage for c in board.columns}
    rows = sorted(_pages(board.filter, board.at, [(column.stage.id, column.after)], page, stages), key=board_key)
    have = {r.id for r in column.rows}
    return [r for r in rows if r.id not in have], (board_key(rows[-1]) if rows else column.after), len(rows) < page


def _listed(q, f: BoardFilter):
    if f.status:
        q = q.where(Opportunity.status == f.status)
    if f.date_from:
        q = q.where(Opportunity.close_date >= f.date_from)
    if f.date_to:
        q = q.where(Opportunity.close_date <= f.date_to)
    return q


def list_opportunities(f: BoardFilter | None = None, at: dt.datetime | None = None,
                       limit: int | None = None) -> list[OppRow]:
    f = f or BoardFilter()
    at = at or now()
    stages = all_stages()
    q = _listed(_query(f), f).order_by(Opportunity.id.desc())
    if limit:
        q = q.limit(limit)
    return _rows(q, at, stages)


# the list view's columns, sorted by the database: key → the value it sorts by
LIST_SORT: dict[str, Callable[[], Any]] = {
    "title": lambda: Opportunity.title,
    "customer_name": _customer_name,
    "stage_name": lambda: pw.fn.COALESCE(
        PipelineStage.select(PipelineStage.name).where(PipelineStage.id == Opportunity.stage), ""),
    "value": lambda: Opportunity.value,
    "probability": lambda: Opportunity.probability,
    "weighted": lambda: Opportunity.value * Opportunity.probability,
    "close_date": lambda: Opportunity.close_date,
    "owner_name": lambda: pw.fn.COALESCE(User.select(User.name).where(User.id == Opportunity.owner), ""),
    "source": lambda: Opportunity.source,
    "next_step": lambda: Opportunity.next_step,
    "next_step_date": lambda: Opportunity.next_step_date,
    "days_in_stage": lambda: pw.fn.COALESCE(_day_number(Opportunity.stage_changed_at), 0) * -1,   # longest last
    "status": lambda: Opportunity.status,
}
_TEXT_SORT = {"title", "customer_name", "stage_name", "owner_name", "source", "next_step", "status"}


def _day_number(column):
    """A datetime column's day as a number that grows with it (for sorting by days in stage)."""
    from models.base import is_postgres

    if is_postgres():
        return pw.fn.date_part("epoch", column)
    return pw.fn.julianday(column)


def list_count(f: BoardFilter | None = None) -> int:
    """How many opportunities the list view holds under the filter."""
    f = f or BoardFilter()
    q = Opportunity.select(pw.fn.COUNT(Opportunity.id))
    if f.text:
        q = q.join(Customer, on=(Customer.id == Opportunity.customer + 0))
    return int(_listed(_narrow(q, f), f).scalar() or 0)


def list_page(f: BoardFilter | None = None, sort: str = "close_date", descending: bool = False, offset: int = 0,
              limit: int = 500, at: dt.datetime | None = None) -> list[OppRow]:
    """One page of the list view in the order of a column (``LIST_SORT``): empty values last (first when
    descending), ties by id. The list of an office's 100,000 deals reads only what is shown."""
    f = f or BoardFilter()
    at = at or now()
    stages = all_stages()
    key = LIST_SORT[sort]()
    empty = key.is_null()
    if sort in _TEXT_SORT:
        empty = empty | (key == "")
    order = [pw.Case(None, [(empty, 1)], 0), key, Opportunity.id]
    q = _listed(_query(f), f).order_by(*[o.desc() if descending else o.asc() for o in order])
    return _rows(q.limit(limit).offset(offset), at, stages)


def row(opp_id: int, at: dt.datetime | None = None) -> OppRow | None:
    stages = all_stages()
    rows = _rows(_query(BoardFilter()).where(Opportunity.id == opp_id), at or now(), stages)
    return rows[0] if rows else None


def sources() -> list[str]:
    """The sources in use plus the office's list of lead sources."""
    from app import options, settings

    have = {s for (s,) in Opportunity.select(Opportunity.source).distinct().tuples() if s}
    return sorted(have | set(settings.csv_list(options.CUSTOMERS_SOURCES)))


# --- for other screens --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpportunityBrief:
    id: int
    title: str
    stage_name: str
    value: int
    probability: int
    next_step: str
    next_step_date: dt.date | None
    close_date: dt.date | None
    owner_name: str
    rotting: bool


def open_opportunities_brief(customer_id: int, at: dt.datetime | None = None) -> list[OpportunityBrief]:
    """The customer's open opportunities, soonest next step first (for the caller-ID popup and the file)."""
    rows = [r for r in list_opportunities(BoardFilter(customer_id=customer_id, status="open"), at)]
    rows.sort(key=lambda r: (r.next_step_date is None, r.next_step_date or dt.date.max, r.id))
    return [OpportunityBrief(r.id, r.title, r.stage_name, r.value, r.probability, r.next_step, r.next_step_date,
                             r.close_date, r.owner_name, r.rotting) for r in rows]


def all_stages() -> dict[int, StageInfo]:
    """Every stage, retired ones too (old opportunities may still sit in them), by id."""
    return {s.id: s for s in list_stages(active_only=False)}


# The dashboard's two lists are read every time it is shown: their statements are written once per shape
# (models.sqlcache) and given their values. A shape is what the person at this desk may see (roles'
# customer_scope: everything, nothing, or their own with their id as a value), whether one colleague's or
# everyone's are asked for, and for the rotting list how many stages rot; never the values themselves.

def _needing_step_query(owner, scope: tuple[str, int | None], day, limit):
    q = _query(BoardFilter(owner_id=owner), scope).where(Opportunity.status == "open",
                                                          Opportunity.next_step_date <= day)
    return q.order_by(Opportunity.next_step_date, Opportunity.id).limit(limit)


def needing_step(user_id: int | None, at: dt.datetime | None = None, limit: int = DASHBOARD_LIMIT,
                 stages: dict[int, StageInfo] | None = None) -> list[OppRow]:
    """Open opportunities (of this user, or everyone's when None) whose next step is due today or earlier.
    `stages`: every stage by id, when the caller has read them already."""
    at = at or now()
    stages = stages if stages is not None else all_stages()
    kind, uid = access.customer_scope()
    cur = sqlcache.run(f"pipeline.needing_step.{kind}",
                       lambda owner, u, day, n: _needing_step_query(owner, (kind, u), day, n),
                       user_id, uid, at.date(), limit)
    return _rows_of(cur.fetchall(), at, stages)


def count_needing_attention(user_id: int | None, at: dt.datetime | None = None,
                            stages: dict[int, StageInfo] | None = None) -> int:
    """How many open opportunities (this user's, or everyone's when None) needing_step() or rotting() would list
    without their limit, each counted once: the dashboard card's total when its lists are cut."""
    at = at or now()
    stages = stages if stages is not None else all_stages()
    cond = Opportunity.next_step_date <= at.date()
    cutoffs = _rot_cutoffs(stages, at)
    if cutoffs:
        cond |= _rot_condition(*cutoffs)
    q = _query(BoardFilter(owner_id=user_id), access.customer_scope()).where(Opportunity.status == "open", cond)
    return q.count()


def _rot_cutoffs(stages: dict[int, StageInfo], at: dt.datetime) -> list:
    """For each open stage that rots: its id, then the last moment of activity that still counts as idle in it."""
    cutoffs: list = []
    for s in stages.values():
        if s.rot_days and s.is_open:
            cutoffs += [s.id, at - dt.timedelta(days=s.rot_days)]
    return cutoffs


def _rot_condition(*stage_cutoffs):
    """An opportunity idle past its stage's cutoff (`stage_cutoffs` as _rot_cutoffs gives them)."""
    cond = None
    for sid, cutoff in zip(stage_cutoffs[::2], stage_cutoffs[1::2], strict=True):
        c = (Opportunity.stage == sid) & (Opportunity.last_activity_at <= cutoff)
        cond = c if cond is None else (cond | c)
    return cond


def _rotting_query(owner, scope: tuple[str, int | None], limit, *stage_cutoffs):
    """`stage_cutoffs`: as _rot_cutoffs gives them."""
    q = _query(BoardFilter(owner_id=owner), scope).where(Opportunity.status == "open", _rot_condition(*stage_cutoffs))
    return q.order_by(Opportunity.last_activity_at, Opportunity.id).limit(limit)


def rotting(user_id: int | None, at: dt.datetime | None = None, limit: int = DASHBOARD_LIMIT,
            stages: dict[int, StageInfo] | None = None) -> list[OppRow]:
    """Open opportunities idle longer than their stage allows, the longest idle first."""
    at = at or now()
    stages = stages if stages is not None else all_stages()
    cutoffs = _rot_cutoffs(stages, at)
    if not cutoffs:
        return []
    kind, uid = access.customer_scope()
    cur = sqlcache.run(f"pipeline.rotting.{kind}.{len(cutoffs) // 2}",
                       lambda owner, u, n, *sc: _rotting_query(owner, (kind, u), n, *sc),
                       user_id, uid, limit, *cutoffs)
    return _rows_of(cur.fetchall(), at, stages)

