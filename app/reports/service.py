"""Reports an owner reads at a glance: sales, calls, customers, tasks — as tables with a chart, for a Jalali
date range, exportable to Excel (app.excel_export) and printable to PDF (reportlab + app.pdf_text).

    result = reports.run("sales_month", date_from, date_to)     # ReportResult: columns, rows, chart
    reports.export_xlsx(result, "sales.xlsx")
    reports.export_pdf(result, "sales.pdf")

Sales figures come from app.sales (issued invoices only; see its docstring); when that module is absent
the sales reports come back empty with a note. Dates are Gregorian `datetime.date`, inclusive; None = open.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import fmt
from app.core.errors import UserError
from app.core.jalali import format_date, month_label, to_jalali
from app.core.text import to_persian_digits
from app.excel.export import Column, period_label, write_xlsx
from app.office import audit, roles
from models.base import as_date, db

logger = logging.getLogger(__name__)

UNKNOWN = "نامشخص"
NO_USER = "بدون کاربر"


@dataclass
class Chart:
    """What to draw: one bar (or line/pie) per label, one series per (title, key)."""

    kind: str                               # "bar" | "hbar" | "line" | "pie"
    label_key: str
    series: list[tuple[str, str]]           # (Persian series title, row key)
    money: bool = False


@dataclass
class ReportResult:
    key: str
    title: str
    period: str
    columns: list[Column]
    rows: list[dict]
    chart: Chart | None = None
    note: str = ""                          # e.g. why it is empty
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class ReportDef:
    key: str
    title: str
    group: str
    fn: Callable[[dt.date | None, dt.date | None], ReportResult]


REPORTS: dict[str, ReportDef] = {}


def _report(key: str, title: str, group: str):
    def deco(fn):
        REPORTS[key] = ReportDef(key, title, group, fn)
        return fn
    return deco


def run(key: str, date_from: dt.date | None = None, date_to: dt.date | None = None) -> ReportResult:
    if key not in REPORTS:
        raise UserError(f"گزارشی به نام «{key}» نیست.")
    if date_from and date_to and date_from > date_to:
        raise UserError("تاریخ «از» بعد از تاریخ «تا» است.")
    return REPORTS[key].fn(date_from, date_to)


def _totals(rows: list[dict], keys: list[str]) -> dict[str, Any]:
    return {k: sum(r.get(k) or 0 for r in rows) for k in keys}


# --- sales --------------------------------------------------------------------------------------------------

def _top(by: str, key: str, title: str, date_from, date_to) -> ReportResult:
    cols = [Column("rank", "رتبه", "int", width=7), Column("name", "مشتری"), Column("count", "تعداد فاکتور", "int"),
            Column("amount", "مبلغ کل (ریال)", "money")]
    from app.sales.reports import top_customers
    rows = [{"rank": i, "name": c.customer_name, "count": c.count, "amount": c.amount, "customer_id": c.customer_id}
            for i, c in enumerate(top_customers(date_from, date_to, by=by, limit=20), 1)]
    chart = Chart("hbar", "name", [("تعداد فاکتور", "count")] if by == "count" else [("مبلغ (ریال)", "amount")],
                  money=by != "count")
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows, chart,
                        "" if rows else "در این بازه فاکتور صادرشده‌ای نیست.", _totals(rows, ["count", "amount"]))


@_report("top_customers_amount", "مشتریان برتر بر اساس مبلغ خرید", "فروش")
def top_customers_amount(date_from=None, date_to=None) -> ReportResult:
    return _top("amount", "top_customers_amount", "مشتریان برتر بر اساس مبلغ خرید", date_from, date_to)


@_report("top_customers_count", "مشتریان برتر بر اساس تعداد خرید", "فروش")
def top_customers_count(date_from=None, date_to=None) -> ReportResult:
    return _top("count", "top_customers_count", "مشتریان برتر بر اساس تعداد خرید", date_from, date_to)


@_report("sales_month", "فروش ماهانه", "فروش")
def sales_month(date_from=None, date_to=None) -> ReportResult:
    key, title = "sales_month", "فروش ماهانه"
    cols = [Column("month", "ماه"), Column("count", "تعداد فاکتور", "int"), Column("amount", "فروش (ریال)", "money"),
            Column("vat", "مالیات بر ارزش افزوده (ریال)", "money")]
    from app.sales.reports import sales_by_month
    rows = [{"month": month_label(m.jalali_year, m.jalali_month), "year": m.jalali_year, "month_no": m.jalali_month,
             "count": m.count, "amount": m.amount, "vat": m.vat} for m in sales_by_month(date_from, date_to)]
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows,
                        Chart("bar", "month", [("فروش (ریال)", "amount")], money=True),
                        "" if rows else "در این بازه فاکتور صادرشده‌ای نیست.", _totals(rows, ["count", "amount", "vat"]))


@_report("sales_rep", "فروش به تفکیک فروشنده", "فروش")
def sales_rep(date_from=None, date_to=None) -> ReportResult:
    key, title = "sales_rep", "فروش به تفکیک فروشنده"
    cols = [Column("name", "فروشنده"), Column("count", "تعداد فاکتور", "int"), Column("amount", "فروش (ریال)", "money"),
            Column("share", "سهم (درصد)", "number")]
    from app.sales.reports import sales_by_rep
    data = sales_by_rep(date_from, date_to)
    total = sum(r.amount for r in data) or 1
    rows = [{"name": r.rep_name, "count": r.count, "amount": r.amount, "share": round(r.amount * 100 / total, 1)}
            for r in data]
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows,
                        Chart("pie", "name", [("فروش (ریال)", "amount")], money=True),
                        "" if rows else "در این بازه فاکتور صادرشده‌ای نیست.", _totals(rows, ["count", "amount"]))


# --- calls --------------------------------------------------------------------------------------------------

def _call_groups(date_from, date_to, by: str) -> list[tuple]:
    """(key, kind, calls, seconds) of the calls in the range, summed by the database a key (`by`: "day", a
    date; "user", the user's name or None) and a kind («missed», «outgoing», «incoming») at a time: a year of
    a busy office's calls is hundreds of thousands of rows."""
    import peewee as pw

    from models.calls import Call
    from models.core import User

    kind = pw.Case(None, [(Call.state == "missed", "missed"), (Call.direction == "out", "outgoing")], "incoming")
    key = pw.fn.DATE(Call.started_at) if by == "day" else User.name
    q = Call.select(key, kind, pw.fn.COUNT(Call.id), pw.fn.SUM(pw.fn.COALESCE(Call.duration, 0)))
    if by != "day":
        q = q.join(User, pw.JOIN.LEFT_OUTER, on=(Call.user == User.id))
    if date_from:
        q = q.where(Call.started_at >= dt.datetime.combine(date_from, dt.time()))
    if date_to:
        q = q.where(Call.started_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))
    return [(as_date(k) if by == "day" else k, kd, int(n), int(sec or 0))
            for k, kd, n, sec in db.execute(q.group_by(key, kind)).fetchall()]


