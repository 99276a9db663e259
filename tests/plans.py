"""SQLite's query plans, for the tests that check a statement reads the index it was given."""
from __future__ import annotations

import logging


def plan(query, params=None) -> str:
    """EXPLAIN QUERY PLAN of a peewee query, or of an SQL text with its `params`: the plan's lines joined."""
    from models.base import db

    sql, params = query.sql() if hasattr(query, "sql") else (query, params or ())
    return " | ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def logged_statement(caplog, run, marker: str) -> tuple[str, list, object]:
    """The first statement containing `marker` that peewee ran during `run()`, its parameters, and what `run()`
    returned."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        got = run()
    sql, params = next(r.msg for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)
                       and marker in r.msg[0])
    return sql, params, got
