"""Invoices, payments and tasks lists through the one streaming writer, reopened with openpyxl."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from app.core import clock
from app.core.jalali import parse_date
from app.customers import service as cs
from app.excel.export import export_documents, export_payments, export_tasks
from app.sales.documents import create_invoice, create_proforma
from app.sales.payments import record_payment
from app.sales.views import list_documents
from app.tasks import service as tasks
from models.core import User


@pytest.fixture
def office(db):
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0))
    u = User.create(name="رضا کریمی", username="reza")
    c = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09121234567"}]})
    yield c, u
    clock.set_now(None)


def _rows(path):
    ws = openpyxl.load_workbook(path).active
    assert ws.sheet_view.rightToLeft and ws.freeze_panes == "A3"
    return ws, [[c.value for c in r] for r in ws.iter_rows(min_row=2)]


def test_invoices_and_payments(office, tmp_path):
    c, _u = office
    inv = create_invoice(c.id, [{"description": "کالا", "quantity": 2, "unit_price": 1_500_000}],
                               date=parse_date("1405/08/01"))
    create_proforma(c.id, [{"description": "کالا", "quantity": 1, "unit_price": 700_000}],
                          date=parse_date("1405/08/02"))
    record_payment(c.id, "cash", 1_000_000, date=parse_date("1405/08/05"))
    record_payment(c.id, "cheque", 500_000, date=parse_date("1405/08/06"), cheque_number="123456",
                         cheque_bank="ملت", cheque_due=parse_date("1405/09/30"))
    ws, rows = _rows(export_documents(tmp_path / "docs.xlsx", list_documents(), "همه").path)
    header, data = rows[0], rows[1:]
    assert header[:5] == ["شماره", "نوع", "تاریخ", "مشتری", "مبلغ کل (ریال)"]
    byno = {r[0]: r for r in data}
    issued = byno[inv.number]
    assert issued[1] == "فاکتور فروش" and issued[2] == "1405/08/01" and issued[3] == "علی رضایی"
    assert issued[4] == inv.total and issued[5] == 1_500_000 and issued[6] == inv.total - 1_500_000
    assert ws.cell(3, 5).number_format == "#,##0"
    ws, rows = _rows(export_payments(tmp_path / "pay.xlsx", parse_date("1405/08/01"), parse_date("1405/08/30")).path)
    data = rows[1:]
    assert [r[:4] for r in data] == [["1405/08/05", "علی رضایی", "نقد", 1_000_000],
                                     ["1405/08/06", "علی رضایی", "چک", 500_000]]
    assert data[1][5] == "123456" and data[1][6] == "ملت" and data[1][7] == "1405/09/30"


def test_tasks(office, tmp_path):
    c, u = office
    tasks.create_task({"title": "پیگیری پیش‌فاکتور", "customer_id": c.id, "assignee_id": u.id,
                       "due_at": dt.datetime(2026, 11, 20, 9, 30)}, user=u.id)
    rows = tasks.list_tasks(tasks.InboxFilter(status="all"))
    ws, data = _rows(export_tasks(tmp_path / "tasks.xlsx", rows, "همه کارها").path)
    assert data[0][:4] == ["عنوان", "مشتری", "مسئول", "موعد"]
    assert data[1][:5] == ["پیگیری پیش‌فاکتور", "علی رضایی", "رضا کریمی", "1405/08/29 09:30", "باز"]
    assert data[1][5] == "بله"          # overdue on 1405/09/03
