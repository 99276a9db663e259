"""Pipeline reports, as app.reports.ReportResult (so they draw, export to Excel and print like the others).

    result = pipeline.reports.run("forecast", date_from, date_to, owner_id=None, source=None)

Definitions (dates are Gregorian, inclusive; the owner/source filters apply to every report):

* **Funnel** (opportunities *created* in the period): the stages in funnel order (open stages by position, then
  won). An opportunity *reached* a stage when its history went through it or through a later stage of the
  order, or when it was won (skipping a stage counts as passing it). Per stage: reached (count and today's
  value of those), here now (open in it / won), conversion to the next stage = reached(next) / reached(this),
  and the average days spent in the stage (every visit in the history, in the order of its moments and, in one
  second, of its writing; an open deal's last visit counts until now, a closed deal's last one not at all).
  Counted by the database in three grouped queries (one with a window function), on SQLite and PostgreSQL.
* **Forecast** per Jalali month of the *expected close date* (open opportunities only): count, unweighted
  Σ value, weighted Σ value × probability / 100 (rounded half-up once per month: the sum of value×probability
  is divided, not each row), the won value of deals *closed* that month (counted at 100 %), and the
  forecast = won + weighted. ``forecast_rep``: the same per owner.
* **Win rate and cycle** (deals *closed* in the period) by owner and by source: won, lost, win rate =
  won / (won + lost), won value, average cycle = mean days from creation to the close of the *won* deals.
* **Lead sources** (customers *created* in the period): leads = those that came in as leads (still a lead, or
  with a conversion record); converted = with a conversion record; revenue = issued invoices of the converted
  ones (any date); with the opportunities of that source created in the period and how many were won.
* **Targets**: per owner and Jalali month inside the period: the target, what was achieved (the total of
  issued invoices, rep as in app.sales: the document's rep, else the customer's assigned colleague) and the
  progress in percent; plus the weighted pipeline still expected to close that month.
* **Competitors** (deals closed in the period where the competitor was in play): won, lost, win rate against
  them, their average price, the value lost. **Lost reasons**: count and value of the deals lost in the period.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw

from app.core.clock import now
from app.core.errors import UserError
from app.core.jalali import month_label, to_jalali
from app.excel.export import Column, period_label
from app.office.users import names_by_id
from app.pipeline import access
from app.pipeline.stages import funnel_order, list_stages, reach_groups, reached
from app.reports.service import Chart, ReportResult
from models.base import db, is_postgres
from models.core import Customer, User
from models.pipeline import (
    Competitor,
    CustomerConversion,
    LostReason,
    Opportunity,
    OpportunityCompetitor,
    SalesTarget,
    StageChange,
)
from models.sales import SalesDocument
from models.writer import writes

NO_OWNER = "بدون کارشناس"
NO_SOURCE = "نامشخص"


@dataclass(frozen=True)
class PipelineReport:
    key: str
    title: str
    fn: Callable[..., ReportResult]


REPORTS: dict[str, PipelineReport] = {}


def _report(key: str, title: str):
    def deco(fn):
        REPORTS[key] = PipelineReport(key, title, fn)
        return fn
    return deco


def run(key: str, date_from: dt.date | None = None, date_to: dt.date | None = None, owner_id: int | None = None,
        source: str | None = None) -> ReportResult:
    if key not in REPORTS:
        raise UserError(f"گزارشی به نام «{key}» نیست.")
    if date_from and date_to and date_from > date_to:
        raise UserError("تاریخ «از» بعد از تاریخ «تا» است.")
    return REPORTS[key].fn(date_from, date_to, owner_id, source)


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _weighted(value_times_p: int) -> int:
    return (value_times_p + 50) // 100


def _filtered(q, owner_id, source):
    q = access.scope(q)
    if owner_id:
        q = q.where(Opportunity.owner == owner_id)
    if source:
        q = q.where(Opportunity.source == source)
    return q


def _day(v) -> dt.date | None:
    if v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)):
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    return dt.date.fromisoformat(str(v)[:10])


def _moment(v) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    return dt.datetime.fromisoformat(str(v)[:19])


def _start(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())


def _created_in(q, date_from, date_to, column=Opportunity.created_at):
    if date_from:
        q = q.where(column >= _start(date_from))
    if date_to:
        q = q.where(column < _start(date_to + dt.timedelta(days=1)))
    return q


def _closed_in(q, date_from, date_to):
    if date_from:
        q = q.where(Opportunity.closed_at >= date_from)
    if date_to:
        q = q.where(Opportunity.closed_at <= date_to)
    return q


def _users() -> dict[int, str]:
    return names_by_id()


# --- funnel -------------------------------------------------------------------------------------------------

@dataclass
class FunnelStage:
    stage_id: int
    name: str
    reached: int
    reached_value: int
    here: int
    here_value: int
    weighted: int
    conversion: float | None          # to the next stage, percent
    avg_days: float | None


def _epoch(column):
    """Whole seconds since 1970 of a naive datetime column, by the database (both read it as UTC, so the
    difference of two is exact)."""
    if is_postgres():
        return pw.Cast(pw.fn.FLOOR(pw.fn.date_part("epoch", column)), "BIGINT")
    return pw.Cast(pw.fn.strftime("%s", column), "INTEGER")


def _seconds(moment: dt.datetime) -> int:
    return int((moment - dt.datetime(1970, 1, 1)).total_seconds())


def funnel(date_from=None, date_to=None, owner_id=None, source=None, at: dt.datetime | None = None) \
        -> tuple[list[FunnelStage], dict]:
    """Three grouped queries, whatever the number of deals: how far each got (``stages.reach_groups``), where
    they are now, and the time spent per visit of a stage (the history's rows with the next row's moment, by a
    window function; a visit still open counts until ``at``; the last visit of a closed deal is not counted).
    Visits are ordered by their moment, then by the order they were written."""
    at = at or now()
    order = funnel_order()

    def narrow(q):
        return _filtered(_created_in(q, date_from, date_to), owner_id, source)

    reach = reached(reach_groups(narrow, order), order)
    here: dict[tuple[int, str], tuple[int, int, int]] = {}
    counts: dict[str, int] = defaultdict(int)
    q = narrow(Opportunity.select(Opportunity.stage, Opportunity.status, pw.fn.COUNT(Opportunity.id),
                                  pw.fn.SUM(Opportunity.value), pw.fn.SUM(Opportunity.value * Opportunity.probability))
               ).group_by(Opportunity.stage, Opportunity.status)
    for stage, status, n, total, wsum in db.execute(q).fetchall():
        here[(stage, status)] = (n, int(total or 0), int(wsum or 0))
        counts[status] += n
    start = _epoch(StageChange.at)
    visit = (StageChange.select(StageChange.to_stage.alias("stage"), start.alias("start_s"),
                                pw.fn.LEAD(start).over(partition_by=[StageChange.opportunity],
                                                       order_by=[StageChange.at, StageChange.id]).alias("next_s"),
                                Opportunity.status.alias("status"))
             .join(Opportunity, on=(StageChange.opportunity == Opportunity.id)))
    v = narrow(visit).alias("v")
    q = (pw.Select([v], [v.c.stage, pw.fn.COUNT(pw.SQL("*")),
                         pw.fn.SUM(pw.fn.COALESCE(v.c.next_s, _seconds(at)) - v.c.start_s)])
         .where(v.c.next_s.is_null(False) | (v.c.status == "open")).group_by(v.c.stage))
    days = {stage: (n, int(secs or 0)) for stage, n, secs in db.execute(q).fetchall()}
    out = []
    for i, s in enumerate(order):
        parts = [here.get((s.id, "open"), (0, 0, 0))] + ([here.get((s.id, "won"), (0, 0, 0))] if s.is_won else [])
        n_here, value_here, wsum_here = (sum(p[k] for p in parts) for k in range(3))
        nxt = _pct(reach[i + 1][0], reach[i][0]) if i + 1 < len(order) else None
        n_visits, secs = days.get(s.id, (0, 0))
        out.append(FunnelStage(s.id, s.name, reach[i][0], reach[i][1], n_here, value_here, _weighted(wsum_here), nxt,
                               round(secs / 86400 / n_visits, 1) if n_visits else None))
    return out, {"total": sum(counts.values()), "lost": counts["lost"], "won": counts["won"]}


@_report("funnel", "قیف فروش")
def funnel_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    rows_, info = funnel(date_from, date_to, owner_id, source)
    cols = [Column("name", "مرحله"), Column("reached", "رسیده به مرحله", "int"),
            Column("reached_value", "ارزش رسیده‌ها (ریال)", "money"), Column("here", "اکنون در مرحله", "int"),
            Column("here_value", "ارزش اکنون (ریال)", "money"), Column("weighted", "ارزش وزنی (ریال)", "money"),
            Column("conversion", "تبدیل به مرحله بعد (درصد)", "number"),
            Column("avg_days", "میانگین روز در مرحله", "number")]
    rows = [{"name": r.name, "reached": r.reached, "reached_value": r.reached_value, "here": r.here,
             "here_value": r.here_value, "weighted": r.weighted, "conversion": r.conversion, "avg_days": r.avg_days}
            for r in rows_]
    note = "" if info["total"] else "در این بازه فرصت فروشی ثبت نشده است."
    if info["total"]:
        note = (f"{info['total']} فرصت در این بازه ثبت شده؛ {info['won']} برنده و {info['lost']} ازدست‌رفته.")
        from app.core.text import to_persian_digits

        note = to_persian_digits(note)
    return ReportResult("funnel", "قیف فروش", period_label(date_from, date_to), cols, rows if info["total"] else [],
                        Chart("hbar", "name", [("رسیده به مرحله", "reached")]), note)


# --- forecast -----------------------------------------------------------------------------------------------

@dataclass
class ForecastMonth:
    year: int
    month: int
    count: int = 0
    unweighted: int = 0
    weighted_raw: int = 0          # Σ value × probability
    won: int = 0

    @property
    def weighted(self) -> int:
        return _weighted(self.weighted_raw)

    @property
    def forecast(self) -> int:
        return self.won + self.weighted


def forecast(date_from=None, date_to=None, owner_id=None, source=None, by_owner: bool = False) \
        -> dict[tuple, ForecastMonth]:
    """{(year, month) or (owner_id, year, month): ForecastMonth} (see the module's docstring)."""
    group = [Opportunity.close_date] + ([Opportunity.owner] if by_owner else [])
    q = (Opportunity.select(*group, pw.fn.COUNT(Opportunity.id), pw.fn.SUM(Opportunity.value),
                            pw.fn.SUM(Opportunity.value * Opportunity.probability))
         .where(Opportunity.status == "open", Opportunity.close_date.is_null(False)))
    if date_from:
        q = q.where(Opportunity.close_date >= date_from)
    if date_to:
        q = q.where(Opportunity.close_date <= date_to)
    q = _filtered(q, owner_id, source).group_by(*group)
    months: dict[tuple, ForecastMonth] = {}
    jcache: dict[object, tuple[int, int]] = {}

    def ym(day) -> tuple[int, int]:
        if day not in jcache:
            j = to_jalali(_day(day))
            jcache[day] = (j.year, j.month)
        return jcache[day]

    for r in db.execute(q).fetchall():
        day, rest = r[0], r[1:]
        owner = None
        if by_owner:
            owner, rest = rest[0], rest[1:]
        n, total, wsum = rest
        key = ((owner,) if by_owner else ()) + ym(day)
        m = months.get(key)
        if m is None:
            m = months[key] = ForecastMonth(*ym(day))
        m.count += n
        m.unweighted += int(total or 0)
        m.weighted_raw += int(wsum or 0)
    group = [Opportunity.closed_at] + ([Opportunity.owner] if by_owner else [])
    q = (Opportunity.select(*group, pw.fn.SUM(Opportunity.value)).where(Opportunity.status == "won"))
    q = _filtered(_closed_in(q, date_from, date_to), owner_id, source).group_by(*group)
    for r in db.execute(q).fetchall():
        day = r[0]
        owner = r[1] if by_owner else None
        total = r[-1]
        key = ((owner,) if by_owner else ()) + ym(day)
        m = months.get(key)
        if m is None:
            m = months[key] = ForecastMonth(*ym(day))
        m.won += int(total or 0)
    return months


_FORECAST_COLS = [Column("count", "تعداد فرصت باز", "int"), Column("unweighted", "ارزش کل (ریال)", "money"),
                  Column("weighted", "ارزش وزنی (ریال)", "money"), Column("won", "برنده‌شده (ریال)", "money"),
                  Column("forecast", "پیش‌بینی: برنده + وزنی (ریال)", "money")]


def _undated_note(owner_id, source) -> str:
    from app.core.text import to_persian_digits

    n = _filtered(Opportunity.select().where(Opportunity.status == "open", Opportunity.close_date.is_null()),
                  owner_id, source).count()
    return to_persian_digits(f"{n} فرصت باز تاریخ بستن ندارد و در پیش‌بینی نیامده است.") if n else ""


@_report("forecast", "پیش‌بینی فروش ماهانه")
def forecast_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    months = forecast(date_from, date_to, owner_id, source)
    rows = [{"month": month_label(y, m), "year": y, "month_no": m, "count": f.count, "unweighted": f.unweighted,
             "weighted": f.weighted, "won": f.won, "forecast": f.forecast}
            for (y, m), f in sorted(months.items())]
    cols = [Column("month", "ماه")] + _FORECAST_COLS
    totals = {k: sum(r[k] for r in rows) for k in ("count", "unweighted", "weighted", "won", "forecast")}
    note = _undated_note(owner_id, source)
    if not rows:
        note = ("در این بازه فرصتی با تاریخ بستن نیست. " + note).strip()
    return ReportResult("forecast", "پیش‌بینی فروش ماهانه", period_label(date_from, date_to), cols, rows,
                        Chart("bar", "month", [("ارزش کل", "unweighted"), ("ارزش وزنی", "weighted"),
                                               ("برنده‌شده", "won")], money=True), note, totals)


@_report("forecast_rep", "پیش‌بینی فروش به تفکیک کارشناس")
def forecast_rep_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    months = forecast(date_from, date_to, owner_id, source, by_owner=True)
    names = _users()
    agg: dict[int | None, ForecastMonth] = {}
    for (owner, _y, _m), f in months.items():
        a = agg.setdefault(owner, ForecastMonth(0, 0))
        a.count += f.count
        a.unweighted += f.unweighted
        a.weighted_raw += f.weighted_raw
        a.won += f.won
    rows = [{"name": names.get(o, NO_OWNER) if o else NO_OWNER, "owner_id": o, "count": f.count,
             "unweighted": f.unweighted, "weighted": f.weighted, "won": f.won, "forecast": f.forecast}
            for o, f in agg.items()]
    rows.sort(key=lambda r: (-r["forecast"], r["name"]))
    cols = [Column("name", "کارشناس")] + _FORECAST_COLS
    totals = {k: sum(r[k] for r in rows) for k in ("count", "unweighted", "weighted", "won", "forecast")}
    return ReportResult("forecast_rep", "پیش‌بینی فروش به تفکیک کارشناس", period_label(date_from, date_to), cols,
                        rows, Chart("bar", "name", [("ارزش وزنی", "weighted"), ("برنده‌شده", "won")], money=True),
                        "" if rows else "در این بازه فرصتی با تاریخ بستن نیست.", totals)


# --- win rate and cycle -------------------------------------------------------------------------------------

@dataclass
class WinStats:
    name: str
    won: int = 0
    lost: int = 0
    won_value: int = 0
    cycle_days: int = 0

    @property
    def win_rate(self) -> float | None:
        return _pct(self.won, self.won + self.lost)

    @property
    def avg_cycle(self) -> float | None:
        return round(self.cycle_days / self.won, 1) if self.won else None


def win_stats(by: str, date_from=None, date_to=None, owner_id=None, source=None) -> list[WinStats]:
    """by: "owner" | "source"."""
    q = (Opportunity.select(Opportunity.owner, Opportunity.source, Opportunity.status, Opportunity.value,
                            Opportunity.created_at, Opportunity.closed_at)
         .where(Opportunity.status.in_(["won", "lost"])))
    q = _filtered(_closed_in(q, date_from, date_to), owner_id, source)
    names = _users()
    agg: dict[object, WinStats] = {}
    for owner, src, status, value, created, closed in q.tuples():
        key = owner if by == "owner" else (src or "")
        name = (names.get(owner, NO_OWNER) if owner else NO_OWNER) if by == "owner" else (src or NO_SOURCE)
        s = agg.setdefault(key, WinStats(name))
        if status == "won":
            s.won += 1
            s.won_value += value or 0
            s.cycle_days += max(0, (_day(closed) - _day(created)).days)
        else:
            s.lost += 1
    return sorted(agg.values(), key=lambda s: (-s.won_value, -s.won, s.name))


def _win_report(key: str, title: str, by: str, label: str, date_from, date_to, owner_id, source) -> ReportResult:
    stats = win_stats(by, date_from, date_to, owner_id, source)
    rows = [{"name": s.name, "won": s.won, "lost": s.lost, "win_rate": s.win_rate, "won_value": s.won_value,
             "avg_cycle": s.avg_cycle} for s in stats]
    cols = [Column("name", label), Column("won", "برنده", "int"), Column("lost", "ازدست‌رفته", "int"),
            Column("win_rate", "نرخ موفقیت (درصد)", "number"), Column("won_value", "ارزش برنده‌ها (ریال)", "money"),
            Column("avg_cycle", "میانگین چرخه فروش (روز)", "number")]
    totals = {"won": sum(s.won for s in stats), "lost": sum(s.lost for s in stats),
              "won_value": sum(s.won_value for s in stats)}
    totals["win_rate"] = _pct(totals["won"], totals["won"] + totals["lost"])
    won = totals["won"]
    totals["avg_cycle"] = round(sum(s.cycle_days for s in stats) / won, 1) if won else None
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows,
                        Chart("bar", "name", [("برنده", "won"), ("ازدست‌رفته", "lost")]),
                        "" if rows else "در این بازه فرصتی بسته نشده است.", totals)


