"""Settings → caller ID: the device, its port and speed, the lines and their names, the office's area code,
and how the popup behaves. «ذخیره» stores the values and reconnects the listener at once.

Keys: app/callerid/settings_keys.py (device, port, baud, lines, labels, on-hang-up, the telephone system's
address, user, secret — stored, never shown again —, extension map) and
app/callerid/service.py (popup on/off, close-after, ring timeout); the area code is office.area_code.
"""
from __future__ import annotations

import logging

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

from app import fmt, options, settings
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.core import phones
from app.core.errors import UserError
from app.core.text import to_ascii_digits

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
        self.port_test = None           # the port test's background job (ui.ops.QueryOp)
        self.pbx_test = None            # the telephone-system connection test's background job
        self.search_job = None          # «جستجوی خودکار»'s background job
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
        search_row = QHBoxLayout()
        self.search_address = QLineEdit()
        self.search_address.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.search_address.setPlaceholderText("192.168.1.10")
        self.search_address.setToolTip("نشانی مرکز تلفن یا سرور شناسه تماس در شبکه؛ اگر دستگاه به درگاه سریال "
                                       "وصل است خالی بگذارید تا درگاه انتخاب‌شده جستجو شود.")
        self.search_btn = QPushButton("جستجوی خودکار")
        search_row.addWidget(self.search_address, 1)
        search_row.addWidget(self.search_btn)
        f.addRow("نشانی در شبکه (اختیاری):", search_row)
        self.search_result = QLabel()
        self.search_result.setWordWrap(True)
        f.addRow("", self.search_result)
        port_row = QHBoxLayout()
        self.port = QComboBox()
        self.port.setEditable(True)
        self.port.setMinimumWidth(260)
        self.port.setToolTip("نام درگاه (مانند COM3 یا /dev/ttyUSB0) یا نشانی دستگاه روی شبکه "
                             "(مانند socket://192.168.1.20:4001؛ شبیه‌ساز: socket://127.0.0.1:7001). "
                             "با «تشخیص خودکار» نشانی بی‌پیشوند هم پذیرفته است (مانند 192.168.1.10): "
                             "هنگام اتصال شناخته می‌شود.")
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
            self.baud.addItem(fmt.digits(b), b)
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

        # --- the office's telephone system (Asterisk / Issabel over AMI, Panasonic SMDR) ------------------
        self.pbx_box = QGroupBox("مرکز تلفن")
        xf = QFormLayout(self.pbx_box)
        self.pbx_address = QLineEdit()
        self.pbx_address.setPlaceholderText("192.168.1.10:5038")
        self.pbx_address.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        xf.addRow("نشانی مرکز تلفن:", self.pbx_address)
        self.smdr_link = QComboBox()
        self.smdr_link.addItem("شبکه (TCP، با رمز SMDR)", "tcp")
        self.smdr_link.addItem("درگاه سریال (همان درگاه و سرعت بالا)", "serial")
        xf.addRow("اتصال SMDR:", self.smdr_link)
        self.pbx_user = QLineEdit()
        self.pbx_user.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        xf.addRow("نام کاربری:", self.pbx_user)
        self.pbx_secret = QLineEdit()
        self.pbx_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.pbx_secret.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        xf.addRow("رمز:", self.pbx_secret)
        self.pbx_auth = QComboBox()
        self.pbx_auth.addItem("MD5 (رمز روی شبکه فرستاده نمی‌شود)", "md5")
        self.pbx_auth.addItem("ساده", "plain")
        xf.addRow("روش ورود AMI:", self.pbx_auth)
        self.pbx_extension = QLineEdit()
        self.pbx_extension.setMaximumWidth(90)
        self.pbx_extension.setToolTip("گوشی این میز؛ شماره‌گیری با کلیک نخست این داخلی را زنگ می‌زند.")
        xf.addRow("داخلی این میز:", self.pbx_extension)
        self.pbx_tech = QComboBox()
        for t in sk.PBX_TECH_CHOICES:
            self.pbx_tech.addItem(t, t)
        self.pbx_context = QLineEdit()
        self.pbx_context.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        tech_row = QHBoxLayout()
        tech_row.addWidget(self.pbx_tech)
        tech_row.addWidget(QLabel("context:"))
        tech_row.addWidget(self.pbx_context, 1)
        xf.addRow("فناوری داخلی‌ها:", tech_row)
        self.pbx_extensions = QLineEdit()
        self.pbx_extensions.setPlaceholderText("101=علی رضایی|102=مریم احمدی")
        self.pbx_extensions.setToolTip("هر داخلی و کسی که پشت آن است، با | جدا؛ تماس به نام پاسخ‌دهنده ثبت می‌شود.")
        xf.addRow("داخلی‌ها و کاربران:", self.pbx_extensions)
        pbx_test_row = QHBoxLayout()
        self.pbx_test_btn = QPushButton("آزمایش اتصال")
        self.pbx_test_result = QLabel()
        self.pbx_test_result.setWordWrap(True)
        pbx_test_row.addWidget(self.pbx_test_btn)
        pbx_test_row.addWidget(self.pbx_test_result, 1)
        xf.addRow("", pbx_test_row)
        self.smdr_note = QLabel("مرکز تلفن پاناسونیک هر تماس را پس از پایانش گزارش می‌دهد: تماس‌ها در فهرست تماس‌ها "
                                "ثبت می‌شوند، ولی هنگام زنگ پنجره‌ای باز نمی‌شود.")
        self.smdr_note.setWordWrap(True)
        xf.addRow(self.smdr_note)
        lay.addWidget(self.pbx_box)

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
        self.pbx_test_btn.clicked.connect(self.test_pbx)
        self.search_btn.clicked.connect(self.auto_search)
        self.smdr_link.currentIndexChanged.connect(lambda _i: self._update_enabled())
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
            self.baud.addItem(fmt.digits(baud), baud)
        self.baud.setCurrentIndex(self.baud.findData(baud))
        self.ncid.setText(settings.get(sk.NCID_ADDRESS))
        self.init.setChecked(bool(settings.get(sk.INIT)))
        self.init_commands.setText(settings.get(sk.INIT_COMMANDS))
        self.pbx_address.setText(settings.get(sk.PBX_ADDRESS))
        self.smdr_link.setCurrentIndex(max(0, self.smdr_link.findData(settings.get(sk.SMDR_LINK))))
        self.pbx_user.setText(settings.get(sk.PBX_USER))
        self.pbx_secret.clear()                  # the stored secret is never shown again
        self.pbx_secret.setPlaceholderText("ذخیره شده؛ برای تغییر، رمز تازه را بنویسید" if settings.get(sk.PBX_SECRET)
                                           else "")
        self.pbx_auth.setCurrentIndex(max(0, self.pbx_auth.findData(settings.get(sk.PBX_AUTH))))
        self.pbx_extension.setText(settings.get(sk.PBX_EXTENSION))
        self.pbx_tech.setCurrentIndex(max(0, self.pbx_tech.findData(settings.get(sk.PBX_TECH))))
        self.pbx_context.setText(settings.get(sk.PBX_CONTEXT))
        self.pbx_extensions.setText(settings.get(sk.PBX_EXTENSIONS))
        self.lines.setValue(max(1, min(MAX_LINES, int(settings.get(sk.LINES)))))
        self._rebuild_labels(self.lines.value())
        labels = sk.line_labels()
        for i, e in enumerate(self.label_edits, start=1):
            e.setText(labels.get(i, ""))
        self.area_code.setText(fmt.digits(settings.area_code()))
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
            e.setPlaceholderText(f"خط {fmt.digits(i)} (مانند «خط فروش»)")
            e.setMaxLength(40)
            self.label_form.addRow(f"خط {fmt.digits(i)}:", e)
            self.label_edits.append(e)

    def _update_enabled(self) -> None:
        kind = self.device.currentData()
        on = self.enabled.isChecked()
        pbx = kind in sk.PBX_KINDS
        smdr_serial = kind == "smdr" and self.smdr_link.currentData() == "serial"
        serial = kind != "ncid" and (not pbx or smdr_serial)
        self.search_btn.setEnabled(on)
        self.search_address.setEnabled(on)
        for w in (self.port, self.refresh_btn, self.baud):
            w.setEnabled(on and serial)
        self.test_btn.setEnabled(on and serial and not pbx)
        self.pbx_box.setVisible(pbx)
        for w in (self.pbx_auth, self.pbx_tech, self.pbx_context, self.pbx_extension):
            w.setEnabled(on and kind == "ami")
        self.smdr_link.setEnabled(on and kind == "smdr")
        self.pbx_address.setEnabled(on and pbx and not smdr_serial)
        self.pbx_user.setEnabled(on and pbx and not smdr_serial)
        self.pbx_secret.setEnabled(on and pbx and not smdr_serial)
        self.pbx_test_btn.setEnabled(on and pbx and not smdr_serial)
        self.smdr_note.setVisible(kind == "smdr")
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
        if self.device.currentData() in sk.PBX_KINDS and not (
                self.device.currentData() == "smdr" and self.smdr_link.currentData() == "serial"):
            try:
                sk.parse_pbx_address(self.pbx_address.text(), self.device.currentData())
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
        settings.set(sk.PBX_ADDRESS, self.pbx_address.text().strip())
        settings.set(sk.SMDR_LINK, self.smdr_link.currentData())
        settings.set(sk.PBX_USER, self.pbx_user.text().strip())
        if self.pbx_secret.text():               # empty: keep the stored secret
            settings.set(sk.PBX_SECRET, self.pbx_secret.text())
        settings.set(sk.PBX_AUTH, self.pbx_auth.currentData())
        settings.set(sk.PBX_EXTENSION, to_ascii_digits(self.pbx_extension.text().strip()))
        settings.set(sk.PBX_TECH, self.pbx_tech.currentData())
        settings.set(sk.PBX_CONTEXT, self.pbx_context.text().strip() or "from-internal")
        settings.set(sk.PBX_EXTENSIONS, self.pbx_extensions.text().strip())
        settings.set(sk.LINES, self.lines.value())
        settings.set(sk.LINE_LABELS, "|".join(labels))
        settings.set(options.OFFICE_AREA_CODE, "0" + digits)
        settings.set(svc.POPUP_ENABLED, self.popup_enabled.isChecked())
        settings.set(sk.POPUP_ON_HANGUP, self.on_hangup.currentData())
        settings.set(svc.POPUP_CLOSE_AFTER, self.close_after.value())
        settings.set(svc.RING_TIMEOUT, float(self.ring_timeout.value()))
        controller = getattr(self.ctx.main_window, "callerid", None) if self.ctx.main_window else None
        if controller is not None:
            try:
                controller.reload_settings()
            except Exception:  # the values are saved; the status bar tells the rest
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

        def work(_ctl) -> str:
            from app.callerid import modem

            return modem.probe(port, baud)

        def failed(e: BaseException) -> None:
            self._probe_done(False, e.message if isinstance(e, UserError) else f"آزمایش درگاه ناموفق بود: {e}")

        from ui.ops import QueryOp

        self.port_test = QueryOp(self, work, lambda text: self._probe_done(True, text),
                                 name="callerid-port-test").failure(failed).run()

    def test_pbx(self) -> None:
        """Log in to the telephone system with the values on the page (the stored secret when the field is
        empty), off the GUI thread; the Persian result appears beside the button."""
        from app.callerid.ami import check_connection

        kind = self.device.currentData()
        args = (kind, self.pbx_address.text().strip(), self.pbx_user.text().strip(),
                self.pbx_secret.text() or settings.get(sk.PBX_SECRET), self.pbx_auth.currentData())
        self.pbx_test_btn.setEnabled(False)
        self.pbx_test_result.setStyleSheet("")
        self.pbx_test_result.setText("در حال آزمایش اتصال…")

        def failed(e: BaseException) -> None:
            self._pbx_test_done(False, e.message if isinstance(e, UserError) else f"آزمایش اتصال ناموفق بود: {e}")

        from ui.ops import QueryOp

        self.pbx_test = QueryOp(self, lambda _ctl: check_connection(*args), lambda r: self._pbx_test_done(*r),
                                name="callerid-pbx-test").failure(failed).run()

    def auto_search(self) -> None:
        """«جستجوی خودکار»: ask the network address (AMI banner, SMDR login, NCID greeting) or, with no address,
        listen to the chosen serial port; the device kind and its address are filled in from what answered."""
        from app.callerid import autodetect

        address = self.search_address.text().strip()
        port, baud = self.chosen_port(), int(self.baud.currentData())
        if not address and not port:
            self._search_done(None, "نشانی دستگاه در شبکه را بنویسید، یا درگاه سریال را انتخاب کنید.")
            return
        self.search_btn.setEnabled(False)
        self.search_result.setStyleSheet("")
        self.search_result.setText("در حال جستجو…")

        def work(_ctl):
            return autodetect.search_network(address) if address else autodetect.search_serial(port, baud)

        def failed(e: BaseException) -> None:
            self._search_done(None, e.message if isinstance(e, UserError) else f"جستجو ناموفق بود: {e}")

        from ui.ops import QueryOp

        self.search_job = QueryOp(self, work, lambda found: self._search_done(found, found.message),
                                  name="callerid-auto-search").failure(failed).run()

    def _search_done(self, found, text: str) -> None:
        self.search_btn.setEnabled(self.enabled.isChecked())
        ok = found is not None and bool(found.kind)
        if ok:
            kind = found.kind
            if kind in sk.PBX_KINDS and ":" in found.where and self.search_address.text().strip():
                self.pbx_address.setText(found.where)
                if kind == "smdr":
                    self.smdr_link.setCurrentIndex(max(0, self.smdr_link.findData("tcp")))
            elif kind == "ncid":
                self.ncid.setText(found.where)
            elif kind == "smdr":
                self.smdr_link.setCurrentIndex(max(0, self.smdr_link.findData("serial")))
            if self.device.findData(kind) >= 0:
                self.device.setCurrentIndex(self.device.findData(kind))
            text += " برای نگه داشتن آن «ذخیره و اتصال دوباره» را بزنید."
        self.search_result.setText(fmt.isolate_paths(text))
        self.search_result.setStyleSheet("color: #166534;" if ok else "color: #dc2626;")

    def _pbx_test_done(self, ok: bool, text: str) -> None:
        self.pbx_test_btn.setEnabled(self.enabled.isChecked())
        self.pbx_test_result.setText(text)
        self.pbx_test_result.setStyleSheet("color: #166534;" if ok else "color: #dc2626;")

    def _probe_done(self, ok: bool, text: str) -> None:
        self.test_btn.setEnabled(self.enabled.isChecked() and self.device.currentData() != "ncid")
        prefix = "درگاه پاسخ داد:\n" if ok else ""
        self.test_result.setText(prefix + fmt.isolate_paths(text))
        self.test_result.setStyleSheet("color: #166534;" if ok else "color: #dc2626;")
