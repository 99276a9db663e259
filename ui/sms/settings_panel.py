"""Settings › پیامک: the provider, its key (stored like the other secrets: written, never shown again), the sender
line and its kind, a test server address or the modem's serial port; the automatic messages (which are on,
their texts, the daily send window and the Friday rule); and «ارسال آزمایشی», which sends one message with the
values on the page (saved or not) and says in Persian what happened."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.core.text import to_ascii_digits
from app.sms import config, service
from app.sms.providers import LABELS
from ui.ops import QueryOp, error_text

KEY_SAVED = "کلید ذخیره شده است؛ برای تغییر، کلید تازه را بنویسید"
KEY_EMPTY = "کلید API پنل پیامک (ملی پیامک: نام کاربری:رمز)"
TEST_TEXT = "پیام آزمایشی پیوند: تنظیمات پیامک درست است."


class AutoTextDialog(QDialog):
    """One automatic message's text, with its merge fields and live preview."""

    def __init__(self, kind: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        from ui.sms.template_editor import TemplateEditor

        self.setWindowTitle(f"متن {options.SMS_AUTO_LABELS[kind]}")
        self.resize(960, 420)
        lay = QVBoxLayout(self)
        self.editor = TemplateEditor(self, show_name=False, sample={"نام": "آقای علی رضایی"})
        self.editor.set_text(text)
        lay.addWidget(self.editor, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("تأیید")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


def _time_edit(value: str) -> QTimeEdit:
    e = QTimeEdit()
    # Hours first, as a clock reads: in a right-to-left layout Qt puts the sections in reverse order (۳۰:۰۸),
    # and the direction is read when the display format is set, so it is set before.
    e.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    e.setDisplayFormat("HH:mm")
    try:
        t = config.parse_time(value, "")
    except UserError:
        t = dt.time(9)
    e.setTime(QTime(t.hour, t.minute))
    return e


class SmsSettingsPanel(QWidget):
    TITLE = "پیامک"

    def __init__(self, ctx=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.op: QueryOp | None = None
        self.texts: dict[str, str] = {}
        outer = QVBoxLayout(self)
        cols = QHBoxLayout()
        outer.addLayout(cols, 1)

        box = QGroupBox("سامانه پیامک")
        f = QFormLayout(box)
        self.provider = QComboBox()
        for name, label in LABELS.items():
            self.provider.addItem(label, name)
        f.addRow("سامانه:", self.provider)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        f.addRow("کلید دسترسی:", self.key)
        self.sender = QLineEdit()
        self.sender.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.sender.setPlaceholderText("مانند 10004346")
        f.addRow("شماره خط:", self.sender)
        self.line_kind = QComboBox()
        self.line_kind.addItem("تبلیغاتی", "advertising")
        self.line_kind.addItem("خدماتی", "service")
        f.addRow("نوع خط:", self.line_kind)
        self.append_optout = QCheckBox(options.SMS_APPEND_OPTOUT.label)
        f.addRow("", self.append_optout)
        self.base_url = QLineEdit()
        self.base_url.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.base_url.setPlaceholderText("خالی: نشانی رسمی سامانه")
        f.addRow("نشانی سرویس:", self.base_url)
        self.port = QLineEdit()
        self.port.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.port.setPlaceholderText("COM3  —  /dev/ttyUSB0")
        f.addRow("درگاه مودم GSM:", self.port)
        test = QHBoxLayout()
        self.test_number = QLineEdit()
        self.test_number.setPlaceholderText("شماره همراه برای آزمون")
        test.addWidget(self.test_number, 1)
        self.test_button = QPushButton("ارسال آزمایشی")
        test.addWidget(self.test_button)
        f.addRow("آزمون:", test)
        self.test_status = QLabel("")
        self.test_status.setWordWrap(True)
        f.addRow(self.test_status)
        cols.addWidget(box, 1)

        auto = QGroupBox("پیام‌های خودکار")
        a = QVBoxLayout(auto)
        grid = QGridLayout()
        self.auto_checks: dict[str, QCheckBox] = {}
        self.text_buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate(options.SMS_AUTO_KINDS):
            check = QCheckBox(options.SMS_AUTO_LABELS[kind])
            button = QPushButton("متن…")
            button.clicked.connect(lambda _=False, k=kind: self.edit_text(k))
            button.setToolTip(f"متن {options.SMS_AUTO_LABELS[kind]}، با فیلدهای ادغام و پیش‌نمایش")
            grid.addWidget(check, i, 0)
            grid.addWidget(button, i, 1)
            self.auto_checks[kind] = check
            self.text_buttons[kind] = button
        grid.setColumnStretch(2, 1)
        a.addLayout(grid)
        w = QFormLayout()
        self.cheque_days = QSpinBox()
        self.cheque_days.setRange(0, 30)
        self.cheque_days.setSuffix(" روز")
        w.addRow("یادآوری چک پیش از سررسید:", self.cheque_days)
        window = QHBoxLayout()
        self.window_start = _time_edit(settings.get(options.SMS_AUTO_WINDOW_START))
        self.window_end = _time_edit(settings.get(options.SMS_AUTO_WINDOW_END))
        window.addWidget(QLabel("از"))
        window.addWidget(self.window_start)
        window.addWidget(QLabel("تا"))
        window.addWidget(self.window_end)
        window.addStretch(1)
        w.addRow("بازه ارسال روزانه:", window)
        self.fridays = QCheckBox("در روز جمعه هم فرستاده شود")
        w.addRow("", self.fridays)
        a.addLayout(w)
        note = QLabel("پیام‌ها فقط در بازه ارسال می‌روند؛ تبریک روزی که ارسال ندارد (مانند جمعه) روز پیش از آن "
                      "فرستاده می‌شود. هر رویداد یک بار پیام می‌گیرد.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        a.addWidget(note)
        a.addStretch(1)
        cols.addWidget(auto, 1)

        row = QHBoxLayout()
        self.save_button = QPushButton("ذخیره")
        row.addWidget(self.save_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        outer.addLayout(row)

        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test_send)
        self.provider.currentIndexChanged.connect(lambda _i: self._update_enabled())
        self.load()

    # --- values ----------------------------------------------------------------------------------------------
    def load(self) -> None:
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.get(options.SMS_PROVIDER))))
        self.key.clear()                                   # the stored key is never shown again
        self.key.setPlaceholderText(KEY_SAVED if config.key_is_set() else KEY_EMPTY)
        self.sender.setText(settings.get(options.SMS_SENDER))
        self.line_kind.setCurrentIndex(max(0, self.line_kind.findData(settings.get(options.SMS_LINE_KIND))))
        self.append_optout.setChecked(bool(settings.get(options.SMS_APPEND_OPTOUT)))
        self.base_url.setText(settings.get(options.SMS_BASE_URL))
        self.port.setText(settings.get(options.SMS_PORT))
        for kind, check in self.auto_checks.items():
            check.setChecked(bool(settings.get(options.SMS_AUTO_ENABLED[kind])))
        self.texts = {k: settings.get(options.SMS_AUTO_TEXT[k]) for k in options.SMS_AUTO_KINDS}
        self.cheque_days.setValue(int(settings.get(options.SMS_AUTO_CHEQUE_DAYS)))
        self.fridays.setChecked(bool(settings.get(options.SMS_AUTO_FRIDAYS)))
        self._update_enabled()

    def _update_enabled(self) -> None:
        gsm = self.provider.currentData() == "gsm"
        self.key.setEnabled(not gsm)
        self.port.setEnabled(gsm)

    def values(self) -> dict:
        v = {options.SMS_PROVIDER: self.provider.currentData(),
             options.SMS_SENDER: to_ascii_digits(self.sender.text().strip()),
             options.SMS_LINE_KIND: self.line_kind.currentData(),
             options.SMS_APPEND_OPTOUT: self.append_optout.isChecked(),
             options.SMS_BASE_URL: self.base_url.text().strip(), options.SMS_PORT: self.port.text().strip(),
             options.SMS_AUTO_CHEQUE_DAYS: self.cheque_days.value(),
             options.SMS_AUTO_WINDOW_START: self.window_start.time().toString("HH:mm"),
             options.SMS_AUTO_WINDOW_END: self.window_end.time().toString("HH:mm"),
             options.SMS_AUTO_FRIDAYS: self.fridays.isChecked()}
        key = self.key.text().strip()
        if key:
            v[options.SMS_KEY] = key
        return v

    def save(self) -> bool:
        auto = {k: c.isChecked() for k, c in self.auto_checks.items()}
        try:
            config.save(self.values(), auto=auto, texts=self.texts)
        except UserError as e:
            self._say(self.status, False, e.message)
            return False
        self.load()
        if self.ctx is not None:
            self.ctx.bus.data_changed.emit("settings")      # the automatic messages' timer follows
        on = [options.SMS_AUTO_LABELS[k] for k, v in auto.items() if v]
        self._say(self.status, True, "تنظیمات پیامک ذخیره شد." +
                  (f" پیام‌های خودکار روشن: {'، '.join(on)}." if on else " پیام خودکاری روشن نیست."))
        return True

    def edit_text(self, kind: str) -> AutoTextDialog:
        dlg = AutoTextDialog(kind, self.texts.get(kind, ""), self)
        dlg.accepted.connect(lambda: self.texts.__setitem__(kind, dlg.editor.text()))
        dlg.open()
        return dlg

    # --- test send -------------------------------------------------------------------------------------------
    def test_send(self) -> QueryOp | None:
        number = self.test_number.text().strip()
        if not number:
            self._say(self.test_status, False, "شماره همراهی برای ارسال آزمایشی بنویسید.")
            return None
        mobile = service.mobile_of(number)
        if mobile is None:
            self._say(self.test_status, False, f"«{number}» شماره همراه نیست؛ شماره‌ای مانند ۰۹۱۲۱۲۳۴۵۶۷ بنویسید.")
            return None
        v = self.values()
        override = {"name": v[options.SMS_PROVIDER], "key": v.get(options.SMS_KEY) or None,
                    "sender": v[options.SMS_SENDER], "base_url": v[options.SMS_BASE_URL], "port": v[options.SMS_PORT]}
        label = self.provider.currentText()
        try:
            provider = service.provider_from_settings(**override)
        except UserError as e:
            self._say(self.test_status, False, e.message)
            return None
        self.test_button.setEnabled(False)
        self._say(self.test_status, True, f"در حال ارسال آزمایشی با {label}…")
        self.op = (QueryOp(self, op=lambda ctl: service.send_now(mobile, TEST_TEXT, provider=provider),
                           success=lambda msg: self._tested(msg, label, mobile), name="sms-test")
                   .failure(lambda e: self._say(self.test_status, False, "ارسال آزمایشی انجام نشد: " + error_text(e)))
                   .finished(lambda: self.test_button.setEnabled(True)))
        return self.op.run()

    def _tested(self, msg, label: str, number: str) -> None:
        self._say(self.test_status, True, f"پیام آزمایشی با {label} به {fmt.phone(number)} فرستاده شد "
                                          f"(شناسه پیام در سامانه: {fmt.digits(msg.provider_id)}).")

    @staticmethod
    def _say(label: QLabel, ok: bool, text: str) -> None:
        label.setText(fmt.isolate_paths(text))
        label.setStyleSheet("" if ok else "color: #b91c1c;")