def _call_counts(bucket: dict, kind: str, calls: int, seconds: int) -> None:
    bucket[kind] += calls
    bucket["total"] += calls
    bucket["minutes"] += seconds / 60


_CALL_COLS = [Column("incoming", "ورودی پاسخ‌داده", "int"), Column("missed", "بی‌پاسخ", "int"),
              Column("outgoing", "خروجی", "int"), Column("total", "جمع", "int")]


@_report("calls_day", "تماس‌ها در هر روز", "تماس")
def calls_day(date_from=None, date_to=None) -> ReportResult:
    rows_raw = _call_groups(date_from, date_to, "day")
    days: dict[dt.date, dict] = {}
    if rows_raw or (date_from and date_to):
        first = date_from or min(r[0] for r in rows_raw)
        last = date_to or max(r[0] for r in rows_raw)
        if (last - first).days <= 400:
            d = first
            while d <= last:
                days[d] = {"incoming": 0, "missed": 0, "outgoing": 0, "total": 0, "minutes": 0.0}
                d += dt.timedelta(days=1)
    for day, kind, calls, seconds in rows_raw:
        b = days.setdefault(day, {"incoming": 0, "missed": 0, "outgoing": 0, "total": 0, "minutes": 0.0})
        _call_counts(b, kind, calls, seconds)
    rows = [{"day": format_date(d, persian=False), "date": d, **b} for d, b in sorted(days.items())]
    for r in rows:
        r["minutes"] = round(r["minutes"])
    cols = [Column("day", "روز", "text")] + _CALL_COLS
    return ReportResult("calls_day", "تماس‌ها در هر روز", period_label(date_from, date_to), cols, rows,
                        Chart("line", "day", [("ورودی", "incoming"), ("بی‌پاسخ", "missed"), ("خروجی", "outgoing")]),
                        "" if rows_raw else "در این بازه تماسی ثبت نشده است.",
                        _totals(rows, ["incoming", "missed", "outgoing", "total"]))


