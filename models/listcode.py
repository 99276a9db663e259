"""SQLite: the trigram index's row numbers in the list's order.

The customer list's default order is its key (Customer.sort_key, then id). A search that matches thousands of
customers needs only its first page in that order; with the trigram index numbered by customer id, every match's
key had to be looked up first («رضایی» at a million customers: 24,000 matches, 37 ms). The index (customer_fts,
migration 21) numbers each customer's entry

    rowid = code(sort_key) * ID_SPAN + id

where code() reads the key's first CHARS characters as digits in base BASE, each character put in a bucket whose
number rises with the character (the end of the key is bucket 0, before every character). A code never falls
when the key rises, so the index yields its matches (in rowid order, which it does natively) in the list's
order, except among keys that share a code; those are sorted by their keys when read. A larger code means a
larger key: a page is complete once every match with the last code on it has been read.

The same code is written twice: as SQL (numbered, in the triggers that keep the index, so that any program
writing a customer keeps it right) and in Python (code, for the bounds of a page); a test keeps them equal.
"""
from __future__ import annotations

CHARS = 5
BASE = 75
ID_BITS = 31
ID_SPAN = 1 << ID_BITS          # customer ids below this (2,147 million); BASE ** CHARS * ID_SPAN < 2 ** 63
PERSIAN_FIRST = 0xE000          # app.core.text.sort_key maps the 32 Persian letters to U+E000 … U+E01F
PERSIAN_LETTERS = 32

# (first code point of a range, the bucket of that code point, "step": each code point has a bucket of its own,
# "flat": the range shares one). Bucket 0 is the end of the key. A key's characters are digits of its code up to
# the first that shares its bucket; the digits after that one are 0, so that a larger key never has a smaller code
# (two keys differing first in one shared bucket have the same code).
_RANGES = (
    (0x00, 1, "flat"),              # control characters
    (0x20, 2, "step"),              # the space (between the family name and the first name)
    (0x21, 3, "flat"),              # punctuation before the digits (the key turns most into spaces)
    (0x30, 4, "step"),              # 0 … 9
    (0x3A, 14, "flat"),             # : … `   (the key is lower case)
    (0x61, 15, "step"),             # a … z
    (0x7B, 41, "flat"),             # everything else before the Persian letters (other scripts, Arabic forms)
    (PERSIAN_FIRST, 42, "step"),    # the Persian letters, in alphabet order
    (PERSIAN_FIRST + PERSIAN_LETTERS, 74, "flat"),   # anything after them
)
assert _RANGES[-1][1] < BASE and BASE ** CHARS * ID_SPAN < 2 ** 63


# Each range with where it ends (None: at the end of Unicode).
_SPANS = tuple((start, nxt[0] if nxt else None, first, kind)
               for (start, first, kind), nxt in zip(_RANGES, (*_RANGES[1:], None), strict=True))


def _span_of_bucket(b: int) -> tuple:
    return next(s for s in reversed(_SPANS) if b >= s[2])


def bucket(ch: str) -> int:
    """The character's bucket: rises (never falls) with the code point."""
    cp = ord(ch)
    start, _, first, kind = next(s for s in reversed(_SPANS) if cp >= s[0])
    return first + cp - start if kind == "step" else first


def lowest(b: int) -> str:
    """The smallest character in bucket b (b ≥ 1)."""
    start, _, first, kind = _span_of_bucket(b)
    return chr(start + (b - first if kind == "step" else 0))


def _alone(b: int) -> bool:
    """Whether bucket b holds one character only (or is the key's end)."""
    return b == 0 or _span_of_bucket(b)[3] == "step"


def code(key: str) -> int:
    """The key's code: its first CHARS characters' buckets as the digits of a number in base BASE, up to the first
    bucket shared by several characters (the digits after it 0)."""
    key = key.split("\x00", 1)[0]          # SQLite's substr() ends a text at a NUL character
    c = 0
    on = True
    for i in range(CHARS):
        d = bucket(key[i]) if on and i < len(key) else 0
        on = on and _alone(d)
        c = c * BASE + d
    return c


def digits(c: int) -> list[int]:
    """The code's CHARS digits, the first character's first."""
    out = []
    for _ in range(CHARS):
        c, d = divmod(c, BASE)
        out.append(d)
    return out[::-1]


