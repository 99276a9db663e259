"""Backups a small office can trust: SQLite's online backup API (never a file copy of a live database),
rotation, and a restore that checks the file first and changes nothing when it fails.

Restore is alone with the database or does nothing: it refuses while any other process or desk has the file
open (naming them, models/presence.py), and it installs the backup *into* the live file with SQLite's backup
API while holding SQLite's exclusive lock, with the safety copy of the current data taken under the same lock.
Nothing can commit between the safety copy and the swap, and no process is left writing into a file that was
replaced underneath it (the old way, a rename, lost every commit another process made afterwards).

Every file written here is owner-only (0600), in owner-only folders (0700)."""
from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from app.core.errors import UserError
from models.snapshot import (  # noqa: F401 - also part of this module's face (tests, callers)
    PREFIX,
    SAFETY_KEEP,
    SUFFIX,
    BackupCancelled,
    _default_name,
    _free_name,
    _models_by_table,
    _online_copy,
    _ro_uri,
    _stamp,
    _tables_made_by,
    check_file,
    expected_schema,
    rotate,
    rotate_safety,
    safety_copy,
)

logger = logging.getLogger(__name__)

LOCK_WAIT = 3.0             # seconds a restore waits for SQLite's exclusive lock before it refuses


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(os.path.abspath(a)) == Path(os.path.abspath(b))


def _check_target(out: Path, db_path: Path, force: bool) -> None:
    """Where a backup may be written: never over the live database (or its WAL, shared-memory or journal
    file), never over a device or anything that is not a plain file, and over an existing file only with force."""
    live_files = [db_path] + [Path(str(db_path) + ext) for ext in ("-wal", "-shm", "-journal")]
    if any(_same_file(out, p) for p in live_files) or out.resolve() in {p.resolve() for p in live_files}:
        raise UserError(f"«{out}» خود پایگاه داده در حال کار است؛ پشتیبان روی آن نوشته نمی‌شود.",
                        en=f"{out} is the live database itself; a backup is never written over it.")
    try:
        st = os.stat(out)
    except FileNotFoundError:
        return
    except OSError as e:
        from app.core.fs import write_error

        raise write_error(f"پشتیبان «{out.name}»", f"The backup {out.name}", e) from e
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"«{out}» فایل معمولی نیست (دستگاه یا چیز دیگری است)؛ پشتیبان روی آن نوشته نمی‌شود.",
                        en=f"{out} is not a plain file (a device or similar); a backup is never written to it.")
    if not force:
        raise UserError(f"فایل «{out}» از پیش وجود دارد و رونویسی نمی‌شود. نام دیگری بدهید یا برای رونویسی "
                        "--force را هم بنویسید.",
                        en=f"{out} already exists and was not overwritten. Give another name, or add --force to "
                           "overwrite it.")


def backup(db_path: Path, out: Path | None = None, folder: Path | None = None, tag: str = "",
           force: bool = False, cancel: Callable[[], bool] | None = None) -> Path:
    """Write a backup and return where it went. `out` a file: exactly that name (an existing file only with
    force; never the live database or a device). `out` an existing folder: a dated file inside it.
    `cancel()` stops the copy between steps (BackupCancelled; no file is left)."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise UserError(f"پایگاه داده «{db_path}» وجود ندارد.", en=f"There is no database at {db_path}.")
    if out is None:
        from app.core.paths import backup_dir

        folder = Path(folder) if folder is not None else backup_dir()
        out = _free_name(folder, tag)
    else:
        out = Path(out).expanduser()
        if out.is_dir():
            out = _free_name(out, tag)
        elif str(out).endswith(("/", os.sep)):
            raise UserError(f"پوشه «{out}» وجود ندارد.", en=f"The folder {out} does not exist.")
    _check_target(out, db_path, force)
    _online_copy(db_path, out, replace=force, cancel=cancel)
    logger.info("backup written: %s", out)
    return out


def auto_backup(db_path: Path, keep: int, cancel: Callable[[], bool] | None = None) -> Path | None:
    """The backup taken at start: skipped for a new empty database, rotated to the last `keep`.
    `cancel()` stops it between steps (the program closing while it runs)."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    from app.core.paths import backup_dir

    folder = backup_dir()
    out = backup(db_path, folder=folder, tag="auto", cancel=cancel)
    rotate(folder, keep)
    return out


