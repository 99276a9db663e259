"""The office's details (used on invoices) and lists the office defines."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app import options, settings
from app.core.identity import check_economic_code, check_postal_code
from app.core.phones import AREA_CODES
from app.core.text import to_ascii_digits

FIELDS = [options.OFFICE_NAME, options.OFFICE_AREA_CODE, options.OFFICE_ECONOMIC_CODE, options.OFFICE_NATIONAL_ID,
          options.OFFICE_REGISTRATION_NO, options.OFFICE_POSTAL_CODE, options.OFFICE_ADDRESS, options.OFFICE_PHONE,
          options.OFFICE_LOGO_PATH, options.CUSTOMERS_TYPES, options.CUSTOMERS_SOURCES]


class OfficePanel(QWidget):
    TITLE = "مشخصات دفتر"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        form = QFormLayout(self)
        self.edits: dict[options.Option, QLineEdit] = {}
        for opt in FIELDS:
            e = QLineEdit(str(settings.get(opt)))
            self.edits[opt] = e
            form.addRow(opt.label + ":", e)
        self.toman = QCheckBox(options.MONEY_SHOW_TOMAN.label)
        self.toman.setChecked(settings.get(options.MONEY_SHOW_TOMAN))
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
        area = to_ascii_digits(values[options.OFFICE_AREA_CODE]).lstrip("0")
        problems = []
        if area not in AREA_CODES:
            problems.append("کد شهر درست نیست (مثل ۰۲۱).")
        for key, check in ((options.OFFICE_ECONOMIC_CODE, check_economic_code),
                           (options.OFFICE_POSTAL_CODE, check_postal_code)):
            if msg := check(values[key]):
                problems.append(msg)
        if problems:
            self.message.setProperty("role", "error")
            self.message.setText(" ".join(problems))
            self.message.style().polish(self.message)
            return False
        values[options.OFFICE_AREA_CODE] = "0" + area
        for k, v in values.items():
            settings.set(k, v)
        settings.set(options.MONEY_SHOW_TOMAN, self.toman.isChecked())
        self.message.setProperty("role", "muted")
        self.message.setText("ذخیره شد.")
        self.message.style().polish(self.message)
        self.ctx.bus.data_changed.emit("settings")
        return True
