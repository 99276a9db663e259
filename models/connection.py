"""Opening the database: SQLite file (default, WAL, foreign keys) or PostgreSQL from a URL."""
from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

import peewee as pw

from app.errors import DatabaseError
from models.base import db
from models.writer import writer

logger = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32000,     # 32 MB page cache
    "busy_timeout": 5000,
    "temp_store": "memory",
}


def default_sqlite_path() -> Path:
    from app.paths import data_dir

    return data_dir() / "crm.sqlite3"


def resolve_url(db_arg: str | None) -> str:
    """--db beats CRM_DATABASE_URL beats the default file. A bare path means SQLite."""
    value = db_arg or os.environ.get("CRM_DATABASE_URL") or str(default_sqlite_path())
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().absolute())
    return value


def sqlite_path_of(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that exists but is not a readable SQLite database, without touching it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as e:
        raise DatabaseError(f"فایل پایگاه داده خوانده نمی‌شود: {path}", details=str(e),
                            en=f"Cannot read the database file {path}.") from e
    if header != b"SQLite format 3\x00":
        raise DatabaseError(
            f"فایل «{path}» پایگاه داده این برنامه نیست یا آسیب دیده است. فایل دست‌نخورده ماند؛ "
            "می‌توانید از پشتیبان بازگردانی کنید.",
            en=f"{path} is not a database of this program or is damaged. The file was left untouched; "
               "you can restore a backup.")
    newest = None
    try:
        # as_uri() escapes what a folder name may hold ('#', '?', '%'), which a bare "file:{path}" URI misreads.
        # immutable=1 when there is no WAL to read: a read-only open of a WAL-mode file would otherwise leave
        # empty -wal/-shm files beside a file we may refuse.
        wal = Path(str(path) + "-wal").exists()
        con = sqlite3.connect(path.absolute().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1"), uri=True)
        try:
            con.execute("PRAGMA schema_version").fetchone()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "schema_migration" in tables:
                newest = con.execute("SELECT MAX(number) FROM schema_migration").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise DatabaseError(
            f"فایل «{path}» آسیب دیده است و باز نمی‌شود. فایل دست‌نخورده ماند؛ از پشتیبان بازگردانی کنید.",
            details=str(e), en=f"{path} is damaged and cannot be opened. The file was left untouched; restore a backup.") from e
    # Checked here, read-only, because opening the database for real already writes to it (WAL, migrations).
    if tables and "schema_migration" not in tables:
        raise DatabaseError(
            f"فایل «{path}» پایگاه داده برنامه دیگری است، نه این برنامه. فایل دست‌نخورده ماند.",
            en=f"{path} is another program's database. The file was left untouched.")
    if newest is not None:
        from models.migrations import all_migrations

        if newest > max(m.NUMBER for m in all_migrations()):
            raise DatabaseError(
                "این پایگاه داده با نسخه تازه‌تری از برنامه ساخته شده است. برنامه را به‌روز کنید؛ "
                "پایگاه داده دست‌نخورده ماند.",
                en="This database was written by a newer version of the program; update the program. "
                   "The database was left untouched.")


def make_database(url: str) -> pw.Database:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = sqlite_path_of(url)
        if path is None or str(path) in ("", ":memory:"):
            return pw.SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
        check_sqlite_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DatabaseError(f"پوشه پایگاه داده ساخته نمی‌شود: {path.parent}", details=str(e),
                                en=f"Cannot create the database folder {path.parent}.") from e
        # lock_type: every transaction takes the write lock up front (BEGIN IMMEDIATE) and waits the busy
        # timeout for it, instead of failing at its first write when another desk or process is writing.
        return pw.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=5, lock_type="IMMEDIATE")
    if parsed.scheme in ("postgres", "postgresql"):
        from playhouse.db_url import connect

        return connect(url)
    raise DatabaseError(f"نشانی پایگاه داده پشتیبانی نمی‌شود: {url} (sqlite:///… یا postgresql://…)",
                        en=f"Unsupported database address: {url} (use sqlite:///… or postgresql://…)")


def open_database(db_arg: str | None = None, migrate: bool = True) -> str:
    """Initialise the global database and bring its schema up to date. Returns the URL used."""
    url = resolve_url(db_arg)
    database = make_database(url)
    writer.release()
    db.initialize(database)
    try:
        db.connect(reuse_if_open=True)
    except pw.OperationalError as e:
        raise DatabaseError(f"اتصال به پایگاه داده برقرار نشد: {e}", details=str(e),
                            en=f"Cannot connect to the database: {e}") from e
    except pw.DatabaseError as e:
        raise DatabaseError("پایگاه داده باز نمی‌شود؛ فایل دست‌نخورده ماند.", details=str(e),
                            en="The database cannot be opened; the file was left untouched.") from e
    logger.info("database opened: %s", _safe(url))
    if migrate:
        from models.migrations import migrate as run_migrations

        run_migrations(database, sqlite_path_of(url))
    return url


def close_database() -> None:
    writer.release()
    if db.obj is not None and not db.is_closed():
        db.close()


def _safe(url: str) -> str:
    p = urlparse(url)
    if p.password:
        return url.replace(p.password, "***")
    return url
