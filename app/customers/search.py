"""Customer text search: the one place with database-specific SQL (SQLite FTS5 trigram / PostgreSQL pg_trgm).

Every token the user typed must occur in the customer's search text. Tokens of three characters or more go through
the trigram index; shorter ones are checked on the rows the index already narrowed to. A query made only of short
tokens (the first one or two keystrokes) matches names that start with them, through the name index — a full
substring scan of every customer at the first keystroke would be slow and useless.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import operator
from typing import NamedTuple

import peewee as pw

from app.core.text import sort_key
from models import listcode
from models.base import db, is_postgres, is_sqlite
from models.core import Customer

logger = logging.getLogger(__name__)

# (database object, (has the trigram index, has the names' first letters' indexes)). The object itself is kept, not
# its id(): a closed database's id() is reused by the next one opened, which made a PostgreSQL database inherit a
# SQLite one's "has FTS" and run FTS5 SQL.
_indexes_for: tuple[object, tuple[bool, bool]] | None = None


def _search_indexes() -> tuple[bool, bool]:
    """What this database holds for search, asked once per database opened."""
    global _indexes_for
    if _indexes_for is None or _indexes_for[0] is not db.obj:
        fts = name_start = False
        if is_sqlite():
            fts = db.table_exists("customer_fts")
            name_start = db.execute_sql("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = "
                                        "'customer_name_start2'").fetchone() is not None
        _indexes_for = (db.obj, (fts, name_start))
    return _indexes_for[1]


def has_fts() -> bool:
    """SQLite with the FTS5 trigram index over the customers' search text (migration 5)."""
    return _search_indexes()[0]


def has_name_start_index() -> bool:
    """SQLite with the names' first letters indexed (migration 19)."""
    return _search_indexes()[1]


def name_starts_with(token: str):
    """The names part of the search text («| first last company», see app.customers.service._search_text) starts
    with the token of one or two characters: the expression indexed, with the list's order after it, by
    customer_name_start1 and customer_name_start2 (migration 19). Written exactly as the index is: SQLite matches an
    indexed expression only to the same expression, literals and all (a bound parameter would not match)."""
    assert 1 <= len(token) <= 2
    return pw.NodeList((pw.SQL("substr("), Customer.search_text, pw.SQL(", instr("), Customer.search_text,
                        pw.SQL(f", '| ') + 2, {len(token)})")), glue="") == token


def _contains(column, needle: str):
    """Substring test in which a typed % or _ means itself. PostgreSQL: LIKE with them escaped (the same test as
    strpos(), and one the pg_trgm index can serve); SQLite: instr()."""
    if is_postgres():
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return pw.Expression(column, "LIKE", f"%{escaped}%")
    return pw.fn.instr(column, needle) > 0


def _fts_phrase(tokens: list[str]) -> str:
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)


# The index's row number is the customer's list code, then id (models.listcode): the id is its low bits.
_MATCH_IDS = f"SELECT rowid & {listcode.ID_SPAN - 1} FROM customer_fts WHERE customer_fts MATCH ?"


def _fts_ids(tokens: list[str]) -> pw.SQL:
    """The ids the trigram index gives for these tokens, as a subquery."""
    return pw.SQL(f"({_MATCH_IDS})", [_fts_phrase(tokens)])


def _in_fts(tokens: list[str], probe: bool = False):
    """The customer's id is one the trigram index gives for these tokens. probe=True writes the id so that SQLite
    cannot start from the index's ids (each a look-up of a customer's row): it reads the customers in list order,
    through the list's covering index, and tests each id against the index's ids, gathered once."""
    return ((Customer.id + 0) if probe else Customer.id).in_(_fts_ids(tokens))


def _fts_hits(tokens: list[str], limit: int) -> list[int]:
    """The ids the trigram index gives for these tokens, no more than limit + 1 of them."""
    return [r[0] for r in db.execute_sql(f"{_MATCH_IDS} LIMIT ?", (_fts_phrase(tokens), limit + 1)).fetchall()]


def _fts_count(tokens: list[str], limit: int) -> int:
    """How many rows the trigram index gives for these tokens, counted no further than limit + 1."""
    return int(db.execute_sql("SELECT COUNT(*) FROM (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? "
                              "LIMIT ?)", (_fts_phrase(tokens), limit + 1)).fetchone()[0])


