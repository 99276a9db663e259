"""The office's pipeline settings: stages (name, order, default probability, won/lost, rotting days), lost
reasons, competitors, and each rep's sales target per Jalali month."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core import jalali
from app.core.clock import today
from app.core.errors import UserError, ValidationError
from app.core.text import parse_int
from app.pipeline import competitors as pc
from app.pipeline import reports as pr
from app.pipeline import stages as pst
from ui.context import AppContext
from ui.widgets.forms import error_label, error_text
from ui.widgets.table_rows import append_row, button_row, cell_text, row_key, set_row_key


def _spin(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


def _check(on: bool) -> QCheckBox:
    box = QCheckBox()
    box.setChecked(on)
    return box


class PipelineSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("تنظیمات فرصت‌های فروش")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.resize(820, 520)
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        self.error = error_label(self)
        lay.addWidget(self.error)
        close = QPushButton("بستن")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self._build_stages()
        self._build_reasons()
        self._build_competitors()
        self._build_targets()

    def _fail(self, e: UserError) -> None:
        self.error.setText(error_text(e))
        self.error.show()

    def _ok(self) -> None:
        self.error.hide()
        self.ctx.bus.data_changed.emit("opportunities")

    # --- stages ------------------------------------------------------------------------------------------
    def _build_stages(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.stage_table = QTableWidget(0, 5)
        self.stage_table.setHorizontalHeaderLabels(["نام مرحله", "احتمال پیش‌فرض (٪)", "برنده", "ازدست‌رفته",
                                                    "راکد پس از (روز)"])
        self.stage_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.stage_table.verticalHeader().hide()
        self.stage_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        lay.addWidget(self.stage_table)
        lay.addLayout(button_row([("مرحله جدید", self._add_stage), ("بالا", lambda: self._shift(-1)),
                                  ("پایین", lambda: self._shift(1)), ("حذف مرحله", self._remove_stage),
                                  ("ذخیره مراحل", self.save_stages), ("احتمال از سابقه برد و باخت", self._learn)]))
        hint = QLabel("ترتیب سطرها ترتیب ستون‌های تابلو است (از راست). مرحله «برنده» احتمال ۱۰۰ و «ازدست‌رفته» "
                      "احتمال صفر دارد.")
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        lay.addWidget(hint)
        self.tabs.addTab(w, "مراحل فروش")
        self._fill_stages()

    def _fill_stages(self) -> None:
        stages = pst.list_stages()
        self.stage_table.setRowCount(0)
        for s in stages:
            self._stage_row(s.id, s.name, s.probability, s.is_won, s.is_lost, s.rot_days)

    def _stage_row(self, sid, name, prob, won, lost, rot) -> None:
        append_row(self.stage_table, [name, _spin(0, 100, prob), _check(won), _check(lost), _spin(0, 3650, rot)],
                   key=sid)

    def _add_stage(self) -> None:
        self._stage_row(None, "", 50, False, False, 14)
        self.stage_table.setCurrentCell(self.stage_table.rowCount() - 1, 0)
        self.stage_table.editItem(self.stage_table.item(self.stage_table.rowCount() - 1, 0))

    def _stage_values(self, r: int) -> dict:
        t = self.stage_table
        return {"id": row_key(t, r), "name": cell_text(t, r, 0),
                "probability": t.cellWidget(r, 1).value(), "is_won": t.cellWidget(r, 2).isChecked(),
                "is_lost": t.cellWidget(r, 3).isChecked(), "rot_days": t.cellWidget(r, 4).value()}

    def _shift(self, step: int) -> None:
        r = self.stage_table.currentRow()
        other = r + step
        if r < 0 or not 0 <= other < self.stage_table.rowCount():
            return
        a, b = self._stage_values(r), self._stage_values(other)
        for row, v in ((r, b), (other, a)):
            self.stage_table.item(row, 0).setText(v["name"])
            set_row_key(self.stage_table, row, v["id"])
            self.stage_table.cellWidget(row, 1).setValue(v["probability"])
            self.stage_table.cellWidget(row, 2).setChecked(v["is_won"])
            self.stage_table.cellWidget(row, 3).setChecked(v["is_lost"])
            self.stage_table.cellWidget(row, 4).setValue(v["rot_days"])
        self.stage_table.setCurrentCell(other, 0)

    def save_stages(self) -> bool:
        ids = []
        try:
            for r in range(self.stage_table.rowCount()):
                v = self._stage_values(r)
                v["position"] = r
                sid = v.pop("id")
                info = pst.save_stage(v, sid)
                set_row_key(self.stage_table, r, info.id)
                ids.append(info.id)
            pst.reorder_stages(ids)
        except UserError as e:
            self._fail(e)
            return False
        self._ok()
        self._fill_stages()
        return True

    def _remove_stage(self) -> None:
        r = self.stage_table.currentRow()
        if r < 0:
            return
        sid = row_key(self.stage_table, r)
        if sid is None:
            self.stage_table.removeRow(r)
            return
        try:
            pst.remove_stage(sid)
        except UserError as e:
            self._fail(e)
            return
        self._ok()
        self._fill_stages()

    def _learn(self) -> None:
        learned = pst.learned_probabilities()
        if not learned:
            QMessageBox.information(self, "احتمال از سابقه", "هنوز فرصت بسته‌شده کافی نیست (دست‌کم "
                                    f"{fmt.num(pst.MIN_CLOSED)} فرصت برنده یا ازدست‌رفته برای هر مرحله).")
            return
        names = {s.id: s.name for s in pst.list_stages()}
        text = "\n".join(f"{names.get(sid, '')}: {fmt.num(p)}٪ ({fmt.num(w)} برد از "
                         f"{fmt.num(c)})" for sid, (p, w, c) in learned.items())
        if QMessageBox.question(self, "احتمال از سابقه", "احتمال هر مرحله بر پایه فرصت‌های بسته‌شده:\n\n" + text +
                                "\n\nبه‌عنوان احتمال پیش‌فرض مراحل ثبت شود؟") == QMessageBox.StandardButton.Yes:
            pst.apply_learned_probabilities()
            self._ok()
            self._fill_stages()

    # --- lost reasons ------------------------------------------------------------------------------------
    def _build_reasons(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.reasons = QListWidget()
        lay.addWidget(self.reasons)
        row = QHBoxLayout()
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("علت تازه، مثلاً «شرایط پرداخت»")
        add = QPushButton("افزودن")
        add.clicked.connect(self._add_reason)
        row.addWidget(self.reason_edit, 1)
        row.addWidget(add)
        lay.addLayout(row)
        self.tabs.addTab(w, "علت‌های شکست")
        self._fill_reasons()

    def _fill_reasons(self) -> None:
        self.reasons.clear()
        for _rid, name in pst.lost_reasons():
            self.reasons.addItem(name)

    def _add_reason(self) -> None:
        try:
            pst.save_lost_reason(self.reason_edit.text())
        except UserError as e:
            self._fail(e)
            return
        self.reason_edit.clear()
        self._ok()
        self._fill_reasons()

    # --- competitors -------------------------------------------------------------------------------------
    def _build_competitors(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.comp_table = QTableWidget(0, 5)
        self.comp_table.setHorizontalHeaderLabels(["نام رقیب", "وب‌سایت", "نقاط قوت", "نقاط ضعف", "فرصت‌ها"])
        self.comp_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.comp_table.verticalHeader().hide()
        lay.addWidget(self.comp_table)
        lay.addLayout(button_row([("رقیب جدید", self._add_competitor), ("ذخیره رقبا", self.save_competitors)]))
        self.tabs.addTab(w, "رقبا")
        self._fill_competitors()

    def _fill_competitors(self) -> None:
        self.comp_table.setRowCount(0)
        for c in pc.list_competitors():
            self._competitor_row(c.id, c.name, c.website, c.strengths, c.weaknesses, c.deals)

    def _competitor_row(self, cid, name, website, strengths, weaknesses, deals) -> None:
        append_row(self.comp_table, [name, website, strengths, weaknesses, fmt.num(deals)], read_only={4},
                   key=cid)

    def _add_competitor(self) -> None:
        self._competitor_row(None, "", "", "", "", 0)
        self.comp_table.editItem(self.comp_table.item(self.comp_table.rowCount() - 1, 0))

    def save_competitors(self) -> bool:
        t = self.comp_table
        try:
            for r in range(t.rowCount()):
                name = cell_text(t, r, 0).strip()
                if not name and row_key(t, r) is None:
                    continue
                pc.save_competitor({"name": name, "website": cell_text(t, r, 1), "strengths": cell_text(t, r, 2),
                                    "weaknesses": cell_text(t, r, 3)}, row_key(t, r))
        except UserError as e:
            self._fail(e)
            return False
        self._ok()
        self._fill_competitors()
        return True

    # --- targets -----------------------------------------------------------------------------------------
    def _build_targets(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addWidget(QLabel("سال:"))
        self.year = QSpinBox()
        self.year.setRange(1390, 1500)
        self.year.setValue(jalali.to_jalali(today()).year)
        self.year.valueChanged.connect(self._fill_targets)
        row.addWidget(self.year)
        row.addStretch(1)
        save = QPushButton("ذخیره اهداف")
        save.clicked.connect(self.save_targets)
        row.addWidget(save)
        lay.addLayout(row)
        self.target_table = QTableWidget(0, 12)
        self.target_table.setHorizontalHeaderLabels([jalali.month_name(m) for m in range(1, 13)])
        self.target_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.target_table)
        hint = QLabel("هدف فروش ماهانه هر کارشناس به ریال (خالی یعنی بدون هدف).")
        hint.setProperty("role", "muted")
        lay.addWidget(hint)
        self.tabs.addTab(w, "اهداف فروش")
        self._fill_targets()

    def _fill_targets(self) -> None:
        from app.office.users import list_users

        self.target_users = [(u.id, u.name) for u in list_users()]
        t = self.target_table
        t.setRowCount(len(self.target_users))
        t.setVerticalHeaderLabels([name for _id, name in self.target_users])
        have = pr.targets_of(self.year.value())
        for i, (uid, _name) in enumerate(self.target_users):
            for m in range(1, 13):
                v = have.get((uid, m))
                t.setItem(i, m - 1, QTableWidgetItem(fmt.num(v) if v else ""))

    def save_targets(self) -> bool:
        t = self.target_table
        year = self.year.value()
        try:
            for i, (uid, _name) in enumerate(self.target_users):
                for m in range(1, 13):
                    it = t.item(i, m - 1)
                    text = it.text().strip() if it else ""
                    amount = parse_int(text) if text else 0
                    if amount is None:
                        raise ValidationError({"amount": f"هدف {jalali.month_name(m)} برای «{_name}» عدد نیست."})
                    pr.set_target(uid, year, m, amount)
        except UserError as e:
            self._fail(e)
            return False
        self._ok()
        return True
