"""The outbox table's model: the matching messages' ids read a few hundred at a time, newest first, as the view
scrolls (fetchMore, keyset pages: app.sms.outbox.Pages); the columns of a row read a page of 100 at a time when
the view first paints it, cached (bounded) — like the customer list."""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from app import fmt
from app.sms import outbox

PAGE = 100
FIRST = 300     # ids read when the filter changes; more are read as the view scrolls (fetchMore)
MAX_PAGES = 40

COLUMNS = [("at", "زمان"), ("who", "گیرنده"), ("number", "شماره یا نشانی"), ("body", "متن"), ("state", "وضعیت"),
           ("origin", "نوع"), ("error", "توضیح")]
STATE_COLOURS = {"failed": "#b91c1c", "uncertain": "#b45309", "undelivered": "#b91c1c", "delivered": "#15803d",
                 "cancelled": "#6b7280"}


class OutboxModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter = outbox.OutboxFilter()
        self.ids: list[int] = []
        self.pages: outbox.Pages | None = None
        self.total = 0
        self._pages: OrderedDict[int, dict[int, outbox.Row]] = OrderedDict()
        self.queries = 0

    def search(self, f: outbox.OutboxFilter | None = None, total: int | None = None) -> None:
        """Show the messages matching `f` (the same filter again when None); `total` when the caller counted."""
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self.pages = outbox.Pages(self.filter)
        self.ids = self.pages.next_ids(FIRST)
        self.total = outbox.total(self.filter) if total is None else total
        self._pages.clear()
        self.endResetModel()

    def refresh(self) -> None:
        """Read the same filter again (after a resend or a mark)."""
        self.search()

    def canFetchMore(self, parent=QModelIndex()):  # Qt's names and default
        return not parent.isValid() and self.pages is not None and not self.pages.exhausted

    def fetchMore(self, parent=QModelIndex()):
        if parent.isValid() or self.pages is None:
            return
        more = self.pages.next_ids(PAGE * 2)
        if more:
            first = len(self.ids)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self.ids.extend(more)
            self.endInsertRows()

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def message_id(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def row(self, row: int) -> outbox.Row | None:
        if not 0 <= row < len(self.ids):
            return None
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = outbox.rows(self.ids[page_no * PAGE:(page_no + 1) * PAGE])
            self.queries += 1
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self.ids[row])

    # --- Qt model API --------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):  # Qt's names and default
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1] if 0 <= section < len(COLUMNS) else None
        return fmt.num(section + 1)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.ids):
            return None
        if role == Qt.ItemDataRole.UserRole:
            return self.ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole):
            return None
        r = self.row(index.row())
        if r is None:
            return None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = STATE_COLOURS.get(r.state) if key in ("state", "error") else None
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "body":
                return r.body
            if key == "error":
                return r.error or None
            return None
        if key == "at":
            return fmt.datetime(r.sent_at or r.created_at)
        if key == "who":
            return r.name or "—"
        if key == "number":
            return r.recipient_text
        if key == "body":
            return " ".join((f"{r.subject}: {r.body}" if r.subject else r.body).split())
        if key == "state":
            return r.state_label
        if key == "origin":
            return r.origin
        return " ".join(r.error.split())
