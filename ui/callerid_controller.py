"""Wires caller ID together in the GUI: listener (worker thread) → service → popups / tray / status bar.

    self.callerid = CallerIdController(ctx, parent)   # from the main window
    self.callerid.start()                              # reads the desk's device settings itself
    self.callerid.stop()                               # on close: stops the listener, closes open calls

`attach_listener(obj)` connects any object with `event_received(object)` and `state_changed(str, str)` signals
(the real listener, or a test's); `start()` creates app.callerid.listener's listener from the settings.
Events arrive on the GUI thread through queued connections; the service's work per event is a few indexed
queries, so the GUI never waits on the device.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app import settings
from app import summary as sm
from app.callerid import events as ev
from app.callerid import service as svc
from app.office.live import publish_call
from ui.context import AppContext
from ui.popup_stack import PopupStack
from ui.tray import CallerIdTray

logger = logging.getLogger(__name__)

TICK_MS = 500


class CallerIdController(QObject):
    call_changed = Signal(object)        # CallView, after the service recorded it (tests, the calls page)

    def __init__(self, ctx: AppContext, parent: QObject | None = None, tray: CallerIdTray | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.service: svc.CallerIdService | None = None
        self.stack = PopupStack(ctx, self)
        self.tray = tray if tray is not None else CallerIdTray(ctx, self)
        self.listener = None
        self._notified: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._changed = QTimer(self)
        self._changed.setSingleShot(True)
        self._changed.setInterval(300)
        self._changed.timeout.connect(lambda: self.ctx.bus.data_changed.emit("calls"))
        ctx.bus.customer_changed.connect(self._customer_changed)

    # --- life -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.service is None:
            try:
                svc.recover_open_calls()
            except Exception:  # noqa: BLE001 - a damaged row must not stop caller ID
                logger.exception("caller ID: could not close the calls left open")
            self.service = svc.CallerIdService()
        self.stack.prewarm(1)
        self._timer.start()
        if self.listener is None:
            listener = self._make_listener()
            if listener is None:
                return
            self.attach_listener(listener)
        start = getattr(self.listener, "start", None)
        if callable(start):
            start()

    def _make_listener(self):
        try:
            from app.callerid.listener import CallerIdListener
        except ImportError:
            logger.warning("caller ID listener not available in this build")
            self._state("error", "شناسه تماس: در این نسخه در دسترس نیست")
            return None
        try:
            return CallerIdListener.from_settings(parent=self)
        except Exception as e:  # noqa: BLE001 - bad settings: say so in the status bar, keep the app running
            logger.exception("caller ID listener could not be created")
            msg = getattr(e, "message", None) or "شناسه تماس: تنظیمات دستگاه را بررسی کنید"
            self._state("error", msg)
            return None

    def attach_listener(self, listener) -> None:
        self.listener = listener
        listener.event_received.connect(self.on_event, Qt.ConnectionType.QueuedConnection)
        listener.state_changed.connect(self._state, Qt.ConnectionType.QueuedConnection)

    def stop(self) -> None:
        self._timer.stop()
        if self.listener is not None:
            stop = getattr(self.listener, "stop", None)
            if callable(stop):
                try:
                    stop()
                except Exception:  # noqa: BLE001
                    logger.exception("caller ID listener stop failed")
        if self.service is not None:
            self._show(self.service.close_all())
        self.stack.clear()
        self._state("stopped", "شناسه تماس: خاموش")

    # --- events ---------------------------------------------------------------------------------------------

    def on_event(self, event) -> None:
        if not isinstance(event, ev.CallerIdEvent):
            return
        if self.service is None:
            self.service = svc.CallerIdService()
        self._show(self.service.handle(event, before_write=self._show_before_write))

    def _show_before_write(self, v: svc.CallView) -> None:
        """A new call, looked up but not yet logged (v.call_id is 0): its popup goes on screen now, painted,
        and the service writes the Call row right after, in this same GUI turn; the view it then returns
        (with the id) reaches the same popup through _show → update_call before any click can be handled."""
        had = self.stack.popup_for(v.key)
        self._show_one(v)
        p = self.stack.popup_for(v.key)
        if p is not None and p is not had:
            p.repaint()         # pixels on screen before the write, not after it at the next paint event

    def tick(self) -> None:
        if self.service is not None:
            self._show(self.service.tick())

    def _show(self, views: list[svc.CallView]) -> None:
        if not views:
            return
        for v in views:
            try:
                self._show_one(v)
            except Exception:  # noqa: BLE001 - one broken popup must not hide the next call
                logger.exception("caller ID: could not show call %s", v.key)
            self.call_changed.emit(v)
            publish_call(v)                      # the desks watching this line show it too
        self._changed.start()

    def _show_one(self, v: svc.CallView) -> None:
        if v.direction != "in":
            return
        existing = self.stack.popup_for(v.key)
        worth = v.number_known or v.rings >= 2
        if existing is None:
            if not worth or v.key in self._notified:
                return
            self._notified.add(v.key)
            if len(self._notified) > 500:
                self._notified = {v.key}
            if not settings.get(svc.POPUP_ENABLED):
                self.tray.notify_call(v)
                return
            summary = self._summary(v)
            self.stack.show_call(v, summary)
            return
        if v.customer_id and v.customer_id != existing.view.customer_id:
            self.stack.show_call(v, self._summary(v))
        else:
            self.stack.update_call(v)

    @staticmethod
    def _summary(v: svc.CallView) -> sm.CustomerSummary | None:
        if not v.customer_id:
            return None
        try:
            return sm.customer_summary(v.customer_id, exclude_call_id=v.call_id)
        except Exception:  # noqa: BLE001 - show the name without the details rather than nothing
            logger.exception("caller ID: summary failed for customer %s", v.customer_id)
            return None

    def _state(self, state: str, text: str) -> None:
        self.ctx.bus.callerid_state.emit(state, text)
        self.tray.set_state(state, text)

    def _customer_changed(self, customer_id: int) -> None:
        """A customer was created or edited (e.g. from a popup's «مشتری جدید»): attach the calls from their
        numbers, and turn open popups of those numbers into the customer's popup."""
        try:
            if svc.link_calls_to_customer(customer_id):
                self._changed.start()
            for p in self.stack.popups():
                v = p.view
                if v is None or v.customer_id or not v.number:
                    continue
                row = svc.get_call_row(v.call_id)
                if row.customer_id == customer_id:
                    from dataclasses import replace

                    p.summary = sm.customer_summary(customer_id, exclude_call_id=v.call_id)
                    p.update_call(replace(v, customer_id=customer_id, customer_name=row.customer_name))
        except Exception:  # noqa: BLE001
            logger.exception("caller ID: could not link calls to customer %s", customer_id)

    # --- for the settings panel and click-to-call ---------------------------------------------------------

    def reload_settings(self) -> None:
        """After the settings panel saved: re-read the device settings and the ring timeout."""
        if self.service is not None:
            self.service.machine.ring_timeout = max(1.0, float(settings.get(svc.RING_TIMEOUT)))
        reload = getattr(self.listener, "reload_settings", None)
        if callable(reload):
            reload(start=True)
        elif self.listener is None:
            self.start()

    def popups(self):
        return self.stack.popups()
