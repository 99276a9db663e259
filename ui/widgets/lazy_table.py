"""A table view over a model that reads its rows as the view scrolls (canFetchMore / fetchMore)."""
from __future__ import annotations

from PySide6.QtWidgets import QTableView


class LazyTableView(QTableView):
    """«Select all» (Ctrl+A, the corner button) means every row the model can give, not only those read so far:
    a model with ``fetch_all()`` reads the rest first (ids only, in the lists that use it; their rows are read as
    they are shown). Without this, an action on «all of them» would reach only the first page."""

    def selectAll(self) -> None:
        fetch_all = getattr(self.model(), "fetch_all", None)
        if callable(fetch_all):
            fetch_all()
        super().selectAll()
