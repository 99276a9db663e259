"""Run a peewee query whose SQL is generated once and reused: for hot paths (the caller-ID popup) where
building the SQL in peewee costs several times what SQLite takes to run an indexed look-up.

    cur = sqlcache.run("summary.tags", lambda cid: Tag.select(Tag.name).join(CustomerTag)
                       .where(CustomerTag.customer == cid), customer_id)
    names = [r[0] for r in cur.fetchall()]

``build`` receives one stand-in value per argument and returns the query; its SQL and parameters are kept
per (name, database class). Later calls put the real arguments where the stand-ins were. Rows come back as
the driver's tuples: convert non-text columns with ``Field.python_value`` (SQLite returns datetimes as text).
The query's shape must not depend on the argument values (put a variable-length IN list's length in the name),
except through which of them are None: ``build`` is given None for those (an optional filter it leaves out), and
each pattern of None arguments has its own SQL.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from models.base import db

logger = logging.getLogger(__name__)

_BASE = -734_000_000
_cache: dict[tuple, tuple[str, list, list[tuple[int, int]]]] = {}


def run(name: str, build: Callable[..., Any], *args, prepare: str | None = None):
    """A cursor over the query ``build(*stand_ins)`` executed with ``args``; ``prepare``: kept prepared on
    PostgreSQL under that name, as raw() does."""
    absent = tuple(i for i, a in enumerate(args) if a is None)
    key = (name, absent, type(db.obj))
    entry = _cache.get(key)
    if entry is None:
        stand_ins = [None if a is None else _BASE - i for i, a in enumerate(args)]
        sql, params = build(*stand_ins).sql()
        where: dict[object, int] = {s: i for i, s in enumerate(stand_ins) if s is not None}
        where.update({str(s): i for i, s in enumerate(stand_ins) if s is not None})  # a text column's value is coerced
        slots = [(pos, where[p]) for pos, p in enumerate(params) if isinstance(p, int | str) and p in where]
        if {i for _pos, i in slots} != set(where.values()):
            raise ValueError(f"sqlcache {name}: an argument does not reach the SQL as a parameter")
        entry = _cache[key] = (sql, list(params), slots)
    sql, params, slots = entry
    params = list(params)
    for pos, i in slots:
        params[pos] = args[i]
    if prepare and db.obj.param != "?":
        return _execute_prepared(prepare, sql, params)
    return db.execute_sql(sql, params)


def columns(cursor) -> list[str]:
    return [d[0] for d in cursor.description]


_raw: dict[tuple[str, type], str] = {}


def raw(sql: str, params: tuple | list = (), prepare: str | None = None):
    """A cursor over hand-written SQL: written with ``?`` placeholders and double-quoted names (portable between
    SQLite and PostgreSQL), turned into the database's own placeholder style once. The driver keeps the prepared
    statement (sqlite3 caches statements by their text), so a hot path pays neither peewee's SQL building nor a
    new parse. Write no other ``?`` or ``%`` in the text.

    ``prepare`` (a plain identifier) names the statement on PostgreSQL, where psycopg2 sends every query as
    text and the server plans it afresh each time: a statement of many joins (the popup's summary) takes
    longer to plan than to run. It is PREPAREd once per connection and EXECUTEd after, so the server keeps
    its plan (from the first run: the connection plans prepared statements generically, see
    models.connection.PostgresqlDatabase). Prepare only look-ups whose best plan does not depend on the values.
    SQLite ignores it."""
    key = (sql, type(db.obj))
    text = _raw.get(key)
    if text is None:
        param = db.obj.param
        text = _raw[key] = sql if param == "?" else sql.replace("?", param)
    if prepare and db.obj.param != "?":
        return _execute_prepared(prepare, text, params)
    return db.execute_sql(text, params)


_prepared: set[tuple[int, int, str]] = set()      # (connection's id, its server process, statement name)


def _execute_prepared(name: str, text: str, params: tuple | list):
    conn = db.obj.connection()
    key = (id(conn), conn.get_backend_pid(), name)
    if key not in _prepared:
        if db.execute_sql("SELECT 1 FROM pg_prepared_statements WHERE name = %s", (name,)).fetchone() is None:
            parts = text.split("%s")
            numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
            db.execute_sql(f"PREPARE {name} AS {numbered}")
        _prepared.add(key)
    args = ", ".join(["%s"] * len(params))
    return db.execute_sql(f"EXECUTE {name} ({args})" if params else f"EXECUTE {name}", params)


def is_postgres() -> bool:
    return db.obj.param != "?"
