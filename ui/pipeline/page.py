"""The sales pipeline section (فرصت‌های فروش): a filter bar (rep, period of expected close, source, search),
then the Kanban board, the list, or the reports; buttons for a new opportunity and for the office's stages,
competitors and sales targets."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core import jalali
from app.core.clock import today
from app.pipeline import board as pb
from ui.context import AppContext
from ui.pipeline.board import BoardView
from ui.pipeline.models import ID_ROLE, BoardModel, OpportunityListModel, money_short
from ui.widgets.timers import shown_debounce

if TYPE_CHECKING:
    from ui.pipeline.reports_page import PipelineReports

logger = logging.getLogger(__name__)

PERIODS = (("all", "همه"), ("this_month", "این ماه"), ("next_month", "ماه آینده"),
           ("this_quarter", "سه ماه پیش رو"), ("this_year", "امسال"), ("overdue", "تاریخ بستن گذشته"))


def period_range(key: str, day=None):
    day = day or today()
    j = jalali.to_jalali(day)
    if key == "this_month":
        return jalali.month_range(j.year, j.month)
    if key == "next_month":
        nxt = jalali.to_jalali(jalali.add_months(jalali.from_jalali(j.year, j.month, 1), 1))
        return jalali.month_range(nxt.year, nxt.month)
    if key == "this_quarter":
        first = jalali.from_jalali(j.year, j.month, 1)
        last = jalali.to_jalali(jalali.add_months(first, 2))
        return first, jalali.month_range(last.year, last.month)[1]
    if key == "this_year":
        from app.reports.service import jalali_year_range

        return jalali_year_range(day)
    if key == "overdue":
        import datetime as dt

        return dt.date(1900, 1, 1), day - dt.timedelta(days=1)
    return None, None


class PipelinePage(QWidget):
    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.last_load_ms = 0.0
        self._stale = True
        self.board_model = BoardModel(self, user_id=self.ctx.user_id)
        self.board_model.lost_reason_provider = self._ask_lost_reason
        self.board_model.failed.connect(self._failed)
        self.board_model.moved.connect(lambda *_: self._after_move())
        self.list_model = OpportunityListModel(self)
        self._build()
        self.ctx.bus.data_changed.connect(self._on_data_changed)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.new_opportunity)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        title = QLabel("فرصت‌های فروش")
        title.setProperty("role", "title")
        head.addWidget(title)
        self.tabs = QTabBar()
        for t in ("تابلوی مراحل", "فهرست", "گزارش‌ها"):
            self.tabs.addTab(t)
        head.addWidget(self.tabs)
        head.addStretch(1)
        self.totals = QLabel()
        self.totals.setStyleSheet("color: #374151;")
        head.addWidget(self.totals)
        self.new_button = QPushButton("فرصت جدید")
        self.new_button.setToolTip("Ctrl+N")
        self.new_button.clicked.connect(self.new_opportunity)
        self.settings_button = QPushButton("مراحل، رقبا و اهداف…")
        self.settings_button.clicked.connect(self.open_settings)
        head.addWidget(self.new_button)
        head.addWidget(self.settings_button)
        outer.addLayout(head)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("کارشناس:"))
        self.owner = QComboBox()
        self.owner.addItem("همه", None)
        from app.office.users import list_users

        for u in list_users():
            self.owner.addItem(u.name, u.id)
        bar.addWidget(self.owner)
        self.period_label = QLabel("تاریخ بستن:")
        bar.addWidget(self.period_label)
        self.period = QComboBox()
        for key, label in PERIODS:
            self.period.addItem(label, key)
        bar.addWidget(self.period)
        bar.addWidget(QLabel("منبع:"))
        self.source = QComboBox()
        self.source.addItem("همه", None)
        for s in pb.sources():
            self.source.addItem(s, s)
        bar.addWidget(self.source)
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجو در عنوان یا نام مشتری…")
        self.search.setClearButtonEnabled(True)
        bar.addWidget(self.search, 1)
        outer.addLayout(bar)

        self.stack = QStackedWidget()
        self.board = BoardView(self.board_model)
        self.board.open_requested.connect(self.open_opportunity)
        self.stack.addWidget(self.board)
        self.table = QTableView()
        self.table.setModel(self.list_model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda ix: self.open_opportunity(ix.data(ID_ROLE)))
        self.table.activated.connect(lambda ix: self.open_opportunity(ix.data(ID_ROLE)))
        self.stack.addWidget(self.table)
        # the reports (charts and all) are built when their tab is first opened: the board opens without them
        self._reports: PipelineReports | None = None
        self._reports_box = QWidget()
        QVBoxLayout(self._reports_box).setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self._reports_box)
        outer.addWidget(self.stack, 1)

        self._debounce = shown_debounce(self, 300, self.refresh, self._mark_stale)
        self.tabs.currentChanged.connect(self._on_tab)
        for combo in (self.owner, self.period, self.source):
            combo.currentIndexChanged.connect(lambda *_: self.refresh())
        self.search.textChanged.connect(lambda *_: self._debounce.start())

    @property
    def reports(self) -> PipelineReports:
        if self._reports is None:
            from ui.pipeline.reports_page import PipelineReports

            self._reports = PipelineReports(self.ctx)
            self._reports_box.layout().addWidget(self._reports)
        return self._reports

    # --- state -------------------------------------------------------------------------------------------
    def current_filter(self) -> pb.BoardFilter:
        a, b = period_range(self.period.currentData())
        return pb.BoardFilter(owner_id=self.owner.currentData(), source=self.source.currentData(), date_from=a,
                              date_to=b, text=self.search.text().strip())

    def _on_tab(self, i: int) -> None:
        self.stack.setCurrentIndex(i)
        # the reports read the period as each defines it (created, closed or expected close)
        self.period_label.setText("بازه:" if i == 2 else "تاریخ بستن:")
        self.refresh()

    def _mark_stale(self) -> None:
        self._stale = True

    def _on_data_changed(self, what: str) -> None:
        if what in ("opportunities", "customers", "invoices", "settings"):
            self._stale = True
            if self.isVisible():
                self._debounce.start()

    def showEvent(self, event) -> None:  # Qt naming
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        t0 = time.perf_counter()
        f = self.current_filter()
        i = self.stack.currentIndex()
        if i == 0:
            self.board_model.load(f)
        elif i == 1:
            self.list_model.load(f)
        else:
            self.reports.set_params(f.date_from, f.date_to, f.owner_id, f.source)
            self.reports.refresh()
        self._stale = False
        self._update_totals()
        self.last_load_ms = (time.perf_counter() - t0) * 1000

    def _update_totals(self) -> None:
        if self.stack.currentIndex() == 0 and self.board_model.columns:
            sums = [self.board_model.summary(i) for i, c in enumerate(self.board_model.columns) if c.stage.is_open]
            n, total, weighted = (sum(x[k] for x in sums) for k in range(3))
            self.totals.setText(f"{fmt.num(n)} فرصت باز — {money_short(total)} ریال "
                                f"(وزنی {money_short(weighted)})")
        elif self.stack.currentIndex() == 1:
            self.totals.setText(f"{fmt.num(self.list_model.count)} فرصت")
        else:
            self.totals.setText("")

    # --- actions -----------------------------------------------------------------------------------------
    def _ask_lost_reason(self, row: pb.OppRow):
        from ui.pipeline.dialog import ask_lost_reason

        return ask_lost_reason(self, row.title)

    def _failed(self, message: str) -> None:
        QMessageBox.warning(self, "جابه‌جایی فرصت", message)

    def _after_move(self) -> None:
        self._update_totals()
        self.ctx.bus.data_changed.emit("opportunities_moved")

    def new_opportunity(self, customer_id: int | None = None):
        from ui.pipeline.dialog import open_opportunity

        dlg = open_opportunity(self.ctx, None, customer_id or None, self)
        dlg.saved.connect(lambda *_: self.refresh())
        return dlg

    def open_opportunity(self, opp_id: int | None):
        if not opp_id:
            return None
        from ui.pipeline.dialog import open_opportunity

        dlg = open_opportunity(self.ctx, int(opp_id), None, self)
        dlg.saved.connect(lambda *_: self.refresh())
        return dlg

    def open_settings(self):
        from ui.pipeline.settings_dialog import PipelineSettingsDialog

        dlg = PipelineSettingsDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda *_: self.refresh())
        dlg.show()
        return dlg
