"""Tabs read when they are chosen: a page reads the tab on screen and marks the others stale; a stale tab is read
when it is chosen, once, until the page marks it again (the money page's tabs, a customer file's after-sale tabs).

    self.lazy = ReadWhenChosen(self.tabs)       # each tab has refresh()
    self.lazy.mark([self.a, self.b, self.c])    # the figures changed: the tab on screen is read now
"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QTabWidget, QWidget


class ReadWhenChosen:
    def __init__(self, tabs: QTabWidget):
        self.tabs = tabs
        self._stale: set[QWidget] = set()
        tabs.currentChanged.connect(self._chosen)

    def mark(self, tabs: Iterable[QWidget]) -> None:
        """These tabs are stale: the one on screen is read now (its refresh()), the others when chosen."""
        self._stale.update(tabs)
        self._chosen()

    def _chosen(self, _index: int = -1) -> None:
        tab = self.tabs.currentWidget()
        if tab in self._stale:
            self._stale.discard(tab)
            tab.refresh()
