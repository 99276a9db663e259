"""Qt models of the pipeline.

BoardModel is a two-level tree: the top rows are the stages (the board's columns), their children the
opportunity cards. Each column of the board is a QListView on the same model with its root set to a stage,
so a drag from one column to another is one `dropMimeData` on the model, which moves the opportunity through
the service (history written, won/lost rules applied) and then moves the row. Dropping on a lost stage asks
`lost_reason_provider(row) -> (reason_id, note) | None` first (None cancels the move).

A column holds the cards read so far: its first page (soonest expected close first) and a page more each time
it is asked (`show_more`, or `fetchMore` when its list is scrolled to the end), as Odoo's Kanban does: ten
thousand cards in one column help nobody, and the column's count and sums, counted by the database, always
cover all of them. A moved card updates both columns' figures without reading them again.

OpportunityListModel is a flat, sortable table of the same rows for the list view.
"""
from __future__ import annotations

import bisect
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
PAGE = pb.PAGE                                 # cards read per column at a time («نمایش بیشتر»)
OPP_ROLE = Qt.ItemDataRole.UserRole + 1        # the OppRow of a card
STAGE_ROLE = Qt.ItemDataRole.UserRole + 2      # the StageInfo of a column (and of a card's column)
ID_ROLE = Qt.ItemDataRole.UserRole + 3         # the opportunity id


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

    def __init__(self, parent=None, user_id: int | None = None, page: int = PAGE):
        super().__init__(parent)
        self.user_id = user_id
        self.page = page
        self.board: pb.Board | None = None
        self.columns: list[pb.Column] = []
        self.filter = pb.BoardFilter()
        self.lost_reason_provider: Callable[[pb.OppRow], tuple[int, str] | None] | None = None

    # --- loading -----------------------------------------------------------------------------------------
    def load(self, f: pb.BoardFilter | None = None) -> None:
        if f is not None:
            self.filter = f
        board = pb.load_board(self.filter, page=self.page)
        self.beginResetModel()
        self.board = board
        self.columns = board.columns
        self.endResetModel()
        self.totals_changed.emit()

    def stage_row(self, stage_id: int) -> int:
        return next((i for i, c in enumerate(self.columns) if c.stage.id == stage_id), -1)

    def stage_index(self, stage_id: int) -> QModelIndex:
        r = self.stage_row(stage_id)
        return self.index(r, 0) if r >= 0 else QModelIndex()

    def visible(self, stage_row: int) -> int:
        return len(self.columns[stage_row].rows)

    def hidden(self, stage_row: int) -> int:
        return self.columns[stage_row].unread

    def show_more(self, stage_row: int) -> None:
        """Read the column's next page from the database and show it under the cards already there."""
        col = self.columns[stage_row]
        if self.board is None or col.unread <= 0:
            return
        rows, after, complete = pb.read_more(self.board, col, self.page)
        first = len(col.rows)
        if rows:
            self.beginInsertRows(self.index(stage_row, 0), first, first + len(rows) - 1)
            col.extend(rows, after, complete)
            self.endInsertRows()
        else:
            col.extend(rows, after, complete)
        self.totals_changed.emit()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return parent.isValid() and parent.internalId() == 0 and self.columns[parent.row()].unread > 0

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if self.canFetchMore(parent):
            self.show_more(parent.row())

    def find(self, opp_id: int) -> tuple[int, int]:
        """(column, row) of a card on the board; (-1, -1) when it is not on it (or not read yet)."""
        for s, col in enumerate(self.columns):
            for r, row in enumerate(col.rows):
                if row.id == opp_id:
                    return s, r
        return -1, -1

    def card_index(self, opp_id: int) -> QModelIndex:
        s, r = self.find(opp_id)
        return self.index(r, 0, self.index(s, 0)) if s >= 0 else QModelIndex()

    # --- the tree ----------------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        # called for every card at each layout of the seven lists: as few calls into Qt as can be
        if column == 0 and row >= 0:
            if not parent.isValid():
                if row < len(self.columns):
                    return self.createIndex(row, 0, 0)
            elif parent.internalId() == 0:
                s = parent.row()
                if s < len(self.columns) and row < len(self.columns[s].rows):
                    return self.createIndex(row, 0, s + 1)
        return QModelIndex()

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
                return f"{col.stage.name} ({fmt.num(col.count)})"
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
        source, dest = self.columns[s], self.columns[t]
        pos = bisect.bisect_left([pb.board_key(x) for x in dest.rows], pb.board_key(fresh))
        self.beginMoveRows(self.index(s, 0), r, r, self.index(t, 0), pos)
        del source.rows[r]
        source.add(row, -1)
        dest.rows.insert(pos, fresh)
        dest.add(fresh)
        self.endMoveRows()
        for i in (s, t):
            ix = self.index(i, 0)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])
        self.totals_changed.emit()
        self.moved.emit(opp_id, stage_id)
        return True

    def summary(self, stage_row: int) -> tuple[int, int, int]:
        """(count, total, weighted) of the whole column, read or not."""
        col = self.columns[stage_row]
        return col.count, col.total, col.weighted


# --- the list ---------------------------------------------------------------------------------------------

LIST_COLUMNS = (
    ("title", "عنوان"), ("customer_name", "مشتری"), ("stage_name", "مرحله"), ("value", "ارزش (ریال)"),
    ("probability", "احتمال"), ("weighted", "ارزش وزنی (ریال)"), ("close_date", "تاریخ بستن"),
    ("owner_name", "کارشناس"), ("source", "منبع"), ("next_step", "گام بعدی"), ("next_step_date", "تاریخ گام بعدی"),
    ("days_in_stage", "روز در مرحله"), ("status", "وضعیت"),
)


class OpportunityListModel(QAbstractTableModel):
    """The list view: every opportunity under the filter, read a page at a time in the order of the sorted
    column (sorted by the database), so the list of an office's 100,000 deals opens as fast as a short one."""

    PAGE = 500

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[pb.OppRow] = []
        self.count = 0                                   # every row under the filter, read or not
        self.filter = pb.BoardFilter()
        self._sort = (0, Qt.SortOrder.AscendingOrder)
        self._loaded = False

    def load(self, f: pb.BoardFilter | None = None) -> None:
        if f is not None:
            self.filter = f
        count = pb.list_count(self.filter)
        rows = self._page(0)
        self.beginResetModel()
        self.count = max(count, len(rows))
        self.rows = rows
        self._loaded = True
        self.endResetModel()

    def _page(self, offset: int) -> list[pb.OppRow]:
        column, order = self._sort
        return pb.list_page(self.filter, LIST_COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder, offset,
                            self.PAGE)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and len(self.rows) < self.count

    def fetchMore(self, parent=QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        have = {r.id for r in self.rows}
        rows = [r for r in self._page(len(self.rows)) if r.id not in have]
        if not rows:
            self.count = len(self.rows)                  # fewer than counted: another desk deleted some
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

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
        """Sort by a column: the database orders every row, the first page is read again."""
        if not 0 <= column < len(LIST_COLUMNS) or ((column, order) == self._sort and self._loaded):
            return
        self._sort = (column, order)
        if self._loaded:                  # before the first load (the view sorts as it is set up) only remember
            self.load()

    def id_at(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None
