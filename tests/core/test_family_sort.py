"""The customer list sorts by family name, then first name; an older database is re-keyed by migration 7."""
from __future__ import annotations

from app import customers as cs


def test_family_name_first_then_first_name(anydb):
    for first, last in (("زهرا", "محمدی"), ("علی", "رضایی"), ("پرویز", "محمدی"), ("بهرام", "یزدانی")):
        cs.create_customer({"first_name": first, "last_name": last})
    cs.create_customer({"kind": "organisation", "company": "تجارت نوین", "first_name": "کاوه", "last_name": "الف"})
    names = [cs.fetch_rows([i])[i].name for i in cs.search_ids(cs.Filter(), "name")]
    assert names == ["تجارت نوین", "علی رضایی", "پرویز محمدی", "زهرا محمدی", "بهرام یزدانی"]


def test_migration_rekeys_an_older_database(tmp_path):
    from app.text import sort_key
    from models.connection import close_database, open_database
    from models.core import Customer, SchemaMigration

    path = str(tmp_path / "old.sqlite3")
    open_database(path, create=True)
    a = cs.create_customer({"first_name": "زهرا", "last_name": "احمدی"})
    b = cs.create_customer({"first_name": "امیر", "last_name": "یزدانی"})
    # what version 6 stored: «first last»
    for c, name in ((a, "زهرا احمدی"), (b, "امیر یزدانی")):
        Customer.update(sort_key=sort_key(name)).where(Customer.id == c.id).execute()
    # version 6: migrations 7 and later not yet applied (their tables dropped)
    from app.backup import _tables_made_by
    from models.base import db
    from models.migrations import all_migrations

    for m in sorted(all_migrations(), key=lambda m: -m.NUMBER):
        if m.NUMBER >= 8:
            for table in _tables_made_by(m):
                db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
    SchemaMigration.delete().where(SchemaMigration.number >= 7).execute()
    assert cs.search_ids(cs.Filter(), "name") == [b.id, a.id]
    close_database()
    open_database(path, create=True)
    try:
        assert cs.search_ids(cs.Filter(), "name") == [a.id, b.id]
        assert Customer.get_by_id(a.id).sort_key == sort_key("احمدی زهرا")
    finally:
        close_database()
