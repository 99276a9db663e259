"""The one door for database writes.

SQLite allows one writer at a time. Every write transaction in this program goes through one writer: a single
worker thread that owns its own connection and runs each job in its own transaction (``BEGIN IMMEDIATE`` on
SQLite, so the write lock is taken up front and a busy database is waited for, never half-used). Reads stay
where they are: the GUI thread and the workers read through their own connections (WAL lets them).

    from models.writer import writer, writes

    @writes                                   # a service function that writes: always runs through the door
    def create_customer(data, user=None): ...

    fut = writer.submit(record_call, changes) # queue a job without waiting (the caller-ID path); a Future
    value = writer.run(fn, *args)             # queue and wait (workers, the command line)

A job submitted from inside another job (or from a thread already inside a transaction) runs inline, in that
transaction, so services may call each other freely. On PostgreSQL the same API runs each job in its own
transaction on the writer thread: the server handles concurrency, the door keeps one code path.

Commit hooks: ``on_commit(fn)`` registers ``fn(tables: frozenset[str])``, called after each committed
transaction (a writer job, any other ``db.atomic()`` block, or a lone autocommit statement) with the tables its
statements inserted into, updated or deleted from. The database classes in models/connection.py report each
statement through ``note_write``; a rolled-back transaction reports nothing. Hooks run on the committing thread
and must be quick (the live office events queue a message and return).

Errors: a lock another program holds for longer than the busy timeout, a full disk, a read-only disk and a
PostgreSQL connection that dropped during the job become ``DatabaseError`` with a Persian message naming the cause; anything else is raised as it was.
A job runs on the database that was open when it was queued, or not at all: one queued just before the program switched databases fails with ``DatabaseError`` rather than write to the next.
"""
from __future__ import annotations

import functools
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import peewee as pw

