"""Backups a small office can trust: SQLite's online backup API (never a file copy of a live database),
rotation, and a restore that checks the file first and changes nothing when it fails."""
from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from app.clock import now
from app.errors import UserError

logger = logging.getLogger(__name__)

PREFIX = "crm-"
SUFFIX = ".sqlite3"


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


def _online_copy(src: Path, dest: Path, cancel: Callable[[], bool] | None = None) -> None:
    """Copy a (possibly live) SQLite database page by page with the backup API, into a temp file, then rename.
    `cancel()` is asked between steps of 1024 pages; when it turns true the copy stops (BackupCancelled)."""
    tmp = dest.with_name(dest.name + ".part")
    if tmp.exists():
        tmp.unlink()

    def step(_status: int, _remaining: int, _total: int) -> None:
        if cancel is not None and cancel():
            raise BackupCancelled()

    try:
        source = sqlite3.connect(_ro_uri(src), uri=True)
        try:
            target = sqlite3.connect(str(tmp))
            try:
                source.backup(target, pages=1024, progress=step if cancel is not None else None)
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            source.close()
        os.replace(tmp, dest)
    except BackupCancelled:
        tmp.unlink(missing_ok=True)
        raise
    except (sqlite3.Error, OSError) as e:
        if tmp.exists():
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.errno == 28:
            raise UserError("دیسک پر است؛ پشتیبان ساخته نشد. جایی خالی کنید و دوباره بکوشید.", details=str(e),
                            en="The disk is full; no backup was made. Free some space and try again.") from e
        raise UserError(f"پشتیبان ساخته نشد: {e}", details=str(e), en=f"The backup was not made: {e}") from e


def check_file(path: Path) -> None:
    """Raise UserError unless `path` is an intact database of this program."""
    if not path.exists():
        raise UserError(f"فایل «{path}» پیدا نشد.", en=f"File not found: {path}")
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as e:
        raise UserError(f"فایل «{path.name}» خوانده نمی‌شود.", details=str(e), en=f"Cannot read {path.name}.") from e
    if header != b"SQLite format 3\x00":
        raise UserError(f"فایل «{path.name}» پشتیبان این برنامه نیست.", en=f"{path.name} is not a backup of this program.")
    newest = None
    try:
        con = sqlite3.connect(_ro_uri(path, check=True), uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise UserError(f"فایل پشتیبان آسیب دیده است ({result}).", en=f"The backup is damaged ({result}).")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "schema_migration" in tables:
                newest = con.execute("SELECT MAX(number) FROM schema_migration").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise UserError(f"فایل پشتیبان آسیب دیده است و خوانده نمی‌شود: {e}", details=str(e),
                        en=f"The backup is damaged and cannot be read: {e}") from e
    if not {"customer", "schema_migration"} <= tables:
        raise UserError("این فایل پایگاه داده هست، ولی پشتیبان این برنامه نیست.",
                        en="This is a database, but not a backup of this program.")
    from models.migrations import all_migrations

    if newest is not None and newest > max(m.NUMBER for m in all_migrations()):
        raise UserError("این پشتیبان با نسخه تازه‌تری از برنامه ساخته شده است؛ اول برنامه را به‌روز کنید.",
                        en="This backup was made by a newer version of the program; update the program first.")


def backup(db_path: Path, out: Path | None = None, folder: Path | None = None, tag: str = "",
           cancel: Callable[[], bool] | None = None) -> Path:
    if not db_path.exists():
        raise UserError(f"پایگاه داده «{db_path}» وجود ندارد.", en=f"There is no database at {db_path}.")
    if out is None:
        from app.paths import backup_dir

        folder = folder or backup_dir()
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{PREFIX}{_stamp()}{('-' + tag) if tag else ''}{SUFFIX}"
    out.parent.mkdir(parents=True, exist_ok=True)
    _online_copy(db_path, out, cancel)
    check_file(out)
    logger.info("backup written: %s", out)
    return out


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest automatic backups beyond `keep`. Returns what was deleted."""
    files = sorted(folder.glob(f"{PREFIX}*-auto{SUFFIX}"), key=lambda p: p.stat().st_mtime)
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


def safety_copy(db_path: Path, reason: str) -> Path:
    """A copy before something risky (migration, restore); kept apart from the rotated backups."""
    from app.paths import backup_dir

    folder = backup_dir() / "safety"
    folder.mkdir(parents=True, exist_ok=True)
    return backup(db_path, out=folder / f"{PREFIX}{_stamp()}-{reason}{SUFFIX}")


def restore(backup_file: Path, db_path: Path) -> Path | None:
    """Replace the database with a backup. The backup is checked first; the current database is kept as a
    safety copy; the swap is one rename, so a failure at any point leaves the current database as it was."""
    check_file(backup_file)
    safety = safety_copy(db_path, "before-restore") if db_path.exists() else None
    staged = db_path.with_name(db_path.name + ".restore")
    _online_copy(backup_file, staged)
    check_file(staged)
    for ext in ("-wal", "-shm"):
        side = Path(str(db_path) + ext)
        if side.exists():
            side.unlink()
    os.replace(staged, db_path)
    logger.info("restored %s from %s (previous kept in %s)", db_path, backup_file, safety)
    return safety


def list_backups() -> list[Path]:
    from app.paths import backup_dir

    return sorted(backup_dir().glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