@_report("win_rep", "نرخ موفقیت و چرخه فروش به تفکیک کارشناس")
def win_rep_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    return _win_report("win_rep", "نرخ موفقیت و چرخه فروش به تفکیک کارشناس", "owner", "کارشناس", date_from,
                       date_to, owner_id, source)


@_report("win_source", "نرخ موفقیت و چرخه فروش به تفکیک منبع")
def win_source_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    return _win_report("win_source", "نرخ موفقیت و چرخه فروش به تفکیک منبع", "source", "منبع", date_from,
                       date_to, owner_id, source)


# --- lead sources -------------------------------------------------------------------------------------------

@_report("lead_sources", "اثربخشی منابع سرنخ")
def lead_sources_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    converted_ids = {c for (c,) in CustomerConversion.select(CustomerConversion.customer).tuples()}
    q = Customer.select(Customer.id, Customer.source, Customer.stage, Customer.assigned_to).where(
        Customer.merged_into.is_null())
    q = _created_in(q, date_from, date_to, Customer.created_at)
    if owner_id:
        q = q.where(Customer.assigned_to == owner_id)
    if source:
        q = q.where(Customer.source == source)
    agg: dict[str, dict] = {}

    def bucket(src: str) -> dict:
        return agg.setdefault(src or NO_SOURCE, {"name": src or NO_SOURCE, "leads": 0, "converted": 0, "revenue": 0,
                                                 "opportunities": 0, "won": 0, "won_value": 0})

    converted_by_source: dict[str, list[int]] = defaultdict(list)
    for cid, src, stage, _owner in q.tuples():
        is_converted = cid in converted_ids
        if stage == "potential" or is_converted:
            b = bucket(src)
            b["leads"] += 1
            if is_converted:
                b["converted"] += 1
                converted_by_source[src or NO_SOURCE].append(cid)
    for src, ids in converted_by_source.items():
        total = 0
        for lo in range(0, len(ids), 500):
            total += (SalesDocument.select(pw.fn.COALESCE(pw.fn.SUM(SalesDocument.total), 0))
                      .where(SalesDocument.customer.in_(ids[lo:lo + 500]), SalesDocument.doc_type == "invoice",
                             SalesDocument.state == "issued").scalar()) or 0
        agg[src]["revenue"] = int(total)
    oq = _filtered(_created_in(Opportunity.select(Opportunity.source, Opportunity.status, Opportunity.value),
                               date_from, date_to), owner_id, source)
    for src, status, value in oq.tuples():
        b = bucket(src)
        b["opportunities"] += 1
        if status == "won":
            b["won"] += 1
            b["won_value"] += value or 0
    rows = sorted(agg.values(), key=lambda r: (-r["revenue"], -r["converted"], -r["leads"], r["name"]))
    for r in rows:
        r["rate"] = _pct(r["converted"], r["leads"])
    cols = [Column("name", "منبع"), Column("leads", "سرنخ", "int"), Column("converted", "تبدیل به مشتری", "int"),
            Column("rate", "نرخ تبدیل (درصد)", "number"), Column("revenue", "فروش به تبدیل‌شده‌ها (ریال)", "money"),
            Column("opportunities", "فرصت فروش", "int"), Column("won", "فرصت برنده", "int"),
            Column("won_value", "ارزش برنده‌ها (ریال)", "money")]
    totals = {k: sum(r[k] for r in rows) for k in ("leads", "converted", "revenue", "opportunities", "won",
                                                   "won_value")}
    totals["rate"] = _pct(totals["converted"], totals["leads"])
    return ReportResult("lead_sources", "اثربخشی منابع سرنخ", period_label(date_from, date_to), cols, rows,
                        Chart("bar", "name", [("سرنخ", "leads"), ("تبدیل به مشتری", "converted")]),
                        "" if rows else "در این بازه سرنخ یا فرصتی ثبت نشده است.", totals)


