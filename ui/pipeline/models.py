"""Qt models of the pipeline.

BoardModel is a two-level tree: the top rows are the stages (the board's columns), their children the
opportunity cards. Each column of the board is a QListView on the same model with its root set to a stage,
so a drag from one column to another is one `dropMimeData` on the model, which moves the opportunity through
the service (history written, won/lost rules applied) and then moves the row. Dropping on a lost stage asks
`lost_reason_provider(row) -> (reason_id, note) | None` first (None cancels the move).

A column shows its first PAGE cards (soonest expected close first) and grows by PAGE on request
(`show_more`), as Odoo's Kanban does: ten thousand cards in one column help nobody, and the column's count and
sums always cover all of them. A card moved into a full column is shown at the end of what is visible.

OpportunityListModel is a flat, sortable table of the same rows for the list view.
"""
from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app import fmt
from app.core.errors import UserError
from app.pipeline import board as pb
from app.pipeline import opportunities as ops

MIME = "application/x-peyvand-opportunity"
PAGE = 100                                     # cards shown per column before «نمایش بیشتر»
OPP_ROLE = Qt.ItemDataRole.UserRole + 1        # the OppRow of a card
STAGE_ROLE = Qt.ItemDataRole.UserRole + 2      # the StageInfo of a column (and of a card's column)
ID_ROLE = Qt.ItemDataRole.UserRole + 3         # the opportunity id


def _sort_key(r: pb.OppRow):
    return (r.close_date is None, r.close_date or dt.date.max, r.id)


def money_short(v: int) -> str:
    """۱٬۲۵۰ میلیون / ۳٫۴ میلیارد ریال — short enough for a card."""
    if v >= 1_000_000_000:
        return fmt.num(round(v / 1_000_000_000, 1)) + " میلیارد"
    if v >= 1_000_000:
        return fmt.num(round(v / 1_000_000)) + " میلیون"
    return fmt.num(v)


