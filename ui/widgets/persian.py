"""Small helpers that keep Qt's own defaults from leaking Latin digits and oversized windows into the app."""
from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem, QWidget


def persian_row_numbers(table: QTableWidget) -> None:
    """Row numbers «۱ ۲ ۳» in a QTableWidget's vertical header (Qt writes «1 2 3» on its own), kept in step
    as rows are added and removed."""
    from app import fmt

    def relabel(*_args) -> None:
        if not shiboken6.isValid(table) or table.signalsBlocked():
            return                 # the table is being destroyed: its model empties itself on the way out
        for i in range(table.rowCount()):
            item = table.verticalHeaderItem(i)
            text = fmt.digits(i + 1)
            if item is None:
                table.setVerticalHeaderItem(i, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)

    model = table.model()
    model.rowsInserted.connect(relabel)
    model.rowsRemoved.connect(relabel)
    model.modelReset.connect(relabel)
    relabel()


def fit_to_screen(window: QWidget, width: int, height: int, margin: int = 24) -> None:
    """Resize to width×height, or less where the available screen (a 1366×768 laptop: ~1366×728 without the
    task bar) is smaller; the window title bar and frame take `margin` more."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is not None:
        avail = screen.availableGeometry()
        width = min(width, avail.width() - margin)
        height = min(height, avail.height() - margin - 30)     # 30: the title bar the frame adds
    window.resize(max(width, 200), max(height, 200))
