"""The one door for writes: one writer thread, BEGIN IMMEDIATE, clear errors, real threads and processes."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from app.core.errors import DatabaseError
from models.base import db
from models.writer import writer, writes
from tests.procs import reap


def _make_table():
    db.execute_sql("CREATE TABLE IF NOT EXISTS t_door (id INTEGER PRIMARY KEY, who TEXT, n INTEGER)")


def test_jobs_run_on_one_thread_in_submission_order(db_file):
    _make_table()
    seen: list[tuple[int, int]] = []

    def job(i):
        seen.append((i, threading.get_ident()))
        db.execute_sql("INSERT INTO t_door (who, n) VALUES (?, ?)", ("a", i))
        return i

    futs = [writer.submit(job, i) for i in range(50)]
    assert [f.result(10) for f in futs] == list(range(50))
    assert [i for i, _ in seen] == list(range(50))
    assert len({t for _, t in seen}) == 1
    assert seen[0][1] != threading.get_ident()
    assert db.execute_sql("SELECT COUNT(*) FROM t_door").fetchone()[0] == 50


def test_many_threads_write_through_the_door_without_losing_any(db_file):
    _make_table()

    @writes
    def add(who, n):
        cur = db.execute_sql("SELECT COALESCE(MAX(n), 0) FROM t_door").fetchone()[0]
        db.execute_sql("INSERT INTO t_door (who, n) VALUES (?, ?)", (who, cur + 1))

    def worker(name):
        for _ in range(40):
            add(name, 0)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    rows = db.execute_sql("SELECT n FROM t_door ORDER BY n").fetchall()
    # read-then-write inside one job is atomic: the counter never repeats
    assert [r[0] for r in rows] == list(range(1, 241))


def test_a_failing_job_rolls_back_and_raises_in_the_caller(db_file):
    _make_table()

    def bad():
        db.execute_sql("INSERT INTO t_door (who, n) VALUES ('x', 1)")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        writer.run(bad)
    assert db.execute_sql("SELECT COUNT(*) FROM t_door").fetchone()[0] == 0


def test_nested_writes_run_inline_in_the_outer_transaction(db_file):
    _make_table()

    @writes
    def inner():
        db.execute_sql("INSERT INTO t_door (who, n) VALUES ('inner', 1)")
        return threading.get_ident()

    @writes
    def outer():
        me = threading.get_ident()
        assert inner() == me
        raise RuntimeError("undo both")

    with pytest.raises(RuntimeError):
        outer()
    assert db.execute_sql("SELECT COUNT(*) FROM t_door").fetchone()[0] == 0


_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
con.execute("BEGIN EXCLUSIVE")
print("ready", flush=True)
sys.stdin.readline()
con.rollback()
con.close()
"""


class _LockHolder:
    """Another process holding SQLite's exclusive lock until released."""

    def __init__(self, path):
        self.p = subprocess.Popen([sys.executable, "-c", _HOLDER, path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()
        assert self.p.stdout.readline().strip() == "ready"

    def release(self):
        with self._lock:                    # the test's timer and its clean-up may both release
            if self.p.poll() is None and not self.p.stdin.closed:
                self.p.stdin.write("go\n")
                self.p.stdin.flush()
            reap(self.p, 30)


def test_a_lock_held_by_another_process_is_waited_for(db_file, tmp_path):
    _make_table()
    holder = _LockHolder(str(tmp_path / "test.sqlite3"))
    try:
        threading.Timer(1.0, holder.release).start()     # released after 1 s: the write waits, then succeeds
        t0 = time.monotonic()
        writer.run(lambda: db.execute_sql("INSERT INTO t_door (who, n) VALUES ('late', 1)"))
        assert time.monotonic() - t0 >= 0.8
    finally:
        holder.release()
    assert db.execute_sql("SELECT COUNT(*) FROM t_door").fetchone()[0] == 1


def test_a_lock_that_outlasts_the_timeout_is_a_persian_message(db_file, tmp_path):
    _make_table()
    old = db.obj.timeout
    writer.run(lambda: setattr(db.obj, "timeout", 0.3))     # the writer's own connection
    holder = _LockHolder(str(tmp_path / "test.sqlite3"))
    try:
        with pytest.raises(DatabaseError) as info:
            writer.run(lambda: db.execute_sql("INSERT INTO t_door (who, n) VALUES ('x', 1)"))
        assert "پایگاه داده در دست" in info.value.message
    finally:
        holder.release()
        writer.run(lambda: setattr(db.obj, "timeout", old))


def test_sqlite_transactions_begin_immediate(db_file):
    assert db.obj._lock_type == "IMMEDIATE"


@pytest.fixture
def db_file(db):
    yield db
    writer.drain(10)


def test_a_write_queued_before_the_database_closes_lands_in_that_database(tmp_path):
    """A job reads the database to write to when it runs: closing (or swapping) the database waits for every job
    queued so far, even when none had started yet (the thread busy with something else). It used to return at
    once then, and the job ran later on the next database opened."""
    import sqlite3

    from models.connection import close_database, open_database

    first, second = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    open_database(str(first), create=True)
    _make_table()
    writer.release()                              # the thread holds no connection now
    busy = threading.Event()
    writer._ensure().submit(busy.wait, 10)        # the thread is busy, and not with a job of this database
    queued = writer.submit(lambda: db.execute_sql("INSERT INTO t_door (who, n) VALUES ('queued', 1)"))
    threading.Timer(0.3, busy.set).start()
    close_database()
    assert queued.done()
    open_database(str(second), create=True)
    _make_table()
    assert db.execute_sql("SELECT COUNT(*) FROM t_door").fetchone()[0] == 0
    close_database()
    with sqlite3.connect(first) as con:
        assert con.execute("SELECT who FROM t_door").fetchall() == [("queued",)]


def test_a_write_queued_while_the_database_is_swapped_never_lands_in_the_next_one(tmp_path):
    """Another thread (the caller-ID path, a worker) queues a write after the writer let go of one database and
    before the next is in place: when it runs, another database is open. It is refused with a Persian message, not
    written there; the jobs queued afterwards write to the database that is open."""
    import sqlite3

    from models.connection import close_database, make_database, open_database

    first, second = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    for path in (second, first):
        open_database(str(path), create=True)
        _make_table()
    busy = threading.Event()
    writer._ensure().submit(busy.wait, 10)        # the writer is busy
    late = [None]
    caller = threading.Thread(target=lambda: late.__setitem__(0, writer.submit(
        lambda: db.execute_sql("INSERT INTO t_door (who, n) VALUES ('meant for first', 1)"))))
    caller.start()
    caller.join()                                 # queued for `first`
    old = db.obj
    db.initialize(make_database(f"sqlite:///{second}"))   # the swap, as open_database makes it
    old.close()
    busy.set()
    with pytest.raises(DatabaseError, match="عوض شد"):
        late[0].result(10)
    writer.run(lambda: db.execute_sql("INSERT INTO t_door (who, n) VALUES ('meant for second', 2)"))
    close_database()
    for path, rows in ((first, []), (second, [("meant for second",)])):
        with sqlite3.connect(path) as con:
            assert con.execute("SELECT who FROM t_door").fetchall() == rows, path
