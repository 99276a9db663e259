"""Pipeline reports: funnel, forecast, win rate and cycle, lead sources, targets, competitors, lost reasons.
Figures come from app.pipeline.reports (as app.reports.ReportResult); they are shown by the same report body
and chart builder as the general reports (ui/reports/body.py, ui/reports/charts.py), and export to Excel the
same way."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QWidget

from app.core import jalali
from app.core.clock import today
from app.pipeline import reports as pr
from app.reports import service as reports
from ui.context import AppContext
from ui.reports.body import ReportBody, ReportNav

logger = logging.getLogger(__name__)


class PipelineReports(QWidget):
    """The reports tab of the pipeline page; the period, rep and source come from the page's filter bar."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.result: reports.ReportResult | None = None
        self.params: tuple = (None, None, None, None)
        self.job = None                          # the latest report being counted (ui.ops.QueryOp)
        self._asked = 0
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.nav = ReportNav()
        for key, rep in pr.REPORTS.items():
            self.nav.add_report(key, rep.title)
        split.addWidget(self.nav)
        self.body = ReportBody()
        self.heading, self.period, self.note = self.body.heading, self.body.period, self.body.note
        self.chart_view, self.table = self.body.chart_view, self.body.table
        self.excel_button = QPushButton("خروجی اکسل")
        self.excel_button.clicked.connect(self.export_excel)
        self.body.head.addWidget(self.excel_button)
        split.addWidget(self.body)
        split.setStretchFactor(1, 1)
        outer.addWidget(split)
        self.nav.currentItemChanged.connect(lambda *_: self.refresh())
        from ui.office.restrict import restrict

        restrict(self)                     # the Excel button, for a role that may not export

    def current_key(self) -> str | None:
        return self.nav.current_key()

    def select_report(self, key: str) -> None:
        self.nav.select(key)

    def set_params(self, date_from: dt.date | None, date_to: dt.date | None, owner_id: int | None,
                   source: str | None) -> None:
        self.params = (date_from, date_to, owner_id, source)
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # Qt naming
        super().showEvent(event)
        if self.nav.currentRow() < 0 and self.nav.count():
            self.nav.setCurrentRow(0)
        else:
            self.refresh()

    def refresh(self) -> None:
        """Count the report off the GUI thread (the funnel of an office's years takes a moment) and show it
        when it comes back; a newer request (another report, another filter) makes an older answer moot."""
        from ui.ops import QueryOp, error_text

        key = self.current_key()
        if not key:
            return
        self._asked += 1
        asked, params = self._asked, self.params

        def done(result: reports.ReportResult) -> None:
            if asked == self._asked:
                self.result = result
                self.body.show_result(result)

        def failed(exc: BaseException) -> None:
            if asked == self._asked:
                self.body.show_error(error_text(exc))

        self.job = QueryOp(self, lambda _ctl: pr.run(key, *params), done, name="pipeline-report").failure(failed)
        self.job.run()

    def export_excel(self, path=None):
        from ui.excel.export_dialog import ExportDialog, choose_path

        if self.result is None:
            return None
        stem = f"{self.result.title} {jalali.format_date(today(), persian=False).replace('/', '-')}"
        path = path or choose_path(self, stem + ".xlsx")
        if path is None:
            return None
        result = self.result
        return ExportDialog(self, "خروجی اکسل گزارش", path,
                            lambda p, progress, cancel: reports.export_xlsx(result, p, progress, cancel)).start()
