"""What a role may not do, its screens do not offer: the customer file's merge and invoice buttons and the
customer list's context menu are disabled, with the reason in the tooltip, for each built-in role."""
from __future__ import annotations

import pytest

from tests.office.helpers import as_user, make_user

pytestmark = pytest.mark.usefixtures("persian_app")

# role → (merge, proforma, invoice, export) allowed
EXPECTED = {
    "admin": (True, True, True, True),
    "manager": (True, True, True, True),
    "sales": (False, True, True, False),
    "reception": (False, False, False, False),
}


@pytest.fixture
def customer(db):
    from app.customers import service as cs

    return cs.create_customer({"first_name": "مریم", "last_name": "احمدی", "phones": ["09123456789"]}).id


@pytest.mark.parametrize("role", list(EXPECTED))
def test_customer_file_buttons_follow_the_role(role, customer, qtbot):
    from ui.context import AppContext
    from ui.customers.file import CustomerFileWindow

    uid = make_user(f"همکار {role}", f"u_{role}", role)
    merge, proforma, invoice, _export = EXPECTED[role]
    with as_user(uid):
        w = CustomerFileWindow(AppContext(user_id=uid), customer)
        qtbot.addWidget(w)
        assert (w.merge_button.isEnabled(), w.proforma_button.isEnabled(), w.invoice_button.isEnabled()) == \
            (merge, proforma, invoice)
        role_name = {"admin": "مدیر سیستم", "manager": "مدیر", "sales": "کارشناس فروش", "reception": "پذیرش"}[role]
        if not merge:
            assert w.merge_button.toolTip() == f"نقش «{role_name}» اجازه حذف یا ادغام مشتری را ندارد."
        else:
            assert w.merge_button.toolTip() == ""
        if not invoice:
            assert "اجازه" in w.invoice_button.toolTip() and role_name in w.invoice_button.toolTip()
        w.refresh()                                   # a refresh (after an edit) does not enable them again
        assert w.merge_button.isEnabled() == merge


@pytest.mark.parametrize("role", list(EXPECTED))
def test_customer_list_menu_follows_the_role(role, customer, qtbot):
    from ui.context import AppContext
    from ui.customers.page import CustomersPage

    uid = make_user(f"همکار {role}", f"u_{role}", role)
    merge, proforma, invoice, export = EXPECTED[role]
    with as_user(uid):
        page = CustomersPage(AppContext(user_id=uid))
        qtbot.addWidget(page)
        page.view.setCurrentIndex(page.model.index(0, 0))
        menu = page.context_menu()
        a = page.menu_actions
        assert a["open"].isEnabled()
        assert (a["merge"].isEnabled(), a["proforma"].isEnabled(), a["invoice"].isEnabled(),
                a["export"].isEnabled()) == (merge, proforma, invoice, export)
        assert menu.toolTipsVisible()
        if not export:
            assert "اجازه گرفتن خروجی اکسل را ندارد" in a["export"].toolTip()


def test_the_menu_without_a_selection_offers_only_the_list_actions(customer, qtbot):
    from ui.context import AppContext
    from ui.customers.page import CustomersPage

    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    page.view.clearSelection()
    page.context_menu()
    a = page.menu_actions
    assert not a["open"].isEnabled() and not a["merge"].isEnabled() and a["export"].isEnabled()


@pytest.mark.parametrize("role, hidden", [
    ("manager", set()),
    ("sales", {"documents.btn_cancel", "documents.btn_correct"}),
    ("trainee", {"documents.btn_issue", "documents.btn_convert", "documents.btn_cancel", "documents.btn_correct"}),
])
def test_invoice_buttons_follow_the_role(role, hidden, db, qtbot):
    from app.office import roles
    from ui.context import AppContext
    from ui.office.restrict import restrict
    from ui.sales.editor import DocumentEditor
    from ui.sales.invoices_page import InvoicesPage

    if role == "trainee":                        # an office's own role: sees money, issues nothing
        roles.save_role("trainee", "کارآموز", ["money.view"])
    uid = make_user(f"همکار {role}", f"u_{role}", role)
    with as_user(uid):
        page = InvoicesPage(AppContext(user_id=uid))
        qtbot.addWidget(page)
        assert set(restrict(page)) == hidden
        for name in ("btn_issue", "btn_convert", "btn_cancel", "btn_correct"):
            assert getattr(page.documents, name).isHidden() == (f"documents.{name}" in hidden)
        editor = DocumentEditor(AppContext(user_id=uid), "invoice", parent=page)
        qtbot.addWidget(editor)
        may_issue = role != "trainee"
        assert editor.btn_save_issue.isEnabled() == may_issue and editor.btn_save.isEnabled()
        if not may_issue:
            assert editor.btn_save_issue.toolTip() == "نقش «کارآموز» اجازه صدور فاکتور را ندارد."


@pytest.mark.parametrize("role, allowed", [("admin", True), ("manager", True), ("sales", False),
                                           ("reception", False)])
def test_group_send_follows_the_role(role, allowed, customer, qtbot):
    """The «پیامک» section is for everyone (one message to a customer), the group send only for roles with
    «messages.group» (admin and manager get it by migration 16): hidden on the SMS page and the customer list,
    and refused by the service."""
    from app.core.errors import PermissionDenied
    from app.sms import service
    from ui.context import AppContext
    from ui.customers.page import CustomersPage
    from ui.office.restrict import restrict, section_allowed
    from ui.sms.page import SmsPage

    uid = make_user(f"همکار {role}", f"u_{role}", role)
    with as_user(uid):
        assert section_allowed("sms")
        sms = SmsPage(AppContext(user_id=uid))
        qtbot.addWidget(sms)
        assert ("group_btn" in restrict(sms)) == (not allowed)
        assert sms.group_btn.isHidden() == (not allowed) and not sms.single_btn.isHidden()
        page = CustomersPage(AppContext(user_id=uid))
        qtbot.addWidget(page)
        assert ("sms_btn" in restrict(page)) == (not allowed)
        if allowed:
            camp, plan = service.queue_group([customer], "سلام {نام}")
            assert plan.total == 1
        else:
            with pytest.raises(PermissionDenied, match="ارسال گروهی پیامک یا ایمیل"):
                service.queue_group([customer], "سلام {نام}")
