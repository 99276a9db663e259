"""A read-only table over a list of rows, each column a title and a function of the row (the money page's lists,
the forecast, the product catalogue).

Qt asks for the cells it paints, so a thousand rows cost what the screen shows, not a thousand items made and
measured at each refresh; ``column_texts`` gives fit_columns a column's texts without going through indexes.

    model = RowsModel([("کد", lambda p: p.code, None), ("قیمت", lambda p: fmt.num(p.price), None)], numeric=(1,))
    view = rows_table(model, stretch=0)
    model.set_rows(products)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

Column = tuple[str, Callable, "Callable | None"]      # (title, text(row), colour(row) → QColor or None)


class RowsModel(QAbstractTableModel):
    """Each column is (title, text(row), colour(row) or None); the ``numeric`` columns are aligned as numbers."""

    def __init__(self, columns: Sequence[Column], numeric: tuple[int, ...] = (), parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self.numeric = numeric
        self.rows: list = []
        self._brushes: dict[str, QBrush] = {}

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, i: int):
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def column_texts(self, col: int) -> list[str]:
        text = self.columns[col][1]
        return [text(r) for r in self.rows]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        r = self.rows[index.row()]
        _title, text, colour = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text(r)
        if role == Qt.ItemDataRole.ForegroundRole and colour is not None:
            c = colour(r)
            return None if c is None else self._brush(c)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.numeric:
            return LEFT
        return None

    def _brush(self, c: QColor) -> QBrush:
        key = c.name()
        b = self._brushes.get(key)
        if b is None:
            b = self._brushes[key] = QBrush(c)
        return b


def rows_table(model: QAbstractTableModel, stretch: int = 0) -> QTableView:
    """A view for a RowsModel: whole rows selected one at a time, not editable, column ``stretch`` stretched."""
    v = QTableView()
    v.setModel(model)
    v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    v.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    v.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    v.verticalHeader().hide()
    v.setAlternatingRowColors(True)
    v.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return v


def select_row(view: QTableView, i: int) -> None:
    """Select a whole row. (QTableView.selectRow picks its column at the viewport's right edge in a
    right-to-left layout and can miss every column: it then selects nothing.)"""
    idx = view.model().index(i, 0)
    view.selectionModel().setCurrentIndex(
        idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    view.scrollTo(idx)


def selected_row(view: QTableView) -> int:
    """The selected row (the selection, else the current index), or -1."""
    rows = view.selectionModel().selectedRows()
    if rows:
        return rows[0].row()
    idx = view.currentIndex()
    return idx.row() if idx.isValid() else -1
