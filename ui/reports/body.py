"""What a report shows, the same on every screen that shows reports (the reports section, the pipeline's
reports): its title (with room for the page's buttons beside it), the period, a note, the chart and the table
with its totals row in bold. The pages around it choose the report and its period."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.reports import service as reports
from ui.reports.charts import ReportChartView
from ui.widgets.columns import fit_columns

CUSTOMER_ROLE = Qt.ItemDataRole.UserRole          # a row's customer id, on its first cell
KEY_ROLE = Qt.ItemDataRole.UserRole               # a report's key, on its item in the list


class ReportNav(QListWidget):
    """The list of reports beside the body: group headings (not selectable) and one item per report."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumWidth(230)
        self.setMaximumWidth(300)

    def add_group(self, title: str) -> None:
        head = QListWidgetItem(title)
        head.setFlags(Qt.ItemFlag.NoItemFlags)
        f = QFont()
        f.setBold(True)
        head.setFont(f)
        head.setForeground(QBrush(QColor("#6b7280")))
        self.addItem(head)

    def add_report(self, key: str, title: str) -> None:
        item = QListWidgetItem(title)
        item.setData(KEY_ROLE, key)
        self.addItem(item)

    def current_key(self) -> str | None:
        item = self.currentItem()
        return item.data(KEY_ROLE) if item else None

    def select(self, key: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(KEY_ROLE) == key:
                self.setCurrentRow(i)
                return

    def first_report_row(self) -> int:
        return next((i for i in range(self.count()) if self.item(i).data(KEY_ROLE)), -1)


class ReportBody(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 0, 0, 0)
        self.head = QHBoxLayout()
        self.heading = QLabel("")
        self.heading.setProperty("role", "subtitle")
        f = self.heading.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.2)
        self.heading.setFont(f)
        self.head.addWidget(self.heading)
        self.head.addStretch(1)
        lay.addLayout(self.head)
        self.period = QLabel("")
        self.period.setProperty("role", "muted")
        lay.addWidget(self.period)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #92400e; background: #fef3c7; padding: 6px; border-radius: 4px;")
        self.note.hide()
        lay.addWidget(self.note)
        self.chart_view = ReportChartView()
        lay.addWidget(self.chart_view, 3)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)      # the others: fit_columns after each fill
        lay.addWidget(self.table, 2)

    def show_result(self, r: reports.ReportResult) -> None:
        self._set_busy(False)
        self.heading.setText(r.title)
        self.period.setText(r.period)
        self.note.setVisible(bool(r.note))
        self.note.setText(r.note)
        self.fill_table(r)
        self.chart_view.show_report(r)

    def show_error(self, message: str) -> None:
        self._set_busy(False)
        self.note.setText(message)
        self.note.show()

    def show_busy(self, title: str) -> None:
        """A report is being read: its title, «در حال محاسبه…», and the previous report greyed until it comes."""
        if title:
            self.heading.setText(title)
        self.period.setText("در حال محاسبه…")
        self.note.hide()
        self._set_busy(True)

    def _set_busy(self, busy: bool) -> None:
        # the previous chart veiled while the next is read (a graphics effect on a view leaves stale pixels)
        self.chart_view.setForegroundBrush(QBrush(QColor(255, 255, 255, 190)) if busy else QBrush())
        self.chart_view.setEnabled(not busy)
        self.table.setEnabled(not busy)

    def fill_table(self, r: reports.ReportResult) -> None:
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
                it.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if col.kind == "text"
                                                                     else Qt.AlignmentFlag.AlignCenter))
                if total:
                    it.setFont(bold)
                    it.setBackground(QBrush(QColor("#eef2f7")))
                if j == 0 and row.get("customer_id"):
                    it.setData(CUSTOMER_ROLE, row["customer_id"])
                self.table.setItem(i, j, it)
        fit_columns(self.table, also_rows=range(len(r.rows), len(rows)))       # the totals row is bold

    def customer_at(self, row: int) -> int | None:
        it = self.table.item(row, 0)
        cid = it.data(CUSTOMER_ROLE) if it else None
        return int(cid) if cid else None
