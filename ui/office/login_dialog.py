"""Signing in at start-up: the first admin's password on a new office, then the sign-in form each time
(unless this PC remembers someone, or the admin switched on automatic sign-in for it)."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from app import APP_TITLE
from app.core.errors import UserError, ValidationError
from app.office import auth, session

logger = logging.getLogger(__name__)


def _error_label() -> QLabel:
    lab = QLabel()
    lab.setProperty("role", "error")
    lab.setWordWrap(True)
    lab.setMinimumHeight(34)
    return lab


class LoginDialog(QDialog):
    """User name, password, «remember me on this PC». Accepting signs the person in (self.principal)."""

    def __init__(self, parent=None, username: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"ورود — {APP_TITLE}")
        self.principal: session.Principal | None = None
        lay = QVBoxLayout(self)
        title = QLabel("ورود به پیوند")
        title.setProperty("role", "title")
        lay.addWidget(title)
        hint = QLabel("نام کاربری و رمز عبور خود را بنویسید.")
        hint.setProperty("role", "muted")
        lay.addWidget(hint)
        form = QFormLayout()
        self.username = QLineEdit(username or auth.remembered_user())
        self.username.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        form.addRow("نام کاربری:", self.username)
        form.addRow("رمز عبور:", self.password)
        lay.addLayout(form)
        self.remember = QCheckBox("مرا در این رایانه به خاطر بسپار")
        self.remember.setToolTip(f"تا {auth.REMEMBER_DAYS} روز بدون رمز وارد می‌شوید؛ «خروج از حساب» یا مدیر سیستم "
                                 "آن را لغو می‌کند.")
        lay.addWidget(self.remember)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("ورود")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        (self.password if self.username.text() else self.username).setFocus()
        self.setMinimumWidth(380)

    def try_sign_in(self) -> bool:
        try:
            self.principal = auth.sign_in(self.username.text(), self.password.text(), self.remember.isChecked())
        except UserError as e:
            self.error.setText(e.message)
            self.password.clear()
            self.password.setFocus()
            return False
        self.accept()
        return True


class FirstRunDialog(QDialog):
    """A new office: who the admin is, and their password (asked twice)."""

    def __init__(self, parent=None, name: str = "", username: str = "admin"):
        super().__init__(parent)
        self.setWindowTitle(f"راه‌اندازی — {APP_TITLE}")
        self.user = None
        lay = QVBoxLayout(self)
        title = QLabel("مدیر سیستم")
        title.setProperty("role", "title")
        lay.addWidget(title)
        intro = QLabel("این نخستین بار است که پیوند روی این پایگاه داده باز می‌شود. مدیر سیستم همکاران را تعریف "
                       "می‌کند و نقش و دسترسی هر کس را تعیین می‌کند. یک رمز عبور برای او بگذارید.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit(name)
        self.username = QLineEdit(username)
        self.username.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        for w in (self.password, self.again):
            w.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        form.addRow("نام:", self.name)
        form.addRow("نام کاربری:", self.username)
        form.addRow("رمز عبور:", self.password)
        form.addRow("تکرار رمز:", self.again)
        lay.addLayout(form)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("ذخیره و ورود")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(440)

    def save(self) -> bool:
        if self.password.text() != self.again.text():
            self.error.setText("دو رمز یکی نیستند.")
            return False
        try:
            self.user = auth.create_admin(self.name.text(), self.username.text(), self.password.text())
            auth.sign_in(self.user.username, self.password.text())
        except ValidationError as e:
            self.error.setText(e.message)
            return False
        except UserError as e:
            self.error.setText(e.message)
            return False
        self.accept()
        return True
