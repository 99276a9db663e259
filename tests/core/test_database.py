"""Opening the database: a new file is created and migrated; an unreadable, garbage, foreign or too-new file is
refused with a Persian DatabaseError and left byte-for-byte untouched; migrations are numbered and recorded."""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import peewee as pw
import pytest

from app.core.errors import DatabaseError
from models.base import db, is_postgres
from models.connection import (
    _safe,
    check_sqlite_file,
    close_database,
    make_database,
    open_database,
    resolve_url,
    sqlite_path_of,
)
from models.core import Customer, SchemaMigration
from models.migrations import all_migrations, applied_numbers, migrate

NEWEST = max(m.NUMBER for m in all_migrations())


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def siblings(p: Path) -> list[str]:
    return sorted(x.name for x in p.parent.iterdir() if x.name.startswith(p.name))


@pytest.fixture
def made(tmp_path) -> Path:
    """A real database of this program, with a customer, closed and checkpointed."""
    path = tmp_path / "made" / "crm.sqlite3"
    open_database(str(path), create=True)
    Customer.create(first_name="علی", last_name="کریمی")
    close_database()
    return path


def assert_refused_untouched(path: Path, *phrases: str) -> DatabaseError:
    before, files = sha(path), siblings(path)
    with pytest.raises(DatabaseError) as e:
        open_database(str(path))
    close_database()
    assert sha(path) == before, "the refused file was modified"
    assert siblings(path) == files, "the refused file got -wal/-shm/journal companions"
    msg = e.value.message
    assert any("\u0600" <= ch <= "\u06ff" for ch in msg)
    for phrase in phrases:
        assert phrase in msg
    return e.value


# --- a new database -------------------------------------------------------------------------------------------

def test_new_file_is_created_migrated_and_recorded(tmp_path):
    path = tmp_path / "sub" / "folder" / "crm.sqlite3"
    url = open_database(str(path), create=True)
    try:
        assert url == "sqlite:///" + str(path.absolute())
        assert path.exists()
        rows = list(SchemaMigration.select().order_by(SchemaMigration.number))
        assert [r.number for r in rows] == [m.NUMBER for m in all_migrations()]
        assert [r.name for r in rows] == [m.NAME for m in all_migrations()]
        assert all(r.applied_at is not None for r in rows)
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert Customer.select().count() == 0
    finally:
        close_database()
    # No safety copy for a brand-new database: there was nothing to lose.
    safety = Path(os.environ["CRM_DATA_DIR"]) / "backups" / "safety"
    assert not safety.exists() or not list(safety.iterdir())


def test_reopening_runs_nothing_and_keeps_the_data(made):
    open_database(str(made))
    try:
        assert migrate(db.obj, made) == []
        assert Customer.get().first_name == "علی"
        assert SchemaMigration.select().count() == len(all_migrations())
    finally:
        close_database()


def test_empty_file_is_a_new_database(tmp_path):
    path = tmp_path / "crm.sqlite3"
    path.write_bytes(b"")
    open_database(str(path))
    try:
        assert applied_numbers(db.obj) == {m.NUMBER for m in all_migrations()}
    finally:
        close_database()


def test_old_database_is_upgraded_with_a_safety_copy_first(tmp_path):
    """A file written by a version that knew only migration 1 opens in this version without loss."""
    path = tmp_path / "old.sqlite3"
    old = pw.SqliteDatabase(str(path), pragmas={"foreign_keys": 1})
    db.initialize(old)
    first = all_migrations()[0]
    old.create_tables([SchemaMigration])
    first.up(old)
    SchemaMigration.create(number=first.NUMBER, name=first.NAME)
    Customer.create(first_name="قدیمی", last_name="مشتری")
    old.close()

    ran = (open_database(str(path)), migrate(db.obj, path))
    try:
        assert ran[1] == []                                          # already done by open_database
        assert applied_numbers(db.obj) == {m.NUMBER for m in all_migrations()}
        assert Customer.get().first_name == "قدیمی"
    finally:
        close_database()
    safety = list((Path(os.environ["CRM_DATA_DIR"]) / "backups" / "safety").glob("*before-migration-*"))
    assert len(safety) == 1
    assert f"before-migration-{all_migrations()[1].NUMBER:04d}" in safety[0].name
    con = sqlite3.connect(safety[0])
    try:
        assert con.execute("SELECT first_name FROM customer").fetchall() == [("قدیمی",)]
        assert con.execute("SELECT number FROM schema_migration").fetchall() == [(first.NUMBER,)]
    finally:
        con.close()