@_report("calls_person", "تماس‌ها به تفکیک کاربر", "تماس")
def calls_person(date_from=None, date_to=None) -> ReportResult:
    people: dict[str, dict] = {}
    for user, kind, calls, seconds in _call_groups(date_from, date_to, "user"):
        b = people.setdefault(user or NO_USER, {"incoming": 0, "missed": 0, "outgoing": 0, "total": 0, "minutes": 0.0})
        _call_counts(b, kind, calls, seconds)
    rows = sorted(({"name": k, **v} for k, v in people.items()), key=lambda r: -r["total"])
    for r in rows:
        r["minutes"] = round(r["minutes"])
    cols = [Column("name", "کاربر")] + _CALL_COLS + [Column("minutes", "مدت مکالمه (دقیقه)", "int")]
    return ReportResult("calls_person", "تماس‌ها به تفکیک کاربر", period_label(date_from, date_to), cols, rows,
                        Chart("bar", "name", [("ورودی", "incoming"), ("بی‌پاسخ", "missed"), ("خروجی", "outgoing")]),
                        "" if rows else "در این بازه تماسی ثبت نشده است.",
                        _totals(rows, ["incoming", "missed", "outgoing", "total", "minutes"]))


# --- customers ----------------------------------------------------------------------------------------------

def _customer_groups(key: str, title: str, label: str, value_of: str, date_from, date_to,
                     labels: dict | None = None) -> ReportResult:
    import peewee as pw

    from models.core import Address, Customer

    if value_of == "city" and (date_from or date_to):
        # a period's customers: the city of each one's first address, looked up customer by customer (joining
        # every customer's first address first reads the whole address table: at a million customers, «امسال»
        # 1.6 → 1.3 s)
        first_city = (Address.select(Address.city).where(Address.customer == Customer.id)
                      .order_by(Address.id).limit(1))
        col = pw.fn.COALESCE(first_city, "")
        q = Customer.select(col.alias("v"), pw.fn.COUNT(Customer.id).alias("n"))
    elif value_of == "city":
        # every customer: the first addresses of all, found in one pass (3.3 s at a million; a look-up per
        # customer took 5)
        firsts = (Address.select(Address.customer.alias("cid"), pw.fn.MIN(Address.id).alias("aid"))
                  .group_by(Address.customer).alias("fa"))
        col = pw.fn.COALESCE(Address.city, "")
        q = (Customer.select(col.alias("v"), pw.fn.COUNT(Customer.id).alias("n"))
             .join(firsts, pw.JOIN.LEFT_OUTER, on=(firsts.c.cid == Customer.id))
             .join(Address, pw.JOIN.LEFT_OUTER, on=(Address.id == firsts.c.aid)))
    else:
        col = getattr(Customer, value_of)        # a period's: from the customer_report index (migration 23)
        q = Customer.select(col.alias("v"), pw.fn.COUNT(Customer.id).alias("n"))
    q = q.where(Customer.merged_into.is_null())
    if date_from:
        q = q.where(Customer.created_at >= dt.datetime.combine(date_from, dt.time()))
    if date_to:
        q = q.where(Customer.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))
    q = q.group_by(pw.SQL("v"))                   # the alias: a city's look-up made once per customer
    counts: dict[str, int] = {}
    for v, n in db.execute(q).fetchall():
        name = (labels or {}).get(v, v) or UNKNOWN
        counts[name] = counts.get(name, 0) + n
    total = sum(counts.values()) or 1
    rows = [{"name": k, "count": v, "share": round(v * 100 / total, 1)}
            for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    cols = [Column("name", label), Column("count", "تعداد مشتری", "int"), Column("share", "سهم (درصد)", "number")]
    chart_kind = "pie" if len(rows) <= 8 else "hbar"
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows,
                        Chart(chart_kind, "name", [("تعداد مشتری", "count")]),
                        "" if rows else "در این بازه مشتری تازه‌ای ثبت نشده است.", _totals(rows, ["count"]))


