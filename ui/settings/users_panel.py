"""Colleagues and who sits at this desk."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import options, settings
from app.core.errors import UserError
from app.office import users


class UsersPanel(QWidget):
    TITLE = "همکاران"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QHBoxLayout(self)
        self.list = QListWidget()
        lay.addWidget(self.list, 1)
        side = QVBoxLayout()
        form = QFormLayout()
        self.name = QLineEdit()
        self.username = QLineEdit()
        self.role = QComboBox()
        for key, label in users.ROLE_LABELS.items():
            self.role.addItem(label, key)
        form.addRow("نام:", self.name)
        form.addRow("نام کاربری:", self.username)
        form.addRow("نقش:", self.role)
        side.addLayout(form)
        self.add_btn = QPushButton("افزودن همکار")
        self.me_btn = QPushButton("من پشت این میز هستم")
        self.message = QLabel()
        self.message.setWordWrap(True)
        side.addWidget(self.add_btn)
        side.addWidget(self.me_btn)
        side.addWidget(self.message)
        side.addStretch(1)
        lay.addLayout(side, 1)
        self.add_btn.clicked.connect(self.add)
        self.me_btn.clicked.connect(self.set_me)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        me = settings.get(options.UI_CURRENT_USER)
        for u in users.list_users(active_only=False):
            mark = " ← این میز" if u.id == me else ""
            item = QListWidgetItem(f"{u.name} ({users.ROLE_LABELS.get(u.role, u.role)}){mark}")
            item.setData(256, u.id)
            self.list.addItem(item)

    def add(self) -> None:
        try:
            users.save_user(self.name.text(), self.username.text(), self.role.currentData())
        except UserError as e:
            self.message.setText(e.message)
            return
        self.name.clear()
        self.username.clear()
        self.message.setText("همکار افزوده شد.")
        self.reload()
        self.ctx.bus.data_changed.emit("users")

    def set_me(self) -> None:
        item = self.list.currentItem()
        if item is None:
            self.message.setText("اول نام خود را در فهرست انتخاب کنید.")
            return
        settings.set(options.UI_CURRENT_USER, item.data(256))
        self.ctx.user_id = item.data(256)
        self.reload()
