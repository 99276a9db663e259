"""Settings → caller ID: the device, its port and speed, the lines and their names, the office's area code,
and how the popup behaves. «ذخیره» stores the values and reconnects the listener at once.

Keys: app/callerid/settings_keys.py (device, port, baud, lines, labels, on-hang-up) and
app/callerid/service.py (popup on/off, close-after, ring timeout); the area code is office.area_code.
"""
from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import fmt, phones, settings
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.errors import UserError
from app.text import to_ascii_digits, to_persian_digits

logger = logging.getLogger(__name__)

MAX_LINES = 16


class _ProbeRelay(QObject):
    done = Signal(bool, str)


class CallerIdPanel(QWidget):
    TITLE = "شناسه تماس"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._relay = _ProbeRelay(self)
        self._relay.done.connect(self._probe_done)
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        lay = QVBoxLayout(body)

        # --- device -------------------------------------------------------------------------------------
        dev = QGroupBox("دستگاه")
        f = QFormLayout(dev)
        self.enabled = QCheckBox("شناسه تماس روی این رایانه روشن باشد")
        f.addRow(self.enabled)
        self.device = QComboBox()
        for key in sk.DEVICE_KINDS:
            self.device.addItem(sk.DEVICE_LABELS[key], key)
        f.addRow("نوع دستگاه:", self.device)
        port_row = QHBoxLayout()
        self.port = QComboBox()
        self.port.setEditable(True)
        self.port.setMinimumWidth(260)
        self.refresh_btn = QPushButton("تازه‌سازی فهرست")
        self.test_btn = QPushButton("آزمایش این درگاه")
        port_row.addWidget(self.port, 1)
        port_row.addWidget(self.refresh_btn)
        port_row.addWidget(self.test_btn)
        f.addRow("درگاه:", port_row)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f.addRow("", self.test_result)
        self.baud = QComboBox()
        for b in sk.BAUD_RATES:
            self.baud.addItem(to_persian_digits(b), b)
        f.addRow("سرعت درگاه (baud):", self.baud)
        self.ncid = QLineEdit()
        self.ncid.setPlaceholderText("192.168.1.5:3333")
        f.addRow("سرور NCID:", self.ncid)
        self.init = QCheckBox("راه‌اندازی مودم با فرمان‌های AT هنگام اتصال")
        f.addRow(self.init)
        self.init_commands = QLineEdit()
        self.init_commands.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.init_commands.setToolTip("به ترتیب امتحان می‌شوند تا یکی پاسخ OK بدهد؛ با | جدا کنید.")
        f.addRow("فرمان‌های شناسه تماس:", self.init_commands)
        lay.addWidget(dev)

        # --- lines --------------------------------------------------------------------------------------
        lines = QGroupBox("خطوط تلفن")
        lf = QFormLayout(lines)
        self.lines = QSpinBox()
        self.lines.setRange(1, MAX_LINES)
        lf.addRow("تعداد خطوط دستگاه:", self.lines)
        self.area_code = QLineEdit()
        self.area_code.setMaximumWidth(90)
        self.area_code.setToolTip("برای شماره‌هایی که بدون کد شهر می‌رسند (۸ رقمی)، مانند ۰۲۱ برای تهران")
        lf.addRow("کد شهر دفتر:", self.area_code)
        self.label_box = QWidget()
        self.label_form = QFormLayout(self.label_box)
        self.label_form.setContentsMargins(0, 0, 0, 0)
        self.label_edits: list[QLineEdit] = []
        lf.addRow("نام خطوط:", self.label_box)
        lay.addWidget(lines)

        # --- popup --------------------------------------------------------------------------------------
        pop = QGroupBox("پنجره تماس")
        pf = QFormLayout(pop)
        self.popup_enabled = QCheckBox("هنگام زنگ، پنجره مشخصات مشتری نشان داده شود (خاموش: فقط اعلان کنار ساعت)")
        pf.addRow(self.popup_enabled)
        self.on_hangup = QComboBox()
        for key in sk.POPUP_HANGUP_CHOICES:
            self.on_hangup.addItem(sk.POPUP_HANGUP_LABELS[key], key)
        pf.addRow("پس از پایان تماس، پنجره:", self.on_hangup)
        self.close_after = QSpinBox()
        self.close_after.setRange(0, 3600)
        self.close_after.setSuffix(" ثانیه")
        self.close_after.setSpecialValueText("هرگز")
        pf.addRow("بستن پنجره تماس تمام‌شده پس از:", self.close_after)
        self.ring_timeout = QDoubleSpinBox()
        self.ring_timeout.setRange(3, 60)
        self.ring_timeout.setDecimals(0)
        self.ring_timeout.setSuffix(" ثانیه")
        self.ring_timeout.setToolTip("اگر این مدت زنگی نیاید، تماس تمام‌شده (یا بی‌پاسخ) حساب می‌شود.")
        pf.addRow("پایان زنگ پس از:", self.ring_timeout)
        lay.addWidget(pop)

        buttons = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.save_btn = QPushButton("ذخیره و اتصال دوباره")
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_btn)
        lay.addLayout(buttons)
        lay.addStretch(1)

        self.refresh_btn.clicked.connect(self.refresh_ports)
        self.test_btn.clicked.connect(self.test_port)
        self.save_btn.clicked.connect(self.save)
        self.device.currentIndexChanged.connect(lambda _i: self._update_enabled())
        self.enabled.toggled.connect(lambda _b: self._update_enabled())
        self.lines.valueChanged.connect(self._rebuild_labels)
        self.load()

    # --- values ----------------------------------------------------------------------------------------------

    def load(self) -> None:
        self.enabled.setChecked(bool(settings.get(sk.ENABLED)))
        self.device.setCurrentIndex(max(0, self.device.findData(settings.get(sk.DEVICE))))
        self.refresh_ports()
        self.port.setEditText(settings.get(sk.PORT))
        baud = settings.get(sk.BAUD)
        if self.baud.findData(baud) < 0:
            self.baud.addItem(to_persian_digits(baud), baud)
        self.baud.setCurrentIndex(self.baud.findData(baud))
        self.ncid.setText(settings.get(sk.NCID_ADDRESS))
        self.init.setChecked(bool(settings.get(sk.INIT)))
        self.init_commands.setText(settings.get(sk.INIT_COMMANDS))
        self.lines.setValue(max(1, min(MAX_LINES, int(settings.get(sk.LINES)))))
        self._rebuild_labels(self.lines.value())
        labels = sk.line_labels()
        for i, e in enumerate(self.label_edits, start=1):
            e.setText(labels.get(i, ""))
        self.area_code.setText(to_persian_digits(settings.area_code()))
        self.popup_enabled.setChecked(bool(settings.get(svc.POPUP_ENABLED)))
        self.on_hangup.setCurrentIndex(max(0, self.on_hangup.findData(settings.get(sk.POPUP_ON_HANGUP))))
        self.close_after.setValue(int(settings.get(svc.POPUP_CLOSE_AFTER)))
        self.ring_timeout.setValue(float(settings.get(svc.RING_TIMEOUT)))
        self._update_enabled()

    def _rebuild_labels(self, n: int) -> None:
        old = [e.text() for e in self.label_edits]
        while self.label_form.rowCount():
            self.label_form.removeRow(0)
        self.label_edits = []
        for i in range(1, n + 1):
            e = QLineEdit(old[i - 1] if i - 1 < len(old) else "")
            e.setPlaceholderText(f"خط {to_persian_digits(i)} (مانند «خط فروش»)")
            e.setMaxLength(40)
            self.label_form.addRow(f"خط {to_persian_digits(i)}:", e)
            self.label_edits.append(e)

    def _update_enabled(self) -> None:
        kind = self.device.currentData()
        on = self.enabled.isChecked()
        serial = kind != "ncid"
        for w in (self.port, self.refresh_btn, self.test_btn, self.baud):
            w.setEnabled(on and serial)
        self.ncid.setEnabled(on and kind == "ncid")
        modem = kind in ("modem", "auto")
        self.init.setEnabled(on and modem)
        self.init_commands.setEnabled(on and modem)

    def save(self) -> bool:
        area = to_ascii_digits(self.area_code.text().strip())
        digits = "".join(ch for ch in area if ch.isdigit()).lstrip("0")
        if digits not in phones.AREA_CODES:
            self._say(False, "کد شهر درست نیست؛ مانند ۰۲۱ (تهران) یا ۰۳۱ (اصفهان) بنویسید.")
            return False
        if self.device.currentData() == "ncid":
            try:
                sk.parse_host_port(self.ncid.text())
            except UserError as e:
                self._say(False, e.message)
                return False
        labels = [e.text().strip().replace("|", "/") for e in self.label_edits]
        while labels and not labels[-1]:
            labels.pop()
        settings.set(sk.ENABLED, self.enabled.isChecked())
        settings.set(sk.DEVICE, self.device.currentData())
        settings.set(sk.PORT, self.port.currentText().strip())
        settings.set(sk.BAUD, int(self.baud.currentData()))
        settings.set(sk.NCID_ADDRESS, self.ncid.text().strip())
        settings.set(sk.INIT, self.init.isChecked())
        settings.set(sk.INIT_COMMANDS, self.init_commands.text().strip() or "|".join(sk.DEFAULT_INIT_COMMANDS))
        settings.set(sk.LINES, self.lines.value())
        settings.set(sk.LINE_LABELS, "|".join(labels))
        settings.set("office.area_code", "0" + digits)
        settings.set(svc.POPUP_ENABLED, self.popup_enabled.isChecked())
        settings.set(sk.POPUP_ON_HANGUP, self.on_hangup.currentData())
        settings.set(svc.POPUP_CLOSE_AFTER, self.close_after.value())
        settings.set(svc.RING_TIMEOUT, float(self.ring_timeout.value()))
        controller = getattr(self.ctx.main_window, "callerid", None) if self.ctx.main_window else None
        if controller is not None:
            try:
                controller.reload_settings()
            except Exception:  # noqa: BLE001 - the values are saved; the status bar tells the rest
                logger.exception("caller ID reload failed")
        self.ctx.bus.data_changed.emit("settings")
        self._say(True, "تنظیمات شناسه تماس ذخیره شد.")
        return True

    def _say(self, ok: bool, text: str) -> None:
        self.message.setText(fmt.isolate_paths(text))
        self.message.setStyleSheet("" if ok else "color: #dc2626;")

    # --- ports -----------------------------------------------------------------------------------------------

    def refresh_ports(self) -> None:
        from app.callerid.sources import list_ports

        current = self.port.currentText()
        self.port.clear()
        for p in list_ports():
            label = p.device if p.description in ("", p.device) else f"{p.device} — {p.description}"
            self.port.addItem(label, p.device)
        self.port.setEditText(current)
        if not self.port.count():
            self.port.lineEdit().setPlaceholderText("درگاهی پیدا نشد؛ مسیر را بنویسید (مانند COM3)")

    def chosen_port(self) -> str:
        text = self.port.currentText().strip()
        idx = self.port.findText(text)
        if idx >= 0 and self.port.itemData(idx):
            return str(self.port.itemData(idx))
        return text

    def test_port(self) -> None:
        """AT / ATI on the chosen port, off the GUI thread. If our own listener holds that port, ask it."""
        port = self.chosen_port()
        if not port:
            self._probe_done(False, "ابتدا درگاه را انتخاب کنید یا بنویسید.")
            return
        self.test_btn.setEnabled(False)
        self.test_result.setText("در حال آزمایش درگاه…")
        controller = getattr(self.ctx.main_window, "callerid", None) if self.ctx.main_window else None
        listener = getattr(controller, "listener", None)
        source = getattr(listener, "source", None)
        if listener is not None and getattr(listener, "is_running", False) and \
                getattr(source, "port", None) == port:
            def relay(ok: bool, text: str) -> None:
                listener.probe_finished.disconnect(relay)
                self._relay.done.emit(ok, text)
            listener.probe_finished.connect(relay)
            listener.probe()
            return
        baud = int(self.baud.currentData())

        def work() -> None:
            from app.callerid import modem

            try:
                text = modem.probe(port, baud)
            except UserError as e:
                self._relay.done.emit(False, e.message)
            except Exception as e:  # noqa: BLE001 - shown, not raised
                logger.exception("port test failed")
                self._relay.done.emit(False, f"آزمایش درگاه ناموفق بود: {e}")
            else:
                self._relay.done.emit(True, text)

        threading.Thread(target=work, name="callerid-port-test", daemon=True).start()

    def _probe_done(self, ok: bool, text: str) -> None:
        self.test_btn.setEnabled(self.enabled.isChecked() and self.device.currentData() != "ncid")
        prefix = "درگاه پاسخ داد:\n" if ok else ""
        self.test_result.setText(prefix + fmt.isolate_paths(text))
        self.test_result.setStyleSheet("color: #166534;" if ok else "color: #dc2626;")
