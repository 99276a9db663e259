"""`crm backup` on the office's PostgreSQL server runs pg_dump; the dump restores with pg_restore."""
from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import urlparse

import pytest

from app.core.errors import UserError
from tests.office.pg import PG, _admin, needs_pg


@needs_pg
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_backup_of_the_server_restores(tmp_path, pg_schema, capsys):
    from app.customers import service as cs
    from cli.main import run
    from models.base import db
    from models.connection import close_database, open_database

    schema, url = pg_schema
    open_database(url)
    for i in range(5):
        cs.create_customer({"kind": "person", "first_name": "مشتری", "last_name": f"شماره {i}"})
    close_database()
    out = tmp_path / "office.pgdump"
    assert run(["--db", url, "backup", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.stat().st_size > 0 and (out.stat().st_mode & 0o077) == 0       # owner-only
    assert not list(tmp_path.glob("*.part"))
    assert run(["--db", url, "backup", "--out", str(out)]) == 2                # no overwrite without --force
    # The disaster: the schema is gone. pg_restore brings it back whole.
    _admin(f'DROP SCHEMA "{schema}" CASCADE')
    p = urlparse(PG)
    subprocess.run(["pg_restore", "-h", p.hostname or "127.0.0.1", "-p", str(p.port or 5432), "-U",
                    p.username or "postgres", "-d", (p.path or "/test").lstrip("/"), str(out)], check=True)
    open_database(url)
    names = sorted(r[0] for r in db.execute_sql("SELECT last_name FROM customer").fetchall())
    assert names == [f"شماره {i}" for i in range(5)]


def test_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch):
    from app.backup import pg_backup

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CRM_PG_DUMP", raising=False)
    with pytest.raises(UserError) as e:
        pg_backup("postgresql://crm:secret@server/crm", out=tmp_path / "x.pgdump")
    assert "pg_dump" in e.value.message and "postgresql-client" in e.value.message
    assert not (tmp_path / "x.pgdump").exists()


def test_a_failed_dump_leaves_no_file_and_hides_the_password(tmp_path, monkeypatch):
    from app.backup import pg_backup

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    with pytest.raises(UserError) as e:
        pg_backup("postgresql://crm:s3cret@127.0.0.1:1/crm", out=tmp_path / "x.pgdump")
    assert "وصل نشد" in e.value.message and "s3cret" not in (e.value.details or "")
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("PGPASSWORD") is None
