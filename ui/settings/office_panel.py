"""The office's details (used on invoices) and lists the office defines."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app import settings
from app.core.identity import check_economic_code, check_postal_code
from app.core.phones import AREA_CODES
from app.core.text import to_ascii_digits

FIELDS = ["office.name", "office.area_code", "office.economic_code", "office.national_id", "office.registration_no",
          "office.postal_code", "office.address", "office.phone", "office.logo_path", "customers.types",
          "customers.sources"]


class OfficePanel(QWidget):
    TITLE = "مشخصات دفتر"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for key in FIELDS:
            e = QLineEdit(str(settings.get(key)))
            self.edits[key] = e
            form.addRow(settings.OPTIONS[key].label + ":", e)
        self.toman = QCheckBox(settings.OPTIONS["money.show_toman"].label)
        self.toman.setChecked(settings.get("money.show_toman"))
        form.addRow("", self.toman)
        self.message = QLabel()
        row = QHBoxLayout()
        self.save_btn = QPushButton("ذخیره")
        row.addWidget(self.save_btn)
        row.addWidget(self.message, 1)
        form.addRow(row)
        self.save_btn.clicked.connect(self.save)

    def save(self) -> bool:
        values = {k: e.text().strip() for k, e in self.edits.items()}
        area = to_ascii_digits(values["office.area_code"]).lstrip("0")
        problems = []
        if area not in AREA_CODES:
            problems.append("کد شهر درست نیست (مثل ۰۲۱).")
        for key, check in (("office.economic_code", check_economic_code), ("office.postal_code", check_postal_code)):
            if msg := check(values[key]):
                problems.append(msg)
        if problems:
            self.message.setProperty("role", "error")
            self.message.setText(" ".join(problems))
            self.message.style().polish(self.message)
            return False
        values["office.area_code"] = "0" + area
        for k, v in values.items():
            settings.set(k, v)
        settings.set("money.show_toman", self.toman.isChecked())
        self.message.setProperty("role", "muted")
        self.message.setText("ذخیره شد.")
        self.message.style().polish(self.message)
        self.ctx.bus.data_changed.emit("settings")
        return True
