"""Pipeline reports: funnel, forecast, win rate and cycle, lead sources, targets, competitors, lost reasons.
Figures come from app.pipeline.reports (as app.reports.ReportResult); the chart and table are drawn the way the
general reports page draws them, and export to Excel the same way."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
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

from app import jalali, reports
from app.clock import today
from app.errors import UserError
from app.pipeline import reports as pr
from ui.context import AppContext

logger = logging.getLogger(__name__)
ROLE = Qt.ItemDataRole.UserRole


class PipelineReports(QWidget):
    """The reports tab of the pipeline page; the period, rep and source come from the page's filter bar."""

    def __init__(self, ctx: AppContext, parent=None):
        from PySide6.QtCharts import QChartView

        super().__init__(parent)
        self.ctx = ctx
        self.result: reports.ReportResult | None = None
        self.params: tuple = (None, None, None, None)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.nav = QListWidget()
        self.nav.setMinimumWidth(230)
        self.nav.setMaximumWidth(300)
        for key, rep in pr.REPORTS.items():
            item = QListWidgetItem(rep.title)
            item.setData(ROLE, key)
            self.nav.addItem(item)
        split.addWidget(self.nav)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(6, 0, 0, 0)
        head = QHBoxLayout()
        self.heading = QLabel()
        f = self.heading.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.2)
        self.heading.setFont(f)
        head.addWidget(self.heading)
        head.addStretch(1)
        self.excel_button = QPushButton("خروجی اکسل")
        self.excel_button.clicked.connect(self.export_excel)
        head.addWidget(self.excel_button)
        bl.addLayout(head)
        self.period = QLabel()
        self.period.setProperty("role", "muted")
        bl.addWidget(self.period)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #92400e; background: #fef3c7; padding: 6px; border-radius: 4px;")
        self.note.hide()
        bl.addWidget(self.note)
        self.chart_view = QChartView()
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.chart_view.setMinimumHeight(280)
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
        outer.addWidget(split)
        self.nav.currentItemChanged.connect(lambda *_: self.refresh())

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(ROLE) if item else None

    def select_report(self, key: str) -> None:
        for i in range(self.nav.count()):
            if self.nav.item(i).data(ROLE) == key:
                self.nav.setCurrentRow(i)
                return

    def set_params(self, date_from: dt.date | None, date_to: dt.date | None, owner_id: int | None,
                   source: str | None) -> None:
        self.params = (date_from, date_to, owner_id, source)
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        if self.nav.currentRow() < 0 and self.nav.count():
            self.nav.setCurrentRow(0)
        else:
            self.refresh()

    def refresh(self) -> None:
        key = self.current_key()
        if not key:
            return
        try:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.result = pr.run(key, *self.params)
            finally:
                QApplication.restoreOverrideCursor()
        except UserError as e:
            self.note.setText(e.message)
            self.note.show()
            return
        self._draw(self.result)

    def _draw(self, r: reports.ReportResult) -> None:
        from ui.pages.reports import ReportsPage

        self.heading.setText(r.title)
        self.period.setText(r.period)
        self.note.setVisible(bool(r.note))
        self.note.setText(r.note)
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
                it.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | (
                    Qt.AlignmentFlag.AlignRight if col.kind == "text" else Qt.AlignmentFlag.AlignCenter))
                if total:
                    it.setFont(bold)
                    it.setBackground(QBrush(QColor("#eef2f7")))
                self.table.setItem(i, j, it)
        # the general reports page's chart drawing (bars, lines, pies with Persian labels) serves here as is
        self.chart_view.setChart(ReportsPage._chart(self, r))

    @staticmethod
    def _value_axis(biggest: float, unit: str):
        """The general reports page's value axis (Persian digits), which its chart drawing asks for."""
        from ui.pages.reports import ReportsPage

        return ReportsPage._value_axis(biggest, unit)

    def export_excel(self, path=None):
        from ui.export_dialog import ExportDialog, choose_path

        if self.result is None:
            return None
        stem = f"{self.result.title} {jalali.format_date(today(), persian=False).replace('/', '-')}"
        path = path or choose_path(self, stem + ".xlsx")
        if path is None:
            return None
        result = self.result
        return ExportDialog(self, "خروجی اکسل گزارش", path,
                            lambda p, progress, cancel: reports.export_xlsx(result, p, progress, cancel)).start()
