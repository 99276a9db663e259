"""SMS settings: provider, key (stored, never shown again), sender line and its kind, a test server address or
the modem's serial port, and a «test send» button."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app import options, settings
from app.sms import config, service
from app.sms.providers import LABELS
from models.writer import writer
from ui.ops import QueryOp, error_text

KEY_SAVED = "کلید ذخیره شده است؛ برای تغییر، کلید تازه را بنویسید"


class SmsSettingsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        f = QFormLayout(self)
        self.provider = QComboBox()
        for name, label in LABELS.items():
            self.provider.addItem(label, name)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.get(options.SMS_PROVIDER))))
        f.addRow("سامانه پیامک", self.provider)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(KEY_SAVED if config.key_is_set() else "کلید API (ملی پیامک: نام کاربری:رمز)")
        f.addRow("کلید دسترسی", self.key)
        self.sender = QLineEdit(settings.get(options.SMS_SENDER))
        f.addRow("شماره خط", self.sender)
        self.line_kind = QComboBox()
        self.line_kind.addItem("تبلیغاتی", "advertising")
        self.line_kind.addItem("خدماتی", "service")
        self.line_kind.setCurrentIndex(max(0, self.line_kind.findData(settings.get(options.SMS_LINE_KIND))))
        f.addRow("نوع خط", self.line_kind)
        self.base_url = QLineEdit(settings.get(options.SMS_BASE_URL))
        self.base_url.setPlaceholderText("خالی: نشانی رسمی سامانه")
        f.addRow("نشانی سرویس", self.base_url)
        self.port = QLineEdit(settings.get(options.SMS_PORT))
        self.port.setPlaceholderText("COM3 یا /dev/ttyUSB0")
        f.addRow("درگاه مودم GSM", self.port)
        row = QHBoxLayout()
        self.save_button = QPushButton("ذخیره")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        self.test_number = QLineEdit()
        self.test_number.setPlaceholderText("شماره همراه برای آزمون")
        row.addWidget(self.test_number)
        self.test_button = QPushButton("ارسال آزمایشی")
        self.test_button.clicked.connect(self.test_send)
        row.addWidget(self.test_button)
        f.addRow(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        f.addRow(self.status)

    def save(self) -> None:
        values = {options.SMS_PROVIDER: self.provider.currentData(), options.SMS_SENDER: self.sender.text().strip(),
                  options.SMS_LINE_KIND: self.line_kind.currentData(),
                  options.SMS_BASE_URL: self.base_url.text().strip(), options.SMS_PORT: self.port.text().strip()}
        key = self.key.text().strip()
        if key:
            values[options.SMS_KEY] = key

        def write():
            for opt, v in values.items():
                settings.set(opt, v)

        writer.run(write)
        self.key.clear()                                   # the key is never shown again
        self.key.setPlaceholderText(KEY_SAVED if config.key_is_set() else "")
        self.status.setText("تنظیمات پیامک ذخیره شد.")

    def test_send(self) -> None:
        self.save()
        number = self.test_number.text()
        self.test_button.setEnabled(False)
        self.status.setText("در حال ارسال آزمایشی…")
        (QueryOp(self, op=lambda ctl: service.send_now(number, "پیام آزمایشی پیوند: تنظیمات پیامک درست است."),
                 success=self._ok).failure(self._fail).run())

    def _ok(self, msg) -> None:
        self.test_button.setEnabled(True)
        self.status.setText(f"پیام آزمایشی فرستاده شد (شناسه {msg.provider_id}).")

    def _fail(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.status.setText(error_text(exc))
