"""The dry run: every row cleaned and checked, nothing written to the customer database.

Rows are read, checked and put aside in batches, so memory stays flat for any size of sheet: each row's cleaned
data goes into a temporary SQLite file that belongs to the report, already as the import writes it (the customer's
column values with its sort and search keys; its phones, addresses and tags), so the write job only inserts; and
the duplicate checks are set-based: against the customers already in the database with one query per batch, and
against earlier rows of the file with an index of keys (phone numbers, national IDs, names) in the same file.
Only the problems are kept in memory.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import operator
import os
import pickle
import re
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app import settings
from app.core import fs
from app.core.errors import UserError, ValidationError
from app.core.text import compact_key, to_ascii_digits, to_persian_digits
from app.customers import service as cs
from app.excel.importer.cleaning import _TOTAL_WORDS, Problem, _Mapper
from app.excel.importer.quickrows import MEMO_LIMIT, QuickRows
from app.excel.importer.reading import Table, _blank
from models.base import db, is_postgres
from models.core import Customer

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]

BATCH = 500
SQL_CHUNK = 500           # values per IN (…) query
_SEP = "\x1f"


# The customer's columns the import fills from a row (created_by, created_at, updated_at are the import's own)
CUSTOMER_VALUES = (*cs.TEXT_FIELDS, "kind", "stage", "birthday", "anniversary", "assigned_to", "sort_key",
                   "search_text")
# the stage's own names for them (its row table has a status of its own)
STAGED_COLUMNS = ", ".join(f"c_{c}" for c in CUSTOMER_VALUES)
_ADDRESS_KEYS = ("label", "province", "city", "line", "postal_code")
_TEXTS = operator.itemgetter(*cs.TEXT_FIELDS, "kind", "stage")
_DATE = Customer.birthday


def staged_values(d: dict) -> tuple[str, tuple, list[tuple], list[tuple], list[str]]:
    """A validated row as the import writes it: (display name, the CUSTOMER_VALUES with the sort and search keys
    the customer service would store (``derived_keys``) and dates as ISO text, phones, addresses, tag names)."""
    sk, st = cs.derived_keys(d)
    b, a = d["birthday"], d["anniversary"]
    values = (*_TEXTS(d), None if b is None else _DATE.db_value(b).isoformat(),
              None if a is None else _DATE.db_value(a).isoformat(), d["assigned_to"], sk, st)
    phones = [(p["label"], p["raw"], p["canonical"], p["tail"], p.get("extension", ""), i == 0)
              for i, p in enumerate(d["phones"])]
    addresses = [(x["label"], x["province"], x["city"], x["line"], x["postal_code"]) for x in d["addresses"]]
    # phones: (label, raw, canonical, tail, extension, is_primary); addresses: _ADDRESS_KEYS
    return cs.display_name_of(d), values, phones, addresses, list(d["tags"])


# a staged row's phones, addresses and tags: a table each in the stage, keyed by (row, seq), seq the place in
# the row's list. A phone's is_primary is 1 for the first one.
PHONE_KEYS = ("label", "raw", "canonical", "tail", "extension", "is_primary")
CHILD_TABLES = (("phone", PHONE_KEYS), ("address", _ADDRESS_KEYS), ("tag", ("name",)))


def create_child_tables(con: sqlite3.Connection, prefix: str = "") -> None:
    for name, cols in CHILD_TABLES:
        con.execute(f"CREATE TABLE {prefix}{name} (row INTEGER NOT NULL, seq INTEGER NOT NULL, {', '.join(cols)}, "
                    "PRIMARY KEY (row, seq)) WITHOUT ROWID")


def add_children(into: tuple[list[tuple], list[tuple], list[tuple]], row: int, phones: list[tuple],
                 addresses: list[tuple], tags: list[str]) -> None:
    """A row's staged phones, addresses and tags (see staged_values) as rows of the stage's child tables."""
    into[0].extend((row, i, *p) for i, p in enumerate(phones))
    into[1].extend((row, i, *a) for i, a in enumerate(addresses))
    into[2].extend((row, i, t) for i, t in enumerate(tags))


def insert_children(con: sqlite3.Connection, rows: tuple[list[tuple], list[tuple], list[tuple]],
                    prefix: str = "") -> None:
    for (name, cols), items in zip(CHILD_TABLES, rows, strict=True):
        if items:
            con.executemany(f"INSERT INTO {prefix}{name} VALUES ({', '.join('?' * (len(cols) + 2))})", items)


@dataclass
class RowResult:
    row: int
    data: dict | None                       # validated data (None when the row has errors)
    problems: list[Problem] = field(default_factory=list)
    dup_customer: int | None = None
    dup_customer_name: str = ""
    dup_row: int | None = None
    keys: tuple = ()                        # phone canonicals and national id used for duplicate checks

    @property
    def has_error(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    @property
    def is_duplicate(self) -> bool:
        return self.dup_customer is not None or self.dup_row is not None

    @property
    def status(self) -> str:
        if self.has_error:
            return "error"
        if self.data is None:
            return "skipped"              # a totals row or a row with nothing to import: listed, not imported
        if self.is_duplicate:
            return "duplicate"
        return "ok"


class Stage:
    """The dry run's rows, set aside in a temporary SQLite file (deleted with the report). One thread uses it
    at a time (the check, then the import)."""

    def __init__(self) -> None:
        from models.connection import temp_dir

        # In the program's own temporary folder: a killed import's file is removed a day later (sweep_temp).
        fd, self.path = tempfile.mkstemp(prefix="crm-import-", suffix=".sqlite3", dir=temp_dir())
        os.close(fd)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16000", "temp_store=FILE"):
            self.conn.execute(f"PRAGMA {pragma}")
        # an importable row also as the import writes it (see staged_values): the customer's columns and its
        # display name (NULL for a row that is not imported), and its phones, addresses and tags as rows of their
        # own (see add_children), plain values the write job copies with SQL or reads without rebuilding them
        self.conn.execute("CREATE TABLE row (row INTEGER PRIMARY KEY, status TEXT NOT NULL, dup_customer INTEGER, "
                          f"dup_name TEXT, dup_row INTEGER, keys BLOB, name TEXT, {STAGED_COLUMNS})")
        create_child_tables(self.conn)
        self.conn.execute("CREATE INDEX row_status ON row (status, row)")
        self.conn.execute("CREATE TABLE seen (k TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID")
        self._finalizer = weakref.finalize(self, Stage._drop, self.conn, self.path)

    @staticmethod
    def _drop(conn: sqlite3.Connection, path: str) -> None:
        try:
            conn.close()
        finally:
            for p in (path, path + "-journal"):
                try:
                    os.unlink(p)
                except OSError:
                    pass

    def close(self) -> None:
        self._finalizer()

    # --- keys of earlier rows ---------------------------------------------------------------------------
    # The first row of each key (phone, national ID, name…). Kept in a dict while it is small (most sheets),
    # moved into the stage's ``seen`` table whenever it grows past SPILL_KEYS: memory stays flat either way
    # (200,000 keys hold about 30 MB; 400,000 held a fifth of a million-row import's peak).
    SPILL_KEYS = 200_000

    def first_rows(self, keys: list[str]) -> dict[str, int]:
        mem = self.__dict__.setdefault("_seen", {})
        out: dict[str, int] = {}
        if self.__dict__.get("_spilled"):
            for lo in range(0, len(keys), SQL_CHUNK):
                part = keys[lo:lo + SQL_CHUNK]
                q = f"SELECT k, row FROM seen WHERE k IN ({','.join('?' * len(part))})"
                out.update(self.conn.execute(q, part).fetchall())
        for k in keys:
            if k not in out:
                row = mem.get(k)
                if row is not None:
                    out[k] = row
        return out

    def add_keys(self, pairs: list[tuple[str, int]]) -> None:
        mem = self.__dict__.setdefault("_seen", {})
        for k, row in pairs:
            mem.setdefault(k, row)
        if len(mem) > self.SPILL_KEYS:
            self.conn.execute("BEGIN")
            self.conn.executemany("INSERT OR IGNORE INTO seen (k, row) VALUES (?, ?)", sorted(mem.items()))
            self.conn.execute("COMMIT")
            mem.clear()
            self.__dict__["_spilled"] = True

    # --- rows -----------------------------------------------------------------------------------------
    def put(self, results: list[RowResult]) -> None:
        """Set a batch of checked rows aside: an importable row as the import will write it (so the import's
        write job has only to insert), from which data_of() gives its checked data back."""
        dumps = pickle.dumps
        items = []
        children: tuple[list[tuple], list[tuple], list[tuple]] = ([], [], [])
        blank = (None,) * (len(CUSTOMER_VALUES) + 1)
        for r in results:
            status = r.status
            head = (r.row, status, r.dup_customer, r.dup_customer_name, r.dup_row, dumps(r.keys, 5))
            if r.data is None or status == "error":
                items.append((*head, *blank))
                continue
            # the data itself is not kept: data_of() builds it again from the staged values
            name, values, phones, addresses, tags = staged_values(r.data)
            items.append((*head, name, *values))
            add_children(children, r.row, phones, addresses, tags)
        con = self.conn
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO row VALUES ({', '.join('?' * (len(CUSTOMER_VALUES) + 7))})", items)
        insert_children(con, children)
        con.execute("COMMIT")

    def rows(self, where: str = "", args: tuple = (), raw: bool = False) -> Iterator[tuple]:
        """(row, status, dup_customer, dup_name, dup_row, keys, data) in row order, read in pages (``raw``: without
        the data, None for every row; data_of() gives it)."""
        last = 0
        cond = f" AND ({where})" if where else ""
        while True:
            page = self.conn.execute(
                f"SELECT row, status, dup_customer, dup_name, dup_row, keys FROM row WHERE row > ?{cond} "
                f"ORDER BY row LIMIT {BATCH}", (last, *args)).fetchall()
            if not page:
                return
            data = {} if raw else self.data_of([r[0] for r in page])
            for r in page:
                yield r[0], r[1], r[2], r[3], r[4], pickle.loads(r[5]), data.get(r[0])
            last = page[-1][0]

    def data_of(self, rows: list[int]) -> dict[int, dict]:
        """The checked data of these rows (the importable ones among them: at most SQL_CHUNK), as the check left
        it (a dict like validate()'s), built from the staged values (see staged_values())."""
        out: dict[int, dict] = {}
        marks = ",".join("?" * len(rows))
        con = self.conn
        for row, _name, *values in con.execute(
                f"SELECT row, name, {STAGED_COLUMNS} FROM row WHERE row IN ({marks}) AND name IS NOT NULL", rows):
            v = dict(zip(CUSTOMER_VALUES, values, strict=True))
            d = {f: v[f] for f in cs.TEXT_FIELDS}
            d["kind"], d["stage"], d["assigned_to"] = v["kind"], v["stage"], v["assigned_to"]
            for f in ("birthday", "anniversary"):
                d[f] = None if v[f] is None else dt.date.fromisoformat(v[f])
            d["phones"], d["addresses"], d["tags"] = [], [], []
            out[row] = d
        if not out:
            return out
        for row, label, raw, canonical, tail, extension, primary in con.execute(
                f"SELECT row, {', '.join(PHONE_KEYS)} FROM phone WHERE row IN ({marks}) ORDER BY row, seq", rows):
            p = {"label": label, "raw": raw, "canonical": canonical, "tail": tail, "extension": extension}
            if primary:
                p["is_primary"] = True
            out[row]["phones"].append(p)
        for row, *a in con.execute(f"SELECT row, {', '.join(_ADDRESS_KEYS)} FROM address WHERE row IN ({marks}) "
                                   "ORDER BY row, seq", rows):
            out[row]["addresses"].append(dict(zip(_ADDRESS_KEYS, a, strict=True)))
        for row, name in con.execute(f"SELECT row, name FROM tag WHERE row IN ({marks}) ORDER BY row, seq", rows):
            out[row]["tags"].append(name)
        return out

    def count(self, where: str = "", args: tuple = ()) -> int:
        return self.conn.execute(f"SELECT count(*) FROM row{' WHERE ' + where if where else ''}", args).fetchone()[0]


class ReportRows:
    """The report's rows as a sequence, read from its stage (a million rows are never all in memory)."""

    def __init__(self, report: Report, where: str = "", args: tuple = ()):
        self.report = report
        self.where = where
        self.args = args

    def __iter__(self) -> Iterator[RowResult]:
        by_row = self.report._problems_by_row()
        for row, _status, dup_customer, dup_name, dup_row, keys, data in self.report.stage.rows(self.where,
                                                                                               self.args):
            yield RowResult(row, data, list(by_row.get(row, ())), dup_customer, dup_name or "", dup_row, keys)

    def __len__(self) -> int:
        return self.report.stage.count(self.where, self.args)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index):
        import itertools

        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(itertools.islice(iter(self), start, stop, step))
        if index < 0:
            index += len(self)
        for i, r in enumerate(self):
            if i == index:
                return r
        raise IndexError(index)


