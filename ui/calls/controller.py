"""Wires caller ID together in the GUI: listener (worker thread) → service → popups / tray / status bar.

    self.callerid = CallerIdController(ctx, parent)   # from the main window
    self.callerid.start()                              # reads the desk's device settings itself
    self.callerid.stop()                               # on close: stops the listener, closes open calls

`attach_listener(obj)` connects any object with `event_received(object)` and `state_changed(str, str)` signals
(the real listener, or a test's); `start()` creates app.callerid.listener's listener from the settings.

Per event (GUI thread): the service identifies the call (a few indexed reads), the popup is shown, and the
call's row is queued to the one writer (service.record → models.writer). The writer's answer comes back
through a queued Qt signal (_RecordBridge, emitted from the Future's done-callback on the writer thread) and
gives the popup its call id. The GUI never waits for a write: a call during a long import or a backup waits
in the writer's queue, not on the screen. A failed record is retried (RETRY_MS) with the call's latest state.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app import settings
from app.callerid import events as ev
from app.callerid import service as svc
from app.calls import log as call_log
from app.customers import summary as sm
from app.office.live import publish_call
from app.office.visibility import popup_view
from models.writer import writer
from ui.calls.popup_stack import PopupStack
from ui.calls.tray import CallerIdTray
from ui.context import AppContext

logger = logging.getLogger(__name__)

TICK_MS = 500
RETRY_MS = 2000


class _RecordBridge(QObject):
    """Carries a finished write job from the writer thread to the GUI thread (a queued connection: the
    bridge lives on the GUI thread and the signal is emitted on the writer's)."""

    done = Signal(object, object)        # concurrent Future, list of call keys


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
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(lambda: self._record([]))
        self._bridge = _RecordBridge(self)
        self._bridge.done.connect(self._on_recorded)
        self.pending = 0                     # record jobs queued and not yet answered (tests, the bench)
        ctx.bus.customer_changed.connect(self._customer_changed)

    # --- life -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.service is None:
            try:      # queued, not awaited: an import may hold the writer at start-up
                writer.submit(svc.recover_open_calls).add_done_callback(_log_failure)
            except Exception:  # a damaged row must not stop caller ID
                logger.exception("caller ID: could not close the calls left open")
            self.service = svc.CallerIdService()
        self.stack.prewarm(1)
        sm.prewarm()
        svc.prewarm()
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
        except Exception as e:  # bad settings: say so in the status bar, keep the app running
            logger.exception("caller ID listener could not be created")
            msg = getattr(e, "message", None) or "شناسه تماس: تنظیمات دستگاه را بررسی کنید"
            self._state("error", msg)
            return None

    def attach_listener(self, listener) -> None:
        """The real listener emits on the GUI thread already (its worker's signals reach it queued): its events
        are handled at once, not queued a second time behind whatever the event loop holds. A listener whose
        signals come from another thread is still queued (AutoConnection)."""
        self.listener = listener
        listener.event_received.connect(self.on_event, Qt.ConnectionType.AutoConnection)
        listener.state_changed.connect(self._state, Qt.ConnectionType.AutoConnection)

    def stop(self) -> None:
        self._timer.stop()
        if self.listener is not None:
            stop = getattr(self.listener, "stop", None)
            if callable(stop):
                try:
                    stop()
                except Exception:
                    logger.exception("caller ID listener stop failed")
        if self.service is not None:
            views = self.service.close_all()
            self._show(views)
            self._record(views)
        self._retry.stop()
        self.stack.clear()
        self._state("stopped", "شناسه تماس: خاموش")

    # --- events ---------------------------------------------------------------------------------------------

    def on_event(self, event) -> None:
        if not isinstance(event, ev.CallerIdEvent):
            return
        if self.service is None:
            self.service = svc.CallerIdService()
        views = self.service.identify(event)       # reads only: the popup goes up without waiting for a write
        self._show(views)
        self._record(views)

    def tick(self) -> None:
        if self.service is not None:
            views = self.service.tick()
            self._show(views)
            self._record(views)

    def _show(self, views: list[svc.CallView]) -> None:
        for v in views:
            try:
                self._show_one(v)
            except Exception:  # one broken popup must not hide the next call
                logger.exception("caller ID: could not show call %s", v.key)
            publish_call(v)                      # the desks watching this line show it too

    # --- the writer's half ----------------------------------------------------------------------------------

    def _record(self, views: list[svc.CallView]) -> None:
        if self.service is None or (not views and not self.service.pending_retry()):
            return
        keys = [v.key for v in views]
        try:
            fut = self.service.record(views)
        except Exception:  # e.g. the writer is shut down: retried later
            logger.exception("caller ID: could not queue the call records")
            self.service.record_failed(keys)
            self._retry.start()
            return
        self.pending += 1
        bridge = self._bridge
        fut.add_done_callback(lambda f: _deliver(bridge, f, keys))

    def _on_recorded(self, fut, keys) -> None:
        """On the GUI thread: the writer has answered a record job."""
        self.pending = max(0, self.pending - 1)
        if self.service is None:
            return
        try:
            results = fut.result()
        except Exception:  # the database stayed locked, the disk is full…: retried
            logger.exception("caller ID: recording calls failed; retrying")
            self.service.record_failed(keys)
            self._retry.start()
            return
        for v in self.service.recorded(results):
            if self.stack.popup_for(v.key) is not None:
                try:
                    self.stack.update_call(v)
                except Exception:
                    logger.exception("caller ID: could not update call %s", v.key)
        for key, call_id in results.items():
            v = self.service.view_of(key) if call_id else None
            if v is not None:
                self.call_changed.emit(v)
        if self.service.pending_retry():
            self._retry.start()
        if results:
            self._changed.start()

    def _show_one(self, v: svc.CallView) -> None:
        if v.direction != "in":
            return
        v = popup_view(v)                    # what this desk's role may see of the caller
        existing = self.stack.popup_for(v.key)
        if existing is None and not self._rings_here(v):
            return                           # a colleague's extension rings: the popup is on their desk
        worth = v.number_known or v.rings >= 2
        if existing is None:
            if not worth or v.key in self._notified or v.final:
                return          # nothing to say yet, said already, or over before it could be shown
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

    def _rings_here(self, v: svc.CallView) -> bool:
        if not v.extension and not v.extensions:
            return True                      # a caller-ID box's line: every call is this desk's
        from app.office import events
        from app.office import live as rules

        shared = events.bus.mode == "postgres"
        if not shared:
            return True
        return rules.shows_own_call(v, rules.desk_extensions(self.ctx.user_id), shared)

    @staticmethod
    def _summary(v: svc.CallView) -> sm.CustomerSummary | None:
        if not v.customer_id:
            return None
        try:
            return sm.customer_summary(v.customer_id, exclude_call_id=v.call_id)
        except Exception:  # show the name without the details rather than nothing
            logger.exception("caller ID: summary failed for customer %s", v.customer_id)
            return None

    def _state(self, state: str, text: str) -> None:
        self.ctx.bus.callerid_state.emit(state, text)
        self.tray.set_state(state, text)

    def _customer_changed(self, customer_id: int) -> None:
        """A customer was created or edited (e.g. from a popup's «مشتری جدید» or «افزودن به مشتری موجود»): the
        live calls from their numbers take this customer (and keep it through every later event), the rows
        already written are attached behind them in the writer's queue, and open popups turn into the
        customer's popup."""
        if self.service is None:
            self.service = svc.CallerIdService()
        try:
            views = self.service.link_customer(customer_id)
        except Exception:
            logger.exception("caller ID: could not link live calls to customer %s", customer_id)
            views = []
        for v in views:
            p = self.stack.popup_for(v.key)
            if p is not None:
                try:
                    self.stack.show_call(v, self._summary(v))
                except Exception:
                    logger.exception("caller ID: could not update call %s", v.key)
        self._record([v for v in views if not v.final])
        try:
            self.pending += 1
            bridge = self._bridge
            writer.submit(call_log.link_calls_to_customer, customer_id).add_done_callback(
                lambda f: _deliver(bridge, _linked(f), []))
        except Exception:
            self.pending = max(0, self.pending - 1)
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


def _deliver(bridge: _RecordBridge, fut, keys) -> None:
    """Any thread (the writer's, or the GUI's when the job ran inline): hand the result to the GUI thread."""
    try:
        bridge.done.emit(fut, keys)
    except RuntimeError:            # the controller is gone (closing): nobody to tell
        logger.debug("caller ID: record finished after the controller was deleted")


def _linked(fut):
    """link_calls_to_customer's Future as a record result ({}: no views to update)."""
    from concurrent.futures import Future

    out: Future = Future()
    try:
        fut.result()
    except Exception:  # logged; the link is retried when the customer is next saved
        logger.exception("caller ID: linking calls to a customer failed")
    out.set_result({})
    return out


def _log_failure(fut) -> None:
    if fut.exception() is not None:
        logger.error("caller ID: could not close the calls left open: %s", fut.exception())