def test_migration_numbers_are_unique_and_ordered():
    mods = all_migrations()
    numbers = [m.NUMBER for m in mods]
    assert numbers == sorted(set(numbers))
    assert numbers[0] == 1
    for m in mods:
        assert m.__name__.rsplit(".", 1)[1].startswith(f"m{m.NUMBER:04d}_")
        assert isinstance(m.NAME, str) and m.NAME and callable(m.up)


# --- files that must be refused and left alone ----------------------------------------------------------------

@pytest.mark.parametrize("content", [
    b"hello world " * 500,                                            # a text file
    b"PK\x03\x04" + bytes(range(256)) * 20,                            # an .xlsx picked by mistake
    b"%PDF-1.7\n" + b"\x00" * 4000,                                    # a PDF
    "نام,تلفن\nعلی,09121234567\n".encode() * 100,                     # a CSV export
    b"\x00" * 8192,                                                    # zeros after a crash
    b"SQLite format 2\x00" + b"\x00" * 4000,                           # almost the header
])
def test_garbage_file_is_refused_untouched(tmp_path, content):
    path = tmp_path / "crm.sqlite3"
    path.write_bytes(content)
    assert_refused_untouched(path, str(path), "دست‌نخورده")


@pytest.mark.parametrize("keep", [100, 4096, 8192, 20000])
def test_truncated_database_is_refused_untouched(tmp_path, made, keep):
    path = tmp_path / "cut.sqlite3"
    path.write_bytes(made.read_bytes()[:keep])
    assert_refused_untouched(path, "دست‌نخورده")


def test_header_ok_but_first_page_garbage_is_refused_untouched(tmp_path, made):
    data = bytearray(made.read_bytes())
    data[16:4096] = os.urandom(4096 - 16)
    path = tmp_path / "bad.sqlite3"
    path.write_bytes(bytes(data))
    assert_refused_untouched(path, "دست‌نخورده")


def test_foreign_sqlite_database_is_refused_untouched(tmp_path):
    """Another program's SQLite file (picked with --db by mistake) must not get our tables written into it."""
    path = tmp_path / "places.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    con.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
    con.commit()
    con.close()
    assert_refused_untouched(path, "برنامه دیگری", "دست‌نخورده")
    con = sqlite3.connect(path)
    try:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["moz_places"]
    finally:
        con.close()


def test_database_from_a_newer_version_is_refused_untouched(made):
    con = sqlite3.connect(made)
    con.execute("INSERT INTO schema_migration (number, name, applied_at) VALUES (?, 'future', '2030-01-01')",
                (NEWEST + 1,))
    con.commit()
    con.close()
    err = assert_refused_untouched(made, "نسخه تازه‌تری", "دست‌نخورده")
    assert isinstance(err, DatabaseError)


def test_migrate_refuses_a_newer_database_on_any_backend(anydb):
    SchemaMigration.create(number=NEWEST + 7, name="from the future")
    with pytest.raises(DatabaseError) as e:
        migrate(db.obj)
    assert "نسخه تازه‌تری" in e.value.message
    assert SchemaMigration.select().count() == len(all_migrations()) + 1


def test_migrations_recorded_on_any_backend(anydb):
    assert applied_numbers(db.obj) == {m.NUMBER for m in all_migrations()}
    assert migrate(db.obj) == []
    assert is_postgres() == anydb.startswith("postgres")


def test_unreadable_file_is_refused_untouched(tmp_path, made):
    if os.geteuid() == 0:
        # root reads any file; make it unreadable the other way: a directory where the file should be.
        path = tmp_path / "dir.sqlite3"
        path.mkdir()
        with pytest.raises(DatabaseError):
            open_database(str(path))
        close_database()
        assert path.is_dir() and not list(path.iterdir())
        return
    path = tmp_path / "locked.sqlite3"
    path.write_bytes(made.read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(DatabaseError):
            open_database(str(path))
        close_database()
    finally:
        path.chmod(0o600)
    assert sha(path) == sha(made)


def test_check_sqlite_file_accepts_missing_and_empty(tmp_path):
    check_sqlite_file(tmp_path / "nothing-here.sqlite3")
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    check_sqlite_file(tmp_path / "empty.sqlite3")


@pytest.mark.parametrize("folder", ["a#b", "x?y", "100%25", "پوشه من", "گزارش ۱۴۰۳"])
def test_folder_names_with_uri_characters(tmp_path, folder):
    """'#', '?' and '%' in a folder name must not confuse the read-only check (nor create a stray file)."""
    path = tmp_path / folder / "crm.sqlite3"
    open_database(str(path), create=True)
    Customer.create(first_name="علی")
    close_database()
    open_database(str(path))
    try:
        assert Customer.get().first_name == "علی"
    finally:
        close_database()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]


