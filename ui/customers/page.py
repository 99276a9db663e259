"""The customer list: search as you type, saved filters, sortable, lazy rows."""
from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.customers import service as cs
from ui.context import AppContext
from ui.customers.model import CustomerTableModel
from ui.widgets.lazy_table import LazyTableView

logger = logging.getLogger(__name__)

SEARCH_DELAY_MS = 150


class CustomersPage(QWidget):
    COUNTING = "در حال شمارش…"           # the count label while a worker counts

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        title = QLabel("مشتریان")
        title.setProperty("role", "title")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        self.new_btn = QPushButton("مشتری جدید")
        self.new_btn.setShortcut("Ctrl+N")
        self.open_btn = QPushButton("پرونده")
        self.merge_btn = QPushButton("ادغام")
        self.export_btn = QPushButton("خروجی اکسل")
        self.import_btn = QPushButton("ورود از اکسل")
        self.sms_btn = QPushButton("پیامک به این فهرست")
        self.sms_btn.setToolTip("ارسال گروهی پیامک به مشتریانی که این فیلتر نشان می‌دهد")
        for b in (self.new_btn, self.open_btn, self.merge_btn, self.import_btn, self.export_btn, self.sms_btn):
            top.addWidget(b)
        lay.addLayout(top)

        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجو: نام، شرکت، هر شماره تلفن، کد ملی، برچسب…")
        self.search.setClearButtonEnabled(True)
        bar.addWidget(self.search, 3)
        self.kind = self._combo([("", "همه"), ("person", "حقیقی"), ("organisation", "حقوقی")])
        self.stage = self._combo([("", "سرنخ و مشتری"), ("potential", "سرنخ"), ("actual", "مشتری")])
        self.ctype = self._combo([("", "همه گروه‌ها")])
        self.status = self._combo([("", "همه وضعیت‌ها")] + [(k, v) for k, v in cs.STATUS_LABELS.items()
                                                            if k != "merged"])
        self.rank = self._combo([("", "همه رتبه‌ها")])
        self.tag = self._combo([("", "همه برچسب‌ها")])
        self.assigned = self._combo([(None, "همه همکاران")])
        for w in (self.kind, self.stage, self.ctype, self.status, self.rank, self.tag, self.assigned):
            bar.addWidget(w)
        lay.addLayout(bar)

        saved = QHBoxLayout()
        saved.addWidget(QLabel("فیلترهای ذخیره‌شده:"))
        self.saved = QComboBox()
        self.saved.setMinimumWidth(200)
        self.save_filter_btn = QPushButton("ذخیره این فیلتر")
        self.delete_filter_btn = QPushButton("حذف فیلتر")
        saved.addWidget(self.saved)
        saved.addWidget(self.save_filter_btn)
        saved.addWidget(self.delete_filter_btn)
        saved.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        saved.addWidget(self.count_label)
        lay.addLayout(saved)

        self.model = CustomerTableModel(self)
        self.view = LazyTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().setDefaultSectionSize(28)
        self.view.verticalHeader().setVisible(False)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((200, 200, 130, 110, 60, 80, 120, 90, 100)):
            self.view.setColumnWidth(col, width)
        hh.setStretchLastSection(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        lay.addWidget(self.view, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        for w in (self.kind, self.stage, self.ctype, self.status, self.rank, self.tag, self.assigned):
            w.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.view.doubleClicked.connect(lambda idx: self.open_customer(self.model.customer_id(idx.row())))
        self.new_btn.clicked.connect(self.new_customer)
        self.open_btn.clicked.connect(lambda: self.open_customer(self.current_id()))
        self.merge_btn.clicked.connect(self.merge_selected)
        self.export_btn.clicked.connect(self.export)
        self.import_btn.clicked.connect(self.import_file)
        self.sms_btn.clicked.connect(self.group_sms)
        self.saved.activated.connect(self._apply_saved)
        self.save_filter_btn.clicked.connect(self.save_filter)
        self.delete_filter_btn.clicked.connect(self.delete_filter)
        ctx.bus.data_changed.connect(self._on_data_changed)
        ctx.bus.customer_changed.connect(self._on_customer_changed)
        self.reload_choices()
        self.apply_filter()

    # --- helpers ------------------------------------------------------------------------------------------
    def _combo(self, items) -> QComboBox:
        c = QComboBox()
        for value, label in items:
            c.addItem(label, value)
        return c

    def _refill(self, combo: QComboBox, first: tuple, items) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(first[1], first[0])
        for value, label in items:
            combo.addItem(label, value)
        i = combo.findData(current)
        combo.setCurrentIndex(max(0, i))
        combo.blockSignals(False)

    def reload_choices(self) -> None:
        types = sorted(set(settings.csv_list(options.CUSTOMERS_TYPES)) | set(cs.distinct_values("customer_type")))
        self._refill(self.ctype, ("", "همه گروه‌ها"), [(t, t) for t in types])
        self._refill(self.rank, ("", "همه رتبه‌ها"), [(r, r) for r in cs.distinct_values("rank")])
        self._refill(self.tag, ("", "همه برچسب‌ها"), [(t, t) for t in cs.all_tags()])
        self._refill(self.assigned, (None, "همه همکاران"), [(u.id, u.name) for u in cs.users()])
        self.saved.clear()
        self.saved.addItem("—", None)
        for fid, name, _f in cs.saved_filters():
            self.saved.addItem(name, fid)

    def current_filter(self) -> cs.Filter:
        return cs.Filter(text=self.search.text(), kind=self.kind.currentData() or "",
                         stage=self.stage.currentData() or "", customer_type=self.ctype.currentData() or "",
                         status=self.status.currentData() or "", rank=self.rank.currentData() or "",
                         tag=self.tag.currentData() or "", assigned_to=self.assigned.currentData())

    def set_filter(self, f: cs.Filter) -> None:
        widgets = ((self.kind, f.kind), (self.stage, f.stage), (self.ctype, f.customer_type),
                   (self.status, f.status), (self.rank, f.rank), (self.tag, f.tag), (self.assigned, f.assigned_to))
        for combo, value in widgets:
            combo.blockSignals(True)
            i = combo.findData(value if value not in ("",) else "")
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.setText(f.text)
        self.search.blockSignals(False)
        self.apply_filter()

    def apply_filter(self) -> None:
        self._timer.stop()
        self.model.search(self.current_filter())
        self._show_count()

    def _show_count(self) -> None:
        """The count beside the list. Known when the first page held every match; otherwise counted on a worker
        thread (a common word at a million customers: half a second, which the GUI thread waited for at each
        keystroke), shown if the list still shows that search when it is in."""
        result = self.model.result
        known = result.known_total if result is not None else 0
        if known is not None:
            self.count_label.setText(fmt.count(known, "مشتری"))
            return
        self.count_label.setText(self.COUNTING)
        from ui.ops import QueryOp

        def done(n: int) -> None:
            if self.model.result is result:
                self.count_label.setText(fmt.count(n, "مشتری"))

        def failed(exc: BaseException) -> None:
            logger.warning("the customers' count failed: %s", exc)
            if self.model.result is result:
                self.count_label.setText("")

        QueryOp(self, lambda _ctl: result.total, done, name="customer count").failure(failed).run()

    def current_id(self) -> int | None:
        idx = self.view.currentIndex()
        return self.model.customer_id(idx.row()) if idx.isValid() else None

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.ids[r] for r in rows]

    # --- the list's context menu ----------------------------------------------------------------------------
    def context_menu(self) -> QMenu:
        """The right-click menu for the selected rows; what the role may not do is disabled, and says why."""
        from ui.office.restrict import gate

        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        ids = self.selected_ids()
        one = self.current_id() if ids else None
        self.menu_actions = {}

        def add(key: str, text: str, slot, *perms: str, enabled: bool = True):
            a = menu.addAction(text)
            a.triggered.connect(slot)
            self.menu_actions[key] = a
            if not enabled:
                a.setEnabled(False)
            elif perms:
                gate(a, *perms)
            return a

        add("open", "باز کردن پرونده", lambda: self.open_customer(one), enabled=bool(one))
        menu.addSeparator()
        add("proforma", "پیش‌فاکتور جدید", lambda: self._new_document(one, "proforma"), "money.view",
            enabled=bool(one))
        add("invoice", "فاکتور جدید", lambda: self._new_document(one, "invoice"), "money.view", "invoice.issue",
            enabled=bool(one))
        menu.addSeparator()
        add("merge", "ادغام با پرونده دیگر…", self.merge_selected, "customers.delete", enabled=bool(ids))
        add("export", "خروجی اکسل از این فهرست", self.export, "export")
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        self.context_menu().exec(self.view.viewport().mapToGlobal(pos))

    def _new_document(self, customer_id: int | None, kind: str) -> None:
        win = getattr(self.ctx, "main_window", None)
        page = win.page("invoices") if win is not None and hasattr(win, "page") else None
        if not customer_id or not hasattr(page, "new_invoice_for"):
            return
        self.ctx.bus.show_section.emit("invoices")
        if kind == "proforma":
            page.new_proforma_for(customer_id)
        else:
            page.new_invoice_for(customer_id)

    # --- actions ------------------------------------------------------------------------------------------
    def new_customer(self) -> None:
        from ui.customers.form import edit_customer

        edit_customer(self.ctx, parent=self)

    def open_customer(self, customer_id: int | None) -> None:
        if customer_id:
            self.ctx.bus.open_customer.emit(customer_id)

    def merge_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            QMessageBox.information(self, "ادغام", "اول پرونده‌ای را در فهرست انتخاب کنید.")
            return
        from ui.customers.merge_dialog import MergeDialog

        dlg = MergeDialog(self.ctx, ids[0], parent=self, other_id=ids[1] if len(ids) > 1 else None)
        dlg.show()

    def export(self) -> None:
        try:
            from ui.excel.export_dialog import export_customers
        except ImportError:
            QMessageBox.information(self, "خروجی اکسل", "این امکان هنوز نصب نشده است.")
            return
        export_customers(self.ctx, self.current_filter(), parent=self)

    def group_sms(self):
        """The group send, to the customers this list shows (its filter, chosen first in the dialog)."""
        from ui.sms.group_send import GroupSendDialog

        self.sms_dialog = GroupSendDialog(self, preset=self.current_filter())
        self.sms_dialog.show()
        return self.sms_dialog

    def import_file(self) -> None:
        try:
            from ui.excel.import_wizard import ImportWizard
        except ImportError:
            QMessageBox.information(self, "ورود از اکسل", "این امکان هنوز نصب نشده است.")
            return
        ImportWizard(self.ctx, parent=self).show()

    def _apply_saved(self, index: int) -> None:
        fid = self.saved.itemData(index)
        for sid, _name, f in cs.saved_filters():
            if sid == fid:
                self.set_filter(f)
                return

    def save_filter(self) -> None:
        name, ok = QInputDialog.getText(self, "ذخیره فیلتر", "نام این فیلتر:")
        if not ok:
            return
        try:
            cs.save_filter(name, self.current_filter(), owner=self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "ذخیره فیلتر", e.message)
            return
        self.reload_choices()
        self.saved.setCurrentIndex(max(0, self.saved.findText(name.strip())))

    def delete_filter(self) -> None:
        fid = self.saved.currentData()
        if fid:
            cs.delete_filter(fid)
            self.reload_choices()

    def _on_data_changed(self, what: str) -> None:
        if what in ("customers", "settings"):
            self.reload_choices()
            self.apply_filter()

    def _on_customer_changed(self, customer_id: int) -> None:
        if self.model.row_of(customer_id) < 0:
            self.apply_filter()
        else:
            self.model.refresh_row(customer_id)
