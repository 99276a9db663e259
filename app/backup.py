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
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.clock import now
from app.errors import UserError

logger = logging.getLogger(__name__)

PREFIX = "crm-"
SUFFIX = ".sqlite3"
SAFETY_KEEP = 5             # safety copies kept (newest first); older ones are deleted after a new one is made
LOCK_WAIT = 3.0             # seconds a restore waits for SQLite's exclusive lock before it refuses


def _stamp() -> str:
    from app.jalali import format_date

    n = now()
    return format_date(n, persian=False).replace("/", "-") + n.strftime("_%H%M%S")


def _ro_uri(path: Path, check: bool = False) -> str:
    """Read-only SQLite URI; as_uri() escapes '#', '?' and '%' in folder names (a bare "file:{path}" misreads them,
    and without mode=ro in effect SQLite even creates an empty file at the cut-off path). For checking a file that
    has no WAL beside it, immutable=1 also keeps SQLite from leaving empty -wal/-shm files next to it."""
    path = Path(path)
    if check and not Path(str(path) + "-wal").exists():
        return path.absolute().as_uri() + "?mode=ro&immutable=1"
    return path.absolute().as_uri() + "?mode=ro"


class BackupCancelled(UserError):
    """The backup was stopped (the program is closing); no file was left."""

    def __init__(self) -> None:
        super().__init__("پشتیبان‌گیری لغو شد؛ فایلی ساخته نشد.", en="The backup was cancelled; no file was made.")


def _online_copy(src: Path | sqlite3.Connection, dest: Path, what: tuple[str, str] = ("پشتیبان", "The backup"),
                 replace: bool = True, cancel: Callable[[], bool] | None = None) -> None:
    """Copy a (possibly live) SQLite database page by page with the backup API into an owner-only temporary
    file beside `dest`, check it, then rename it to `dest`. `src` is a path or an open connection (a restore
    copies from the connection that holds the exclusive lock). On any failure nothing is left behind and the
    error names the real cause (a full disk, a read-only folder) in Persian. `cancel()` is asked between steps
    of 1024 pages; when it turns true the copy stops (BackupCancelled)."""
    dest = Path(dest)
    tmp: Path | None = None

    def step(_status: int, _remaining: int, _total: int) -> None:
        if cancel is not None and cancel():
            raise BackupCancelled()

    try:
        from app.fs import private_dir

        private_dir(dest.parent)
        fd, name = tempfile.mkstemp(prefix="." + dest.name + ".", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        source = sqlite3.connect(_ro_uri(src), uri=True) if isinstance(src, Path) else src
        try:
            target = sqlite3.connect(str(tmp))
            try:
                source.backup(target, pages=1024 if isinstance(src, Path) else -1,
                              progress=step if cancel is not None else None)
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            if isinstance(src, Path):
                source.close()
        check_file(tmp)
        if not replace and dest.exists():
            raise FileExistsError(f"{dest} exists")
        os.replace(tmp, dest)
        tmp = None
    except UserError:
        raise
    except (sqlite3.Error, OSError) as e:
        from app.fs import write_error

        raise write_error(f"{what[0]} «{dest.name}»", f"{what[1]} {dest.name}", e) from e
    finally:
        if tmp is not None:
            for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def _tables_made_by(migration) -> set[str]:
    """The tables a migration module creates from models: the models and lists of models it names."""
    import peewee as pw

    out = set()
    for value in vars(migration).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, type) and issubclass(item, pw.Model) and item is not pw.Model:
                out.add(item._meta.table_name)
    return out


def _models_by_table() -> dict[str, type]:
    import peewee as pw

    from models.migrations import all_migrations

    out = {}
    for m in all_migrations():
        for value in vars(m).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, type) and issubclass(item, pw.Model) and item is not pw.Model:
                    out[item._meta.table_name] = item
    return out


def expected_schema(newest: int) -> dict[str, set[str]]:
    """Table -> columns a database of this program holds once migrations 1..`newest` are applied. Columns are
    given only for a database at the newest version (an older one gains later columns when it is opened)."""
    from models.core import SchemaMigration
    from models.migrations import all_migrations

    known = all_migrations()
    current = newest >= max(m.NUMBER for m in known)
    models = _models_by_table()
    tables = {SchemaMigration._meta.table_name}
    for m in known:
        if m.NUMBER <= newest:
            tables |= _tables_made_by(m)
    out: dict[str, set[str]] = {}
    for t in tables:
        model = models.get(t, SchemaMigration if t == SchemaMigration._meta.table_name else None)
        out[t] = {f.column_name for f in model._meta.sorted_fields} if (current and model is not None) else set()
    return out