# --- URLs -----------------------------------------------------------------------------------------------------

def test_resolve_url(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    default = resolve_url(None)
    assert default.startswith("sqlite:///") and default.endswith("crm.sqlite3")
    assert str(Path(os.environ["CRM_DATA_DIR"])) in default
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://u:secret@db.local/crm")
    assert resolve_url(None) == "postgresql://u:secret@db.local/crm"
    assert resolve_url(str(tmp_path / "x.sqlite3")) == "sqlite:///" + str(tmp_path / "x.sqlite3")  # --db wins
    monkeypatch.chdir(tmp_path)
    assert resolve_url("rel.sqlite3") == "sqlite:///" + str(tmp_path / "rel.sqlite3")
    assert sqlite_path_of("sqlite:////tmp/a.sqlite3") == Path("/tmp/a.sqlite3")
    assert sqlite_path_of("postgresql://x/y") is None


def test_password_is_hidden_in_logs():
    assert _safe("postgresql://crm:s3cret@server/crm") == "postgresql://crm:***@server/crm"
    assert _safe("sqlite:////tmp/a.sqlite3") == "sqlite:////tmp/a.sqlite3"


def test_unsupported_url_is_a_persian_error():
    with pytest.raises(DatabaseError) as e:
        make_database("mysql://localhost/crm")
    assert "پشتیبانی نمی‌شود" in e.value.message


def test_unreachable_postgres_is_a_persian_error():
    with pytest.raises(DatabaseError) as e:
        open_database("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    close_database()
    assert "اتصال به پایگاه داده برقرار نشد" in e.value.message


def test_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(DatabaseError) as e:
        open_database(str(blocker / "crm.sqlite3"), create=True)
    close_database()
    assert "پوشه پایگاه داده" in e.value.message
    assert blocker.read_text() == "x"


def test_every_migration_file_is_listed():
    """all_migrations() imports the migrations by name: a new mNNNN file must be added there, not forgotten."""
    import re

    folder = Path(__file__).resolve().parents[2] / "models" / "migrations"
    files = {p.stem for p in folder.glob("m*.py") if re.fullmatch(r"m\d{4}_\w+", p.stem)}
    assert {m.__name__.rsplit(".", 1)[1] for m in all_migrations()} == files
    assert [m.NUMBER for m in all_migrations()] == list(range(1, len(files) + 1))
    from models.migrations import KNOWN_NUMBERS

    assert KNOWN_NUMBERS == {m.NUMBER for m in all_migrations()}   # a new migration is added there too


def test_an_up_to_date_database_opens_without_importing_the_migrations(tmp_path):
    """Opening a database that has every migration applied (each start of the day) reads the recorded numbers
    only; a database missing one still gets it."""
    import subprocess
    import sys

    from models.base import db
    from models.connection import close_database, open_database

    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    close_database()
    code = ("import sys; from models.connection import open_database; open_database(sys.argv[1]);"
            "print(sorted(m for m in sys.modules if m.startswith('models.migrations.m')))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
    open_database(str(path))
    db.execute_sql("DELETE FROM schema_migration WHERE number = 24")      # the newest
    db.execute_sql("DROP INDEX customer_birthday_card")
    db.execute_sql("CREATE INDEX customer_birthday ON customer (birthday)")     # as migration 3 left it
    close_database()
    open_database(str(path))
    try:
        assert db.execute_sql("SELECT 1 FROM schema_migration WHERE number = 24").fetchone() == (1,)
        assert db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'customer_birthday_card'").fetchone() == (1,)
        assert db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'customer_birthday'").fetchone() is None
    finally:
        close_database()


def test_adding_a_column_to_an_older_database_keeps_every_row_pointing_at_it(anydb):
    """Migration 13 adds the users' extension to a database that has none. It once rebuilt the user table to do
    it, and dropping the old table with foreign keys on cleared every customer's and task's colleague."""
    from app.demo.customers import seed
    from models.base import db
    from models.migrations import m0013_user_extension

    seed(customers=30, seed=3, calls=10, invoices=5)
    counts = ("SELECT (SELECT count(*) FROM customer WHERE assigned_to_id IS NOT NULL), "
              "(SELECT count(*) FROM task WHERE assignee_id IS NOT NULL), (SELECT count(*) FROM \"user\")")
    before = db.execute_sql(counts).fetchone()
    assert min(before) > 0
    db.execute_sql('ALTER TABLE "user" DROP COLUMN extension')
    with db.atomic():
        m0013_user_extension.up(db.obj)
    assert db.execute_sql(counts).fetchone() == before
    assert db.execute_sql("SELECT count(*) FROM \"user\" WHERE extension = ''").fetchone()[0] == before[2]
