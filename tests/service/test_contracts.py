"""Contracts with a renewal reminder; warranty per sold item from the invoice date; look-up by serial; the
popup's one-line brief."""
from __future__ import annotations

import pytest

from app import contracts
from app.core import clock
from app.core.errors import ValidationError
from models.sales import SalesDocument
from models.tasks import Reminder, Task
from tests.tasks.helpers import customer, j, user


@pytest.fixture
def office(anydb):
    clock.set_now(j(1405, 3, 2, 9, 0))
    return {"reza": user("رضا کریمی", "reza"), "ali": customer()}


def invoice(customer_id: int, day) -> int:
    return SalesDocument.create(doc_type="invoice", state="issued", number="1405-0007", customer=customer_id,
                                date=day).id


def test_contract_with_renewal_reminder(office):
    c = contracts.create_contract({"customer_id": office["ali"], "title": "پشتیبانی سالانه",
                                   "start_date": "۱۴۰۵/۰۱/۰۱", "end_date": "1405/12/29", "value": "۱۲۰٬۰۰۰٬۰۰۰",
                                   "remind_days": 30}, user=office["reza"])
    assert c.value == 120_000_000
    t = Task.get_by_id(c.renewal_task)
    assert t.due_at == j(1405, 11, 29) and t.all_day and "تمدید قرارداد" in t.title
    assert Reminder.select().where(Reminder.task == t.id).exists()
    row = contracts.list_contracts(office["ali"])[0]
    assert row.state_label == "فعال" and row.days_left > 0
    contracts.cancel_contract(c.id)
    assert Task.get_by_id(c.renewal_task).status == "cancelled"
    with pytest.raises(ValidationError) as e:
        contracts.create_contract({"customer_id": office["ali"], "title": "x", "start_date": "1405/05/01",
                                   "end_date": "1405/04/01"})
    assert set(e.value.errors) == {"end_date"}


def test_warranty_from_invoice_date_and_serial_lookup(office):
    inv = invoice(office["ali"], j(1405, 3, 10).date())
    w = contracts.create_warranty({"invoice_id": inv, "item": "پمپ آب ۱ اسب", "serial": "sn-12 ab ۳۴", "months": 18,
                                   "remind_days": 30})
    assert w.customer_id == office["ali"] and w.start_date == j(1405, 3, 10).date()
    assert w.end_date == j(1406, 9, 9).date()                  # 18 months from 1405/03/10, last covered day
    assert Task.get_by_id(w.reminder_task).due_at == j(1406, 8, 9)
    for typed in ("SN12AB34", "sn 12-ab-34", "SN12"):
        assert [r.id for r in contracts.lookup_serial(typed)] == [w.id]
    assert contracts.lookup_serial("XYZ") == []
    with pytest.raises(ValidationError):
        contracts.create_warranty({"invoice_id": inv, "item": "پمپ", "serial": "SN-12-AB-34"})
    clock.set_now(j(1406, 8, 20, 9, 0))
    row = contracts.lookup_serial("sn12ab34")[0]
    assert row.state_label == "رو به پایان" and row.invoice_number == "1405-0007"
    assert [x.id for x in contracts.expiring(30)] == [w.id]
    clock.set_now(j(1406, 9, 10, 9, 0))
    assert contracts.lookup_serial("sn12ab34")[0].state_label == "پایان یافته"


def test_warranty_brief_for_the_popup(office):
    assert contracts.warranty_brief(office["ali"]).text == ""
    contracts.create_warranty({"customer_id": office["ali"], "item": "کولر", "serial": "AC1",
                               "start_date": j(1405, 1, 15).date(), "months": 12})
    contracts.create_warranty({"customer_id": office["ali"], "item": "پکیج", "serial": "PK1",
                               "start_date": j(1404, 1, 1).date(), "months": 12})      # ended
    b = contracts.warranty_brief(office["ali"])
    assert b.active == 1 and b.next_item == "کولر"
    assert b.text == "۱ گارانتی فعال؛ نزدیک‌ترین پایان ۱۴۰۶/۰۱/۱۴ (کولر)"
