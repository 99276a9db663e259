"""PostgreSQL's driver is loaded only when a PostgreSQL database is opened: a desk on an SQLite file starts
without it, and a process that imported peewee without it still works with a real server afterwards."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, *args: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, env=dict(os.environ, **(env or {})))
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_a_desk_on_an_sqlite_file_starts_without_the_postgres_driver(db):
    from app.office import auth
    from app.office.users import ensure_default_user
    from models.connection import close_database, sqlite_path_of

    auth.enable_auto_sign_in(ensure_default_user().id)     # the window opens without a sign-in form
    path = sqlite_path_of(db)
    close_database()
    code = """
        import argparse, sys
        import ui.application as a
        import ui.main_window as mw
        from PySide6.QtWidgets import QApplication
        first = mw.MainWindow._after_first_paint
        def painted(self):
            print("DRIVER", "psycopg2" in sys.modules, flush=True)
            first(self)
            QApplication.quit()
        mw.MainWindow._after_first_paint = painted
        sys.exit(a.run_gui(argparse.Namespace(db=sys.argv[1], demo_if_empty=False, quit_after=None)))
    """
    out = _run(code, str(path), env={"QT_QPA_PLATFORM": "offscreen"})
    assert "DRIVER False" in out


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("CRM_TEST_POSTGRES_URL"), reason="needs CRM_TEST_POSTGRES_URL")
def test_peewee_imported_without_the_driver_still_works_with_a_real_server():
    code = """
        import sys, uuid
        from models.pgdriver import without_driver
        with without_driver():
            import peewee
            from models.connection import close_database, open_database
        assert "psycopg2" not in sys.modules and peewee.psycopg2 is None
        import psycopg2                     # imported elsewhere first (as the office's copy does): still given to peewee
        base = sys.argv[1]
        schema = "t_" + uuid.uuid4().hex[:12]
        admin = psycopg2.connect(base)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in base else "?"
            open_database(f"{base}{sep}options=-csearch_path%3D{schema}")      # every migration, on the server
            assert peewee.psycopg2 is psycopg2
            from app.customers import service as cs
            from models.base import db
            cid = cs.create_customer({"first_name": "مریم", "last_name": "کاظمی", "phones": ["09121234567"]}).id
            assert [c.id for c in cs.find_by_phone("+989121234567")] == [cid]
            try:
                with db.atomic():
                    db.execute_sql("UPDATE customer SET first_name = 'x' WHERE id = %s", (cid,))
                    raise RuntimeError("roll back")
            except RuntimeError:
                pass
            name = db.execute_sql("SELECT first_name FROM customer WHERE id = %s", (cid,)).fetchone()[0]
            print("NAME", name, "IDLE", db.connection().get_transaction_status() == peewee.pg_extensions.TRANSACTION_STATUS_IDLE)
            close_database()
        finally:
            admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
            admin.close()
    """
    out = _run(code, os.environ["CRM_TEST_POSTGRES_URL"])
    assert "NAME مریم IDLE True" in out
