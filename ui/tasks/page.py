"""The inbox (کارتابل): my open tasks and follow-ups, "calls I must make today" one click (F3) away, every
colleague's tasks for a manager, filters by status, due date, kind and text.

Keys: Enter opens, Ctrl+N new task, Ctrl+L log a call for the selected row (a call/follow-up row is then done),
Ctrl+D done/undone, Ctrl+R refer to a colleague, Ctrl+O the customer's file, Ctrl+F the search box.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.errors import UserError
from app.tasks import service as ts
from ui.context import AppContext
from ui.widgets.timers import shown_debounce

logger = logging.getLogger(__name__)

RED = QColor("#b91c1c")
GREY = QColor("#9ca3af")


class TaskTableModel(QAbstractTableModel):
    COLUMNS = ("سررسید", "عنوان", "مشتری", "نوع", "اولویت", "مسئول", "ارجاع از", "وضعیت")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[ts.TaskRow] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[ts.TaskRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def append_rows(self, rows: list[ts.TaskRow]) -> None:
        """More rows after those shown (the rest of a long list): the view keeps its scroll and selection."""
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
        self.rows = self.rows + rows
        self.endInsertRows()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    SORT_KEYS = (
        lambda r: r.due_at,
        lambda r: r.title,
        lambda r: r.customer_name or None,
        lambda r: ts.KIND_LABELS.get(r.kind, r.kind),
        lambda r: r.priority,
        lambda r: r.assignee_name or None,
        lambda r: r.referred_at,
        lambda r: (r.overdue, r.status),
    )

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """In memory: the rows are all here (an inbox is thousands, not millions). Empty cells stay last."""
        if not 0 <= column < len(self.SORT_KEYS):
            return
        key = self.SORT_KEYS[column]
        self.layoutAboutToBeChanged.emit()
        filled = [r for r in self.rows if key(r) is not None]
        empty = [r for r in self.rows if key(r) is None]
        filled.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.rows = filled + empty
        self.layoutChanged.emit()

    def row(self, i: int) -> ts.TaskRow | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None

    # the roles answered below: the view asks each painted cell for about eight (alignment, background,
    # decoration…), and the others are refused before the row is looked at
    _ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
                        Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole})

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in self._ROLES or not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                if r.due_at is None:
                    return "—"
                return fmt.date(r.due_at) if r.all_day else fmt.datetime(r.due_at)
            if col == 1:
                return r.title + (" ↻" if r.recurrence else "")
            if col == 2:
                return r.customer_name
            if col == 3:
                return ts.KIND_LABELS.get(r.kind, r.kind)
            if col == 4:
                return ts.PRIORITY_LABELS.get(r.priority, "")
            if col == 5:
                return r.assignee_name or "—"
            if col == 6:
                if not r.referred_by:
                    return ""
                return f"{r.referred_by} ({fmt.date(r.referred_at)})"
            if col == 7:
                if r.overdue:
                    return "عقب‌افتاده"
                return ts.STATUS_LABELS.get(r.status, r.status)
        elif role == Qt.ItemDataRole.ForegroundRole:
            if r.status != "open":
                return QBrush(GREY)
            if r.overdue:
                return QBrush(RED)
        elif role == Qt.ItemDataRole.FontRole:
            if r.priority >= 3 and r.status == "open":
                return self._bold
        elif role == Qt.ItemDataRole.ToolTipRole:
            parts = []
            if r.description:
                parts.append(r.description)
            if r.referred_by:
                parts.append(f"ارجاع از {r.referred_by} در {fmt.datetime(r.referred_at)}"
                             + (f": {r.referral_note}" if r.referral_note else ""))
            return "\n".join(parts) or None
        elif role == Qt.ItemDataRole.UserRole:
            return r.id
        return None


class TasksPage(QWidget):
    # A long list shows its first rows at once (about two screens) and the rest follows from a worker thread.
    FIRST = 200

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        # widgets are made with their parent (not reparented into the page when laid out: each reparenting
        # polishes the widget again under the program's style sheet)
        self.ctx = ctx
        self.last_load_ms = 0.0
        self.complete_ms = 0.0                # until the whole list was in (equal to last_load_ms when short)
        self._dirty = True
        self._loading = False
        self._generation = 0                  # a rest read for an older refresh is dropped
        self._partial = False                 # only the first rows are in; the rest is being read
        self._after_paint: list = []          # started once the list's first rows are painted
        self.manager = ts.is_manager(ctx.user_id)
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("کارتابل", self)
        self.title.setProperty("role", "title")
        head.addWidget(self.title)
        head.addStretch(1)
        self.calls_btn = QPushButton("تماس‌های امروز من", self)
        self.calls_btn.setToolTip("تماس‌ها و پیگیری‌هایی که امروز (یا پیش از امروز) باید انجام شوند — F3")
        self.calls_btn.clicked.connect(self.show_calls_today)
        self.mine_btn = QPushButton("کارتابل من", self)
        self.mine_btn.clicked.connect(self.show_my_inbox)
        head.addWidget(self.mine_btn)
        head.addWidget(self.calls_btn)
        lay.addLayout(head)

        filters = QHBoxLayout()
        self.scope = QComboBox(self)
        self.scope.addItem("کارتابل من", "me")
        if self.manager:
            self.scope.addItem("همه همکاران", "all")
            for uid, name in ts.users():
                if uid != ctx.user_id:
                    self.scope.addItem(f"کارتابل {name}", uid)
        self.status = QComboBox(self)
        for key, label in (("open", "باز"), ("done", "انجام‌شده"), ("all", "همه")):
            self.status.addItem(label, key)
        self.due = QComboBox(self)
        for key, label in ts.DUE_FILTERS.items():
            self.due.addItem(label, key)
        self.kind = QComboBox(self)
        self.kind.addItem("همه انواع", ())
        self.kind.addItem("تماس‌ها و پیگیری‌ها", ("call", "followup"))
        for key, label in ts.KIND_LABELS.items():
            self.kind.addItem(label, (key,))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("جستجو در عنوان یا نام مشتری… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        for label, w in (("نمایش", self.scope), ("وضعیت", self.status), ("سررسید", self.due), ("نوع", self.kind)):
            filters.addWidget(QLabel(label, self))
            filters.addWidget(w)
        filters.addWidget(self.search, 1)
        lay.addLayout(filters)

        self.model = TaskTableModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(False)
        for col, width in enumerate((125, 300, 170, 70, 60, 110, 170, 90)):
            self.view.setColumnWidth(col, width)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSortIndicatorShown(True)
        hh.setSectionsClickable(True)
        hh.sortIndicatorChanged.connect(self._sort)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.viewport().installEventFilter(self)
        self.view.doubleClicked.connect(lambda _i: self.open_selected())
        self.view.activated.connect(lambda _i: self.open_selected())
        lay.addWidget(self.view, 1)

        actions = QHBoxLayout()
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "muted")
        actions.addWidget(self.count_label)
        actions.addStretch(1)
        self.buttons = {}
        for key, label, tip, slot in (
                ("new", "کار تازه", "Ctrl+N", self.new_task),
                ("call", "ثبت تماس", "Ctrl+L — تماس را ثبت می‌کند و کار تماس/پیگیری را انجام‌شده می‌زند", self.log_call),
                ("done", "انجام شد / باز", "Ctrl+D", self.toggle_done),
                ("refer", "ارجاع…", "Ctrl+R", self.refer_selected),
                ("customer", "پرونده مشتری", "Ctrl+O", self.open_customer),
                ("excel", "خروجی اکسل", "همین فهرست در یک کارپوشه اکسل", self.export_excel)):
            b = QPushButton(label, self)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            actions.addWidget(b)
            self.buttons[key] = b
        lay.addLayout(actions)

        for keys, slot in (("F3", self.show_calls_today), ("Ctrl+N", self.new_task), ("Ctrl+L", self.log_call),
                           ("Ctrl+D", self.toggle_done), ("Ctrl+R", self.refer_selected),
                           ("Ctrl+O", self.open_customer), ("Ctrl+F", self.search.setFocus)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)

        self._debounce = shown_debounce(self, 250, self.refresh, self._mark_dirty)
        self._tick = QTimer(self)
        self._tick.setInterval(60_000)
        self._tick.timeout.connect(self._changed)
        self._tick.start()
        for w in (self.scope, self.status, self.due, self.kind):
            w.currentIndexChanged.connect(self._filters_changed)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        ctx.bus.data_changed.connect(self._changed)
        self.refresh()

    # --- filters ---------------------------------------------------------------------------------------------
    def current_filter(self) -> ts.InboxFilter:
        scope = self.scope.currentData()
        if scope == "me":
            user = self.ctx.user_id
        elif scope == "all":
            user = None
        else:
            user = scope
        return ts.InboxFilter(user_id=user, status=self.status.currentData(), due=self.due.currentData(),
                              kinds=tuple(self.kind.currentData() or ()), text=self.search.text())

    def _set_filters(self, scope, status: str, due: str, kinds: tuple, text: str = "") -> None:
        self._loading = True
        try:
            from ui.tasks.task_dialog import set_combo_data

            set_combo_data(self.scope, scope)
            set_combo_data(self.status, status)
            set_combo_data(self.due, due)
            i = next((k for k in range(self.kind.count()) if tuple(self.kind.itemData(k) or ()) == tuple(kinds)), 0)
            self.kind.setCurrentIndex(i)
            self.search.blockSignals(True)
            self.search.setText(text)
            self.search.blockSignals(False)
        finally:
            self._loading = False
        self.refresh()

    def show_calls_today(self) -> None:
        """One click: the calls and follow-ups I must make today (and those already late)."""
        self._set_filters("me", "open", "today_overdue", ("call", "followup"))
        self.view.setFocus()
        if self.model.rowCount():
            self.select_row(0)

    def show_my_inbox(self) -> None:
        self._set_filters("me", "open", "all", ())

    def show_user(self, user_id: int | None) -> None:
        self._set_filters(user_id if self.scope.findData(user_id) >= 0 else "all", "open", "all", ())

    def _filters_changed(self, _i: int = 0) -> None:
        if not self._loading:
            self.refresh()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _changed(self, what: str = "") -> None:
        if what and what not in ("tasks", "calls", "customers", "users"):
            return
        if self.isVisible():
            self._debounce.start()
        else:
            self._dirty = True

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        t0 = time.perf_counter()
        selected = self.selected_id()
        f = self.current_filter()
        hh = self.view.horizontalHeader()
        sorted_by_column = 0 <= hh.sortIndicatorSection() < len(TaskTableModel.COLUMNS)
        self._generation += 1
        generation = self._generation
        try:
            if sorted_by_column or f.limit:
                rows, more = ts.list_tasks(f), False       # a column's order needs every row first
            else:
                from dataclasses import replace

                rows = ts.list_tasks(replace(f, limit=self.FIRST + 1))
                more = len(rows) > self.FIRST
                rows = rows[:self.FIRST]
        except Exception:  # a failed refresh keeps the last list
            logger.exception("inbox refresh failed")
            return
        self._dirty = False
        self._partial = more
        self.model.set_rows(rows)
        if sorted_by_column:
            self.model.sort(hh.sortIndicatorSection(), hh.sortIndicatorOrder())
        self._select(selected)
        self.last_load_ms = (time.perf_counter() - t0) * 1000
        if not more:
            self._count(rows)
            self.complete_ms = self.last_load_ms
            return
        self.count_label.setText(f"{fmt.num(self.FIRST)} کار نخست…")
        from ui.ops import QueryOp

        def rest(loaded: list[ts.TaskRow]) -> None:
            if generation != self._generation:
                return
            self._partial = False
            head = self.model.rows
            if [r.id for r in loaded[:len(head)]] == [r.id for r in head]:
                self.model.append_rows(loaded[len(head):])
            else:                            # changed between the two reads: the whole list as read now
                self._replace_rows(loaded)
            if selected is not None and self.selected_id() is None:
                self._select(selected)
            self._count(self.model.rows)
            self.complete_ms = (time.perf_counter() - t0) * 1000

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._partial = False
                self._dirty = True
                logger.error("inbox refresh failed: %s", exc)

        def start() -> None:
            if generation == self._generation:
                QueryOp(self, lambda _ctl: ts.list_tasks(f), rest, name="inbox").failure(failed).prompt().run()

        # once the first rows are painted: a worker reading while the view paints holds the interpreter the
        # paint needs for every cell (a page not shown yet starts it within a tenth of a second all the same)
        self._after_paint.append(start)
        QTimer.singleShot(0 if self.view.viewport().isVisible() else 100, self._run_after_paint)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._after_paint and obj is self.view.viewport():
            QTimer.singleShot(0, self._run_after_paint)       # after this paint has ended
        return False

    def _run_after_paint(self) -> None:
        pending, self._after_paint = self._after_paint, []
        for fn in pending:
            fn()

    def _sort(self, column: int, order) -> None:
        if self._partial:
            self.whole_list()                    # a column's order needs every row
        self.model.sort(column, order)

    def is_partial(self) -> bool:
        """Only the first rows are in; the rest of the list is being read on a worker thread."""
        return self._partial

    def whole_list(self) -> list[ts.TaskRow]:
        """Every row of the list on screen (read now, here, if the rest has not arrived yet)."""
        if self._partial:
            self._generation += 1                # the rest read under way is no longer needed
            self._partial = False
            self._replace_rows(ts.list_tasks(self.current_filter()))
            self._count(self.model.rows)
        return list(self.model.rows)

    def _count(self, rows: list[ts.TaskRow]) -> None:
        n_over = sum(1 for r in rows if r.overdue)
        text = f"{fmt.num(len(rows))} کار"
        if n_over:
            text += f"، {fmt.num(n_over)} عقب‌افتاده"
        self.count_label.setText(text)

    def _select(self, task_id: int | None) -> bool:
        """Select that task's row if it is among the rows in the list."""
        for i, r in enumerate(self.model.rows):
            if r.id == task_id:
                self.select_row(i)
                return True
        return False

    def _replace_rows(self, rows: list[ts.TaskRow]) -> None:
        keep = self.selected_id()
        self.model.set_rows(rows)
        self._select(keep)

    # --- actions ---------------------------------------------------------------------------------------------
    def selected_row(self) -> ts.TaskRow | None:
        idx = self.view.currentIndex()
        sel = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if sel:
            idx = sel[0]
        return self.model.row(idx.row()) if idx.isValid() else None

    def selected_id(self) -> int | None:
        r = self.selected_row()
        return r.id if r else None

    def select_row(self, row: int) -> None:
        """Select a whole row. QTableView.selectRow() selects nothing once the application is right-to-left
        (as it always is here), so go through the selection model."""
        from PySide6.QtCore import QItemSelectionModel

        idx = self.model.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(idx, flags)

    def select_task(self, task_id: int) -> bool:
        if self._select(task_id):
            return True
        if self._partial:
            self.whole_list()                    # further down the list than the first rows
            return self._select(task_id)
        return False

    def open_selected(self) -> None:
        r = self.selected_row()
        if r is not None:
            from ui.tasks.task_dialog import open_task_dialog

            open_task_dialog(self.ctx, r.id, parent=self)

    def new_task(self) -> None:
        from ui.tasks.task_dialog import open_task_dialog

        open_task_dialog(self.ctx, None, parent=self)

    def log_call(self) -> None:
        """Log a call for the selected row's customer; a call/follow-up task is then done."""
        from ui.calls.call_dialog import CallDialog

        r = self.selected_row()
        dlg = CallDialog(self.ctx, customer_id=r.customer_id if r else None, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if r is not None and r.status == "open" and r.kind in ("call", "followup"):
            dlg.saved.connect(lambda _cid, tid=r.id: self._done_after_call(tid))
        dlg.show()
        self.call_dialog = dlg

    def _done_after_call(self, task_id: int) -> None:
        try:
            ts.set_done(task_id, True, user=self.ctx.user_id)
        except UserError:
            logger.info("task %s could not be closed after the call", task_id)
        self.ctx.bus.data_changed.emit("tasks")

    def toggle_done(self) -> None:
        r = self.selected_row()
        if r is None:
            return
        try:
            ts.set_done(r.id, r.status != "done", user=self.ctx.user_id)
        except UserError as e:
            from ui.tasks.task_dialog import show_error

            show_error(self, e)
            return
        self.ctx.bus.data_changed.emit("tasks")
        self.refresh()

    def refer_selected(self) -> None:
        r = self.selected_row()
        if r is None:
            return
        from ui.tasks.task_dialog import ReferDialog

        dlg = ReferDialog(self.ctx, r.id, parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.refer_dialog = dlg

    def filter_description(self) -> str:
        parts = [self.scope.currentText(), f"وضعیت: {self.status.currentText()}",
                 f"سررسید: {self.due.currentText()}", self.kind.currentText()]
        if self.search.text().strip():
            parts.append(f"جستجو: {self.search.text().strip()}")
        return "، ".join(parts)

    def export_excel(self, path=None) -> object:
        """The rows on screen to .xlsx, in the background with progress (ui/excel/export_dialog.py)."""
        from app.excel.export import export_tasks
        from ui.excel.export_dialog import ExportDialog, choose_path

        path = path or choose_path(self, "کارتابل.xlsx")
        if path is None:
            return None
        rows = self.whole_list()
        subtitle = self.filter_description()
        dlg = ExportDialog(self, "خروجی کارتابل", path,
                           lambda p, progress, cancel: export_tasks(p, rows, subtitle, progress, cancel))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.export_dialog = dlg
        return dlg.start()

    def open_customer(self) -> None:
        r = self.selected_row()
        if r is not None and r.customer_id:
            self.ctx.bus.open_customer.emit(r.customer_id)
