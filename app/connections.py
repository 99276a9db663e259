"""The database connections of the program's threads, for the GUI's task manager (ui/ops.py), which reaches
the database only through app/.

- ``submit_read(fn)``: a short read somebody is waiting for, on a reader thread that keeps its connection
  (models/reader.py); a Future.
- ``start_readers()``: start those threads now (from the GUI thread: a new thread takes its priority from the
  thread that starts it).
- ``close_thread_connection()``: a worker pool's thread lets go of its connection after each job.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def start_readers() -> None:
    from models.reader import readers

    readers.start()


def submit_read(fn: Callable[[], Any]) -> Future:
    from models.reader import readers

    return readers.submit(fn)


def close_thread_connection() -> None:
    """Close this thread's peewee connection (pool threads are reused; peewee keeps one per thread); a failure
    is logged, not raised (models.writer.close_quietly)."""
    from models.base import db
    from models.writer import close_quietly

    if db.obj is not None:
        close_quietly(db.obj)