class BoardModel(QAbstractItemModel):
    moved = Signal(int, int)            # (opportunity id, stage id) after a successful move
    failed = Signal(str)                # a Persian message (a refused move)
    totals_changed = Signal()

    def __init__(self, parent=None, user_id: int | None = None):
        super().__init__(parent)
        self.user_id = user_id
        self.board: pb.Board | None = None
        self.columns: list[pb.Column] = []
        self.shown: list[int] = []                 # cards visible per column
        self._summaries: dict[int, tuple] = {}
        self._moves = 0
        self.filter = pb.BoardFilter()
        self.lost_reason_provider: Callable[[pb.OppRow], tuple[int, str] | None] | None = None

    # --- loading -----------------------------------------------------------------------------------------
    def load(self, f: pb.BoardFilter | None = None) -> None:
        if f is not None:
            self.filter = f
        board = pb.load_board(self.filter)
        self.beginResetModel()
        self.board = board
        self.columns = board.columns
        self.shown = [PAGE] * len(board.columns)
        self.endResetModel()
        self.totals_changed.emit()

    def stage_row(self, stage_id: int) -> int:
        return next((i for i, c in enumerate(self.columns) if c.stage.id == stage_id), -1)

    def stage_index(self, stage_id: int) -> QModelIndex:
        r = self.stage_row(stage_id)
        return self.index(r, 0) if r >= 0 else QModelIndex()

    def visible(self, stage_row: int) -> int:
        return min(len(self.columns[stage_row].rows), self.shown[stage_row])

    def hidden(self, stage_row: int) -> int:
        return len(self.columns[stage_row].rows) - self.visible(stage_row)

    def show_more(self, stage_row: int, count: int = PAGE) -> None:
        first = self.visible(stage_row)
        last = min(len(self.columns[stage_row].rows), first + count) - 1
        if last < first:
            return
        self.beginInsertRows(self.index(stage_row, 0), first, last)
        self.shown[stage_row] = last + 1
        self.endInsertRows()
        self.totals_changed.emit()

    def find(self, opp_id: int) -> tuple[int, int]:
        """(column, row) of a visible card; (-1, -1) when it is not on the board or not shown."""
        for s, col in enumerate(self.columns):
            for r, row in enumerate(col.rows[:self.visible(s)]):
                if row.id == opp_id:
                    return s, r
        return -1, -1

    def card_index(self, opp_id: int) -> QModelIndex:
        s, r = self.find(opp_id)
        return self.index(r, 0, self.index(s, 0)) if s >= 0 else QModelIndex()

    # --- the tree ----------------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, 0) if row < len(self.columns) else QModelIndex()
        if parent.internalId() != 0 or parent.row() >= len(self.columns):
            return QModelIndex()
        if row >= self.visible(parent.row()):
            return QModelIndex()
        return self.createIndex(row, 0, parent.row() + 1)

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.columns)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        return self.visible(parent.row())

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 1

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def _row(self, index: QModelIndex) -> pb.OppRow | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        return self.columns[index.internalId() - 1].rows[index.row()]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.internalId() == 0:
            col = self.columns[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{col.stage.name} ({fmt.num(len(col.rows))})"
            if role == STAGE_ROLE:
                return col.stage
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"جمع: {fmt.num(col.total)} ریال؛ وزنی: {fmt.num(col.weighted)} ریال"
            return None
        row = self._row(index)
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return row.title
        if role == OPP_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        if role == STAGE_ROLE:
            return self.columns[index.internalId() - 1].stage
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [row.title, row.customer_name, f"ارزش: {fmt.num(row.value)} ریال (احتمال "
                                                   f"{fmt.num(row.probability)}٪)"]
            if row.owner_name:
                lines.append(f"کارشناس: {row.owner_name}")
            if row.close_date:
                lines.append(f"تاریخ بستن: {fmt.date(row.close_date)}")
            if row.next_step:
                when = f" ({fmt.date(row.next_step_date)})" if row.next_step_date else ""
                lines.append(f"گام بعدی: {row.next_step}{when}")
            lines.append(f"{fmt.num(row.days_in_stage)} روز در این مرحله")
            if row.rotting:
                lines.append("راکد مانده است!")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.title} — {row.customer_name}"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and section == 0:
            return "فرصت‌ها"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled
        if index.internalId() == 0:
            return base
        return base | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemNeverHasChildren

    # --- drag and drop -----------------------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes) -> QMimeData:
        ids = [self._row(i).id for i in indexes if self._row(i) is not None]
        md = QMimeData()
        md.setData(MIME, json.dumps(ids).encode())
        return md

    def _target_stage(self, parent: QModelIndex) -> int | None:
        if not parent.isValid():
            return None
        if parent.internalId() == 0:
            return self.columns[parent.row()].stage.id
        return self.columns[parent.internalId() - 1].stage.id

    def canDropMimeData(self, data: QMimeData, action, row: int, column: int, parent) -> bool:
        return data.hasFormat(MIME) and self._target_stage(parent) is not None

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        stage_id = self._target_stage(parent)
        try:
            ids = json.loads(bytes(data.data(MIME)).decode())
        except ValueError:
            return False
        ok = False
        for opp_id in ids:
            ok = self.move_opportunity(int(opp_id), stage_id) or ok
        return ok

    def removeRows(self, row: int, count: int, parent=QModelIndex()) -> bool:
        """The view asks the source to remove dragged rows after a move: the model already moved them."""
        return False

    # --- moving ------------------------------------------------------------------------------------------
    def move_opportunity(self, opp_id: int, stage_id: int, lost_reason_id: int | None = None,
                         note: str = "") -> bool:
        """Move a card to a stage through the service; False when refused or cancelled (nothing changes)."""
        s, r = self.find(opp_id)
        t = self.stage_row(stage_id)
        if s < 0 or t < 0 or s == t:
            return False
        row = self.columns[s].rows[r]
        target = self.columns[t].stage
        if target.is_lost and lost_reason_id is None:
            answer = self.lost_reason_provider(row) if self.lost_reason_provider else None
            if answer is None:
                return False
            lost_reason_id, note = answer
        try:
            ops.move_stage(opp_id, stage_id, user=self.user_id, lost_reason_id=lost_reason_id, note=note)
        except UserError as e:
            self.failed.emit(e.message)
            return False
        fresh = pb.row(opp_id) or row
        dest_rows = self.columns[t].rows
        shown = self.visible(t)
        pos = min(bisect.bisect_left([_sort_key(x) for x in dest_rows[:shown]], _sort_key(fresh)), shown)
        self.beginMoveRows(self.index(s, 0), r, r, self.index(t, 0), pos)
        if len(self.columns[s].rows) > self.shown[s]:
            self.shown[s] -= 1               # a hidden card must not slip into view unannounced
        del self.columns[s].rows[r]
        if len(dest_rows) >= self.shown[t]:
            self.shown[t] += 1
        dest_rows.insert(pos, fresh)
        self._moves += 1
        self.endMoveRows()
        for i in (s, t):
            ix = self.index(i, 0)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])
        self.totals_changed.emit()
        self.moved.emit(opp_id, stage_id)
        return True

    def summary(self, stage_row: int) -> tuple[int, int, int]:
        """(count, total, weighted) of the whole column, shown or not; cached until the column changes."""
        col = self.columns[stage_row]
        key = (id(col), len(col.rows), self._moves)
        hit = self._summaries.get(stage_row)
        if hit is None or hit[0] != key:
            hit = (key, (len(col.rows), col.total, col.weighted))
            self._summaries[stage_row] = hit
        return hit[1]


