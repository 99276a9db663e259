"""Who is working in this process: the signed-in person, or the system.

One desk runs one program, so the signed-in person is process-wide (the writer thread and background jobs see
the same person as the window). The session belongs to the database it was opened on: another database (a
test's, a restore, `--db`) starts with nobody signed in.

Nobody signed in means one of two things:
  * a non-interactive process — the command line, a script, a test — runs as the system, which may do
    everything (the command line is the office's admin tool; whoever can run it can read the database file);
  * the GUI (``set_interactive(True)``) runs as nobody: every guarded service refuses until someone signs in.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from models.base import db


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    name: str
    role: str
    system: bool = False
    how: str = "password"          # password, remember, auto, system, test


SYSTEM = Principal(None, "سیستم (خط فرمان)", "admin", system=True, how="system")

_lock = threading.Lock()
_principal: Principal | None = None
_bound_db: object | None = None
_interactive = False


def current() -> Principal | None:
    """The signed-in person; SYSTEM in a non-interactive process with nobody signed in; None in the GUI
    before anyone signs in (or after signing out)."""
    with _lock:
        p = _principal if (_principal is not None and _bound_db is db.obj) else None
        interactive = _interactive
    if p is not None:
        return p
    return None if interactive else SYSTEM


def current_user_id() -> int | None:
    p = current()
    return p.user_id if p is not None else None


def set_principal(p: Principal | None) -> None:
    global _principal, _bound_db
    with _lock:
        _principal = p
        _bound_db = db.obj if p is not None else None


def set_interactive(on: bool) -> None:
    """The GUI calls this before its sign-in dialog: from then on nobody signed in may do nothing."""
    global _interactive
    with _lock:
        _interactive = on


def is_interactive() -> bool:
    return _interactive


@contextlib.contextmanager
def acting_as(p: Principal | None) -> Iterator[None]:
    """Run a block as someone else, then restore who was there (tests; a background job on someone's behalf)."""
    global _principal, _bound_db
    with _lock:
        saved = (_principal, _bound_db)
    set_principal(p)
    try:
        yield
    finally:
        with _lock:
            _principal, _bound_db = saved


def desk_name() -> str:
    """This PC's name, as the audit log and the sign-in records show it."""
    import socket

    try:
        return socket.gethostname()[:120]
    except OSError:
        return ""