def _key_starts(k: str):
    """The list's key starts with k (a stretch of the list's own index)."""
    return (Customer.sort_key >= k) & (Customer.sort_key < k + "\uffff")


def condition(tokens: list[str], use_index: bool = True, probe: bool = False):
    """The test a customer's row must pass to hold every token, or None when there are no tokens.

    use_index=False tests each row instead of asking SQLite's trigram index: the better plan when the tokens are
    so common that the rows are read in list order anyway and only the first page is wanted. probe=True asks the
    index but reads the rows in list order (see _in_fts)."""
    if not tokens:
        return None
    long = [t for t in tokens if len(t) >= 3]
    short = [t for t in tokens if len(t) < 3]
    if not long:
        # Only short tokens: the start of the name (or of the company), through indexes.
        # The list sorts on «family first» (app.customers.sort_name_of): the key's start is the family name
        # (or the company); a first name's start is found in the names part of the search text («| علیرضا »).
        k = sort_key(" ".join(short))
        by_key = _key_starts(k)
        if len(short) == 1:
            first = "| " + short[0]           # a first name's start: three characters or more, so the trigram
            if use_index and has_fts():       # index finds it (a substring test of every customer otherwise)
                return by_key | _in_fts([first], probe)
            return by_key | _contains(Customer.search_text, first)
        return by_key
    if use_index and has_fts():
        tests = [_in_fts(long, probe)]
    else:
        tests = [_contains(Customer.search_text, t) for t in long]
    tests += [_contains(Customer.search_text, t) for t in short]
    return functools.reduce(operator.and_, tests)


def apply_text(q: pw.ModelSelect, tokens: list[str], use_index: bool = True, probe: bool = False
               ) -> pw.ModelSelect:
    """Narrow a Customer query to rows whose search text holds every token (see condition())."""
    c = condition(tokens, use_index, probe)
    return q if c is None else q.where(c)


def match_bounds(tokens: list[str], limit: int, counts: dict[str, int] | None = None,
                 hits: list[int] | None = None) -> tuple[int, int] | None:
    """How many customers hold every token, as cheap bounds (at least, at most), each counted no further than
    limit + 1, merged customers aside; None when there are no cheap bounds (no trigram index). Read straight from
    the trigram index, which yields its matches one by one: a common prefix costs as little as a rare one (an exact
    count reads every match). With tokens of three characters or more, the index's count of those stands for both
    (the short ones beside them are not counted). `counts`, when given, gets the first names' count of a single
    short token («first», for first_letters_parts). `hits`, when given, gets the ids the tokens of three characters
    or more give (no more than limit + 1): the search needs not ask the index again when they are few (among())."""
    if not tokens or not has_fts():
        return None
    long = [t for t in tokens if len(t) >= 3]
    short = [t for t in tokens if len(t) < 3]

    if long:
        if hits is not None:
            hits += _fts_hits(long, limit)
            return len(hits), len(hits)
        n = _fts_count(long, limit)
        return n, n
    by_key = key_stretch(" ".join(short), limit)
    if len(short) == 1:
        first = _fts_count(["| " + short[0]], limit)   # the two sets overlap: their sum is only an upper bound
        if counts is not None:
            counts["first"] = first
        return max(by_key, first), by_key + first
    return by_key, by_key


class LetterParts(NamedTuple):
    """first_letters_parts' answer. `by_key`: the family names' (or companies') start, one stretch of the list;
    `first`: the first names' start, read the `way` said: "name start" (in list order through the names' first
    letters' index), "index" (through the trigram index, which holds `matches` of them), "rows" (tested row by row
    in list order: common_page, through `probed`)."""

    by_key: pw.ModelSelect
    first: pw.ModelSelect
    way: str
    probed: pw.ModelSelect | None = None
    matches: int = 0


