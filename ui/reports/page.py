"""The reports section (گزارش‌ها): pick a report, a Jalali date range, read the chart and the table; export
to Excel or print to PDF. Figures come from app.reports; this page only draws them.

A report is read on a worker thread: at a million customers a report over the year sums for a second or two, and
the page stays usable meanwhile. One read at a time; a report or period chosen during a read is read once it
ends (only the latest choice is drawn). A read longer than BUSY_MS greys the previous report and says so."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core import jalali
from app.core.clock import today
from app.core.errors import UserError
from app.reports import service as reports
from ui.context import AppContext
from ui.ops import LatestRead, QueryOp, error_text
from ui.reports.body import ReportBody, ReportNav
from ui.reports.charts import COLORS, nice_ticks, value_axis  # noqa: F401 - their old home, for older imports

logger = logging.getLogger(__name__)

PRESETS = (("this_month", "این ماه"), ("last_month", "ماه گذشته"), ("last_30", "۳۰ روز اخیر"),
           ("last_3_months", "سه ماه اخیر"), ("this_year", "امسال"), ("last_year", "سال گذشته"), ("all", "همه تاریخ‌ها"),
           ("custom", "بازه دلخواه"))
BUSY_MS = 150         # a read longer than this greys the report on screen and says the next one is coming


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
    report_shown = Signal()      # the latest choice's report (or why it could not be read) is on the page

    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.result: reports.ReportResult | None = None
        self._stale = True
        self._reads = LatestRead(self, "report", started=self._read_started)
        self._wanted = ""                     # the key of the report asked for last
        self._busy = QTimer(self)
        self._busy.setSingleShot(True)
        self._busy.setInterval(BUSY_MS)
        self._busy.timeout.connect(self._show_busy)
        self._build()
        self.ctx.bus.data_changed.connect(self._on_data_changed)
        self.preset.setCurrentIndex(next(i for i, (k, _t) in enumerate(PRESETS) if k == "this_year"))
        self.nav.setCurrentRow(self.nav.first_report_row())

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
        self.nav = ReportNav()
        group = None
        for key, rdef in reports.REPORTS.items():
            if rdef.group != group:
                group = rdef.group
                self.nav.add_group(group)
            self.nav.add_report(key, "   " + rdef.title)
        split.addWidget(self.nav)

        self.body = ReportBody()
        self.heading, self.period, self.note = self.body.heading, self.body.period, self.body.note
        self.chart_view, self.table = self.body.chart_view, self.body.table
        split.addWidget(self.body)
        split.setStretchFactor(1, 1)
        outer.addWidget(split, 1)

        self.nav.currentItemChanged.connect(lambda *_: self.refresh())
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.show_button.clicked.connect(self._on_show)
        self.excel_button.clicked.connect(self.export_excel)
        self.pdf_button.clicked.connect(self.print_pdf)
        self.table.cellDoubleClicked.connect(self._open_row)

    # --- state -------------------------------------------------------------------------------------------
    def current_key(self) -> str | None:
        return self.nav.current_key()

    def select_report(self, key: str) -> None:
        self.nav.select(key)

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
    @property
    def reading(self) -> bool:
        """A report is being read (the tests and the bench wait for the page to be done)."""
        return self._reads.busy

    def refresh(self) -> None:
        key = self.current_key()
        if not key:
            return
        if not self.isVisible():
            self._stale = True            # read when the page is shown (showEvent), not for a page nobody sees
            return
        for w in (self.date_from, self.date_to):
            if not w.is_valid():
                self._show_error(w.error() or "تاریخ درست نیست.")
                return
        self._stale = False
        self._wanted = key
        date_from, date_to = self.date_from.date(), self.date_to.date()

        def done(result: reports.ReportResult) -> None:
            self._read_ended()
            self.result = result
            self._draw(result)
            self.report_shown.emit()

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, UserError):
                logger.error("report %s failed", key, exc_info=exc)
            self._read_ended()
            self._show_error(error_text(exc))
            self.report_shown.emit()

        self._reads.read(lambda: reports.run(key, date_from, date_to), done, failed)

    def _read_started(self) -> None:
        self.excel_button.setEnabled(False)       # the report on screen is about to be replaced
        self.pdf_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.BusyCursor)
        self._busy.start()

    def _read_ended(self) -> None:
        self._busy.stop()
        self.unsetCursor()

    def _show_busy(self) -> None:
        rdef = reports.REPORTS.get(self._wanted)
        self.body.show_busy(rdef.title if rdef else "")

    def _show_error(self, message: str) -> None:
        self.body.show_error(message)
        if self.result is not None:           # the last report drawn stays, under its own title, and may be saved
            self.heading.setText(self.result.title)
            self.period.setText(self.result.period)
            self.excel_button.setEnabled(True)
            self.pdf_button.setEnabled(True)

    def _draw(self, r: reports.ReportResult) -> None:
        self.excel_button.setEnabled(True)
        self.pdf_button.setEnabled(True)
        self.body.show_result(r)

    # --- output ------------------------------------------------------------------------------------------
    def chart_png(self) -> bytes:
        return self.chart_view.png()

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
        cid = self.body.customer_at(row)
        if cid:
            self.ctx.bus.open_customer.emit(cid)
