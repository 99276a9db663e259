"""The opportunity dialog (فرصت فروش): details, products of interest, competitors, stage history, linked
proformas/invoices; buttons to save, mark won, mark lost. And the small lost-reason dialog the board's drop
opens."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.core.text import parse_int
from app.pipeline import competitors as pc
from app.pipeline import opportunities as ops
from app.pipeline import stages as pst
from ui.context import AppContext
from ui.widgets.forms import error_label, error_text
from ui.widgets.table_rows import append_row, button_row, cell_text, remove_current_row

logger = logging.getLogger(__name__)


class LostReasonDialog(QDialog):
    """Why was the deal lost? A reason from the office's list (required) and a note."""

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("علت از دست رفتن فرصت")
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        lay = QVBoxLayout(self)
        if title:
            head = QLabel(f"فرصت «{title}» از دست رفت. چرا؟")
            head.setWordWrap(True)
            lay.addWidget(head)
        form = QFormLayout()
        self.reason = QComboBox()
        self.reason.addItem("— انتخاب کنید —", None)
        for rid, name in pst.lost_reasons():
            self.reason.addItem(name, rid)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("توضیح (مثلاً: رقیب ۱۵٪ ارزان‌تر داد)")
        self.note.setMaximumHeight(80)
        form.addRow("علت", self.reason)
        form.addRow("توضیح", self.note)
        lay.addLayout(form)
        self.error = error_label(self)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("ثبت", QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        ok.clicked.connect(self._ok)
        cancel.clicked.connect(self.reject)
        lay.addWidget(buttons)

    def _ok(self) -> None:
        if self.reason.currentData() is None:
            self.error.setText("علت از دست رفتن فرصت را انتخاب کنید.")
            self.error.show()
            return
        self.accept()

    def answer(self) -> tuple[int, str] | None:
        rid = self.reason.currentData()
        return (rid, self.note.toPlainText().strip()) if rid else None


def ask_lost_reason(parent, title: str) -> tuple[int, str] | None:
    dlg = LostReasonDialog(title, parent)
    return dlg.answer() if dlg.exec() == QDialog.DialogCode.Accepted else None


def _money_text(v: int | None) -> str:
    return fmt.num(v) if v else ""


class OpportunityDialog(QDialog):
    saved = Signal(int)

    def __init__(self, ctx: AppContext, opp_id: int | None = None, customer_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.opp_id = opp_id
        self.data: dict = {}
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.setWindowTitle("فرصت فروش جدید" if opp_id is None else "فرصت فروش")
        self.resize(760, 600)
        self._build()
        if opp_id is not None:
            self.load(opp_id)
        else:
            self._on_stage()
            if customer_id:
                self.customer.set_customer(customer_id)
            if ctx.user_id:
                self._select(self.owner, ctx.user_id)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.save)

    # --- building -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        from ui.tasks.task_dialog import CustomerPicker
        from ui.widgets.jalali_date_edit import JalaliDateEdit

        lay = QVBoxLayout(self)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.hide()
        lay.addWidget(self.status_label)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)

        main = QWidget()
        form = QFormLayout(main)
        self.customer = CustomerPicker(None, main)
        self.title = QLineEdit()
        self.title.setPlaceholderText("مثلاً: سیم‌کشی ساختمان اداری")
        self.stage = QComboBox()
        for s in pst.list_stages():
            if s.is_open or self.opp_id is not None:
                self.stage.addItem(s.name, s.id)
        self.value = QLineEdit()
        self.value.setPlaceholderText("ریال")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute)
        self.value_words = QLabel()
        self.value_words.setProperty("role", "muted")
        prob_row = QHBoxLayout()
        self.probability = QSpinBox()
        self.probability.setRange(0, 100)
        self.probability.setSuffix("٪")
        self.auto_probability = QCheckBox("از مرحله")
        self.auto_probability.setChecked(True)
        self.auto_probability.setToolTip("احتمال پیش‌فرض مرحله؛ برای نوشتن احتمال دیگر، تیک را بردارید.")
        prob_row.addWidget(self.probability)
        prob_row.addWidget(self.auto_probability)
        prob_row.addStretch(1)
        self.close_date = JalaliDateEdit(main)
        self.owner = QComboBox()
        self.owner.addItem("—", None)
        from app.office.users import list_users

        for u in list_users():
            self.owner.addItem(u.name, u.id)
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItem("")
        for s in settings.csv_list(options.CUSTOMERS_SOURCES):
            self.source.addItem(s)
        self.campaign = QLineEdit()
        self.campaign.setPlaceholderText("مثلاً: نمایشگاه ساختمان ۱۴۰۵")
        step_row = QHBoxLayout()
        self.next_step = QLineEdit()
        self.next_step.setPlaceholderText("مثلاً: ارسال نمونه کار")
        self.next_step_date = JalaliDateEdit(main)
        step_row.addWidget(self.next_step, 2)
        step_row.addWidget(QLabel("تاریخ"))
        step_row.addWidget(self.next_step_date, 1)
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(90)
        form.addRow("مشتری یا سرنخ", self.customer)
        form.addRow("عنوان", self.title)
        form.addRow("مرحله", self.stage)
        form.addRow("ارزش مورد انتظار (ریال)", self.value)
        form.addRow("", self.value_words)
        form.addRow("احتمال موفقیت", prob_row)
        form.addRow("تاریخ بستن (پیش‌بینی)", self.close_date)
        form.addRow("کارشناس", self.owner)
        form.addRow("منبع", self.source)
        form.addRow("کمپین / شروع ارتباط", self.campaign)
        form.addRow("گام بعدی", step_row)
        form.addRow("یادداشت", self.notes)
        self.tabs.addTab(main, "مشخصات")

        # lines
        lines = QWidget()
        ll = QVBoxLayout(lines)
        self.lines = QTableWidget(0, 4)
        self.lines.setHorizontalHeaderLabels(["کالا یا خدمت", "تعداد", "بهای واحد (ریال)", "مبلغ (ریال)"])
        lh = self.lines.horizontalHeader()
        lh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            lh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.lines.verticalHeader().hide()
        self.lines.itemChanged.connect(self._line_changed)
        ll.addWidget(self.lines)
        self.lines_total = QLabel()
        ll.addLayout(button_row([("افزودن ردیف", self._add_line), ("حذف ردیف", self._remove_line)],
                                self.lines_total))
        self.tabs.addTab(lines, "کالا و خدمات")

        # competitors
        comp = QWidget()
        cl = QVBoxLayout(comp)
        self.competitors = QTableWidget(0, 4)
        self.competitors.setHorizontalHeaderLabels(["رقیب", "قیمت پیشنهادی (ریال)", "نقاط قوت", "توضیح"])
        ch = self.competitors.horizontalHeader()
        ch.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        ch.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        ch.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.competitors.setColumnWidth(0, 180)
        self.competitors.verticalHeader().hide()
        cl.addWidget(self.competitors)
        cl.addLayout(button_row([("افزودن رقیب", self._add_competitor),
                                 ("حذف رقیب", lambda: remove_current_row(self.competitors))]))
        self.tabs.addTab(comp, "رقبا")

        # history
        self.history = QTableWidget(0, 6)
        self.history.setHorizontalHeaderLabels(["زمان", "از مرحله", "به مرحله", "کاربر", "احتمال", "روز در مرحله"])
        self.history.verticalHeader().hide()
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.tabs.addTab(self.history, "تاریخچه مراحل")

        # documents
        docs = QWidget()
        dl = QVBoxLayout(docs)
        self.documents = QListWidget()
        dl.addWidget(self.documents)
        db_ = QHBoxLayout()
        self.link_combo = QComboBox()
        self.link_button = QPushButton("وصل کردن سند")
        self.proforma_button = QPushButton("پیش‌فاکتور از این فرصت")
        self.link_button.clicked.connect(self._link)
        self.proforma_button.clicked.connect(self._proforma)
        db_.addWidget(self.link_combo, 1)
        db_.addWidget(self.link_button)
        db_.addWidget(self.proforma_button)
        dl.addLayout(db_)
        self.tabs.addTab(docs, "پیش‌فاکتور و فاکتور")

        self.error = error_label(self)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("ذخیره", QDialogButtonBox.ButtonRole.AcceptRole)
        self.won_button = buttons.addButton("برنده شد", QDialogButtonBox.ButtonRole.ActionRole)
        self.lost_button = buttons.addButton("از دست رفت", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.setToolTip("Ctrl+Enter")
        self.save_button.clicked.connect(self.save)
        self.won_button.clicked.connect(self.mark_won)
        self.lost_button.clicked.connect(self.mark_lost)
        self.cancel_button.clicked.connect(self.reject)
        lay.addWidget(buttons)
        self.stage.currentIndexChanged.connect(self._on_stage)
        self.auto_probability.toggled.connect(self._on_stage)
        self.value.textEdited.connect(self._value_edited)
        self.won_button.setVisible(self.opp_id is not None)
        self.lost_button.setVisible(self.opp_id is not None)
        self.tabs.setTabEnabled(4, self.opp_id is not None)
        self.tabs.setTabEnabled(3, self.opp_id is not None)

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def _on_stage(self, *_a) -> None:
        self.probability.setEnabled(not self.auto_probability.isChecked())
        if self.auto_probability.isChecked():
            sid = self.stage.currentData()
            if sid:
                self.probability.setValue(pst.get_stage(sid).probability)

    def _value_edited(self, text: str) -> None:
        from app.core.words import amount_in_words

        v = parse_int(text)
        try:
            words = amount_in_words(v) if v else ""
        except (ValueError, OverflowError):
            words = ""
        self.value_words.setText(words)

    def _add_line(self, desc: str = "", qty="1", price: int | None = None) -> None:
        self.lines.blockSignals(True)
        append_row(self.lines, [desc, str(qty), _money_text(price), ""], read_only={3})
        self.lines.blockSignals(False)
        self._line_changed()

    def _remove_line(self) -> None:
        remove_current_row(self.lines)
        self._line_changed()

    def _line_rows(self) -> list[dict]:
        out = []
        for r in range(self.lines.rowCount()):
            cells = [cell_text(self.lines, r, c) for c in range(3)]
            if not any(x.strip() for x in cells):
                continue
            out.append({"description": cells[0], "quantity": cells[1] or "1", "unit_price": cells[2] or "0"})
        return out

    def _line_changed(self, *_a) -> None:
        from app.sales.totals import parse_quantity

        total = 0
        self.lines.blockSignals(True)
        for r in range(self.lines.rowCount()):
            q = parse_quantity(cell_text(self.lines, r, 1) or "1")
            p = parse_int(cell_text(self.lines, r, 2))
            amount = int(q * p) if q is not None and p is not None else 0
            total += amount
            it = self.lines.item(r, 3)
            if it is not None:
                it.setText(fmt.num(amount) if amount else "")
        self.lines.blockSignals(False)
        self.lines_total.setText(f"جمع: {fmt.num(total)} ریال" if total else "")

    def _add_competitor(self, name: str = "", price: int | None = None, strengths: str = "", notes: str = "") -> None:
        combo = QComboBox()
        combo.setEditable(True)
        combo.addItem("")
        for c in pc.list_competitors():
            combo.addItem(c.name)
        combo.setCurrentText(name)
        append_row(self.competitors, [combo, _money_text(price), strengths, notes])

    def _competitor_rows(self) -> list[dict]:
        out = []
        t = self.competitors
        for r in range(t.rowCount()):
            combo = t.cellWidget(r, 0)
            name = combo.currentText().strip() if isinstance(combo, QComboBox) else ""
            if name:
                out.append({"name": name, "price": cell_text(t, r, 1) or None, "strengths": cell_text(t, r, 2),
                            "notes": cell_text(t, r, 3)})
        return out

    # --- data ---------------------------------------------------------------------------------------------
    def load(self, opp_id: int) -> None:
        d = ops.get_opportunity(opp_id)
        self.data = d
        self.setWindowTitle(f"فرصت فروش — {d['title']}")
        self.customer.set_customer(d["customer_id"], d["customer_name"])
        self.title.setText(d["title"])
        if self.stage.findData(d["stage_id"]) < 0:
            self.stage.addItem(d["stage_name"], d["stage_id"])
        self.stage.blockSignals(True)
        self._select(self.stage, d["stage_id"])
        self.stage.blockSignals(False)
        self.value.setText(_money_text(d["value"]))
        self._value_edited(self.value.text())
        self.auto_probability.blockSignals(True)
        self.auto_probability.setChecked(not d["probability_manual"])
        self.auto_probability.blockSignals(False)
        self.probability.setValue(d["probability"])
        self.probability.setEnabled(d["probability_manual"])
        self.close_date.setDate(d["close_date"])
        self._select(self.owner, d["owner_id"])
        self.source.setCurrentText(d["source"])
        self.campaign.setText(d["campaign"])
        self.next_step.setText(d["next_step"])
        self.next_step_date.setDate(d["next_step_date"])
        self.notes.setPlainText(d["notes"])
        self.lines.setRowCount(0)
        for ln in d["lines"]:
            q = ln["quantity"]
            self._add_line(ln["description"], format(q.normalize(), "f") if hasattr(q, "normalize") else str(q),
                           ln["unit_price"])
        self.competitors.setRowCount(0)
        for c in d["competitors"]:
            self._add_competitor(c["name"], c["price"], c["strengths"], c["notes"])
        self.history.setRowCount(0)
        for h in ops.history(opp_id):
            append_row(self.history, [fmt.datetime(h.at), h.from_stage or "—", h.to_stage,
                                      h.user_name or "—", fmt.num(h.probability) + "٪",
                                      fmt.num(round(h.days, 1))])
        self._fill_documents()
        closed = d["status"] != "open"
        if closed:
            label = ops.STATUS_LABELS[d["status"]]
            text = f"این فرصت در {fmt.date(d['closed_at'])} «{label}» بسته شد"
            if d["lost_reason"]:
                text += f" — علت: {d['lost_reason']}"
            if d["close_note"]:
                text += f" ({d['close_note']})"
            text += ". برای بازکردن دوباره، مرحله‌ای باز انتخاب کنید."
            colour = "#dcfce7; color: #166534" if d["status"] == "won" else "#fee2e2; color: #991b1b"
            self.status_label.setStyleSheet(f"QLabel {{ background: {colour}; padding: 6px; border-radius: 4px; }}")
            self.status_label.setText(text)
            self.status_label.show()
        self.won_button.setEnabled(not closed)
        self.lost_button.setEnabled(not closed)

    def _fill_documents(self) -> None:
        self.documents.clear()
        linked = set()
        if self.opp_id is None:
            return
        for doc in ops.documents(self.opp_id):
            linked.add(doc.id)
            item = QListWidgetItem(doc.label)
            item.setData(Qt.ItemDataRole.UserRole, doc.id)
            self.documents.addItem(item)
        if not linked:
            item = QListWidgetItem("هنوز پیش‌فاکتور یا فاکتوری به این فرصت وصل نشده است.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.documents.addItem(item)
        self.link_combo.clear()
        for doc in ops.customer_documents(self.data.get("customer_id") or 0):
            if doc.id not in linked:
                self.link_combo.addItem(doc.label, doc.id)
        self.link_button.setEnabled(self.link_combo.count() > 0)

    def form_data(self) -> dict:
        manual = not self.auto_probability.isChecked()
        return {"customer_id": self.customer.customer_id(), "title": self.title.text(),
                "stage_id": self.stage.currentData(), "value": self.value.text() or None,
                "probability": self.probability.value() if manual else None,
                "close_date": self.close_date.value(), "owner_id": self.owner.currentData(),
                "source": self.source.currentText(), "campaign": self.campaign.text(),
                "next_step": self.next_step.text(), "next_step_date": self.next_step_date.value(),
                "notes": self.notes.toPlainText(), "lines": self._line_rows(),
                "competitors": self._competitor_rows()}

    def _show(self, e: UserError) -> None:
        self.error.setText(error_text(e))
        self.error.show()

    def save(self) -> bool:
        for w in (self.close_date, self.next_step_date):
            if not w.is_valid():
                self._show(UserError(w.error() or "تاریخ درست نیست."))
                return False
        data = self.form_data()
        try:
            if self.opp_id is None:
                opp = ops.create_opportunity(data, user=self.ctx.user_id)
                self.opp_id = opp.id
            else:
                sid = data["stage_id"]
                if sid != self.data.get("stage_id") and pst.get_stage(sid).is_lost:
                    answer = ask_lost_reason(self, data["title"])
                    if answer is None:
                        return False
                    data["lost_reason_id"], data["close_note"] = answer
                ops.update_opportunity(self.opp_id, data, user=self.ctx.user_id)
        except UserError as e:
            self._show(e)
            return False
        self._changed()
        self.accept()
        return True

    def _changed(self) -> None:
        self.saved.emit(self.opp_id or 0)
        self.ctx.bus.data_changed.emit("opportunities")
        if self.customer.customer_id():
            self.ctx.bus.customer_changed.emit(self.customer.customer_id())

    def mark_won(self) -> bool:
        if not self.save_quietly():
            return False
        try:
            ops.mark_won(self.opp_id, user=self.ctx.user_id)
        except UserError as e:
            self._show(e)
            return False
        self._changed()
        self.accept()
        return True

    def mark_lost(self, answer: tuple[int, str] | None = None) -> bool:
        if not self.save_quietly():
            return False
        answer = answer or ask_lost_reason(self, self.title.text())
        if answer is None:
            return False
        try:
            ops.mark_lost(self.opp_id, answer[0], user=self.ctx.user_id, note=answer[1])
        except UserError as e:
            self._show(e)
            return False
        self._changed()
        self.accept()
        return True

    def save_quietly(self) -> bool:
        data = self.form_data()
        data.pop("stage_id", None)
        try:
            ops.update_opportunity(self.opp_id, data, user=self.ctx.user_id)
        except UserError as e:
            self._show(e)
            return False
        return True

    def _link(self) -> None:
        did = self.link_combo.currentData()
        if did is None or self.opp_id is None:
            return
        try:
            ops.link_document(self.opp_id, did, user=self.ctx.user_id)
        except UserError as e:
            self._show(e)
            return
        self._fill_documents()

    def _proforma(self) -> None:
        if self.opp_id is None:
            return
        try:
            doc = ops.create_proforma(self.opp_id, user=self.ctx.user_id)
        except UserError as e:
            self._show(e)
            return
        self.ctx.bus.data_changed.emit("invoices")
        self._fill_documents()
        QMessageBox.information(self, "پیش‌فاکتور", f"پیش‌فاکتور {doc.number} ساخته شد و به این فرصت وصل شد.")


def open_opportunity(ctx: AppContext, opp_id: int | None = None, customer_id: int | None = None,
                     parent=None) -> OpportunityDialog:
    dlg = OpportunityDialog(ctx, opp_id, customer_id, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
