"""Copies of the SQLite database file, and the check that a copy is whole.

The ground work under backups and restores (app/backup.py) and under the safety copy migrations take before
they change an older database: an online page-by-page copy with SQLite's backup API into an owner-only
temporary file, renamed into place only once checked (`check_file`: integrity, and every table and migration
this program's schema expects). Lives in models/ because migrations need it and models/ uses only app/core.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.clock import now
from app.core.errors import UserError

logger = logging.getLogger(__name__)

PREFIX = "crm-"
SUFFIX = ".sqlite3"
SAFETY_KEEP = 5             # safety copies kept (newest first); older ones are deleted after a new one is made
def _stamp() -> str:
    from app.core.jalali import format_date

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
                 replace: bool = True, cancel: Callable[[], bool] | None = None, check: bool = True) -> None:
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
        from app.core.fs import private_dir

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
        if check:
            check_file(tmp)
        if not replace and dest.exists():
            raise FileExistsError(f"{dest} exists")
        os.replace(tmp, dest)
        tmp = None
    except UserError:
        raise
    except (sqlite3.Error, OSError) as e:
        from app.core.fs import write_error

        raise write_error(f"{what[0]} «{dest.name}»", f"{what[1]} {dest.name}", e) from e
    finally:
        if tmp is not None:
            for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def _tables_made_by(migration) -> set[str]:
    """The tables a migration module creates from models: the models and lists of models it names."""

    out: set[str] = set()
    for value in vars(migration).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if _is_model(item):
                out.add(item._meta.table_name)
    return out


def _is_model(item: Any) -> bool:
    """A peewee model class (not peewee's own base class) found in a migration module."""
    import peewee as pw

    return isinstance(item, type) and issubclass(item, pw.Model) and item is not pw.Model


def _models_by_table() -> dict[str, Any]:

    from models.migrations import all_migrations

    out = {}
    for m in all_migrations():
        for value in vars(m).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if _is_model(item):
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


def rotate(folder: Path, keep: int, pattern: str = f"{PREFIX}*-auto{SUFFIX}") -> list[Path]:
    """Delete the oldest files matching `pattern` beyond `keep` (automatic backups by default). Returns them."""
    files = sorted(Path(folder).glob(pattern), key=lambda p: p.stat().st_mtime)
    doomed = files[:-keep] if keep > 0 else files
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed


def safety_copy(db_path: Path | sqlite3.Connection, reason: str, keep: int = SAFETY_KEEP,
                check: bool = True) -> Path:
    """A copy before something risky (migration, restore); kept apart from the rotated backups, the newest
    `keep` of them kept (the new one always among them). check=False keeps a copy of a damaged database as it
    is (a restore over a file with damaged pages must not be refused because its safety copy is damaged too)."""
    from app.core.paths import safety_dir

    folder = safety_dir()
    out = _free_name(folder, reason)
    if isinstance(db_path, Path) and not db_path.exists():
        raise UserError(f"پایگاه داده «{db_path}» وجود ندارد.", en=f"There is no database at {db_path}.")
    _online_copy(db_path, out, what=("نسخه ایمنی", "The safety copy"), check=check)
    os.utime(out)                               # newest by time, whatever the clock the name was stamped with
    rotate_safety(keep)
    logger.info("safety copy written: %s", out)
    return out


def rotate_safety(keep: int = SAFETY_KEEP) -> list[Path]:
    from app.core.paths import safety_dir

    return rotate(safety_dir(), keep, pattern=f"{PREFIX}*{SUFFIX}")
