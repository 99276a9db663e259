"""The planner's statistics: gathered for large tables when a database is opened, again when a table has grown."""
from __future__ import annotations

from models.base import db
from models.connection import close_database, open_database
from models.statistics import LEAST_ROWS, STALE_FACTOR, refresh, stale_tables
from models.writer import writer


def _fill(n: int, start: int = 0) -> None:
    with db.atomic():
        db.execute_sql("CREATE TABLE IF NOT EXISTS bulk_note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        db.execute_sql("CREATE INDEX IF NOT EXISTS bulk_note_body ON bulk_note (body)")
        db.obj.connection().executemany("INSERT INTO bulk_note (id, body) VALUES (?, ?)",
                                        [(i, f"n{i % 37}") for i in range(start + 1, start + n + 1)])


def _analysed_rows(table: str) -> int | None:
    if db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is None:
        return None
    row = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx = ?", (table, f"{table}_body")
                         ).fetchone()
    return int(row[0].split()[0]) if row else None


def _reopen(path) -> None:
    close_database()
    open_database(str(path))
    writer.drain()


def test_a_large_table_gets_statistics_when_the_database_is_opened(tmp_path):
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(LEAST_ROWS + 500)
    assert stale_tables(db.obj) == ["bulk_note"]
    _reopen(path)
    assert _analysed_rows("bulk_note") == LEAST_ROWS + 500
    assert stale_tables(db.obj) == []
    close_database()


def test_statistics_are_gathered_again_once_a_table_has_grown(tmp_path):
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(LEAST_ROWS)
    _reopen(path)
    assert _analysed_rows("bulk_note") == LEAST_ROWS
    _fill(int(LEAST_ROWS * (STALE_FACTOR - 1)) - 10, start=LEAST_ROWS)   # not quite twice the size: kept
    _reopen(path)
    assert _analysed_rows("bulk_note") == LEAST_ROWS
    _fill(20, start=2 * LEAST_ROWS - 10)                                    # past it: gathered again
    _reopen(path)
    assert _analysed_rows("bulk_note") == 2 * LEAST_ROWS + 10
    close_database()


def test_a_table_with_many_rows_deleted_is_not_analysed_at_every_opening(tmp_path):
    """Deleted rows leave the largest rowid behind: it says the table has grown while its rows have not. The rows are
    counted before analysing again, so such a table is not analysed (the write lock taken) at each opening."""
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(3 * LEAST_ROWS)
    with db.atomic():
        db.execute_sql("DELETE FROM bulk_note WHERE id <= ?", (2 * LEAST_ROWS,))
    _reopen(path)
    assert _analysed_rows("bulk_note") == LEAST_ROWS
    assert stale_tables(db.obj) == ["bulk_note"]                  # its largest rowid is three times that
    assert refresh() == [] and _analysed_rows("bulk_note") == LEAST_ROWS
    _fill(LEAST_ROWS + 10, start=3 * LEAST_ROWS)                 # now it has grown: counted, then analysed
    assert refresh() == ["bulk_note"] and _analysed_rows("bulk_note") == 2 * LEAST_ROWS + 10
    close_database()


def test_small_tables_are_left_to_the_planners_guesses(tmp_path):
    open_database(str(tmp_path / "crm.sqlite3"), create=True)
    _fill(LEAST_ROWS - 1)
    _reopen(tmp_path / "crm.sqlite3")
    assert stale_tables(db.obj) == [] and refresh() == []
    assert _analysed_rows("bulk_note") is None
    close_database()


def test_nothing_to_gather_on_a_new_database_nor_on_postgresql(anydb):
    # PostgreSQL keeps its own statistics (autovacuum); a new SQLite file has only small tables
    assert stale_tables(db.obj) == [] and refresh() == []


