"""What a Persian office notices in its first hour: default buttons, digits, placeholders, lists, paths."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import customers as cs
from app.demo import ensure_users
from ui.context import AppContext


@pytest.fixture(autouse=True)
def _persian_app(qapp):
    from PySide6.QtCore import QLocale

    from ui.application import setup_qt_app

    before = (qapp.layoutDirection(), QLocale(), qapp.styleSheet(), qapp.font())
    setup_qt_app()
    yield
    qapp.setLayoutDirection(before[0])
    QLocale.setDefault(before[1])
    qapp.setStyleSheet(before[2])
    qapp.setFont(before[3])


@pytest.fixture
def ctx(db):
    users = ensure_users()
    return AppContext(user_id=users[1])


def answer_modal(cls, action, attempts: int = 300):
    state = {"left": attempts}

    def check():
        w = QApplication.activeModalWidget()
        if isinstance(w, cls):
            action(w)
            return
        state["left"] -= 1
        if state["left"] <= 0:
            if w is not None:
                w.reject()
            return
        QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


# --- 1. Enter in «مشتری تکراری؟» opens the existing file, never saves a duplicate -----------------------------

def test_enter_in_duplicate_warning_opens_the_existing_file(qtbot, ctx):
    from ui.customer_form import CustomerFormDialog, DuplicateWarningDialog

    existing = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09123456789"}]})
    form = CustomerFormDialog(ctx)
    qtbot.addWidget(form)
    form.show()
    form.first_name.setText("علی")
    form.last_name.setText("رضایی")
    form.phone_rows[0].number.setText("0912 345 6789")
    seen = {}

    def press_enter(w: DuplicateWarningDialog):
        seen["default"] = [b.text() for b in (w.open_button, w.merge_button, w.save_button, w.back_button)
                           if b.isDefault()]
        QTest.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Return)
        seen["choice"] = w.choice

    opened = []
    ctx.bus.open_customer.connect(opened.append)
    answer_modal(DuplicateWarningDialog, press_enter)
    QTest.keyClick(form.last_name, Qt.Key.Key_Return)
    assert seen["default"] == ["باز کردن پرونده موجود"]
    assert seen["choice"] == DuplicateWarningDialog.OPEN
    assert opened == [existing.id]
    assert cs.search_ids(cs.Filter()) == [existing.id]        # nothing saved
