"""A fresh PostgreSQL schema per test, on the server CRM_TEST_POSTGRES_URL names (skipped where it is unset)."""
from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse

import pytest

PG = os.environ.get("CRM_TEST_POSTGRES_URL")
needs_pg = pytest.mark.skipif(not PG, reason="CRM_TEST_POSTGRES_URL is not set")


def _admin(sql: str) -> None:
    import psycopg2

    p = urlparse(PG)
    con = psycopg2.connect(host=p.hostname or "127.0.0.1", port=p.port or 5432, user=p.username or "postgres",
                           password=p.password, dbname=(p.path or "/test").lstrip("/") or "test")
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


@pytest.fixture
def pg_schema():
    """(schema name, URL whose search_path is that schema); the schema is dropped afterwards."""
    schema = "o_" + uuid.uuid4().hex[:12]
    _admin(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG else "?"
    try:
        yield schema, f"{PG}{sep}options=-csearch_path%3D{schema}"
    finally:
        from models.connection import close_database

        close_database()
        _admin(f'DROP SCHEMA "{schema}" CASCADE')
