"""Reader threads keep their connection between reads and give it up when the database is closed or swapped."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import peewee as pw
import pytest

from models.base import db
from models.reader import Readers, readers


def _open_fds_to(path: Path) -> int:
    """How many of this process's file descriptors point at `path` (Linux)."""
    n = 0
    target = str(path.resolve())
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                n += 1
        except OSError:
            continue
    return n


def _connection_and_thread():
    return id(db.connection()), threading.get_ident()


def test_a_reader_keeps_its_connection_between_reads(anydb):
    first = readers.submit(_connection_and_thread).result(10)
    second = readers.submit(_connection_and_thread).result(10)
    assert first[1] != threading.get_ident()
    assert first == second                      # the same thread, the same connection
    if db.obj.param != "?":                     # PostgreSQL: the same server process, not a new one per read
        pid = "SELECT pg_backend_pid()"
        assert readers.submit(lambda: db.execute_sql(pid).fetchone()[0]).result(10) == \
            readers.submit(lambda: db.execute_sql(pid).fetchone()[0]).result(10)


def test_closing_the_database_closes_the_readers_connections(tmp_path):
    from models.connection import close_database, open_database

    path = tmp_path / "a.sqlite3"
    open_database(str(path), create=True)
    assert readers.submit(lambda: db.execute_sql("SELECT COUNT(*) FROM customer").fetchone()[0]).result(10) == 0
    close_database()
    # nothing of this process holds the file any more: it can be replaced by a restore or deleted
    assert _open_fds_to(path) == 0


def test_a_read_after_another_database_was_opened_reads_the_new_one(tmp_path):
    from models.connection import close_database, open_database

    open_database(str(tmp_path / "a.sqlite3"), create=True)
    db.execute_sql("CREATE TABLE only_in_a (x INTEGER)")
    assert readers.submit(lambda: db.execute_sql("SELECT COUNT(*) FROM only_in_a").fetchone()[0]).result(10) == 0
    open_database(str(tmp_path / "b.sqlite3"), create=True)
    try:
        names = readers.submit(
            lambda: [r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]).result(10)
        assert "only_in_a" not in names and "customer" in names
        assert _open_fds_to(tmp_path / "a.sqlite3") == 0
    finally:
        close_database()


@pytest.mark.usefixtures("db")
def test_a_read_does_not_wait_behind_a_slow_one():
    mine = Readers(threads=2)
    release = threading.Event()
    try:
        slow = mine.submit(lambda: release.wait(10))
        quick = mine.submit(lambda: db.execute_sql("SELECT 1").fetchone()[0])
        assert quick.result(5) == 1             # ran on the other thread while the slow one waits
        assert not slow.done()
        assert mine.busy() == 1
    finally:
        release.set()
        mine.shutdown()
    assert slow.result(5) is True


@pytest.mark.usefixtures("db")
def test_a_failing_read_raises_in_the_caller_and_the_thread_goes_on():
    fut = readers.submit(lambda: db.execute_sql("SELECT * FROM no_such_table").fetchall())
    with pytest.raises(pw.OperationalError):
        fut.result(10)
    assert readers.submit(lambda: db.execute_sql("SELECT 2").fetchone()[0]).result(10) == 2
    assert readers.busy() == 0
