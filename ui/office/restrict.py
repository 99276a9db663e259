"""What a role does not use, it does not see: sections and buttons hidden by permission, and who is signed in
shown in the status bar with «خروج از حساب». (The services refuse anyway; hiding only spares a refusal.)"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton

from app.office import roles, session

logger = logging.getLogger(__name__)

# section key → the permission it needs (sections not named are for everyone)
SECTION_PERMISSIONS = {"invoices": "money.view", "audit": "audit.view"}

# widget class name → {attribute (or "dict.key"): permission}
BUTTONS = {
    "CustomersPage": {"export_btn": "export", "merge_btn": "customers.delete", "sms_btn": "messages.group"},
    "SmsPage": {"group_btn": "messages.group"},
    "InvoicesPage": {"documents.btn_issue": "invoice.issue", "documents.btn_convert": "invoice.issue",
                     "documents.btn_cancel": "invoice.cancel", "documents.btn_correct": "invoice.cancel"},
    "ReportsPage": {"excel_button": "export"},
    "PipelineReports": {"excel_button": "export"},       # built when its tab is first opened: restricts itself
    "TasksPage": {"buttons.excel": "export"},
    "AuditPage": {"export_button": "export"},
}


def refusal(*permissions: str) -> str:
    """«نقش «پذیرش» اجازه X را ندارد.» for the first of these permissions the signed-in person lacks ("" when
    they have them all)."""
    p = session.current()
    for perm in permissions:
        if not roles.can(perm, p):
            role = roles.role_label(p.role) if p is not None else "—"
            if p is None:
                return "اول وارد برنامه شوید."
            return f"نقش «{role}» اجازه {roles.PERMISSIONS[perm][1]} را ندارد."
    return ""


def gate(control, *permissions: str) -> bool:
    """Enable a button or menu action only for roles that may use it; a disabled one says why in its tooltip
    (its own tooltip comes back when it is allowed again). Returns whether it is allowed."""
    why = refusal(*permissions)
    own = control.property("own_tooltip") if hasattr(control, "property") else None
    if own is None:
        own = control.toolTip()
        if hasattr(control, "setProperty"):
            control.setProperty("own_tooltip", own)
    control.setEnabled(not why)
    control.setToolTip(why or own)
    return not why


def _find(widget, path: str):
    obj = widget
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def restrict(widget) -> list[str]:
    """Hide the buttons of `widget` the signed-in person's role may not use; returns what was hidden."""
    hidden = []
    for path, perm in BUTTONS.get(type(widget).__name__, {}).items():
        w = _find(widget, path)
        if w is not None and not roles.can(perm):
            w.setVisible(False)
            hidden.append(path)
    return hidden


def section_allowed(key: str) -> bool:
    perm = SECTION_PERMISSIONS.get(key)
    return perm is None or roles.can(perm)


def apply_sections(win) -> None:
    """Hide the navigation entries of sections this role may not open."""
    for i in range(win.nav.count()):
        item = win.nav.item(i)
        item.setHidden(not section_allowed(item.data(Qt.ItemDataRole.UserRole)))


def install_user_bar(win) -> None:
    """«کاربر: …» and a sign-out button in the status bar (only when someone signed in: not for tests/system)."""
    p = session.current()
    if p is None or p.system:
        return
    label = QLabel(f"کاربر: {p.name} ({roles.role_label(p.role)})")
    button = QPushButton("خروج از حساب")
    button.setFlat(True)
    win.statusBar().addPermanentWidget(label)
    win.statusBar().addPermanentWidget(button)
    win.user_label, win.sign_out_button = label, button
    button.clicked.connect(lambda: sign_out_and_switch(win))


def sign_out_and_switch(win, ask: bool = True) -> object | None:
    """Sign out, close the window, ask who signs in next, and open a fresh window for them."""
    from app.office import auth

    if ask and QMessageBox.question(win, "خروج از حساب", "از حساب خود خارج می‌شوید؟") != \
            QMessageBox.StandardButton.Yes:
        return None
    auth.sign_out()
    win.close()
    from ui.office.gate import sign_in_at_start

    p = sign_in_at_start()
    if p is None:
        QApplication.quit()
        return None
    from ui.context import AppContext

    new = type(win)(AppContext(user_id=p.user_id))     # the same kind of window, for the one now signed in
    app = QApplication.instance()
    app.setProperty("peyvand_window", None)
    app._peyvand_window = new                     # keep the new window alive
    new.show()
    return new
