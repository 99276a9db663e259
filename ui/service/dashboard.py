"""«داشبورد خدمات»: the seeds' service KPIs for a Jalali period — cards, charts (received and closed per day,
week or month; closed per colleague), a table per colleague and per category (complaints first); Excel export.
Figures come from app.service.kpi; this page only draws them."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QHorizontalBarSeries
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.clock import today
from app.service import kpi
from ui.context import AppContext
from ui.reports.charts import COLORS, new_chart, value_axis
from ui.reports.page import PRESETS, preset_range
from ui.widgets.columns import fit_columns

logger = logging.getLogger(__name__)

CARD_STYLE = ("QFrame#kpiCard { background: white; border: 1px solid #e5e7eb; border-radius: 6px; }"
              "QLabel#kpiValue { font-size: 15pt; font-weight: bold; color: #111827; }"
              "QLabel#kpiTitle { color: #6b7280; }")
CARDS = (("received", "درخواست دریافتی"), ("closed", "بسته‌شده"), ("open_end", "باز در پایان دوره"),
         ("avg_response", "میانگین انتظار تا پاسخ"), ("p90_response", "صدک ۹۰ انتظار"),
         ("avg_service", "میانگین زمان خدمت"), ("sla_pct", "انجام در مهلت"), ("satisfaction", "رضایت مشتری"))
PEOPLE_COLUMNS = ("همکار", "دریافتی", "بسته‌شده", "باز", "میانگین تا پاسخ", "صدک ۹۰ تا پاسخ",
                  "میانگین زمان خدمت", "در مهلت", "رضایت")
CATEGORY_COLUMNS = ("دسته", "دریافتی", "باز", "بسته‌شده", "میانگین زمان خدمت", "در مهلت", "رضایت")


def card_text(key: str, b: kpi.Bucket) -> str:
    v = getattr(b, key)
    if key in ("avg_response", "p90_response", "avg_service"):
        return kpi.minutes_text(v)
    if key == "sla_pct":
        return "—" if v is None else fmt.percent(v)
    if key == "satisfaction":
        return "—" if v is None else f"{fmt.num(v)} از ۵"
    return fmt.num(v)


def _pct(v: float | None) -> str:
    return "—" if v is None else fmt.percent(v)


def _score(v: float | None) -> str:
    return "—" if v is None else fmt.num(v)


class ServiceDashboard(QWidget):
    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.result: kpi.ServiceKpis | None = None
        self.last_export = None
        self._build()
        self.preset.setCurrentIndex(next(i for i, (k, _t) in enumerate(PRESETS) if k == "this_month"))
        self.preset.currentIndexChanged.connect(self.refresh)
        self.complaints.toggled.connect(self.refresh)

    def _build(self) -> None:
        self.setStyleSheet(CARD_STYLE)
        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("بازه:"))
        self.preset = QComboBox()
        for key, label in PRESETS:
            if key != "custom":
                self.preset.addItem(label, key)
        bar.addWidget(self.preset)
        self.complaints = QCheckBox("فقط شکایت‌ها")
        bar.addWidget(self.complaints)
        self.period = QLabel()
        self.period.setProperty("role", "muted")
        bar.addWidget(self.period)
        bar.addStretch(1)
        self.refresh_button = QPushButton("به‌روزرسانی")
        self.excel_button = QPushButton("خروجی اکسل…")
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.excel_button)
        self.refresh_button.clicked.connect(self.refresh)
        self.excel_button.clicked.connect(self.export_excel)
        outer.addLayout(bar)

        grid = QGridLayout()
        self.cards: dict[str, QLabel] = {}
        for i, (key, title) in enumerate(CARDS):
            f = QFrame()
            f.setObjectName("kpiCard")
            fl = QVBoxLayout(f)
            t = QLabel(title)
            t.setObjectName("kpiTitle")
            v = QLabel("—")
            v.setObjectName("kpiValue")
            fl.addWidget(t)
            fl.addWidget(v)
            self.cards[key] = v
            grid.addWidget(f, i // 4, i % 4)
        outer.addLayout(grid)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.trend_view = QChartView()
        self.trend_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.trend_view.setMinimumHeight(260)
        self.people_view = QChartView()
        self.people_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        split.addWidget(self.trend_view)
        split.addWidget(self.people_view)
        split.setSizes([600, 400])
        outer.addWidget(split, 3)

        tables = QSplitter(Qt.Orientation.Horizontal)
        self.people_table = self._table(PEOPLE_COLUMNS)
        self.category_table = self._table(CATEGORY_COLUMNS)
        tables.addWidget(self.people_table)
        tables.addWidget(self.category_table)
        tables.setSizes([560, 440])
        outer.addWidget(tables, 2)

    @staticmethod
    def _table(columns) -> QTableWidget:
        t = QTableWidget(0, len(columns))
        t.setHorizontalHeaderLabels(list(columns))
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().hide()
        t.horizontalHeader().setStretchLastSection(True)       # the others: fit_columns after each fill
        return t

    # --- data ------------------------------------------------------------------------------------------------
    def period_range(self) -> tuple[dt.date, dt.date]:
        key = self.preset.currentData()
        lo, hi = preset_range(key, today())
        if lo is None:
            from app.service.requests import first_received_day

            lo, hi = first_received_day() or today(), today()
        return lo, hi

    def refresh(self) -> None:
        lo, hi = self.period_range()
        self.result = k = kpi.compute(lo, hi, complaints_only=self.complaints.isChecked())
        self.period.setText(k.period)
        for key, label in self.cards.items():
            label.setText(card_text(key, k.total))
        self._fill_people(k)
        self._fill_categories(k)
        self.trend_view.setChart(self._trend_chart(k))
        self.people_view.setChart(self._people_chart(k))

    def _fill_people(self, k: kpi.ServiceKpis) -> None:
        t = self.people_table
        t.setRowCount(len(k.people))
        for i, p in enumerate(k.people):
            vals = (p.label, fmt.num(p.received), fmt.num(p.closed), fmt.num(p.open_end),
                    kpi.minutes_text(p.avg_response), kpi.minutes_text(p.p90_response),
                    kpi.minutes_text(p.avg_service), _pct(p.sla_pct), _score(p.satisfaction))
            for j, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if j:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                t.setItem(i, j, it)
        fit_columns(t)

    def _fill_categories(self, k: kpi.ServiceKpis) -> None:
        t = self.category_table
        t.setRowCount(len(k.categories))
        for i, c in enumerate(k.categories):
            vals = (c.name + (" (شکایت)" if c.is_complaint and "شکایت" not in c.name else ""), fmt.num(c.received), fmt.num(c.open_now),
                    fmt.num(c.closed), kpi.minutes_text(c.avg_service), _pct(c.sla_pct), _score(c.satisfaction))
            for j, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if j:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if c.is_complaint:
                    it.setForeground(QColor("#b91c1c"))
                t.setItem(i, j, it)
        fit_columns(t)

    @staticmethod
    def _chart(title: str) -> QChart:
        return new_chart(title, right_margin=16)

    def _trend_chart(self, k: kpi.ServiceKpis) -> QChart:
        unit, buckets = k.series()
        names = {"day": "روز", "week": "هفته", "month": "ماه"}
        chart = self._chart(f"درخواست‌های دریافتی و بسته‌شده در هر {names[unit]}")
        buckets = buckets[-31:]
        if not buckets or not any(b.received or b.closed for b in buckets):
            chart.setTitle("در این بازه درخواستی ثبت نشده است.")
            return chart
        if unit == "day":
            labels = [b.label[5:] for b in buckets]                     # «۰۳/۰۹»: the year is in the period
        elif unit == "week":
            labels = [b.label.replace("هفته ", "")[5:] for b in buckets]
        else:
            labels = [b.label for b in buckets]
        series = QBarSeries()
        for n, (title, key) in enumerate((("دریافتی", "received"), ("بسته‌شده", "closed"))):
            bs = QBarSet(title)
            bs.setColor(QColor(COLORS[n]))
            bs.append([float(getattr(b, key)) for b in buckets])
            series.append(bs)
        chart.addSeries(series)
        cat = QBarCategoryAxis()
        cat.append(labels)
        if len(labels) > 12:
            cat.setLabelsAngle(-60)
        top = max(max(b.received, b.closed) for b in buckets)
        axis = value_axis(max(top, 4))          # counts: whole-number ticks
        chart.addAxis(cat, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(cat)
        series.attachAxis(axis)
        return chart

    def _people_chart(self, k: kpi.ServiceKpis) -> QChart:
        chart = self._chart("درخواست‌های بسته‌شده هر همکار")
        people = [p for p in k.people if p.closed][:8]
        if not people:
            chart.setTitle("در این بازه درخواستی بسته نشده است.")
            return chart
        series = QHorizontalBarSeries()
        bs = QBarSet("بسته‌شده")
        bs.setColor(QColor(COLORS[2]))
        bs.append([float(p.closed) for p in reversed(people)])
        series.append(bs)
        chart.addSeries(series)
        cat = QBarCategoryAxis()
        cat.append([p.label for p in reversed(people)])
        axis = value_axis(max(4, max(p.closed for p in people)))
        chart.addAxis(cat, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(cat)
        series.attachAxis(axis)
        chart.legend().hide()
        return chart

    # --- export ----------------------------------------------------------------------------------------------
    def export_excel(self, path: str | None = None) -> None:
        if self.result is None:
            self.refresh()
        if not path:
            path, _f = QFileDialog.getSaveFileName(self, "خروجی اکسل شاخص‌های خدمات", "service-kpi.xlsx",
                                                   "Excel (*.xlsx)")
            if not path:
                return
        from ui.ops import QueryOp

        lo, hi = self.result.date_from, self.result.date_to
        complaints = self.complaints.isChecked()

        def done(p) -> None:
            self.last_export = p
            self.ctx.bus.status_message.emit(f"خروجی اکسل نوشته شد: {p}")

        # recomputed off the GUI thread with the per-month p90 the sheets carry
        QueryOp(self, op=lambda ctl: kpi.export_xlsx(kpi.compute(lo, hi, complaints_only=complaints, detail=True),
                                                     path, progress=ctl.progress, cancel=ctl.cancelled),
                success=done).with_progress("در حال ساختن پرونده اکسل…").run()
