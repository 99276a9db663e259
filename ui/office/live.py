"""The other desks, live: their calls on the lines this desk watches, tasks referred to me, and their changes.

    live = install(ctx, main_window)      # starts app.office.events (LISTEN on PostgreSQL), subscribes
    live.stop()                            # on close

- `call` from another desk (the one with the caller-ID device): the same popup as a local call, in the same
  stack, when this desk watches that line (desk setting office.watch_lines). The owning desk does not show
  its own event a second time.
- `task_assigned` to the user at this desk (by someone else): a small notice in the screen's corner with
  «باز کردن», within a second of the referral; the inbox refreshes.
- `changed` from another desk: ctx.bus.data_changed(key) for the list that table belongs to (customers,
  calls, tasks, invoices…), so open lists and the dashboard read again; a change of the settings table first
  drops this process's cache of office settings, so the new values are read.
- `resync` (the link to the server came back): everything is read again.

Events reach this object on the events thread and are handed to the GUI thread by a queued signal.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import settings
from app.office import events
from app.office import live as rules
from app.office.visibility import popup_view
from ui.context import AppContext

logger = logging.getLogger(__name__)

NOTICE_MS = 20_000
EXTENSIONS_TTL_S = 5.0  # the desk's extensions are read again after this long (a colleague's edited meanwhile)
REFRESH_MS = 100        # changes of one save, folded into one refresh per list


class AssignmentNotice(QFrame):
    """A small window in the screen's corner: a task landed in my inbox. Does not take the focus."""

    def __init__(self, ctx: AppContext, payload: dict, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("assignmentNotice")
        self.setStyleSheet("QFrame#assignmentNotice { background: #fffbea; border: 1px solid #f0c36d; "
                           "border-radius: 6px; }")
        self.ctx = ctx
        self.task_id = int(payload.get("task_id") or 0)
        lay = QVBoxLayout(self)
        self.title_label = QLabel(self.heading(payload))
        self.title_label.setProperty("role", "title")
        self.title_label.setStyleSheet("font-size: 11pt; font-weight: bold;")
        lay.addWidget(self.title_label)
        self.body_label = QLabel(self.body(payload))
        self.body_label.setWordWrap(True)
        lay.addWidget(self.body_label)
        row = QHBoxLayout()
        self.open_button = QPushButton("باز کردن")
        self.open_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.open_button.clicked.connect(self._open)
        close = QPushButton("بستن")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close)
        row.addWidget(self.open_button)
        row.addWidget(close)
        row.addStretch(1)
        lay.addLayout(row)
        self.setFixedWidth(340)
        QTimer.singleShot(NOTICE_MS, self.close)

    @staticmethod
    def heading(payload: dict) -> str:
        return "کاری به شما ارجاع شد" if payload.get("referral") else "کار تازه در کارتابل شما"

    @staticmethod
    def body(payload: dict) -> str:
        from app.tasks.service import user_name

        who = ""
        try:
            who = user_name(payload.get("by_user")) if payload.get("by_user") else ""
        except Exception:  # the notice without the name rather than none
            logger.debug("notice: user name not read", exc_info=True)
        text = f"«{payload.get('title', '')}»"
        if who:
            text += f" از {who}"
        reason = (payload.get("reason") or "").strip()
        if reason:
            text += f"\n{reason}"
        return text

    def _open(self) -> None:
        if self.task_id:
            self.ctx.bus.open_task.emit(self.task_id)
        self.close()

    def place(self, index: int = 0) -> None:
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        self.adjustSize()
        if area is None:
            return
        # the left corner: the right one holds the call popups (RTL: the tray side)
        y = area.bottom() - 12 - (self.height() + 8) * (index + 1)
        self.move(area.left() + 12, max(area.top() + 12, y))


