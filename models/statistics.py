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
(the dashboard stayed at a second). Closing or swapping the database cancels the jobs still queued (the next
opening queues them again). Every connection reads the statistics again once they change, whichever process
gathered them (models.connection.SqliteDatabase), without ever waiting for the write lock to do so.
PostgreSQL keeps its own (autovacuum).
"""
from __future__ import annotations

import functools
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


def _has_statistics(database: pw.Database) -> bool:
    """SQLite makes sqlite_stat1 with the first ANALYZE."""
    return database.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is not None


def _analysed(database: pw.Database) -> dict[str, int]:
    """Each table's row count when last analysed (sqlite_stat1's first figure), for the tables that have
    statistics."""
    if not _has_statistics(database):
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


def _count_nulls_as_asked(plan: _Table, idx: str) -> None:
    """Just analysed, in the same job (no other connection ever reads the raw figure): the NULL-led index's
    figure for its first column set to the count of rows where it is NULL (counted once per table)."""
    if plan.nulls is None:
        column = NULL_LED[plan.table]
        plan.nulls = int(db.execute_sql(f'SELECT count(*) FROM "{plan.table}" WHERE "{column}" IS NULL').fetchone()[0])
    row = db.execute_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx = ?", (plan.table, idx)).fetchone()
    if row is None:
        return
    figures = str(row[0]).split(" ")
    if len(figures) < 2 or not figures[1].isdigit():
        return
    figures[1] = str(max(plan.nulls, 1))
    db.execute_sql("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx = ?", (" ".join(figures), plan.table, idx))
    db.execute_sql("ANALYZE sqlite_schema")   # the writer's connection reads the figures afresh


# Raised each time a table's statistics are gathered and committed: every connection of this process reads them
# again before its next statement (models.connection.SqliteDatabase); SQLite itself reloads them only on the
# connection that gathered them.
generation = 0

# Gathered by another process (another desk on this PC, a `crm import` beside the open program): a connection
# compares what sqlite_stat1 holds with what it held when last looked, at most every LOOK_S seconds, and reads the
# statistics again when they differ.
LOOK_S = 30.0


def fingerprint(first_row) -> str | None:
    """What sqlite_stat1 holds, in one string ("" without it; None when it could not be read now); `first_row(sql)`
    runs a statement and returns its first row."""
    try:
        row = first_row("SELECT group_concat(tbl || ' ' || ifnull(idx, '') || ' ' || stat, '|') FROM sqlite_stat1")
    except pw.OperationalError as e:     # no statistics gathered yet: SQLite makes the table with the first
        return "" if "no such table" in str(e) else None
    return str(row[0] or "") if row else ""


# Closing or swapping the database cancels the statistics jobs still queued for it (they would hold the close
# up for seconds at a million customers); the next opening finds those tables stale and queues them again.
_epoch = 0
_pending: set[tuple[int, str]] = set()    # (epoch, table) queued and not yet finished


def cancel() -> None:
    """The database is about to be closed or swapped: the statistics jobs still queued do nothing."""
    global _epoch
    _epoch += 1
    _pending.clear()


class _Table:
    """One table's statistics, gathered by several writer jobs (one per index): the first decides whether the
    table is analysed at all, each NULL-led index is adjusted in its own job, and once the last has run the other
    connections are told."""

    def __init__(self, table: str, then: int | None, parts: list[str], null_led: set[str]):
        self.table, self.then, self.parts, self.null_led = table, then, parts, null_led
        self.epoch = _epoch
        self.go: bool | None = None
        self.nulls: int | None = None
        self.analysed = 0
        self.ended = 0
        self.ms = 0.0


def _parts(table: str) -> tuple[list[str], set[str]]:
    """What one ANALYZE names for this table: each of its indexes (each a job of its own, so that the write lock
    is held for one index at a time: at a million customers the whole table held it 1.9 s, its largest index
    0.17 s), or the table itself when it has none (its row count); and the indexes led by its NULL_LED column."""
    indexes = db.execute_sql(
        "SELECT i.name, (SELECT name FROM pragma_index_info(i.name) WHERE seqno = 0) FROM sqlite_master i "
        "WHERE i.type = 'index' AND i.tbl_name = ? ORDER BY i.name", (table,)).fetchall()
    column = NULL_LED.get(table)
    return [name for name, _ in indexes] or [table], {name for name, first in indexes if column and first == column}


def _analyze_part(plan: _Table, part: str) -> bool:
    """The writer's job for one of a table's indexes (or the table, without any). The first job of a table
    counts its rows when only its largest rowid said it has grown (`then`: the row count its statistics hold),
    and a table still within STALE_FACTOR of it is left as it is (a table with many rows deleted would otherwise
    be analysed at every opening); the others follow that decision. Returns whether the part was analysed."""
    t = time.perf_counter()
    if plan.epoch != _epoch:
        return False                      # the database was closed or swapped since it was queued
    if plan.go is None:
        go = True
        if plan.then is not None:
            rows = db.execute_sql(f'SELECT count(*) FROM "{plan.table}"').fetchone()[0]
            go = rows > plan.then * STALE_FACTOR
        if go and plan.parts != [plan.table] and _has_statistics(db.obj):
            # a row for the table alone is whole-table ANALYZE's for a table without indexes: one left from then
            # would keep an old row count beside the indexes' (and _analysed takes the larger)
            db.execute_sql("DELETE FROM sqlite_stat1 WHERE tbl = ? AND idx IS NULL", (plan.table,))
        plan.go = go
    if not plan.go:
        return False
    db.execute_sql("PRAGMA analysis_limit = 0")
    db.execute_sql(f'ANALYZE "{part}"')
    if part in plan.null_led:
        _count_nulls_as_asked(plan, part)
    if part != plan.table:
        _mark_if_empty(plan.table, part)
    plan.ms += (time.perf_counter() - t) * 1000
    return True


def _mark_if_empty(table: str, idx: str) -> None:
    """ANALYZE writes nothing for an index that holds no row: a partial index no row belongs to yet (an office
    with nobody's wedding anniversary recorded, nor a received cheque). The table then looked unmeasured at every
    opening (_unmeasured_indexes), and every one of its indexes was analysed again each time. The index is given
    the figures of one row, which is what it holds, near enough, until the table is analysed again."""
    if db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = ? AND idx = ?", (table, idx)).fetchone() is not None:
        return
    width = len(db.execute_sql(f'PRAGMA index_info("{idx}")').fetchall())
    db.execute_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                   (table, idx, " ".join(["1"] * (width + 1))))
    db.execute_sql("ANALYZE sqlite_schema")   # the writer's connection reads the figures afresh


def _ended(plan: _Table, analysed: bool) -> None:
    """A job of the plan has ended (committed or failed): after the last, the other connections read the
    statistics again."""
    global generation
    plan.ended += 1
    plan.analysed += analysed
    if plan.ended < len(plan.parts):
        return
    _pending.discard((plan.epoch, plan.table))
    if plan.analysed:
        generation += 1
        logger.info("planner statistics of %s gathered in %.0f ms (%d of %d jobs)", plan.table, plan.ms,
                    plan.analysed, len(plan.parts))


def _logged(plan: _Table, fut: Future) -> None:
    e = fut.exception()
    if e is not None:
        logger.info("planner statistics of %s not gathered now: %s", plan.table, e)
    _ended(plan, e is None and bool(fut.result()))


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
        if (_epoch, table) in _pending:
            continue                      # queued already (opening, then an import): its jobs are on their way
        plan = _Table(table, then, *_parts(table))
        if not wait:
            _pending.add((plan.epoch, table))
            for part in plan.parts:
                writer.submit(_analyze_part, plan, part).add_done_callback(functools.partial(_logged, plan))
            done.append(table)
            continue
        for part in plan.parts:
            ok = False
            try:
                ok = writer.run(_analyze_part, plan, part)
            finally:
                _ended(plan, ok)
        if plan.analysed:
            done.append(table)
    return done
