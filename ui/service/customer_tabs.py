"""The customer file's after-sale tabs: service requests, documents, contracts and warranty."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import contracts, fmt
from app.core.errors import UserError, ValidationError
from app.service import requests as rq
from ui.context import AppContext
from ui.widgets.forms import error_label

ROLE = Qt.ItemDataRole.UserRole


def _tree(headers) -> QTreeWidget:
    t = QTreeWidget()
    t.setRootIsDecorated(False)
    t.setHeaderLabels(list(headers))
    t.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


class CustomerRequests(QWidget):
    def __init__(self, ctx: AppContext, customer_id: int, parent=None):
        super().__init__(parent)
        self.ctx, self.customer_id = ctx, customer_id
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.summary = QLabel()
        bar.addWidget(self.summary)
        bar.addStretch(1)
        self.new_button = QPushButton("درخواست خدمت تازه")
        bar.addWidget(self.new_button)
        lay.addLayout(bar)
        self.list = _tree(("شماره", "موضوع", "وضعیت", "مسئول", "دریافت"))
        lay.addWidget(self.list, 1)
        self.new_button.clicked.connect(self.new_request)
        self.list.itemDoubleClicked.connect(lambda it, _c: self.open_request(it.data(0, ROLE)))

    def refresh(self) -> None:
        labels = rq.status_labels()
        rows = rq.requests_of_customer(self.customer_id)
        self.list.clear()
        for r in rows:
            it = QTreeWidgetItem([fmt.ltr(r.number), fmt.text_digits(r.subject), labels.get(r.status, r.status), r.assignee_name,
                                  fmt.datetime(r.received_at)])
            it.setData(0, ROLE, r.id)
            if r.overdue:
                it.setForeground(2, QColor("#b91c1c"))
            self.list.addTopLevelItem(it)
        open_n = sum(1 for r in rows if r.status not in rq.RESOLVED)
        self.summary.setText(f"{fmt.count(len(rows), 'درخواست')}، {fmt.count(open_n, 'باز')}")

    def new_request(self):
        from ui.service.request_dialog import open_request_dialog

        dlg = open_request_dialog(self.ctx, customer_id=self.customer_id, parent=self)
        dlg.saved.connect(lambda _i: self.refresh())
        return dlg

    def open_request(self, rid: int):
        from ui.service.request_dialog import open_request_dialog

        dlg = open_request_dialog(self.ctx, rid, parent=self)
        dlg.saved.connect(lambda _i: self.refresh())
        return dlg


class _FormDialog(QDialog):
    """A small form whose save() calls a service; its Persian errors show under the form."""

    def __init__(self, title: str, fields: list[tuple[str, str, QWidget]], save, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.fields = {k: w for k, _l, w in fields}
        self._save = save
        form = QFormLayout(self)
        for _k, label, w in fields:
            form.addRow(label, w)
        self.error = error_label(self)
        form.addRow(self.error)
        buttons = QDialogButtonBox()
        buttons.addButton("ثبت", QDialogButtonBox.ButtonRole.AcceptRole).clicked.connect(self.save)
        buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole).clicked.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        return {k: (w.value() if isinstance(w, QSpinBox) else w.text()) for k, w in self.fields.items()}

    def save(self) -> bool:
        try:
            self._save(self.values())
        except ValidationError as e:
            self.error.setText("\n".join(e.errors.values()))
            self.error.show()
            return False
        except UserError as e:
            self.error.setText(e.message)
            self.error.show()
            return False
        self.accept()
        return True


def _spin(lo: int, hi: int, v: int, suffix: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(v)
    s.setSuffix(suffix)
    return s


class CustomerContracts(QWidget):
    def __init__(self, ctx: AppContext, customer_id: int, parent=None):
        super().__init__(parent)
        self.ctx, self.customer_id = ctx, customer_id
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("قراردادها"))
        bar.addStretch(1)
        self.contract_button = QPushButton("قرارداد تازه…")
        bar.addWidget(self.contract_button)
        lay.addLayout(bar)
        self.contracts = _tree(("عنوان", "شماره", "از", "تا", "مبلغ", "وضعیت"))
        lay.addWidget(self.contracts, 1)
        bar2 = QHBoxLayout()
        bar2.addWidget(QLabel("گارانتی کالاهای فروخته‌شده"))
        bar2.addStretch(1)
        self.warranty_button = QPushButton("گارانتی تازه…")
        bar2.addWidget(self.warranty_button)
        lay.addLayout(bar2)
        self.warranties = _tree(("کالا", "سریال", "فاکتور", "از", "تا", "وضعیت"))
        lay.addWidget(self.warranties, 1)
        self.contract_button.clicked.connect(self.new_contract)
        self.warranty_button.clicked.connect(self.new_warranty)

    def refresh(self) -> None:
        self.contracts.clear()
        for c in contracts.list_contracts(self.customer_id):
            self.contracts.addTopLevelItem(QTreeWidgetItem(
                [fmt.text_digits(c.title), fmt.ltr(fmt.digits(c.number)), fmt.date(c.start_date), fmt.date(c.end_date),
                 fmt.money(c.value) if c.value else "", c.state_label]))
        self.warranties.clear()
        for w in contracts.list_warranties(self.customer_id):
            it = QTreeWidgetItem([fmt.text_digits(w.item), fmt.ltr(w.serial), fmt.ltr(fmt.digits(w.invoice_number)),
                                  fmt.date(w.start_date), fmt.date(w.end_date), w.state_label])
            if w.state_label != "فعال":
                it.setForeground(5, QColor("#b91c1c" if not w.active else "#b45309"))
            self.warranties.addTopLevelItem(it)

    def new_contract(self) -> _FormDialog:
        fields = [("title", "عنوان:", QLineEdit()), ("number", "شماره:", QLineEdit()),
                  ("start_date", "شروع (شمسی):", QLineEdit()), ("end_date", "پایان (شمسی):", QLineEdit()),
                  ("value", "مبلغ (ریال):", QLineEdit()),
                  ("remind_days", "یادآوری تمدید:", _spin(0, 365, 30, " روز پیش از پایان"))]
        for k, ph in (("start_date", "۱۴۰۵/۰۱/۰۱"), ("end_date", "۱۴۰۵/۱۲/۲۹")):
            next(w for kk, _l, w in fields if kk == k).setPlaceholderText(ph)
        dlg = _FormDialog("قرارداد تازه", fields, lambda v: contracts.create_contract(
            {**v, "customer_id": self.customer_id}, user=self.ctx.user_id), self)
        dlg.accepted.connect(self.refresh)
        dlg.show()
        return dlg

    def new_warranty(self) -> _FormDialog:
        fields = [("item", "کالا:", QLineEdit()), ("serial", "سریال:", QLineEdit()),
                  ("start_date", "شروع (شمسی):", QLineEdit()),
                  ("months", "مدت:", _spin(1, 240, 12, " ماه")),
                  ("remind_days", "یادآوری:", _spin(0, 365, 30, " روز پیش از پایان"))]
        dlg = _FormDialog("گارانتی تازه", fields, lambda v: contracts.create_warranty(
            {**v, "customer_id": self.customer_id}, user=self.ctx.user_id), self)
        dlg.accepted.connect(self.refresh)
        dlg.show()
        return dlg


def add_tabs(ctx: AppContext, customer_id: int, tabs: QTabWidget) -> dict[str, QWidget]:
    """Add the after-sale tabs to a customer file's tab widget; returns them by key. They are empty until their
    refresh() (the file reads a tab when it is chosen)."""
    from ui.documents import DocumentsPanel

    out = {"requests": CustomerRequests(ctx, customer_id),
           "documents": DocumentsPanel(ctx, "customer", customer_id, customer_id=customer_id, read=False),
           "contracts": CustomerContracts(ctx, customer_id)}
    tabs.addTab(out["requests"], "درخواست‌های خدمت")
    tabs.addTab(out["documents"], "اسناد")
    tabs.addTab(out["contracts"], "قرارداد و گارانتی")
    return out
