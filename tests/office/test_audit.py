"""The audit log: field-level before/after for customers and documents, merges, exports and prints, who did
it; filtering; Excel export re-opened; and no way to change or delete an entry (model and database)."""
from __future__ import annotations

import datetime as dt
import json

import peewee as pw
import pytest

from app.core import clock
from app.core.errors import ValidationError
from app.customers import service as customers
from app.office import audit_log
from app.sales.documents import cancel_document, create_invoice, issue_invoice, save_document
from app.sales.totals import LineInput
from models.base import db as dbproxy
from models.office import AuditImmutable, AuditLog
from tests.office.helpers import as_user, make_user

DAY = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(anydb):
    clock.set_now(DAY)
    yield {"boss": make_user("شیرین مدیر", "shirin", "manager"), "rep": make_user("مریم فروش", "maryam", "sales")}
    clock.set_now(None)


def _last(entity: str, action: str | None = None) -> AuditLog:
    q = AuditLog.select().where(AuditLog.entity == entity)
    if action:
        q = q.where(AuditLog.action == action)
    return q.order_by(AuditLog.id.desc()).first()


def test_customer_create_and_edit_field_by_field(office):
    with as_user(office["rep"]):
        c = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09121234567"}],
                                       "tags": ["عمده"]}, user=office["rep"])
        created = _last("customer", "create")
        assert created.user_id == office["rep"] and created.user_name == "مریم فروش" and created.entity_id == c.id
        ch = json.loads(created.changes)
        assert ch["last_name"] == [None, "رضایی"] and ch["tags"] == [None, "عمده"]
        clock.set_now(DAY + dt.timedelta(minutes=5))
        customers.update_customer(c.id, {"first_name": "علی", "last_name": "رضائی‌نژاد", "job": "بازرگان",
                                         "phones": [{"raw": "09121234567"}], "tags": ["عمده"]}, user=office["rep"])
    e = _last("customer", "update")
    ch = json.loads(e.changes)
    assert ch == {"last_name": ["رضایی", "رضائی‌نژاد"], "job": ["", "بازرگان"]}
    assert e.at == DAY + dt.timedelta(minutes=5) and "رضائی‌نژاد" in e.summary
    # saving without a change writes no entry
    n = AuditLog.select().count()
    customers.update_customer(c.id, {"first_name": "علی", "last_name": "رضائی‌نژاد", "job": "بازرگان",
                                     "phones": [{"raw": "09121234567"}], "tags": ["عمده"]})
    assert AuditLog.select().count() == n


def test_a_failed_edit_leaves_no_entry_and_no_change(office):
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی"})
    n = AuditLog.select().count()
    with pytest.raises(ValidationError):
        customers.update_customer(c.id, {"first_name": "علی", "last_name": "رضایی", "email": "not-an-email"})
    assert AuditLog.select().count() == n


def test_merge_names_both_records(office):
    keep = customers.create_customer({"first_name": "علی", "last_name": "رضایی"})
    drop = customers.create_customer({"first_name": "علی", "last_name": "رضائی", "job": "مهندس"})
    with as_user(office["boss"]):
        customers.merge(keep.id, drop.id, user=office["boss"])
    e = _last("customer", "merge")
    ch = json.loads(e.changes)
    assert e.entity_id == keep.id and e.user_name == "شیرین مدیر"
    assert ch["job"] == ["", "مهندس"] and ch["merged"] == ["علی رضائی", "علی رضایی"]
    assert "ادغام" in e.summary


def test_documents_issue_cancel_and_print(office, tmp_path):
    c = customers.create_customer({"first_name": "علی", "last_name": "رضایی"})
    draft = create_invoice(c.id, [LineInput("کالا", 2, 1_000_000)], issue=False, user=office["rep"])
    created = _last("document", "create")
    assert json.loads(created.changes)["total"] == [None, 2_200_000]
    save_document("invoice", c.id, [LineInput("کالا", 3, 1_000_000)], doc_id=draft.id, user=office["rep"])
    ch = json.loads(_last("document", "update").changes)
    assert ch["total"] == [2_200_000, 3_300_000] and "× 2 @" in ch["lines"][0] and "× 3 @" in ch["lines"][1]
    inv = issue_invoice(draft.id, user=office["boss"])
    issued = _last("document", "issue")
    assert json.loads(issued.changes)["state"] == ["draft", "issued"] and inv.number in issued.summary
    assert issued.user_name == "شیرین مدیر"
    cancel_document(inv.id, "مبلغ اشتباه", user=office["boss"])
    cancelled = json.loads(_last("document", "cancel").changes)
    assert cancelled["state"] == ["issued", "cancelled"] and cancelled["cancel_reason"] == ["", "مبلغ اشتباه"]
    from app.sales.invoice_pdf import render_document

    render_document(inv.id, tmp_path / "inv.pdf")
    assert (tmp_path / "inv.pdf").read_bytes()[:4] == b"%PDF"
    printed = _last("document", "print")
    assert printed.entity_id == inv.id and inv.number in printed.summary


