"""Who has the database open: each process that opens an SQLite database file registers itself in a small
folder beside it (``crm.sqlite3-desks/``), one file per process naming the desk (host name), the process id and
the user, and holds an OS lock on that file for as long as the database is open.

A restore (or anything else that must be alone with the file) lists the others: a file whose lock can be taken
belongs to a process that is gone (crashed, killed) and is removed; one whose lock is held names a desk that
really has the database open. The lock is released by the OS when a process dies, so a crash leaves nothing
that blocks. The same byte-range locks SQLite itself relies on are used (fcntl on POSIX, msvcrt on Windows), so
a desk on another computer sharing the folder is seen too, wherever SQLite's own locking works.

This is the way to *name* the others; the guard that cannot be raced is SQLite's own exclusive lock, taken by
the restore itself (app/backup.py).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import logging
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_OFFSET = 4096          # the locked byte lies past the text, so Windows' mandatory locks never hide it
_lock = threading.Lock()
_mine: dict[Path, tuple[int, Path]] = {}       # database path -> (fd, registration file)


@dataclass(frozen=True)
class Desk:
    host: str
    pid: int
    user: str
    since: str

    def describe(self) -> str:
        return f"«{self.host}» (برنامه شماره {self.pid}، کاربر {self.user})"

    def describe_en(self) -> str:
        return f"{self.host} (process {self.pid}, user {self.user})"


def folder_of(db_path: Path) -> Path:
    return Path(str(db_path) + "-desks")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, LOCK_OFFSET, os.SEEK_SET)
        return True
    except OSError:
        return False


def register(db_path: Path) -> None:
    """Say "this process has `db_path` open" until unregister() or the process ends. Best effort: a folder
    we may not write to (a read-only share) costs only the names in a later refusal, never the opening."""
    db_path = Path(db_path).absolute()
    with _lock:
        if db_path in _mine:
            return
        folder = folder_of(db_path)
        me = f"{_safe_name(socket.gethostname())}-{os.getpid()}"
        for _attempt in range(3):          # another process may remove an empty folder between mkdir and open
            try:
                from app.core.fs import private_dir

                private_dir(folder)
                path = folder / me
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
                break
            except FileNotFoundError:
                continue
            except OSError:
                logger.warning("cannot register in %s", folder, exc_info=True)
                return
        else:
            return
        info = {"host": socket.gethostname(), "pid": os.getpid(), "user": _user(),
                "since": dt.datetime.now().isoformat(timespec="seconds")}
        os.write(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"))
        if not _try_lock(fd):
            logger.warning("cannot lock the registration %s", path)
        _mine[db_path] = (fd, path)


def unregister(db_path: Path | None = None) -> None:
    """Forget one registration (or all of this process's)."""
    with _lock:
        keys = list(_mine) if db_path is None else [Path(db_path).absolute()]
        for key in keys:
            entry = _mine.pop(key, None)
            if entry is None:
                continue
            fd, path = entry
            with contextlib.suppress(OSError):
                path.unlink()
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                path.parent.rmdir()        # only when empty


def others(db_path: Path) -> list[Desk]:
    """The other processes (on this computer or another) that have `db_path` open now. Registrations left by
    processes that are gone are removed on the way."""
    db_path = Path(db_path).absolute()
    folder = folder_of(db_path)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    with _lock:
        mine = {p for _fd, p in _mine.values()}
    found = []
    for path in entries:
        if path in mine:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            if _try_lock(fd):              # nobody holds it: that process is gone
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, LOCK_OFFSET)
        finally:
            os.close(fd)                   # closing our descriptor drops only locks we took (none are held here)
        try:
            info = json.loads(raw.decode("utf-8"))
            found.append(Desk(str(info.get("host", "?")), int(info.get("pid", 0)), str(info.get("user", "?")),
                              str(info.get("since", ""))))
        except (ValueError, UnicodeDecodeError):
            found.append(Desk(path.name, 0, "?", ""))
    with contextlib.suppress(OSError):
        folder.rmdir()
    return found


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is no reason to fail
        return "?"


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text) or "host"
