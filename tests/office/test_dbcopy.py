"""`crm db copy --to postgresql://…` on the real PostgreSQL server: a demo office goes across whole, verified,
and works there; a non-empty or foreign target and an unreachable server are refused in Persian."""
from __future__ import annotations

import datetime as dt
import sqlite3

import psycopg2
import pytest

from app.core.errors import DatabaseError, UserError
from app.office import dbcopy
from tests.office.pg import PG, _admin, needs_pg


@pytest.fixture
def demo_file(tmp_path):
    from app.demo.customers import seed
    from models.connection import close_database, open_database

    path = tmp_path / "office.sqlite3"
    open_database(str(path), create=True)
    seed(customers=80, seed=7)
    close_database()
    return path


def _count(path, table):
    con = sqlite3.connect(path)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


@needs_pg
def test_round_trip_copies_everything_and_the_office_works(demo_file, pg_schema):
    _schema, url = pg_schema
    report = dbcopy.copy_to_postgres(demo_file, url)
    by_name = {t.name: t for t in report.tables}
    for table in ("customer", "phone_number", "call", "task", "task_referral", "sales_document", "setting", "user"):
        assert by_name[table].rows == _count(demo_file, table) > 0, table
    assert report.rows == sum(_count(demo_file, t) for t in by_name)
    from models.base import db as _db

    # the copied tables were vacuumed and analysed: read through their indexes alone from the first desk on
    vacuumed = dict(_db.execute_sql(
        "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema() AND relname IN ('customer', 'task', 'call')").fetchall())
    assert vacuumed == {"customer": True, "task": True, "call": True}

    # The program's database is now the server: search, a customer's file summary, a new customer.
    from app.customers import service as cs
    from app.customers import summary
    from models.base import db, is_postgres
    from models.core import Customer

    assert is_postgres()
    con = sqlite3.connect(demo_file)
    cid, last, created, search_text = con.execute(
        "SELECT id, last_name, created_at, search_text FROM customer WHERE last_name != '' AND merged_into_id IS NULL "
        "ORDER BY id LIMIT 1").fetchone()
    want = {r[0] for r in con.execute("SELECT id FROM customer WHERE merged_into_id IS NULL AND search_text LIKE ?",
                                      (f"%{cs.query_tokens(last)[0]}%",))}
    max_id = con.execute("SELECT max(id) FROM customer").fetchone()[0]
    con.close()
    found = set(cs.search_ids(cs.Filter(text=last)))
    assert cid in found and found == want
    s = summary.customer_summary(cid)
    assert s is not None and last in s.name
    row = Customer.get_by_id(cid)
    assert row.search_text == search_text
    assert row.created_at == dt.datetime.fromisoformat(created)
    new = cs.create_customer({"kind": "person", "first_name": "تازه", "last_name": "واردشده",
                              "phones": [{"raw": "09121112233"}]})
    assert new.id == max_id + 1                      # the id sequence was set past the copied ids
    assert cid in set(cs.search_ids(cs.Filter(text=last)))
    assert db.execute_sql("SELECT count(*) FROM customer").fetchone()[0] == _count(demo_file, "customer") + 1

    # each document's paid figure came across as it was (the server's triggers rested during the copy), and they
    # keep it from then on
    from app.sales.payments import record_payment
    from models.sales import SalesDocument
    from tests.sales.helpers_sales import summed_paid

    docs = list(SalesDocument.select(SalesDocument.id, SalesDocument.paid))
    assert any(d.paid for d in docs) and all(d.paid == summed_paid(d.id) for d in docs)
    owed = (SalesDocument.select().where(SalesDocument.doc_type == "invoice", SalesDocument.state == "issued",
                                         SalesDocument.total > SalesDocument.paid).order_by(SalesDocument.id).first())
    record_payment(owed.customer_id, "cash", owed.total - owed.paid, allocations={owed.id: owed.total - owed.paid})
    assert SalesDocument.get_by_id(owed.id).paid == owed.total


@needs_pg
def test_non_empty_target_is_refused_then_replaced_with_force(demo_file, pg_schema):
    schema, url = pg_schema
    dbcopy.copy_to_postgres(demo_file, url)
    from app.customers import service as cs
    from models.connection import close_database, open_database

    open_database(url)
    cs.create_customer({"kind": "person", "first_name": "فقط", "last_name": "روی‌سرور"})
    close_database()
    with pytest.raises(DatabaseError) as e:
        dbcopy.copy_to_postgres(demo_file, url)
    assert "خالی نیست" in e.value.message and "--force" in e.value.message
    n_before = _count(demo_file, "customer")
    open_database(url)
    from models.base import db

    assert db.execute_sql("SELECT count(*) FROM customer").fetchone()[0] == n_before + 1   # untouched
    close_database()

    open_database(str(demo_file))
    cs.create_customer({"kind": "person", "first_name": "مشتری", "last_name": "آخر"})
    close_database()
    report = dbcopy.copy_to_postgres(demo_file, url, force=True)
    assert report.emptied
    assert db.execute_sql("SELECT count(*) FROM customer").fetchone()[0] == n_before + 1
    names = [r[0] for r in db.execute_sql("SELECT last_name FROM customer").fetchall()]
    assert "آخر" in names and "روی‌سرور" not in names


