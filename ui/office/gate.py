"""The gate at start-up and after «خروج از حساب»: a desk that remembers someone (or signs in automatically by
the admin's choice) opens at once, without loading the sign-in forms (ui.office.login_dialog) at all."""
from __future__ import annotations

import logging

from app.office import auth, session

logger = logging.getLogger(__name__)


def sign_in_at_start(parent=None) -> session.Principal | None:
    """The GUI's gate: from here on nobody signed in may do nothing. A new office sets the admin's password;
    a desk that remembers someone (or signs in automatically by the admin's choice) opens at once; otherwise
    the sign-in form. None when the person cancels (the program then closes)."""
    session.set_interactive(True)
    p = auth.sign_in_from_desk()             # remembered, or signed in automatically by the admin's choice
    if p is not None:
        logger.info("signed in from this desk (%s) as user %s", p.how, p.user_id)
        return p
    from PySide6.QtWidgets import QDialog

    from ui.office.login_dialog import FirstRunDialog, LoginDialog

    if auth.first_run():
        name, username = auth.first_admin()
        dlg = FirstRunDialog(parent, name=name, username=username)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return session.current()
    dlg = LoginDialog(parent)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.principal
