"""Dialogs of the money page: a collection call (the ordinary call dialog, logged through the collection
service), the next follow-up, and a cheque the office issues."""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from app import fmt
from app.core.clock import now
from app.core.errors import ValidationError
from app.money import cheques, collection
from ui.calls.call_dialog import CallDialog
from ui.context import AppContext
from ui.tasks.task_dialog import DueRow, set_combo_data, user_combo
from ui.widgets.forms import FieldErrors, error_label
from ui.widgets.jalali_date_edit import JalaliDateEdit

logger = logging.getLogger(__name__)


class CollectionCallDialog(CallDialog):
    """«ثبت نتیجه تماس» from the collection list: an outgoing call to the customer, the amount owed in the
    header, the next follow-up suggested three days on; the follow-up it sets replaces the earlier one."""

    def __init__(self, ctx: AppContext, row: collection.CollectionRow, parent=None):
        super().__init__(ctx, customer_id=row.customer_id, parent=parent)
        self.row = row
        self.setWindowTitle("ثبت نتیجه تماس پیگیری مطالبات")
        self.dir_out.setChecked(True)
        self.follow.set_value(dt.datetime.combine(now().date() + dt.timedelta(days=3), dt.time()), True)
        self.header.setText(f"پیگیری مطالبات — {row.name} — {fmt.money(row.amount)}\n{row.reason()}")

    def save(self) -> bool:
        self.errors.clear()
        ok, logged = self.errors.attempt(
            self, lambda: collection.log_collection_call(self.data(), user=self.ctx.user_id))
        if not ok:
            return False
        self.result_call_id = logged.call.id
        self.result_task_id = logged.task.id if logged.task else None
        for what in ("calls", "tasks"):
            self.ctx.bus.data_changed.emit(what)
        self.ctx.bus.customer_changed.emit(self.row.customer_id)
        self.ctx.bus.status_message.emit("تماس ثبت شد." + (" پیگیری بعدی در کارتابل قرار گرفت." if logged.task else ""))
        self.saved.emit(logged.call.id)
        self.accept()
        return True


class FollowUpDialog(QDialog):
    """«پیگیری بعدی»: when to chase this customer again, a note, and who does it."""

    def __init__(self, ctx: AppContext, row: collection.CollectionRow, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.task_id: int | None = None
        self.setWindowTitle("پیگیری بعدی")
        self.setMinimumWidth(460)
        self.errors = FieldErrors()
        lay = QVBoxLayout(self)
        head = QLabel(f"{row.name} — {fmt.money(row.amount)}")
        head.setProperty("role", "title")
        lay.addWidget(head)
        form = QFormLayout()
        lay.addLayout(form)
        self.when = DueRow("follow_up_at", placeholder="تاریخ پیگیری")
        self.when.set_value(dt.datetime.combine(now().date() + dt.timedelta(days=3), dt.time()), True)
        self.errors.register("follow_up_at", self.when, None)
        form.addRow("تاریخ", self.when)
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(70)
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("مثلاً: قول واریز تا آخر هفته")
        form.addRow("یادداشت", self.note)
        self.assignee = user_combo(ctx.user_id, allow_none=True, none_label="— خودم —")
        form.addRow("انجام‌دهنده", self.assignee)
        self.errors.general = error_label(self)
        lay.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("ثبت پیگیری", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_btn.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def save(self) -> bool:
        self.errors.clear()

        def work():
            when, all_day = self.when.value()
            if when is None:
                raise ValidationError({"follow_up_at": "تاریخ پیگیری بعدی را وارد کنید."})
            return collection.schedule_follow_up(self.row.customer_id, when.date() if all_day else when,
                                                 self.note.toPlainText(), user=self.ctx.user_id,
                                                 assignee=self.assignee.currentData())

        ok, task = self.errors.attempt(self, work)
        if not ok:
            return False
        self.task_id = task.id
        self.ctx.bus.data_changed.emit("tasks")
        self.accept()
        return True


class IssuedChequeDialog(QDialog):
    """«ثبت چک پرداختی»: a cheque the office wrote."""

    FIELDS = ("number", "bank", "account", "amount", "payee", "due_date", "issue_date")

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.cheque_id: int | None = None
        self.setWindowTitle("ثبت چک پرداختی")
        self.setMinimumWidth(440)
        self.errors = FieldErrors()
        lay = QVBoxLayout(self)
        form = QFormLayout()
        lay.addLayout(form)
        self.number = QLineEdit()
        self.bank = QLineEdit()
        self.account = QLineEdit()
        self.account.setPlaceholderText("اختیاری")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("ریال")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.amount_hint = QLabel()
        self.amount_hint.setProperty("role", "muted")
        self.amount.textChanged.connect(self._amount_changed)
        self.payee = QLineEdit()
        self.payee.setPlaceholderText("در وجه")
        self.due = JalaliDateEdit(self, placeholder="سررسید")
        self.issued = JalaliDateEdit(self, placeholder="تاریخ صدور")
        self.issued.setDate(now().date())
        self.note = QLineEdit()
        for key, label, w in (("number", "شماره چک", self.number), ("bank", "بانک", self.bank),
                              ("account", "شماره حساب", self.account), ("amount", "مبلغ", self.amount),
                              ("payee", "در وجه", self.payee), ("due_date", "سررسید", self.due),
                              ("issue_date", "تاریخ صدور", self.issued)):
            form.addRow(label, self.errors.wrap(key, w))
            if key == "amount":
                form.addRow("", self.amount_hint)
        form.addRow("توضیحات", self.note)
        self.errors.general = error_label(self)
        lay.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("ثبت چک", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_btn.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _amount_changed(self, text: str) -> None:
        from app.sales.totals import parse_money

        v = parse_money(text)
        self.amount_hint.setText(fmt.money(v) if v else "")

    def data(self) -> dict:
        return {"number": self.number.text(), "bank": self.bank.text(), "account": self.account.text(),
                "amount": self.amount.text(), "payee": self.payee.text(),
                "due_date": self.due.value(), "issue_date": self.issued.value(),
                "note": self.note.text()}

    def save(self) -> bool:
        self.errors.clear()
        ok, c = self.errors.attempt(self, lambda: cheques.issue_cheque(self.data(), user=self.ctx.user_id))
        if not ok:
            return False
        self.cheque_id = c.id
        self.ctx.bus.data_changed.emit("payments")
        self.accept()
        return True


__all__ = ["CollectionCallDialog", "FollowUpDialog", "IssuedChequeDialog", "set_combo_data"]
