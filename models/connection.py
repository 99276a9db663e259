"""Opening the database: SQLite file (default, WAL, foreign keys) or PostgreSQL from a URL."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import peewee as pw

from app.core.errors import DatabaseError
from models import statistics
from models.base import db
from models.reader import readers
from models.writer import connection_lost, note_write, writer

logger = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32000,     # 32 MB page cache
    "busy_timeout": 5000,
    "temp_store": "memory",
}


# Filesystems on which SQLite's file locking is not dependable (SMB/CIFS, NFS, sshfs and other network FUSE
# mounts): two desks writing one file there corrupt it sooner or later. See https://sqlite.org/useovernet.html
NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "coda", "ceph", "glusterfs", "lustre", "9p",
    "davfs", "sshfs", "fuse.sshfs", "fuse.rclone", "fuse.gvfsd-fuse", "fuse.s3fs", "fuse.davfs2",
    "fuse.glusterfs", "fuse.ceph", "fuse.smbnetfs", "fuse.curlftpfs",
})
DRIVE_REMOTE = 4                                    # GetDriveTypeW: a mapped network drive


def _unescape_mount(field: str) -> str:
    """/proc/self/mountinfo writes a space as \\040, a tab as \\011, a newline as \\012, a backslash as \\134."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def filesystem_of(path: Path | str, mountinfo: str) -> str | None:
    """The filesystem type of the mount holding `path`, from the text of /proc/self/mountinfo (the longest
    mount point that contains the path; a later mount over the same point wins)."""
    target = str(path)
    best, best_len = None, -1
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, after = left.split(), right.split()
        if len(fields) < 5 or not after:
            continue
        point = _unescape_mount(fields[4])
        inside = target == point or point == "/" or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best_len:
            best, best_len = after[0], len(point)
    return best


def network_filesystem(path: Path | str, mountinfo: str | None = None, platform: str | None = None,
                       drive_type=None) -> str | None:
    """A short name of the network filesystem `path` lies on ("nfs", "cifs", "unc", "network drive"), or None
    for a local disk. Linux reads /proc/self/mountinfo (or the text given); Windows takes a UNC path
    (\\\\server\\share) or a drive letter that GetDriveTypeW calls remote (`drive_type(root)` for tests)."""
    import sys

    platform = platform or sys.platform
    text = str(path)
    if platform.startswith("win"):
        if text.startswith(("\\\\", "//")) and not text.startswith(("\\\\?\\", "\\\\.\\", "//?/", "//./")):
            return "unc"
        if text.upper().startswith(("\\\\?\\UNC\\", "//?/UNC/")):
            return "unc"
        m = re.match(r"^(?:\\\\\?\\)?([A-Za-z]):", text)
        if m is None:
            return None
        root = m.group(1).upper() + ":\\"
        if drive_type is None:
            try:
                import ctypes

                drive_type = ctypes.windll.kernel32.GetDriveTypeW  # type: ignore[attr-defined]
            except (ImportError, AttributeError, OSError):
                return None
        return "network drive" if drive_type(root) == DRIVE_REMOTE else None
    if mountinfo is None:
        if not platform.startswith("linux"):
            return None
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        try:
            text = str(Path(text).resolve())           # a symlink into a mounted share counts as the share
        except OSError:
            pass
    fs = filesystem_of(text, mountinfo)
    if fs is None:
        return None
    fs = fs.lower()
    if fs in NETWORK_FS or fs.split(".", 1)[-1] in NETWORK_FS:
        return fs
    return None


