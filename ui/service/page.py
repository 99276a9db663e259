"""The «خدمات پس از فروش» section: requests (filters, newest first), the service dashboard, and the warranty
look-up by serial number."""
from __future__ import annotations

import logging

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import contracts, fmt
from app.service import requests as rq
from ui.context import AppContext
from ui.widgets.columns import fit_columns

logger = logging.getLogger(__name__)

HEADERS = ("شماره", "مشتری", "موضوع", "دسته", "اولویت", "وضعیت", "مسئول", "دریافت", "موعد")


class RequestsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[rq.RequestRow] = []
        self.labels = rq.status_labels()

    def set_rows(self, rows: list[rq.RequestRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.labels = rq.status_labels()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (fmt.ltr(r.number), r.customer_name, fmt.text_digits(r.subject), r.category_name, rq.PRIORITY_LABELS.get(r.priority, ""),
                    self.labels.get(r.status, r.status), r.assignee_name, fmt.datetime(r.received_at),
                    fmt.datetime(r.due_at))[c]
        if role == Qt.ItemDataRole.ForegroundRole and r.overdue and c in (5, 8):
            return QColor("#b91c1c")
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None


class RequestsTab(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجو: شماره، موضوع، سریال یا نام مشتری")
        self.search.setClearButtonEnabled(True)
        bar.addWidget(self.search, 1)
        self.scope = QComboBox()
        for key, label in (("open", "باز"), ("mine", "باز، با من"), ("overdue", "گذشته از موعد"),
                           ("complaints", "شکایت‌ها"), ("all", "همه")):
            self.scope.addItem(label, key)
        bar.addWidget(self.scope)
        self.new_button = QPushButton("درخواست تازه")
        bar.addWidget(self.new_button)
        lay.addLayout(bar)
        self.model = RequestsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)   # others: fit_columns
        lay.addWidget(self.table, 1)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        lay.addWidget(self.count_label)
        self.search.returnPressed.connect(self.refresh)
        self.search.textChanged.connect(lambda t: None if t else self.refresh())
        self.scope.currentIndexChanged.connect(self.refresh)
        self.new_button.clicked.connect(self.new_request)
        self.table.doubleClicked.connect(self.open_index)
        self.refresh()

    def refresh(self) -> None:
        scope = self.scope.currentData()
        f = rq.RequestFilter(text=self.search.text())
        if scope in ("open", "mine"):
            f.status = "open"
        if scope == "mine":
            f.assignee_id = self.ctx.user_id or -1
        f.overdue = scope == "overdue"
        f.complaints = scope == "complaints"
        rows, total = rq.list_requests(f)
        self.model.set_rows(rows)
        fit_columns(self.table, skip=(2,))
        shown = fmt.count(total, "درخواست")
        self.count_label.setText(shown if total <= len(rows) else f"{fmt.count(len(rows), 'درخواست')} تازه‌تر از {shown}")

    def new_request(self):
        from ui.service.request_dialog import open_request_dialog

        dlg = open_request_dialog(self.ctx, parent=self)
        dlg.saved.connect(lambda _i: self.refresh())
        return dlg

    def open_index(self, index) -> None:
        from ui.service.request_dialog import open_request_dialog

        rid = self.model.data(index, Qt.ItemDataRole.UserRole)
        if rid:
            dlg = open_request_dialog(self.ctx, rid, parent=self)
            dlg.saved.connect(lambda _i: self.refresh())


class WarrantyLookup(QWidget):
    """«استعلام گارانتی»: type a serial as it is printed (spaces, dashes, Persian digits all fine)."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("شماره سریال کالا")
        bar.addWidget(self.serial, 1)
        self.find_button = QPushButton("استعلام")
        bar.addWidget(self.find_button)
        lay.addLayout(bar)
        self.result = QTreeWidget()
        self.result.setRootIsDecorated(False)
        self.result.setHeaderLabels(["مشتری", "کالا", "سریال", "فاکتور", "از", "تا", "وضعیت"])
        lay.addWidget(self.result, 1)
        self.note = QLabel()
        lay.addWidget(self.note)
        self.find_button.clicked.connect(self.lookup)
        self.serial.returnPressed.connect(self.lookup)
        self.result.itemDoubleClicked.connect(
            lambda it, _c: self.ctx.bus.open_customer.emit(it.data(0, Qt.ItemDataRole.UserRole)))

    def lookup(self) -> list:
        rows = contracts.lookup_serial(self.serial.text())
        self.result.clear()
        for w in rows:
            it = QTreeWidgetItem([w.customer_name, fmt.text_digits(w.item), fmt.ltr(w.serial), fmt.ltr(fmt.digits(w.invoice_number)),
                                  fmt.date(w.start_date), fmt.date(w.end_date), w.state_label])
            it.setData(0, Qt.ItemDataRole.UserRole, w.customer_id)
            if not w.active:
                it.setForeground(6, QColor("#b91c1c"))
            self.result.addTopLevelItem(it)
        self.note.setText("" if rows else "گارانتی‌ای با این سریال ثبت نشده است.")
        return rows


class ServicePage(QWidget):
    def __init__(self, ctx: AppContext | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        lay = QVBoxLayout(self)
        title = QLabel("خدمات پس از فروش")
        title.setProperty("role", "title")
        lay.addWidget(title)
        self.tabs = QTabWidget()
        self.requests = RequestsTab(self.ctx)
        self.tabs.addTab(self.requests, "درخواست‌ها")
        from ui.service.dashboard import ServiceDashboard

        self.dashboard = ServiceDashboard(self.ctx)
        self.tabs.addTab(self.dashboard, "داشبورد خدمات")
        self.warranty = WarrantyLookup(self.ctx)
        self.tabs.addTab(self.warranty, "استعلام گارانتی")
        lay.addWidget(self.tabs, 1)
        self.tabs.currentChanged.connect(self._on_tab)
        self.ctx.bus.data_changed.connect(self._on_data_changed)

    def _on_tab(self, i: int) -> None:
        if self.tabs.widget(i) is self.dashboard:
            self.dashboard.refresh()

    def _on_data_changed(self, what: str) -> None:
        if what in ("service", "tasks"):
            self.requests.refresh()
