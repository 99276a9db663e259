"""Email: the editor (a saved email template or a new text, subject and body with merge-field buttons, and the
preview as the customer will read it) and the one-email dialog of the customer file, `send_email_dialog(parent,
customer_id=…)`. The email is sent in the background (ui/ops.py); its outbox row is written before it is sent."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import UserError
from app.sms import email, service, templates
from ui.ops import QueryOp, error_text
from ui.sms.template_editor import BUBBLE_STYLE, PURPOSES, field_chips


class EmailEditor(QWidget):
    """Subject and body with merge fields, an email template to start from or save, and the live preview."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, sample: dict | None = None):
        super().__init__(parent)
        self.sample = dict(sample or {})
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        top = QHBoxLayout()
        self.template_combo = QComboBox()
        self.template_combo.addItem("— الگوی ایمیل —", None)
        for t in templates.templates("email"):
            self.template_combo.addItem(t.name, t.id)
        self.template_combo.currentIndexChanged.connect(self._load_template)
        top.addWidget(self.template_combo, 2)
        self.purpose = QComboBox()
        for key, label in PURPOSES:
            self.purpose.addItem(label, key)
        top.addWidget(self.purpose, 2)
        left.addLayout(top)
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("موضوع ایمیل، مانند: فاکتور {شماره_فاکتور}")
        self.subject.textChanged.connect(self._refresh)
        left.addWidget(self.subject)
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("متن ایمیل… فیلدها را با دکمه‌های زیر بگذارید، مانند {نام}")
        self.body.textChanged.connect(self._refresh)
        left.addWidget(self.body, 1)
        left.addLayout(field_chips(self.insert_field))
        row = QHBoxLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("نام الگو (برای ذخیره)")
        row.addWidget(self.name, 1)
        self.save_button = QPushButton("ذخیره الگو")
        self.save_button.clicked.connect(self.save_template)
        row.addWidget(self.save_button)
        left.addLayout(row)
        self.saved_label = QLabel("")
        self.saved_label.setWordWrap(True)
        left.addWidget(self.saved_label)
        lay.addLayout(left, 3)

        right = QVBoxLayout()
        title = QLabel("پیش‌نمایش")
        title.setProperty("role", "heading")
        right.addWidget(title)
        self.preview_subject = QLabel("")
        self.preview_subject.setWordWrap(True)
        self.preview_subject.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_subject.setStyleSheet("font-weight: bold;")
        right.addWidget(self.preview_subject)
        self.bubble = QLabel("")
        self.bubble.setObjectName("bubble")
        self.bubble.setStyleSheet(BUBBLE_STYLE)
        self.bubble.setWordWrap(True)
        self.bubble.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        self.bubble.setTextFormat(Qt.TextFormat.PlainText)
        self.bubble.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.bubble.setMinimumWidth(260)
        self.bubble.setMinimumHeight(self.bubble.fontMetrics().lineSpacing() * 8 + 24)
        right.addWidget(self.bubble)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b45309;")
        right.addWidget(self.warnings)
        right.addStretch(1)
        lay.addLayout(right, 2)
        self._refresh()

    # --- API -------------------------------------------------------------------------------------------------
    def subject_text(self) -> str:
        return self.subject.text()

    def text(self) -> str:
        return self.body.toPlainText()

    def purpose_key(self) -> str:
        return self.purpose.currentData()

    def set_sample(self, ctx: dict) -> None:
        self.sample = dict(ctx)
        self._refresh()

    def insert_field(self, key: str) -> None:
        self.body.insertPlainText("{" + key + "}")
        self.body.setFocus()

    def rendered(self) -> tuple[str, str]:
        ctx = {**templates.office_context(), **templates.SAMPLE, **self.sample}
        return templates.render(self.subject_text(), ctx), templates.render(self.text(), ctx)

    def save_template(self) -> None:
        try:
            t = templates.save_template(self.name.text(), self.text(), self.purpose_key(), channel="email",
                                        subject=self.subject_text().strip())
        except UserError as e:
            self.saved_label.setText(e.message)
            return
        if self.template_combo.findData(t.id) < 0:
            self.template_combo.addItem(t.name, t.id)
        self.saved_label.setText(f"الگوی ایمیل «{t.name}» ذخیره شد.")

    # --- internals --------------------------------------------------------------------------------------------
    def _load_template(self) -> None:
        tid = self.template_combo.currentData()
        t = templates.get_template(int(tid)) if tid is not None else None
        if t is None:
            return
        self.name.setText(t.name)
        self.purpose.setCurrentIndex(max(0, self.purpose.findData(t.purpose)))
        self.subject.setText(t.subject)
        self.body.setPlainText(t.body)

    def _refresh(self) -> None:
        subject, body = self.rendered()
        self.preview_subject.setText(f"موضوع: {subject}" if subject else "موضوع: …")
        self.bubble.setText(body or "…")
        bad = templates.unknown_fields(self.subject_text() + " " + self.text())
        self.warnings.setText("⚠ این فیلدها شناخته نیستند و همان‌طور که هست فرستاده می‌شوند: "
                              + "، ".join("{" + b + "}" for b in bad) if bad else "")
        self.warnings.setVisible(bool(bad))
        self.changed.emit()


class SendEmailDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, customer_id: int | None = None, address: str = ""):
        super().__init__(parent)
        self.customer_id = customer_id
        self.result_message = None
        self.op: QueryOp | None = None
        self.setWindowTitle("فرستادن ایمیل")
        self.resize(900, 560)
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        who = service.customer_name(customer_id) if customer_id else ""
        head.addWidget(QLabel(f"گیرنده: {who}" if who else "گیرنده:"))
        self.address = QLineEdit(address or (email.customer_address(customer_id) if customer_id else ""))
        self.address.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.address.setPlaceholderText("name@example.ir")
        head.addWidget(self.address, 1)
        lay.addLayout(head)
        ctx = templates.contexts([customer_id]).get(customer_id, {}) if customer_id else {}
        self.editor = EmailEditor(self, sample=ctx)
        lay.addWidget(self.editor, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        if not email.can_send():
            self._say(False, "ایمیل هنوز راه نیفتاده است: در «تنظیمات › ایمیل» کارگزار SMTP و نشانی فرستنده را "
                             "وارد کنید.")
        row = QHBoxLayout()
        row.addStretch(1)
        self.send_button = QPushButton("فرستادن")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        row.addWidget(self.send_button)
        close = QPushButton("بستن")
        close.clicked.connect(self.reject)
        row.addWidget(close)
        lay.addLayout(row)

    def send(self) -> QueryOp | None:
        to, subject, body = self.address.text().strip(), self.editor.subject_text(), self.editor.text()
        cid, purpose = self.customer_id, self.editor.purpose_key()
        if not email.ADDRESS.fullmatch(to):
            self._say(False, f"«{to}» نشانی ایمیل درست نیست." if to else "نشانی ایمیل گیرنده را بنویسید.")
            return None
        if not subject.strip() or not body.strip():
            self._say(False, "موضوع و متن ایمیل را بنویسید.")
            return None
        self.send_button.setEnabled(False)
        self._say(True, "در حال فرستادن…")
        self.op = (QueryOp(self, op=lambda ctl: email.send_email(to, subject, body, customer_id=cid, purpose=purpose),
                           success=self._sent, name="email-send")
                   .failure(lambda e: self._say(False, "ایمیل فرستاده نشد: " + error_text(e)))
                   .finished(lambda: self.send_button.setEnabled(True)))
        return self.op.run()

    def _sent(self, msg) -> None:
        self.result_message = msg
        self._say(True, f"ایمیل به {msg.recipient} فرستاده شد.")

    def _say(self, ok: bool, text: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("" if ok else "color: #b91c1c;")


def send_email_dialog(parent: QWidget | None = None, customer_id: int | None = None,
                      address: str = "") -> SendEmailDialog:
    """Open the one-email dialog (non-modal) and return it."""
    dlg = SendEmailDialog(parent, customer_id=customer_id, address=address)
    dlg.show()
    return dlg
