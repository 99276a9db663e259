"""Customer text search: the one place with database-specific SQL (SQLite FTS5 trigram / PostgreSQL pg_trgm).

Every token the user typed must occur in the customer's search text. Tokens of three characters or more go through
the trigram index; shorter ones are checked on the rows the index already narrowed to. A query made only of short
tokens (the first one or two keystrokes) matches names that start with them, through the name index — a full
substring scan of every customer at the first keystroke would be slow and useless.
"""
from __future__ import annotations

import logging

import peewee as pw

from app.core.text import sort_key
from models.base import db, is_postgres, is_sqlite
from models.core import Customer

logger = logging.getLogger(__name__)

# (database object, answer). The object itself is kept, not its id(): a closed database's id() is reused by the
# next one opened, which made a PostgreSQL database inherit a SQLite one's "has FTS" and run FTS5 SQL.
_fts_for: tuple[object, bool] | None = None


def has_fts() -> bool:
    global _fts_for
    if _fts_for is None or _fts_for[0] is not db.obj:
        _fts_for = (db.obj, is_sqlite() and db.table_exists("customer_fts"))
    return _fts_for[1]


def _contains(column, needle: str):
    """Substring test without LIKE patterns (a typed % or _ means itself)."""
    if is_postgres():
        return pw.fn.strpos(column, needle) > 0
    return pw.fn.instr(column, needle) > 0


def _fts_phrase(tokens: list[str]) -> str:
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)


def apply_text(q: pw.ModelSelect, tokens: list[str], use_index: bool = True) -> pw.ModelSelect:
    """Narrow a Customer query to rows whose search text holds every token.

    use_index=False tests each row instead of asking the trigram index: the better plan when the tokens are so
    common that the rows are read in list order anyway and only the first page is wanted."""
    if not tokens:
        return q
    long = [t for t in tokens if len(t) >= 3]
    short = [t for t in tokens if len(t) < 3]
    if not long:
        # Only short tokens: the start of the name (or of the company), through indexes.
        # The list sorts on «family first» (app.customers.sort_name_of): the key's start is the family name
        # (or the company); a first name's start is found in the names part of the search text («| علیرضا »).
        k = sort_key(" ".join(short))
        by_key = (Customer.sort_key >= k) & (Customer.sort_key < k + "\uffff")
        if len(short) == 1:
            first = "| " + short[0]           # a first name's start: three characters or more, so the trigram
            if use_index and has_fts():       # index finds it (a substring test of every customer otherwise)
                sub = pw.SQL("(SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?)", [_fts_phrase([first])])
                return q.where(by_key | Customer.id.in_(sub))
            return q.where(by_key | _contains(Customer.search_text, first))
        return q.where(by_key)
    if use_index and has_fts():
        sub = pw.SQL("(SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?)", [_fts_phrase(long)])
        q = q.where(Customer.id.in_(sub))
    else:
        for t in long:
            if is_postgres():
                # LIKE (not strpos) so that the pg_trgm index serves it; backslash escapes % and _.
                escaped = t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                q = q.where(pw.Expression(Customer.search_text, "LIKE", f"%{escaped}%"))
            else:
                q = q.where(_contains(Customer.search_text, t))
    for t in short:
        q = q.where(_contains(Customer.search_text, t))
    return q


def matches_at_most(tokens: list[str], limit: int) -> int | None:
    """A cheap upper bound of how many customers hold every token, counted no further than limit + 1, or None
    when there is no cheap bound (no trigram index). Read straight from the trigram index, which yields its
    matches one by one: a common prefix costs as little as a rare one (an exact count reads every match)."""
    if not tokens or not has_fts():
        return None
    long = [t for t in tokens if len(t) >= 3]
    short = [t for t in tokens if len(t) < 3]

    def fts(phrase: list[str]) -> int:
        return int(db.execute_sql("SELECT COUNT(*) FROM (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? "
                                  "LIMIT ?)", (_fts_phrase(phrase), limit + 1)).fetchone()[0])

    if long:
        return fts(long)
    k = sort_key(" ".join(short))
    n = int(db.execute_sql('SELECT COUNT(*) FROM (SELECT 1 FROM "customer" WHERE sort_key >= ? AND sort_key < ? '
                           "LIMIT ?)", (k, k + "\uffff", limit + 1)).fetchone()[0])
    if len(short) == 1:
        n += fts(["| " + short[0]])
    return n