# --- targets ------------------------------------------------------------------------------------------------

@writes
def set_target(user_id: int, year: int, month: int, amount: int) -> None:
    from app.core.errors import ValidationError

    access.require_settings()
    if not 1 <= int(month) <= 12 or not 1300 <= int(year) <= 1600:
        raise ValidationError({"month": "ماه یا سال هدف درست نیست."})
    if amount is None or int(amount) < 0:
        raise ValidationError({"amount": "مبلغ هدف باید عددی مثبت (ریال) باشد."})
    if not User.select().where(User.id == user_id).exists():
        raise ValidationError({"user": "کارشناس پیدا نشد."})
    t = SalesTarget.get_or_none(SalesTarget.user == user_id, SalesTarget.year == year, SalesTarget.month == month)
    if int(amount) == 0:
        if t is not None:
            t.delete_instance()
        return
    if t is None:
        SalesTarget.create(user=user_id, year=year, month=month, amount=int(amount))
    else:
        t.amount = int(amount)
        t.save()


def targets_of(year: int) -> dict[tuple[int, int], int]:
    """{(user_id, month): amount} for a Jalali year."""
    return {(t.user_id, t.month): t.amount for t in SalesTarget.select().where(SalesTarget.year == year)}


@_report("targets", "هدف فروش کارشناسان و پیشرفت")
def targets_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    from app.sales.reports import sales_rows
    day = (date_to or date_from or now().date())
    first = to_jalali(date_from) if date_from else None
    last = to_jalali(date_to) if date_to else None
    if first is None and last is None:
        j = to_jalali(day)
        first = last = j

    def inside(y: int, m: int) -> bool:
        return (first is None or (y, m) >= (first.year, first.month)) and \
            (last is None or (y, m) <= (last.year, last.month))

    targets = {(t.user_id, t.year, t.month): t.amount for t in SalesTarget.select() if inside(t.year, t.month)}
    achieved: dict[tuple, int] = defaultdict(int)
    for r in sales_rows(date_from, date_to):
        if r.rep_id:
            achieved[(r.rep_id, r.jalali_year, r.jalali_month)] += r.total
    expected = forecast(date_from, date_to, owner_id, None, by_owner=True)
    keys = set(targets) | {k for k in achieved if k in targets or not targets}
    if owner_id:
        keys = {k for k in keys if k[0] == owner_id}
    names = _users()
    rows = []
    for uid, y, m in sorted(keys, key=lambda k: (k[1], k[2], names.get(k[0], ""))):
        target = targets.get((uid, y, m), 0)
        got = achieved.get((uid, y, m), 0)
        f = expected.get((uid, y, m))
        rows.append({"name": names.get(uid, NO_OWNER), "month": month_label(y, m), "year": y, "month_no": m,
                     "target": target, "achieved": got, "progress": _pct(got, target),
                     "pipeline": f.weighted if f else 0})
    cols = [Column("name", "کارشناس"), Column("month", "ماه"), Column("target", "هدف (ریال)", "money"),
            Column("achieved", "فروش محقق (ریال)", "money"), Column("progress", "پیشرفت (درصد)", "number"),
            Column("pipeline", "فرصت‌های وزنی همان ماه (ریال)", "money")]
    totals = {k: sum(r[k] for r in rows) for k in ("target", "achieved", "pipeline")}
    totals["progress"] = _pct(totals["achieved"], totals["target"])
    for r in rows:
        r["label"] = f"{r['name']} — {r['month']}"
    return ReportResult("targets", "هدف فروش کارشناسان و پیشرفت", period_label(date_from, date_to), cols, rows,
                        Chart("hbar", "label", [("هدف", "target"), ("محقق", "achieved")], money=True),
                        "" if rows else "برای این بازه هدف فروشی تعیین نشده است.", totals)