# --- the list ---------------------------------------------------------------------------------------------

LIST_COLUMNS = (
    ("title", "عنوان"), ("customer_name", "مشتری"), ("stage_name", "مرحله"), ("value", "ارزش (ریال)"),
    ("probability", "احتمال"), ("weighted", "ارزش وزنی (ریال)"), ("close_date", "تاریخ بستن"),
    ("owner_name", "کارشناس"), ("source", "منبع"), ("next_step", "گام بعدی"), ("next_step_date", "تاریخ گام بعدی"),
    ("days_in_stage", "روز در مرحله"), ("status", "وضعیت"),
)


class OpportunityListModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[pb.OppRow] = []
        self.filter = pb.BoardFilter()
        self._sort = (0, Qt.SortOrder.AscendingOrder)

    def load(self, f: pb.BoardFilter | None = None) -> None:
        if f is not None:
            self.filter = f
        rows = pb.list_opportunities(self.filter)
        self.beginResetModel()
        self.rows = rows
        self._apply_sort()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(LIST_COLUMNS)

    def _value(self, r: pb.OppRow, key: str):
        return r.weighted if key == "weighted" else getattr(r, key)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r = self.rows[index.row()]
        key = LIST_COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            v = self._value(r, key)
            if key in ("close_date", "next_step_date"):
                return fmt.date(v) if v else ""
            if key == "probability":
                return fmt.num(v) + "٪"
            if key in ("value", "weighted", "days_in_stage"):
                return fmt.num(v)
            if key == "status":
                return ops.STATUS_LABELS.get(v, v)
            return v or ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in ("value", "weighted", "probability", "days_in_stage", "close_date", "next_step_date"):
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
        if role == Qt.ItemDataRole.ForegroundRole and r.rotting:
            from PySide6.QtGui import QColor

            return QColor("#b91c1c")
        if role == ID_ROLE:
            return r.id
        if role == OPP_ROLE:
            return r
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(LIST_COLUMNS):
            return LIST_COLUMNS[section][1]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(LIST_COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column, order = self._sort
        key = LIST_COLUMNS[column][0]

        def k(r: pb.OppRow):
            v = self._value(r, key)
            return (v is None or v == "", v if v is not None else "", r.id)

        try:
            self.rows.sort(key=k, reverse=order == Qt.SortOrder.DescendingOrder)
        except TypeError:
            self.rows.sort(key=lambda r: str(self._value(r, key)), reverse=order == Qt.SortOrder.DescendingOrder)

    def id_at(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None
