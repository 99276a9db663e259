"""One SMS from the customer file, the caller-ID popup or the missed-calls list: `send_sms_dialog(parent,
customer_id=…, number=…)`. The message is sent in the background (ui/ops.py); the outcome is shown in place."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import fmt
from app.sms import service, templates
from models.core import PhoneNumber
from ui.ops import QueryOp, error_text
from ui.sms.template_editor import TemplateEditor


class SendSmsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, customer_id: int | None = None, number: str | None = None,
                 text: str = ""):
        super().__init__(parent)
        self.customer_id = customer_id
        self.result_message = None
        self.setWindowTitle("فرستادن پیامک")
        self.resize(820, 460)
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        who = service.customer_name(customer_id) if customer_id else ""
        head.addWidget(QLabel(f"گیرنده: {who}" if who else "گیرنده:"))
        self.number = QComboBox()
        self.number.setEditable(True)
        for n in self._mobiles(customer_id):
            self.number.addItem(fmt.phone(n), n)
        if number:
            m = service.mobile_of(number) or number
            if self.number.findData(m) < 0:
                self.number.insertItem(0, fmt.phone(m), m)
            self.number.setCurrentIndex(self.number.findData(m))
        head.addWidget(self.number, 1)
        lay.addLayout(head)
        ctx = templates.contexts([customer_id]).get(customer_id, {}) if customer_id else {}
        self.editor = TemplateEditor(self, show_name=False, sample=ctx)
        if text:
            self.editor.set_text(text)
        lay.addWidget(self.editor, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
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

    @staticmethod
    def _mobiles(customer_id: int | None) -> list[str]:
        if not customer_id:
            return []
        return [r[0] for r in PhoneNumber.select(PhoneNumber.canonical)
                .where(PhoneNumber.customer == customer_id, PhoneNumber.canonical.startswith("09"))
                .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id).tuples()]

    def chosen_number(self) -> str:
        data = self.number.currentData()
        text = self.number.currentText()
        return data if data and fmt.phone(data) == text else text

    def send(self) -> None:
        text = self.editor.preview().text
        number, cid, purpose = self.chosen_number(), self.customer_id, self.editor.purpose_key()
        self.send_button.setEnabled(False)
        self.status.setText("در حال فرستادن…")
        (QueryOp(self, op=lambda ctl: service.send_now(number, text, customer_id=cid, purpose=purpose),
                 success=self._sent)
         .failure(self._failed).run())

    def _sent(self, msg) -> None:
        self.result_message = msg
        self.status.setText(f"پیامک فرستاده شد (شناسه {fmt.digits(msg.provider_id)}).")
        self.send_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(error_text(exc))
        self.send_button.setEnabled(True)


def send_sms_dialog(parent: QWidget | None = None, customer_id: int | None = None, number: str | None = None,
                    text: str = "") -> SendSmsDialog:
    """Open the one-message dialog (non-modal) and return it."""
    dlg = SendSmsDialog(parent, customer_id=customer_id, number=number, text=text)
    dlg.show()
    return dlg