def first_letters_parts(base: pw.ModelSelect, token: str, few: int, counted: int | None = None,
                        by_name_start: bool = True) -> LetterParts | None:
    """SQLite, a query of one short token read in list order: its two kinds of match as queries that each find
    their next page cheaply (None without a trigram index). The family name's (or company's) start is one
    stretch of the list, read through the list's own index. A first name's start that is a letter is read in list
    order through the names' first letters' index. Otherwise (digits: the start of a phone number or an id, which
    that index does not hold) it is asked of the trigram index when no more than `few` customers have it (counted
    no further than few + 1), and tested row by row in list order when more do (then it is common: common_page);
    `probed` asks the trigram index in list order (see _in_fts). `counted`: how many have it, counted no further
    than few + 1 already (match_bounds' «first»).
    Reading both kinds in one pass of the list (condition(use_index=False)) went through every row before a late
    letter's family names («نو»: 2.5 s at a million customers); the first names through the trigram index gathered
    every id of a common letter first («م»: 200,000 ids, 25 ms; through the names' index: 0.05 ms)."""
    if not has_fts():
        return None
    by_key = base.where(_key_starts(sort_key(token)))
    if by_name_start and not token[0].isdigit() and has_name_start_index():
        return LetterParts(by_key, base.where(name_starts_with(token)), "name start")
    first = "| " + token
    probed = base.where(_in_fts([first], probe=True))
    count = _fts_count([first], few) if counted is None else counted
    if count <= few:
        return LetterParts(by_key, base.where(_in_fts([first])), "index", probed, count)
    return LetterParts(by_key, base.where(_contains(Customer.search_text, first)), "rows", probed, count)


# --- SQLite: the next page in the list's own order, read from the trigram index in that order ------------------
#
# The index numbers its entries by the list key's code (models.listcode), so it yields its matches in the list's
# order but for those sharing a code. A page reads the index's next matches, then every match with the same code as
# the last one read (they may come before it in the list), and looks those up for their keys: a page of a word
# matching 24,000 customers at a million reads about a hundred. The matches that share one code may be thousands
# (a family name of five letters or more is one code: «رضایی»): past GROUP_LOOKUPS of them, they are read in list
# order through the list's covering index over the code's stretch of keys, each id tested against theirs.

GROUP_LOOKUPS = 1000       # matches sharing a code looked up for their keys at most
FIRST_READ = 2             # the index's matches read first, per row the page still needs
READ_MOST = 4000           # the index's matches read at once at most (each read four times the last)
_NO_END = (1 << 63) - 1


def in_list_order(base: pw.ModelSelect, tokens: list[str], descending: bool, after: tuple | None,
                  n: int) -> list[tuple]:
    """The next n (id, key) of `base` narrowed to the tokens, in the list's order by its key (Customer.sort_key,
    then id; descending when asked), after the (key, id) `after`. SQLite with the trigram index; at least one token
    of three characters or more."""
    with _one_state():
        return _in_list_order(base, tokens, descending, after, n)


@contextlib.contextmanager
def _one_state():
    """The statements of one page read one state of the database: a read transaction of their own (deferred: no
    lock is taken), unless the connection is in one already. Without it, a customer another desk renamed between
    the index's read and the look-ups moved the page's end past matches not yet shown."""
    if db.in_transaction():
        yield
        return
    db.execute_sql("BEGIN DEFERRED")
    try:
        yield
    finally:
        db.execute_sql("COMMIT")