def check_file(path: Path) -> None:
    """Raise UserError unless `path` is an intact database of this program: the SQLite header, an integrity
    check, every migration recorded from the first to its newest, and every table (and, at the current version,
    every column) those migrations make."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"فایل «{path}» پیدا نشد.", en=f"File not found: {path}")
    if not path.is_file():
        raise UserError(f"«{path.name}» فایل نیست.", en=f"{path.name} is not a file.")
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» خوانده نمی‌شود.", details=str(e), en=f"Cannot read {path.name}.") from e
    if header != b"SQLite format 3\x00":
        raise UserError(f"فایل «{path.name}» پشتیبان این برنامه نیست.", en=f"{path.name} is not a backup of this program.")
    recorded: set[int] = set()
    columns: dict[str, set[str]] = {}
    try:
        con = sqlite3.connect(_ro_uri(path, check=True), uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise UserError(f"فایل پشتیبان آسیب دیده است ({result}).", en=f"The backup is damaged ({result}).")
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                columns[t] = {r[1] for r in con.execute(f'PRAGMA table_info("{t}")')}
            if "schema_migration" in columns:
                recorded = {r[0] for r in con.execute("SELECT number FROM schema_migration")}
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise UserError(f"فایل پشتیبان آسیب دیده است و خوانده نمی‌شود: {e}", details=str(e),
                        en=f"The backup is damaged and cannot be read: {e}") from e
    if not {"customer", "schema_migration"} <= set(columns):
        raise UserError("این فایل پایگاه داده هست، ولی پشتیبان این برنامه نیست.",
                        en="This is a database, but not a backup of this program.")
    from models.migrations import all_migrations

    known = {m.NUMBER for m in all_migrations()}
    if not recorded:
        raise UserError("این پشتیبان ناقص است: فهرست تغییرات ساختار (schema_migration) در آن خالی است.",
                        en="This backup is incomplete: its list of schema migrations is empty.")
    newest = max(recorded)
    if newest > max(known):
        raise UserError("این پشتیبان با نسخه تازه‌تری از برنامه ساخته شده است؛ اول برنامه را به‌روز کنید.",
                        en="This backup was made by a newer version of the program; update the program first.")
    missing_steps = sorted(n for n in known if n <= newest and n not in recorded)
    if missing_steps:
        raise UserError(
            "این پشتیبان ناقص است: تغییرات ساختار شماره " + "، ".join(str(n) for n in missing_steps)
            + " در آن ثبت نشده است.",
            en="This backup is incomplete: schema migrations " + ", ".join(str(n) for n in missing_steps)
               + " are not recorded in it.")
    problems = []
    for table, cols in sorted(expected_schema(newest).items()):
        if table not in columns:
            problems.append(table)
        elif cols - columns[table]:
            problems.extend(f"{table}.{c}" for c in sorted(cols - columns[table]))
    if problems:
        shown = "، ".join(problems[:8]) + ("…" if len(problems) > 8 else "")
        raise UserError(f"این پشتیبان ناقص است و بازگردانی نمی‌شود؛ این بخش‌ها در آن نیست: {shown}",
                        en="This backup is incomplete and cannot be restored; it lacks: "
                           + ", ".join(problems[:8]) + ("…" if len(problems) > 8 else ""))


def _default_name(tag: str = "", n: int = 1) -> str:
    return f"{PREFIX}{_stamp()}{('.' + str(n)) if n > 1 else ''}{('-' + tag) if tag else ''}{SUFFIX}"


def _free_name(folder: Path, tag: str = "") -> Path:
    """A dated name in `folder` that no file has yet (two backups within one second get .2, .3…)."""
    n = 1
    while (folder / _default_name(tag, n)).exists():
        n += 1
    return folder / _default_name(tag, n)


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
        from app.fs import write_error

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
        from app.paths import backup_dir

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


def rotate(folder: Path, keep: int, pattern: str = f"{PREFIX}*-auto{SUFFIX}") -> list[Path]:
    """Delete the oldest files matching `pattern` beyond `keep` (automatic backups by default). Returns them."""
    files = sorted(Path(folder).glob(pattern), key=lambda p: p.stat().st_mtime)
    doomed = files[:-keep] if keep > 0 else files
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed


def auto_backup(db_path: Path, keep: int, cancel: Callable[[], bool] | None = None) -> Path | None:
    """The backup taken at start: skipped for a new empty database, rotated to the last `keep`.
    `cancel()` stops it between steps (the program closing while it runs)."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    from app.paths import backup_dir

    folder = backup_dir()
    out = backup(db_path, folder=folder, tag="auto", cancel=cancel)
    rotate(folder, keep)
    return out


def safety_copy(db_path: Path | sqlite3.Connection, reason: str, keep: int = SAFETY_KEEP) -> Path:
    """A copy before something risky (migration, restore); kept apart from the rotated backups, the newest
    `keep` of them kept (the new one always among them)."""
    from app.paths import safety_dir

    folder = safety_dir()
    out = _free_name(folder, reason)
    if isinstance(db_path, Path) and not db_path.exists():
        raise UserError(f"پایگاه داده «{db_path}» وجود ندارد.", en=f"There is no database at {db_path}.")
    _online_copy(db_path, out, what=("نسخه ایمنی", "The safety copy"))
    os.utime(out)                               # newest by time, whatever the clock the name was stamped with
    rotate_safety(keep)
    logger.info("safety copy written: %s", out)
    return out


def rotate_safety(keep: int = SAFETY_KEEP) -> list[Path]:
    from app.paths import safety_dir

    return rotate(safety_dir(), keep, pattern=f"{PREFIX}*{SUFFIX}")


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
        from app.fs import write_error

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
            safety = safety_copy(live, "before-restore")
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
            from app.fs import write_error

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
    from app.paths import backup_dir

    return sorted(backup_dir().glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
