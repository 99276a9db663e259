"""One phone row and one address row of the customer form (add and remove as many as needed).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from app import fmt, settings
from app.core import phones as ph
from app.customers import service as cs
from ui.customers.form_fields import digits_field

logger = logging.getLogger(__name__)


class PhoneRow(QWidget):
    """One phone: label, number (typed as the user likes), extension, remove button."""

    removed = Signal(object)

    def __init__(self, data: dict | None = None, parent=None):
        super().__init__(parent)
        data = data or {}
        self.error: QLabel | None = None    # the red message under the row (set by the form)
        self.box: QWidget | None = None      # the row with its message, as placed in the form
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QComboBox()
        for key, text in cs.PHONE_LABELS.items():
            self.label.addItem(text, key)
        self.number = QLineEdit()
        self.number.setPlaceholderText("۰۹۱۲ ۱۲۳ ۴۵۶۷")
        self.number.setMaxLength(40)
        # Numbers read left to right even in a Persian form.
        self.number.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter)
        self.number.setMinimumWidth(150)
        self.extension = QLineEdit()
        self.extension.setPlaceholderText("داخلی")
        self.extension.setMaxLength(8)
        self.extension.setFixedWidth(60)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("حذف این شماره")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        lay.addWidget(self.label)
        lay.addWidget(self.number, 1)
        lay.addWidget(self.extension)
        lay.addWidget(self.remove)
        raw = data.get("raw", "") or ""
        self.number.setText(fmt.digits(raw))
        label = data.get("label")
        if not label and raw:
            label = "mobile" if ph.normalize(raw, settings.area_code()).kind == ph.MOBILE else "work"
        idx = self.label.findData(label or "mobile")
        self.label.setCurrentIndex(max(idx, 0))
        self.extension.setText(fmt.digits(data.get("extension", "") or ""))
        self.number.textChanged.connect(self._guess_label)
        self._label_touched = bool(data.get("label"))
        self.label.activated.connect(lambda _i: setattr(self, "_label_touched", True))

    def _guess_label(self, text: str) -> None:
        if self._label_touched:
            return
        p = ph.normalize(text, settings.area_code())
        if p.valid:
            self.label.setCurrentIndex(self.label.findData("mobile" if p.kind == ph.MOBILE else "work"))

    def value(self) -> dict:
        return {"label": self.label.currentData(), "raw": self.number.text().strip(),
                "extension": self.extension.text().strip()}

    def focus_widgets(self) -> list[QWidget]:
        return [self.label, self.number, self.extension, self.remove]


class AddressRow(QFrame):
    """One address: label, province, city, postal code on one line; the street address under them."""

    removed = Signal(object)

    def __init__(self, data: dict | None = None, parent=None):
        super().__init__(parent)
        data = data or {}
        self.error: QLabel | None = None
        self.box: QWidget | None = None
        self.setFrameShape(QFrame.Shape.NoFrame)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 4)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        self.label = QComboBox()
        for key, text in cs.ADDRESS_LABELS.items():
            self.label.addItem(text, key)
        self.label.setCurrentIndex(max(self.label.findData(data.get("label") or "work"), 0))
        self.province = QLineEdit(fmt.digits(data.get("province", "") or ""))
        self.province.setPlaceholderText("استان")
        self.city = QLineEdit(fmt.digits(data.get("city", "") or ""))
        self.city.setPlaceholderText("شهر")
        self.postal_code = QLineEdit(fmt.digits(data.get("postal_code", "") or ""))
        self.postal_code.setPlaceholderText("کد پستی")
        self.postal_code.setMaxLength(12)
        self.postal_code.setFixedWidth(110)
        digits_field(self.postal_code)
        self.line = QLineEdit(fmt.digits(data.get("line", "") or ""))
        self.line.setPlaceholderText("نشانی: خیابان، کوچه، پلاک، واحد")
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("حذف این نشانی")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        grid.addWidget(self.label, 0, 0)
        grid.addWidget(self.province, 0, 1)
        grid.addWidget(self.city, 0, 2)
        grid.addWidget(self.postal_code, 0, 3)
        grid.addWidget(self.remove, 0, 4)
        grid.addWidget(self.line, 1, 0, 1, 5)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)

    def value(self) -> dict:
        return {"label": self.label.currentData(), "province": self.province.text(), "city": self.city.text(),
                "line": self.line.text(), "postal_code": self.postal_code.text()}

    def focus_widgets(self) -> list[QWidget]:
        return [self.label, self.province, self.city, self.postal_code, self.remove, self.line]