def _in_list_order(base: pw.ModelSelect, tokens: list[str], descending: bool, after: tuple | None,
                   n: int) -> list[tuple]:
    long = [t for t in tokens if len(t) >= 3]
    assert long
    q = _short_tests(base, tokens)
    phrase = _fts_phrase(long)
    span = listcode.ID_SPAN
    lo, hi = 0, _NO_END
    if after is not None:
        c = listcode.code(after[0])
        if descending:
            hi = (c + 1) * span - 1
        else:
            lo = c * span
    got: list[tuple] = []
    chunk = FIRST_READ * n + 1
    while len(got) < n:
        rows = _fts_rows(phrase, lo, hi, descending, chunk)
        if not rows:
            break
        last = rows[-1] // span
        complete = len(rows) < chunk                   # every match left is read
        big = None
        ids = rows
        if not complete:
            if descending:
                more = _fts_rows(phrase, last * span, rows[-1] - 1, True, GROUP_LOOKUPS + 1)
            else:
                more = _fts_rows(phrase, rows[-1] + 1, (last + 1) * span - 1, False, GROUP_LOOKUPS + 1)
            if sum(1 for r in rows if r // span == last) + len(more) > GROUP_LOOKUPS:
                ids, big = [r for r in rows if r // span != last], last
            else:
                ids = rows + more
        if ids:
            got += _looked_up(q, [r & (span - 1) for r in ids], descending, after, n - len(got))
            after = (got[-1][1], got[-1][0]) if got else after
        if big is not None and len(got) < n:
            got += _through_stretch(q, phrase, big, descending, after, n - len(got))
            after = (got[-1][1], got[-1][0]) if got else after
        if complete:
            break
        if descending:
            hi = last * span - 1
        else:
            lo = (last + 1) * span
        chunk = min(chunk * 4, READ_MOST)               # the filters let few through: read further at once
    return got


def _short_tests(base: pw.ModelSelect, tokens: list[str]) -> pw.ModelSelect:
    """base narrowed by the tokens shorter than three characters, each a substring (beside a longer token)."""
    for t in tokens:
        if len(t) < 3:
            base = base.where(_contains(Customer.search_text, t))
    return base


def _one_of(ids: list[int]):
    """The customer's id is one of these, written as numbers in the statement (as an IN list of hundreds of
    parameters, building the statement cost five times running it)."""
    return Customer.id.in_(pw.SQL("(" + (",".join(str(int(i)) for i in ids) or "NULL") + ")"))


def among(base: pw.ModelSelect, tokens: list[str], ids: list[int]) -> pw.ModelSelect:
    """base narrowed to the tokens, given every id the trigram index gives for the longer ones (match_bounds'
    `hits`): looked up by id, the index not asked again."""
    return _short_tests(base, tokens).where(_one_of(ids))


def _fts_rows(phrase: str, lo: int, hi: int, descending: bool, limit: int) -> list[int]:
    """The trigram index's next matches' row numbers between lo and hi, in their order."""
    way = "DESC" if descending else "ASC"
    return [r[0] for r in db.execute_sql(
        "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? AND rowid >= ? AND rowid <= ? "
        f"ORDER BY rowid {way} LIMIT ?", (phrase, lo, hi, limit)).fetchall()]


def _looked_up(q: pw.ModelSelect, ids: list[int], descending: bool, after: tuple | None, n: int) -> list[tuple]:
    """The first n (id, key) of q among these ids, after `after`, in list order."""
    col = Customer.sort_key
    page = keyset(q.where(_one_of(ids)).select(Customer.id, col), col, descending, after)
    return [tuple(r) for r in db.execute(page.order_by(*ordered(col, descending)).limit(n)).fetchall()]


def _through_stretch(q: pw.ModelSelect, phrase: str, c: int, descending: bool, after: tuple | None,
                     n: int) -> list[tuple]:
    """The first n (id, key) of q, after `after`, among the matches whose list code is c, read in list order over
    the keys with that code, each id tested against the matches' ids."""
    col = Customer.sort_key
    low, high = listcode.key_range(c)
    span = listcode.ID_SPAN
    ids = pw.SQL(f"({_MATCH_IDS} AND rowid >= ? AND rowid <= ?)", [phrase, c * span, (c + 1) * span - 1])
    stretch = col >= low if high is None else (col >= low) & (col < high)
    page = keyset(q.where(stretch, (Customer.id + 0).in_(ids)).select(Customer.id, col), col, descending, after)
    return [tuple(r) for r in db.execute(page.order_by(*ordered(col, descending)).limit(n)).fetchall()]


# --- SQLite: the next page of a trigram index's matches in list order ---------------------------------------------
#
# Through the index, a page costs a look-up of every match's row (its place in the list) and a sort, however
# few rows the page shows: thousands of matches cost milliseconds. When the matches are common enough that a
# page of them turns up within a short read of the list, the list's covering index is read in order instead and
# each id tested against the index's ids (gathered once per read, cheaply): reads bounded beforehand (the rows the
# rest of the page takes at the density of the matches spread through the list, with a margin: a family name's
# sit together in one stretch of it), two at most; if the page is still not full
# (none found: the matches sit together further on, as a family name's do), the rest of it is asked of the index
# as before, from where the reads stopped.

WINDOW_MARGIN = 1.5    # rows read in list order: the page's rest at the matches' density, times this
SCAN_PER_MATCH = 3.0   # a read in list order is chosen when it reads fewer rows than this per match
WINDOWS = 2            # reads in list order at most per page


def index_page(joined: pw.ModelSelect, probed: pw.ModelSelect, base: pw.ModelSelect, col, descending: bool,
               after: tuple | None, n: int, matches: int, rows: int | None, together: int = 0) -> list[tuple]:
    """The next n (id, key) of a query whose test asks the trigram index, in the order (col, id) (descending when
    asked), after the (key, id) `after`: `joined` is the query (condition()), `probed` the same written for a read
    in list order (condition(probe=True)), `base` it without the text's test. `matches`: at most this many match;
    `rows`: about this many customers are read by a read of `base` in list order (None: no such read, because
    `base` tests more than its covering index holds); `together`: about this many of the matches sit together in
    one stretch of the list (key_stretch), the others are spread through it."""
    got: list[tuple] = []
    order = ordered(col, descending)
    if rows and matches > together:
        density = (matches - together) / rows
        read = 0
        for _ in range(WINDOWS):
            need = n - len(got)
            window = int(WINDOW_MARGIN * need / density) + need
            if window > SCAN_PER_MATCH * matches:
                break
            end = _row_at(base, col, descending, after, window)
            q = _through(probed, col, descending, after, end)
            hits = [tuple(r) for r in db.execute(q.order_by(*order).limit(need)).fetchall()]
            got += hits
            if len(got) >= n or end is None:
                return got
            after, read = tuple(end), read + window
            if not hits:
                break
            density = len(got) / read
    q = keyset(joined.select(Customer.id, col), col, descending, after).order_by(*order)
    return got + [tuple(r) for r in db.execute(q.limit(n - len(got))).fetchall()]


def _row_at(base: pw.ModelSelect, col, descending: bool, after: tuple | None, k: int) -> tuple | None:
    """The (key, id) of the k-th row of `base` after `after` in list order, or None when the list ends before."""
    q = keyset(base.select(col, Customer.id), col, descending, after).order_by(*ordered(col, descending))
    return db.execute(q.limit(1).offset(k - 1)).fetchone()


def _through(q: pw.ModelSelect, col, descending: bool, after: tuple | None, end: tuple | None) -> pw.ModelSelect:
    """q's (id, key) after the (key, id) `after`, up to `end` included (to the list's end when None)."""
    q = keyset(q.select(Customer.id, col), col, descending, after)
    if end is None:
        return q
    key = pw.Tuple(col, Customer.id)
    return q.where(key >= pw.Tuple(*end) if descending else key <= pw.Tuple(*end))


# Text matching more customers than are paged through the index (INDEX_PAGES) is read in list order. Testing each
# row reads its text from the table: cheap when the matches are dense (the first digits of a mobile number), slow
# when they are a few in a hundred or sit together further on (a family name at a million customers: 300 ms). Reading
# through the list's covering index instead, each id tested against the trigram index's ids, first gathers those
# ids: about one unit of work per match in the whole list, where a row tested costs ROW_TEST units. A short read,
# each row tested, judges how dense the matches are; while the rows the rest of the page needs at that density cost
# less than gathering the ids, the next of them are read testing each row (a window at a time, each judged again
# with what the reads so far found); the rest of the page is read through the covering index.

PILOT_ROWS = 100      # rows read, each tested, to judge how dense the matches are
ROW_TEST = 15.0       # a row tested costs about this many ids gathered from the trigram index (measured at 100,000
                      # and at a million customers, the file in memory: 2.5 µs against 0.18 µs at a million)
TEST_WINDOWS = 3      # reads testing each row at most per page after the first


def common_page(tested: pw.ModelSelect, probed: pw.ModelSelect, base: pw.ModelSelect, col, descending: bool,
                after: tuple | None, n: int, rows: int) -> list[tuple]:
    """The next n (id, key) of text with many matches, in the order (col, id) (descending when asked), after the
    (key, id) `after`: `tested` is the query testing each row (condition(use_index=False)), `probed` the same asking
    the trigram index in list order (condition(probe=True)), `base` it without the text's test; `rows`: about this
    many customers."""
    order = ordered(col, descending)
    read = max(PILOT_ROWS, 1)
    end = _row_at(base, col, descending, after, read)
    q = _through(tested, col, descending, after, end)
    got = [tuple(r) for r in db.execute(q.order_by(*order).limit(n)).fetchall()]
    if len(got) >= n or end is None:
        return got
    tested_rows = 0
    for _ in range(TEST_WINDOWS):
        density = max(len(got), 0.5) / read
        need = n - len(got)
        window = int(WINDOW_MARGIN * need / density) + need
        if (tested_rows + window) * ROW_TEST > density * rows:     # gathering the ids costs less
            break
        after, end = tuple(end), _row_at(base, col, descending, tuple(end), window)
        q = _through(tested, col, descending, after, end)
        got += [tuple(r) for r in db.execute(q.order_by(*order).limit(need)).fetchall()]
        if len(got) >= n or end is None:
            return got
        read += window
        tested_rows += window
    q = keyset(probed.select(Customer.id, col), col, descending, tuple(end)).order_by(*order)
    return got + [tuple(r) for r in db.execute(q.limit(n - len(got))).fetchall()]


def key_stretch(token: str, limit: int) -> int:
    """How many customers' list keys start with the token's (a family name, or a company, that starts with it:
    they sit together in the list), counted no further than limit + 1."""
    k = sort_key(token)
    return int(db.execute_sql('SELECT COUNT(*) FROM (SELECT 1 FROM "customer" WHERE sort_key >= ? AND sort_key < ? '
                              "LIMIT ?)", (k, k + "\uffff", limit + 1)).fetchone()[0])


def customer_rows() -> int:
    """About how many customers there are (SQLite: the largest id, read at once)."""
    return int(db.execute_sql(f'SELECT max(id) FROM "{Customer._meta.table_name}"').fetchone()[0] or 0)


# --- PostgreSQL: the next page of matches in list order -----------------------------------------------------------
#
# PostgreSQL has no cheap bounded count of a trigram match (every match is read from the table to be rechecked),
# and its planner, asked for the first page of «text LIKE … ORDER BY sort_key LIMIT n», assumes the matches are
# spread evenly through the list: a family name's matches sit together in a list sorted by family name, and the
# scan it picks reads most of the table before it reaches them (100 ms for «نو»). So each page is read in two
# steps whose cost is bounded: the rows that come next in list order are tested a window at a time while the
# matches found there say that reading on is the cheaper way; otherwise (none found, or too few for the reading
# still needed) the rest of the page is asked of the trigram index, every match read and sorted.
# A name's first letters («سا») are judged before their first page from a sample of the customers: the index
# reads every word that starts with them, and their matches outside the family names may be none at all («نو»).

PROBE_ROWS = 300          # the first window: three pages' worth of rows, read in list order
BLIND_ROWS_LOOSE = 4_800  # rows read in list order without a match before the index is asked for a name's first
                          # letters (any other text goes to the index at once: it reads little more than the matches)
SCAN_BUDGET = 12_000      # rows read in list order at most before the index is asked instead
LOOSE_FACTOR = 8          # index rows read per match for a name's first letters («| سا»: every word «سا…»)
SAMPLE_ROWS = 1_000       # customers sampled to judge a name's first letters before their first page
SAMPLE_LEAST = 200        # fewer than that in the sample (a small table) tell nothing


def next_in_order(base: pw.ModelSelect, cond, col, descending: bool, after: tuple | None, n: int,
                  loose: bool, sample: tuple[float, float] | None = None) -> list[tuple]:
    """The next n (id, key) of `base` passing `cond`, in the order (col, id) (descending when asked), after the
    (key, id) `after`. Fewer than n means there are no more. `loose`: the index yields many more rows than match;
    `sample`: what first_letters_sample() said of them."""
    blind = BLIND_ROWS_LOOSE if loose else 0
    if sample is not None:
        rows_per_match, index_rows = sample
        if index_rows < n * rows_per_match:
            return _from_index(base, cond, col, descending, after, n)
        blind = SCAN_BUDGET                         # the matches are spread through the list: read on
    got: list[tuple] = []
    read = 0
    window = max(PROBE_ROWS, 3 * n)
    while True:
        hits, full, end = _window(base, cond, col, descending, after, window, n - len(got))
        got += hits
        read += window
        if len(got) >= n or not full:
            return got
        after = end
        need = n - len(got)
        if not got:
            # Nothing yet: the matches may sit together further down the list (a family name), or be few.
            if read >= blind:
                break
            window = min(3 * read, blind - read)
            continue
        density = len(got) / read
        scan = need / density                       # rows still to read in list order, at this density
        index = density * _table_rows() * (LOOSE_FACTOR if loose else 1)
        if read + scan > SCAN_BUDGET or index < scan:
            break
        window = min(int(scan * 1.25) + 20, SCAN_BUDGET - read)
    return got + _from_index(base, cond, col, descending, after, n - len(got))


def first_letters_sample(token: str, by_name: bool) -> tuple[float, float] | None:
    """For a query of one short token (a name's first letters): (rows read in list order per match, rows the index
    reads), from a sample of some SAMPLE_ROWS customers; None when the table is too small to tell. In the list's
    own order the family names that start with the letters sit together, where a read in list order finds them at
    once: only the other matches (first names) count as spread through the list."""
    k = sort_key(token)
    total = _table_rows()
    percent = min(100.0, 100.0 * SAMPLE_ROWS / total)
    rows, spread, words = db.execute_sql(
        'SELECT count(*), count(*) FILTER (WHERE strpos(search_text, %s) > 0 AND NOT (%s AND sort_key >= %s '
        "AND sort_key < %s)), count(*) FILTER (WHERE strpos(search_text, %s) > 0) "
        f'FROM "{Customer._meta.table_name}" TABLESAMPLE SYSTEM (%s) WHERE merged_into_id IS NULL',
        ("| " + token, by_name, k, k + "\uffff", " " + token, percent)).fetchone()
    if rows < max(SAMPLE_LEAST, 1):
        return None
    # Every word starting with the letters is a row the index reads (« سا»: ساختمان, ساری, سارا…).
    return (rows / spread if spread else float("inf")), words / rows * total


def keyset(q: pw.ModelSelect, col, descending: bool, after: tuple | None) -> pw.ModelSelect:
    """The rows after the (key, id) `after` in the order (col, id), descending when asked."""
    if after is None:
        return q
    key = pw.Tuple(col, Customer.id)
    return q.where(key < pw.Tuple(*after) if descending else key > pw.Tuple(*after))


def ordered(col, descending: bool) -> list:
    """The list's order by col, then id (the keyset's tie-break)."""
    return [col.desc(), Customer.id.desc()] if descending else [col.asc(), Customer.id.asc()]


def _window(base, cond, col, descending, after, size, need) -> tuple[list[tuple], bool, tuple | None]:
    """The next `size` rows in list order, each tested: (its first `need` matches, whether the window was full,
    the (key, id) of its last row)."""
    q = keyset(base.select(Customer.id.alias("i"), col.alias("k"), cond.alias("hit")), col, descending, after)
    sql, params = q.order_by(*ordered(col, descending)).limit(size).sql()
    way = "DESC" if descending else "ASC"
    rows = db.execute_sql(
        "SELECT i, k, hit AND h <= %s, r = c, c FROM ("
        f"SELECT w.i, w.k, w.hit, row_number() OVER o AS r, count(*) OVER () AS c, "
        f"sum(CASE WHEN w.hit THEN 1 ELSE 0 END) OVER o AS h FROM ({sql}) AS w "
        f"WINDOW o AS (ORDER BY w.k {way}, w.i {way} ROWS UNBOUNDED PRECEDING)) AS x "
        "WHERE (hit AND h <= %s) OR r = c ORDER BY r", [need, *params, need]).fetchall()
    if not rows:
        return [], False, None
    hits = [(i, k) for i, k, hit, _, _ in rows if hit]
    i, k, _, _, count = rows[-1]
    return hits, count == size, (k, i)


def _from_index(base, cond, col, descending, after, n) -> list[tuple]:
    """The next n matches read through the trigram index: every match found, then sorted."""
    q = keyset(base.select(Customer.id, col).where(cond), col, descending, after)
    q = q.order_by(*ordered(col, descending)).limit(n)
    outer = db.in_transaction()
    with db.atomic():
        if outer:
            old = db.execute_sql("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
                                 ).fetchone()
        # The planner would read the list in order (see above) or the whole table: neither, here.
        db.execute_sql("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)")
        rows = [tuple(r) for r in db.execute(q).fetchall()]
        if outer:
            db.execute_sql("SELECT set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true)",
                           old)
    return rows


def _table_rows() -> float:
    row = db.execute_sql("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                         (Customer._meta.table_name,)).fetchone()
    return max(float(row[0]) if row and row[0] is not None else 0.0, 1000.0)