def _open_elsewhere(db_path: Path) -> UserError:
    from models import presence

    desks = presence.others(db_path)
    if desks:
        names = "، ".join(d.describe() for d in desks)
        return UserError(
            f"پایگاه داده هنوز جای دیگری باز است: {names}. برنامه را روی آن میزها ببندید و دوباره بازگردانی "
            "کنید؛ چیزی تغییر نکرد.",
            en="The database is still open elsewhere: " + ", ".join(d.describe_en() for d in desks)
               + ". Close the program on those desks and restore again; nothing was changed.")
    return UserError(
        "پایگاه داده در دست برنامه دیگری است (شاید نسخه دیگری از این برنامه یا ابزار دیگری). آن را ببندید و "
        "دوباره بازگردانی کنید؛ چیزی تغییر نکرد.",
        en="The database is held by another program (another copy of this program, or another tool). Close it "
           "and restore again; nothing was changed.")


def _exclusive(db_path: Path, wait: float) -> sqlite3.Connection:
    """A connection that holds SQLite's exclusive lock on `db_path` until it is closed: no other connection,
    in any process, can read or write meanwhile. In WAL mode this also fails while any other connection merely
    has the file open, which is exactly the test a restore needs."""
    con = sqlite3.connect(str(db_path), timeout=wait, isolation_level=None)
    try:
        con.execute("PRAGMA locking_mode=EXCLUSIVE").fetchall()
        con.execute("BEGIN EXCLUSIVE")
        con.execute("COMMIT")                   # the lock stays: exclusive locking mode keeps it until close
    except sqlite3.OperationalError as e:
        con.close()
        if "locked" in str(e).lower() or "busy" in str(e).lower():
            raise _open_elsewhere(db_path) from e
        from app.core.fs import write_error

        raise write_error("پایگاه داده", "The database", e) from e
    except BaseException:
        con.close()
        raise
    return con


def restore(backup_file: Path, db_path: Path, wait: float = LOCK_WAIT) -> Path | None:
    """Replace the database with a backup; return the safety copy of what it held (None if there was no
    database). Refused, with nothing changed, when the backup is not a complete intact database of this program
    or when another process or desk has the database open. See the module's docstring for how the swap stays
    atomic."""
    backup_file, db_path = Path(backup_file), Path(db_path)
    check_file(backup_file)
    if db_path.exists():
        from models import presence

        if presence.others(db_path):
            raise _open_elsewhere(db_path)
    staged = db_path.with_name(db_path.name + ".restore")
    if staged.exists() and not staged.is_file():
        raise UserError(f"«{staged.name}» سر راه بازگردانی است (پوشه‌ای با این نام)؛ آن را بردارید.",
                        en=f"{staged.name} is in the way of the restore (a folder of that name); remove it.")
    _online_copy(backup_file, staged, what=("رونوشت پشتیبان", "The copy of the backup"))
    try:
        if not db_path.exists():               # a new computer: nothing to keep, nobody to wait for
            os.replace(staged, db_path)
            logger.info("restored %s from %s (no previous database)", db_path, backup_file)
            return None
        live = _exclusive(db_path, wait)
        try:
            safety = safety_copy(live, "before-restore", check=False)   # the live file may be the damaged one
            source = sqlite3.connect(_ro_uri(staged, check=True), uri=True)
            try:
                # Rollback-journal mode for the copy itself: the backup may have another page size (a WAL
                # database cannot change it), and a power cut midway is undone by the journal at next open.
                live.execute("PRAGMA journal_mode=DELETE").fetchall()
                source.backup(live)            # one step: all pages, one transaction, under our lock
                # Back to normal locking for the switch to WAL, so SQLite removes its journal as usual (in
                # exclusive mode it keeps an empty one); the restored data is in place, others may come in.
                live.execute("PRAGMA locking_mode=NORMAL").fetchall()
                live.execute("PRAGMA journal_mode=WAL").fetchall()
            finally:
                source.close()
        except sqlite3.Error as e:
            from app.core.fs import write_error

            raise write_error("بازگردانی پایگاه داده", "The restored database", e) from e
        finally:
            live.close()
        _tidy(db_path)
    finally:
        with contextlib.suppress(OSError):
            staged.unlink()
    logger.info("restored %s from %s (previous kept in %s)", db_path, backup_file, safety)
    return safety


def _tidy(db_path: Path) -> None:
    """Open and close the restored file once in the ordinary way: as the last connection, SQLite checkpoints
    and removes the -wal and -shm files a read-only reader may have left."""
    try:
        con = sqlite3.connect(str(db_path), timeout=0.5)
        try:
            con.execute("PRAGMA user_version").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        logger.debug("tidying after the restore failed", exc_info=True)


