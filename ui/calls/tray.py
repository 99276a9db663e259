"""The tray icon: caller-ID state at a glance, and a notification for each call when popups are turned off.

Works where the desktop has no tray (offscreen tests, some Linux desktops): notifications are then kept in
`history` and logged, and nothing fails.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app import fmt
from app.callerid import events as ev
from app.callerid import service as svc
from ui.context import AppContext

logger = logging.getLogger(__name__)

STATE_COLOURS = {"listening": "#16a34a", "no_device": "#dc2626", "reconnecting": "#f59e0b", "error": "#dc2626",
                 "stopped": "#6b7280"}


def _icon(colour: str) -> QIcon:
    pm = QPixmap(32, 32)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#1d4ed8"))
    p.setPen(QColor("#1d4ed8"))
    p.drawRoundedRect(2, 2, 28, 28, 7, 7)
    p.setBrush(QColor(colour))
    p.setPen(QColor("white"))
    p.drawEllipse(19, 19, 11, 11)
    p.end()
    return QIcon(pm)


def call_notification(view: svc.CallView) -> tuple[str, str]:
    """(title, text) for a call's tray notification."""
    where = f" — {view.line_label}" if view.line_label else ""
    if view.number_status == ev.PRIVATE:
        return "تماس ورودی" + where, "شماره تماس‌گیرنده پنهان است."
    if view.number_status == ev.UNAVAILABLE:
        return "تماس ورودی" + where, "شماره تماس‌گیرنده نامشخص است."
    number = "\u2066" + fmt.digits(view.number_display or view.number_raw) + "\u2069"
    if view.customer_id:
        return f"تماس از {view.customer_name}{where}", number
    if getattr(view, "colleague", ""):
        return f"تماس از مشتری همکار: {view.colleague}{where}", number
    return "تماس از شماره ناشناس" + where, number


class CallerIdTray(QObject):
    open_requested = Signal()
    popups_toggled = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.history: list[tuple[str, str]] = []
        self.icon: QSystemTrayIcon | None = None
        self.state = "stopped"
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(_icon(STATE_COLOURS["stopped"]), self)
            menu = QMenu()
            act_open = menu.addAction("نمایش برنامه")
            act_open.triggered.connect(self._open)
            self.act_popups = menu.addAction("نمایش پنجره تماس")
            self.act_popups.setCheckable(True)
            from app import settings

            self.act_popups.setChecked(bool(settings.get(svc.POPUP_ENABLED)))
            self.act_popups.toggled.connect(self._toggle_popups)
            self._menu = menu
            self.icon.setContextMenu(menu)
            self.icon.activated.connect(self._activated)
            self.icon.setToolTip("پیوند — شناسه تماس: خاموش")
            self.icon.show()

    def set_state(self, state: str, text: str) -> None:
        self.state = state
        if self.icon is not None:
            self.icon.setIcon(_icon(STATE_COLOURS.get(state, STATE_COLOURS["error"])))
            self.icon.setToolTip(f"پیوند — {text}")

    def notify(self, title: str, text: str) -> None:
        self.history.append((title, text))
        del self.history[:-50]
        if self.icon is not None and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        else:
            logger.info("tray notification: %s — %s", title, text)

    def notify_call(self, view: svc.CallView) -> None:
        from app.office.visibility import popup_view

        self.notify(*call_notification(popup_view(view)))

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self._open()

    def _open(self) -> None:
        self.open_requested.emit()
        w = self.ctx.main_window
        if w is not None:
            if w.isMinimized() or not w.isVisible():
                w.showNormal()
            w.raise_()
            w.activateWindow()

    def _toggle_popups(self, on: bool) -> None:
        from app import settings

        settings.set(svc.POPUP_ENABLED, bool(on))
        self.popups_toggled.emit(bool(on))