def test_the_list_indexes_count_the_customers_not_merged_as_the_list_asks(tmp_path):
    """Each merge adds a value of merged_into_id held by a few rows; ANALYZE's average then told the planner that
    «merged_into_id IS NULL» (every read of the list) picks a handful of customers. Those indexes' figure for it is
    the count of customers not merged, the only value asked."""
    from app.customers import service as cs
    from models.core import Customer

    open_database(str(tmp_path / "crm.sqlite3"), create=True)
    cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": []})
    cols = ", ".join(f'"{f.column_name}"' for f in Customer._meta.sorted_fields if f.name != "id")
    db.execute_sql(f'INSERT INTO customer ({cols}) SELECT {cols} FROM customer, (WITH RECURSIVE n(i) AS '
                   f"(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {LEAST_ROWS + 199}) SELECT i FROM n)")
    db.execute_sql("UPDATE customer SET merged_into_id = id - 1 WHERE id % 10 = 0")     # 120 merges
    assert "customer" in refresh()
    nulls = db.execute_sql("SELECT count(*) FROM customer WHERE merged_into_id IS NULL").fetchone()[0]
    stats = dict(db.execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'customer'").fetchall())
    for idx in ("customer_list_name", "customer_list_created", "customer_list_company", "customer_merged_into_id"):
        assert int(stats[idx].split()[1]) == nulls == LEAST_ROWS + 80, idx
    assert int(stats["customer_sort_key"].split()[1]) == LEAST_ROWS + 200    # one name: every row alike
    close_database()


def test_each_index_is_analysed_in_a_writer_job_of_its_own(tmp_path, monkeypatch):
    """The write lock is held one index at a time (at a million customers the whole table held it 1.9 s): this
    desk's other writes queue behind one index at most, other processes' find the lock free between two."""
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(LEAST_ROWS + 10)
    with db.atomic():
        db.execute_sql("CREATE INDEX bulk_note_id_body ON bulk_note (id, body)")
    jobs: list[tuple] = []
    submit = writer.submit
    monkeypatch.setattr(writer, "submit", lambda fn, *a, **kw: jobs.append(a) or submit(fn, *a, **kw))
    assert refresh(wait=False) == ["bulk_note"]
    writer.drain()
    assert [part for _plan, part in jobs] == ["bulk_note_body", "bulk_note_id_body"]
    stats = dict(db.execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'bulk_note'").fetchall())
    assert stats == {"bulk_note_body": f"{LEAST_ROWS + 10} 28", "bulk_note_id_body": f"{LEAST_ROWS + 10} 1 1"}
    assert stale_tables(db.obj) == []
    close_database()


def test_statistics_gathered_by_another_process_are_read_again(tmp_path, monkeypatch):
    """SQLite reads sqlite_stat1 when a connection opens; statistics another process gathers later (a `crm import`
    beside the open program) reached this process's connections only at its next start."""
    import subprocess
    import sys

    from models import statistics

    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    with db.atomic():
        db.execute_sql("CREATE TABLE pair (id INTEGER PRIMARY KEY, x INTEGER, y INTEGER)")
        db.execute_sql("CREATE INDEX pair_x ON pair (x)")
        db.execute_sql("CREATE INDEX pair_y ON pair (y)")
        db.obj.connection().executemany("INSERT INTO pair (x, y) VALUES (?, ?)", [(i % 2, i) for i in range(5000)])
    assert refresh() == ["pair"]          # x holds two values, y one per row: «y > 5» narrows more than «x = 1»
    plan = "EXPLAIN QUERY PLAN SELECT id FROM pair WHERE x = 1 AND y > 5"

    def index_used() -> str:
        return " ".join(r[3] for r in db.execute_sql(plan).fetchall())

    assert "pair_y" in index_used()
    other = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
             "c.execute('UPDATE pair SET x = id, y = id % 2'); c.execute('ANALYZE pair')")
    subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
    assert "pair_y" in index_used()       # not looked yet: the statistics this connection read at its start
    monkeypatch.setattr(statistics, "LOOK_S", 0.0)
    db._state.statistics_look = 0.0
    assert "pair_x" in index_used()       # looked: the other process's statistics, read again
    close_database()


def _pair_table() -> str:
    with db.atomic():
        db.execute_sql("CREATE TABLE pair (id INTEGER PRIMARY KEY, x INTEGER, y INTEGER)")
        db.execute_sql("CREATE INDEX pair_x ON pair (x)")
        db.execute_sql("CREATE INDEX pair_y ON pair (y)")
        db.obj.connection().executemany("INSERT INTO pair (x, y) VALUES (?, ?)", [(i % 2, i) for i in range(5000)])
    assert refresh() == ["pair"]
    return "EXPLAIN QUERY PLAN SELECT id FROM pair WHERE x = 1 AND y > 5"


def test_reading_the_statistics_again_never_waits_for_the_write_lock(tmp_path, monkeypatch):
    """The reload takes the write lock for an instant. While another connection holds it (an import), the
    statement that would have reloaded runs at once, on the statistics it has, and the reload is owed."""
    import sqlite3
    import subprocess
    import sys
    import time

    from models import statistics

    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    plan = _pair_table()
    used = lambda: " ".join(r[3] for r in db.execute_sql(plan).fetchall())  # noqa: E731
    assert "pair_y" in used()
    other = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
             "c.execute('UPDATE pair SET x = id, y = id % 2'); c.execute('ANALYZE pair')")
    subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
    monkeypatch.setattr(statistics, "LOOK_S", 0.0)
    db._state.statistics_look = 0.0
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")                   # another desk's long write
    try:
        t = time.monotonic()
        assert "pair_y" in used()                       # answered, on the statistics it had
        assert time.monotonic() - t < 1.0               # not after the busy timeout (5 s)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert "pair_x" in used()                           # the lock free: read again at the next look
    close_database()


