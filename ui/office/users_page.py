"""Colleagues and roles (a settings tab): who may sign in, their role and password, this PC's automatic
sign-in, the roles' permissions, hand-over of a colleague's work. Everyone may change their own password;
the rest is the admin's («users.manage»), the hand-over the manager's («handover»)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.errors import UserError
from app.office import auth, handover, roles, session, users

USER_ROLE = Qt.ItemDataRole.UserRole


def _error_label() -> QLabel:
    lab = QLabel()
    lab.setWordWrap(True)
    return lab


class PasswordDialog(QDialog):
    """A new password, twice (and the current one when you change your own)."""

    def __init__(self, user_id: int, name: str, own: bool, parent=None):
        super().__init__(parent)
        self.user_id = user_id
        self.setWindowTitle(f"رمز عبور {name}")
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.old = QLineEdit() if own and not roles.can("users.manage") else None
        self.new = QLineEdit()
        self.again = QLineEdit()
        for w in (self.old, self.new, self.again):
            if w is not None:
                w.setEchoMode(QLineEdit.EchoMode.Password)
                w.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        if self.old is not None:
            form.addRow("رمز فعلی:", self.old)
        form.addRow("رمز تازه:", self.new)
        form.addRow("تکرار رمز تازه:", self.again)
        lay.addLayout(form)
        self.error = _error_label()
        self.error.setProperty("role", "error")
        lay.addWidget(self.error)
        b = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        b.button(QDialogButtonBox.StandardButton.Ok).setText("ذخیره")
        b.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        b.accepted.connect(self.save)
        b.rejected.connect(self.reject)
        lay.addWidget(b)

    def save(self) -> bool:
        if self.new.text() != self.again.text():
            self.error.setText("دو رمز تازه یکی نیستند.")
            return False
        try:
            auth.set_password(self.user_id, self.new.text(), self.old.text() if self.old is not None else None)
        except UserError as e:
            self.error.setText(e.message)
            return False
        self.accept()
        return True


class HandoverDialog(QDialog):
    """Hand a colleague's customers and open work to others: all, or one city's / one tag's."""

    def __init__(self, from_user: int | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("واگذاری کارهای همکار")
        self.result_plan = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.giver = QComboBox()
        for u in users.list_users(active_only=True):
            self.giver.addItem(u.name, u.id)
        if from_user is not None:
            self.giver.setCurrentIndex(max(0, self.giver.findData(from_user)))
        self.receivers = QListWidget()
        self.receivers.setMaximumHeight(110)
        form.addRow("از:", self.giver)
        form.addRow("به (یک یا چند نفر):", self.receivers)
        self.customers = QCheckBox("مشتریان")
        self.tasks = QCheckBox("کارها و پیگیری‌های باز")
        self.opps = QCheckBox("فرصت‌های فروش")
        for c in (self.customers, self.tasks, self.opps):
            c.setChecked(True)
        what = QHBoxLayout()
        for c in (self.customers, self.tasks, self.opps):
            what.addWidget(c)
        form.addRow("چه چیز:", what)
        self.city = QLineEdit()
        self.city.setPlaceholderText("همه شهرها")
        self.tag = QLineEdit()
        self.tag.setPlaceholderText("همه برچسب‌ها")
        form.addRow("فقط مشتریان شهر:", self.city)
        form.addRow("فقط مشتریان با برچسب:", self.tag)
        self.note = QLineEdit()
        form.addRow("یادداشت برای گیرندگان:", self.note)
        self.deactivate = QCheckBox("پس از واگذاری، این همکار غیرفعال شود (رفته است)")
        self.deactivate.setEnabled(roles.can("users.manage"))
        lay.addLayout(form)
        lay.addWidget(self.deactivate)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        lay.addWidget(self.preview)
        b = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = b.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("واگذار کن")
        b.button(QDialogButtonBox.StandardButton.Cancel).setText("انصراف")
        b.accepted.connect(self.run)
        b.rejected.connect(self.reject)
        lay.addWidget(b)
        self.giver.currentIndexChanged.connect(self._fill_receivers)
        for sig in (self.customers.toggled, self.tasks.toggled, self.opps.toggled, self.city.textChanged,
                    self.tag.textChanged, self.receivers.itemChanged):
            sig.connect(self.refresh)
        self._fill_receivers()
        self.setMinimumWidth(480)

    def _fill_receivers(self) -> None:
        self.receivers.blockSignals(True)
        self.receivers.clear()
        for u in users.list_users(active_only=True):
            if u.id == self.giver.currentData():
                continue
            it = QListWidgetItem(u.name)
            it.setData(USER_ROLE, u.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Unchecked)
            self.receivers.addItem(it)
        self.receivers.blockSignals(False)
        self.refresh()

    def chosen(self) -> list[int]:
        return [self.receivers.item(i).data(USER_ROLE) for i in range(self.receivers.count())
                if self.receivers.item(i).checkState() == Qt.CheckState.Checked]

    def scope(self) -> handover.Scope:
        from app.customers.service import Filter

        f = None
        if self.city.text().strip() or self.tag.text().strip():
            f = Filter(city=self.city.text().strip(), tag=self.tag.text().strip())
        return handover.Scope(customers=self.customers.isChecked(), tasks=self.tasks.isChecked(),
                              opportunities=self.opps.isChecked(), customer_filter=f)

    def refresh(self) -> None:
        to = self.chosen()
        if not to:
            self.preview.setText("گیرنده یا گیرندگان را علامت بزنید.")
            self.ok.setEnabled(False)
            return
        try:
            p = handover.plan(self.giver.currentData(), to, self.scope())
        except UserError as e:
            self.preview.setText(e.message)
            self.ok.setEnabled(False)
            return
        c = p.counts()
        self.preview.setText(f"واگذار می‌شود: {fmt.count(c['customers'], 'مشتری')}، "
                             f"{fmt.count(c['tasks'], 'کار و پیگیری')}، {fmt.count(c['opportunities'], 'فرصت فروش')}.")
        self.ok.setEnabled(True)

    def run(self) -> None:
        try:
            self.result_plan = handover.hand_over(self.giver.currentData(), self.chosen(), self.scope(),
                                                  note=self.note.text().strip(),
                                                  deactivate=self.deactivate.isChecked())
        except UserError as e:
            self.preview.setText(e.message)
            return
        self.accept()


class UsersPage(QWidget):
    TITLE = "همکاران و نقش‌ها"

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.admin = roles.can("users.manage")
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs)
        self.tabs.addTab(self._people_tab(), "همکاران")
        self.tabs.addTab(self._roles_tab(), "نقش‌ها و دسترسی‌ها")
        self.reload()

    # --- colleagues ---------------------------------------------------------------------------------
    def _people_tab(self) -> QWidget:
        w = QWidget()
        lay = QHBoxLayout(w)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["نام", "نام کاربری", "نقش", "وضعیت", "رمز", "داخلی"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        lay.addWidget(self.table, 3)
        side = QVBoxLayout()
        box = QGroupBox("مشخصات همکار")
        form = QFormLayout(box)
        self.name = QLineEdit()
        self.username = QLineEdit()
        self.username.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.role = QComboBox()
        self.active = QCheckBox("فعال (می‌تواند وارد شود)")
        self.active.setChecked(True)
        self.extension = QLineEdit()
        self.extension.setMaximumWidth(90)
        self.extension.setPlaceholderText("مانند ۱۰۲")
        self.extension.setToolTip("داخلی تلفن این همکار در مرکز تلفن دفتر؛ تماسی که این داخلی را زنگ می‌زند روی "
                                  "میزی نشان داده می‌شود که او در آن وارد شده است.")
        form.addRow("نام:", self.name)
        form.addRow("نام کاربری:", self.username)
        form.addRow("نقش:", self.role)
        form.addRow("داخلی تلفن:", self.extension)
        form.addRow("", self.active)
        side.addWidget(box)
        row = QHBoxLayout()
        self.new_btn = QPushButton("همکار تازه")
        self.save_btn = QPushButton("ذخیره")
        row.addWidget(self.new_btn)
        row.addWidget(self.save_btn)
        side.addLayout(row)
        self.password_btn = QPushButton("تعیین رمز…")
        self.unlock_btn = QPushButton("باز کردن قفل ورود")
        self.revoke_btn = QPushButton("لغو ورودهای به‌خاطرسپرده")
        self.handover_btn = QPushButton("واگذاری کارهای این همکار…")
        self.my_password_btn = QPushButton("تغییر رمز من…")
        for b in (self.password_btn, self.unlock_btn, self.revoke_btn, self.handover_btn, self.my_password_btn):
            side.addWidget(b)
        auto = QGroupBox("ورود خودکار این رایانه")
        al = QVBoxLayout(auto)
        hint = QLabel("برای دفتری با یک میز: این رایانه بدون پرسیدن رمز با نام همکار انتخاب‌شده باز می‌شود. "
                      "روشن و خاموش کردن آن در گزارش رویدادها ثبت می‌شود.")
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        al.addWidget(hint)
        ar = QHBoxLayout()
        self.auto_user = QComboBox()
        self.auto_btn = QPushButton()
        ar.addWidget(self.auto_user, 1)
        ar.addWidget(self.auto_btn)
        al.addLayout(ar)
        side.addWidget(auto)
        self.message = _error_label()
        side.addWidget(self.message)
        side.addStretch(1)
        lay.addLayout(side, 2)
        for wdg in (box, self.new_btn, self.save_btn, self.password_btn, self.unlock_btn, self.revoke_btn, auto):
            wdg.setEnabled(self.admin)
        self.handover_btn.setEnabled(roles.can("handover"))
        self.new_btn.clicked.connect(self.clear_form)
        self.save_btn.clicked.connect(self.save)
        self.password_btn.clicked.connect(lambda: self.change_password(self.current_id()))
        self.my_password_btn.clicked.connect(lambda: self.change_password(session.current_user_id()))
        self.my_password_btn.setEnabled(session.current_user_id() is not None)
        self.unlock_btn.clicked.connect(self.unlock)
        self.revoke_btn.clicked.connect(self.revoke)
        self.handover_btn.clicked.connect(self.open_handover)
        self.auto_btn.clicked.connect(self.toggle_auto)
        return w

    def reload(self) -> None:
        self.role.clear()
        for r in roles.list_roles():
            self.role.addItem(r.name, r.key)
        people = users.list_users(active_only=False)
        self.table.setRowCount(len(people))
        for i, u in enumerate(people):
            lock = auth.lock_state(u.id)
            state = "غیرفعال" if not u.active else ("قفل" if lock.locked else "فعال")
            cells = [u.name, u.username, roles.role_label(u.role), state,
                     "دارد" if auth.has_password(u.id) else "ندارد", fmt.digits(u.extension or "")]
            for j, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setData(USER_ROLE, u.id)
                self.table.setItem(i, j, it)
        self.auto_user.clear()
        for u in users.list_users(active_only=True):
            self.auto_user.addItem(u.name, u.id)
        current = auth.auto_sign_in_user()
        if current is not None:
            self.auto_user.setCurrentIndex(max(0, self.auto_user.findData(current.id)))
            self.auto_btn.setText("خاموش کردن")
        else:
            self.auto_btn.setText("روشن کردن")
        self._reload_roles()

    def current_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(USER_ROLE)

    def _selected(self) -> None:
        uid = self.current_id()
        if uid is None:
            return
        from models.core import User

        u = User.get_by_id(uid)
        self.name.setText(u.name)
        self.username.setText(u.username)
        self.role.setCurrentIndex(max(0, self.role.findData(u.role)))
        self.active.setChecked(u.active)
        self.extension.setText(fmt.digits(u.extension or ""))

    def select_user(self, user_id: int) -> None:
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).data(USER_ROLE) == user_id:
                from PySide6.QtCore import QItemSelectionModel

                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                self.table.selectionModel().setCurrentIndex(self.table.model().index(i, 0), flags)
                self._selected()               # the form follows even when the row was already selected
                return

    def clear_form(self) -> None:
        self.table.clearSelection()
        self.name.clear()
        self.username.clear()
        self.extension.clear()
        self.active.setChecked(True)
        self.role.setCurrentIndex(max(0, self.role.findData("sales")))
        self.name.setFocus()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setProperty("role", "error" if error else "muted")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)

    def save(self) -> None:
        uid = self.current_id()
        try:
            if uid is not None and not self.active.isChecked():
                from models.core import User

                if User.get_by_id(uid).active:
                    users.save_user(self.name.text(), self.username.text(), self.role.currentData(), user_id=uid,
                                    extension=self.extension.text())
                    auth.deactivate(uid)
                    self._after_save(uid, "همکار غیرفعال شد؛ سوابق او می‌ماند.")
                    return
            u = users.save_user(self.name.text(), self.username.text(), self.role.currentData(), user_id=uid,
                                active=self.active.isChecked(), extension=self.extension.text())
        except UserError as e:
            self._say(e.message, error=True)
            return
        self._after_save(u.id, "ذخیره شد." + ("" if auth.has_password(u.id) else " اکنون برایش رمز بگذارید."))

    def _after_save(self, uid: int, text: str) -> None:
        self.reload()
        self.select_user(uid)
        self._say(text)
        self.ctx.bus.data_changed.emit("users")

    def change_password(self, uid: int | None) -> None:
        if uid is None:
            self._say("اول همکار را در فهرست انتخاب کنید.", error=True)
            return
        from models.core import User

        dlg = PasswordDialog(uid, User.get_by_id(uid).name, own=uid == session.current_user_id(), parent=self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self._after_save(uid, "رمز تازه ثبت شد.")

    def unlock(self) -> None:
        uid = self.current_id()
        if uid is not None:
            self._guarded(lambda: auth.unlock(uid), "قفل ورود باز شد.")

    def revoke(self) -> None:
        uid = self.current_id()
        if uid is not None:
            self._guarded(lambda: auth.revoke_tokens(uid), "ورودهای به‌خاطرسپرده این همکار لغو شد.")

    def toggle_auto(self) -> None:
        if auth.auto_sign_in_user() is not None:
            self._guarded(auth.disable_auto_sign_in, "ورود خودکار این رایانه خاموش شد.")
        else:
            uid = self.auto_user.currentData()
            if QMessageBox.question(self, "ورود خودکار", "این رایانه بدون رمز باز خواهد شد. مطمئن هستید؟") != \
                    QMessageBox.StandardButton.Yes:
                return
            self._guarded(lambda: auth.enable_auto_sign_in(uid), "ورود خودکار این رایانه روشن شد.")

    def open_handover(self) -> None:
        dlg = HandoverDialog(self.current_id(), parent=self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.reload()
            self._say("واگذاری انجام شد و به گیرندگان در کارتابلشان خبر داده شد.")
            self.ctx.bus.data_changed.emit("customers")
            self.ctx.bus.data_changed.emit("tasks")

    def _guarded(self, fn, ok: str) -> None:
        try:
            fn()
        except UserError as e:
            self._say(e.message, error=True)
            return
        uid = self.current_id()
        self.reload()
        if uid is not None:
            self.select_user(uid)
        self._say(ok)

    # --- roles --------------------------------------------------------------------------------------
    def _roles_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        hint = QLabel("هر نقش چه می‌تواند بکند. نقش «مدیر سیستم» همیشه همه دسترسی‌ها را دارد. "
                      "نقشی که «دیدن همه مشتریان» را ندارد فقط مشتریان خود و مشتریان بی‌مسئول را می‌بیند.")
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        lay.addWidget(hint)
        self.roles_table = QTableWidget(len(roles.PERMISSIONS), 0)
        self.roles_table.setVerticalHeaderLabels([label for label, _ in roles.PERMISSIONS.values()])
        self.roles_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        lay.addWidget(self.roles_table, 1)
        row = QHBoxLayout()
        self.role_key = QLineEdit()
        self.role_key.setPlaceholderText("شناسه لاتین، مانند accountant")
        self.role_key.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.role_key.setMinimumWidth(220)
        self.role_name = QLineEdit()
        self.role_name.setPlaceholderText("نام نقش، مانند حسابدار")
        self.role_name.setMinimumWidth(200)
        self.add_role_btn = QPushButton("افزودن نقش")
        self.save_roles_btn = QPushButton("ذخیره دسترسی‌ها")
        for x in (self.role_name, self.role_key, self.add_role_btn):
            row.addWidget(x)
        row.addStretch(1)
        row.addWidget(self.save_roles_btn)
        lay.addLayout(row)
        self.roles_message = _error_label()
        lay.addWidget(self.roles_message)
        for x in (self.role_key, self.role_name, self.add_role_btn, self.save_roles_btn):
            x.setEnabled(self.admin)
        self.add_role_btn.clicked.connect(self.add_role)
        self.save_roles_btn.clicked.connect(self.save_roles)
        return w

    def _reload_roles(self) -> None:
        rs = roles.list_roles()
        t = self.roles_table
        t.setColumnCount(len(rs))
        t.setHorizontalHeaderLabels([r.name for r in rs])
        for j, r in enumerate(rs):
            for i, perm in enumerate(roles.PERMISSIONS):
                it = QTableWidgetItem()
                it.setData(USER_ROLE, (r.key, perm))
                flags = Qt.ItemFlag.ItemIsEnabled
                if self.admin and r.key != roles.ADMIN:
                    flags |= Qt.ItemFlag.ItemIsUserCheckable
                it.setFlags(flags)
                it.setCheckState(Qt.CheckState.Checked if perm in r.permissions else Qt.CheckState.Unchecked)
                t.setItem(i, j, it)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def save_roles(self) -> None:
        t = self.roles_table
        try:
            for j, r in enumerate(roles.list_roles()):
                if r.key == roles.ADMIN:
                    continue
                perms = [perm for i, perm in enumerate(roles.PERMISSIONS)
                         if t.item(i, j).checkState() == Qt.CheckState.Checked]
                if set(perms) != set(r.permissions):
                    roles.save_role(r.key, r.name, perms)
        except UserError as e:
            self.roles_message.setText(e.message)
            return
        self._reload_roles()
        self.roles_message.setText("دسترسی‌ها ذخیره شد؛ همکاران با ورود بعدی خود آن را می‌بینند.")

    def add_role(self) -> None:
        try:
            roles.save_role(self.role_key.text(), self.role_name.text(), [])
        except UserError as e:
            self.roles_message.setText(e.message)
            return
        self.role_key.clear()
        self.role_name.clear()
        self.reload()
        self.roles_message.setText("نقش تازه افزوده شد؛ دسترسی‌هایش را علامت بزنید و ذخیره کنید.")
