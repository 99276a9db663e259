"""The «پیامک» section: group send, one message, templates, and the outbox (صف ارسال) — every message with its
state, filtered; failed, waiting and uncertain ones can be sent again or marked (app/sms/outbox.py keeps a
number from getting the same message twice; an uncertain one is sent again only after the person agrees)."""
from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError
from app.sms import config, email, outbox
from ui.context import AppContext
from ui.ops import QueryOp, error_text
from ui.sms.outbox_model import OutboxModel
from ui.widgets.lazy_table import LazyTableView

logger = logging.getLogger(__name__)

SEARCH_DELAY_MS = 250
UNCERTAIN_QUESTION = ("{n} پیام «نامعلوم» است: ارسالش در میانه قطع شد و شاید به گیرنده رسیده باشد.\n"
                      "پیش از ارسال دوباره، گزارش ارسال پنل پیامک را ببینید؛ اگر آنجا هست، «رسیده است» را بزنید.\n\n"
                      "با این حال دوباره فرستاده شود؟")


class TemplatesDialog(QDialog):
    """The office's message templates: write one with its merge fields and live preview, and save it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from ui.sms.template_editor import TemplateEditor

        self.setWindowTitle("الگوهای پیام")
        self.resize(1000, 460)
        lay = QVBoxLayout(self)
        self.editor = TemplateEditor(self, sample={"نام": "آقای علی رضایی"})
        lay.addWidget(self.editor, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        close = QPushButton("بستن")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)


class SmsPage(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.op: QueryOp | None = None
        self.last_report: outbox.ResendReport | None = None
        self.dialogs: list[QWidget] = []
        self._announcing = False
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("پیامک")
        title.setProperty("role", "title")
        top.addWidget(title)
        top.addStretch(1)
        self.group_btn = QPushButton("ارسال گروهی پیامک…")
        self.single_btn = QPushButton("پیامک تکی…")
        self.templates_btn = QPushButton("الگوهای پیام…")
        for b in (self.group_btn, self.single_btn, self.templates_btn):
            top.addWidget(b)
        lay.addLayout(top)
        self.auto_label = QLabel()
        self.auto_label.setWordWrap(True)
        self.auto_label.setProperty("role", "muted")
        lay.addWidget(self.auto_label)

        heading = QLabel("صف ارسال")
        heading.setProperty("role", "heading")
        lay.addWidget(heading)
        bar = QHBoxLayout()
        self.state = QComboBox()
        for key, (label, _states) in outbox.STATE_FILTERS.items():
            self.state.addItem(label, key)
        self.channel = QComboBox()
        self.channel.addItem("پیامک و ایمیل", "")
        for key, label in outbox.CHANNELS.items():
            self.channel.addItem(label, key)
        self.period = QComboBox()
        for key, (label, _days) in outbox.PERIODS.items():
            self.period.addItem(label, key)
        self.period.setCurrentIndex(self.period.findData("month"))
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجو: شماره همراه، نشانی ایمیل، نام مشتری یا متن پیام")
        self.search.setClearButtonEnabled(True)
        self.reload_btn = QPushButton("بازخوانی")
        bar.addWidget(QLabel("وضعیت:"))
        bar.addWidget(self.state)
        bar.addWidget(self.channel)
        bar.addWidget(QLabel("زمان:"))
        bar.addWidget(self.period)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.reload_btn)
        lay.addLayout(bar)

        self.model = OutboxModel(self)
        self.view = LazyTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(28)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((125, 130, 115, 0, 100, 120, 200)):
            if width:
                self.view.setColumnWidth(col, width)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)          # the text takes the room left
        lay.addWidget(self.view, 1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(self.details.fontMetrics().lineSpacing() * 3 + 6)   # the text and its error
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.details)

        actions = QHBoxLayout()
        self.resend_btn = QPushButton("ارسال دوباره")
        self.mark_sent_btn = QPushButton("رسیده است")
        self.mark_sent_btn.setToolTip("پیام نامعلومی که در گزارش پنل پیامک فرستاده شده است: دیگر فرستاده نمی‌شود")
        self.dismiss_btn = QPushButton("کنار گذاشتن")
        self.dismiss_btn.setToolTip("این پیام فرستاده نشود")
        for b in (self.resend_btn, self.mark_sent_btn, self.dismiss_btn):
            actions.addWidget(b)
        self.status = QLabel()
        self.status.setWordWrap(True)
        actions.addWidget(self.status, 1)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
        actions.addWidget(self.count_label)
        lay.addLayout(actions)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.state.currentIndexChanged.connect(lambda _i: self.reload())
        self.period.currentIndexChanged.connect(lambda _i: self.reload())
        self.channel.currentIndexChanged.connect(lambda _i: self.reload())
        self.reload_btn.clicked.connect(self.reload)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.view.doubleClicked.connect(lambda idx: self.open_customer(idx.row()))
        self.group_btn.clicked.connect(self.open_group_send)
        self.single_btn.clicked.connect(self.open_single_send)
        self.templates_btn.clicked.connect(self.open_templates)
        self.resend_btn.clicked.connect(self.resend)
        self.mark_sent_btn.clicked.connect(self.mark_sent)
        self.dismiss_btn.clicked.connect(self.dismiss)
        ctx.bus.data_changed.connect(self._on_data_changed)
        auto = getattr(ctx.main_window, "sms_auto", None)
        if auto is not None:
            auto.ran.connect(lambda _r: (self.reload(), self.show_auto_state()))
        self.show_auto_state()
        self.reload()

    # --- the list -------------------------------------------------------------------------------------------
    def current_filter(self) -> outbox.OutboxFilter:
        return outbox.OutboxFilter(state=self.state.currentData() or "", period=self.period.currentData() or "all",
                                   text=self.search.text(), channel=self.channel.currentData() or "")

    def reload(self) -> None:
        self._timer.stop()
        try:
            email.settle_interrupted()          # emails a crash left "sending" are shown as uncertain
        except UserError as e:                  # a locked database: the list is read anyway, settled next time
            logger.warning("outbox: interrupted emails not settled: %s", e)
        f = self.current_filter()
        n = outbox.counts(f)
        self.model.search(f, total=outbox.total(f, n))
        parts = [fmt.count(self.model.total, "پیام")]
        for state, label in (("failed", "ناموفق"), ("uncertain", "نامعلوم"), ("queued", "در صف")):
            if n.get(state):
                parts.append(f"{label}: {fmt.num(n[state])}")
        self.count_label.setText("؛ ".join(parts))
        self._selection_changed()

    def selected_rows(self) -> list[outbox.Row]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [r for r in (self.model.row(i) for i in rows) if r is not None]

    def select_rows(self, rows: list[int]) -> None:
        sel = self.view.selectionModel()
        sel.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for r in rows:
            sel.select(self.model.index(r, 0), flags)

    def _selection_changed(self) -> None:
        rows = self.selected_rows()
        self.resend_btn.setEnabled(any(r.resendable for r in rows) and not self.busy)
        self.mark_sent_btn.setEnabled(any(r.state == "uncertain" for r in rows) and not self.busy)
        self.dismiss_btn.setEnabled(any(r.resendable for r in rows) and not self.busy)
        if len(rows) == 1:
            r = rows[0]
            text = f"{r.name or r.recipient_text}: {r.subject + ' — ' if r.subject else ''}{r.body}"
            if r.error:
                text += f"\n{r.error}"
            self.details.setText(text)
        else:
            self.details.setText(f"{fmt.count(len(rows), 'پیام')} انتخاب شده" if rows else "")

    def open_customer(self, row: int) -> None:
        """Double click: the recipient's customer file (when the number belongs to a customer)."""
        r = self.model.row(row)
        if r is not None and r.customer_id:
            self.ctx.bus.open_customer.emit(r.customer_id)

    @property
    def busy(self) -> bool:
        return self.op is not None and self.op.running

    def show_auto_state(self) -> None:
        kinds = config.auto_enabled()
        if not kinds:
            self.auto_label.setText("پیام‌های خودکار خاموش است؛ در «تنظیمات › پیامک» روشن می‌شود.")
            return
        start, end = settings.get(options.SMS_AUTO_WINDOW_START), settings.get(options.SMS_AUTO_WINDOW_END)
        names = "، ".join(options.SMS_AUTO_LABELS[k] for k in kinds)
        text = f"پیام‌های خودکار روشن: {names}؛ بازه ارسال {fmt.digits(start)} تا {fmt.digits(end)}"
        text += "" if settings.get(options.SMS_AUTO_FRIDAYS) else "، جز جمعه‌ها"
        auto = getattr(self.ctx.main_window, "sms_auto", None)
        if auto is not None and auto.last_error:
            text += f". آخرین اجرا: {auto.last_error}"
        elif auto is not None and auto.last_report is not None:
            text += f". آخرین اجرا: {fmt.digits(auto.last_report.describe())}"
            if auto.last_report.errors:
                text += f" ({auto.last_report.errors[-1]})"
        self.auto_label.setText(text + ("" if text.endswith(".") else "."))

    def _on_data_changed(self, what: str) -> None:
        if what == "settings":
            self.show_auto_state()
        if what in ("sms", "settings") and self.isVisible() and not self._announcing:
            self.reload()

    # --- sending ----------------------------------------------------------------------------------------------
    def _keep(self, w: QWidget) -> QWidget:
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [w]
        w.show()
        return w

    def open_group_send(self, preset=None) -> QWidget:
        from ui.sms.group_send import GroupSendDialog

        dlg = GroupSendDialog(self, preset=preset)
        dlg.finished.connect(lambda _r: self.reload())
        return self._keep(dlg)

    def open_single_send(self) -> QWidget:
        from ui.sms import send_sms_dialog

        dlg = send_sms_dialog(self)
        dlg.finished.connect(lambda _r: self.reload())
        return self._keep(dlg)

    def open_templates(self) -> QWidget:
        return self._keep(TemplatesDialog(self))

    # --- what a person does with a message that did not go ----------------------------------------------------
    def ask_uncertain(self, n: int) -> bool:
        """Ask before sending uncertain messages again (they may have reached the phone)."""
        box = QMessageBox(QMessageBox.Icon.Question, "ارسال دوباره", UNCERTAIN_QUESTION.format(n=fmt.num(n)),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.button(QMessageBox.StandardButton.Yes).setText("بله، دوباره بفرست")
        box.button(QMessageBox.StandardButton.No).setText("نه")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def resend(self) -> QueryOp | None:
        rows = [r for r in self.selected_rows() if r.resendable]
        if not rows or self.busy:
            return None
        unsure = sum(1 for r in rows if r.state == "uncertain")
        confirm = self.ask_uncertain(unsure) if unsure else False
        ids = [r.id for r in rows if confirm or r.state != "uncertain"]
        if not ids:
            self.status.setText("چیزی دوباره فرستاده نشد.")
            return None
        self.status.setText("در حال ارسال دوباره…")

        def job(ctl):
            return outbox.resend(ids, confirm_uncertain=confirm, progress=ctl.progress, cancelled=ctl.cancelled)

        self.op = (QueryOp(self, op=job, success=self._resent, name="sms-resend")
                   .failure(lambda e: self.status.setText(error_text(e)))
                   .finished(self._after)
                   .with_progress("در حال ارسال دوباره پیام‌ها…"))
        self._selection_changed()
        return self.op.run()

    def _resent(self, report: outbox.ResendReport) -> None:
        self.last_report = report
        self.status.setText(report.describe())

    def _after(self) -> None:
        self.reload()
        self._announcing = True
        try:
            self.ctx.bus.data_changed.emit("sms")     # the customer file's timeline, the dashboard …
        finally:
            self._announcing = False

    def mark_sent(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.state == "uncertain"]
        if ids:
            n = outbox.mark_sent(ids)
            self.status.setText(f"{fmt.count(n, 'پیام')} «رسیده» ثبت شد و دیگر فرستاده نمی‌شود.")
            self._after()

    def dismiss(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.resendable]
        if ids:
            n = outbox.dismiss(ids)
            self.status.setText(f"{fmt.count(n, 'پیام')} کنار گذاشته شد و فرستاده نمی‌شود.")
            self._after()
