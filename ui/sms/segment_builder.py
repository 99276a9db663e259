"""The segment builder: place, type, rank, status, source, tags, age and gender, purchase behaviour and money
owed; the number of customers it matches is shown live (a short pause after each change), and the segment can
be saved as a filter."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core import jalali
from app.core.errors import UserError
from app.core.text import parse_int
from app.customers import service as customers
from app.sms import segments
from app.sms.segments import Segment
from models.core import Address


def _combo(values: list[str], any_label: str = "همه") -> QComboBox:
    c = QComboBox()
    c.addItem(any_label, "")
    for v in values:
        c.addItem(v, v)
    return c


def _spin(maximum: int = 100000, special: str = "—") -> QSpinBox:
    s = QSpinBox()
    s.setRange(-1, maximum)
    s.setValue(-1)
    s.setSpecialValueText(special)
    return s


class SegmentBuilder(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        cols = QHBoxLayout()
        who = QGroupBox("چه کسانی")
        f = QFormLayout(who)
        self.province = _combo(self._distinct_address("province"))
        self.city = _combo(self._distinct_address("city"))
        self.customer_type = _combo(customers.distinct_values("customer_type"))
        self.rank = _combo(customers.distinct_values("rank"))
        self.status = _combo(customers.distinct_values("status"))
        self.source = _combo(customers.distinct_values("source"))
        self.tag = _combo(customers.all_tags())
        self.gender = QComboBox()
        for label, key in (("همه", ""), ("آقایان", "male"), ("بانوان", "female")):
            self.gender.addItem(label, key)
        self.age_min, self.age_max = _spin(120), _spin(120)
        ages = QHBoxLayout()
        ages.addWidget(QLabel("از"))
        ages.addWidget(self.age_min)
        ages.addWidget(QLabel("تا"))
        ages.addWidget(self.age_max)
        for label, w in (("استان", self.province), ("شهر", self.city), ("نوع مشتری", self.customer_type),
                         ("رتبه", self.rank), ("وضعیت", self.status), ("نحوه آشنایی", self.source),
                         ("برچسب", self.tag), ("جنسیت", self.gender)):
            f.addRow(label, w)
        f.addRow("سن", ages)
        cols.addWidget(who)

        buy = QGroupBox("رفتار خرید")
        g = QFormLayout(buy)
        self.bought_within = _spin(3650)
        self.not_bought = _spin(3650)
        self.period_from = QLineEdit()
        self.period_to = QLineEdit()
        for e in (self.period_from, self.period_to):
            e.setPlaceholderText("۱۴۰۵/۰۱/۰۱")
        self.purchases_min, self.purchases_max = _spin(10000), _spin(10000)
        self.value_min = QLineEdit()
        self.value_min.setPlaceholderText("ریال")
        self.band = QComboBox()
        self.band.addItem("همه", "")
        for key, label in segments.BANDS.items():
            self.band.addItem(label, key)
        self.owed_min = QLineEdit()
        self.owed_min.setPlaceholderText("ریال")
        g.addRow("آخرین خرید در (روز گذشته)", self.bought_within)
        g.addRow("بی‌خرید در (روز گذشته)", self.not_bought)
        g.addRow("دوره از", self.period_from)
        g.addRow("دوره تا", self.period_to)
        g.addRow("کمترین تعداد خرید در دوره", self.purchases_min)
        g.addRow("بیشترین تعداد خرید در دوره", self.purchases_max)
        g.addRow("کمترین مبلغ خرید در دوره", self.value_min)
        g.addRow("دسته (RFM)", self.band)
        g.addRow("بدهی دست‌کم", self.owed_min)
        cols.addWidget(buy)
        lay.addLayout(cols)

        bottom = QHBoxLayout()
        self.count_label = QLabel("")
        self.count_label.setProperty("role", "heading")
        bottom.addWidget(self.count_label, 1)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b91c1c;")
        bottom.addWidget(self.error_label)
        self.name = QLineEdit()
        self.name.setPlaceholderText("نام گروه برای ذخیره")
        bottom.addWidget(self.name)
        self.save_button = QPushButton("ذخیره به‌عنوان فیلتر")
        self.save_button.clicked.connect(self.save)
        bottom.addWidget(self.save_button)
        lay.addLayout(bottom)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.update_count)
        for w in (self.province, self.city, self.customer_type, self.rank, self.status, self.source, self.tag,
                  self.gender, self.band):
            w.currentIndexChanged.connect(self._timer.start)
        for w in (self.age_min, self.age_max, self.bought_within, self.not_bought, self.purchases_min,
                  self.purchases_max):
            w.valueChanged.connect(self._timer.start)
        for w in (self.period_from, self.period_to, self.value_min, self.owed_min):
            w.textChanged.connect(self._timer.start)
        self.update_count()

    @staticmethod
    def _distinct_address(field: str) -> list[str]:
        col = getattr(Address, field)
        return [r[0] for r in Address.select(col).where(col != "").distinct().order_by(col).tuples()]

    def segment(self) -> Segment:
        def spin(s: QSpinBox):
            return None if s.value() < 0 else s.value()

        def date(e: QLineEdit):
            t = e.text().strip()
            return jalali.parse_date(t) if t else None

        return Segment(province=self.province.currentData(), city=self.city.currentData(),
                       customer_type=self.customer_type.currentData(), rank=self.rank.currentData(),
                       status=self.status.currentData(), source=self.source.currentData(),
                       tags=[self.tag.currentData()] if self.tag.currentData() else [],
                       gender=self.gender.currentData(), age_min=spin(self.age_min), age_max=spin(self.age_max),
                       bought_within_days=spin(self.bought_within), not_bought_days=spin(self.not_bought),
                       period_from=date(self.period_from), period_to=date(self.period_to),
                       purchases_min=spin(self.purchases_min), purchases_max=spin(self.purchases_max),
                       value_min=parse_int(self.value_min.text()) or None, band=self.band.currentData(),
                       owed_min=parse_int(self.owed_min.text()) or None)

    def update_count(self) -> None:
        try:
            seg = self.segment()
        except (ValueError, UserError) as e:
            self.error_label.setText(getattr(e, "message", None) or str(e))
            return
        self.error_label.setText("")
        self.count = segments.count(seg)
        self.count_label.setText(f"{fmt.count(self.count, 'مشتری')}؛ {seg.describe()}")
        self.changed.emit()

    def save(self) -> None:
        try:
            segments.save(self.name.text(), self.segment())
        except (ValueError, UserError) as e:
            self.error_label.setText(getattr(e, "message", None) or str(e))
            return
        self.error_label.setText("")
        self.count_label.setText(self.count_label.text() + "؛ ذخیره شد")
