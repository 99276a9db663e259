"""Files the program keeps for itself: created owner-only (0600 files, 0700 folders on POSIX), and file-system
errors told in Persian with their real cause (a full disk, a read-only disk, no permission), never a traceback.
Plain Python: no Qt, no database."""
from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

from app.core.errors import UserError

FILE_MODE = 0o600
DIR_MODE = 0o700
POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) as owner-only folders. A folder that already exists keeps its mode:
    it may be a shared folder the office chose (see tighten() for the program's own folders)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if POSIX:
        for made in missing:               # mkdir's mode is masked by the umask; say it exactly
            try:
                os.chmod(made, DIR_MODE)
            except OSError:
                pass
    return path


def tighten(path: Path) -> None:
    """Take group and other permissions off a file or folder of the program's own (best effort, POSIX)."""
    if not POSIX:
        return
    try:
        st = os.stat(path)
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
    except OSError:
        pass


def create_private_file(path: Path, exclusive: bool = True) -> None:
    """Create an empty owner-only file (0600). exclusive: fail if it exists (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.close(fd)
    if POSIX:
        os.chmod(path, FILE_MODE)          # the umask may have taken bits off; never added any


def open_private(path: Path, mode: str = "a", encoding: str = "utf-8"):
    """open() for a text file of the program's own (logs, crash reports): created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    return os.fdopen(fd, mode, encoding=encoding)


# --- causes in Persian -------------------------------------------------------------------------------------------

_CAUSES = {
    errno.ENOSPC: ("دیسک پر است", "the disk is full"),
    errno.EDQUOT: ("سهمیه دیسک این کاربر پر است", "the disk quota is used up"),
    errno.EROFS: ("دیسک فقط‌خواندنی است", "the disk is read-only"),
    errno.EACCES: ("اجازه نوشتن در آن پوشه نیست", "there is no permission to write there"),
    errno.EPERM: ("اجازه نوشتن در آن پوشه نیست", "there is no permission to write there"),
    errno.ENOENT: ("پوشه آن پیدا نشد", "its folder does not exist"),
    errno.ENOTDIR: ("بخشی از مسیر پوشه نیست", "part of the path is not a folder"),
    errno.EISDIR: ("این مسیر یک پوشه است", "the path is a folder"),
    errno.EIO: ("خطای ورودی/خروجی دیسک (دیسک یا فلش ایراد دارد)", "an input/output error (a failing disk or USB)"),
    errno.ENAMETOOLONG: ("نام فایل بیش از حد بلند است", "the file name is too long"),
}


def cause_of(e: BaseException) -> tuple[str, str] | None:
    """(Persian, English) for the real cause behind `e`, looking through the chain of exceptions it came from
    (a failed ROLLBACK after a full disk hides the full disk in __context__). None when nothing is recognised."""
    seen = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in _CAUSES:
            return _CAUSES[cur.errno]
        if isinstance(cur, sqlite3.Error) or type(cur).__module__ == "peewee":
            text = str(cur).lower()
            if "disk is full" in text or "disk full" in text:
                return _CAUSES[errno.ENOSPC]
            if "readonly" in text or "read-only" in text:
                return _CAUSES[errno.EROFS]
            if "disk i/o error" in text:
                return _CAUSES[errno.EIO]
            if "unable to open database file" in text:
                return ("فایل پایگاه داده باز نمی‌شود (پوشه نیست یا اجازه دسترسی نیست)",
                        "the database file cannot be opened (no such folder, or no permission)")
        cur = cur.__cause__ or cur.__context__
    return None


def write_error(what_fa: str, what_en: str, e: BaseException) -> UserError:
    """`what` could not be written: a UserError naming the cause (or the system's own words as a last resort)."""
    cause = cause_of(e)
    if cause is None:
        fa, en = f"{e}", f"{e}"
    else:
        fa, en = cause
    return UserError(f"{what_fa} نوشته نشد: {fa}. چیزی نیمه‌کاره باقی نماند.", details=str(e),
                     en=f"{what_en} was not written: {en}. Nothing was left half-written.")
