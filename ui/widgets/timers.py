"""Timers shared by the pages that follow the database."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


def shown_debounce(page: QWidget, interval_ms: int, refresh: Callable[[], None],
                   stale: Callable[[], None]) -> QTimer:
    """A single-shot timer that gathers a burst of changes (or keystrokes) into one refresh. When it fires, a page
    still on screen refreshes; one hidden or closed meanwhile only calls stale() (it refreshes when next shown)
    and never queries the database."""
    timer = QTimer(page)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: refresh() if page.isVisible() else stale())
    return timer