class Report:
    """What the dry run found: every problem (in memory), every row (in the stage, see ``rows``)."""

    def __init__(self, table: Table, stage: Stage):
        self.table = table
        self.stage = stage
        self._problems: list[Problem] = []
        self._by_row: dict[int, list[Problem]] | None = None
        self.formula_count = 0

    @property
    def rows(self) -> ReportRows:
        return ReportRows(self)

    @property
    def errors(self) -> ReportRows:
        return ReportRows(self, "status = 'error'")

    @property
    def duplicates(self) -> ReportRows:
        return ReportRows(self, "status = 'duplicate'")

    @property
    def ready(self) -> ReportRows:
        return ReportRows(self, "status = 'ok'")

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def _problems_by_row(self) -> dict[int, list[Problem]]:
        if self._by_row is None:
            by_row: dict[int, list[Problem]] = {}
            for p in self._problems:
                by_row.setdefault(p.row, []).append(p)
            self._by_row = by_row
        return self._by_row

    def close(self) -> None:
        """Delete the stage (it also goes when the report is garbage-collected)."""
        self.stage.close()

    def summary(self) -> str:
        st = self.stage
        counts = dict(st.conn.execute("SELECT status, count(*) FROM row GROUP BY status").fetchall())
        n = sum(counts.values())
        p = to_persian_digits
        parts = [f"{p(n)} ردیف خوانده شد",
                 f"{p(counts.get('ok', 0))} ردیف آماده",
                 f"{p(counts.get('error', 0))} ردیف با خطا",
                 f"{p(counts.get('duplicate', 0))} ردیف تکراری"]
        if counts.get("skipped"):
            parts.append(f"{p(counts['skipped'])} ردیف بی‌داده یا جمع که وارد نمی‌شود")
        warnings = sum(1 for q in self._problems if q.severity == "warning")
        if warnings:
            parts.append(f"{p(warnings)} هشدار")
        text = "، ".join(parts) + "."
        if self.formula_count:
            text += f" {p(self.formula_count)} خانه فرمول بی‌مقدار (خالی خوانده شد)."
        return f"{self.table.header_note()}. {text}"