def refuse_network_sqlite(path: Path) -> None:
    """SQLite on a network share is refused: its locking is not dependable over SMB/NFS and several desks
    writing one file there corrupt it. CRM_ALLOW_NETWORK_SQLITE=1 lifts the refusal (one desk only, at the
    office's own risk)."""
    if os.environ.get("CRM_ALLOW_NETWORK_SQLITE") == "1":
        return
    folder = path if path.exists() else path.parent
    fs = network_filesystem(folder)
    if fs is None:
        return
    raise DatabaseError(
        f"پایگاه داده «{path}» روی پوشه اشتراکی شبکه ({fs}) است. قفل فایل SQLite روی شبکه (SMB/NFS) قابل "
        "اعتماد نیست و وقتی چند میز هم‌زمان در آن بنویسند، داده‌ها خراب می‌شوند. فایل را روی دیسک همین رایانه "
        "بگذارید، یا برای کار چند میز با هم یک سرور PostgreSQL راه بیندازید (راهنما: README، بخش «دفتر روی "
        "یک سرور») و داده‌ها را با crm db copy به آن ببرید.",
        en=f"The database {path} is on a network share ({fs}). SQLite's file locking is not dependable over "
           "SMB/NFS, and several desks writing one file there corrupt it. Keep the file on this computer's own "
           "disk, or set up a PostgreSQL server for several desks (README, 'The office on one server') and move "
           "the data there with crm db copy.")


def default_sqlite_path() -> Path:
    from app.core.paths import data_dir

    return data_dir() / "crm.sqlite3"


def resolve_url(db_arg: str | None) -> str:
    """--db beats CRM_DATABASE_URL beats the default file. A bare path means SQLite.

    Refused with a Persian message: an empty --db, text with control characters, `sqlite://` or `sqlite:///`
    with no path, an in-memory database (everything would be lost at exit), and half-URLs such as
    `sqlite:x.db` or `postgresql:/host` (a scheme without "//")."""
    if db_arg is not None and not db_arg.strip():
        raise DatabaseError("مسیر پایگاه داده (--db) خالی است.", en="The database path (--db) is empty.")
    value = db_arg or os.environ.get("CRM_DATABASE_URL") or str(default_sqlite_path())
    if any(ord(ch) < 32 for ch in value):
        raise _bad_address(value)
    if "://" not in value:
        # "C:\office\crm.sqlite3" is a Windows path; "sqlite:crm.db" or "postgresql:host" is a broken address.
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", value):
            raise _bad_address(value)
        if value.strip() == ":memory:":
            raise _in_memory()
        return "sqlite:///" + str(Path(value).expanduser().absolute())
    parsed = urlparse(value)
    if parsed.scheme == "sqlite":
        path = sqlite_path_of(value)
        if path is None or not str(path).strip() or str(path).strip() == "/":
            raise DatabaseError(
                f"نشانی «{value}» مسیر فایل ندارد. نشانی درست مانند sqlite:////home/office/crm.sqlite3 است، "
                "یا فقط مسیر فایل را بدهید.",
                en=f"The address {value} has no file path; use sqlite:////path/to/crm.sqlite3 or just the path.")
        if str(path).strip() == ":memory:":
            raise _in_memory()
    return value


def _bad_address(value: str) -> DatabaseError:
    return DatabaseError(
        f"«{value}» نه مسیر فایل است و نه نشانی پایگاه داده (sqlite:///… یا postgresql://…).",
        en=f"{value!r} is neither a file path nor a database address (sqlite:///… or postgresql://…).")


def _in_memory() -> DatabaseError:
    return DatabaseError("پایگاه داده در حافظه با بستن برنامه پاک می‌شود؛ مسیر یک فایل را بدهید.",
                         en="An in-memory database is lost when the program ends; give a file path.")


