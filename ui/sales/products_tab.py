"""The products and services tab (the price list) and its edit dialog.
"""
from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.errors import ValidationError
from app.core.text import parse_int
from app.core.words import amount_in_words
from app.sales.products import ProductRow, list_products, save_product
from ui.context import AppContext
from ui.sales.common import GREY
from ui.widgets.columns import fit_columns
from ui.widgets.forms import FieldErrors
from ui.widgets.rows_table import RowsModel, rows_table, selected_row

logger = logging.getLogger(__name__)


# --- products ----------------------------------------------------------------------------------------------

class ProductDialog(QDialog):
    def __init__(self, product: ProductRow | None = None, parent=None):
        super().__init__(parent)
        self.product = product
        self.setWindowTitle("کالا یا خدمت" if product is None else f"ویرایش «{product.name}»")
        self.errors = FieldErrors()
        form = QFormLayout(self)
        self.code = QLineEdit(product.code if product else "")
        self.code.setPlaceholderText("خالی: خودکار")
        self.name = QLineEdit(product.name if product else "")
        self.kind = QComboBox()
        self.kind.addItem("کالا", "goods")
        self.kind.addItem("خدمت", "service")
        if product:
            self.kind.setCurrentIndex(self.kind.findData(product.kind))
        self.unit = QLineEdit(product.unit if product else "عدد")
        self.price = QLineEdit(str(product.price) if product else "")
        self.price.setPlaceholderText("ریال")
        self.price_words = QLabel()
        self.price_words.setProperty("role", "muted")
        self.exempt = QCheckBox("معاف از مالیات بر ارزش افزوده")
        self.exempt.setChecked(bool(product and product.vat_exempt))
        self.goods_id = QLineEdit(product.goods_id if product else "")
        self.goods_id.setPlaceholderText("۱۳ رقم (سامانه مودیان)")
        self.description = QPlainTextEdit(product.description if product else "")
        self.description.setMaximumHeight(70)
        self.active = QCheckBox("فعال (در فهرست انتخاب کالا)")
        self.active.setChecked(product.active if product else True)
        form.addRow("کد", self.errors.wrap("code", self.code))
        form.addRow("نام", self.errors.wrap("name", self.name))
        form.addRow("نوع", self.kind)
        form.addRow("واحد", self.unit)
        form.addRow("قیمت (ریال)", self.errors.wrap("price", self.price))
        form.addRow("", self.price_words)
        form.addRow("", self.exempt)
        form.addRow("شناسه کالا/خدمت", self.errors.wrap("goods_id", self.goods_id))
        form.addRow("توضیحات", self.description)
        form.addRow("", self.active)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("ذخیره")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.price.textChanged.connect(self._price_changed)
        self._price_changed(self.price.text())
        self.saved: ProductRow | None = None

    def _price_changed(self, text: str) -> None:
        v = parse_int(text)
        self.price_words.setText(amount_in_words(v) if v and v > 0 else "")

    def save(self) -> ProductRow | None:
        data = dict(code=self.code.text(), name=self.name.text(), kind=self.kind.currentData(),
                    unit=self.unit.text(), price=self.price.text() or "0", vat_exempt=self.exempt.isChecked(),
                    goods_id=self.goods_id.text(), description=self.description.toPlainText(),
                    active=self.active.isChecked())
        try:
            self.saved = save_product(data, self.product.id if self.product else None)
        except ValidationError as e:
            self.errors.show(e)
            return None
        self.accept()
        return self.saved


def _grey_when_inactive(p: ProductRow):
    return None if p.active else GREY


class ProductsTab(QWidget):
    COLUMNS = (("کد", lambda p: p.code),
               ("نام", lambda p: fmt.text_digits(p.name)),
               ("نوع", lambda p: "خدمت" if p.kind == "service" else "کالا"),
               ("واحد", lambda p: p.unit),
               ("قیمت (ریال)", lambda p: fmt.num(p.price)),
               ("معاف", lambda p: "معاف" if p.vat_exempt else ""),
               ("شناسه کالا", lambda p: fmt.digits(p.goods_id)),
               ("وضعیت", lambda p: "فعال" if p.active else "غیرفعال"))

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("جستجوی کالا: نام، کد یا شناسه")
        self.search.setClearButtonEnabled(True)
        self.show_inactive = QCheckBox("نمایش غیرفعال‌ها")
        self.btn_new = QPushButton("کالا یا خدمت جدید")
        self.btn_edit = QPushButton("ویرایش")
        top.addWidget(self.search, 1)
        top.addWidget(self.show_inactive)
        top.addWidget(self.btn_new)
        top.addWidget(self.btn_edit)
        lay.addLayout(top)
        self.model = RowsModel([(title, text, _grey_when_inactive) for title, text in self.COLUMNS], numeric=(4,))
        self.table = rows_table(self.model, stretch=1)          # the others: fit_columns
        lay.addWidget(self.table, 1)
        self.search.textChanged.connect(lambda _t: self.refresh())
        self.show_inactive.toggled.connect(lambda _b: self.refresh())
        self.btn_new.clicked.connect(lambda: self.edit(None))
        self.btn_edit.clicked.connect(self.edit_selected)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(list_products(self.search.text(), active_only=not self.show_inactive.isChecked()))
        fit_columns(self.table, skip=(1,))

    @property
    def rows(self) -> list[ProductRow]:
        return self.model.rows

    def edit_selected(self) -> ProductDialog | None:
        p = self.model.row(selected_row(self.table))
        return None if p is None else self.edit(p)

    def edit(self, product: ProductRow | None, exec_dialog: bool = True) -> ProductDialog:
        dlg = ProductDialog(product, self)
        dlg.accepted.connect(self._saved)
        if exec_dialog:
            dlg.open()
        return dlg

    def _saved(self) -> None:
        self.refresh()
        self.ctx.bus.data_changed.emit("products")
