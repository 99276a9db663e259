"""The GUI's timer for automatic messages and delivery reports: every few minutes, in the background."""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from ui.ops import QueryOp

logger = logging.getLogger(__name__)

INTERVAL_MS = 10 * 60 * 1000


class AutomaticMessages(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.last_report = None
        self._running = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.timer.start()
        QTimer.singleShot(30_000, self.tick)

    def tick(self) -> None:
        if self._running:
            return
        self._running = True

        def job(ctl):
            from app.sms import automatic, config, service

            report = automatic.run()
            if config.key_is_set():
                try:
                    service.poll_status()
                    service.read_replies()
                except Exception:  # reports are retried at the next tick
                    logger.info("delivery reports not read this time", exc_info=True)
            return report

        (QueryOp(self, op=job, success=self._done).failure(self._failed).run())

    def _done(self, report) -> None:
        self._running = False
        self.last_report = report
        logger.info("automatic messages: %s", report.describe())

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        logger.warning("automatic messages failed: %s", exc)