def sqlite_path_of(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        return Path(rest) if rest else None
    return None


def check_sqlite_file(path: Path, defer_check: bool = False) -> None:
    """Refuse a file that exists but is not a readable SQLite database, without touching it.

    defer_check: a file exactly as this program left it at its last clean close (see `seal`) skips the page
    check here; the caller runs `quick_check` in the background instead (`take_unchecked`)."""
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
        from models.migrations import KNOWN_NUMBERS

        if newest > max(KNOWN_NUMBERS):
            raise DatabaseError(
                "این پایگاه داده با نسخه تازه‌تری از برنامه ساخته شده است. برنامه را به‌روز کنید؛ "
                "پایگاه داده دست‌نخورده ماند.",
                en="This database was written by a newer version of the program; update the program. "
                   "The database was left untouched.")
    if tables and os.environ.get("CRM_OPEN_DAMAGED") != "1":
        if defer_check and sealed(path):
            _unchecked.add(path.absolute())      # left as closed: the program checks it in the background
            return
        problem = quick_check(path)
        if problem is not None:
            raise damaged(path, problem)


def quick_check(path: Path) -> str | None:
    """SQLite's PRAGMA quick_check(1) on the file, read-only: None when the pages are whole, otherwise the first
    problem found. It reads every page once (warm cache: 0.2 s for 20,000 demo customers, an 84 MB file; 0.75 s
    for 100,000, a 427 MB file, short enough to run on every open),
    checking the b-trees' structure, not the indexes against the tables as integrity_check does (8x slower)."""
    wal = Path(str(path) + "-wal").exists()
    try:
        con = sqlite3.connect(path.absolute().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1"), uri=True)
        try:
            rows = con.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:             # damage so bad that the check itself stops
        return str(e)
    first = rows[0][0] if rows else "no answer"
    return None if first == "ok" else str(first)


# --- the seal of a clean close -----------------------------------------------------------------------------------
# Reading every page (quick_check) costs 0.75 s for 100,000 customers at every start. A file the program closed
# cleanly, that nothing has touched since (same inode, size and modification time, no write-ahead log to replay),
# is opened at once, and its pages are checked in the background a moment later. Any write, a crash, a restore,
# a copy or another desk changes one of those, and the next start checks before opening, as before.
_unchecked: set[Path] = set()


def _seal_file(path: Path) -> Path:
    from app.core.paths import data_dir_path

    key = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:24]
    return data_dir_path() / "sealed" / f"{key}.json"


def _file_state(path: Path) -> dict | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return {"path": str(path.absolute()), "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _wal_empty(path: Path) -> bool:
    try:
        return Path(str(path) + "-wal").stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def seal(path: Path) -> bool:
    """At a clean close, when no other desk has the file open: fold the write-ahead log into the file and
    record the file's state, so that the next start may skip the blocking page check. Returns True if sealed."""
    from models import presence

    path = Path(path)
    unseal(path)
    if presence.others(path):
        return False
    try:
        con = sqlite3.connect(str(path), timeout=1)
        try:
            busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        logger.debug("no seal for %s", path, exc_info=True)
        return False
    state = _file_state(path)
    if busy or state is None or not _wal_empty(path):
        return False
    target = _seal_file(path)
    try:
        from app.core.fs import private_dir
        from app.core.paths import data_dir

        data_dir()                                 # made owner-only first, if it is new
        private_dir(target.parent)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        logger.debug("the seal of %s was not written", path, exc_info=True)
        return False
    return True


def unseal(path: Path) -> None:
    with contextlib.suppress(OSError):
        _seal_file(Path(path)).unlink()


def sealed(path: Path) -> bool:
    """True when `path` is exactly as the program left it at its last clean close."""
    try:
        recorded = json.loads(_seal_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == _file_state(path) and _wal_empty(path)


def take_unchecked(path: Path | None) -> bool:
    """Whether opening `path` skipped the page check (the caller now owes it one, in the background)."""
    if path is None:
        return False
    key = Path(path).absolute()
    found = key in _unchecked
    _unchecked.discard(key)
    return found


def latest_backup() -> Path | None:
    """The newest backup in the backups folder (by time written), or None."""
    from app.core.paths import backup_dir
    from models.snapshot import PREFIX, SUFFIX

    try:
        found = [p for p in backup_dir().glob(f"{PREFIX}*{SUFFIX}") if p.is_file()]
        return max(found, key=lambda p: p.stat().st_mtime) if found else None
    except OSError:
        return None


def damaged(path: Path, problem: str, in_use: bool = False) -> DatabaseError:
    """The refusal for a file with damaged pages: names the newest backup and the command that restores it.
    in_use: found by the background check of a file already open (the program then closes)."""
    backup = latest_backup()
    if backup is not None:
        fa = (f"آخرین پشتیبان «{backup}» است. برنامه را روی همه میزها ببندید و آن را بازگردانید:\n"
              f"crm --db \"{path}\" restore \"{backup}\"\n")
        en = (f"The latest backup is {backup}. Close the program on every desk and restore it:\n"
              f"crm --db \"{path}\" restore \"{backup}\"\n")
    else:
        fa = ("پشتیبانی در پوشه پشتیبان‌ها پیدا نشد؛ اگر جای دیگری پشتیبان دارید، برنامه را ببندید و با این "
              f"فرمان بازگردانید:\ncrm --db \"{path}\" restore <فایل\u00a0پشتیبان>\n")
        en = ("No backup was found in the backups folder; if you keep one elsewhere, close the program and run "
              f"crm --db \"{path}\" restore <backup file>.\n")
    if in_use:
        head_fa = (f"بررسی فایل پایگاه داده «{path}» نشان داد بخشی از آن آسیب دیده است؛ برنامه برای جلوگیری از "
                   "خرابی بیشتر بسته می‌شود و پشتیبان این بار گرفته نشد. ")
        head_en = (f"A check of the database file {path} found damaged pages; the program closes to prevent further "
                   "damage, and no backup was taken this time. ")
    else:
        head_fa = (f"بخشی از فایل پایگاه داده «{path}» آسیب دیده است؛ برای جلوگیری از خرابی بیشتر باز نشد و "
                   "دست‌نخورده ماند. ")
        head_en = (f"Part of the database file {path} is damaged; it was not opened, to prevent further damage, "
                   "and was left untouched. ")
    return DatabaseError(
        head_fa + fa + "برای بیرون کشیدن داده‌های سالم پیش از بازگردانی، می‌توانید برنامه را یک بار با "
        "CRM_OPEN_DAMAGED=1 باز کنید و خروجی Excel بگیرید.", details=problem,
        en=head_en + en + "To take out the readable data before restoring, open the program once "
           "with CRM_OPEN_DAMAGED=1 and export to Excel.")


class _NotesWrites:
    """Every statement that changes a table is noted for the commit hooks (models.writer.on_commit): the live
    office events tell the other desks which tables changed."""

    def execute_sql(self, sql, params=None, *args, **kwargs):
        cursor = super().execute_sql(sql, params, *args, **kwargs)
        note_write(self, sql)
        return cursor


_OWED = "\0"        # what a connection that still owes a reload of the statistics last saw (no fingerprint is)


class SqliteDatabase(_NotesWrites, pw.SqliteDatabase):
    """peewee's SQLite database, with two additions. When a COMMIT fails because the disk is full (or I/O failed),
    SQLite has already rolled the transaction back, and peewee's ROLLBACK then fails with "cannot rollback - no
    transaction is active", which replaced the real cause. Here ROLLBACK is skipped when SQLite has no
    transaction open, so the error that surfaces is the one that happened ("database or disk is full").
    And a connection reads the planner's statistics again after this program gathered them on the writer's
    (models.statistics): SQLite reads them when a connection opens, and the GUI's and the readers' stay open."""

    def execute_sql(self, sql, params=None, *args, **kwargs):
        state = self._state
        # outside a transaction only: inside one (a writer job: its connection gathered them already) the reload
        # touched a database attached there, which DETACH then refused (the import's stage)
        if not state.transactions and (getattr(state, "statistics", 0) != statistics.generation
                                       or time.monotonic() >= getattr(state, "statistics_look", 0.0)):
            self._statistics_again(state)
        return super().execute_sql(sql, params, *args, **kwargs)

    def _initialize_connection(self, conn):
        super()._initialize_connection(conn)
        # a new connection reads the statistics as they are now: nothing to read again until they change (the
        # state is the thread's and outlives a connection closed and opened again)
        state = self._state
        state.statistics = statistics.generation
        state.statistics_seen = None
        state.statistics_look = 0.0

    def _statistics_again(self, state) -> None:
        """Read the planner's statistics again when this process gathered new ones since (its generation), or
        when another process did (what sqlite_stat1 holds changed since this connection last looked). Never
        raises and never waits: the reload takes the write lock for an instant, and when another connection
        holds it (an import), or this one cannot write, it is owed until the next look."""
        generation = statistics.generation
        state.statistics_look = time.monotonic() + statistics.LOOK_S
        first_row = lambda q: super(SqliteDatabase, self).execute_sql(q).fetchone()  # noqa: E731
        seen = statistics.fingerprint(first_row)
        before = getattr(state, "statistics_seen", None)
        owed = getattr(state, "statistics", 0) != generation or (
            before is not None and seen is not None and seen != before)
        state.statistics = generation
        if seen is None:                  # not readable now
            state.statistics_seen = _OWED if owed else before
            return
        if owed and seen:
            conn = state.conn
            try:
                wait_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
                conn.execute("PRAGMA busy_timeout = 0")
                try:
                    conn.execute("ANALYZE sqlite_schema")
                finally:
                    conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            except sqlite3.Error as e:
                logger.debug("planner statistics not read again now: %s", e)
                state.statistics_seen = _OWED
                return
            seen = statistics.fingerprint(first_row) or seen
        state.statistics_seen = seen

    def rollback(self):
        conn = self._state.conn
        if conn is not None and not conn.in_transaction:
            return None
        return super().rollback()


_REPEATABLE_SQL = re.compile(r"^\s*(?:SELECT|SHOW|WITH\s[^;]*\)\s*SELECT)\b", re.IGNORECASE | re.DOTALL)


class _Reconnects:
    """A dropped connection (server restart, network blip, pg_terminate_backend) is replaced BETWEEN
    transactions, transparently, in whichever thread notices it: before a transaction begins (a writer job or
    any db.atomic()), and before a statement run outside a transaction. A read outside a transaction that finds
    the connection gone is repeated once on a new one; anything else that was in flight when the connection
    dropped (a transaction, a lone write) fails with a Persian DatabaseError and is never silently repeated or
    half-done (the server rolls back a transaction whose connection is gone)."""

    if TYPE_CHECKING:       # provided by the peewee database class this is mixed into
        _state: Any

        def connect(self, reuse_if_open: bool = False) -> bool: ...


    def _lost(self) -> bool:
        """True when this thread's connection was open and psycopg2 has since seen it close."""
        state = self._state
        return not state.closed and state.conn is not None and getattr(state.conn, "closed", 0) != 0

    def _reconnect(self) -> None:
        state = self._state
        old = state.conn
        try:
            if old is not None:
                old.close()
        except Exception:  # noqa: BLE001 - the old connection is gone anyway
            pass
        state.reset()
        logger.warning("the PostgreSQL connection was lost; reconnecting")
        try:
            self.connect()
        except pw.DatabaseError as e:
            raise _connection_error(e, connecting=True) from e

    def begin(self, *args, **kwargs):
        if self._lost():
            self._reconnect()
        try:
            return super().begin(*args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError):
            if not self._lost():
                raise
        # Nothing of this transaction has run yet: a new connection and one more try is safe.
        self._reconnect()
        return super().begin(*args, **kwargs)

    def execute_sql(self, sql, params=None, *args, **kwargs):
        if self.in_transaction():
            try:
                return super().execute_sql(sql, params, *args, **kwargs)
            except (pw.OperationalError, pw.InterfaceError) as e:
                if self._lost():
                    raise _connection_error(e) from e
                raise
        if self._lost():
            self._reconnect()
        try:
            return super().execute_sql(sql, params, *args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError) as e:
            if not self._lost():
                raise
            if not _REPEATABLE_SQL.match(sql):
                raise _connection_error(e) from e      # a lone write: it may or may not have run; say so
        self._reconnect()
        return super().execute_sql(sql, params, *args, **kwargs)

    def rollback(self):
        # The server has already rolled back a transaction whose connection dropped; a ROLLBACK on the dead
        # connection would only replace the real error with "connection already closed".
        if self._lost():
            return None
        return super().rollback()


def _connection_error(e: BaseException, connecting: bool = False) -> DatabaseError:
    if connecting:
        return DatabaseError(
            "اتصال به سرور پایگاه داده قطع شد و دوباره برقرار نشد؛ کار انجام نشد. شبکه و روشن بودن سرور "
            "PostgreSQL را بررسی کنید و دوباره امتحان کنید.", details=str(e),
            en="The connection to the database server was lost and could not be made again; nothing was done. "
               "Check the network and that the PostgreSQL server is running, then try again.")
    return connection_lost(e)


class PostgresqlDatabase(_NotesWrites, _Reconnects, pw.PostgresqlDatabase):
    """peewee's PostgreSQL database, noting the tables each statement changes (see _NotesWrites) and
    reconnecting between transactions after a dropped connection (see _Reconnects)."""

    def _initialize_connection(self, conn):
        super()._initialize_connection(conn)
        # The statements this program PREPAREs (models.sqlcache: the popup's summary, a number's customers, the
        # list's rows) are look-ups by key, whose plan does not depend on the key. By default the server plans
        # each of the first five runs of a prepared statement afresh: the popup's summary took 4 ms to plan
        # and 0.5 ms to run, so each desk's first calls waited for it. Only prepared statements (and PL/pgSQL's,
        # which this program does not query from) follow this setting; PostgreSQL 12 and later have it.
        if getattr(conn, "server_version", 0) >= 120000:
            with conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_generic_plan")


def make_database(url: str, create: bool | None = None, defer_check: bool = False) -> pw.Database:
    """create: True allows a new SQLite file, False refuses one, None allows only the default file in the data
    folder (the first start). A new file is created owner-only (0600), in owner-only new folders."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = sqlite_path_of(url)
        if path is None or str(path) in ("", ":memory:"):
            raise _in_memory()
        if path.is_dir():
            raise DatabaseError(f"«{path}» یک پوشه است، نه فایل پایگاه داده.",
                                en=f"{path} is a folder, not a database file.")
        refuse_network_sqlite(path)
        check_sqlite_file(path, defer_check=defer_check)
        if not path.exists():
            if create is None:
                create = path.absolute() == default_sqlite_path().absolute()
            if not create:
                raise DatabaseError(
                    f"پایگاه داده «{path}» وجود ندارد. مسیر را بررسی کنید (شاید اشتباه تایپ شده است)؛ "
                    "برای ساختن پایگاه داده تازه برنامه را بدون --db باز کنید یا از crm demo-data استفاده کنید.",
                    en=f"There is no database at {path}. Check the path (a typing mistake?); to make a new "
                       "database open the program without --db, or use crm demo-data.")
            from app.core.fs import cause_of, create_private_file, private_dir

            try:
                private_dir(path.parent)
            except OSError as e:
                cause = cause_of(e)
                raise DatabaseError(f"پوشه پایگاه داده ساخته نمی‌شود: {path.parent}"
                                    + (f" ({cause[0]})" if cause else ""), details=str(e),
                                    en=f"Cannot create the database folder {path.parent}"
                                       + (f" ({cause[1]})" if cause else "")) from e
            try:
                create_private_file(path)
            except FileExistsError:
                pass                               # another process made it a moment ago: open it
            except OSError as e:
                cause = cause_of(e)
                raise DatabaseError(
                    f"پایگاه داده «{path}» ساخته نشد" + (f": {cause[0]}." if cause else "."), details=str(e),
                    en=f"Cannot create the database {path}" + (f": {cause[1]}." if cause else ".")) from e
        # lock_type: every transaction takes the write lock up front (BEGIN IMMEDIATE) and waits the busy
        # timeout for it, instead of failing at its first write when another desk or process is writing.
        return SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=5, lock_type="IMMEDIATE")
    if parsed.scheme in ("postgres", "postgresql"):
        from playhouse.db_url import parse

        from models.pgdriver import ensure_driver

        ensure_driver()
        return PostgresqlDatabase(**parse(url))
    raise DatabaseError(f"نشانی پایگاه داده پشتیبانی نمی‌شود: {url} (sqlite:///… یا postgresql://…)",
                        en=f"Unsupported database address: {url} (use sqlite:///… or postgresql://…)")


# --- temporary files ------------------------------------------------------------------------------------------
# Work files (the import's staging database) live in one folder of the data folder; a run that was killed
# leaves its file behind, and files there older than a day are removed when a database is next opened.
TEMP_MAX_AGE = 24 * 3600.0
_swept = False


def temp_dir() -> Path:
    """data_dir()/tmp, owner-only: the one folder for the program's temporary work files."""
    from app.core.fs import private_dir
    from app.core.paths import data_dir

    folder = data_dir() / "tmp"
    private_dir(folder)
    return folder


def sweep_temp(max_age: float = TEMP_MAX_AGE, now: float | None = None) -> int:
    """Remove files in temp_dir() last changed more than `max_age` seconds ago (leftovers of killed runs; a
    live run touches its file far more often). Returns how many were removed. Never raises."""
    import time

    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(temp_dir().iterdir())
    except OSError:
        return 0
    for p in entries:
        try:
            if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime > max_age:
                p.unlink()
                removed += 1
        except OSError:
            logger.debug("could not remove the leftover %s", p, exc_info=True)
    if removed:
        logger.info("removed %d leftover temporary file(s) from %s", removed, temp_dir())
    return removed


def _sweep_once() -> None:
    global _swept
    if not _swept:
        _swept = True
        sweep_temp()


def open_database(db_arg: str | None = None, migrate: bool = True, create: bool | None = None,
                  defer_check: bool = False, upgrading: Callable[[list[int]], None] | None = None) -> str:
    """Initialise the global database and bring its schema up to date. Returns the URL used.

    create: True lets a new SQLite file be made (demo data, tests, a first run that chose a path); False never;
    None (the default) only the default file in the data folder, on the very first start. A path given with
    --db that does not exist is refused, so a typing mistake never becomes a new empty database.
    upgrading: told the migrations' numbers before an existing database is brought up to date (see migrate)."""
    url = resolve_url(db_arg)
    _sweep_once()
    database = make_database(url, create=create, defer_check=defer_check)
    _let_go()
    _forget_previous()
    db.initialize(database)
    try:
        db.connect(reuse_if_open=True)
    except pw.OperationalError as e:
        raise DatabaseError(f"اتصال به پایگاه داده برقرار نشد: {e}", details=str(e),
                            en=f"Cannot connect to the database: {e}") from e
    except pw.DatabaseError as e:
        raise DatabaseError("پایگاه داده باز نمی‌شود؛ فایل دست‌نخورده ماند.", details=str(e),
                            en="The database cannot be opened; the file was left untouched.") from e
    path = sqlite_path_of(url)
    if path is not None:
        from models import presence

        unseal(path)                           # from now on only a clean close vouches for the file
        presence.register(path)
    logger.info("database opened: %s", _safe(url))
    if migrate:
        from models.migrations import migrate as run_migrations

        run_migrations(database, path, upgrading)
        if path is not None:
            statistics.refresh(wait=False)         # missing or stale planner statistics, off this thread
    return url


def _forget_previous() -> None:
    """Another database is opened in its place: close the old one and take back our name from beside it."""
    old = db.obj
    if old is None:
        return
    from models import presence

    if isinstance(old, pw.SqliteDatabase) and old.database not in ("", ":memory:"):
        presence.unregister(Path(old.database))
    try:
        if not old.is_closed():
            old.close()
    except Exception:  # closing the old one is best effort
        logger.debug("closing the previous database failed", exc_info=True)


def _let_go() -> None:
    """Before the database is closed or swapped: the statistics jobs still queued do nothing (the next opening
    queues them again), the writer runs what else is queued, and both close their threads' connections."""
    statistics.cancel()
    writer.release()
    readers.release()


def close_database() -> None:
    _let_go()
    old = db.obj
    if old is not None and not db.is_closed():
        db.close()
    if isinstance(old, pw.SqliteDatabase) and old.database not in ("", ":memory:"):
        from models import presence

        presence.unregister(Path(old.database))


def _safe(url: str) -> str:
    p = urlparse(url)
    if p.password:
        return url.replace(p.password, "***")
    return url
