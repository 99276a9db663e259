"""SQLite's planner statistics (sqlite_stat1), kept in step with the data.

Without them SQLite guesses how many rows each index holds per value, and on a large database it guessed wrong:
at 100,000 customers with 250,000 tasks and calls the dashboard's queries took a second instead of 16 ms, and a
phone number's digits typed in the search read the whole list (20 ms a keystroke instead of 5). SQLite gathers
them only when told (ANALYZE), and nothing did: every office database ran without them.

A table is analysed when it holds LEAST_ROWS rows or more and has no statistics yet, has grown (or shrunk) by
STALE_FACTOR since they were gathered, or has an index added since (a migration): checked when a database is
opened (one read of each table's largest rowid) and after a bulk import. Each of a table's indexes is analysed
whole in a writer job of its own, queued without waiting: the write lock is held for one index at a time (0.17 s
at most at a million customers, where the whole table took 1.9 s), so this desk's other writes wait one index at
most, and other processes' writes find the lock free between two indexes. Sampling (SQLite's
analysis_limit) would bound that time but gives row counts that mislead the planner as badly as no statistics
(the dashboard stayed at a second). PostgreSQL keeps its own (autovacuum).
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future

import peewee as pw

from models.base import db
from models.writer import writer

logger = logging.getLogger(__name__)

STALE_FACTOR = 2.0          # a table this many times larger or smaller than when analysed is analysed again
LEAST_ROWS = 1000           # smaller tables are read whole whatever the plan: they need no statistics


def _rows(database: pw.Database, table: str) -> int:
    """About how many rows `table` holds: its largest rowid, read at once."""
    row = database.execute_sql(f'SELECT max(rowid) FROM "{table}"').fetchone()
    return int(row[0] or 0) if row else 0


def _analysed(database: pw.Database) -> dict[str, int]:
    """Each table's row count when last analysed (sqlite_stat1's first figure), for the tables that have
    statistics."""
    if database.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is None:
        return {}
    out: dict[str, int] = {}
    for tbl, stat in database.execute_sql("SELECT tbl, stat FROM sqlite_stat1").fetchall():
        try:
            out[tbl] = max(out.get(tbl, 0), int(str(stat).split()[0]))
        except (ValueError, IndexError):
            continue
    return out


def _unmeasured_indexes(database: pw.Database) -> set[str]:
    """The tables with an index that has no statistics while the table has some (an index added since: the
    planner would guess for it alone, and pass it over)."""
    rows = database.execute_sql(
        "SELECT m.tbl_name FROM sqlite_master m WHERE m.type = 'index' AND EXISTS (SELECT 1 FROM sqlite_stat1 s "
        "WHERE s.tbl = m.tbl_name) AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.idx = m.name)").fetchall()
    return {r[0] for r in rows}


def _stale(database: pw.Database) -> list[tuple[str, int | None]]:
    """stale_tables(), each with the row count its statistics hold when only its largest rowid says it has grown
    (rows deleted leave that rowid behind: the job counts the rows before analysing), else None."""
    if not isinstance(database, pw.SqliteDatabase):
        return []
    analysed = _analysed(database)
    unmeasured = _unmeasured_indexes(database) if analysed else set()
    stale: list[tuple[str, int | None]] = []
    for table in database.get_tables():
        if table.startswith("sqlite_") or table.startswith("customer_fts"):
            continue                              # SQLite's own, and the trigram index's (a virtual table)
        rows = _rows(database, table)
        if rows < LEAST_ROWS:
            continue
        then = analysed.get(table)
        if not then or rows * STALE_FACTOR < then or table in unmeasured:
            stale.append((table, None))
        elif rows > then * STALE_FACTOR:
            stale.append((table, then))
    return stale


def stale_tables(database: pw.Database) -> list[str]:
    """The tables of LEAST_ROWS rows or more whose statistics are missing, out of step with their size (as their
    largest rowid tells), or missing for one of their indexes."""
    return [table for table, _ in _stale(database)]


# Indexes led by a column every read asks to be NULL (the customers not merged into another): ANALYZE counts
# the rows per distinct value, and each merge adds a value held by a handful of rows, so a few hundred merges told
# the planner that «merged_into_id IS NULL» picks a few hundred customers of 100,000, and it read the whole list
# in order again. Their figure for that column is set to the NULL rows' count, the only value asked.
NULL_LED = {"customer": "merged_into_id"}


def _count_nulls_as_asked(table: str) -> None:
    column = NULL_LED.get(table)
    if column is None:
        return
    nulls = db.execute_sql(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NULL').fetchone()[0]
    led = [r[0] for r in db.execute_sql(
        "SELECT i.name FROM sqlite_master i WHERE i.type = 'index' AND i.tbl_name = ? AND "
        "(SELECT name FROM pragma_index_info(i.name) WHERE seqno = 0) = ?", (table, column)).fetchall()]
    changed = False
    for idx in led:
        row = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx = ?", (table, idx)).fetchone()
        if row is None:
            continue
        figures = str(row[0]).split(" ")
        if len(figures) < 2 or not figures[1].isdigit():
            continue
        figures[1] = str(max(int(nulls), 1))
        db.execute_sql("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx = ?", (" ".join(figures), table, idx))
        changed = True
    if changed:
        db.execute_sql("ANALYZE sqlite_schema")   # the planner reads the figures afresh


# Raised each time statistics are gathered: every connection of this process reads them again before its next
# statement (models.connection.SqliteDatabase); SQLite itself reloads them only on the connection that gathered them.
generation = 0

# Gathered by another process (another desk on this PC, a `crm import` beside the open program): a connection
# compares what sqlite_stat1 holds with what it held when last looked, at most every LOOK_S seconds, and reads the
# statistics again when they differ.
LOOK_S = 30.0


def fingerprint(first_row) -> str:
    """What sqlite_stat1 holds, in one string ("" without it); `first_row(sql)` runs a statement and returns its
    first row."""
    try:
        row = first_row("SELECT group_concat(tbl || ' ' || ifnull(idx, '') || ' ' || stat, '|') FROM sqlite_stat1")
    except pw.OperationalError:          # no statistics gathered yet: SQLite makes the table with the first
        return ""
    return str(row[0] or "") if row else ""


class _Table:
    """One table's statistics, gathered by several writer jobs (one per index): the first decides whether the
    table is analysed at all, the last adjusts the figures and tells the other connections."""

    def __init__(self, table: str, then: int | None, parts: list[str]):
        self.table, self.then, self.parts = table, then, parts
        self.go: bool | None = None
        self.ms = 0.0


def _parts(table: str) -> list[str]:
    """What one ANALYZE names for this table: each of its indexes (each a job of its own, so that the write lock
    is held for one index at a time: at a million customers the whole table held it 1.9 s, its largest index
    0.17 s), or the table itself when it has none (its row count)."""
    indexes = [r[0] for r in db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name", (table,)).fetchall()]
    return indexes or [table]


def _analyze_part(plan: _Table, part: str) -> bool:
    """The writer's job for one of a table's indexes (or the table, without any). The first job of a table
    counts its rows when only its largest rowid said it has grown (`then`: the row count its statistics hold),
    and a table still within STALE_FACTOR of it is left as it is (a table with many rows deleted would otherwise
    be analysed at every opening); the others follow that decision. Returns whether the table is analysed."""
    global generation
    t = time.perf_counter()
    if plan.go is None:
        plan.go = True
        if plan.then is not None:
            rows = db.execute_sql(f'SELECT count(*) FROM "{plan.table}"').fetchone()[0]
            plan.go = rows > plan.then * STALE_FACTOR
    if not plan.go:
        return False
    db.execute_sql("PRAGMA analysis_limit = 0")
    db.execute_sql(f'ANALYZE "{part}"')
    if part == plan.parts[-1]:
        _count_nulls_as_asked(plan.table)
        generation += 1
    plan.ms += (time.perf_counter() - t) * 1000
    if part == plan.parts[-1]:
        logger.info("planner statistics of %s gathered in %.0f ms (%d jobs)", plan.table, plan.ms, len(plan.parts))
    return True


def _logged(fut: Future) -> None:
    e = fut.exception()
    if e is not None:
        logger.info("planner statistics not gathered now: %s", e)


def refresh(wait: bool = True) -> list[str]:
    """Gather the statistics of the tables that need them (stale_tables), each in a writer job of its own.
    wait=False queues the jobs and returns at once (opening a database, after an import: a failure, such as
    another process holding the write lock longer than the busy timeout, is only logged; the next opening tries
    again) and returns the tables queued; wait=True returns the tables analysed."""
    database = db.obj
    if not isinstance(database, pw.SqliteDatabase):
        return []
    done = []
    for table, then in _stale(database):
        plan = _Table(table, then, _parts(table))
        if not wait:
            for part in plan.parts:
                writer.submit(_analyze_part, plan, part).add_done_callback(_logged)
            done.append(table)
        elif all([writer.run(_analyze_part, plan, part) for part in plan.parts]):
            done.append(table)
    return done