@_report("customers_source", "مشتریان بر اساس نحوه آشنایی", "مشتریان")
def customers_source(date_from=None, date_to=None) -> ReportResult:
    return _customer_groups("customers_source", "مشتریان بر اساس نحوه آشنایی", "نحوه آشنایی", "source",
                            date_from, date_to)


@_report("customers_type", "مشتریان بر اساس نوع", "مشتریان")
def customers_type(date_from=None, date_to=None) -> ReportResult:
    return _customer_groups("customers_type", "مشتریان بر اساس نوع", "نوع مشتری", "customer_type",
                            date_from, date_to)


@_report("customers_kind", "مشتریان حقیقی و حقوقی", "مشتریان")
def customers_kind(date_from=None, date_to=None) -> ReportResult:
    from app.customers.service import KIND_LABELS

    return _customer_groups("customers_kind", "مشتریان حقیقی و حقوقی", "نوع", "kind", date_from, date_to,
                            KIND_LABELS)


@_report("customers_city", "مشتریان بر اساس شهر", "مشتریان")
def customers_city(date_from=None, date_to=None) -> ReportResult:
    return _customer_groups("customers_city", "مشتریان بر اساس شهر", "شهر", "city", date_from, date_to)


# --- tasks --------------------------------------------------------------------------------------------------

@_report("tasks_person", "کارها و پیگیری‌ها به تفکیک کاربر", "کارها")
def tasks_person(date_from=None, date_to=None) -> ReportResult:
    cols = [Column("name", "کاربر"), Column("open", "باز", "int"), Column("overdue", "عقب‌افتاده", "int"),
            Column("done", "انجام‌شده", "int"), Column("total", "جمع", "int")]
    key, title = "tasks_person", "کارها و پیگیری‌ها به تفکیک کاربر"
    try:
        import peewee as pw

        from models.core import User
        from models.tasks import Task
    except ImportError:
        return ReportResult(key, title, period_label(date_from, date_to), cols, [], note="بخش کارها نصب نشده است.")
    from app.core.clock import now

    # summed by the database a user, a status and lateness at a time (a year of an office's tasks is hundreds of
    # thousands of rows)
    late = pw.Case(None, [(Task.due_at < now(), 1)], 0)
    q = (Task.select(User.name, Task.status, late, pw.fn.COUNT(Task.id))
         .join(User, pw.JOIN.LEFT_OUTER, on=(Task.assignee == User.id)))
    if date_from:
        q = q.where(Task.created_at >= dt.datetime.combine(date_from, dt.time()))
    if date_to:
        q = q.where(Task.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))
    people: dict[str, dict] = {}
    for user, status, overdue, n in db.execute(q.group_by(User.name, Task.status, late)).fetchall():
        b = people.setdefault(user or NO_USER, {"open": 0, "overdue": 0, "done": 0, "total": 0})
        if status == "done":
            b["done"] += n
        elif status not in ("cancelled", "canceled"):
            b["open"] += n
            if overdue:
                b["overdue"] += n
        b["total"] += n
    rows = sorted(({"name": k, **v} for k, v in people.items()), key=lambda r: -r["total"])
    return ReportResult(key, title, period_label(date_from, date_to), cols, rows,
                        Chart("bar", "name", [("باز", "open"), ("عقب‌افتاده", "overdue"), ("انجام‌شده", "done")]),
                        "" if rows else "در این بازه کاری ثبت نشده است.",
                        _totals(rows, ["open", "overdue", "done", "total"]))


# --- output -------------------------------------------------------------------------------------------------

def rows_with_total(result: ReportResult) -> list[dict]:
    rows = list(result.rows)
    if result.totals and rows:
        first = result.columns[0].key
        total = {first: "جمع"}
        total.update(result.totals)
        rows.append(total)
    return rows


@roles.guard("export")
@audit.exported("report")
def export_xlsx(result: ReportResult, path: str | Path, progress=None, cancel=None) -> Path:
    res = write_xlsx(path, result.columns, rows_with_total(result), title=result.title, subtitle=result.period,
                     sheet_name=result.title, total=len(result.rows), progress=progress, cancel=cancel)
    return res.path


