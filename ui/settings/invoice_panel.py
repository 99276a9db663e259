"""Invoice settings: the dated VAT rates, paper size, payment terms, proforma validity, default footer."""
from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import ValidationError
from app.sales.vat import set_vat_rates, vat_rates

logger = logging.getLogger(__name__)


class InvoicePanel(QWidget):
    TITLE = "فاکتور و مالیات"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("نرخ مالیات و عوارض ارزش افزوده از هر تاریخ (هر سند با نرخ تاریخ خودش صادر می‌شود "
                             "و نرخ صادرشده در آن می‌ماند):"))
        self.rates = QTableWidget(0, 2)
        self.rates.setHorizontalHeaderLabels(["از تاریخ", "نرخ (درصد)"])
        self.rates.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.rates.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rates.setMaximumHeight(180)
        from ui.widgets.persian import persian_row_numbers

        persian_row_numbers(self.rates)
        lay.addWidget(self.rates)
        row = QHBoxLayout()
        self.add_btn = QPushButton("افزودن نرخ")
        self.remove_btn = QPushButton("حذف نرخ")
        row.addWidget(self.add_btn)
        row.addWidget(self.remove_btn)
        row.addStretch(1)
        lay.addLayout(row)
        form = QFormLayout()
        self.paper = QComboBox()
        self.paper.addItem("A4 (عمودی)", "A4")
        self.paper.addItem("A5 (افقی)", "A5")
        self.payment_days = QSpinBox()
        self.payment_days.setRange(0, 365)
        self.valid_days = QSpinBox()
        self.valid_days.setRange(1, 365)
        self.footer = QLineEdit()
        form.addRow(options.SALES_PAPER.label + ":", self.paper)
        form.addRow(options.SALES_PAYMENT_DAYS.label + ":", self.payment_days)
        form.addRow(options.SALES_PROFORMA_VALID_DAYS.label + ":", self.valid_days)
        form.addRow(options.SALES_INVOICE_FOOTER.label + ":", self.footer)
        lay.addLayout(form)
        bottom = QHBoxLayout()
        self.save_btn = QPushButton("ذخیره")
        self.message = QLabel()
        self.message.setWordWrap(True)
        bottom.addWidget(self.save_btn)
        bottom.addWidget(self.message, 1)
        lay.addLayout(bottom)
        lay.addStretch(1)
        self.add_btn.clicked.connect(lambda: self._add_rate("", ""))
        self.remove_btn.clicked.connect(self._remove_rate)
        self.save_btn.clicked.connect(self.save)
        self.load()

    def load(self) -> None:
        self.rates.setRowCount(0)
        for day, rate in vat_rates():
            self._add_rate(fmt.date(day), fmt.digits(f"{rate / 100:g}"))
        self.paper.setCurrentIndex(max(0, self.paper.findData(settings.get(options.SALES_PAPER))))
        self.payment_days.setValue(settings.get(options.SALES_PAYMENT_DAYS))
        self.valid_days.setValue(settings.get(options.SALES_PROFORMA_VALID_DAYS))
        self.footer.setText(settings.get(options.SALES_INVOICE_FOOTER))

    def _add_rate(self, day: str, rate: str) -> None:
        r = self.rates.rowCount()
        self.rates.insertRow(r)
        self.rates.setItem(r, 0, QTableWidgetItem(day))
        self.rates.setItem(r, 1, QTableWidgetItem(rate))

    def _remove_rate(self) -> None:
        for r in sorted({i.row() for i in self.rates.selectedIndexes()}, reverse=True):
            self.rates.removeRow(r)

    def rates_text(self) -> str:
        parts = []
        for r in range(self.rates.rowCount()):
            day = (self.rates.item(r, 0).text() if self.rates.item(r, 0) else "").strip()
            rate = (self.rates.item(r, 1).text() if self.rates.item(r, 1) else "").strip()
            if day or rate:
                parts.append(f"{day}={rate}")
        return ",".join(parts)

    def save(self) -> bool:
        try:
            set_vat_rates(self.rates_text())
        except ValidationError as e:
            self.message.setStyleSheet("color: #dc2626;")
            self.message.setText(e.message)
            return False
        settings.set(options.SALES_PAPER, self.paper.currentData())
        settings.set(options.SALES_PAYMENT_DAYS, self.payment_days.value())
        settings.set(options.SALES_PROFORMA_VALID_DAYS, self.valid_days.value())
        settings.set(options.SALES_INVOICE_FOOTER, self.footer.text().strip())
        self.message.setStyleSheet("")
        self.message.setText("ذخیره شد.")
        self.load()
        self.ctx.bus.data_changed.emit("settings")
        return True
