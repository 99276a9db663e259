"""Merge two customer files: find the other customer, compare side by side, choose the survivor, confirm.

The service (app.customers.merge) moves every phone, address, tag, note, call, task, document and timeline
entry to the survivor, fills the survivor's empty fields from the other, and hides the other as merged.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app import fmt
from app.core.errors import UserError
from app.customers import service as cs
from ui.context import AppContext
from ui.widgets.forms import error_label
from ui.widgets.persian import fit_to_screen

logger = logging.getLogger(__name__)

MAX_RESULTS = 50
DIFF_COLOUR = QColor("#fef9c3")   # a field the two files disagree on

COMPARE_ROWS = (
    ("display_name", "نام"),
    ("company", "شرکت"),
    ("kind", "نوع"),
    ("stage", "مرحله"),
    ("status", "وضعیت"),
    ("customer_type", "گروه"),
    ("rank", "رتبه"),
    ("national_id", "کد / شناسه ملی"),
    ("economic_code", "کد اقتصادی"),
    ("phones", "شماره‌ها"),
    ("addresses", "نشانی‌ها"),
    ("tags", "برچسب‌ها"),
    ("assigned_name", "کارشناس مسئول"),
    ("birthday", "تاریخ تولد"),
    ("email", "ایمیل"),
    ("timeline", "رویدادهای تاریخچه"),
    ("created_at", "تشکیل پرونده"),
)


def _fa(v: object) -> str:
    return fmt.digits(v) if v not in (None, "") else ""


def describe(d: dict, field: str) -> str:
    """One cell of the comparison, in Persian."""
    v = d.get(field)
    if field == "kind":
        return cs.KIND_LABELS.get(v, v or "")
    if field == "stage":
        return cs.STAGE_LABELS.get(v, v or "")
    if field == "status":
        return cs.STATUS_LABELS.get(v, v or "")
    if field == "phones":
        return "\n".join(_fa(p["canonical"]) for p in v or [])
    if field == "addresses":
        return "\n".join(_fa("، ".join(x for x in (a.get("city"), a.get("line")) if x)) for a in v or [])
    if field == "tags":
        return "، ".join(_fa(t) for t in v or [])
    if field in ("birthday", "created_at"):
        return fmt.date(v) if v else ""
    if field == "timeline":
        return _fa(cs.timeline_count(d["id"]))
    return _fa(v)


class MergeDialog(QDialog):
    """merged(keep_id, drop_id) is emitted after a merge; `kept_id` holds the survivor."""

    merged = Signal(int, int)

    def __init__(self, ctx: AppContext, customer_id: int, parent=None, other_id: int | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.other_id: int | None = None
        self.kept_id: int | None = None
        self.a = cs.customer_data(customer_id)
        self.b: dict = {}
        self.setWindowTitle(f"ادغام پرونده «{self.a['display_name']}» با پرونده‌ای دیگر")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        fit_to_screen(self, 900, 760)
        lay = QVBoxLayout(self)

        intro = QLabel("پرونده دیگر را پیدا کنید، دو پرونده را کنار هم ببینید و انتخاب کنید کدام بماند. "
                       "هیچ شماره، یادداشت یا رویدادی از دست نمی‌رود: همه به پرونده باقی‌مانده منتقل می‌شود.")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجوی مشتری دیگر: نام، شرکت، شماره تلفن یا کد ملی…")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        self.results = QListWidget()
        self.results.setMaximumHeight(110)
        lay.addWidget(self.results)
        self.results_hint = QLabel()
        self.results_hint.setProperty("role", "muted")
        lay.addWidget(self.results_hint)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_now_or_pick)
        self.results.currentItemChanged.connect(self._picked)
        self.results.itemActivated.connect(lambda _i: self.table.setFocus())

        survivor = QHBoxLayout()
        survivor.addWidget(QLabel("پرونده‌ای که می‌ماند:"))
        self.keep_group = QButtonGroup(self)
        self.keep_a = QRadioButton(self.a["display_name"])
        self.keep_b = QRadioButton("(پرونده دوم را انتخاب کنید)")
        self.keep_b.setEnabled(False)
        self.keep_a.setChecked(True)
        self.keep_group.addButton(self.keep_a)
        self.keep_group.addButton(self.keep_b)
        survivor.addWidget(self.keep_a)
        survivor.addWidget(self.keep_b)
        survivor.addStretch(1)
        lay.addLayout(survivor)
        self.keep_a.toggled.connect(self._update_summary)

        self.table = QTableWidget(len(COMPARE_ROWS), 2)
        self.table.setVerticalHeaderLabels([label for _f, label in COMPARE_ROWS])
        # Qt numbers a column without a header «2»: say what the column is waiting for.
        self.table.setHorizontalHeaderItem(1, QTableWidgetItem("پرونده دوم"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table, 1)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("QLabel { background: #eff6ff; color: #1e3a8a; padding: 6px; border-radius: 4px; }")
        lay.addWidget(self.summary)
        self.error = error_label(self)
        lay.addWidget(self.error)

        buttons = QDialogButtonBox()
        self.merge_button = buttons.addButton("ادغام", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.merge_button.setEnabled(False)
        self.merge_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.merge_button.clicked.connect(self.confirm_and_merge)
        self.cancel_button.clicked.connect(self.reject)
        lay.addWidget(buttons)

        self._fill_column(0, self.a)
        self._update_summary()
        if other_id:
            self.set_other(other_id)
        self.search.setFocus()

    # --- search -------------------------------------------------------------------------------------------
    def run_search(self) -> None:
        self._search_timer.stop()
        text = self.search.text().strip()
        self.results.clear()
        if not text:
            self.results_hint.setText("")
            return
        ids = [i for i in cs.search_ids(cs.Filter(text=text)) if i != self.customer_id]
        rows = cs.fetch_rows(ids[:MAX_RESULTS])
        for cid in ids[:MAX_RESULTS]:
            r = rows.get(cid)
            if r is None:
                continue
            parts = [r.name]
            if r.company and r.company != r.name:
                parts.append(r.company)
            if r.phone:
                parts.append(_fa(r.phone))
            if r.city:
                parts.append(r.city)
            item = QListWidgetItem(" — ".join(parts))
            item.setData(Qt.ItemDataRole.UserRole, cid)
            self.results.addItem(item)
        if not ids:
            self.results_hint.setText("مشتری دیگری با این مشخصات پیدا نشد.")
        elif len(ids) > MAX_RESULTS:
            self.results_hint.setText(f"{_fa(len(ids))} مشتری پیدا شد؛ {_fa(MAX_RESULTS)} مورد اول نمایش داده "
                                      "می‌شود. جستجو را دقیق‌تر کنید.")
        else:
            self.results_hint.setText(f"{_fa(len(ids))} مشتری پیدا شد.")

    def _search_now_or_pick(self) -> None:
        if self._search_timer.isActive() or self.results.count() == 0:
            self.run_search()
        if self.results.count() and self.results.currentRow() < 0:
            self.results.setCurrentRow(0)

    def _picked(self, item: QListWidgetItem | None, _prev=None) -> None:
        if item is not None:
            self.set_other(int(item.data(Qt.ItemDataRole.UserRole)))

    def set_other(self, other_id: int) -> None:
        """Compare with this customer (as if picked from the search results)."""
        self.error.hide()
        if other_id == self.customer_id:
            return
        try:
            self.b = cs.customer_data(other_id)
        except UserError as e:
            self.error.setText(e.message)
            self.error.show()
            return
        self.other_id = other_id
        self.keep_b.setText(self.b["display_name"])
        self.keep_b.setEnabled(True)
        self._fill_column(1, self.b)
        self.merge_button.setEnabled(True)
        self._update_summary()

    # --- comparison ---------------------------------------------------------------------------------------
    def _fill_column(self, col: int, d: dict) -> None:
        self.table.setHorizontalHeaderItem(col, QTableWidgetItem(d.get("display_name", "")))
        other = self.b if col == 0 else self.a
        for row, (field, _label) in enumerate(COMPARE_ROWS):
            text = describe(d, field) if d else ""
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
                                  | Qt.AlignmentFlag.AlignVCenter)
            if other and field not in ("timeline", "created_at", "display_name"):
                theirs = describe(other, field)
                if text and theirs and text != theirs:
                    item.setBackground(DIFF_COLOUR)
            self.table.setItem(row, col, item)
        if col == 1 and self.a:
            self._fill_column(0, self.a)   # re-mark the differences on the first column too

    def keep_and_drop(self) -> tuple[int, int] | None:
        if self.other_id is None:
            return None
        if self.keep_a.isChecked():
            return self.customer_id, self.other_id
        return self.other_id, self.customer_id

    def _update_summary(self) -> None:
        pair = self.keep_and_drop()
        if pair is None:
            self.summary.setText("پرونده دوم را از نتیجه جستجو انتخاب کنید.")
            return
        keep, drop = pair
        kn = self.a["display_name"] if keep == self.customer_id else self.b["display_name"]
        dn = self.b["display_name"] if keep == self.customer_id else self.a["display_name"]
        self.summary.setText(
            f"پرونده «{kn}» می‌ماند. همه شماره‌ها، نشانی‌ها، برچسب‌ها، یادداشت‌ها، تماس‌ها و تاریخچه «{dn}» به آن "
            f"منتقل می‌شود و جاهای خالی «{kn}» از «{dn}» پر می‌شود؛ سپس «{dn}» از فهرست مشتریان برداشته می‌شود.")

    # --- merge --------------------------------------------------------------------------------------------
    def confirm_and_merge(self) -> bool:
        pair = self.keep_and_drop()
        if pair is None:
            return False
        box = QMessageBox(QMessageBox.Icon.Question, "تأیید ادغام", self.summary.text() + "\n\nادغام انجام شود؟",
                          parent=self)
        yes = box.addButton("بله، ادغام کن", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("خیر", QMessageBox.ButtonRole.RejectRole)
        box.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        box.exec()
        if box.clickedButton() is not yes:
            return False
        return self.do_merge()

    def do_merge(self) -> bool:
        pair = self.keep_and_drop()
        if pair is None:
            return False
        keep, drop = pair
        try:
            cs.merge(keep, drop, self.ctx.user_id)
        except UserError as e:
            self.error.setText(e.message)
            self.error.show()
            return False
        logger.info("customer %s merged into %s", drop, keep)
        self.kept_id = keep
        self.merged.emit(keep, drop)
        self.ctx.bus.customer_changed.emit(drop)
        self.ctx.bus.customer_changed.emit(keep)
        self.ctx.bus.data_changed.emit("customers")
        self.ctx.bus.status_message.emit("دو پرونده ادغام شد.")
        self.accept()
        return True