def cell_text(col: Column, value: Any) -> str:
    """A value as the report shows it on screen and paper (Persian digits, thousands separators)."""
    if value is None or value == "":
        return ""
    if col.kind in ("int", "money", "id") and isinstance(value, int | float):
        return fmt.num(value)
    if col.kind == "number" and isinstance(value, int | float):
        return fmt.num(value)
    if isinstance(value, dt.date):
        return format_date(value)
    return to_persian_digits(value) if col.kind in ("date", "datetime") or str(value).replace("/", "").isdigit() \
        else str(value)


def export_pdf(result: ReportResult, path: str | Path, chart_png: bytes | None = None) -> Path:
    """A4 portrait: title, period and date, the chart (a PNG the UI grabbed, optional), then the table with a
    header row repeated on each page and a total row."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as rl_canvas

    from app.core import pdf_text as pt
    from app.core.clock import today

    font, bold = pt.register_fonts()
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        path = path.with_suffix(".pdf")
    if not path.parent.is_dir():
        raise UserError(f"پوشه «{path.parent}» وجود ندارد.")
    W, H = A4
    margin = 36
    right = W - margin
    usable = W - 2 * margin
    try:
        c = rl_canvas.Canvas(str(path), pagesize=A4)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» ساخته نشد.", details=str(e)) from e
    c.setTitle(result.title)
    # columns right to left, widths by content
    sample = rows_with_total(result)
    weights = []
    for col in result.columns:
        longest = max([pt.text_width(col.title, bold, 8)] +
                      [pt.text_width(cell_text(col, r.get(col.key)), font, 8) for r in sample[:200]])
        weights.append(min(max(longest + 12, 40), 220))
    scale = usable / sum(weights)
    pcols = [pt.Column(col.key, col.title, w * scale, align="right" if col.kind == "text" else "center",
                       fit="wrap" if col.kind == "text" else "shrink") for col, w in zip(result.columns, weights,
                                                                                        strict=True)]
    page = [1]

    def header_block(first: bool) -> float:
        y = H - margin
        pt.draw_text(c, result.title, right, y - 14, bold, 15)
        pt.draw_text(c, f"{result.period} — تاریخ گزارش: {format_date(today())}", right, y - 32, font, 9)
        pt.draw_text(c, f"صفحه {to_persian_digits(page[0])}", margin, y - 14, font, 8, align="left")
        y -= 44
        if first and chart_png:
            img = ImageReader(_png_stream(chart_png))
            iw, ih = img.getSize()
            w = usable
            h = min(w * ih / iw, 300)
            w = h * iw / ih
            c.drawImage(img, right - w - (usable - w) / 2, y - h, w, h)
            y -= h + 12
        if first and result.note:
            y = pt.draw_paragraph(c, result.note, right, y, usable, font, 10) - 6
        head = pt.layout_row({p.key: p.title for p in pcols}, pcols, bold, 8)
        c.setStrokeColor(colors.HexColor("#8899AA"))
        return pt.draw_row(c, head, pcols, right, y, bold, 8, fill=colors.HexColor("#DDE7F0"))

    y = header_block(True)
    for i, r in enumerate(sample):
        values = {col.key: cell_text(col, r.get(col.key)) for col in result.columns}
        is_total = result.totals and i == len(sample) - 1 and len(sample) > len(result.rows)
        row = pt.layout_row(values, pcols, bold if is_total else font, 8)
        if y - row.height < margin:
            c.showPage()
            page[0] += 1
            y = header_block(False)
        y = pt.draw_row(c, row, pcols, right, y, bold if is_total else font, 8,
                        fill=colors.HexColor("#F3F6F9") if is_total else None)
    try:
        c.save()
    except OSError as e:
        raise UserError(f"فایل «{path.name}» نوشته نشد (شاید باز است).", details=str(e)) from e
    return path


def _png_stream(data: bytes):
    import io

    return io.BytesIO(data)


def jalali_year_range(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the Jalali year `day` falls in (the page's default period)."""
    from app.core.jalali import from_jalali, is_leap

    y = to_jalali(day).year
    return from_jalali(y, 1, 1), from_jalali(y, 12, 30 if is_leap(y) else 29)