# --- competitors and reasons --------------------------------------------------------------------------------

@_report("competitors", "تحلیل برد و باخت در برابر رقبا")
def competitors_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    q = (OpportunityCompetitor.select(Competitor.name, Opportunity.status, Opportunity.value, OpportunityCompetitor.price)
         .join(Competitor, on=(OpportunityCompetitor.competitor == Competitor.id))
         .switch(OpportunityCompetitor).join(Opportunity, on=(OpportunityCompetitor.opportunity == Opportunity.id))
         .where(Opportunity.status.in_(["won", "lost"])))
    q = _filtered(_closed_in(q, date_from, date_to), owner_id, source)
    agg: dict[str, dict] = {}
    for name, status, value, price in q.tuples():
        b = agg.setdefault(name, {"name": name, "won": 0, "lost": 0, "lost_value": 0, "_prices": []})
        if status == "won":
            b["won"] += 1
        else:
            b["lost"] += 1
            b["lost_value"] += value or 0
        if price is not None:
            b["_prices"].append(price)
    rows = []
    for b in agg.values():
        prices = b.pop("_prices")
        b["win_rate"] = _pct(b["won"], b["won"] + b["lost"])
        b["avg_price"] = (sum(prices) + len(prices) // 2) // len(prices) if prices else None
        rows.append(b)
    rows.sort(key=lambda r: (-(r["won"] + r["lost"]), r["name"]))
    cols = [Column("name", "رقیب"), Column("won", "برنده شدیم", "int"), Column("lost", "باختیم", "int"),
            Column("win_rate", "نرخ برد ما (درصد)", "number"), Column("avg_price", "میانگین قیمت رقیب (ریال)", "money"),
            Column("lost_value", "ارزش ازدست‌رفته (ریال)", "money")]
    totals = {"won": sum(r["won"] for r in rows), "lost": sum(r["lost"] for r in rows),
              "lost_value": sum(r["lost_value"] for r in rows)}
    return ReportResult("competitors", "تحلیل برد و باخت در برابر رقبا", period_label(date_from, date_to), cols, rows,
                        Chart("bar", "name", [("برنده شدیم", "won"), ("باختیم", "lost")]),
                        "" if rows else "در این بازه فرصت بسته‌شده‌ای با رقیب ثبت نشده است.", totals)


@_report("lost_reasons", "علت‌های از دست رفتن فرصت‌ها")
def lost_reasons_report(date_from=None, date_to=None, owner_id=None, source=None) -> ReportResult:
    q = (Opportunity.select(LostReason.name, pw.fn.COUNT(Opportunity.id), pw.fn.SUM(Opportunity.value))
         .join(LostReason, pw.JOIN.LEFT_OUTER, on=(Opportunity.lost_reason == LostReason.id))
         .where(Opportunity.status == "lost"))
    q = _filtered(_closed_in(q, date_from, date_to), owner_id, source).group_by(LostReason.name)
    rows = [{"name": name or "بدون علت", "count": n, "value": int(v or 0)} for name, n, v in q.tuples()]
    total = sum(r["count"] for r in rows)
    for r in rows:
        r["share"] = _pct(r["count"], total)
    rows.sort(key=lambda r: (-r["count"], r["name"]))
    cols = [Column("name", "علت"), Column("count", "تعداد", "int"), Column("share", "سهم (درصد)", "number"),
            Column("value", "ارزش (ریال)", "money")]
    return ReportResult("lost_reasons", "علت‌های از دست رفتن فرصت‌ها", period_label(date_from, date_to), cols, rows,
                        Chart("pie", "name", [("تعداد", "count")]),
                        "" if rows else "در این بازه فرصتی از دست نرفته است.",
                        {"count": total, "value": sum(r["value"] for r in rows)})


def stage_list():
    return list_stages()
