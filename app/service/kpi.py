"""Service KPIs exactly as the seeds define them (shared/seeds/003: «شاخص‌های مدیریت ارتباط با مشتری»):

1. requests per day                تعداد درخواست خدمات در روز      → `received` per Jalali day
2. requests closed per person      تعداد درخواست‌های بسته شده هر فرد → `closed` per person
3. average wait until response     متوسط زمان انتظار تا پاسخگویی     → `avg_response` (and p90)
4. average service time            متوسط زمان ارائه خدمت            → `avg_service`
5. exchanges per service           متوسط تعداد سوال و جواب‌ها        → `avg_replies`
6. requests per month              تعداد درخواست خدمات در ماه       → `received` per Jalali month
plus open requests, SLA met % and the satisfaction score.

Definitions, per bucket (a Jalali day, an Iranian week from Saturday, a Jalali month, the whole period):
- received: requests whose received time falls in the bucket;
- closed: requests that first reached done/closed in the bucket (a reopened request counts again only
  when it is resolved again);
- open: requests received by the bucket's last day and not resolved by then;
- response time: business minutes from receipt to the first reply (or to resolution when nobody replied
  first), over requests *received* in the bucket that have one; p90 by the nearest-rank rule
  (the ⌈0.9·n⌉-th smallest);
- service time: business minutes from receipt to resolution, over requests *closed* in the bucket;
- SLA met %: of the requests closed in the bucket, the share closed by their due time;
- satisfaction: the mean survey score (1–5) of the requests closed in the bucket that have one;
- replies: the mean number of replies to the customer per request closed in the bucket.
Per person: received = received in the period and now assigned to them; closed / service / SLA /
satisfaction = resolved by them; response = first answered by them; open = assigned to them and open at the
period's end.
Minutes are business minutes when the office counts office hours only (app.service.hours).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import peewee as pw

from app import fmt
from app.core import jalali
from app.office.users import names_by_id
from app.service import hours
from models.base import db
from models.service import ServiceCategory, ServiceRequest

SR = ServiceRequest


def p90(values: list[int]) -> int | None:
    """Nearest rank: the ⌈0.9·n⌉-th smallest value."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def p90_hist(hist: dict[int, int]) -> int | None:
    """The same rule over a histogram {minutes: how many}."""
    n = sum(hist.values())
    if not n:
        return None
    rank = max(1, math.ceil(0.9 * n))
    seen = 0
    for v in sorted(hist):
        seen += hist[v]
        if seen >= rank:
            return v
    return None


def _avg(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


@dataclass
class Bucket:
    key: int | str
    label: str
    received: int = 0
    closed: int = 0
    open_end: int = 0
    resp_n: int = 0
    resp_sum: int = 0
    resp_hist: dict[int, int] | None = field(default_factory=dict, repr=False)   # None: p90 not computed
    service_n: int = 0
    service_sum: int = 0
    sla_met: int = 0
    sat_n: int = 0
    sat_sum: int = 0
    replies_sum: int = 0

    @property
    def avg_response(self) -> float | None:
        return _avg(self.resp_sum, self.resp_n)

    @property
    def p90_response(self) -> int | None:
        return p90_hist(self.resp_hist) if self.resp_hist is not None else None

    @property
    def avg_service(self) -> float | None:
        return _avg(self.service_sum, self.service_n)

    @property
    def sla_pct(self) -> float | None:
        return round(100 * self.sla_met / self.closed, 1) if self.closed else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.sat_sum / self.sat_n, 2) if self.sat_n else None

    @property
    def avg_replies(self) -> float | None:
        return round(self.replies_sum / self.closed, 2) if self.closed else None

    def add_closed(self, n: int, service_n: int, service_sum: int, met: int, sat_n: int, sat_sum: int,
                   replies: int) -> None:
        self.closed += n
        self.service_n += service_n
        self.service_sum += service_sum or 0
        self.sla_met += met or 0
        self.sat_n += sat_n
        self.sat_sum += sat_sum or 0
        self.replies_sum += replies or 0

    def add_hist(self, minutes: int, n: int) -> None:
        if self.resp_hist is not None:
            self.resp_hist[minutes] = self.resp_hist.get(minutes, 0) + n


@dataclass
class CategoryRow:
    name: str
    is_complaint: bool
    received: int = 0
    open_now: int = 0
    closed: int = 0
    service_n: int = 0
    service_sum: int = 0
    met: int = 0
    sat_n: int = 0
    sat_sum: int = 0

    @property
    def avg_service(self) -> float | None:
        return _avg(self.service_sum, self.service_n)

    @property
    def sla_pct(self) -> float | None:
        return round(100 * self.met / self.closed, 1) if self.closed else None

    @property
    def satisfaction(self) -> float | None:
        return round(self.sat_sum / self.sat_n, 2) if self.sat_n else None


