"""«مشتری تکراری؟»: the customers that share a phone number or national ID with the one being saved, and the
choice: open the existing file (the default), merge, save anyway, or go back.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout

from app import fmt
from app.customers import service as cs

logger = logging.getLogger(__name__)


class DuplicateWarningDialog(QDialog):
    """«این مشتری شاید قبلاً ثبت شده باشد»: the matches, and what to do about them."""

    OPEN, MERGE, SAVE, BACK = "open", "merge", "save", "back"

    def __init__(self, duplicates: list[cs.Duplicate], editing: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle("مشتری تکراری؟")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.choice = self.BACK
        self.duplicates = duplicates
        lay = QVBoxLayout(self)
        head = QLabel("این شماره یا شناسه در پرونده مشتری دیگری هم ثبت شده است:" if len(duplicates) == 1 else
                      "این شماره‌ها یا شناسه در پرونده مشتریان دیگری هم ثبت شده است:")
        head.setWordWrap(True)
        lay.addWidget(head)
        self.list = QListWidget()
        for d in duplicates:
            item = QListWidgetItem(f"{d.name} — {fmt.digits(d.reason)}")
            item.setData(Qt.ItemDataRole.UserRole, d.customer_id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.setMinimumWidth(460)
        self.list.setMaximumHeight(28 * min(len(duplicates), 6) + 12)
        lay.addWidget(self.list)
        hint = QLabel("پرونده موجود را باز کنید، اطلاعات این فرم را در آن ادغام کنید، یا اگر واقعاً مشتری "
                      "دیگری است، با این حال ذخیره کنید.")
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        lay.addWidget(hint)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("باز کردن پرونده موجود", QDialogButtonBox.ButtonRole.ActionRole)
        self.merge_button = buttons.addButton("ادغام در پرونده موجود", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = buttons.addButton("ذخیره به عنوان مشتری جدید" if not editing else "با این حال ذخیره شود",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.back_button = buttons.addButton("بازگشت به فرم", QDialogButtonBox.ButtonRole.RejectRole)
        # Enter must never save a duplicate: only «باز کردن پرونده موجود» is a default button. QDialogButtonBox
        # makes its first AcceptRole button the default when it is shown, so the choice is made again in
        # showEvent, and the other buttons do not become default when they take the focus.
        for b in (self.merge_button, self.save_button, self.back_button):
            b.setAutoDefault(False)
            b.setDefault(False)
        self.open_button.setAutoDefault(True)
        self.open_button.setDefault(True)
        for b, choice in ((self.open_button, self.OPEN), (self.merge_button, self.MERGE),
                          (self.save_button, self.SAVE), (self.back_button, self.BACK)):
            b.clicked.connect(lambda _=False, c=choice: self._choose(c))
        lay.addWidget(buttons)
        self.list.itemDoubleClicked.connect(lambda _i: self._choose(self.OPEN))

    def showEvent(self, event) -> None:  # Qt naming
        super().showEvent(event)
        self.save_button.setDefault(False)
        self.open_button.setDefault(True)

    def selected_id(self) -> int:
        item = self.list.currentItem() or self.list.item(0)
        return int(item.data(Qt.ItemDataRole.UserRole))

    def _choose(self, choice: str) -> None:
        self.choice = choice
        if choice == self.BACK:
            self.reject()
        else:
            self.accept()
