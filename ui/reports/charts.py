"""Charts of report results, drawn one way wherever a report is shown (the reports section, the pipeline's
reports): bars, horizontal bars, lines and pies with Persian labels and a value axis written by app.fmt.

    chart, height = report_chart(result)        # the chart and the least height its view needs
    view = ReportChartView()                    # a chart view set up for reports (antialiased, axes LTR)
    view.show_report(result)
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QPieSeries,
)
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLocale, QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QApplication

from app import fmt
from app.core.text import to_ascii_digits
from app.reports.service import ReportResult

COLORS = ("#2563eb", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c",
          "#475569")
# Qt Charts replaces a category label by «…» when the label's box (the text's line height plus the
# text item's margins) is taller than the space per bar; Vazirmatn's tall line needs ~27 px at 9 pt.
HBAR_ROW_PX = 30
CHART_MIN_HEIGHT = 300


def _rtl(text: str) -> str:
    """A right-to-left embedding: the chart draws left to right, and «(۲۰٪)» would otherwise flip."""
    return f"\u202b{text}\u202c"


def nice_ticks(top: float, target: int = 5) -> list[float]:
    """0 … a round number at or above `top`, in 1/2/5×10ⁿ steps (about `target` of them)."""
    import math

    if top <= 0:
        return [0, 1]
    raw = top / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def value_axis(top: float) -> QCategoryAxis:
    """A value axis whose labels are written by app.fmt («۵٬۰۰۰», Persian digits, the Persian separator)
    instead of a printf format (which wrote «5,000», and «%.0f» wrote 1.5 as a second «2»)."""
    axis = QCategoryAxis()
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    ticks = nice_ticks(top)
    for v in ticks:
        axis.append(fmt.num(int(v) if float(v).is_integer() else round(v, 6)), v)
    axis.setRange(0, ticks[-1])
    axis.setStartValue(0)
    return axis


def _value_axis(biggest: float, unit: str) -> QCategoryAxis:
    axis = value_axis(max(biggest, 1))
    if unit:
        axis.setTitleText(unit)
    return axis


def new_chart(title: str = "", right_margin: int = 22) -> QChart:
    """An empty chart set up the Persian way: Persian locale and digits, no animation, legend below, room on
    the right for the last value label."""
    chart = QChart()
    if title:
        chart.setTitle(title)
    chart.setLocale(QLocale(QLocale.Language.Persian, QLocale.Country.Iran))
    chart.setLocalizeNumbers(True)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, right_margin, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setFont(QApplication.font())
    return chart


def report_chart(r: ReportResult) -> tuple[QChart, int]:
    """The chart of a report result (its ``chart`` spec; the note as a title when there is nothing to draw),
    and the least height its view needs: a horizontal bar per row needs room for its label."""
    chart = new_chart()
    height = CHART_MIN_HEIGHT
    spec = r.chart
    if spec is None or not r.rows:
        chart.setTitle(r.note or "داده‌ای برای نمودار نیست.")
        chart.legend().hide()
        return chart, height
    # at most ten bars side by side (the table lists every row); a line takes the whole period
    rows = r.rows if spec.kind == "line" else r.rows[:10]
    labels = [str(x.get(spec.label_key, "")) for x in rows]
    if spec.kind == "line":
        labels = [fmt.date(x["date"])[5:] if isinstance(x.get("date"), dt.date) else lab
                  for x, lab in zip(rows, labels, strict=True)]
    scale, unit = 1, ""
    if spec.money:
        biggest = max((abs(x.get(k) or 0) for x in rows for _t, k in spec.series), default=0)
        if biggest >= 10_000_000:
            scale, unit = 1_000_000, "میلیون ریال"
        else:
            unit = "ریال"

    if spec.kind == "pie":
        series = QPieSeries()
        key = spec.series[0][1]
        total = sum(x.get(key) or 0 for x in rows) or 1
        for i, x in enumerate(rows[:9]):
            v = x.get(key) or 0
            sl = series.append(_rtl(f"{x.get(spec.label_key)} ({fmt.num(round(v * 100 / total))}٪)"), v)
            sl.setBrush(QColor(COLORS[i % len(COLORS)]))
        rest = sum(x.get(key) or 0 for x in rows[9:])
        if rest:
            sl = series.append(_rtl(f"سایر ({fmt.num(round(rest * 100 / total))}٪)"), rest)
            sl.setBrush(QColor("#9ca3af"))
        series.setLabelsVisible(True)
        chart.addSeries(series)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
        return chart, height

    cat_axis = QBarCategoryAxis()
    cat_axis.append(labels)
    if spec.kind == "line":
        # a label every few points: 180 days of labels would not fit
        cat_axis = QCategoryAxis()
        cat_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        step = max(1, -(-len(labels) // 12))
        for i in range(0, len(labels), step):
            cat_axis.append(labels[i], i)
        cat_axis.setRange(0, max(len(labels) - 1, 1))
        biggest = 0.0
        for n, (title, key) in enumerate(spec.series):
            s = QLineSeries()
            s.setName(title)
            s.setColor(QColor(COLORS[n % len(COLORS)]))
            for i, x in enumerate(rows):
                v = (x.get(key) or 0) / scale
                biggest = max(biggest, v)
                s.append(i, v)
            chart.addSeries(s)
        value_axis = _value_axis(biggest, unit)
        chart.addAxis(cat_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(value_axis, Qt.AlignmentFlag.AlignLeft)
        for s in chart.series():
            s.attachAxis(cat_axis)
            s.attachAxis(value_axis)
        return chart, height

    series = QHorizontalBarSeries() if spec.kind == "hbar" else QBarSeries()
    biggest = 0.0
    for n, (title, key) in enumerate(spec.series):
        bs = QBarSet(title)
        bs.setColor(QColor(COLORS[n % len(COLORS)]))
        vals = [(x.get(key) or 0) / scale for x in rows]
        biggest = max([biggest, *vals])
        bs.append(vals if spec.kind != "hbar" else list(reversed(vals)))
        series.append(bs)
    chart.addSeries(series)
    value_axis = _value_axis(biggest, unit)
    if spec.kind == "hbar":
        cat_axis.clear()
        cat_axis.append(list(reversed(labels)))      # the first (biggest) at the top
        small = QApplication.font()
        small.setPointSizeF(9)
        cat_axis.setLabelsFont(small)
        height = max(CHART_MIN_HEIGHT, HBAR_ROW_PX * len(labels) + 80)
        chart.addAxis(cat_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(value_axis, Qt.AlignmentFlag.AlignBottom)
    else:
        # «فروردین ۱۴۰۵ … آذر ۱۴۰۵»: one year is said once, under the axis, so the months fit unslanted
        years = {lab.rsplit(" ", 1)[-1] for lab in labels if " " in lab}
        if (len(years) == 1 and all(" " in lab for lab in labels)
                and to_ascii_digits(next(iter(years))).isdigit()):
            cat_axis.clear()
            cat_axis.append([lab.rsplit(" ", 1)[0] for lab in labels])
            cat_axis.setTitleText(f"سال {years.pop()}")
        chart.addAxis(cat_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(value_axis, Qt.AlignmentFlag.AlignLeft)
        if len(labels) > 12:
            cat_axis.setLabelsAngle(-45)
    series.attachAxis(cat_axis)
    series.attachAxis(value_axis)
    if len(spec.series) == 1:
        chart.legend().hide()
    return chart, height


class ReportChartView(QChartView):
    """A chart view for reports: antialiased, axes read left to right, as tall as the chart needs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.setMinimumHeight(CHART_MIN_HEIGHT)

    def show_report(self, r: ReportResult) -> QChart:
        chart, height = report_chart(r)
        self.setMinimumHeight(height)
        self.setChart(chart)
        return chart

    def png(self) -> bytes:
        """The chart as drawn, for a PDF."""
        pix = self.grab()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        pix.save(buf, "PNG")
        buf.close()
        return bytes(data.data())
