"""The template editor: the text with merge-field buttons, and beside it the live preview as the customer will
read it, the character count and number of parts (70/67 Persian UCS-2, 160/153 GSM-7), and warnings (an
advertising text on a service line, unknown fields, a text too long for the panels)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.sms import templates

PURPOSES = (("service", "خدماتی (اطلاع‌رسانی به مشتریان خودتان)"), ("advertising", "تبلیغاتی"))
BUBBLE_STYLE = ("QLabel#bubble { background: #e8f0fe; border: 1px solid #c7d7f5; border-radius: 12px; "
                "padding: 10px; color: #111; }")



def field_chips(insert: Callable[[str], None]) -> QGridLayout:
    """The merge-field buttons (four to a row) under a template's text; a click inserts «{field}»."""
    grid = QGridLayout()
    for i, (key, label) in enumerate(templates.FIELDS.items()):
        b = QPushButton(label)
        b.setToolTip("{" + key + "}")
        b.setProperty("role", "chip")
        b.clicked.connect(lambda _=False, k=key: insert(k))
        grid.addWidget(b, i // 4, i % 4)
    return grid

class TemplateEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, group: bool = False, show_name: bool = True,
                 sample: dict | None = None):
        super().__init__(parent)
        self.group = group
        self.sample = dict(sample or {})
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

        left = QVBoxLayout()
        top = QHBoxLayout()
        self.template_combo = QComboBox()
        self.template_combo.addItem("— الگوی آماده —", None)
        for t in templates.templates():
            self.template_combo.addItem(t.name, t.id)
        self.template_combo.currentIndexChanged.connect(self._load_template)
        top.addWidget(self.template_combo, 2)
        self.purpose = QComboBox()
        for key, label in PURPOSES:
            self.purpose.addItem(label, key)
        self.purpose.currentIndexChanged.connect(self._refresh)
        top.addWidget(self.purpose, 2)
        left.addLayout(top)
        self.name = QLineEdit()
        self.name.setPlaceholderText("نام الگو (برای ذخیره)")
        self.name.setVisible(show_name)
        left.addWidget(self.name)
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("متن پیام… فیلدها را با دکمه‌های زیر بگذارید، مانند {نام}")
        self.body.textChanged.connect(self._refresh)
        left.addWidget(self.body, 1)
        left.addLayout(field_chips(self.insert_field))
        row = QHBoxLayout()
        self.save_button = QPushButton("ذخیره الگو")
        self.save_button.clicked.connect(self.save)
        self.save_button.setVisible(show_name)
        row.addWidget(self.save_button)
        self.saved_label = QLabel("")
        row.addWidget(self.saved_label, 1)
        left.addLayout(row)
        lay.addLayout(left, 3)

        right = QVBoxLayout()
        title = QLabel("پیش‌نمایش")
        title.setProperty("role", "heading")
        right.addWidget(title)
        self.bubble = QLabel("")
        self.bubble.setObjectName("bubble")
        self.bubble.setStyleSheet(BUBBLE_STYLE)
        self.bubble.setWordWrap(True)
        self.bubble.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        self.bubble.setTextFormat(Qt.TextFormat.PlainText)
        self.bubble.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.bubble.setMinimumWidth(260)
        # A wrapped label nested in an inner layout does not always get its height-for-width: room for 6 lines.
        self.bubble.setMinimumHeight(self.bubble.fontMetrics().lineSpacing() * 6 + 24)
        right.addWidget(self.bubble)
        self.counter = QLabel("")
        right.addWidget(self.counter)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b45309;")
        right.addWidget(self.warnings)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        right.addWidget(line)
        right.addStretch(1)
        lay.addLayout(right, 2)
        self._refresh()

    # --- API -------------------------------------------------------------------------------------------------
    def text(self) -> str:
        return self.body.toPlainText()

    def set_text(self, text: str) -> None:
        self.body.setPlainText(text)

    def purpose_key(self) -> str:
        return self.purpose.currentData()

    def set_sample(self, ctx: dict) -> None:
        self.sample = dict(ctx)
        self._refresh()

    def insert_field(self, key: str) -> None:
        self.body.insertPlainText("{" + key + "}")
        self.body.setFocus()

    def preview(self) -> templates.Preview:
        return templates.preview(self.text(), self.sample, purpose=self.purpose_key(), group=self.group)

    def save(self) -> None:
        from app.core.errors import UserError

        try:
            t = templates.save_template(self.name.text(), self.text(), self.purpose_key())
        except UserError as e:
            self.saved_label.setText(e.message)
            return
        if self.template_combo.findData(t.id) < 0:
            self.template_combo.addItem(t.name, t.id)
        self.saved_label.setText(f"الگوی «{t.name}» ذخیره شد.")

    # --- internals --------------------------------------------------------------------------------------------
    def _load_template(self) -> None:
        tid = self.template_combo.currentData()
        if tid is None:
            return
        t = templates.get_template(int(tid))
        if t is None:
            return
        self.name.setText(t.name)
        self.purpose.setCurrentIndex(max(0, self.purpose.findData(t.purpose)))
        self.set_text(t.body)

    def _refresh(self) -> None:
        p = self.preview()
        self.bubble.setText(p.text or "…")
        self.counter.setText(p.counter)
        self.warnings.setText("\n".join("⚠ " + w for w in p.warnings))
        self.warnings.setVisible(bool(p.warnings))
        self.changed.emit()