class LiveOffice(QObject):
    arrived = Signal(object)            # events.Event, from the events thread (queued to the GUI thread)
    call_shown = Signal(object)         # CallView of another desk's call now on screen here
    notice_shown = Signal(object)       # AssignmentNotice
    refreshed = Signal(str)             # data_changed key emitted because of another desk

    def __init__(self, ctx: AppContext, stack=None, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._stack = stack
        self.started_events = False             # install() started the bus: stop() stops it
        self.notices: list[AssignmentNotice] = []
        self.arrived.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._due: set[str] = set()                # data_changed keys to emit (several tables share a key)
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.setInterval(REFRESH_MS)
        self._emit_timer.timeout.connect(self._emit_due)
        self._offs = [events.subscribe(ch, self.arrived.emit)
                      for ch in ("call", "task_assigned", "changed", "resync")]

    @property
    def stack(self):
        if self._stack is None:
            from ui.calls.popup_stack import PopupStack

            self._stack = PopupStack(self.ctx, self)
        return self._stack

    def extensions(self) -> frozenset[str]:
        """The extensions whose calls pop here (the signed-in colleague's, the desk's own), read at most every
        few seconds."""
        import time

        now = time.monotonic()
        cached = getattr(self, "_ext_cache", None)
        if cached is None or now - cached[0] > EXTENSIONS_TTL_S or cached[1] != self.ctx.user_id:
            cached = (now, self.ctx.user_id, rules.desk_extensions(self.ctx.user_id))
            self._ext_cache = cached
        return cached[2]

    def stop(self) -> None:
        for off in self._offs:
            off()
        self._offs = []
        for n in list(self.notices):
            n.close()
        if self.started_events:
            self.started_events = False
            events.stop()

    # --- events (GUI thread) --------------------------------------------------------------------------------
    def _on_event(self, ev: events.Event) -> None:
        try:
            handler = {"call": self._call, "task_assigned": self._task, "changed": self._changed,
                       "resync": self._resync}.get(ev.channel)
            if handler is not None:
                handler(ev)
        except Exception:  # another desk's event must never break this one
            logger.exception("office event %s not handled", ev.channel)

    def _call(self, ev: events.Event) -> None:
        if ev.mine:
            return                                  # this desk owns the device: its popup is already up
        view = rules.call_view(ev.payload)
        if view is None or view.direction != "in":
            return
        stack = self.stack
        if stack.popup_for(view.key) is None and not rules.shows_call(view, self.extensions()):
            return
        view = popup_view(view)                     # what this desk's role may see of the caller
        if stack.popup_for(view.key) is not None:
            stack.update_call(view)
            return
        if view.final or not (view.number_known or view.rings >= 2):
            return
        if rules.answered_elsewhere(view, self.extensions()):
            return                                  # a colleague has it: its popup here closed, or never opened
        from app.callerid import service as svc

        if not settings.get(svc.POPUP_ENABLED):
            return
        summary = None
        if view.customer_id:
            from app.customers import summary as sm

            try:
                summary = sm.customer_summary(view.customer_id, exclude_call_id=view.call_id or None)
            except Exception:  # the name without the details rather than nothing
                logger.exception("summary for another desk's call failed")
        stack.show_call(view, summary)
        self.call_shown.emit(view)

    def _task(self, ev: events.Event) -> None:
        p = ev.payload
        me = self.ctx.user_id
        if not me or p.get("to_user") != me or p.get("by_user") == me:
            return
        self.ctx.bus.data_changed.emit("tasks")
        notice = AssignmentNotice(self.ctx, p)
        notice.destroyed.connect(lambda _=None, n=notice: self._forget(n))
        self.notices.append(notice)
        notice.place(len(self.notices) - 1)
        notice.show()
        self.notice_shown.emit(notice)

    def _forget(self, notice: AssignmentNotice) -> None:
        if notice in self.notices:
            self.notices.remove(notice)

    def _changed(self, ev: events.Event) -> None:
        if ev.mine:
            return                                  # this desk's own screens already know
        key = rules.bus_key(str(ev.payload.get("table", "")))
        if not key:
            return
        if key == "settings":
            settings.reset_cache()                  # office settings are read anew from the database
        self._due.add(key)
        if not self._emit_timer.isActive():
            self._emit_timer.start()

    def _emit_due(self) -> None:
        """customer, phone_number and activity all change in one save: the customer list reads again once."""
        due, self._due = sorted(self._due), set()
        for key in due:
            self.ctx.bus.data_changed.emit(key)
            self.refreshed.emit(key)

    def _resync(self, _ev: events.Event) -> None:
        settings.reset_cache()
        self._due |= set(rules.TABLE_KEYS.values())
        self._emit_due()


def install(ctx: AppContext, window=None) -> LiveOffice | None:
    """Start the office events for this desk and show the other desks' calls, notices and changes here.
    Returns None (and says so in the status bar) when the events cannot start; the program works on."""
    stack = getattr(getattr(window, "callerid", None), "stack", None)
    live = LiveOffice(ctx, stack=stack, parent=window)
    try:
        mode = events.start()
    except Exception as e:  # live events are a convenience; the desk must open regardless
        logger.exception("office events did not start")
        ctx.bus.status_message.emit(getattr(e, "message", None) or "رویدادهای زنده دفتر راه نیفتاد.")
        live.stop()
        return None
    live.started_events = True
    logger.info("office events: %s", mode)
    return live
