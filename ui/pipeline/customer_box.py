"""The customer file's box of open opportunities: stage, value, next step; a button for a new one."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from app import fmt
from app.pipeline.board import open_opportunities_brief
from ui.context import AppContext

logger = logging.getLogger(__name__)


class OpportunitiesBox(QGroupBox):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__("فرصت‌های فروش باز", parent)
        self.ctx = ctx
        self.customer_id: int | None = None
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(130)
        self.list.itemActivated.connect(self._open)
        self.list.itemDoubleClicked.connect(self._open)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        self.new_button = QPushButton("فرصت فروش جدید")
        self.new_button.clicked.connect(self.new_opportunity)
        row.addWidget(self.new_button)
        row.addStretch(1)
        lay.addLayout(row)

    def load(self, customer_id: int) -> None:
        self.customer_id = customer_id
        self.list.clear()
        try:
            briefs = open_opportunities_brief(customer_id)
        except Exception:  # the file must open even if this box cannot fill
            logger.exception("open opportunities of %s", customer_id)
            briefs = []
        for b in briefs:
            step = ""
            if b.next_step:
                when = f" ({fmt.date(b.next_step_date)})" if b.next_step_date else ""
                step = f" — گام بعدی: {b.next_step}{when}"
            item = QListWidgetItem(f"{b.title} — {b.stage_name} — {fmt.num(b.value)} ریال{step}")
            item.setData(Qt.ItemDataRole.UserRole, b.id)
            if b.rotting:
                item.setForeground(QBrush(QColor("#b91c1c")))
                item.setToolTip("این فرصت راکد مانده است.")
            self.list.addItem(item)
        if not briefs:
            item = QListWidgetItem("فرصت فروش بازی ندارد.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QBrush(QColor("#6b7280")))
            self.list.addItem(item)

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _open(self, item: QListWidgetItem) -> None:
        oid = item.data(Qt.ItemDataRole.UserRole)
        if oid:
            from ui.pipeline.dialog import open_opportunity

            dlg = open_opportunity(self.ctx, int(oid), None, self.window())
            dlg.saved.connect(lambda *_: self.load(self.customer_id))

    def new_opportunity(self):
        from ui.pipeline.dialog import open_opportunity

        dlg = open_opportunity(self.ctx, None, self.customer_id, self.window())
        dlg.saved.connect(lambda *_: self.load(self.customer_id))
        return dlg
