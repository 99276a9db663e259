"""The customer list's table model: every matching id up front, rows fetched lazily one page at a time.

After Anki's browser model: a search returns ids only (cheap even for 100,000 customers); the columns of a row
are read when the view first paints it, a page of 100 rows per query, and cached (bounded)."""
from __future__ import annotations

import logging
from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app import customers as cs
from app.jalali import format_date
from app.text import to_persian_digits

logger = logging.getLogger(__name__)

PAGE = 100
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
        self._pages: OrderedDict[int, dict[int, cs.Row]] = OrderedDict()
        self.queries = 0  # pages fetched; the tests and benchmarks read it

    # --- search --------------------------------------------------------------------------------------------
    def search(self, f: cs.Filter | None = None) -> None:
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self.ids = cs.search_ids(self.filter, self.sort_key, self.descending)
        self._pages.clear()
        self.endResetModel()

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
        try:
            return self.ids.index(customer_id)
        except ValueError:
            return -1

    # --- Qt model API --------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1] if 0 <= section < len(COLUMNS) else None
        return to_persian_digits(section + 1)

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
            return to_persian_digits(r.phone)
        if key == "status":
            return cs.STATUS_LABELS.get(r.status, r.status)
        if key == "created_at":
            return format_date(r.created_at)
        if key == "name" and r.stage == "potential":
            return f"{r.name} (سرنخ)"
        return getattr(r, key)

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        if not 0 <= column < len(COLUMNS) or COLUMNS[column][2] is None:
            return
        self.sort_key = COLUMNS[column][2]
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.search()
