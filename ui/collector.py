"""Python's cycle collector, run by the GUI thread from a timer instead of wherever an allocation trips it.

Left automatic, a collection runs in whichever thread happens to allocate when a threshold is crossed: a worker
thread (a read, the caller-ID listener) may then destroy Qt objects that live on the GUI thread, which Qt does
not allow, and a collection that starts in the middle of a caller-ID popup or a page's build adds its pause to
what the user is waiting for (the dashboard's slowest opens were collections of the whole heap). So the
program switches automatic collection off once it starts, and the GUI thread collects on a timer, generation by
generation at Python's own thresholds; the objects of start-up (modules, classes, the main window) are frozen
once the window is up, so a full collection no longer walks them again. The pattern is the one pyqtgraph and
others use for the same reasons.

    collector = Collector(app)      # automatic collection off from here
    collector.start()               # once the first window is up: freeze what start-up made, collect on a timer
    collector.stop()                # automatic collection again (at exit, and for a caller that embeds us)
"""
from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, QTimer

logger = logging.getLogger(__name__)

INTERVAL_MS = 1_000


class Collector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self.longest_ms = 0.0            # the longest collection so far (the log says it at exit)
        self._long_lived = 0             # the oldest generation's size after the last full collection

    def start(self) -> None:
        """Freeze what exists now (start-up's objects) and collect from the timer from now on."""
        gc.collect()
        gc.freeze()
        self._long_lived = 0
        self._timer.start()

    def check(self) -> int:
        """Collect as Python would at its thresholds: the oldest generation that is due, with the younger
        ones. Returns the generation collected (with the younger ones), -1 when none was due."""
        t = time.perf_counter()
        g0, g1, g2 = gc.get_count()
        t0, t1, t2 = self._threshold
        if g0 <= t0:
            return -1
        done = 2 if (g1 > t1 and g2 > t2 and self._full_due()) else 1 if g1 > t1 else 0
        gc.collect(done)                       # the oldest due, with the younger ones
        if done == 2:
            self._long_lived = len(gc.get_objects(generation=2))
        self.longest_ms = max(self.longest_ms, (time.perf_counter() - t) * 1000)
        return done

    def _full_due(self) -> bool:
        """Python's own rule: a full collection only once the objects added to the oldest generation since the
        last one come to a quarter of those it kept then (so a large heap is not walked every two minutes)."""
        return len(gc.get_objects(generation=2)) - self._long_lived >= self._long_lived / 4

    def stop(self) -> None:
        """Hand collection back to Python."""
        self._timer.stop()
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()
        logger.debug("garbage collection on the GUI thread: longest %.1f ms", self.longest_ms)
