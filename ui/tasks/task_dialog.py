"""The task / follow-up dialog, the referral (ارجاع) dialog, and small fields the call and meeting dialogs share:
a time field, a due-date row with «امروز / فردا / هفته بعد», a colleague combo and a customer picker."""
from __future__ import annotations

import datetime as dt
import logging
import re

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.clock import now
from app.core.errors import UserError, ValidationError
from app.core.text import to_ascii_digits
from app.tasks import reminders
from app.tasks import service as ts
from ui.context import AppContext
from ui.widgets import JalaliDateEdit
from ui.widgets.forms import FieldErrors, error_label

logger = logging.getLogger(__name__)

_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:٫.]\s*(\d{1,2})\s*$|^\s*(\d{1,2})\s*$")


# --- shared fields ------------------------------------------------------------------------------------------

class TimeEdit(QLineEdit):
    """A time typed as ۱۴:۳۰ (or 14.30, or just 9). Empty means "no time". ↑/↓ move by 15 minutes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("ساعت ۱۰:۳۰")
        self.setMaxLength(5)
        self.setFixedWidth(90)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("ساعت، مانند ۱۴:۳۰ — خالی یعنی «در طول روز»؛ ↑ و ↓ پانزده دقیقه جابه‌جا می‌کنند")
        self.error_text: str | None = None

    def time(self) -> dt.time | None:
        s = to_ascii_digits(self.text()).strip()
        self.error_text = None
        if not s:
            return None
        m = _TIME_RE.match(s)
        if not m:
            self.error_text = "ساعت را به شکل ۱۴:۳۰ بنویسید."
            return None
        h, mi = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(3)), 0)
        if h > 23 or mi > 59:
            self.error_text = "ساعت درست نیست."
            return None
        return dt.time(h, mi)

    def setTime(self, t: dt.time | None) -> None:  # Qt naming
        self.setText(fmt.time(t) if t else "")

    def keyPressEvent(self, e) -> None:
        if e.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            t = self.time() or dt.time(9, 0)
            step = 15 if e.key() == Qt.Key.Key_Up else -15
            total = (t.hour * 60 + t.minute + step) % (24 * 60)
            self.setTime(dt.time(total // 60, total % 60))
            return
        super().keyPressEvent(e)


class DueRow(QWidget):
    """Jalali date + optional time + quick buttons. value() → (datetime | None, all_day) or raises
    ValidationError on the given field name."""

    changed = Signal()

    def __init__(self, field: str = "due_at", parent=None, placeholder: str = "تاریخ (روز/ماه/سال)"):
        super().__init__(parent)
        self.field = field
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.date = JalaliDateEdit(self, placeholder=placeholder)
        self.time = TimeEdit(self)
        lay.addWidget(self.date, 2)
        lay.addWidget(self.time)
        for label, days in (("امروز", 0), ("فردا", 1), ("هفته بعد", 7)):
            b = QPushButton(label, self)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, d=days: self.set_days_from_today(d))
            lay.addWidget(b)
        self.error = error_label(self)

    def set_days_from_today(self, days: int) -> None:
        self.date.setDate(now().date() + dt.timedelta(days=days))
        self.changed.emit()

    def set_value(self, when: dt.datetime | None, all_day: bool = False) -> None:
        self.date.setDate(when.date() if when else None)
        self.time.setTime(None if (when is None or all_day) else when.time())

    def value(self) -> tuple[dt.datetime | None, bool]:
        text = self.date.text().strip()
        if not text:
            if self.time.text().strip():
                raise ValidationError({self.field: "برای ساعت، تاریخ را هم بنویسید."})
            return None, False
        d = self.date.date()
        if d is None:
            raise ValidationError({self.field: self.date.error() or "تاریخ درست نیست."})
        t = self.time.time()
        if self.time.error_text:
            raise ValidationError({self.field: self.time.error_text})
        if t is None:
            return dt.datetime.combine(d, dt.time()), True
        return dt.datetime.combine(d, t), False

    def show_error(self, message: str | None) -> None:
        self.date.show_error(message)


def user_combo(current: int | None, allow_none: bool = True, none_label: str = "— بدون مسئول —") -> QComboBox:
    cb = QComboBox()
    if allow_none:
        cb.addItem(none_label, None)
    for uid, name in ts.users():
        cb.addItem(name, uid)
    set_combo_data(cb, current)
    return cb


def set_combo_data(cb: QComboBox, value) -> None:
    i = cb.findData(value)
    if i >= 0:
        cb.setCurrentIndex(i)


class CustomerPicker(QWidget):
    """A customer chosen by typing part of a name, company or phone (a completer), or fixed by the caller."""

    changed = Signal(object)

    def __init__(self, customer_id: int | None = None, parent=None):
        super().__init__(parent)
        self._id: int | None = None
        self._choices: dict[str, int] = {}
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("نام، شرکت یا شماره تلفن مشتری…")
        self.line.setClearButtonEnabled(True)
        lay.addWidget(self.line, 1)
        self._model = QStringListModel(self)
        self.completer = QCompleter(self._model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.line.setCompleter(self.completer)
        self.completer.activated.connect(self._picked)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._search)
        self.line.textEdited.connect(self._edited)
        self.setFocusProxy(self.line)
        if customer_id:
            self.set_customer(customer_id)

    def customer_id(self) -> int | None:
        return self._id

    def set_customer(self, customer_id: int | None, name: str | None = None) -> None:
        self._id = customer_id or None
        self.line.setText(name if name is not None else ts.customer_name(customer_id))
        self.changed.emit(self._id)

    def _edited(self, _text: str) -> None:
        if self._id is not None:
            self._id = None
            self.changed.emit(None)
        self._timer.start()

    def _search(self) -> None:
        try:
            choices = ts.customer_choices(self.line.text(), limit=15)
        except Exception:  # a failed look-up must not break typing
            logger.exception("customer look-up failed")
            choices = []
        self._choices = {label: cid for cid, label in choices}
        self._model.setStringList(list(self._choices))
        if choices and self.line.hasFocus():
            self.completer.complete()

    def _picked(self, label: str) -> None:
        cid = self._choices.get(label)
        if cid:
            self._id = cid
            # the completer writes the whole suggestion after this slot; show the name alone after it
            QTimer.singleShot(0, lambda: self.line.setText(label.split(" — ")[0]))
            self.changed.emit(cid)


def show_error(parent: QWidget, e: UserError) -> None:
    QMessageBox.warning(parent, "خطا", e.message)


# --- the task dialog ------------------------------------------------------------------------------------------

class TaskDialog(QDialog):
    """New or existing task. Ctrl+Enter saves; Ctrl+D marks done; Ctrl+R refers to a colleague."""

    saved = Signal(int)

    def __init__(self, ctx: AppContext, task_id: int | None = None, customer_id: int | None = None,
                 prefill: dict | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.task_id = task_id
        self.setWindowTitle("کار / پیگیری")
        self.setMinimumWidth(560)
        self.errors = FieldErrors()
        data = ts.task_data(task_id) if task_id else {}
        prefill = prefill or {}
        lay = QVBoxLayout(self)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        lay.addWidget(self.status_label)
        form = QFormLayout()
        lay.addLayout(form)
        self.title = QLineEdit(data.get("title") or prefill.get("title", ""))
        self.title.setMaxLength(200)
        form.addRow("عنوان", self.errors.wrap("title", self.title))
        self.kind = QComboBox()
        for k, label in ts.KIND_LABELS.items():
            self.kind.addItem(label, k)
        set_combo_data(self.kind, data.get("kind") or prefill.get("kind", "task"))
        self.priority = QComboBox()
        for p, label in ts.PRIORITY_LABELS.items():
            self.priority.addItem(label, p)
        set_combo_data(self.priority, data.get("priority", prefill.get("priority", 1)))
        row = QHBoxLayout()
        row.addWidget(self.kind)
        row.addWidget(QLabel("اولویت"))
        row.addWidget(self.priority)
        row.addStretch(1)
        form.addRow("نوع", row)
        self.customer = CustomerPicker()
        cid = data.get("customer_id") or customer_id or prefill.get("customer_id")
        if cid:
            self.customer.set_customer(cid, data.get("customer_name"))
        form.addRow("مشتری", self.errors.wrap("customer_id", self.customer))
        self.assignee = user_combo(data.get("assignee_id") if task_id else (prefill.get("assignee_id") or ctx.user_id))
        form.addRow("مسئول", self.errors.wrap("assignee_id", self.assignee))
        self.due = DueRow("due_at")
        self.due.set_value(data.get("due_at") or prefill.get("due_at"), data.get("all_day", prefill.get("all_day", False)))
        self.errors.register("due_at", self.due, None)
        form.addRow("سررسید", self.due)
        rec_row = QHBoxLayout()
        self.recurrence = QComboBox()
        for k, label in ts.RECURRENCE_LABELS.items():
            self.recurrence.addItem(label, k)
        set_combo_data(self.recurrence, data.get("recurrence", ""))
        self.interval = QSpinBox()
        self.interval.setRange(1, 999)
        self.interval.setValue(data.get("recur_interval") or 1)
        self.interval.setPrefix("هر ")
        self.until = JalaliDateEdit(placeholder="تا (اختیاری)")
        self.until.setDate(data.get("recur_until"))
        rec_row.addWidget(self.recurrence)
        rec_row.addWidget(self.interval)
        rec_row.addWidget(QLabel("تا"))
        rec_row.addWidget(self.until, 1)
        form.addRow("تکرار", rec_row)
        self.errors.register("recurrence", self.recurrence, None)
        self.errors.register("recur_until", self.until, None)
        self.recurrence.currentIndexChanged.connect(self._rec_changed)
        self._rec_changed()
        self.remind = QComboBox()
        for minutes, label in reminders.BEFORE_CHOICES:
            self.remind.addItem(label, minutes)
        set_combo_data(self.remind, data.get("remind_before") if task_id else prefill.get("remind_before"))
        form.addRow("یادآوری", self.errors.wrap("remind_before", self.remind))
        self.description = QPlainTextEdit(data.get("description") or prefill.get("description", ""))
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(80)
        form.addRow("توضیحات", self.description)
        self.chain = QLabel()
        self.chain.setWordWrap(True)
        self.chain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.chain)
        self.errors.general = error_label(self)
        lay.addWidget(self.errors.general)

        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("ذخیره", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_btn.setToolTip("Ctrl+Enter")
        self.done_btn = buttons.addButton("انجام شد", QDialogButtonBox.ButtonRole.ActionRole)
        self.done_btn.setToolTip("Ctrl+D")
        self.refer_btn = buttons.addButton("ارجاع به همکار…", QDialogButtonBox.ButtonRole.ActionRole)
        self.refer_btn.setToolTip("Ctrl+R")
        self.customer_btn = buttons.addButton("پرونده مشتری", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        lay.addWidget(buttons)
        self.save_btn.clicked.connect(self.save)
        self.done_btn.clicked.connect(self.toggle_done)
        self.refer_btn.clicked.connect(self.refer)
        self.customer_btn.clicked.connect(self._open_customer)
        buttons.rejected.connect(self.reject)
        for keys, slot in (("Ctrl+Return", self.save), ("Ctrl+Enter", self.save), ("Ctrl+D", self.toggle_done),
                           ("Ctrl+R", self.refer)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        self._refresh_state()
        self.title.setFocus()

    def _rec_changed(self) -> None:
        on = bool(self.recurrence.currentData())
        self.interval.setEnabled(on)
        self.until.setEnabled(on)
        unit = {"daily": " روز", "weekly": " هفته", "monthly": " ماه", "yearly": " سال"}.get(
            self.recurrence.currentData() or "", "")
        self.interval.setSuffix(unit)

    def _refresh_state(self) -> None:
        editing = self.task_id is not None
        self.done_btn.setVisible(editing)
        self.refer_btn.setVisible(editing)
        self.customer_btn.setVisible(bool(self.customer.customer_id()))
        if not editing:
            self.status_label.setText("کار تازه")
            self.chain.clear()
            return
        d = ts.task_data(self.task_id)
        parts = [f"وضعیت: {ts.STATUS_LABELS.get(d['status'], d['status'])}"]
        if d["overdue"]:
            parts.append("<span style='color:#dc2626'>عقب‌افتاده</span>")
        if d["done_at"]:
            parts.append(f"انجام در {fmt.datetime(d['done_at'])}"
                         + (f" توسط {d['done_by_name']}" if d["done_by_name"] else ""))
        if d["created_by_name"]:
            parts.append(f"ثبت‌کننده: {d['created_by_name']} ({fmt.datetime(d['created_at'])})")
        self.status_label.setText(" — ".join(parts))
        self.done_btn.setText("باز کردن دوباره" if d["status"] == "done" else "انجام شد")
        self.refer_btn.setEnabled(d["status"] == "open")
        if d["referrals"]:
            lines = ["<b>زنجیره ارجاع:</b>"]
            for r in d["referrals"]:
                reason = f" — «{r.reason}»" if r.reason else ""
                lines.append(f"{fmt.datetime(r.at)} — از {r.from_name or '—'} به {r.to_name}{reason}")
            self.chain.setText("<br>".join(lines))
        else:
            self.chain.clear()

    def data(self) -> dict:
        due, all_day = self.due.value()
        until = self.until.date() if self.until.text().strip() else None
        if self.until.text().strip() and until is None:
            raise ValidationError({"recur_until": self.until.error() or "تاریخ پایان تکرار درست نیست."})
        return {"title": self.title.text(), "kind": self.kind.currentData(), "priority": self.priority.currentData(),
                "customer_id": self.customer.customer_id(), "assignee_id": self.assignee.currentData(),
                "due_at": due, "all_day": all_day, "recurrence": self.recurrence.currentData() or "",
                "recur_interval": self.interval.value(), "recur_until": until,
                "remind_before": self.remind.currentData(), "description": self.description.toPlainText()}

    def save(self) -> bool:
        self.errors.clear()
        if self.customer.line.text().strip() and not self.customer.customer_id():
            self.errors.show(ValidationError({"customer_id": "مشتری را از فهرست پیشنهادها انتخاب کنید."}))
            return False
        def write():
            data = self.data()
            if self.task_id:
                ts.update_task(self.task_id, data, user=self.ctx.user_id)
                return self.task_id
            return ts.create_task(data, user=self.ctx.user_id).id

        ok, task_id = self.errors.attempt(self, write)
        if not ok:
            return False
        self.task_id = task_id
        self.ctx.bus.data_changed.emit("tasks")
        self.saved.emit(self.task_id)
        self.accept()
        return True

    def toggle_done(self) -> None:
        if not self.task_id:
            return
        d = ts.task_data(self.task_id)
        try:
            ts.set_done(self.task_id, d["status"] != "done", user=self.ctx.user_id)
        except UserError as e:
            show_error(self, e)
            return
        self.ctx.bus.data_changed.emit("tasks")
        self._refresh_state()

    def refer(self) -> None:
        if not self.task_id:
            return
        dlg = ReferDialog(self.ctx, self.task_id, parent=self)
        if dlg.exec():
            self._refresh_state()
            set_combo_data(self.assignee, ts.get_task(self.task_id).assignee_id)

    def _open_customer(self) -> None:
        cid = self.customer.customer_id()
        if cid:
            self.ctx.bus.open_customer.emit(cid)


class ReferDialog(QDialog):
    """Hand a task to a colleague, with a reason (why)."""

    def __init__(self, ctx: AppContext, task_id: int, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.task_id = task_id
        self.setWindowTitle("ارجاع به همکار")
        self.errors = FieldErrors()
        t = ts.task_data(task_id)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"«{t['title']}» — اکنون در کارتابل {t['assignee_name'] or 'هیچ‌کس'}"))
        form = QFormLayout()
        lay.addLayout(form)
        self.to_user = user_combo(None, allow_none=True, none_label="— همکار را انتخاب کنید —")
        i = self.to_user.findData(t["assignee_id"])
        if i > 0:
            self.to_user.removeItem(i)
        form.addRow("به", self.errors.wrap("to_user", self.to_user))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("چرا؟ مثلاً «من فردا مرخصی هستم»")
        form.addRow("دلیل", self.reason)
        buttons = QDialogButtonBox()
        self.ok_btn = buttons.addButton("ارجاع", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_btn.setToolTip("Ctrl+Enter")
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.ok_btn.clicked.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.submit)

    def submit(self) -> bool:
        ok, _ = self.errors.attempt(self, lambda: ts.refer(self.task_id, self.to_user.currentData() or 0,
                                                          self.reason.text(), by_user=self.ctx.user_id))
        if not ok:
            return False
        self.ctx.bus.data_changed.emit("tasks")
        self.accept()
        return True


def open_task_dialog(ctx: AppContext, task_id: int | None = None, customer_id: int | None = None,
                     parent=None) -> TaskDialog:
    """Show a task (non-modal); the main window connects Bus.open_task here."""
    dlg = TaskDialog(ctx, task_id=task_id, customer_id=customer_id, parent=parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
