"""The customer form: create or edit a person or an organisation, with phones, addresses and tags.

The service (app.customers) validates; this form only collects what was typed, shows each Persian message
under its field, and warns about duplicates (a shared phone number or national ID) before saving.
Its parts: ui.customers.form_fields (combos, tags, digit fields), ui.customers.contact_rows (phone and address
rows), ui.customers.duplicate_dialog («مشتری تکراری؟»).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app import fmt, options, settings
from app.core.errors import UserError, ValidationError
from app.customers import service as cs
from ui.context import AppContext
from ui.customers.contact_rows import AddressRow, PhoneRow
from ui.customers.duplicate_dialog import DuplicateWarningDialog
from ui.customers.form_fields import (
    RANKS,
    TITLES,
    LazyCombo,
    TagEdit,
    digits_field,
    editable_combo,
    merge_lists,
)
from ui.widgets import JalaliDateEdit
from ui.widgets.forms import FieldErrors, error_label

logger = logging.getLogger(__name__)


class CustomerFormDialog(QDialog):
    """Create (customer_id=None) or edit a customer. `prefill` fills a new form, e.g. {"phones": [{"raw": …}]}.

    After a save: `saved_id` holds the customer's id, `saved(int)` is emitted, and the bus announces
    customer_changed(id) and data_changed("customers").
    """

    saved = Signal(int)

    def __init__(self, ctx: AppContext, customer_id: int | None = None, prefill: dict | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id = customer_id
        self.saved_id: int | None = None
        self.confirm_discard = True      # ask before closing over unsaved typing
        self.discard_box: QMessageBox | None = None
        self.original: dict = {}
        self.errors = FieldErrors()
        self.phone_rows: list[PhoneRow] = []
        self.address_rows: list[AddressRow] = []
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.setModal(False)
        if customer_id is not None:
            self.original = cs.customer_data(customer_id)
            while self.original.get("merged_into"):
                self.customer_id = self.original["merged_into"]
                self.original = cs.customer_data(self.customer_id)
        self._build()
        data = self.original or dict(prefill or {})
        self._load(data)
        if customer_id is None:
            self.setWindowTitle("مشتری جدید")
        else:
            self.setWindowTitle(f"ویرایش پرونده — {self.original.get('display_name', '')}")
        self._fit_to_screen()
        self._fix_tab_order()
        self._initial = self.collect()
        first = self.company if data.get("kind") == "organisation" else self.first_name
        first.setFocus()

    # --- building -----------------------------------------------------------------------------------------
    def _fit_to_screen(self) -> None:
        """As tall as the content (no scrolling) where the screen allows; the scroll area covers the rest."""
        want_h = self.body.sizeHint().height() + self.buttons.sizeHint().height() + 40
        want_w = max(1000, self.body.sizeHint().width() + 40)
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is not None and screen.height() > 500:
            want_h = min(want_h, screen.height() - 40)
            want_w = min(want_w, screen.width() - 20)
        self.resize(want_w, want_h)

    def _pair(self, grid: QGridLayout, row: int, col: int, name: str, text: str, widget: QWidget,
              span: int = 1) -> None:
        """A label and its field (with the red error label under it) at grid cell (row, col of 2)."""
        label = QLabel(text)
        label.setBuddy(widget.focusProxy() or widget)
        box = self.errors.wrap(name, widget)
        grid.addWidget(label, row, col * 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(box, row, col * 2 + 1, 1, 1 + (span - 1) * 2)
        label.setContentsMargins(0, 5, 0, 0)
        self.labels[name] = label
        self.cells[name] = (label, box)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = body = QWidget()
        main = QVBoxLayout(body)
        main.setContentsMargins(4, 4, 4, 4)
        main.setSpacing(8)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        E = self.errors
        self.labels: dict[str, QLabel] = {}
        self.cells: dict[str, tuple[QLabel, QWidget]] = {}

        # identity: kind and stage, then two label/field pairs per row
        ident = QGroupBox("مشخصات")
        self.ident_grid = g = QGridLayout(ident)
        g.setHorizontalSpacing(10)
        g.setVerticalSpacing(6)
        g.setColumnStretch(1, 1)
        g.setColumnStretch(3, 1)
        self.kind_group = QButtonGroup(self)
        self.kind_person = QRadioButton("حقیقی (شخص)")
        self.kind_org = QRadioButton("حقوقی (شرکت یا سازمان)")
        self.kind_group.addButton(self.kind_person)
        self.kind_group.addButton(self.kind_org)
        self.stage_group = QButtonGroup(self)
        self.stage_actual = QRadioButton("مشتری")
        self.stage_potential = QRadioButton("سرنخ (مشتری بالقوه)")
        self.stage_group.addButton(self.stage_actual)
        self.stage_group.addButton(self.stage_potential)
        for col, (title, a, b) in enumerate((("نوع", self.kind_person, self.kind_org),
                                             ("مرحله", self.stage_actual, self.stage_potential))):
            row = QHBoxLayout()
            row.addWidget(a)
            row.addWidget(b)
            row.addStretch(1)
            g.addWidget(QLabel(title), 0, col * 2)
            g.addLayout(row, 0, col * 2 + 1)
        self.kind_person.toggled.connect(self._update_kind)

        self.title = editable_combo(list(TITLES))
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.company = QLineEdit()
        self.job = QLineEdit()
        self.national_id = QLineEdit()
        self.national_id.setMaxLength(14)
        self.economic_code = QLineEdit()
        self.economic_code.setMaxLength(16)
        self.registration_no = QLineEdit()
        self.registration_no.setMaxLength(20)
        self.birthday = JalaliDateEdit()
        self.anniversary = JalaliDateEdit()
        for w in (self.national_id, self.economic_code, self.registration_no):
            digits_field(w)
        for r, pairs in enumerate((
            (("title", "عنوان", self.title), ("company", "شرکت / محل کار", self.company)),
            (("first_name", "نام", self.first_name), ("last_name", "نام خانوادگی", self.last_name)),
            (("job", "شغل / سمت", self.job), ("national_id", "کد ملی", self.national_id)),
            (("economic_code", "کد اقتصادی", self.economic_code),
             ("registration_no", "شماره ثبت", self.registration_no)),
            (("birthday", "تاریخ تولد", self.birthday), ("anniversary", "سالگرد ازدواج", self.anniversary)),
        ), start=1):
            for col, (name, text, widget) in enumerate(pairs):
                self._pair(g, r, col, name, text, widget)
        main.addWidget(ident)

        # classification
        cls_box = QGroupBox("دسته‌بندی و پیگیری")
        c = QGridLayout(cls_box)
        c.setHorizontalSpacing(10)
        c.setVerticalSpacing(6)
        c.setColumnStretch(1, 1)
        c.setColumnStretch(3, 1)
        self.customer_type = editable_combo(merge_lists(settings.csv_list(options.CUSTOMERS_TYPES),
                                                          cs.distinct_values("customer_type")))
        self.rank = editable_combo(merge_lists(list(RANKS), cs.distinct_values("rank")))
        self.status = QComboBox()
        for key, text in cs.STATUS_LABELS.items():
            if key != "merged":
                self.status.addItem(text, key)
        self.activity_field = LazyCombo(lambda: cs.distinct_values("activity_field"))
        self.source = editable_combo(merge_lists(settings.csv_list(options.CUSTOMERS_SOURCES),
                                                   cs.distinct_values("source")))
        self.assigned_to = QComboBox()
        self.assigned_to.addItem("—", None)
        for u in cs.users():
            self.assigned_to.addItem(u.name, u.id)
        self.tags = TagEdit(cs.all_tags())
        for r, pairs in enumerate((
            (("customer_type", "نوع / گروه", self.customer_type), ("rank", "رتبه", self.rank)),
            (("status", "وضعیت", self.status), ("activity_field", "زمینه فعالیت", self.activity_field)),
            (("source", "نحوه آشنایی", self.source), ("assigned_to", "کارشناس مسئول", self.assigned_to)),
        )):
            for col, (name, text, widget) in enumerate(pairs):
                self._pair(c, r, col, name, text, widget)
        self._pair(c, 3, 0, "tags", "برچسب‌ها", self.tags, span=2)
        main.addWidget(cls_box)

        columns = QHBoxLayout()
        columns.setSpacing(10)
        right = QVBoxLayout()
        left = QVBoxLayout()
        columns.addLayout(right, 1)
        columns.addLayout(left, 1)
        main.addLayout(columns, 1)

        # phones
        phones_box = QGroupBox("شماره‌های تماس")
        pl = QVBoxLayout(phones_box)
        self.phones_layout = QVBoxLayout()
        self.phones_layout.setSpacing(2)
        pl.addLayout(self.phones_layout)
        self.add_phone_button = QPushButton("+ افزودن شماره")
        self.add_phone_button.setAutoDefault(False)
        self.add_phone_button.clicked.connect(lambda: self.add_phone_row(focus=True))
        pl.addWidget(self.add_phone_button, 0, Qt.AlignmentFlag.AlignLeading)
        right.addWidget(phones_box)

        # addresses
        addr_box = QGroupBox("نشانی‌ها")
        al = QVBoxLayout(addr_box)
        self.addresses_layout = QVBoxLayout()
        self.addresses_layout.setSpacing(2)
        al.addLayout(self.addresses_layout)
        self.add_address_button = QPushButton("+ افزودن نشانی")
        self.add_address_button.setAutoDefault(False)
        self.add_address_button.clicked.connect(lambda: self.add_address_row(focus=True))
        al.addWidget(self.add_address_button, 0, Qt.AlignmentFlag.AlignLeading)
        right.addWidget(addr_box)
        right.addStretch(1)

        # other contact
        contact = QGroupBox("راه‌های دیگر ارتباط")
        c = QGridLayout(contact)
        c.setColumnStretch(1, 1)
        self.email = QLineEdit()
        self.email.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.email.setPlaceholderText("name@example.com")
        self.website = QLineEdit()
        self.website.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.postal_code = QLineEdit()
        self.postal_code.setMaxLength(12)
        digits_field(self.postal_code)
        for r, (name, text, widget) in enumerate((("email", "ایمیل", self.email),
                                                  ("website", "وب‌سایت", self.website),
                                                  ("postal_code", "کد پستی صورتحساب", self.postal_code))):
            self._pair(c, r, 0, name, text, widget)
        # Each address has its own «کد پستی»; this one is what an invoice prints for the buyer.
        self.postal_code.setPlaceholderText("خالی: کد پستی نشانی اول")
        self.postal_code.setToolTip("کد پستی‌ای که در صورتحساب برای خریدار چاپ می‌شود؛ اگر خالی بماند، "
                                    "کد پستی نشانی محل کار (یا نشانی اول) به کار می‌رود.")
        left.addWidget(contact)

        desc_box = QGroupBox("توضیحات")
        dl = QVBoxLayout(desc_box)
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(70)
        dl.addWidget(E.wrap("description", self.description))
        left.addWidget(desc_box, 1)

        # bottom: messages without a field, buttons
        self.general_error = error_label()
        E.general = self.general_error
        outer.addWidget(self.general_error)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("ذخیره", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("انصراف", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Enter یا Ctrl+S")
        self.cancel_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        outer.addWidget(self.buttons)
        for keys in ("Ctrl+S", "Ctrl+Return"):
            QShortcut(QKeySequence(keys), self, activated=self.save)

    # --- dynamic rows -------------------------------------------------------------------------------------
    def _add_row(self, row, rows: list, layout, on_removed, focus_widget: QWidget | None) -> None:
        """Put a phone/address row in its list with a red error label under it, then re-register the error
        slots and the tab order."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        v.addWidget(row)
        row.error = error_label(box)
        v.addWidget(row.error)
        row.box = box
        row.removed.connect(on_removed)
        layout.addWidget(box)
        box.show()       # a layout shows a late-added child only on the next event loop pass
        rows.append(row)
        self._register_rows()
        self._fix_tab_order()
        if focus_widget is not None:
            focus_widget.setFocus()

    def add_phone_row(self, data: dict | None = None, focus: bool = False) -> PhoneRow:
        row = PhoneRow(data)
        self._add_row(row, self.phone_rows, self.phones_layout, self._remove_phone_row,
                      row.number if focus else None)
        return row

    def _remove_phone_row(self, row: PhoneRow) -> None:
        if row not in self.phone_rows:
            return
        i = self.phone_rows.index(row)
        self.phone_rows.remove(row)
        row.box.setParent(None)
        row.box.deleteLater()
        if not self.phone_rows:
            self.add_phone_row()
        self._register_rows()
        self._fix_tab_order()
        target = self.phone_rows[min(i, len(self.phone_rows) - 1)]
        target.number.setFocus()

    def add_address_row(self, data: dict | None = None, focus: bool = False) -> AddressRow:
        row = AddressRow(data)
        self._add_row(row, self.address_rows, self.addresses_layout, self._remove_address_row,
                      row.province if focus else None)
        return row

    def _remove_address_row(self, row: AddressRow) -> None:
        if row not in self.address_rows:
            return
        self.address_rows.remove(row)
        row.box.setParent(None)
        row.box.deleteLater()
        if not self.address_rows:
            self.add_address_row()
        self._register_rows()
        self._fix_tab_order()

    def _register_rows(self) -> None:
        self.errors.unregister_prefix("phones.")
        self.errors.unregister_prefix("addresses.")
        for i, r in enumerate(self.phone_rows):
            self.errors.register(f"phones.{i}", r.number, r.error)
        for i, r in enumerate(self.address_rows):
            self.errors.register(f"addresses.{i}", r.postal_code, r.error)

    def _focus_chain(self) -> list[QWidget]:
        chain: list[QWidget] = [self.kind_person, self.kind_org, self.stage_actual, self.stage_potential,
                                self.title, self.first_name, self.last_name, self.company, self.job,
                                self.national_id, self.economic_code, self.registration_no,
                                self.birthday.line, self.anniversary.line,
                                self.customer_type, self.rank, self.status, self.activity_field, self.source,
                                self.assigned_to, self.tags]
        for r in self.phone_rows:
            chain += r.focus_widgets()
        chain.append(self.add_phone_button)
        for r in self.address_rows:
            chain += r.focus_widgets()
        chain += [self.add_address_button, self.email, self.website, self.postal_code, self.description,
                  self.save_button, self.cancel_button]
        return chain

    def _fix_tab_order(self) -> None:
        chain = self._focus_chain()
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    # --- kind ---------------------------------------------------------------------------------------------
    def _update_kind(self) -> None:
        org = self.kind_org.isChecked()
        self.labels["first_name"].setText("نام رابط" if org else "نام")
        self.labels["last_name"].setText("نام خانوادگی رابط" if org else "نام خانوادگی")
        self.labels["company"].setText("نام شرکت / سازمان" if org else "شرکت / محل کار")
        self.labels["job"].setText("سمت رابط" if org else "شغل / سمت")
        self.labels["national_id"].setText("شناسه ملی" if org else "کد ملی")
        self.national_id.setPlaceholderText("۱۱ رقم" if org else "۱۰ رقم")
        # A field that does not apply stays visible while it holds something: nothing is lost unseen.
        rows = {"economic_code": (org or bool(self.economic_code.text().strip()), self.economic_code),
                "registration_no": (org or bool(self.registration_no.text().strip()), self.registration_no),
                "birthday": (not org or bool(self.birthday.text().strip()), self.birthday),
                "anniversary": (not org or bool(self.anniversary.text().strip()), self.anniversary)}
        for name, (visible, _w) in rows.items():
            for w in self.cells[name]:
                w.setVisible(visible)

    # --- data ---------------------------------------------------------------------------------------------
    def _load(self, d: dict) -> None:
        (self.kind_org if d.get("kind") == "organisation" else self.kind_person).setChecked(True)
        (self.stage_potential if d.get("stage") == "potential" else self.stage_actual).setChecked(True)
        # Stored text has ASCII digits (app.text.clean); the form shows Persian ones, except in Latin fields.
        for name in ("email", "website"):
            getattr(self, name).setText(d.get(name) or "")
        for name in ("first_name", "last_name", "company", "job", "registration_no", "national_id",
                     "economic_code", "postal_code"):
            getattr(self, name).setText(fmt.digits(d.get(name) or ""))
        self.title.setCurrentText(d.get("title") or "")
        self.customer_type.setCurrentText(d.get("customer_type") or "")
        self.rank.setCurrentText(d.get("rank") or "")
        self.activity_field.setCurrentText(d.get("activity_field") or "")
        self.source.setCurrentText(d.get("source") or "")
        status = d.get("status") or "active"
        if self.status.findData(status) < 0:
            self.status.addItem(cs.STATUS_LABELS.get(status, status), status)
        self.status.setCurrentIndex(self.status.findData(status))
        assigned = d.get("assigned_to")
        if assigned is None and not self.original:
            assigned = self.ctx.user_id
        idx = self.assigned_to.findData(assigned) if assigned else 0
        if assigned and idx < 0:
            self.assigned_to.addItem(d.get("assigned_name") or f"کاربر {assigned}", assigned)
            idx = self.assigned_to.count() - 1
        self.assigned_to.setCurrentIndex(max(idx, 0))
        self.birthday.setDate(d.get("birthday"))
        self.anniversary.setDate(d.get("anniversary"))
        self.tags.set_tags([fmt.digits(t) for t in d.get("tags") or []])
        self.description.setPlainText(d.get("description") or "")   # may hold Latin codes (LED-40W)
        for p in d.get("phones") or []:
            self.add_phone_row(p if isinstance(p, dict) else {"raw": str(p)})
        if not self.phone_rows:
            self.add_phone_row()
        for a in d.get("addresses") or []:
            self.add_address_row(a)
        if not self.address_rows:
            self.add_address_row()
        self._update_kind()

    def collect(self) -> dict:
        """What the user typed, as the service expects it (the service cleans and validates)."""
        org = self.kind_org.isChecked()
        d = {
            "kind": "organisation" if org else "person",
            "stage": "potential" if self.stage_potential.isChecked() else "actual",
            "title": self.title.currentText(),
            "customer_type": self.customer_type.currentText(),
            "rank": self.rank.currentText(),
            "status": self.status.currentData(),
            "activity_field": self.activity_field.currentText(),
            "source": self.source.currentText(),
            "assigned_to": self.assigned_to.currentData(),
            "birthday": self.birthday.value(),
            "anniversary": self.anniversary.value(),
            "description": self.description.toPlainText(),
            "tags": self.tags.tags(),
            "phones": [r.value() for r in self.phone_rows],
            "addresses": [r.value() for r in self.address_rows],
        }
        for name in ("first_name", "last_name", "company", "job", "national_id", "economic_code",
                     "registration_no", "postal_code", "email", "website"):
            d[name] = getattr(self, name).text()
        return d

    # --- saving -------------------------------------------------------------------------------------------
    def _error_order(self) -> list[str]:
        fixed = ["kind", "stage", "title", "first_name", "last_name", "company", "job", "national_id",
                 "economic_code", "registration_no", "birthday", "anniversary", "customer_type", "rank",
                 "status", "activity_field", "source", "assigned_to", "tags"]
        fixed += [f"phones.{i}" for i in range(len(self.phone_rows))]
        fixed += [f"addresses.{i}" for i in range(len(self.address_rows))]
        return fixed + ["email", "website", "postal_code", "description"]

    def show_errors(self, e: UserError) -> None:
        widget = self.errors.show(e, self._error_order())
        if widget is not None:
            scroll = self.findChild(QScrollArea)
            if scroll is not None:
                scroll.ensureWidgetVisible(widget)

    def _duplicates_to_check(self, cleaned: dict) -> dict | None:
        """What to check for duplicates: everything when new; only what changed when editing."""
        if not self.original:
            return cleaned
        old_phones = {p["canonical"] for p in self.original.get("phones", [])}
        new_phones = [p for p in cleaned["phones"] if p["canonical"] not in old_phones]
        nid = cleaned["national_id"] if cleaned["national_id"] != self.original.get("national_id") else ""
        if not new_phones and not nid:
            return None
        return {"phones": new_phones, "national_id": nid}

    def is_dirty(self) -> bool:
        return self.confirm_discard and self.saved_id is None and self.collect() != self._initial

    def reject(self) -> None:
        """Esc, «انصراف» or the window's close button: ask before throwing typed work away.

        The question is window-modal and asynchronous (open(), not exec()): nothing blocks, and a
        programmatic close() of a form with typing in it just leaves the question on screen."""
        if not self.is_dirty():
            super().reject()
            return
        if self.discard_box is not None and self.discard_box.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Question, "تغییرات ذخیره نشده",
                          "تغییرات این فرم ذخیره نشده است. فرم بسته شود و تغییرات از بین برود؟", parent=self)
        box.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.discard_button = box.addButton("بستن بدون ذخیره", QMessageBox.ButtonRole.DestructiveRole)
        box.keep_button = box.addButton("ادامه ویرایش", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(box.keep_button)
        box.buttonClicked.connect(lambda b: self._discard_answered(b is box.discard_button))
        self.discard_box = box
        box.open()

    def _discard_answered(self, discard: bool) -> None:
        if discard:
            self.confirm_discard = False
            super().reject()

    def save(self) -> bool:
        """Validate, warn about duplicates, save. True when saved (the dialog then closes)."""
        self.errors.clear()
        data = self.collect()
        try:
            cleaned = cs.validate(data)
        except ValidationError as e:
            self.show_errors(e)
            return False
        check = self._duplicates_to_check(cleaned)
        dups = cs.find_duplicates(check, exclude_id=self.customer_id) if check else []
        merge_into: int | None = None
        if dups:
            dlg = DuplicateWarningDialog(dups, editing=bool(self.original), parent=self)
            dlg.exec()
            if dlg.choice == dlg.BACK:
                return False
            if dlg.choice == dlg.OPEN:
                self.ctx.bus.open_customer.emit(dlg.selected_id())
                if not self.original:
                    super().reject()     # the customer exists already: nothing of this form is wanted
                return False
            if dlg.choice == dlg.MERGE:
                merge_into = dlg.selected_id()
        try:
            if self.original:
                c = cs.update_customer(self.customer_id, data, self.ctx.user_id)
            else:
                c = cs.create_customer(data, self.ctx.user_id)
            saved_id = c.id
            if merge_into is not None:
                cs.merge(merge_into, c.id, self.ctx.user_id)
                self.ctx.bus.customer_changed.emit(c.id)
                saved_id = merge_into
        except ValidationError as e:
            self.show_errors(e)
            return False
        except UserError as e:
            logger.info("customer not saved: %s", e.message)
            QMessageBox.warning(self, "ذخیره نشد", e.message)
            return False
        self.saved_id = saved_id
        self.customer_id = saved_id
        logger.info("customer %s saved", saved_id)
        self.saved.emit(saved_id)
        self.ctx.bus.customer_changed.emit(saved_id)
        self.ctx.bus.data_changed.emit("customers")
        self.ctx.bus.status_message.emit("پرونده مشتری ذخیره شد.")
        self.accept()
        return True


def edit_customer(ctx: AppContext, customer_id: int | None = None, prefill: dict | None = None,
                  parent: QWidget | None = None) -> CustomerFormDialog | None:
    """Open the form without blocking (the caller-ID popup, the list and the file all use this).

    Returns None (after telling the user) when the customer no longer exists."""
    try:
        dlg = CustomerFormDialog(ctx, customer_id=customer_id, prefill=prefill, parent=parent)
    except UserError as e:
        QMessageBox.warning(parent, "پرونده مشتری", e.message)
        return None
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
