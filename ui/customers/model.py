"""The customer list's table model: ids read a few hundred at a time as the view scrolls (fetchMore), the
columns of a row read when the view first paints it, a page of 100 rows per query, cached (bounded).

After Anki's browser model, with the id list itself paged too (app.customers.ResultSet), so neither opening
the list nor scrolling to its end reads 100,000 rows at once."""
from __future__ import annotations

import logging
from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app import fmt
from app.customers import service as cs

logger = logging.getLogger(__name__)

PAGE = 50       # rows read per query: a screenful and a half (at 800 px the list shows about 30)
FIRST = 50      # ids read when a search runs (each keystroke): a page; more are read as the view scrolls
                # (fetchMore). Every id read costs its share of each keystroke's search; 100 cost a fifth more.
MAX_PAGES = 60

# key, header, sort key in the service (None: not sortable)
COLUMNS = [
    ("name", "نام", "name"),
    ("company", "شرکت", "company"),
    ("phone", "تلفن", None),
    ("customer_type", "گروه", "type"),
    ("rank", "رتبه", "rank"),
    ("status", "وضعیت", "status"),
    ("assigned", "مسئول", None),
    ("city", "شهر", None),
    ("created_at", "تاریخ ثبت", "created"),
]


class CustomerTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter = cs.Filter()
        self.sort_key = "name"
        self.descending = False
        self.ids: list[int] = []
        self.result: cs.ResultSet | None = None
        self._pages: OrderedDict[int, dict[int, cs.Row]] = OrderedDict()
        self.queries = 0  # pages fetched; the tests and benchmarks read it

    # --- search --------------------------------------------------------------------------------------------
    def search(self, f: cs.Filter | None = None) -> None:
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self.result = cs.ResultSet(self.filter, self.sort_key, self.descending)
        self.ids = self.result.next_ids(FIRST)
        self._pages.clear()
        self.endResetModel()

    @property
    def total(self) -> int:
        return self.result.total if self.result else 0

    def canFetchMore(self, parent=QModelIndex()):
        return not parent.isValid() and self.result is not None and not self.result.exhausted

    def fetchMore(self, parent=QModelIndex()):
        if parent.isValid() or self.result is None:
            return
        more = self.result.next_ids(FIRST)
        if more:
            first = len(self.ids)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self.ids.extend(more)
            self.endInsertRows()

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def refresh_row(self, customer_id: int) -> None:
        """Forget the cached page holding this customer so it is read again."""
        try:
            row = self.ids.index(customer_id)
        except ValueError:
            return
        self._pages.pop(row // PAGE, None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def customer_id(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def row_of(self, customer_id: int) -> int:
        """The row of a customer among those read so far (-1 if not read yet or not matching)."""
        try:
            return self.ids.index(customer_id)
        except ValueError:
            return -1

    # --- Qt model API --------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1] if 0 <= section < len(COLUMNS) else None
        return fmt.digits(section + 1)

    def _row(self, row: int) -> cs.Row | None:
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None:
            ids = self.ids[page_no * PAGE:(page_no + 1) * PAGE]
            page = cs.fetch_rows(ids)
            self.queries += 1
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self.ids[row])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.ids):
            return None
        if role == Qt.ItemDataRole.UserRole:
            return self.ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        r = self._row(index.row())
        if r is None:
            return None
        key = COLUMNS[index.column()][0]
        if key == "phone":
            return fmt.phone(r.phone)          # grouped ۰۹۱۲ ۱۲۳ ۴۵۶۷, as on every other screen
        if key == "status":
            return cs.STATUS_LABELS.get(r.status, r.status)
        if key == "created_at":
            return fmt.date(r.created_at)
        if key == "name" and r.stage == "potential":
            return f"{r.name} (سرنخ)"
        return getattr(r, key)

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        if not 0 <= column < len(COLUMNS) or COLUMNS[column][2] is None:
            return
        key, descending = COLUMNS[column][2], order == Qt.SortOrder.DescendingOrder
        if self.result is not None and (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self.search()
