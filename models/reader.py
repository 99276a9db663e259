"""Reader threads that keep their connection: for the short reads somebody is waiting for (a page's rows).

A connection opened for one read starts with an empty page cache and no prepared statements: the dashboard's
read took a third longer on a new connection than on a kept one, and on PostgreSQL every new connection is a
new server process. The worker pool closes its thread's connection after each job (its threads come and go);
these threads live as long as the program and keep theirs, and ``release()`` closes them whenever the
database is closed, swapped or restored (models/connection.py calls it beside the writer's).

    fut = readers.submit(fn, *args)       # a Future; fn runs on an idle reader thread (else the least busy)

Reads only: a write inside a job still goes through the one door (models/writer.py).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import peewee as pw

from models.base import db
from models.writer import close_quietly

logger = logging.getLogger(__name__)

T = TypeVar("T")

THREADS = 2


class _Lane:
    """One thread, its queue and the database its connection belongs to."""

    def __init__(self, n: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"db-reader-{n}")
        self.pending = 0                       # submitted, not yet ended (guarded by Readers._lock)
        self.bound: pw.Database | None = None  # touched on the lane's thread only


class Readers:
    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._lanes: list[_Lane] = []

    def start(self) -> None:
        """Start the threads now (a new thread takes its priority from the thread that starts it: the GUI's,
        not a lowered worker's)."""
        with self._lock:
            if self._lanes:
                return
            lanes = self._make_lanes()
        for lane in lanes:
            lane.executor.submit(lambda: None)

    def _make_lanes(self) -> list[_Lane]:
        """The lanes, made when there are none yet (called under the lock)."""
        if not self._lanes:
            self._lanes = [_Lane(i) for i in range(self._threads)]
        return list(self._lanes)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        with self._lock:
            lane = min(self._make_lanes(), key=lambda la: la.pending)
            lane.pending += 1
        try:
            return lane.executor.submit(self._job, lane, fn, args, kwargs)
        except BaseException:
            with self._lock:
                lane.pending -= 1
            raise

    def _job(self, lane: _Lane, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        try:
            database = db.obj
            if lane.bound is not None and lane.bound is not database:
                close_quietly(lane.bound)          # another database was opened since: drop the old one
            lane.bound = database
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                lane.pending -= 1

    def busy(self) -> int:
        """Jobs submitted and not yet ended."""
        with self._lock:
            return sum(lane.pending for lane in self._lanes)

    def release(self) -> None:
        """Close every reader thread's connection (before the database is closed, swapped or deleted): waits
        for the jobs already queued, which are short reads."""
        with self._lock:
            lanes = list(self._lanes)
        if any(threading.current_thread().name.startswith(f"db-reader-{i}_") for i in range(len(lanes))):
            return                                  # a reader's own job closing the database: not waited for
        for fut in [lane.executor.submit(self._close, lane) for lane in lanes]:
            fut.result()

    @staticmethod
    def _close(lane: _Lane) -> None:
        if lane.bound is not None:
            close_quietly(lane.bound)
            lane.bound = None

    def shutdown(self) -> None:
        """Close the connections and end the threads (at exit)."""
        self.release()
        with self._lock:
            lanes, self._lanes = self._lanes, []
        for lane in lanes:
            lane.executor.shutdown(wait=True)


readers = Readers()