from models.base import db

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Writer:
    """One worker thread that runs every write transaction (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._ident: int | None = None
        self._bound: pw.Database | None = None     # the database the writer thread's connection belongs to

    # --- queries -------------------------------------------------------------------------------------------
    def on_writer_thread(self) -> bool:
        return self._ident is not None and threading.get_ident() == self._ident

    def _inline(self) -> bool:
        """Run in the calling thread: already the writer, already inside a transaction here (nested work
        belongs to it), or an in-memory SQLite database (another thread would see another, empty database)."""
        if self.on_writer_thread():
            return True
        database = db.obj
        if database is None:
            return True
        if database.in_transaction():
            return True
        return isinstance(database, pw.SqliteDatabase) and database.database in ("", ":memory:")

    # --- jobs ----------------------------------------------------------------------------------------------
    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn(*args, **kwargs)`` to run in its own write transaction; returns a Future at once.
        Jobs run one at a time, in the order they were submitted."""
        if self._inline():
            fut: Future[T] = Future()
            try:
                fut.set_result(self._transaction(fn, args, kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the caller through the future
                fut.set_exception(e)
            return fut
        return self._ensure().submit(self._job, db.obj, fn, args, kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` through the door and wait for its result (its exception is raised here)."""
        if self._inline():
            return self._transaction(fn, args, kwargs)
        return self._ensure().submit(self._job, db.obj, fn, args, kwargs).result()

    def _ensure(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer",
                                                    initializer=self._started)
            return self._executor

    def _started(self) -> None:
        self._ident = threading.get_ident()

    def _job(self, meant: pw.Database | None, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        database = db.obj
        if database is not meant:
            # Queued for one database, run after another was opened (a colleague's write queued from another
            # thread while the program switched files or restored a backup): it belongs to neither.
            from app.core.errors import DatabaseError

            raise DatabaseError("پایگاه داده پیش از این نوشتن عوض شد؛ این نوشتن انجام نشد.",
                                en="The database was switched before this write ran; nothing was written.")
        if self._bound is not None and self._bound is not database:
            close_quietly(self._bound)            # a test (or a restore) switched databases: drop the old one
        self._bound = database
        return self._transaction(fn, args, kwargs)

    @staticmethod
    def _transaction(fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        try:
            with db.atomic():
                return fn(*args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError, sqlite3.OperationalError) as e:
            raise translate(e) from e

    # --- life ----------------------------------------------------------------------------------------------
    def release(self) -> None:
        """Close the writer thread's connection (before the database is closed, swapped or deleted), once every
        job queued so far has run. Queued jobs are waited for even when none has started yet: they read the
        database to write to when they run, and would otherwise have run after the close, on the next one."""
        with self._lock:
            executor = self._executor
        if executor is None or self.on_writer_thread():
            return

        def close() -> None:
            if self._bound is not None:
                close_quietly(self._bound)
                self._bound = None

        executor.submit(close).result()

    def shutdown(self) -> None:
        """Finish queued jobs, close the connection and end the thread (at exit)."""
        self.release()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self._ident = None

    def drain(self, timeout: float | None = None) -> None:
        """Wait until every job queued so far has run (tests, shutdown)."""
        with self._lock:
            executor = self._executor
        if executor is not None and not self.on_writer_thread():
            executor.submit(lambda: None).result(timeout)


def close_quietly(database: pw.Database) -> None:
    """Close this thread's connection to `database` if open; a failure is logged, not raised."""
    try:
        if not database.is_closed():
            database.close()
    except Exception:  # closing is best effort
        logger.debug("closing a connection failed", exc_info=True)


# How psycopg2 words a connection the server or the network dropped (a COMMIT on it fails with one of these).
_CONNECTION_LOST = ("server closed the connection", "connection already closed", "terminating connection",
                    "connection not open", "could not receive data", "could not send data",
                    "no connection to the server", "ssl connection has been closed")


def connection_lost(e: BaseException):
    """The DatabaseError for an operation in flight when the connection to the server dropped."""
    from app.core.errors import DatabaseError

    return DatabaseError(
        "اتصال به سرور پایگاه داده در میانه کار قطع شد؛ این کار ثبت نشد. اتصال دوباره برقرار می‌شود؛ "
        "یک بار دیگر امتحان کنید.", details=str(e),
        en="The connection to the database server dropped during this operation; it was not saved. The "
           "connection is made again; try once more.")


def translate(e: BaseException) -> BaseException:
    """A database error the user can act on becomes a DatabaseError with the cause in Persian."""
    from app.core.errors import DatabaseError

    # The cause may sit behind another error: a COMMIT that fails on a full disk is followed by a ROLLBACK that
    # fails with "no transaction is active"; the first one is what the user needs to hear.
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in chain and len(chain) < 10:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    text = " | ".join(str(x) for x in chain).lower()
    if "locked" in text or "busy" in text:
        return DatabaseError(
            "پایگاه داده در دست برنامه یا میز دیگری است و چند ثانیه آزاد نشد؛ کار انجام نشد. "
            "چند لحظه بعد دوباره امتحان کنید.",
            details=str(e), en="The database is held by another program or desk and was not freed within "
                               "a few seconds; nothing was changed. Try again in a moment.")
    if "disk is full" in text or "disk full" in text or "no space" in text:
        return DatabaseError(
            "دیسک پر است؛ کار ذخیره نشد و داده‌های قبلی دست‌نخورده ماند. جایی روی دیسک آزاد کنید و دوباره "
            "امتحان کنید.", details=str(e),
            en="The disk is full; nothing was saved and earlier data is intact. Free some space and try again.")
    if any(part in text for part in _CONNECTION_LOST):
        return connection_lost(e)
    if "readonly" in text or "read-only" in text or "read only" in text:
        return DatabaseError(
            "پایگاه داده فقط‌خواندنی است (دسترسی نوشتن به فایل یا پوشه آن نیست)؛ کار ذخیره نشد.",
            details=str(e), en="The database is read-only (no write permission on the file or its folder); "
                               "nothing was saved.")
    return e


writer = Writer()

# --- commit hooks ---------------------------------------------------------------------------------------------

_commit_hooks: list[Callable[[frozenset[str]], None]] = []
_WRITE_SQL = re.compile(
    r"""^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)"""
    r"""\s+(?:ONLY\s+)?(?:"?\w+"?\.)?"?(\w+)"?""", re.IGNORECASE)


def on_commit(fn: Callable[[frozenset[str]], None]) -> Callable[[frozenset[str]], None]:
    """Call ``fn(tables)`` after every committed write (see the module's docstring). Returns fn."""
    if fn not in _commit_hooks:
        _commit_hooks.append(fn)
    return fn


def remove_commit_hook(fn: Callable[[frozenset[str]], None]) -> None:
    if fn in _commit_hooks:
        _commit_hooks.remove(fn)


def written_table(sql: str) -> str | None:
    """The table an INSERT / UPDATE / DELETE statement changes, or None for any other statement."""
    m = _WRITE_SQL.match(sql)
    return m.group(1).lower() if m else None


def note_write(database: pw.Database, sql: str) -> None:
    """Called by the database after each statement it ran: remember the table for the commit hooks."""
    if not _commit_hooks:
        return
    table = written_table(sql)
    if table is None:
        return
    if not database.in_transaction():
        _fire(frozenset((table,)))               # autocommit: the statement is already committed
        return
    state = database._state
    top = state.transactions[0]
    pending = getattr(state, "noted_tables", None)
    if pending is None or pending[0] is not top:
        pending = (top, set[str]())
        state.noted_tables = pending
        tables = pending[1]

        def committed() -> None:
            state.noted_tables = None
            _fire(frozenset(tables))

        try:
            database.after_commit(committed)
        except ValueError:                       # a manual transaction: no callbacks there; report now
            state.noted_tables = None
            _fire(frozenset((table,)))
            return
    pending[1].add(table)


def _fire(tables: frozenset[str]) -> None:
    for fn in list(_commit_hooks):
        try:
            fn(tables)
        except Exception:  # a hook must never undo or hide a committed write
            logger.exception("commit hook failed")


def writes(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a service function that writes: it runs through the one door, in one transaction."""

    @functools.wraps(fn)
    def through_the_door(*args: Any, **kwargs: Any) -> T:
        return writer.run(fn, *args, **kwargs)

    through_the_door.writes = True  # type: ignore[attr-defined]
    return through_the_door
