"""«تولد و سالگرد ازدواج امروز»: every occasion of the day, when the dashboard's card holds only the first ones
(an office with a million customers has thousands on a day). Opened from the card's «… و N مورد دیگر» row."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from app import fmt
from app.core import jalali
from app.core.text import search_key
from app.office import roles
from app.tasks import reminders
from ui.context import AppContext

ROLE = Qt.ItemDataRole.UserRole


class DatesDialog(QDialog):
    """The day's birthdays and anniversaries (the person's own customers first), a box that narrows them by
    name or number, and «باز کردن پرونده» (also a double click or Enter)."""

    def __init__(self, ctx: AppContext, day: dt.date, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("تولد و سالگرد ازدواج امروز")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.resize(560, 600)
        items = reminders.dates_on(day, scope=roles.customer_scope(), mine=ctx.user_id)
        lay = QVBoxLayout(self)
        self.head = QLabel(f"{jalali.format_long(day)} — {fmt.count(len(items), 'مورد')}")
        self.head.setProperty("role", "card-title")
        lay.addWidget(self.head)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("جستجو در نام یا شماره…")
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self._keys: list[str] = []
        for item in items:
            phone = f" — {fmt.phone(item.phone)}" if item.phone else ""
            row = QListWidgetItem(f"{item.label}{phone}")
            row.setData(ROLE, item.customer_id)
            self.list.addItem(row)
            self._keys.append(search_key(f"{item.name} {item.phone}"))
        if items:
            self.list.setCurrentRow(0)
        lay.addWidget(self.list, 1)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("باز کردن پرونده", QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.setEnabled(bool(items))
        buttons.addButton("بستن", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.filter.textChanged.connect(self._narrow)
        self.list.itemActivated.connect(lambda _item: self.open_selected())

    def _narrow(self, text: str) -> None:
        """Hide the rows whose name and number do not hold every word typed (Persian and ASCII digits alike)."""
        words = search_key(text).split()
        first = None
        for i, key in enumerate(self._keys):
            hidden = not all(w in key for w in words)
            self.list.item(i).setHidden(hidden)
            if not hidden and first is None:
                first = i
        if first is not None:
            self.list.setCurrentRow(first)
        self.open_button.setEnabled(first is not None)

    def open_selected(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return
        self.ctx.bus.open_customer.emit(int(item.data(ROLE)))
        self.accept()