def _personal(canonical: str) -> bool:
    """A mobile belongs to one person; an office line (and its fax) is shared by everyone who works there."""
    return canonical.startswith("09")


def _person_of(d: dict) -> tuple:
    return compact_key(d.get("first_name")), compact_key(d.get("last_name")), compact_key(d.get("company"))


def _same_person(a: tuple, b: tuple) -> bool:
    """Could two rows sharing an office number be one customer? Not when they name two different people."""
    (fa, la, ca), (fb, lb, cb) = a, b
    if (fa or la) and (fb or lb):
        return la == lb and (fa == fb or not fa or not fb)
    if not (fa or la) and not (fb or lb):
        return ca == cb or not ca or not cb
    return False


def _shared_office_lines(shared: list[tuple[RowResult, str, int, tuple]]) -> None:
    """Rows whose office number is an existing customer's: the same customer only when the names agree."""
    shared = [s for s in shared if s[0].dup_customer is None]
    if not shared:
        return
    ids = sorted({cid for _r, _c, cid, _n in shared})
    people: dict[int, tuple] = {}
    for lo in range(0, len(ids), 500):
        for c in (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company)
                  .where(Customer.id.in_(ids[lo:lo + 500])).dicts()):
            people[c["id"]] = _person_of(c)
    warned: set[int] = set()
    for rr, canonical, cid, names in shared:
        if rr.dup_customer is not None:
            continue
        if _same_person(names, people.get(cid, ("", "", ""))):
            rr.dup_customer = cid
            rr.problems = [p for p in rr.problems if not (p.severity == "warning" and "پرونده مشتری دیگری" in
                                                         p.message)]
            rr.problems.append(Problem(rr.row, "duplicate", f"شماره {canonical} در پرونده مشتری دیگری هست."))
        elif id(rr) not in warned:
            warned.add(id(rr))
            rr.problems.append(Problem(rr.row, "warning", f"شماره ثابت {canonical} در پرونده مشتری دیگری هم هست "
                                                          "ولی نام دیگری دارد؛ مشتری جداگانه ثبت می‌شود."))


