"""Reminders on screen: an always-on-top list (snooze, done, open) plus a desktop notification where the
desktop has a tray. `ReminderCenter` polls the service every 30 s; at start-up it shows reminders that fell due
while the app was closed (marked «از دست رفته»), and each morning it creates the day's birthday and wedding
anniversary reminders.

The main window starts it with `install(ctx, parent)`.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
)

from app import fmt
from app.core.clock import now
from app.core.errors import UserError
from app.money import reminders as money_reminders
from app.tasks import reminders as rm
from app.tasks import service as tasks
from ui.context import AppContext

logger = logging.getLogger(__name__)

ROLE = Qt.ItemDataRole.UserRole


def item_text(r: rm.ReminderItem) -> str:
    kind = rm.KIND_LABELS.get(r.kind, "")
    who = f" — {r.customer_name}" if r.customer_name and r.customer_name not in r.title else ""
    missed = "از دست رفته: " if r.missed else ""
    return f"{missed}{kind}: {r.title}{who} — {r.when_text}"


class ReminderPopup(QDialog):
    """The due reminders. Enter opens, Ctrl+D done, Ctrl+S snooze, Esc closes (they stay pending)."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("یادآوری‌ها")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setWindowFlag(Qt.WindowType.Tool, True)
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setProperty("role", "title")
        lay.addWidget(self.header)
        self.list = QListWidget()
        self.list.itemActivated.connect(lambda _i: self.open_current())
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.open_btn = QPushButton("باز کردن")
        self.done_btn = QPushButton("انجام شد")
        self.done_btn.setToolTip("Ctrl+D — یادآوری بسته می‌شود و کارِ آن انجام‌شده ثبت می‌شود")
        self.snooze_choice = QComboBox()
        for minutes, label in rm.SNOOZE_CHOICES:
            self.snooze_choice.addItem(label, minutes)
        self.snooze_btn = QPushButton("بعداً یادآوری کن")
        self.snooze_btn.setToolTip("Ctrl+S")
        self.dismiss_btn = QPushButton("نادیده بگیر")
        close_btn = QPushButton("بستن")
        for w in (self.open_btn, self.done_btn, self.snooze_choice, self.snooze_btn, self.dismiss_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(close_btn)
        lay.addLayout(row)
        self.open_btn.clicked.connect(self.open_current)
        self.done_btn.clicked.connect(self.done_current)
        self.snooze_btn.clicked.connect(self.snooze_current)
        self.dismiss_btn.clicked.connect(self.dismiss_current)
        close_btn.clicked.connect(self.hide)
        QShortcut(QKeySequence("Ctrl+D"), self, activated=self.done_current)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.snooze_current)

    def set_items(self, items: list[rm.ReminderItem]) -> None:
        keep = self.current_id()
        self.list.clear()
        for r in items:
            it = QListWidgetItem(item_text(r))
            it.setData(ROLE, r)
            if r.missed:
                it.setForeground(QBrush(QColor("#b45309")))
            self.list.addItem(it)
        n_missed = sum(1 for r in items if r.missed)
        head = f"{fmt.num(len(items))} یادآوری"
        if n_missed:
            head += f" ({fmt.num(n_missed)} مورد وقتی برنامه بسته بود)"
        self.header.setText(head)
        row = next((i for i, r in enumerate(items) if r.id == keep), 0)
        if items:
            self.list.setCurrentRow(row)

    def current(self) -> rm.ReminderItem | None:
        it = self.list.currentItem()
        return it.data(ROLE) if it else None

    def current_id(self) -> int | None:
        r = self.current()
        return r.id if r else None

    def _after(self) -> None:
        row = self.list.currentRow()
        self.list.takeItem(row)
        self.ctx.bus.data_changed.emit("tasks")
        if self.list.count() == 0:
            self.hide()
        else:
            self.list.setCurrentRow(min(row, self.list.count() - 1))
            self.header.setText(f"{fmt.num(self.list.count())} یادآوری")

    def open_current(self) -> None:
        r = self.current()
        if r is None:
            return
        rm.dismiss(r.id)
        if r.task_id:
            from ui.tasks.task_dialog import open_task_dialog

            open_task_dialog(self.ctx, r.task_id, parent=self.parent())
        elif r.meeting_id:
            from ui.tasks.meeting_dialog import MeetingDialog

            dlg = MeetingDialog(self.ctx, r.meeting_id, parent=self.parent())
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.show()
        elif r.customer_id:
            self.ctx.bus.open_customer.emit(r.customer_id)
        self._after()

    def done_current(self) -> None:
        r = self.current()
        if r is None:
            return
        try:
            tasks.reminder_done(r.id, user=self.ctx.user_id)
        except UserError as e:
            logger.info("reminder done failed: %s", e.message)
        self._after()

    def snooze_current(self) -> None:
        r = self.current()
        if r is None:
            return
        rm.snooze(r.id, self.snooze_choice.currentData())
        self._after()

    def dismiss_current(self) -> None:
        r = self.current()
        if r is None:
            return
        rm.dismiss(r.id)
        self._after()


class ReminderCenter(QObject):
    """Polls for due reminders and shows them; remembers what it already showed in this session."""

    shown = Signal(list)        # the reminders just put on screen (for tests and the status bar)
    POLL_MS = 30_000

    def __init__(self, ctx: AppContext, parent=None, started_at=None):
        super().__init__(parent)
        self.ctx = ctx
        self.started_at = started_at or now()
        self.seen: set[int] = set()
        self.notifications: list[tuple[str, str]] = []
        self._day = None
        self._tray: QSystemTrayIcon | None = None
        self.popup = ReminderPopup(ctx, parent if hasattr(parent, "windowHandle") else None)
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.check)

    def start(self, first_delay_ms: int = 1500) -> None:
        self.timer.start()
        QTimer.singleShot(first_delay_ms, self.check)

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> list[rm.ReminderItem]:
        try:
            today = now().date()
            if self._day != today:
                self._day = today
                rm.generate_date_reminders(today)
                money_reminders.generate_money_reminders(today)
            items = rm.due(self.ctx.user_id, started_at=self.started_at)
        except Exception:  # reminders must never break the app
            logger.exception("reminder check failed")
            return []
        fresh = [r for r in items if r.id not in self.seen]
        if not fresh:
            return []
        self.seen.update(r.id for r in fresh)
        self.popup.set_items(items)
        self.popup.show()
        self.popup.raise_()
        self._notify(fresh)
        self.shown.emit(fresh)
        return fresh

    def _tray_icon(self) -> QSystemTrayIcon | None:
        if self._tray is not None:
            return self._tray
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        mw = self.ctx.main_window
        existing = getattr(getattr(getattr(mw, "callerid", None), "tray", None), "icon", None)
        if isinstance(existing, QSystemTrayIcon):
            self._tray = existing
        else:
            from PySide6.QtWidgets import QApplication

            self._tray = QSystemTrayIcon(QApplication.windowIcon(), self)
            self._tray.show()
        return self._tray

    def _notify(self, fresh: list[rm.ReminderItem]) -> None:
        if len(fresh) == 1:
            title, text = "یادآوری", item_text(fresh[0])
        else:
            title = f"{fmt.num(len(fresh))} یادآوری"
            text = "\n".join(item_text(r) for r in fresh[:4])
        self.notifications.append((title, text))
        icon = self._tray_icon()
        if icon is not None:
            icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 15_000)


def install(ctx: AppContext, parent=None) -> ReminderCenter:
    center = ReminderCenter(ctx, parent)
    center.start()
    return center
