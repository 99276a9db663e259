"""Roles restrict in the services: every role × action pair, on a real database (SQLite, and PostgreSQL
where CRM_TEST_POSTGRES_URL is set). A refused action raises PermissionDenied in Persian and writes nothing."""
from __future__ import annotations

import datetime as dt

import pytest

from app import settings
from app.core import clock
from app.core.errors import PermissionDenied
from app.customers import service as customers
from app.office import audit_log, handover, roles, session, users
from app.sales.balances import customer_balance
from app.sales.documents import cancel_document, create_invoice
from app.sales.totals import LineInput
from models.core import Customer, User
from models.office import AuditLog
from models.sales import SalesDocument
from tests.office.helpers import as_user, make_user

DAY = dt.datetime(2026, 11, 24, 10, 0)

ROLES = ("admin", "manager", "sales", "reception")
#                      admin  manager sales  reception
EXPECTED = {
    "see_others":     (True,  True,  False, True),
    "export":         (True,  True,  False, False),
    "see_money":      (True,  True,  True,  False),
    "issue_invoice":  (True,  True,  True,  False),
    "cancel_invoice": (True,  True,  False, False),
    "merge":          (True,  True,  False, False),
    "settings":       (True,  True,  False, False),
    "audit":          (True,  True,  False, False),
    "handover":       (True,  True,  False, False),
    "manage_users":   (True,  False, False, False),
}
CASES = [(action, role, allowed[i]) for action, allowed in EXPECTED.items() for i, role in enumerate(ROLES)]


@pytest.fixture
def office(anydb, tmp_path):
    clock.set_now(DAY)
    people = {r: make_user(f"همکار {r}", r, r) for r in ROLES}
    other = make_user("رضا همکار دیگر", "reza", "sales")
    mine = customers.create_customer({"first_name": "مشتری", "last_name": "من"}, user=None)
    theirs = customers.create_customer({"first_name": "مشتری", "last_name": "رضا", "assigned_to": other})
    third = customers.create_customer({"first_name": "مشتری", "last_name": "سوم", "assigned_to": other})
    inv = create_invoice(theirs.id, [LineInput("کالا", 1, 1_000_000)])
    yield {"people": people, "other": other, "theirs": theirs.id, "third": third.id, "mine": mine.id,
           "invoice": inv.id, "tmp": tmp_path}
    clock.set_now(None)


def _do(action: str, o: dict, me: int):
    if action == "see_others":
        listed = o["theirs"] in customers.search_ids(customers.Filter())
        try:
            customers.customer_data(o["theirs"])        # opening a colleague's customer
        finally:
            assert listed == roles.sees_all_customers()
    elif action == "export":
        from app.excel.export import export_customers

        export_customers(o["tmp"] / f"out-{me}.xlsx", customers.Filter())
    elif action == "see_money":
        customer_balance(o["theirs"])
    elif action == "issue_invoice":
        create_invoice(o["mine"], [LineInput("خدمت", 1, 500_000)], issue=True, user=me)
    elif action == "cancel_invoice":
        cancel_document(o["invoice"], "اشتباه در مبلغ", user=me)
    elif action == "merge":
        customers.merge(o["theirs"], o["third"], user=me)
    elif action == "settings":
        settings.set("office.name", "دفتر آزمایشی")
    elif action == "audit":
        audit_log.entries()
    elif action == "handover":
        handover.hand_over(o["other"], [me])
    elif action == "manage_users":
        users.save_user("تازه‌وارد", "newbie", "sales")
    else:
        raise AssertionError(action)


def _state(o: dict) -> tuple:
    """Everything the actions could change, read back from the tables."""
    from models.core import Setting, User

    return (Customer.select().where(Customer.merged_into.is_null(False)).count(),
            [c.assigned_to_id for c in Customer.select().order_by(Customer.id)],
            [(d.state, d.number) for d in SalesDocument.select().order_by(SalesDocument.id)],
            Setting.select().where(Setting.key == "office.name").count(),
            User.select().count())


@pytest.mark.parametrize("action,role,allowed", CASES, ids=[f"{a}-{r}" for a, r, _ in CASES])
def test_role_action_table(office, action, role, allowed):
    me = office["people"][role]
    before = _state(office)
    with as_user(me):
        if allowed:
            _do(action, office, me)
        else:
            with pytest.raises(PermissionDenied) as e:
                _do(action, office, me)
            assert e.value.message and any("\u0600" <= ch <= "\u06ff" for ch in e.value.message)
    if not allowed:
        assert _state(office) == before               # refused: nothing half-written
        assert not (office["tmp"] / f"out-{me}.xlsx").exists()


def test_own_only_role_sees_own_and_unassigned(office):
    rep = office["people"]["sales"]
    mine_assigned = customers.create_customer({"first_name": "سپرده", "last_name": "به من", "assigned_to": rep})
    with as_user(rep):
        ids = set(customers.search_ids(customers.Filter()))
        assert ids == {office["mine"], mine_assigned.id}
        assert customers.count() == 2
        rs = customers.ResultSet(customers.Filter(text="مشتری"))
        assert set(rs.next_ids(50)) == {office["mine"]}
        with pytest.raises(PermissionDenied):
            customers.update_customer(office["theirs"], {"first_name": "دست", "last_name": "کاری"})
    assert Customer.get_by_id(office["theirs"]).last_name == "رضا"


def test_nobody_signed_in_at_a_gui_desk_may_do_nothing(office):
    session.set_interactive(True)
    try:
        with pytest.raises(PermissionDenied) as e:
            customer_balance(office["theirs"])
        assert "وارد" in e.value.message
        assert customers.search_ids(customers.Filter()) == []
    finally:
        session.set_interactive(False)
    assert roles.can("export")                       # the command line / a script runs as the system


def test_admin_edits_a_role_and_it_applies(office):
    rep = office["people"]["sales"]
    roles.save_role("sales", "کارشناس فروش", ["money.view", "invoice.issue", "export"])
    with as_user(rep):
        from app.excel.export import export_customers

        res = export_customers(office["tmp"] / "rep.xlsx")
        assert res.rows == 1                          # exports only what the rep may see
    entry = AuditLog.select().where(AuditLog.entity == "role").order_by(AuditLog.id.desc()).first()
    assert entry is not None and "export" in entry.changes
    with as_user(office["people"]["manager"]), pytest.raises(PermissionDenied):
        roles.save_role("sales", "فروش", [])
    roles.save_role("admin", "مدیر سیستم", [])       # the admin role keeps every permission
    assert roles.permissions_of("admin") == frozenset(roles.PERMISSIONS)


def test_names_by_id_names_every_colleague_through_its_kept_statement(office):
    """Colleagues' names by id, as the dashboard, the board and the reports name owners: the inactive too (old
    rows still name them), and an edit shows at the next reading (the statement is kept, not its answer)."""
    people = office["people"]
    names = users.names_by_id()
    assert names[people["sales"]] == "همکار sales" and names[office["other"]] == "رضا همکار دیگر"
    assert set(names) == {u.id for u in users.list_users(active_only=False)}
    User.update(active=False).where(User.id == office["other"]).execute()
    User.update(name="همکار فروش").where(User.id == people["sales"]).execute()
    names = users.names_by_id()
    assert names[office["other"]] == "رضا همکار دیگر" and names[people["sales"]] == "همکار فروش"