@dataclass
class ServiceKpis:
    date_from: dt.date
    date_to: dt.date
    total: Bucket
    days: list[Bucket]
    weeks: list[Bucket]
    months: list[Bucket]
    people: list[Bucket]              # key = user id (0: nobody), label = name
    categories: list[CategoryRow]

    @property
    def period(self) -> str:
        return f"از {fmt.date(self.date_from)} تا {fmt.date(self.date_to)}"

    def series(self) -> tuple[str, list[Bucket]]:
        """The buckets a chart of this period reads best in: days up to 45 days, weeks up to 200, months."""
        span = (self.date_to - self.date_from).days + 1
        if span <= 45:
            return "day", self.days
        if span <= 200:
            return "week", self.weeks
        return "month", self.months


def _jd_to_date(jd: int) -> dt.date:
    return jalali.from_jalali(jd // 10000, jd // 100 % 100, jd % 100)


DAILY_P90_DAYS = 62       # longer periods: p90 per month, the period and each person (not per day or week)


def compute(date_from: dt.date, date_to: dt.date, category_id: int | None = None,
            complaints_only: bool = False, detail: bool = False) -> ServiceKpis:
    """Every KPI of the period (Gregorian dates, both ends included).

    Every figure is aggregated in SQL, each query reading one covering index in the order it groups by, so none
    sorts the period's rows: per day from the two day-first indexes (received side, resolved side; migration
    12), per person and category, open at the end and the response-time histograms from the person-first ones
    (migration 13; SQLite skips through the few colleagues and categories). Over a long period (more than
    DAILY_P90_DAYS) the p90 per month is computed only with ``detail`` (the Excel export): the dashboard shows
    the period's and each person's."""
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    a, b = hours.jd(date_from), hours.jd(date_to)
    cond = []
    if category_id:
        cond.append(SR.category == category_id)
    if complaints_only:
        complaint_ids = [c.id for c in ServiceCategory.select(ServiceCategory.id)
                         .where(ServiceCategory.is_complaint == True)]  # noqa: E712
        cond.append(SR.category.in_(complaint_ids or [0]))

    def where(*more):
        parts = list(cond) + list(more)
        return functools.reduce(operator.and_, parts) if parts else pw.SQL("1 = 1")

    met = pw.fn.SUM(pw.Case(None, [(SR.sla_met == True, 1)], 0))  # noqa: E712
    daily_p90 = (date_to - date_from).days < DAILY_P90_DAYS

    days: dict[int, Bucket] = {}
    d = date_from
    for _ in range(3700):                     # every day, so a chart shows quiet days as zero
        if d > date_to:
            break
        days[hours.jd(d)] = Bucket(hours.jd(d), fmt.date(d), resp_hist={} if daily_p90 else None)
        d += dt.timedelta(days=1)

    def day(jd: int) -> Bucket:
        if jd not in days:
            days[jd] = Bucket(jd, fmt.date(_jd_to_date(jd)), resp_hist={} if daily_p90 else None)
        return days[jd]

    names = names_by_id()
    people: dict[int, Bucket] = {}

    def person(uid: int | None) -> Bucket:
        uid = uid or 0
        if uid not in people:
            people[uid] = Bucket(uid, names.get(uid, "بدون مسئول"))
        return people[uid]

    cats = {c.id: CategoryRow(c.name, c.is_complaint) for c in ServiceCategory.select()}
    no_cat = CategoryRow("بدون دسته", False)

    def cat(cid: int | None) -> CategoryRow:
        return cats.get(cid, no_cat) if cid else no_cat

    # Over a long period «+ 0» keeps the planner off the day-first indexes for the per-person queries (a range
    # read, then a sort of every row) and on the person-first ones, read whole in the order they group by:
    # 3-4x less work over a year of 100,000 requests. A short period reads its few days and sorts them.
    long_period = not daily_p90
    rec_jd = SR.received_jd + pw.SQL("0") if long_period else SR.received_jd
    res_jd = SR.resolved_jd + pw.SQL("0") if long_period else SR.resolved_jd

    # received side: per day, then per person and category (two small results, each read from an index)
    in_period = where(SR.received_jd.between(a, b))
    q = (SR.select(SR.received_jd, pw.fn.COUNT(pw.SQL("*")), pw.fn.COUNT(SR.response_minutes),
                   pw.fn.SUM(SR.response_minutes)).where(in_period).group_by(SR.received_jd).tuples())
    for jd, n, rn, rs in db.execute(q).fetchall():
        bk = day(jd)
        bk.received, bk.resp_n, bk.resp_sum = n, rn, rs or 0
    q = (SR.select(SR.assignee, SR.category, pw.fn.COUNT(pw.SQL("*"))).where(where(rec_jd.between(a, b)))
         .group_by(SR.assignee, SR.category).tuples())
    for uid, cid, n in db.execute(q).fetchall():
        person(uid).received += n
        cat(cid).received += n
    # resolved side, the same way
    closed_aggs = (pw.fn.COUNT(pw.SQL("*")), pw.fn.COUNT(SR.service_minutes), pw.fn.SUM(SR.service_minutes), met,
                   pw.fn.COUNT(SR.satisfaction), pw.fn.SUM(SR.satisfaction), pw.fn.SUM(SR.reply_count))
    resolved = where(SR.resolved_jd.between(a, b))
    q = SR.select(SR.resolved_jd, *closed_aggs).where(resolved).group_by(SR.resolved_jd).tuples()
    for jd, *aggs in db.execute(q).fetchall():
        day(jd).add_closed(*aggs)
    q = (SR.select(SR.resolved_by, SR.category, *closed_aggs).where(where(res_jd.between(a, b)))
         .group_by(SR.resolved_by, SR.category).tuples())
    for uid, cid, n, sn, ss, mt, satn, sats, rep in db.execute(q).fetchall():
        person(uid).add_closed(n, sn, ss, mt, satn, sats, rep)
        c = cat(cid)
        c.closed += n
        c.service_n += sn
        c.service_sum += ss or 0
        c.met += mt or 0
        c.sat_n += satn
        c.sat_sum += sats or 0
    # open at the period's end, per person and category
    q = (SR.select(SR.assignee, SR.category, pw.fn.COUNT(pw.SQL("*")))
         .where(where(SR.received_jd <= b, SR.resolved_jd.is_null() | (SR.resolved_jd > b)))
         .group_by(SR.assignee, SR.category).tuples())
    for uid, cid, n in db.execute(q).fetchall():
        person(uid).open_end += n
        cat(cid).open_now += n
    # response-time histograms: per person (and the whole period), per day or per month
    q = (SR.select(SR.first_response_by, SR.response_minutes, pw.fn.COUNT(pw.SQL("*")))
         .where(where(rec_jd.between(a, b), SR.response_minutes.is_null(False)))
         .group_by(SR.first_response_by, SR.response_minutes).tuples())
    total = Bucket("total", "کل دوره")
    for uid, m, n in db.execute(q).fetchall():
        p = person(uid)
        p.resp_n += n
        p.resp_sum += m * n
        p.add_hist(m, n)
        total.add_hist(m, n)
    month_key = SR.received_jd / 100 if not daily_p90 else SR.received_jd
    q = (SR.select(month_key, SR.response_minutes, pw.fn.COUNT(SR.id))
         .where(where(SR.received_jd.between(a, b), SR.response_minutes.is_null(False)))
         .group_by(month_key, SR.response_minutes).tuples())
    month_hist: dict[int, dict[int, int]] = {}
    for key, m, n in (db.execute(q).fetchall() if daily_p90 or detail else ()):
        if daily_p90:
            day(int(key)).add_hist(m, n)
        else:
            h = month_hist.setdefault(int(key), {})
            h[m] = h.get(m, 0) + n

    before_rec = SR.select().where(where(SR.received_jd < a)).count()
    before_res = SR.select().where(where(SR.resolved_jd < a)).count()
    ordered = [days[k] for k in sorted(days)]
    cum = before_rec - before_res
    for bk in ordered:
        cum += bk.received - bk.closed
        bk.open_end = cum

    dated = [(_jd_to_date(int(bk.key)), bk) for bk in ordered]

    def rolled_up(period: str, bucket_for: Callable[[dt.date], Bucket]) -> list[Bucket]:
        """The days' buckets merged per Jalali week or month, in day order."""
        out = []
        for start, days_in in jalali.group_by_period(dated, lambda day_bk: day_bk[0], period):
            agg = bucket_for(start)
            for _day, bk in days_in:
                _merge(agg, bk)
            out.append(agg)
        return out

    def month_bucket(start: dt.date) -> Bucket:
        mk = hours.jd(start) // 100
        return Bucket(mk, jalali.month_label(mk // 100, mk % 100),
                      resp_hist={} if daily_p90 else (month_hist.get(mk, {}) if detail else None))

    weeks = rolled_up("week", lambda ws: Bucket(hours.jd(ws), f"هفته {fmt.date(ws)}",
                                                resp_hist={} if daily_p90 else None))
    months = rolled_up("month", month_bucket)
    for bk in ordered:
        _merge(total, bk)
    person_rows = sorted(people.values(), key=lambda p: (-p.closed, -p.received, p.label))
    cat_rows = sorted([r for r in [*cats.values(), no_cat] if r.received or r.closed or r.open_now],
                      key=lambda r: (not r.is_complaint, -r.received, r.name))
    return ServiceKpis(date_from, date_to, total, ordered, weeks, months, person_rows, cat_rows)


def _merge(agg: Bucket, bk: Bucket) -> None:
    agg.received += bk.received
    agg.add_closed(bk.closed, bk.service_n, bk.service_sum, bk.sla_met, bk.sat_n, bk.sat_sum, bk.replies_sum)
    agg.resp_n += bk.resp_n
    agg.resp_sum += bk.resp_sum
    if bk.resp_hist and agg.key != "total":     # the period's own histogram comes from its own query
        for m, n in bk.resp_hist.items():
            agg.add_hist(m, n)
    agg.open_end = bk.open_end                  # the last day's figure: buckets are merged in day order


# --- text and Excel -------------------------------------------------------------------------------------------

def minutes_text(m: float | None) -> str:
    """95 → «۱ ساعت و ۳۵ دقیقه»; 12.5 → «۱۲٫۵ دقیقه»; None → «—»."""
    if m is None:
        return "—"
    if m < 60:
        return f"{fmt.num(round(m, 1))} دقیقه"
    h, mm = divmod(int(round(m)), 60)
    return f"{fmt.num(h)} ساعت" + (f" و {fmt.num(mm)} دقیقه" if mm else "")


COLUMNS = (("label", "دوره"), ("received", "دریافتی"), ("closed", "بسته‌شده"), ("open_end", "باز در پایان"),
           ("avg_response", "میانگین تا پاسخ (دقیقه)"), ("p90_response", "صدک ۹۰ تا پاسخ (دقیقه)"),
           ("avg_service", "میانگین زمان خدمت (دقیقه)"), ("sla_pct", "درصد در مهلت"),
           ("satisfaction", "رضایت (از ۵)"), ("avg_replies", "میانگین پاسخ به ازای درخواست"))


def export_xlsx(k: ServiceKpis, path: str | Path, progress=None, cancel=None) -> Path:
    """One workbook: summary, per day, per week, per month, per person, per category (complaints first).
    Numbers are numbers (minutes, percents), so the office can chart them again."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    sheets = (("خلاصه", [k.total], "دوره"), ("روزانه", k.days, "روز"), ("هفتگی", k.weeks, "هفته"),
              ("ماهانه", k.months, "ماه"), ("همکاران", k.people, "همکار"))
    for i, (title, buckets, first) in enumerate(sheets):
        if cancel is not None and cancel():
            from app.core.errors import UserError

            raise UserError("خروجی لغو شد.")
        ws = wb.create_sheet(title)
        ws.sheet_view.rightToLeft = True
        ws.append([f"شاخص‌های خدمات پس از فروش — {title}", k.period])
        ws["A1"].font = Font(bold=True)
        ws.append([first] + [c[1] for c in COLUMNS[1:]])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for bk in buckets:
            ws.append([bk.label] + [getattr(bk, c[0]) for c in COLUMNS[1:]])
        ws.column_dimensions["A"].width = 22
        if progress is not None:
            progress(i + 1, len(sheets) + 1)
    ws = wb.create_sheet("دسته‌ها و شکایت‌ها")
    ws.sheet_view.rightToLeft = True
    ws.append(["دسته", "شکایت", "دریافتی", "باز", "بسته‌شده", "میانگین زمان خدمت (دقیقه)", "درصد در مهلت",
               "رضایت (از ۵)"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for c in k.categories:
        ws.append([c.name, "بله" if c.is_complaint else "", c.received, c.open_now, c.closed, c.avg_service,
                   c.sla_pct, c.satisfaction])
    ws.column_dimensions["A"].width = 22
    tmp = path.with_name(path.name + ".part")
    try:
        wb.save(tmp)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        from app.core.errors import UserError

        raise UserError(f"پرونده اکسل نوشته نشد: {fmt.path(path)}", details=str(e)) from e
    if progress is not None:
        progress(len(sheets) + 1, len(sheets) + 1)
    return path