@needs_pg
def test_another_programs_tables_are_refused_even_with_force(demo_file, pg_schema):
    schema, url = pg_schema
    _admin(f'CREATE TABLE "{schema}".ledger (id serial primary key, amount int); '
           f'INSERT INTO "{schema}".ledger (amount) VALUES (5)')
    with pytest.raises(DatabaseError) as e:
        dbcopy.copy_to_postgres(demo_file, url, force=True)
    assert "برنامه دیگری" in e.value.message
    import peewee as pw

    d = pw.PostgresqlDatabase(None)
    from playhouse.db_url import parse

    d.init(**parse(url))
    assert d.execute_sql("SELECT count(*) FROM ledger").fetchone()[0] == 1
    assert not d.table_exists("customer")
    d.close()


@needs_pg
def test_a_value_postgres_refuses_rolls_the_copy_back(demo_file, pg_schema):
    _schema, url = pg_schema
    con = sqlite3.connect(demo_file)
    con.execute("INSERT INTO tag (name, color) VALUES (?, '')", ("برچسب" * 20,))    # longer than varchar(60)
    con.commit()
    con.close()
    with pytest.raises(DatabaseError) as e:
        dbcopy.copy_to_postgres(demo_file, url)
    assert "tag" in e.value.message and "دست‌نخورده" in e.value.message
    from models.connection import open_database

    open_database(url)
    from models.base import db

    for table in ("customer", "tag", "call", "user"):
        assert db.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0, table


@needs_pg
def test_the_command_line_copies_and_prints_each_table(demo_file, pg_schema, capsys):
    from cli.main import run

    _schema, url = pg_schema
    assert run(["--db", str(demo_file), "db", "copy", "--to", url]) == 0
    out = capsys.readouterr().out
    assert "customer" in out and "md5" in out and "یکی است" in out
    assert run(["--db", str(demo_file), "db", "copy", "--to", url]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err


def test_unreachable_server_and_unknown_database_are_said_in_persian(demo_file):
    with pytest.raises(DatabaseError) as e:
        dbcopy.copy_to_postgres(demo_file, "postgresql://postgres@127.0.0.1:1/test")
    assert "وصل نشد" in e.value.message and e.value.en.startswith("Cannot reach")
    if PG:
        with pytest.raises(DatabaseError) as e:
            dbcopy.copy_to_postgres(demo_file, "postgresql://postgres@127.0.0.1:5432/no_such_office_db")
        assert "createdb" in e.value.message
        with pytest.raises(DatabaseError) as e:
            dbcopy.copy_to_postgres(demo_file, "postgresql://no_such_role@127.0.0.1:5432/test")
        assert "createuser" in e.value.message


def test_wrong_password_text_from_the_server_is_named():
    # psycopg2 hands the server's words over as the error's text; this is what PostgreSQL 15 says.
    e = psycopg2.OperationalError('connection to server at "10.0.0.5", port 5432 failed: FATAL:  password '
                                  'authentication failed for user "crm"\n')
    err = dbcopy.server_error(e)
    assert "گذرواژه" in err.message and "password" in err.en
    hba = dbcopy.server_error(psycopg2.OperationalError(
        'FATAL:  no pg_hba.conf entry for host "192.168.1.20", user "crm", database "crm", no encryption'))
    assert "pg_hba.conf" in hba.message


def test_target_must_be_postgres_and_source_sqlite(demo_file, tmp_path):
    with pytest.raises(UserError):
        dbcopy.copy_to_postgres(demo_file, str(tmp_path / "other.sqlite3"))
    with pytest.raises(UserError):
        dbcopy.copy_to_postgres("postgresql://postgres@127.0.0.1/test", "postgresql://postgres@127.0.0.1/test")


def test_checksum_form_is_the_same_from_either_side():
    # what SQLite returns on the left, what psycopg2 returns on the right
    assert dbcopy.canon(1, "bool") == dbcopy.canon(True, "bool") == "t"
    assert dbcopy.canon(0, "bool") == dbcopy.canon(False, "bool") == "f"
    assert dbcopy.canon("2024-03-20 09:05:01.000120", "timestamp") == \
        dbcopy.canon(dt.datetime(2024, 3, 20, 9, 5, 1, 120), "timestamp")
    assert dbcopy.canon("2024-03-20 09:05:01", "timestamp") == dbcopy.canon(dt.datetime(2024, 3, 20, 9, 5, 1),
                                                                              "timestamp")
    assert dbcopy.canon("2024-03-20", "date") == dbcopy.canon(dt.date(2024, 3, 20), "date")
    import decimal

    assert dbcopy.canon(2.5, "numeric") == dbcopy.canon(decimal.Decimal("2.500"), "numeric") == "2.5"
    assert dbcopy.canon(3, "numeric") == dbcopy.canon(decimal.Decimal("3.000"), "numeric") == "3"
    assert dbcopy.canon(None, "text") == "\\N" != dbcopy.canon("", "text")
    a, b = dbcopy.Checksum(["int", "text"]), dbcopy.Checksum(["int", "text"])
    a.add([(1, "علی"), (2, None)])
    b.add([(1, "علی"), (2, "")])
    assert a.rows == b.rows and a.hexdigest() != b.hexdigest()