def test_exports_are_logged_with_rows_and_file(office, tmp_path):
    for i in range(3):
        customers.create_customer({"first_name": "مشتری", "last_name": f"شماره {i}"})
    from app.excel.export import export_customers

    with as_user(office["boss"]):
        res = export_customers(tmp_path / "list.xlsx")
    e = _last("customers", "export")
    assert e.user_id == office["boss"] and json.loads(e.changes)["rows"] == [None, 3]
    assert str(res.path) in e.summary


def test_filter_and_export_the_log_to_excel(office, tmp_path):
    from openpyxl import load_workbook

    with as_user(office["rep"]):
        customers.create_customer({"first_name": "الف", "last_name": "یک"}, user=office["rep"])
    clock.set_now(DAY + dt.timedelta(days=2))
    with as_user(office["boss"]):
        customers.create_customer({"first_name": "ب", "last_name": "دو"}, user=office["boss"])
        rows = audit_log.entries(audit_log.AuditFilter(user_id=office["rep"]))
        assert [r.summary for r in rows] == ["مشتری «الف یک» ایجاد شد"]
        assert len(audit_log.entries(audit_log.AuditFilter(date_from=(DAY + dt.timedelta(days=1)).date()))) == 1
        assert len(audit_log.entries(audit_log.AuditFilter(text="دو", entity="customer"))) == 1
        res = audit_log.export_xlsx(tmp_path / "audit.xlsx", audit_log.AuditFilter(entity="customer"))
    ws = load_workbook(res.path).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = " ".join(str(v) for row in values for v in row if v is not None)
    assert "الف یک" in flat and "ب دو" in flat and "مریم فروش" in flat and "نام خانوادگی: — ← یک" in flat
    assert _last("audit", "export") is not None


def test_entries_cannot_be_changed_or_deleted(office):
    customers.create_customer({"first_name": "الف", "last_name": "یک"})
    e = _last("customer")
    e.summary = "دستکاری"
    with pytest.raises(AuditImmutable):
        e.save()
    with pytest.raises(AuditImmutable):
        e.delete_instance()
    with pytest.raises(AuditImmutable):
        AuditLog.update(summary="x")
    with pytest.raises(AuditImmutable):
        AuditLog.delete()
    # the database itself refuses, even to raw SQL
    for sql in ("UPDATE audit_log SET summary = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(pw.DatabaseError), dbproxy.atomic():
            dbproxy.execute_sql(sql)
    assert AuditLog.get_by_id(e.id).summary == "مشتری «الف یک» ایجاد شد"


def test_reading_the_log_needs_the_permission(office):
    from app.core.errors import PermissionDenied

    with as_user(office["rep"]), pytest.raises(PermissionDenied):
        audit_log.entries()


def test_an_excel_import_is_one_entry_with_its_file_counts_and_who(office, tmp_path):
    """The import writes one audit entry for the whole file (not one per row): the file's name, how many rows
    were added, merged into existing customers and left out, and who did it; a refused import writes none."""
    import openpyxl

    from app.excel import importer as ei

    customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09121234567"}]})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["نام", "نام خانوادگی", "موبایل", "کد ملی"])
    ws.append(["علی", "رضایی", "09121234567", ""])           # an existing customer: merged
    for i in range(5):
        ws.append([f"نام{i}", f"خانوادگی{i}", f"0935{i:07d}", ""])
    ws.append(["سارا", "نیک", "0912", ""])                    # a bad number: left out
    path = tmp_path / "مشتریان نمایشگاه.xlsx"
    wb.save(path)
    n = AuditLog.select().where(AuditLog.action == "import").count()
    with pytest.raises(ei.UserError):                          # refused (a row has errors): nothing, no entry
        ei.import_rows(ei.analyse(ei.load_table(path)))
    assert AuditLog.select().where(AuditLog.action == "import").count() == n
    with as_user(office["rep"]):
        res = ei.import_rows(ei.analyse(ei.load_table(path)), duplicates="merge", skip_invalid=True)
    assert (res.created, res.merged, res.skipped_invalid) == (5, 1, 1)
    entries = list(AuditLog.select().where(AuditLog.action == "import"))
    assert len(entries) == n + 1
    e = entries[-1]
    assert e.entity == "customers" and e.user_id == office["rep"] and e.user_name == "مریم فروش"
    assert "مشتریان نمایشگاه.xlsx" in e.summary and "۵ مشتری تازه" in e.summary and "۱ ردیف ادغام" in e.summary
    ch = json.loads(e.changes)
    assert ch["file"] == [None, "مشتریان نمایشگاه.xlsx"]
    assert (ch["added"][1], ch["updated"][1], ch["skipped"][1]) == (5, 1, 1)
    assert AuditLog.select().where(AuditLog.entity == "customer").count() == 1   # the one made by hand above
    # the user given to the import (the wizard passes the signed-in colleague) is the one named
    res = ei.import_rows(ei.analyse(ei.load_table(path)), duplicates="skip", skip_invalid=True, user=office["boss"])
    e = _last("customers", "import")
    assert e.user_id == office["boss"] and json.loads(e.changes)["skipped"][1] == 7 and res.created == 0
