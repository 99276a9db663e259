"""The sign-in dialogs, colleagues and roles, the audit page, and what a role sees in the main window —
real widgets offscreen, real keystrokes, screenshots grabbed to PNG (CRM_SHOTS=folder keeps them)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.core import clock
from app.customers import service as customers
from app.office import auth, session
from models.core import User
from models.office import AuditLog
from tests.conftest import type_text
from tests.office.helpers import as_user, make_user
from ui.context import AppContext

DAY = dt.datetime(2026, 11, 24, 10, 0)


def _shot(widget, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("CRM_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert widget.grab().save(str(path))
    return path


@pytest.fixture
def office(db, qapp):
    clock.set_now(DAY)
    qapp.setLayoutDirection(Qt.LayoutDirection.RightToLeft)       # as the Persian program runs
    from app.office.users import ensure_default_user

    admin = ensure_default_user()
    yield {"admin": admin.id}
    session.set_interactive(False)
    session.set_principal(None)
    clock.set_now(None)
    qapp.setLayoutDirection(Qt.LayoutDirection.LeftToRight)


def test_first_run_then_sign_in_with_wrong_and_right_password(qtbot, office, tmp_path):
    from ui.office.login_dialog import FirstRunDialog, LoginDialog

    session.set_interactive(True)
    assert auth.first_run()
    first = FirstRunDialog(name="مدیر دفتر")
    qtbot.addWidget(first)
    first.show()
    type_text(first.password, "boss-pass-1")
    type_text(first.again, "boss-pass-2")
    assert not first.save()
    assert "رمز" in first.error.text()
    first.again.clear()
    type_text(first.again, "boss-pass-1")
    assert first.save()
    assert session.current_user_id() == office["admin"] and not auth.first_run()
    _shot(first, tmp_path, "office-first-run.png")
    session.set_principal(None)

    dlg = LoginDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    type_text(dlg.username, "admin")
    type_text(dlg.password, "wrong-one")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert dlg.error.text() == auth.WRONG and dlg.result() != QDialog.DialogCode.Accepted
    assert dlg.password.text() == ""
    _shot(dlg, tmp_path, "office-login-wrong.png")
    type_text(dlg.password, "boss-pass-1")
    dlg.remember.setChecked(True)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.principal.user_id == office["admin"] and session.current_user_id() == office["admin"]


def test_start_gate_uses_automatic_sign_in_without_a_dialog(qtbot, office):
    from ui.office.gate import sign_in_at_start

    rep = make_user("مریم فروش", "maryam", "sales", "rep-pass-1")
    with session.acting_as(session.SYSTEM):
        auth.set_password(office["admin"], "boss-pass-1")
        auth.enable_auto_sign_in(rep)
    p = sign_in_at_start()
    assert p is not None and p.user_id == rep and p.how == "auto"
    assert session.is_interactive()


def test_users_page_admin_creates_a_colleague_sets_password_and_edits_a_role(qtbot, office, tmp_path):
    from ui.office.users_page import PasswordDialog, UsersPage

    make_user("مریم فروش", "maryam", "sales")
    make_user("رضا پذیرش", "reza", "reception")
    ctx = AppContext(user_id=office["admin"])
    with as_user(office["admin"]):
        page = UsersPage(ctx)
        qtbot.addWidget(page)
        page.resize(1100, 640)
        page.show()
        assert page.table.rowCount() == 3
        page.clear_form()
        type_text(page.name, "نیما تازه‌کار")
        type_text(page.username, "nima")
        page.role.setCurrentIndex(page.role.findData("reception"))
        with qtbot.waitSignal(ctx.bus.data_changed, timeout=2000):
            qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
        nima = User.get(User.username == "nima")
        assert nima.role == "reception" and "رمز" in page.message.text()
        dlg = PasswordDialog(nima.id, nima.name, own=False)
        qtbot.addWidget(dlg)
        type_text(dlg.new, "nima-pass-1")
        type_text(dlg.again, "nima-pass-1")
        assert dlg.save()
        page.reload()
        page.select_user(nima.id)
        row = page.table.selectionModel().selectedRows()[0].row()
        assert page.table.item(row, 4).text() == "دارد"
        assert page.role.currentData() == "reception" and page.name.text() == "نیما تازه‌کار"
        _shot(page, tmp_path, "office-users.png")
        # roles: let reception export
        page.tabs.setCurrentIndex(1)
        perms = list(__import__("app.office.roles", fromlist=["x"]).PERMISSIONS)
        col = [page.roles_table.horizontalHeaderItem(j).text() for j in range(page.roles_table.columnCount())
               ].index("پذیرش")
        item = page.roles_table.item(perms.index("export"), col)
        item.setCheckState(Qt.CheckState.Checked)
        page.save_roles()
        assert "ذخیره" in page.roles_message.text()
        _shot(page, tmp_path, "office-roles.png")
    from app.office import roles

    assert "export" in roles.permissions_of("reception")
    assert AuditLog.select().where(AuditLog.entity == "role").count() == 1


def test_users_page_for_a_sales_rep_is_read_only_but_own_password(qtbot, office):
    from ui.office.users_page import UsersPage

    rep = make_user("مریم فروش", "maryam", "sales", "rep-pass-1")
    with as_user(rep):
        page = UsersPage(AppContext(user_id=rep))
        qtbot.addWidget(page)
        assert not page.save_btn.isEnabled() and not page.password_btn.isEnabled()
        assert page.my_password_btn.isEnabled() and not page.handover_btn.isEnabled()
        assert not (page.roles_table.item(0, 1).flags() & Qt.ItemFlag.ItemIsUserCheckable)


def test_audit_page_lists_filters_and_shows_before_after(qtbot, office, tmp_path):
    from ui.office.audit_page import AuditPage

    rep = make_user("مریم فروش", "maryam", "sales")
    with as_user(rep):
        c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09121234567"}]},
                                      user=rep)
        clock.set_now(DAY + dt.timedelta(minutes=3))
        customers.update_customer(c.id, {"first_name": "علی", "last_name": "رضائی", "job": "بازرگان",
                                         "phones": [{"raw": "09121234567"}]}, user=rep)
    with as_user(office["admin"]):
        page = AuditPage(AppContext(user_id=office["admin"]))
        qtbot.addWidget(page)
        page.resize(1280, 720)
        page.show()
        assert page.table.rowCount() == 2
        assert page.table.item(0, 1).text() == "مریم فروش" and page.table.item(0, 2).text() == "ویرایش"
        page.select(0)
        assert "نام خانوادگی:  رضایی  ←  رضائی" in page.details.toPlainText()
        assert "شغل:  —  ←  بازرگان" in page.details.toPlainText()
        _shot(page, tmp_path, "office-audit.png")
        page.action.setCurrentIndex(page.action.findData("create"))
        page.reload()
        assert page.table.rowCount() == 1 and "ایجاد" in page.table.item(0, 2).text()


def test_main_window_for_reception_hides_money_audit_and_export(qtbot, office):
    from ui.main_window import MainWindow

    rec = make_user("رضا پذیرش", "reza", "reception", "rec-pass-1")
    session.set_interactive(True)
    auth.sign_in("reza", "rec-pass-1")
    win = MainWindow(AppContext(user_id=rec), start_callerid=False)
    qtbot.addWidget(win)
    hidden = {win.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(win.nav.count())
              if win.nav.item(i).isHidden()}
    assert hidden == {"invoices", "audit"}
    page = win.page("customers")
    assert page.export_btn.isHidden() and page.merge_btn.isHidden() and not page.new_btn.isHidden()
    assert "رضا پذیرش" in win.user_label.text() and "پذیرش" in win.user_label.text()
    assert win.ctx.user_id == rec
    win.close()
