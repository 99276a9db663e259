"""Group send: choose who (a saved filter, a tag, or the segment builder), see the recipients (opted-out numbers
excluded, duplicate numbers once, customers without a mobile counted), write the text with its preview, and
send in the background with progress and cancel. Cancelling stops between batches; what is queued and not yet
sent stays in the outbox as "cancelled"."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.customers import service as customers
from app.customers.service import Filter
from app.sms import email, segments, service
from ui.ops import QueryOp, error_text
from ui.sms.email_dialog import EmailEditor
from ui.sms.segment_builder import SegmentBuilder
from ui.sms.template_editor import TemplateEditor

PREVIEW_ROWS = 500


class RecipientsModel(QAbstractTableModel):
    HEADERS = ("نام", "شماره همراه")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, str]] = []
        self.channel = "sms"

    def set_rows(self, rows: list[tuple[str, str]], channel: str = "sms") -> None:
        self.beginResetModel()
        self.rows = rows
        self.channel = channel
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # Qt's names and default
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        name, number = self.rows[index.row()]
        if index.column() == 0:
            return name
        return fmt.phone(number) if self.channel == "sms" else number

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return "نشانی ایمیل" if section == 1 and self.channel == "email" else self.HEADERS[section]
        return None


class GroupSendDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, preset: Filter | None = None,
                 preset_label: str = "فهرست کنونی مشتریان (با فیلتر صفحه مشتریان)"):
        """`preset`: the customer list's filter, offered first and chosen (the group send from that list)."""
        super().__init__(parent)
        self.setWindowTitle("ارسال گروهی")
        self.resize(1180, 760)
        self.campaign_id: int | None = None
        self.summary = None
        self._op: QueryOp | None = None
        self.ids: list[int] = []
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(QLabel("با:"))
        self.channel = QComboBox()
        self.channel.addItem("پیامک", "sms")
        self.channel.addItem("ایمیل", "email")
        head.addWidget(self.channel)
        head.addStretch(1)
        lay.addLayout(head)

        self.tabs = QTabWidget()
        saved_page = QWidget()
        s = QVBoxLayout(saved_page)
        self.saved = QComboBox()
        if preset is not None:
            self.saved.addItem(preset_label, preset)
        self.saved.addItem("— همه مشتریان —", None)
        for _fid, name, target in segments.saved():
            self.saved.addItem(name, target)
        self.saved.currentIndexChanged.connect(self.refresh_recipients)
        s.addWidget(QLabel("فهرست یا فیلتر ذخیره‌شده"))
        s.addWidget(self.saved)
        self.tag = QComboBox()
        self.tag.addItem("— بی برچسب —", "")
        for t in customers.all_tags():
            self.tag.addItem(t, t)
        self.tag.currentIndexChanged.connect(self.refresh_recipients)
        s.addWidget(QLabel("یا برچسب"))
        s.addWidget(self.tag)
        s.addStretch(1)
        self.tabs.addTab(saved_page, "فیلتر یا برچسب")
        self.builder = SegmentBuilder()
        self.builder.changed.connect(self.refresh_recipients)
        self.tabs.addTab(self.builder, "ساختن گروه")
        self.tabs.currentChanged.connect(self.refresh_recipients)

        top = QHBoxLayout()
        top.addWidget(self.tabs, 3)
        right = QVBoxLayout()
        self.plan_label = QLabel("")
        self.plan_label.setWordWrap(True)
        self.plan_label.setMinimumHeight(self.plan_label.fontMetrics().lineSpacing() * 3 + 6)   # a long plan wraps
        right.addWidget(self.plan_label)
        self.table = QTableView()
        self.model = RecipientsModel(self)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        right.addWidget(self.table, 1)
        top.addLayout(right, 2)
        lay.addLayout(top, 3)

        self.editor = TemplateEditor(self, group=True)
        lay.addWidget(self.editor, 2)
        self.email_editor = EmailEditor(self)
        self.email_editor.hide()
        lay.addWidget(self.email_editor, 2)
        self.channel.currentIndexChanged.connect(lambda _i: self._channel_changed())

        bottom = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.hide()
        bottom.addWidget(self.progress, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        bottom.addWidget(self.status, 2)
        self.send_button = QPushButton("فرستادن به این گروه")
        self.send_button.clicked.connect(self.confirm_and_send)
        bottom.addWidget(self.send_button)
        self.cancel_button = QPushButton("توقف")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        bottom.addWidget(self.cancel_button)
        lay.addLayout(bottom)
        self.refresh_recipients()

    @property
    def by_email(self) -> bool:
        return self.channel.currentData() == "email"

    def _channel_changed(self) -> None:
        self.editor.setVisible(not self.by_email)
        self.email_editor.setVisible(self.by_email)
        self.refresh_recipients()

    # --- who ----------------------------------------------------------------------------------------------------
    def target_ids(self) -> list[int]:
        if self.tabs.currentWidget() is self.builder:
            return segments.ids(self.builder.segment())
        if self.tag.currentData():
            return customers.search_ids(Filter(tag=self.tag.currentData()))
        target = self.saved.currentData()
        return segments.ids_of(target) if target is not None else customers.search_ids(Filter())

    def refresh_recipients(self) -> None:
        try:
            self.ids = self.target_ids()
        except ValueError:
            return
        self.plan = email.plan(self.ids) if self.by_email else service.plan(self.ids)
        names = {r.id: r.name for r in customers.fetch_rows([c for c, _ in self.plan.rows[:PREVIEW_ROWS]]).values()}
        self.model.set_rows([(names.get(c, ""), n) for c, n in self.plan.rows[:PREVIEW_ROWS]],
                            "email" if self.by_email else "sms")
        p = self.plan
        what = "نشانی" if self.by_email else "شماره"
        parts = [f"{fmt.count(p.total, 'گیرنده')}"]
        if p.opted_out:
            parts.append(f"{fmt.count(p.opted_out, what)} لغو دریافت کرده‌اند")
        if p.duplicates:
            parts.append(f"{fmt.count(p.duplicates, what)} تکراری (یک بار فرستاده می‌شود)")
        missing = p.no_address if isinstance(p, email.Plan) else p.no_mobile
        if missing:
            parts.append(f"{fmt.count(missing, 'مشتری')} {'نشانی ایمیل' if self.by_email else 'شماره همراه'} ندارند")
        if p.total > PREVIEW_ROWS:
            parts.append(f"{fmt.num(PREVIEW_ROWS)} نفر نخست نشان داده شده‌اند")
        self.plan_label.setText("، ".join(parts))
        if p.rows:
            from app.sms import templates

            sample = templates.contexts([p.rows[0][0]]).get(p.rows[0][0], {})
            self.editor.set_sample(sample)
            self.email_editor.set_sample(sample)

    # --- send ---------------------------------------------------------------------------------------------------
    def confirmation(self) -> str:
        """What the person is asked before the group gets its messages."""
        if self.by_email:
            return f"این ایمیل به {fmt.count(self.plan.total, 'گیرنده')} فرستاده می‌شود.\n\nفرستاده شود؟"
        p = self.editor.preview()
        parts = max(p.info.parts, 1)
        text = (f"این پیام به {fmt.count(self.plan.total, 'گیرنده')} فرستاده می‌شود؛ هر پیام "
                f"{fmt.count(parts, 'پیامک')}، روی هم نزدیک به {fmt.count(self.plan.total * parts, 'پیامک')}.")
        if p.warnings:
            text += "\n\n" + "\n".join("⚠ " + w for w in p.warnings)
        return text + "\n\nفرستاده شود؟"

    def ask(self, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "ارسال گروهی ایمیل" if self.by_email else "ارسال گروهی پیامک",
                          text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.button(QMessageBox.StandardButton.Yes).setText("بله، بفرست")
        box.button(QMessageBox.StandardButton.No).setText("نه")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def confirm_and_send(self) -> bool:
        """The «send» button: nothing goes to a group before the person saw how many and said yes."""
        if self.by_email:
            if not self.email_editor.subject_text().strip() or not self.email_editor.text().strip():
                self.status.setText("موضوع و متن ایمیل را بنویسید.")
                return False
            if not email.can_send():
                self.status.setText("ایمیل هنوز راه نیفتاده است: در «تنظیمات › ایمیل» کارگزار SMTP و نشانی فرستنده "
                                    "را وارد کنید.")
                return False
        elif not self.editor.text().strip():
            self.status.setText("متن پیام خالی است.")
            return False
        if not self.plan.total:
            self.status.setText("در این گروه هیچ نشانی ایمیلی برای فرستادن نیست." if self.by_email
                                else "در این گروه هیچ شماره همراهی برای فرستادن نیست.")
            return False
        if not self.ask(self.confirmation()):
            self.status.setText("فرستاده نشد.")
            return False
        self.send()
        return True

    def send(self) -> None:
        by_email, ids = self.by_email, list(self.ids)
        ed = self.email_editor if by_email else self.editor
        body, purpose, subject = ed.text(), ed.purpose_key(), self.email_editor.subject_text()
        self.send_button.setEnabled(False)
        self.channel.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.show()
        self.progress.setRange(0, max(self.plan.total, 1))
        self.progress.setValue(0)
        self.status.setText("در حال آماده‌سازی پیام‌ها…")

        def job(ctl):
            if by_email:
                camp, _ = email.queue_group(ids, subject, body, purpose=purpose)
                self.campaign_id = camp
                ctl.label("در حال فرستادن…")
                return email.deliver_group(camp, progress=ctl.progress, cancelled=ctl.cancelled)
            camp, _ = service.queue_group(ids, body, purpose=purpose)
            self.campaign_id = camp
            ctl.label("در حال فرستادن…")
            return service.deliver(campaign_id=camp, progress=ctl.progress, cancelled=ctl.cancelled)

        self._op = (QueryOp(self, op=job, success=self._done).failure(self._failed)
                    .on_progress(lambda d, t: (self.progress.setMaximum(max(t, 1)), self.progress.setValue(d))))
        self._op.run()

    def cancel(self) -> None:
        if self._op is not None:
            self._op.cancel()
        self.status.setText("در حال توقف پس از دسته جاری…")

    def _finish(self) -> None:
        self.send_button.setEnabled(True)
        self.channel.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _done(self, summary) -> None:
        self.summary = summary
        if self.campaign_id is not None and summary.remaining:
            (email if self.by_email else service).cancel_queued(self.campaign_id)
        self._finish()
        text = f"فرستاده: {fmt.num(summary.sent)}، ناموفق: {fmt.num(summary.failed)}"
        if summary.remaining:
            text += f"، متوقف‌شده پیش از ارسال: {fmt.num(summary.remaining)}"
        if summary.uncertain:
            text += f"، نامعلوم: {fmt.num(summary.uncertain)}"
        self.status.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.status.setText(error_text(exc))
