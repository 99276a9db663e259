"""A meeting or visit (حضوری): plan one ahead (with a reminder) or record one that was held, with its outcome."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
)

from app.core.clock import now
from app.tasks import meetings, reminders
from ui.context import AppContext
from ui.tasks.task_dialog import CustomerPicker, DueRow, set_combo_data, user_combo
from ui.widgets.forms import FieldErrors, error_label

logger = logging.getLogger(__name__)


class MeetingDialog(QDialog):
    saved = Signal(int)

    def __init__(self, ctx: AppContext, meeting_id: int | None = None, customer_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.meeting_id = meeting_id
        self.setWindowTitle("جلسه / بازدید حضوری")
        self.setMinimumWidth(500)
        self.errors = FieldErrors()
        d = meetings.meeting_data(meeting_id) if meeting_id else {}
        lay = QVBoxLayout(self)
        form = QFormLayout()
        lay.addLayout(form)
        self.customer = CustomerPicker()
        cid = d.get("customer_id") or customer_id
        if cid:
            self.customer.set_customer(cid, d.get("customer_name"))
        form.addRow("مشتری", self.errors.wrap("customer_id", self.customer))
        self.kind = QComboBox()
        for k, label in meetings.KIND_LABELS.items():
            self.kind.addItem(label, k)
        set_combo_data(self.kind, d.get("kind", "office"))
        form.addRow("نوع", self.kind)
        self.when = DueRow("start_at")
        self.when.set_value(d.get("start_at") or now().replace(minute=0, second=0), False)
        self.errors.register("start_at", self.when, None)
        form.addRow("زمان", self.when)
        self.duration = QSpinBox()
        self.duration.setRange(0, 24 * 60)
        self.duration.setSingleStep(15)
        self.duration.setSuffix(" دقیقه")
        self.duration.setSpecialValueText("—")
        self.duration.setValue(d.get("duration") or 60)
        form.addRow("مدت", self.duration)
        self.user = user_combo(d.get("user_id") if meeting_id else ctx.user_id)
        form.addRow("همکار", self.user)
        self.subject = QLineEdit(d.get("subject", ""))
        self.subject.setMaxLength(200)
        form.addRow("موضوع", self.errors.wrap("subject", self.subject))
        self.location = QLineEdit(d.get("location", ""))
        form.addRow("محل", self.location)
        self.status = QComboBox()
        for k, label in meetings.STATUS_LABELS.items():
            self.status.addItem(label, k)
        set_combo_data(self.status, d.get("status", "planned"))
        form.addRow("وضعیت", self.errors.wrap("status", self.status))
        self.summary = QPlainTextEdit(d.get("summary", ""))
        self.summary.setTabChangesFocus(True)
        self.summary.setPlaceholderText("نتیجه جلسه: چه توافق شد؟")
        self.summary.setFixedHeight(80)
        form.addRow("نتیجه", self.summary)
        self.remind = QComboBox()
        for minutes, label in reminders.BEFORE_CHOICES:
            self.remind.addItem(label, minutes)
        set_combo_data(self.remind, d.get("remind_before") if meeting_id else 60)
        form.addRow("یادآوری", self.remind)
        self.errors.general = error_label(self)
        lay.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("ذخیره", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setToolTip("Ctrl+Enter")
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        ok.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.save)
        (self.subject if cid else self.customer).setFocus(Qt.FocusReason.OtherFocusReason)

    def data(self) -> dict:
        start, _ = self.when.value()
        return {"customer_id": self.customer.customer_id(), "kind": self.kind.currentData(), "start_at": start,
                "duration": self.duration.value() or None, "user_id": self.user.currentData(),
                "subject": self.subject.text(), "location": self.location.text(),
                "status": self.status.currentData(), "summary": self.summary.toPlainText(),
                "remind_before": self.remind.currentData()}

    def save(self) -> bool:
        self.errors.clear()
        def write():
            data = self.data()
            if self.meeting_id:
                meetings.update_meeting(self.meeting_id, data, user=self.ctx.user_id)
                return self.meeting_id
            return meetings.create_meeting(data, user=self.ctx.user_id).id

        ok, meeting_id = self.errors.attempt(self, write)
        if not ok:
            return False
        self.meeting_id = meeting_id
        self.ctx.bus.data_changed.emit("meetings")
        self.saved.emit(self.meeting_id)
        self.accept()
        return True