def _name_only_duplicates(results: list[RowResult]) -> None:
    """A row with no phone and no national ID whose name (and company, email) is already a customer's is that
    customer: without this, importing the same sheet twice doubled every name-only row."""
    lonely = [r for r in results if r.data and not r.keys[0] and not r.keys[1] and r.dup_customer is None]
    if not lonely:
        return
    last_names = sorted({r.data.get("last_name") or "" for r in lonely})
    found: dict[tuple, int] = {}
    for lo in range(0, len(last_names), 500):
        q = (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.email)
             .where(Customer.merged_into.is_null(), Customer.last_name.in_(last_names[lo:lo + 500]))
             .order_by(Customer.id))
        for c in q.dicts():
            found.setdefault(_fingerprint(c), c["id"])
    for r in lonely:
        cid = found.get(_fingerprint(r.data))
        if cid is not None:
            r.dup_customer = cid
            r.problems.append(Problem(
                r.row, "duplicate", "نام این ردیف با پرونده مشتری دیگری یکی است (شماره تلفن و کد ملی ندارد که "
                                    "با آن سنجیده شود)."))


def _names_of(ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    ids_l = sorted(ids)
    for lo in range(0, len(ids_l), 500):
        for r in (Customer.select(Customer.id, Customer.first_name, Customer.last_name, Customer.company,
                                  Customer.kind).where(Customer.id.in_(ids_l[lo:lo + 500])).dicts()):
            out[r["id"]] = cs.display_name_of(r)
    return out


def _fingerprint(d: dict) -> tuple:
    return (compact_key(d.get("first_name")), compact_key(d.get("last_name")), compact_key(d.get("company")),
            (d.get("email") or "").lower())


_ROW_NUMBER_HEADERS = {compact_key(w) for w in ("ردیف", "شماره ردیف", "#", "row", "")}


def _has_unmapped_data(table: Table, row: list[Any]) -> bool:
    for i, v in enumerate(row):
        if _blank(v):
            continue
        header = table.headers[i] if i < len(table.headers) else ""
        if (compact_key(header) in _ROW_NUMBER_HEADERS
                and re.fullmatch(r"\d+(\.0)?", to_ascii_digits(str(v)).strip())):
            continue          # only the row's number
        return True
    return False


def _is_totals_row(d: dict, row: list[Any]) -> bool:
    """«جمع کل» where a name goes, or in a nameless row's «ردیف» cell: the sheet's totals row, not a customer."""
    if not any(d.get(f) for f in ("first_name", "last_name", "company")):
        return any(type(v) is str and compact_key(v).rstrip(":") in _TOTAL_WORDS for v in row)
    name = compact_key(" ".join(str(d.get(f) or "") for f in ("first_name", "last_name", "company")))
    name = name.rstrip(":")
    return bool(name) and (name in _TOTAL_WORDS or any(name.startswith(w) and not name[len(w):].isalpha()
                                                         for w in _TOTAL_WORDS))


def _existing_of(canon: set[str], nids: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """The customers (not merged away) that already have these numbers / national IDs: the lowest id each.
    Set-based: the incoming keys go into a temporary table joined to the phone and national-ID indexes (SQLite),
    or one array parameter (PostgreSQL); nothing about the whole database is held in memory."""
    phones: dict[str, int] = {}
    found: dict[str, int] = {}
    if not canon and not nids:
        return phones, found
    if is_postgres():
        if canon:
            phones.update(db.execute_sql(
                "SELECT p.canonical, MIN(p.customer_id) FROM phone_number p JOIN customer c ON c.id = p.customer_id "
                "WHERE c.merged_into_id IS NULL AND p.canonical = ANY(%s) GROUP BY p.canonical",
                (sorted(canon),)).fetchall())
        if nids:
            found.update(db.execute_sql(
                "SELECT national_id, MIN(id) FROM customer WHERE merged_into_id IS NULL AND national_id = ANY(%s) "
                "GROUP BY national_id", (sorted(nids),)).fetchall())
        return phones, found
    # SQLite: a TEMP table lives in the reading connection's own temporary database (no lock on the customer
    # database, no commit hook: it goes through the driver's connection, not peewee's write path)
    con = db.connection()
    con.execute("CREATE TEMP TABLE IF NOT EXISTS import_key (kind INTEGER NOT NULL, k TEXT NOT NULL, "
                "PRIMARY KEY (kind, k)) WITHOUT ROWID")
    con.execute("DELETE FROM temp.import_key")
    con.executemany("INSERT OR IGNORE INTO temp.import_key (kind, k) VALUES (0, ?)", [(c,) for c in canon])
    con.executemany("INSERT OR IGNORE INTO temp.import_key (kind, k) VALUES (1, ?)", [(n,) for n in nids])
    if canon:
        phones.update(con.execute(
            "SELECT p.canonical, MIN(p.customer_id) FROM temp.import_key k "
            "JOIN phone_number p ON p.canonical = k.k JOIN customer c ON c.id = p.customer_id "
            "WHERE k.kind = 0 AND c.merged_into_id IS NULL GROUP BY p.canonical").fetchall())
    if nids:
        found.update(con.execute(
            "SELECT c.national_id, MIN(c.id) FROM temp.import_key k JOIN customer c ON c.national_id = k.k "
            "WHERE k.kind = 1 AND c.merged_into_id IS NULL GROUP BY c.national_id").fetchall())
    con.execute("DELETE FROM temp.import_key")
    return phones, found


def _office_keys(c: str, names: tuple) -> tuple[list[str], list[str]]:
    """Index keys for an office number shared by colleagues: (keys to look up, keys to record). An earlier row
    is the same customer when _same_person() says so; these keys answer that with one lookup each."""
    f, la, co = names
    if f or la:
        base = f"o{_SEP}{c}{_SEP}P{_SEP}{la}{_SEP}"
        look = [base + f, base] if f else [base + "*"]
        return look, [base + f, base + "*"]
    base = f"o{_SEP}{c}{_SEP}O{_SEP}"
    look = [base + co, base] if co else [base + "*"]
    return look, [base + co, base + "*"]


class _Pending:
    __slots__ = ("rr", "canon", "nid", "names", "fp")

    def __init__(self, rr: RowResult, canon: list[str], nid: str, names: tuple, fp: tuple):
        self.rr, self.canon, self.nid, self.names, self.fp = rr, canon, nid, names, fp


def _check_batch(batch: list[_Pending], stage: Stage) -> None:
    """Duplicates in one batch of rows: of customers already in the database, and of earlier rows."""
    canon_all = {c for p in batch for c in p.canon}
    existing_phones, existing_nids = _existing_of(canon_all, {p.nid for p in batch if p.nid})
    shared_existing: list[tuple[RowResult, str, int, tuple]] = []
    # every key this batch may look up, fetched from the earlier batches at once
    wanted: set[str] = set()
    for p in batch:
        for c in p.canon:
            wanted.add("p" + _SEP + c)
            if not _personal(c):
                wanted.update(_office_keys(c, p.names)[0])
        if p.nid:
            wanted.add("n" + _SEP + p.nid)
        if any(p.fp):
            wanted.add("f" + _SEP + repr(p.fp))
    first = stage.first_rows(sorted(wanted))
    new: dict[str, int] = {}

    def seen(k: str, row: int) -> None:
        if k not in first:
            first[k] = row
            new[k] = row

    for p in batch:
        rr, canon, nid, names, fp = p.rr, p.canon, p.nid, p.names, p.fp
        row_no = rr.row
        for c in canon:
            if c in existing_phones:
                if not _personal(c):          # an office line: decided below, once the other name is known
                    shared_existing.append((rr, c, existing_phones[c], names))
                    continue
                rr.dup_customer = existing_phones[c]
                rr.problems.append(Problem(row_no, "duplicate", f"شماره {c} در پرونده مشتری دیگری هست."))
                break
        if rr.dup_customer is None and nid and nid in existing_nids:
            rr.dup_customer = existing_nids[nid]
            rr.problems.append(Problem(row_no, "duplicate", f"کد/شناسه ملی {nid} در پرونده مشتری دیگری هست."))
        # duplicates of an earlier row in this file
        earlier = None
        for c in canon:
            first_with = first.get("p" + _SEP + c)
            if first_with is not None:
                if _personal(c):
                    earlier = first_with
                    break
                rows = [first[k] for k in _office_keys(c, names)[0] if k in first]
                earlier = min(rows) if rows else None
                if earlier is not None:
                    break
                rr.problems.append(Problem(row_no, "warning", f"شماره ثابت {c} در ردیف {to_persian_digits(first_with)} "
                                           "هم هست ولی نام دیگری دارد؛ مشتری جداگانه ثبت می‌شود."))
        reason = "شماره مشترک"
        if earlier is None and nid and ("n" + _SEP + nid) in first:
            earlier, reason = first["n" + _SEP + nid], "کد ملی یکسان"
        if earlier is None and any(fp) and ("f" + _SEP + repr(fp)) in first:
            earlier, reason = first["f" + _SEP + repr(fp)], "همان نام"
        if earlier is not None:
            rr.dup_row = earlier
            rr.problems.append(Problem(row_no, "duplicate",
                                       f"تکرار ردیف {to_persian_digits(earlier)} همین فایل ({reason})."))
        for c in canon:
            seen("p" + _SEP + c, row_no)
            if not _personal(c):
                for k in _office_keys(c, names)[1]:
                    seen(k, row_no)
        if nid:
            seen("n" + _SEP + nid, row_no)
        if any(fp):
            seen("f" + _SEP + repr(fp), row_no)
    stage.add_keys(list(new.items()))
    results = [p.rr for p in batch]
    _shared_office_lines(shared_existing)
    _name_only_duplicates(results)
    dup_ids = {r.dup_customer for r in results if r.dup_customer}
    if dup_ids:
        names_of = _names_of(dup_ids)
        for r in results:
            if r.dup_customer:
                r.dup_customer_name = names_of.get(r.dup_customer, "")
                for q in r.problems:
                    if q.severity == "duplicate" and "مشتری دیگری" in q.message and r.dup_customer_name:
                        q.message = q.message.replace("مشتری دیگری", f"«{r.dup_customer_name}»")


_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def sparse_gc() -> Iterator[None]:
    """Python's cycle collector less often while rows are checked or written: the import makes millions of
    short-lived dicts and lists (no cycles among them), and a collection every 700 of them cost a sixth of its
    time. The thresholds come back when the last import running in this process ends."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(50_000, 20, 100)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)


def analyse(table: Table, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Report:
    """The dry run: every row cleaned and checked; nothing is written to the database."""
    with sparse_gc():
        return _analyse(table, progress, cancel)


def _analyse(table: Table, progress: ProgressFn | None, cancel: CancelFn | None) -> Report:
    mapped = {f for f in table.mapping if f}
    if not mapped & {"full_name", "first_name", "last_name", "company"}:
        raise UserError("هیچ ستونی برای نام یا شرکت انتخاب نشده است؛ دست‌کم یکی لازم است.")
    mapper = _Mapper(table)
    stage = Stage()
    report = Report(table, stage)
    try:
        _analyse_into(report, mapper, progress, cancel)
    except BaseException as e:
        stage.close()
        if isinstance(e, sqlite3.Error | OSError) and fs.cause_of(e) is not None:
            # the stage's file could not grow (a full disk, a folder gone read-only): said in the user's words
            raise fs.write_error("فایل موقت بررسی", "The dry run's work file", e) from e
        raise
    return report


def _analyse_into(report: Report, mapper: _Mapper, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    table, stage = report.table, report.stage
    total = table.row_count
    settings.area_code()  # warm the settings cache before the loop
    batch: list[_Pending] = []
    done: list[RowResult] = []         # rows with nothing to check (padding notes, totals rows)
    n = 0
    validate = cs.validate

    def flush() -> None:
        if batch:
            _check_batch(batch, stage)
        results = sorted([p.rr for p in batch] + done, key=lambda r: r.row)
        stage.put(results)
        for r in results:
            report._problems.extend(r.problems)
        batch.clear()
        done.clear()

    quick = QuickRows(mapper)
    totals_of: dict[tuple[str, str, str], bool] = {}
    person_of: dict[tuple[str, str, str], tuple] = {}
    pending: list[tuple[int, list[Any]]] = []      # read, not yet checked (one batch at most)

    def check_pending() -> None:
        answers = quick.rows([row for _n, row in pending]) if quick.usable else [None] * len(pending)
        for (row_no, row), got in zip(pending, answers, strict=True):
            if got is None:
                check_row(row_no, row)
                continue
            # a plain row, cleaned and checked on the quick path: the answer check_row() gives, sooner
            names, clean_d = got
            totals = totals_of.get(names)
            if totals is None:
                totals = totals_of[names] = _is_totals_row(dict(zip(("first_name", "last_name", "company"), names,
                                                                    strict=True)), row)
            if totals:
                done.append(RowResult(row_no, None, [Problem(
                    row_no, "warning", "ردیف جمع (جمع کل) است، نه مشتری؛ وارد نشد.")]))
                continue
            canon = [p["canonical"] for p in clean_d["phones"]]
            nid = clean_d["national_id"]
            key = (clean_d["first_name"], clean_d["last_name"], clean_d["company"])
            person = person_of.get(key)
            if person is None:
                person = person_of[key] = _person_of(clean_d)
            rr = RowResult(row_no, clean_d, [], keys=(tuple(canon), nid))
            batch.append(_Pending(rr, canon, nid, person, _fingerprint(clean_d) if not canon and not nid else ()))
        pending.clear()

    def check_row(row_no: int, row: list[Any]) -> None:
        d, problems = mapper.build(row_no, row)
        if all(not v for k, v in d.items() if k not in ("kind", "stage")) and not d["phones"] and not problems:
            # Nothing in the imported columns. A row with only its «ردیف» number is padding; anything else
            # (a column left as «وارد نشود», a note far to the side) is listed so no row disappears unseen.
            if _has_unmapped_data(table, row):
                done.append(RowResult(row_no, None, [Problem(
                    row_no, "warning", "در ستون‌هایی که وارد می‌شوند چیزی ندارد؛ این ردیف وارد نشد.")]))
            return
        if _is_totals_row(d, row):
            done.append(RowResult(row_no, None, [Problem(
                row_no, "warning", "ردیف جمع (جمع کل) است، نه مشتری؛ وارد نشد.")]))
            return
        rr = RowResult(row_no, None, problems)
        # The mapper resolved the user from the users table already; validate() would look it up once per row.
        assigned = d.pop("assigned_to", None)
        try:
            clean_d = validate(d)
            clean_d["assigned_to"] = assigned
        except ValidationError as e:
            rr.problems.extend(mapper.problems_of(row_no, e.errors, d))
            clean_d = None
        rr.data = clean_d
        src = clean_d or d
        canon = [p["canonical"] for p in clean_d["phones"]] if clean_d else []
        nid = clean_d["national_id"] if clean_d else ""
        rr.keys = (tuple(canon), nid)
        fp = _fingerprint(src) if not canon and not nid else ()
        batch.append(_Pending(rr, canon, nid, _person_of(src), fp))

    for row_no, row in table.iter_data_rows():
        n += 1
        if n % BATCH == 0:
            check_pending()
            flush()
            quick.refresh()
            if len(totals_of) > MEMO_LIMIT:
                totals_of.clear()
                person_of.clear()
            if cancel and cancel():
                raise UserError("بررسی فایل لغو شد.")
            if progress:
                progress(min(n, total), max(total, n))
        pending.append((row_no, row))
    check_pending()
    flush()
    if table.streamed and table.xlsx is not None:
        table.take_formula_cells(table.xlsx.uncached_formulas)
    _formula_problems(report)
    if progress:
        progress(n, n)
    if not stage.count():
        raise UserError(f"در برگه «{table.sheet}» ردیفی با داده نیست.")


def _formula_problems(report: Report) -> None:
    """A warning for each cell whose formula has no saved value (read as empty), on its row and column."""
    table = report.table
    report.formula_count = table.formula_count
    if not table.formula_cells:
        return
    listed = {r for r, in report.stage.conn.execute("SELECT row FROM row")} if len(table.formula_cells) < 50_000 \
        else None
    added = []
    for row_no, col in table.formula_cells:
        if listed is not None and row_no not in listed:
            continue
        header = table.headers[col] if col < len(table.headers) else ""
        imported = col < len(table.mapping) and table.mapping[col]
        added.append(Problem(row_no, "warning", "این خانه فرمول دارد ولی مقدار حساب‌شده‌اش در فایل ذخیره نشده است؛ "
                             + ("خالی خوانده شد. فایل را در اکسل باز و ذخیره کنید تا مقدارها حساب شوند."
                                if imported else "این ستون وارد نمی‌شود."),
                             header or f"ستون {to_persian_digits(col + 1)}"))
    report._problems.extend(added)
    report._problems.sort(key=lambda q: q.row)
    report._by_row = None
