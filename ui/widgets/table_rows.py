"""Rows of the small editable tables in dialogs (an opportunity's lines and competitors, the pipeline's stages
and competitors): one way to add a row of texts and widgets, read a cell, drop the current row, and lay the
buttons out under a table.

    r = append_row(table, ["کابل", "۲", "۳۸٬۵۰۰٬۰۰۰", ""], read_only={3})
    append_row(table, [name_item_text, spin, check], key=stage_id)      # key: the first cell's UserRole
    lay.addLayout(button_row([("افزودن ردیف", add), ("حذف ردیف", lambda: remove_current_row(table))], total))
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QWidget

KEY_ROLE = Qt.ItemDataRole.UserRole


def append_row(table: QTableWidget, cells: Sequence[str | QWidget], read_only: Collection[int] = (),
               key: object = None) -> int:
    """Add a row at the end: a text becomes an item (not editable in the ``read_only`` columns), a widget is
    put in its cell. ``key`` (a record's id, None for a new one) is kept on the first cell. Returns the row."""
    r = table.rowCount()
    table.insertRow(r)
    for c, cell in enumerate(cells):
        if isinstance(cell, QWidget):
            table.setCellWidget(r, c, cell)
            continue
        it = QTableWidgetItem(cell)
        if c in read_only:
            it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
        if c == 0:
            it.setData(KEY_ROLE, key)
        table.setItem(r, c, it)
    return r


def row_key(table: QTableWidget, row: int):
    """The ``key`` given to ``append_row`` (or set later on the first cell)."""
    it = table.item(row, 0)
    return it.data(KEY_ROLE) if it is not None else None


def set_row_key(table: QTableWidget, row: int, key: object) -> None:
    it = table.item(row, 0)
    if it is not None:
        it.setData(KEY_ROLE, key)


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    """The text of a cell ("" for an empty one, or a cell holding a widget)."""
    it = table.item(row, column)
    return it.text() if it is not None else ""


def remove_current_row(table: QTableWidget) -> None:
    if table.currentRow() >= 0:
        table.removeRow(table.currentRow())


def button_row(buttons: Sequence[tuple[str, Callable[[], object]]], *after: QWidget) -> QHBoxLayout:
    """Buttons side by side (from the right in a right-to-left dialog), then space, then ``after``."""
    row = QHBoxLayout()
    for text, fn in buttons:
        b = QPushButton(text)
        b.clicked.connect(lambda _checked=False, fn=fn: fn())
        row.addWidget(b)
    row.addStretch(1)
    for w in after:
        row.addWidget(w)
    return row
