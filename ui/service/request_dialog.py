"""«درخواست خدمت»: a new request (from a call, a visit, an SMS, an e-mail) or an existing one with its thread —
replies to the customer, internal notes, status, hand-over, the satisfaction survey and attached documents."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.errors import UserError, ValidationError
from app.service import kpi
from app.service import requests as rq
from app.tasks import service as ts
from ui.context import AppContext
from ui.tasks.task_dialog import CustomerPicker
from ui.widgets.forms import error_label

logger = logging.getLogger(__name__)

ENTRY_COLOURS = {"reply": "#1d4ed8", "note": "#92400e", "status": "#374151", "assign": "#6d28d9",
                 "survey": "#047857"}


def _esc(s: str) -> str:
    return fmt.text_digits(s or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


class RequestDialog(QDialog):
    saved = Signal(int)

    def __init__(self, ctx: AppContext, request_id: int | None = None, customer_id: int | None = None,
                 call_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.request_id = request_id
        self.call_id = call_id
        self.view: rq.RequestView | None = None
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.setWindowTitle("درخواست خدمت")
        self.resize(980, 680)
        self._build(customer_id)
        if request_id:
            self.load()
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)

    # --- layout ------------------------------------------------------------------------------------------------
    def _build(self, customer_id: int | None) -> None:
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("درخواست خدمت تازه")
        self.title.setStyleSheet("font-size: 14pt; font-weight: bold;")
        head.addWidget(self.title)
        self.badge = QLabel()
        head.addWidget(self.badge)
        head.addStretch(1)
        outer.addLayout(head)
        self.sla_label = QLabel()
        self.sla_label.setProperty("role", "muted")
        outer.addWidget(self.sla_label)

        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split, 1)
        form_box = QWidget()
        form = QFormLayout(form_box)
        self.customer = CustomerPicker(customer_id)
        self.customer.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        form.addRow("مشتری:", self.customer)
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("مثلاً: پمپ آب صدا می‌دهد")
        form.addRow("موضوع:", self.subject)
        self.category = QComboBox()
        self.category.addItem("بدون دسته", None)
        for c in rq.list_categories():
            self.category.addItem(c.name + (" (شکایت)" if c.is_complaint else ""), c.id)
        form.addRow("دسته:", self.category)
        self.priority = QComboBox()
        for k, label in rq.PRIORITY_LABELS.items():
            self.priority.addItem(label, k)
        self.priority.setCurrentIndex(1)
        form.addRow("اولویت:", self.priority)
        self.channel = QComboBox()
        for k, label in rq.CHANNEL_LABELS.items():
            self.channel.addItem(label, k)
        form.addRow("راه دریافت:", self.channel)
        self.assignee = QComboBox()
        self.assignee.addItem("طبق قاعده دفتر", None)
        for uid, name in ts.users():
            self.assignee.addItem(name, uid)
        form.addRow("مسئول:", self.assignee)
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("شماره سریال کالا (اختیاری)")
        form.addRow("سریال:", self.serial)
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("شرح مشکل به گفته مشتری")
        self.description.setMaximumHeight(110)
        form.addRow("شرح:", self.description)
        self.error = error_label(self)
        form.addRow(self.error)
        self.save_button = QPushButton("ثبت درخواست")
        self.save_button.setToolTip("Ctrl+Enter")
        self.save_button.clicked.connect(self.save)
        form.addRow(self.save_button)
        split.addWidget(form_box)

        self.tabs = QTabWidget()
        thread = QWidget()
        tl = QVBoxLayout(thread)
        self.thread = QTextBrowser()
        self.thread.setOpenLinks(False)
        tl.addWidget(self.thread, 1)
        self.reply_text = QPlainTextEdit()
        self.reply_text.setPlaceholderText("پاسخ به مشتری یا یادداشت داخلی…")
        self.reply_text.setMaximumHeight(80)
        tl.addWidget(self.reply_text)
        row = QHBoxLayout()
        self.reply_button = QPushButton("ثبت پاسخ به مشتری")
        self.note_button = QPushButton("یادداشت داخلی")
        row.addWidget(self.reply_button)
        row.addWidget(self.note_button)
        row.addStretch(1)
        row.addWidget(QLabel("وضعیت:"))
        self.status = QComboBox()
        for k, label in rq.status_labels().items():
            self.status.addItem(label, k)
        row.addWidget(self.status)
        self.status_button = QPushButton("تغییر وضعیت")
        row.addWidget(self.status_button)
        tl.addLayout(row)
        self.survey_box = QGroupBox("نظرسنجی پس از انجام")
        sl = QHBoxLayout(self.survey_box)
        sl.addWidget(QLabel("رضایت (۱ تا ۵):"))
        self.score = QSpinBox()
        self.score.setRange(1, 5)
        self.score.setValue(5)
        sl.addWidget(self.score)
        self.survey_comment = QLineEdit()
        self.survey_comment.setPlaceholderText("نظر مشتری")
        sl.addWidget(self.survey_comment, 1)
        self.survey_button = QPushButton("ثبت نظر")
        sl.addWidget(self.survey_button)
        tl.addWidget(self.survey_box)
        self.tabs.addTab(thread, "گفت‌وگو و پیگیری")
        self.docs_holder = QWidget()
        QVBoxLayout(self.docs_holder)
        self.tabs.addTab(self.docs_holder, "اسناد")
        split.addWidget(self.tabs)
        split.setSizes([400, 580])
        self.docs = None

        self.reply_button.clicked.connect(lambda: self._thread_action("reply"))
        self.note_button.clicked.connect(lambda: self._thread_action("note"))
        self.status_button.clicked.connect(self.change_status)
        self.survey_button.clicked.connect(self.record_survey)
        self._enable_thread(False)

    def _enable_thread(self, on: bool) -> None:
        for w in (self.reply_text, self.reply_button, self.note_button, self.status, self.status_button):
            w.setEnabled(on)
        self.tabs.setTabEnabled(1, on)
        self.survey_box.setEnabled(bool(self.view and self.view.status in rq.RESOLVED))

    # --- data --------------------------------------------------------------------------------------------------
    def _select(self, combo: QComboBox, value) -> None:
        i = combo.findData(value)
        combo.setCurrentIndex(max(i, 0))

    def load(self) -> None:
        v = self.view = rq.request_view(self.request_id)
        self.setWindowTitle(f"درخواست خدمت {v.number}")
        self.title.setText(f"{fmt.ltr(v.number)} — {v.subject}")
        colour = "#fee2e2;color:#991b1b" if v.overdue else "#e0e7ff;color:#3730a3"
        self.badge.setText(v.status_label + (" — گذشته از موعد" if v.overdue else ""))
        self.badge.setStyleSheet(f"QLabel {{ background:{colour}; border-radius: 8px; padding: 2px 8px; }}")
        parts = [f"دریافت: {fmt.datetime(v.received_at)} ({rq.CHANNEL_LABELS.get(v.channel, v.channel)})"]
        if v.due_at:
            parts.append(f"موعد انجام: {fmt.datetime(v.due_at)}")
        if v.first_response_at:
            parts.append(f"نخستین پاسخ: {fmt.datetime(v.first_response_at)}")
        elif v.response_due_at:
            parts.append(f"مهلت نخستین پاسخ: {fmt.datetime(v.response_due_at)}")
        if v.resolved_at:
            parts.append(f"انجام: {fmt.datetime(v.resolved_at)} ({'در مهلت' if v.sla_met else 'دیرتر از مهلت'})")
        self.sla_label.setText("   •   ".join(parts))
        self.customer.set_customer(v.customer_id, v.customer_name)
        self.subject.setText(v.subject)
        self.description.setPlainText(v.description)
        self._select(self.category, v.category_id)
        self._select(self.priority, v.priority)
        self._select(self.channel, v.channel)
        self._select(self.assignee, v.assignee_id)
        self._select(self.status, v.status)
        self.serial.setText(v.serial)
        self.save_button.setText("ذخیره تغییرات")
        if v.satisfaction:
            self.score.setValue(v.satisfaction)
            self.survey_comment.setText(v.satisfaction_comment)
        self._fill_thread(v)
        if self.docs is None:
            from ui.documents import DocumentsPanel

            self.docs = DocumentsPanel(self.ctx, "request", v.id, customer_id=None)
            self.docs.customer_id = v.customer_id
            self.docs_holder.layout().addWidget(self.docs)
        self._enable_thread(True)

    def _fill_thread(self, v: rq.RequestView) -> None:
        labels = rq.status_labels()
        html = []
        for e in v.entries:
            colour = ENTRY_COLOURS.get(e.kind, "#374151")
            if e.kind == "status":
                to = labels.get(e.data.get("to", ""), "")
                text = f"وضعیت: {to}" + (f" — {_esc(e.body)}" if e.body else "")
            elif e.kind == "assign":
                who = ts.user_name(e.data.get("to"))
                text = f"ارجاع به {who}" + (f": {_esc(e.body)}" if e.body else "")
            elif e.kind == "survey":
                text = f"رضایت مشتری: {fmt.num(e.data.get('score', 0))} از ۵" + (f" — {_esc(e.body)}" if e.body else "")
            else:
                text = _esc(e.body)
            html.append(f"<p style='margin:4px 0'><b style='color:{colour}'>{e.label}</b> "
                        f"<span style='color:#6b7280'>{fmt.datetime(e.at)} {_esc(e.user_name)}</span><br>{text}</p>")
        if v.first_response_at and v.resolved_at is None:
            mins = kpi.minutes_text((v.first_response_at - v.received_at).total_seconds() / 60)
            html.append(f"<p style='color:#6b7280'>نخستین پاسخ پس از {mins}</p>")
        self.thread.setHtml("".join(html))

    def data(self) -> dict:
        return {"customer_id": self.customer.customer_id(), "subject": self.subject.text(),
                "description": self.description.toPlainText(), "category_id": self.category.currentData(),
                "priority": self.priority.currentData(), "channel": self.channel.currentData(),
                "assignee_id": self.assignee.currentData(), "serial": self.serial.text(),
                **({"call_id": self.call_id} if self.call_id and not self.request_id else {})}

    def save(self) -> bool:
        self.error.hide()
        try:
            if self.request_id:
                rq.update_request(self.request_id, self.data(), user=self.ctx.user_id)
            else:
                r = rq.create_request(self.data(), user=self.ctx.user_id)
                self.request_id = r.id
        except ValidationError as e:
            self.error.setText("\n".join(e.errors.values()))
            self.error.show()
            return False
        except UserError as e:
            self.error.setText(e.message)
            self.error.show()
            return False
        self.load()
        self.saved.emit(self.request_id)
        self.ctx.bus.data_changed.emit("service")
        return True

    def _thread_action(self, kind: str) -> bool:
        text = self.reply_text.toPlainText()
        try:
            (rq.reply if kind == "reply" else rq.add_note)(self.request_id, text, self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "درخواست خدمت", e.message)
            return False
        self.reply_text.clear()
        self.load()
        self.ctx.bus.data_changed.emit("service")
        return True

    def change_status(self) -> bool:
        try:
            rq.set_status(self.request_id, self.status.currentData(), self.ctx.user_id,
                          note=self.reply_text.toPlainText())
        except UserError as e:
            QMessageBox.warning(self, "درخواست خدمت", e.message)
            return False
        self.reply_text.clear()
        self.load()
        self.ctx.bus.data_changed.emit("service")
        return True

    def record_survey(self) -> bool:
        try:
            rq.record_survey(self.request_id, self.score.value(), self.survey_comment.text(), self.ctx.user_id)
        except UserError as e:
            QMessageBox.warning(self, "نظرسنجی", e.message)
            return False
        self.load()
        self.ctx.bus.data_changed.emit("service")
        return True


def open_request_dialog(ctx: AppContext, request_id: int | None = None, customer_id: int | None = None,
                        call_id: int | None = None, parent=None) -> RequestDialog:
    dlg = RequestDialog(ctx, request_id, customer_id=customer_id, call_id=call_id, parent=parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