def key_range(c: int) -> tuple[str, str | None]:
    """[low, high): every key whose code is c lies in it (high None: no end). Low is at or below every such key
    (each bucket's smallest character); high is above every one: up to the first bucket that holds more than one
    character, the key's characters are known, and that bucket (or the last one) raised by one bounds the rest."""
    ds = digits(c)
    while ds and ds[-1] == 0:
        ds.pop()
    if not ds:
        return "", chr(1)       # the empty key (and one that starts with NUL: see code())
    low = "".join(lowest(d) for d in ds)
    shared = next((i for i, d in enumerate(ds) if not _alone(d)), len(ds) - 1)
    for i in range(shared, -1, -1):
        if ds[i] + 1 < BASE:
            return low, "".join(lowest(d) for d in ds[:i]) + lowest(ds[i] + 1)
    return low, None


# The SQL reads each of the key's first characters once (a subquery that SQLite may not fold into the outer one:
# LIMIT -1), and tests the Persian letters first: written plainly, the code cost 17 µs a customer (a second per
# 50,000 imported); so, 1.2 µs.

def _sql_bucket(x: str) -> str:
    """bucket() of the code point x (NULL past the key's end: 0)."""
    start, end, first, _ = next(s for s in _SPANS if s[0] == PERSIAN_FIRST)
    parts = [f"CASE WHEN {x} >= {start} AND {x} < {end} THEN {x} - {start - first} WHEN {x} IS NULL THEN 0"]
    for start, end, first, kind in _SPANS:
        value = f"{x} - {start - first}" if kind == "step" else str(first)
        parts.append(f"WHEN {x} < {end} THEN {value}" if end is not None else f"ELSE {value}")
    return " ".join(parts) + " END"


def _sql_alone(x: str) -> str:
    """1 when the code point x has a bucket of its own, else 0 (the Persian letters tested first)."""
    steps = [f"({x} >= {start} AND {x} < {end})" for start, end, _, kind in reversed(_SPANS) if kind == "step"]
    return f"(CASE WHEN {' OR '.join(steps)} THEN 1 ELSE 0 END)"


def numbered(key: str, id_: str, text: str, source: str = "") -> str:
    """SELECT of (the index's row number, the text to index) for the customer(s) with list key `key`, id `id_` and
    search text `text` (SQL over `source`: a FROM clause, or none for a trigger's new./old. values)."""
    chars = [f"c{i}" for i in range(CHARS)]
    c = "0"
    for i in range(CHARS):
        digit = " * ".join([f"({_sql_bucket(chars[i])})"] + [_sql_alone(x) for x in chars[:i]])
        c = f"({c}) * {BASE} + {digit}"
    picked = ", ".join(f"unicode(substr({key}, {i + 1}, 1)) AS {ch}" for i, ch in enumerate(chars))
    return f"SELECT ({c}) * {ID_SPAN} + i, t FROM (SELECT {id_} AS i, {text} AS t, {picked} {source} LIMIT -1)"


# --- the index's insert trigger and its filling (migration 21; the import fills it itself) -----------------------
#
# FTS5 writes its pending entries to disk whenever it is given a row number below the last one: entries given in
# ascending order are written once per statement; in any other order nearly once each (a customer's id rises as
# rows are added, their list codes do not), which made an import of 50,000 customers a second slower. So a whole
# table, or an import's batch, is indexed in one statement ordered by the row number (fill). The import pauses the
# insert trigger for its own transaction with a row in customer_fts_paused, gone before it commits (no other
# connection ever sees it).

OUT_OF_RANGE = (f"SELECT RAISE(ABORT, 'customer id out of the search index''s range') "
                f"WHERE new.id < 0 OR new.id >= {ID_SPAN};")
PAUSED = "customer_fts_paused"
PAUSE = f"INSERT INTO main.{PAUSED} VALUES (1)"        # the insert trigger rests, in this transaction only
RESUME = f"DELETE FROM main.{PAUSED}"


def index_new() -> str:
    """A trigger's statement: index the customer's new values."""
    return f"INSERT INTO customer_fts(rowid, search_text) {numbered('new.sort_key', 'new.id', 'new.search_text')};"


def unindex_old() -> str:
    """A trigger's statement: take the customer's old values out of the index."""
    return ("INSERT INTO customer_fts(customer_fts, rowid, search_text) SELECT 'delete', * FROM ("
            f"{numbered('old.sort_key', 'old.id', 'old.search_text')});")


def insert_trigger() -> str:
    return (f"CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer WHEN NOT EXISTS (SELECT 1 FROM {PAUSED}) "
            f"BEGIN {OUT_OF_RANGE} {index_new()} END")


def fill(where: str = "1") -> str:
    """Index the customers that pass `where` (SQL over main.customer), in the index's order."""
    return (f"INSERT INTO main.customer_fts(rowid, search_text) "
            f"{numbered('sort_key', 'id', 'search_text', f'FROM main.customer WHERE {where}')} ORDER BY 1")