def test_closing_the_database_leaves_the_queued_statistics_to_the_next_opening(tmp_path):
    """Gathering a million customers' statistics takes seconds; closing (or swapping) the database does not wait
    for it: the jobs still queued do nothing, and the next opening queues them again."""
    import threading

    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(LEAST_ROWS + 10)
    busy = threading.Event()
    writer._ensure().submit(busy.wait, 10)              # the writer is busy: the jobs wait in its queue
    assert refresh(wait=False) == ["bulk_note"]
    threading.Timer(0.3, busy.set).start()
    close_database()
    open_database(str(path), migrate=False)
    assert _analysed_rows("bulk_note") is None          # not gathered for the database that was closed…
    assert stale_tables(db.obj) == ["bulk_note"]
    assert refresh() == ["bulk_note"] and _analysed_rows("bulk_note") == LEAST_ROWS + 10    # …but now
    close_database()


def test_a_table_given_its_first_index_loses_its_old_row_count(tmp_path):
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    with db.atomic():
        db.execute_sql("CREATE TABLE plain (id INTEGER PRIMARY KEY, body TEXT)")
        db.obj.connection().executemany("INSERT INTO plain (body) VALUES (?)", [(f"b{i % 9}",) for i in range(3000)])
    assert refresh() == ["plain"]
    rows = lambda: db.execute_sql("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'plain'").fetchall()  # noqa: E731
    assert rows() == [(None, "3000")]
    with db.atomic():
        db.execute_sql("CREATE INDEX plain_body ON plain (body)")
    assert refresh() == ["plain"]                       # an index without statistics
    assert rows() == [("plain_body", "3000 334")]       # the table's own row, whole-table ANALYZE's, is gone
    close_database()


def test_an_index_no_row_belongs_to_yet_does_not_bring_the_table_back_at_every_opening(tmp_path, monkeypatch):
    """A partial index that holds no row (nobody's wedding anniversary recorded: customer_anniversary_card) gets
    no figures from ANALYZE. Its table is measured once all the same, and the next openings leave it be; once the
    index has rows and the table has grown, it is measured for real."""
    import models.statistics as statistics

    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    _fill(LEAST_ROWS + 500)
    with db.atomic():
        db.execute_sql("ALTER TABLE bulk_note ADD COLUMN wed TEXT")
        db.execute_sql("CREATE INDEX bulk_note_wed ON bulk_note (wed, body) WHERE wed IS NOT NULL")
    _reopen(path)
    assert _analysed_rows("bulk_note") == LEAST_ROWS + 500
    assert db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'bulk_note_wed'").fetchone() == ("1 1 1",)
    assert stale_tables(db.obj) == []
    jobs: list[str] = []
    real = statistics._analyze_part
    monkeypatch.setattr(statistics, "_analyze_part", lambda plan, part: jobs.append(part) or real(plan, part))
    _reopen(path)
    assert jobs == [] and stale_tables(db.obj) == []
    plan = db.execute_sql("EXPLAIN QUERY PLAN SELECT body FROM bulk_note WHERE wed > '2020'").fetchall()
    assert "COVERING INDEX bulk_note_wed" in plan[0][-1]
    _fill(2 * LEAST_ROWS, start=LEAST_ROWS + 500)
    with db.atomic():
        db.execute_sql("UPDATE bulk_note SET wed = '2024-0' || (id % 9 + 1) || '-01' WHERE id % 3 = 0")
    _reopen(path)
    got = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'bulk_note_wed'").fetchone()[0]
    assert int(got.split()[0]) == (3 * LEAST_ROWS + 500) // 3
    close_database()
