"""The audit log page (managers): who did what and when, filterable, with the before/after of each change,
exportable to Excel. Read-only: the page (like the program) has no way to change an entry."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.errors import UserError
from app.office import audit, audit_log
from ui.widgets.jalali_date_edit import JalaliDateEdit

LIMIT = 2000


class AuditPage(QWidget):
    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[audit_log.Entry] = []
        lay = QVBoxLayout(self)
        title = QLabel("گزارش رویدادها")
        title.setProperty("role", "title")
        lay.addWidget(title)
        bar = QHBoxLayout()
        self.user = QComboBox()
        self.action = QComboBox()
        self.entity = QComboBox()
        self.date_from = JalaliDateEdit()
        self.date_to = JalaliDateEdit()
        self.text = QLineEdit()
        self.text.setPlaceholderText("جستجو در شرح و تغییرات")
        self.show_button = QPushButton("نمایش")
        self.export_button = QPushButton("خروجی اکسل")
        for label, w in (("کاربر:", self.user), ("کار:", self.action), ("نوع:", self.entity),
                         ("از:", self.date_from), ("تا:", self.date_to)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
        bar.addWidget(self.text, 1)
        bar.addWidget(self.show_button)
        bar.addWidget(self.export_button)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["زمان", "کاربر", "کار", "نوع", "شرح", "رایانه"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        split.addWidget(self.table)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("ردیفی را انتخاب کنید تا مقدار پیش و پس از تغییر هر فیلد را ببینید.")
        split.addWidget(self.details)
        split.setSizes([500, 160])
        lay.addWidget(split, 1)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        lay.addWidget(self.count_label)
        self._fill_choices()
        self.show_button.clicked.connect(self.reload)
        self.text.returnPressed.connect(self.reload)
        self.export_button.clicked.connect(self.export_excel)
        self.table.itemSelectionChanged.connect(self._show_details)
        # a method, not a lambda: the bus outlives the page, and a lambda connected to it would keep the page
        ctx.bus.data_changed.connect(self._data_changed)
        self.reload()

    def _fill_choices(self) -> None:
        self.user.addItem("همه", None)
        try:
            for uid, name in audit_log.users_in_log():
                self.user.addItem(name, uid)
        except UserError:
            pass
        self.action.addItem("همه", "")
        for key, label in audit.ACTION_LABELS.items():
            self.action.addItem(label, key)
        self.entity.addItem("همه", "")
        for key, label in audit.ENTITY_LABELS.items():
            self.entity.addItem(label, key)

    def current_filter(self) -> audit_log.AuditFilter:
        return audit_log.AuditFilter(user_id=self.user.currentData(), action=self.action.currentData() or "",
                                 entity=self.entity.currentData() or "", date_from=self.date_from.date(),
                                 date_to=self.date_to.date(), text=self.text.text().strip())

    def _data_changed(self, _what: str) -> None:
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        try:
            self.rows = audit_log.entries(self.current_filter(), limit=LIMIT)
        except UserError as e:
            self.rows = []
            self.count_label.setText(e.message)
            self.table.setRowCount(0)
            return
        t = self.table
        t.setRowCount(len(self.rows))
        for i, e in enumerate(self.rows):
            for j, text in enumerate((fmt.datetime(e.at), e.user_name or "سیستم", e.action_label,
                                      e.entity_label, fmt.isolate_paths(e.summary), e.desk)):
                it = QTableWidgetItem(text)
                if j == 0:
                    it.setData(Qt.ItemDataRole.UserRole, e.id)
                t.setItem(i, j, it)
        t.resizeColumnsToContents()
        t.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        more = "؛ فقط جدیدترین‌ها نشان داده شده" if len(self.rows) >= LIMIT else ""
        self.count_label.setText(f"{fmt.digits(len(self.rows))} رویداد{more}")
        self.details.clear()

    def select(self, row: int) -> None:
        from PySide6.QtCore import QItemSelectionModel

        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(self.table.model().index(row, 0), flags)

    def _show_details(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        e = self.rows[rows[0].row()]
        lines = [e.summary, ""]
        for k, (before, after) in e.changes.items():
            lines.append(f"{audit_log.FIELD_LABELS.get(k, k)}:  {audit_log._short(before)}  ←  {audit_log._short(after)}")
        self.details.setPlainText("\n".join(lines))

    def export_excel(self, path: str | None = None):
        """The filtered log to .xlsx in the background (ui/excel/export_dialog.py); the export is itself logged."""
        from ui.excel.export_dialog import ExportDialog, choose_path

        f = self.current_filter()
        path = path or choose_path(self, f"رویدادها-{dt.date.today():%Y%m%d}.xlsx")
        if not path:
            return None
        return ExportDialog(self, "خروجی گزارش رویدادها", path,
                            lambda p, progress, cancel: audit_log.export_xlsx(p, f, progress, cancel)).start()
