"""«ثبت تماس»: log a call in a few seconds, keyboard first.

Opened from the customer file (customer_id), from the caller-ID popup (call_id: the call caller ID recorded is
completed, not duplicated) or empty. Keys: Alt+1…Alt+5 pick the result, Ctrl+Enter saves, Esc closes.
Focus starts on the result, then the note, then the follow-up date.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
)

from app import fmt
from app.calls import log as call_log
from app.core.clock import now
from app.core.errors import ValidationError
from ui.context import AppContext
from ui.tasks.task_dialog import CustomerPicker, DueRow, set_combo_data, user_combo
from ui.widgets.forms import FieldErrors, error_label

logger = logging.getLogger(__name__)


class CallDialog(QDialog):
    saved = Signal(int)          # call id

    def __init__(self, ctx: AppContext, customer_id: int | None = None, call_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.call_id = call_id
        self.result_call_id: int | None = None
        self.result_task_id: int | None = None
        self.setWindowTitle("ثبت تماس")
        self.setMinimumWidth(540)
        self.errors = FieldErrors()
        existing = call_log.call_data(call_id) if call_id else None
        lay = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setProperty("role", "title")
        self.header.setWordWrap(True)
        lay.addWidget(self.header)
        form = QFormLayout()
        lay.addLayout(form)

        self.customer = CustomerPicker()
        cid = (existing or {}).get("customer_id") or customer_id
        if cid:
            self.customer.set_customer(cid, (existing or {}).get("customer_name") or None)
        form.addRow("مشتری", self.errors.wrap("customer_id", self.customer))
        self.number = QLineEdit(fmt.digits((existing or {}).get("number") or ""))
        self.number.setPlaceholderText("اختیاری وقتی مشتری شماره دارد")
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("شماره", self.errors.wrap("number", self.number))

        dir_row = QHBoxLayout()
        self.dir_in = QRadioButton("&ورودی")
        self.dir_out = QRadioButton("&خروجی")
        group = QButtonGroup(self)
        group.addButton(self.dir_in)
        group.addButton(self.dir_out)
        (self.dir_in if (existing or {}).get("direction") == "in" else self.dir_out).setChecked(True)
        dir_row.addWidget(self.dir_in)
        dir_row.addWidget(self.dir_out)
        dir_row.addStretch(1)
        form.addRow("جهت", dir_row)

        self.when = DueRow("started_at")
        started = (existing or {}).get("started_at") or now()
        self.when.set_value(started, False)
        self.errors.register("started_at", self.when, None)
        form.addRow("زمان تماس", self.when)
        self.duration = QLineEdit(call_log.format_duration((existing or {}).get("duration")))
        self.duration.setPlaceholderText("دقیقه، مثلاً ۳ یا ۲:۳۰")
        self.duration.setMaximumWidth(160)
        form.addRow("مدت", self.errors.wrap("duration", self.duration))

        self.result = QComboBox()
        self.result.addItem("— نتیجه —", "")
        for i, (key, label) in enumerate(call_log.RESULT_LABELS.items(), start=1):
            self.result.addItem(f"{label}  (Alt+{fmt.digits(i)})", key)
            QShortcut(QKeySequence(f"Alt+{i}"), self, activated=lambda k=key: set_combo_data(self.result, k))
        set_combo_data(self.result, (existing or {}).get("result") or ("answered" if existing else ""))
        form.addRow("نتیجه", self.errors.wrap("result", self.result))

        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("چه گفته شد؟")
        self.note.setFixedHeight(90)
        form.addRow("یادداشت", self.note)
        if existing and existing.get("note"):
            prev = QLabel(f"یادداشت قبلی: {existing['note']}")
            prev.setWordWrap(True)
            prev.setProperty("role", "muted")
            form.addRow("", prev)

        self.follow = DueRow("follow_up_at", placeholder="تاریخ پیگیری (اختیاری)")
        self.errors.register("follow_up_at", self.follow, None)
        form.addRow("پیگیری بعدی", self.follow)
        follow_row = QHBoxLayout()
        self.follow_assignee = user_combo(ctx.user_id, allow_none=True, none_label="— خودم —")
        follow_row.addWidget(QLabel("انجام‌دهنده"))
        follow_row.addWidget(self.follow_assignee, 1)
        form.addRow("", follow_row)
        refer_row = QHBoxLayout()
        self.refer_to = user_combo(None, allow_none=True, none_label="— ارجاع نشود —")
        self.refer_reason = QLineEdit()
        self.refer_reason.setPlaceholderText("دلیل ارجاع")
        refer_row.addWidget(self.refer_to)
        refer_row.addWidget(self.refer_reason, 1)
        form.addRow("ارجاع به همکار", refer_row)

        self.errors.general = error_label(self)
        lay.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("ثبت تماس", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_btn.setToolTip("Ctrl+Enter")
        self.save_btn.setDefault(False)
        self.save_btn.setAutoDefault(False)
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_btn.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.save)

        self._update_header(existing)
        self.customer.changed.connect(lambda _c: self._update_header(existing))
        self.setTabOrder(self.result, self.note)
        self.setTabOrder(self.note, self.follow.date)
        (self.result if cid or existing else self.customer).setFocus()

    def _update_header(self, existing: dict | None) -> None:
        name = self.customer.line.text().strip() or "تماس‌گیرنده ناشناس"
        if existing:
            what = "تماس ورودی" if existing["direction"] == "in" else "تماس خروجی"
            self.header.setText(f"{what} — {name} — {fmt.datetime(existing['started_at'])}")
        else:
            self.header.setText(f"ثبت تماس با {name}" if self.customer.customer_id() else "ثبت تماس")

    def data(self) -> dict:
        started, _all_day = self.when.value()
        follow_at, follow_all_day = self.follow.value()
        d = {"customer_id": self.customer.customer_id(), "direction": "in" if self.dir_in.isChecked() else "out",
             "started_at": started or now(), "duration": self.duration.text(), "result": self.result.currentData(),
             "note": self.note.toPlainText(), "follow_up_at": follow_at, "follow_up_all_day": follow_all_day,
             "follow_up_assignee": self.follow_assignee.currentData(), "refer_to": self.refer_to.currentData(),
             "refer_reason": self.refer_reason.text()}
        if self.number.text().strip():
            d["number"] = self.number.text()
        if self.call_id:
            d["call_id"] = self.call_id
        return d

    def save(self) -> bool:
        self.errors.clear()
        if self.customer.line.text().strip() and not self.customer.customer_id():
            self.errors.show(ValidationError({"customer_id": "مشتری را از فهرست پیشنهادها انتخاب کنید."}))
            return False
        ok, logged = self.errors.attempt(self, lambda: call_log.log_call(self.data(), user=self.ctx.user_id))
        if not ok:
            return False
        self.result_call_id = logged.call.id
        self.result_task_id = logged.task.id if logged.task else None
        self.ctx.bus.data_changed.emit("calls")
        if logged.task:
            self.ctx.bus.data_changed.emit("tasks")
        if logged.call.customer_id:
            self.ctx.bus.customer_changed.emit(logged.call.customer_id)
        self.ctx.bus.status_message.emit("تماس ثبت شد." + (" پیگیری در کارتابل قرار گرفت." if logged.task else ""))
        self.saved.emit(logged.call.id)
        self.accept()
        return True
