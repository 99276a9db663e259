"""Settings › ایمیل: the office's SMTP server (host, port, security), its user and password (stored like the SMS
key: written, never shown again), the sender's address and name, and «ارسال آزمایشی», which sends one email with
the values on the page (saved or not) in the background and says in Persian what happened."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.sms import email
from ui.ops import QueryOp, error_text

PASSWORD_SAVED = "گذرواژه ذخیره شده است؛ برای تغییر، گذرواژه تازه را بنویسید"
PASSWORD_EMPTY = "گذرواژه حساب ایمیل (یا گذرواژه برنامه)"


def _ltr(edit: QLineEdit, placeholder: str = "") -> QLineEdit:
    edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


class EmailSettingsPanel(QWidget):
    TITLE = "ایمیل"

    def __init__(self, ctx=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.op: QueryOp | None = None
        outer = QVBoxLayout(self)
        cols = QHBoxLayout()
        outer.addLayout(cols)

        server = QGroupBox("کارگزار ایمیل (SMTP)")
        f = QFormLayout(server)
        self.host = _ltr(QLineEdit(), "mail.example.ir")
        f.addRow("کارگزار:", self.host)
        self.port = _ltr(QLineEdit(), "587")
        self.port.setMaximumWidth(120)
        f.addRow("درگاه:", self.port)
        self.security = QComboBox()
        for key, label in email.SECURITY_LABELS.items():
            self.security.addItem(label, key)
        f.addRow("امنیت اتصال:", self.security)
        self.user = _ltr(QLineEdit(), "info@example.ir")
        f.addRow("نام کاربری:", self.user)
        self.password = _ltr(QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        f.addRow("گذرواژه:", self.password)
        cols.addWidget(server, 1)

        who = QGroupBox("فرستنده و آزمون")
        g = QFormLayout(who)
        self.sender = _ltr(QLineEdit(), "info@example.ir")
        g.addRow("نشانی فرستنده:", self.sender)
        self.sender_name = QLineEdit()
        g.addRow("نام فرستنده:", self.sender_name)
        test = QHBoxLayout()
        self.test_address = _ltr(QLineEdit(), "you@example.ir")
        test.addWidget(self.test_address, 1)
        self.test_button = QPushButton("ارسال آزمایشی")
        test.addWidget(self.test_button)
        g.addRow("آزمون به:", test)
        self.test_status = QLabel("")
        self.test_status.setWordWrap(True)
        g.addRow(self.test_status)
        note = QLabel("ایمیل‌های مشتریان از همین حساب فرستاده می‌شود. برای Gmail و بیشتر سرویس‌ها «گذرواژه برنامه» "
                      "بسازید و همان را اینجا بنویسید.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        g.addRow(note)
        cols.addWidget(who, 1)

        row = QHBoxLayout()
        self.save_button = QPushButton("ذخیره")
        row.addWidget(self.save_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        outer.addLayout(row)
        outer.addStretch(1)

        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test_send)
        self.security.currentIndexChanged.connect(lambda _i: self._suggest_port())
        self.load()

    # --- values ----------------------------------------------------------------------------------------------
    def load(self) -> None:
        self.host.setText(settings.get(options.EMAIL_HOST))
        self.port.setText(str(settings.get(options.EMAIL_PORT)))
        self.security.blockSignals(True)
        self.security.setCurrentIndex(max(0, self.security.findData(settings.get(options.EMAIL_SECURITY))))
        self.security.blockSignals(False)
        self.user.setText(settings.get(options.EMAIL_USER))
        self.password.clear()                              # the stored password is never shown again
        self.password.setPlaceholderText(PASSWORD_SAVED if email.password_is_set() else PASSWORD_EMPTY)
        self.sender.setText(settings.get(options.EMAIL_SENDER))
        self.sender_name.setText(settings.get(options.EMAIL_SENDER_NAME))
        self.sender_name.setPlaceholderText(settings.get(options.OFFICE_NAME) or "نام شرکت")

    def _suggest_port(self) -> None:
        """Choosing the security fills the usual port when the port is one of the usual ones (or empty)."""
        usual = {"starttls": "587", "ssl": "465", "none": "25"}
        if self.port.text().strip() in ("", *usual.values()):
            self.port.setText(usual[self.security.currentData()])

    def save(self) -> bool:
        try:
            email.save_settings(self.host.text(), self.port.text(), self.security.currentData(), self.user.text(),
                                self.sender.text(), self.sender_name.text(), password=self.password.text() or None)
        except UserError as e:
            self._say(self.status, False, e.message)
            return False
        self.load()
        if self.ctx is not None:
            self.ctx.bus.data_changed.emit("settings")
        self._say(self.status, True, "تنظیمات ایمیل ذخیره شد.")
        return True

    # --- test send -------------------------------------------------------------------------------------------
    def test_send(self) -> QueryOp | None:
        to = self.test_address.text().strip()
        if not to:
            self._say(self.test_status, False, "نشانی ایمیلی برای ارسال آزمایشی بنویسید.")
            return None
        if not email.ADDRESS.fullmatch(to):
            self._say(self.test_status, False, f"«{to}» نشانی ایمیل درست نیست.")
            return None
        try:
            v = email.check_settings(self.host.text(), self.port.text(), self.security.currentData(),
                                     self.sender.text())
        except UserError as e:
            self._say(self.test_status, False, e.message)
            return None
        smtp = {"host": v[options.EMAIL_HOST], "port": v[options.EMAIL_PORT], "security": v[options.EMAIL_SECURITY],
                "user": self.user.text().strip(), "password": self.password.text() or None,
                "sender": v[options.EMAIL_SENDER], "sender_name": self.sender_name.text().strip()}
        self.test_button.setEnabled(False)
        self._say(self.test_status, True, f"در حال ارسال ایمیل آزمایشی به {to}…")
        self.op = (QueryOp(self, op=lambda ctl: email.send_email(to, email.TEST_SUBJECT, email.TEST_BODY, **smtp),
                           success=lambda _m: self._say(self.test_status, True,
                                                        f"ایمیل آزمایشی به {to} فرستاده شد؛ صندوق نامه را ببینید."),
                           name="email-test")
                   .failure(lambda e: self._say(self.test_status, False, "ارسال آزمایشی انجام نشد: " + error_text(e)))
                   .finished(lambda: self.test_button.setEnabled(True)))
        return self.op.run()

    @staticmethod
    def _say(label: QLabel, ok: bool, text: str) -> None:
        label.setText(fmt.isolate_paths(text))
        label.setStyleSheet("" if ok else "color: #b91c1c;")
