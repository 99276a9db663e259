"""The reports section (گزارش‌ها): pick a report, a Jalali date range, read the chart and the table; export
to Excel or print to PDF. Figures come from app.reports; this page only draws them."""
from __future__ import annotations

import datetime as dt
import logging

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
from PySide6.QtGui import QBrush, QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core import jalali
from app.core.clock import today
from app.core.errors import UserError
from app.core.text import to_ascii_digits
from app.reports import service as reports
from ui.context import AppContext

logger = logging.getLogger(__name__)

ROLE = Qt.ItemDataRole.UserRole
COLORS = ("#2563eb", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c",
          "#475569")
PRESETS = (("this_month", "این ماه"), ("last_month", "ماه گذشته"), ("last_30", "۳۰ روز اخیر"),
           ("last_3_months", "سه ماه اخیر"), ("this_year", "امسال"), ("last_year", "سال گذشته"), ("all", "همه تاریخ‌ها"),
           ("custom", "بازه دلخواه"))


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


# Qt Charts replaces a category label by «…» when the label's box (the text's line height plus the
# text item's margins) is taller than the space per bar; Vazirmatn's tall line needs ~27 px at 9 pt.
HBAR_ROW_PX = 30
CHART_MIN_HEIGHT = 300


def preset_range(key: str, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    j = jalali.to_jalali(day)
    if key == "this_month":
        return jalali.from_jalali(j.year, j.month, 1), day
    if key == "last_month":
        first = jalali.add_months(jalali.from_jalali(j.year, j.month, 1), -1)
        lj = jalali.to_jalali(first)
        return jalali.month_range(lj.year, lj.month)
    if key == "last_30":
        return day - dt.timedelta(days=29), day
    if key == "last_3_months":
        return jalali.add_months(jalali.from_jalali(j.year, j.month, 1), -2), day
    if key == "this_year":
        return jalali.from_jalali(j.year, 1, 1), day
    if key == "last_year":
        return reports.jalali_year_range(jalali.from_jalali(j.year - 1, 1, 1))
    return None, None


class ReportsPage(QWidget):
    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.result: reports.ReportResult | None = None
        self._stale = True
        self._build()
        self.ctx.bus.data_changed.connect(self._on_data_changed)
        self.preset.setCurrentIndex(next(i for i, (k, _t) in enumerate(PRESETS) if k == "this_year"))
        self.nav.setCurrentRow(self._first_report_row())

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        from ui.widgets.jalali_date_edit import JalaliDateEdit

        outer = QVBoxLayout(self)
        title = QLabel("گزارش‌ها")
        title.setProperty("role", "title")
        outer.addWidget(title)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("بازه:"))
        self.preset = QComboBox()
        for key, label in PRESETS:
            self.preset.addItem(label, key)
        bar.addWidget(self.preset)
        bar.addWidget(QLabel("از"))
        self.date_from = JalaliDateEdit(self)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("تا"))
        self.date_to = JalaliDateEdit(self)
        bar.addWidget(self.date_to)
        self.show_button = QPushButton("نمایش")
        self.show_button.setDefault(True)
        bar.addWidget(self.show_button)
        bar.addStretch(1)
        self.excel_button = QPushButton("خروجی اکسل")
        self.pdf_button = QPushButton("چاپ PDF")
        bar.addWidget(self.excel_button)
        bar.addWidget(self.pdf_button)
        outer.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.nav = QListWidget()
        self.nav.setMinimumWidth(230)
        self.nav.setMaximumWidth(290)
        group = None
        for key, rdef in reports.REPORTS.items():
            if rdef.group != group:
                group = rdef.group
                head = QListWidgetItem(group)
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                f = QFont()
                f.setBold(True)
                head.setFont(f)
                head.setForeground(QBrush(QColor("#6b7280")))
                self.nav.addItem(head)
            item = QListWidgetItem("   " + rdef.title)
            item.setData(ROLE, key)
            self.nav.addItem(item)
        split.addWidget(self.nav)

        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(6, 0, 0, 0)
        self.heading = QLabel("")
        self.heading.setProperty("role", "subtitle")
        f = self.heading.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.2)
        self.heading.setFont(f)
        bl.addWidget(self.heading)
        self.period = QLabel("")
        self.period.setProperty("role", "muted")
        bl.addWidget(self.period)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #92400e; background: #fef3c7; padding: 6px; border-radius: 4px;")
        self.note.hide()
        bl.addWidget(self.note)
        self.chart_view = QChartView()
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setLayoutDirection(Qt.LayoutDirection.LeftToRight)   # axes read left to right
        self.chart_view.setMinimumHeight(300)
        bl.addWidget(self.chart_view, 3)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        bl.addWidget(self.table, 2)
        split.addWidget(body)
        split.setStretchFactor(1, 1)
        outer.addWidget(split, 1)

        self.nav.currentItemChanged.connect(lambda *_: self.refresh())
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.show_button.clicked.connect(self._on_show)
        self.excel_button.clicked.connect(self.export_excel)
        self.pdf_button.clicked.connect(self.print_pdf)
        self.table.cellDoubleClicked.connect(self._open_row)

    def _first_report_row(self) -> int:
        return next(i for i in range(self.nav.count()) if self.nav.item(i).data(ROLE))

    # --- state -------------------------------------------------------------------------------------------
    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(ROLE) if item else None

    def select_report(self, key: str) -> None:
        for i in range(self.nav.count()):
            if self.nav.item(i).data(ROLE) == key:
                self.nav.setCurrentRow(i)
                return

    def set_range(self, date_from: dt.date | None, date_to: dt.date | None) -> None:
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(len(PRESETS) - 1)
        self.preset.blockSignals(False)
        self.date_from.setDate(date_from)
        self.date_to.setDate(date_to)
        self.refresh()

    def _on_preset(self) -> None:
        key = self.preset.currentData()
        if key == "custom":
            return
        a, b = preset_range(key, today())
        self.date_from.setDate(a)
        self.date_to.setDate(b)
        self.refresh()

    def _on_show(self) -> None:
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(len(PRESETS) - 1)
        self.preset.blockSignals(False)
        self.refresh()

    def _on_data_changed(self, _what: str) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # Qt naming
        super().showEvent(event)
        if self._stale:
            self.refresh()

    # --- drawing -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        key = self.current_key()
        if not key:
            return
        for w in (self.date_from, self.date_to):
            if not w.is_valid():
                self._show_error(w.error() or "تاریخ درست نیست.")
                return
        try:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.result = reports.run(key, self.date_from.date(), self.date_to.date())
            finally:
                QApplication.restoreOverrideCursor()
        except UserError as e:
            self._show_error(e.message)
            return
        self._stale = False
        self._draw(self.result)

    def _show_error(self, message: str) -> None:
        self.note.setText(message)
        self.note.show()

    def _draw(self, r: reports.ReportResult) -> None:
        self.heading.setText(r.title)
        self.period.setText(r.period)
        self.note.setVisible(bool(r.note))
        self.note.setText(r.note)
        self.excel_button.setEnabled(True)
        self.pdf_button.setEnabled(True)
        self._fill_table(r)
        self.chart_view.setChart(self._chart(r))

    def _fill_table(self, r: reports.ReportResult) -> None:
        rows = reports.rows_with_total(r)
        self.table.clear()
        self.table.setColumnCount(len(r.columns))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels([c.title for c in r.columns])
        bold = QFont()
        bold.setBold(True)
        for i, row in enumerate(rows):
            total = i >= len(r.rows)
            for j, col in enumerate(r.columns):
                it = QTableWidgetItem(reports.cell_text(col, row.get(col.key)))
                align = Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if col.kind == "text"
                                                         else Qt.AlignmentFlag.AlignCenter)
                it.setTextAlignment(align)
                if total:
                    it.setFont(bold)
                    it.setBackground(QBrush(QColor("#eef2f7")))
                if j == 0 and row.get("customer_id"):
                    it.setData(ROLE, row["customer_id"])
                self.table.setItem(i, j, it)

    def _chart(self, r: reports.ReportResult) -> QChart:
        self.chart_view.setMinimumHeight(CHART_MIN_HEIGHT)
        chart = QChart()
        chart.setLocale(QLocale(QLocale.Language.Persian, QLocale.Country.Iran))
        chart.setLocalizeNumbers(True)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setMargins(QMargins(4, 4, 22, 4))      # room for the last value label on the right
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        font = QApplication.font()
        chart.setFont(font) if hasattr(chart, "setFont") else None
        spec = r.chart
        if spec is None or not r.rows:
            chart.setTitle(r.note or "داده‌ای برای نمودار نیست.")
            chart.legend().hide()
            return chart
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
            return chart

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
            value_axis = self._value_axis(biggest, unit)
            chart.addAxis(cat_axis, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(value_axis, Qt.AlignmentFlag.AlignLeft)
            for s in chart.series():
                s.attachAxis(cat_axis)
                s.attachAxis(value_axis)
            return chart

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
        value_axis = self._value_axis(biggest, unit)
        if spec.kind == "hbar":
            cat_axis.clear()
            cat_axis.append(list(reversed(labels)))      # the first (biggest) at the top
            small = QApplication.font()
            small.setPointSizeF(9)
            cat_axis.setLabelsFont(small)
            self.chart_view.setMinimumHeight(max(CHART_MIN_HEIGHT, HBAR_ROW_PX * len(labels) + 80))
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
        return chart

    @staticmethod
    def _value_axis(biggest: float, unit: str) -> QCategoryAxis:
        axis = value_axis(max(biggest, 1))
        if unit:
            axis.setTitleText(unit)
        return axis

    # --- output ------------------------------------------------------------------------------------------
    def chart_png(self) -> bytes:
        pix = self.chart_view.grab()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        pix.save(buf, "PNG")
        buf.close()
        return bytes(data.data())

    def _file_stem(self) -> str:
        r = self.result
        return f"{r.title} {jalali.format_date(today(), persian=False).replace('/', '-')}" if r else "گزارش"

    def export_excel(self, path=None):
        from ui.excel.export_dialog import ExportDialog, choose_path

        if self.result is None:
            return None
        path = path or choose_path(self, self._file_stem() + ".xlsx")
        if path is None:
            return None
        result = self.result
        return ExportDialog(self, "خروجی اکسل گزارش", path,
                            lambda p, progress, cancel: reports.export_xlsx(result, p, progress, cancel)).start()

    def print_pdf(self, path=None):
        """The report as a PDF, written in the background (the chart is grabbed here, on the GUI thread).
        Returns the job; its result is the file's path."""
        from ui.excel.export_dialog import choose_path
        from ui.ops import QueryOp

        if self.result is None:
            return None
        path = path or choose_path(self, self._file_stem() + ".pdf", "pdf")
        if path is None:
            return None
        result, chart = self.result, self.chart_png()

        def done(out) -> None:
            self.ctx.bus.status_message.emit(f"گزارش در «{out.name}» ذخیره شد.")
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            if not QApplication.platformName() == "offscreen":
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))

        return QueryOp(self, lambda ctl: reports.export_pdf(result, path, chart), done, name="report-pdf",
                       title="چاپ گزارش").with_progress("در حال ساختن PDF…").run()

    def _open_row(self, row: int, _col: int) -> None:
        it = self.table.item(row, 0)
        cid = it.data(ROLE) if it else None
        if cid:
            self.ctx.bus.open_customer.emit(int(cid))
