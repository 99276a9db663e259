"""The GUI's timer for automatic messages and delivery reports, started with the main window.

It runs while an automatic message is switched on or a provider's key is set (delivery reports and «لغو۱۱»
replies are read then too), and follows the settings: saving the SMS settings (or another desk changing them)
starts or stops it. Each tick runs off the GUI thread through ui/ops.py; the work writes through the writer
(app/sms/automatic.py, app/sms/service.py) and an event is queued once however many desks run it. `stop()`
stops the timer and asks a running tick to stop between batches; the application's shutdown waits for it.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from ui.ops import QueryOp

logger = logging.getLogger(__name__)

INTERVAL_MS = 10 * 60 * 1000
FIRST_DELAY_MS = 30_000      # the first tick waits until start-up is over


def wanted() -> bool:
    """Whether the timer has anything to do: an automatic message on, or a provider whose reports to read."""
    from app.sms import config

    return bool(config.auto_enabled()) or config.key_is_set()


class AutomaticMessages(QObject):
    ran = Signal(object)                 # the tick's Report (app.sms.automatic.Report)

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS,
                 first_delay_ms: int = FIRST_DELAY_MS, bus=None):
        super().__init__(parent)
        self.last_report = None
        self.last_error = ""
        self.op: QueryOp | None = None
        self.ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.first = QTimer(self)
        self.first.setSingleShot(True)
        self.first.setInterval(first_delay_ms)
        self.first.timeout.connect(self.tick)
        self._stopped = False
        if bus is not None:
            bus.data_changed.connect(self._on_data_changed)

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    @property
    def running(self) -> bool:
        return self.op is not None and self.op.running

    def start(self) -> bool:
        """Start when there is something to do (returns whether it runs)."""
        self._stopped = False
        if not wanted():
            self._halt()
            return False
        if not self.timer.isActive():
            self.timer.start()
            self.first.start()
            logger.info("automatic messages: timer started (every %d s)", self.timer.interval() // 1000)
        return True

    def reload(self) -> bool:
        """The settings changed: start or stop."""
        return False if self._stopped else self.start()

    def stop(self) -> None:
        """Stop for good (the window closes): no more ticks, and a running one stops between batches."""
        self._stopped = True
        self._halt()
        if self.op is not None and self.op.running:
            self.op.cancel()

    def _halt(self) -> None:
        if self.timer.isActive():
            logger.info("automatic messages: timer stopped")
        self.timer.stop()
        self.first.stop()

    def _on_data_changed(self, what: str) -> None:
        if what == "settings":
            self.reload()

    def tick(self) -> None:
        if self.running or self._stopped:
            return
        self.ticks += 1

        def job(ctl):
            from app.sms import automatic, config, service

            report = automatic.run(cancelled=ctl.cancelled)
            if config.key_is_set() and not ctl.cancelled():
                try:
                    service.poll_status()
                    service.read_replies()
                except Exception:  # reports are read again at the next tick
                    logger.info("delivery reports not read this time", exc_info=True)
            return report

        self.op = QueryOp(self, op=job, success=self._done, name="sms-automatic").failure(self._failed)
        self.op.run()

    def _done(self, report) -> None:
        self.last_report = report
        self.last_error = ""
        logger.info("automatic messages: %s", report.describe())
        self.ran.emit(report)

    def _failed(self, exc: BaseException) -> None:
        from ui.ops import error_text

        self.last_error = error_text(exc)
        logger.warning("automatic messages failed: %s", exc)


def install(ctx, parent: QObject) -> AutomaticMessages:
    """Create the timer for the main window and start it if there is anything to do."""
    auto = AutomaticMessages(parent, bus=ctx.bus)
    auto.start()
    return auto