def list_backups() -> list[Path]:
    from app.core.paths import backup_dir

    return sorted(backup_dir().glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)


# --- PostgreSQL: pg_dump ------------------------------------------------------------------------------------

PG_SUFFIX = ".pgdump"


def _pg_tool(name: str) -> str | None:
    import shutil

    given = os.environ.get(f"CRM_{name.upper()}")
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which(name)


def pg_backup(url: str, out: Path | None = None, force: bool = False, folder: Path | None = None) -> Path:
    """`crm backup` on a PostgreSQL server: pg_dump (custom format, restorable with pg_restore) into an
    owner-only file, written beside its final name and renamed when pg_dump succeeded and pg_restore can read
    its table of contents; a failed dump leaves no file. Needs pg_dump on PATH (PostgreSQL's client tools)
    of a version not older than the server's. Only the schema the address selects (search_path) is dumped when
    it names one; otherwise the whole database."""
    import subprocess
    from urllib.parse import parse_qs, unquote, urlencode, urlparse, urlunparse

    pg_dump = _pg_tool("pg_dump")
    if pg_dump is None:
        raise UserError(
            "برای پشتیبان‌گیری از سرور PostgreSQL برنامه pg_dump لازم است و پیدا نشد. ابزارهای PostgreSQL را "
            "نصب کنید (Debian: apt install postgresql-client؛ Windows: نصب‌کننده EDB) یا روی خود سرور "
            "پشتیبان بگیرید (راهنما در README).",
            en="Backing up a PostgreSQL server needs pg_dump, which was not found. Install the PostgreSQL client "
               "tools (Debian: apt install postgresql-client; Windows: the EDB installer) or back up on the server.")
    p = urlparse(url)
    query = parse_qs(p.query)
    schema = None
    for opt in query.get("options", []):
        for part in unquote(opt).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip() or None
    env = dict(os.environ)
    if p.password:
        env["PGPASSWORD"] = unquote(p.password)          # not on the command line, where `ps` would show it
    netloc = p.hostname or ""
    if p.username:
        netloc = f"{p.username}@{netloc}"
    if p.port:
        netloc += f":{p.port}"
    clean_url = urlunparse(("postgresql", netloc, p.path, "", urlencode(query, doseq=True), ""))
    if out is None:
        from app.core.paths import backup_dir

        folder = Path(folder) if folder is not None else backup_dir()
        out = folder / f"{PREFIX}{_stamp()}{PG_SUFFIX}"
    else:
        out = Path(out).expanduser()
        if out.is_dir():
            out = out / f"{PREFIX}{_stamp()}{PG_SUFFIX}"
    if out.exists() and not force:
        raise UserError(f"فایل «{out}» از پیش وجود دارد و رونویسی نمی‌شود. نام دیگری بدهید یا --force را هم "
                        "بنویسید.", en=f"{out} already exists and was not overwritten; add --force to overwrite it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    cmd = [pg_dump, "--format=custom", "--no-owner", f"--dbname={clean_url}"]
    if schema:
        cmd.append(f"--schema={schema}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            result = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, env=env, timeout=3600, check=False)
        if result.returncode != 0:
            text = result.stderr.decode("utf-8", errors="replace").strip()
            if "version mismatch" in text:
                raise UserError("نسخه pg_dump این رایانه از نسخه سرور PostgreSQL قدیمی‌تر است؛ ابزارهای PostgreSQL "
                                "هم‌نسخه سرور را نصب کنید، یا روی خود سرور پشتیبان بگیرید.", details=text,
                                en="This computer's pg_dump is older than the PostgreSQL server; install matching "
                                   "client tools or back up on the server.")
            from app.office.dbcopy import server_error

            raise server_error(Exception(text))
        pg_restore = _pg_tool("pg_restore")
        if pg_restore is not None:
            check = subprocess.run([pg_restore, "--list", str(tmp)], capture_output=True, timeout=600, check=False)
            if check.returncode != 0:
                raise UserError("پشتیبان PostgreSQL ناقص نوشته شد و کنار گذاشته شد.",
                                details=check.stderr.decode("utf-8", errors="replace"),
                                en="The PostgreSQL backup came out incomplete and was discarded.")
        os.replace(tmp, out)
    except subprocess.TimeoutExpired as e:
        raise UserError("پشتیبان‌گیری از سرور PostgreSQL بیش از اندازه طول کشید و نیمه‌کاره ماند.",
                        en="The PostgreSQL backup took too long and was stopped.") from e
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("PostgreSQL backup written: %s", out)
    return out
