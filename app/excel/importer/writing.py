"""The real import: plan every row against the database as it is now (no lock held), then write them all in one
job through the one door for writes (models/writer.py): one transaction, all or nothing, bulk inserts.

The plan is made outside the writer: a ringing phone's call row waits behind the import's write job, so that job
only inserts what was decided already. The decided rows wait in the report's stage (a temporary SQLite file),
so memory stays flat however long the sheet is. On SQLite the write job attaches the stage to the writer's
connection and copies the new customers and their children with INSERT … SELECT (no value passes through Python;
see _copy_create); on PostgreSQL it reads them from the stage a page at a time and sends them (_bulk_create).
"""
from __future__ import annotations

import datetime as dt
import logging
import pickle
import sqlite3
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee as pw

from app.core.clock import now
from app.core.errors import UserError
from app.core.text import to_persian_digits
from app.customers import search
from app.customers import service as cs
from app.excel.importer.checking import (
    BATCH,
    CHILD_TABLES,
    CUSTOMER_VALUES,
    SQL_CHUNK,
    STAGED_COLUMNS,
    Report,
    _existing_of,
    _personal,
    add_children,
    analyse,
    create_child_tables,
    insert_children,
    sparse_gc,
    staged_values,
)
from app.excel.importer.reading import load_table
from models import listcode, statistics
from models.base import db, is_postgres
from models.core import Activity, Address, Customer, CustomerTag, PhoneNumber, Tag
from models.writer import writer

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]

# new customers read from the stage and prepared per page (a larger page saves little and holds more in memory)
WRITE_PAGE = 500
# SQLite: new customers moved from the TEMP copy into the customer table per statement (see _RawInsert). The
# search index behind the table's trigger is flushed to disk once per statement and merges those pieces as they
# pile up: 500 a statement cost a third more than one statement for the whole sheet; 10,000 cost about as much.
# The TEMP copy (in memory) holds that many rows at most.
CUSTOMER_STATEMENT = 10_000

DUPLICATE_CHOICES = {"skip": "وارد نشود", "merge": "با پرونده موجود ادغام شود", "add": "به‌عنوان مشتری جدید"}


@dataclass
class ImportResult:
    created: int = 0
    merged: int = 0
    skipped_duplicates: int = 0
    skipped_invalid: int = 0
    formula_cells: int = 0          # cells whose formula had no saved value (read as empty)
    # the new customers' ids, in the sheet's order (compact: a million ints as a list cost 36 MB, here 8)
    customer_ids: Sequence[int] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        p = to_persian_digits
        parts = [f"{p(self.created)} مشتری تازه"]
        if self.merged:
            parts.append(f"{p(self.merged)} ردیف ادغام با پرونده موجود")
        if self.skipped_duplicates:
            parts.append(f"{p(self.skipped_duplicates)} ردیف تکراری وارد نشد")
        if self.skipped_invalid:
            parts.append(f"{p(self.skipped_invalid)} ردیف خطادار وارد نشد")
        text = "، ".join(parts) + "."
        if self.formula_cells:
            text += (f" {p(self.formula_cells)} خانه فرمول داشت بی مقدار ذخیره‌شده و خالی وارد شد "
                     "(فایل را در اکسل باز و ذخیره کنید تا مقدارها حساب شوند).")
        return text


class ImportCancelled(UserError):
    def __init__(self):
        super().__init__("ورود اطلاعات لغو شد؛ چیزی ذخیره نشد.")


def _merge_data(into: dict, extra: dict) -> None:
    """Fold a duplicate row's validated data into an earlier row's (empty fields filled, lists united)."""
    for f in cs.TEXT_FIELDS + ("birthday", "anniversary", "assigned_to"):
        if not into.get(f) and extra.get(f):
            into[f] = extra[f]
    have = {p["canonical"] for p in into["phones"]}
    for p in extra["phones"]:
        if p["canonical"] not in have:
            into["phones"].append(dict(p, is_primary=False))
            have.add(p["canonical"])
    for t in extra["tags"]:
        if t not in into["tags"]:
            into["tags"].append(t)
    lines = {(a["city"], a["line"]) for a in into["addresses"]}
    for a in extra["addresses"]:
        if (a["city"], a["line"]) not in lines:
            into["addresses"].append(a)


def _merge_into_existing(cid: int, d: dict, row_no: int, source: str, user: int | None) -> None:
    from app.customers import timeline

    c = Customer.get_by_id(cid)
    changed = []
    for f in cs.TEXT_FIELDS + ("birthday", "anniversary"):
        if f == "status":
            continue
        if not getattr(c, f) and d.get(f):
            setattr(c, f, d[f])
            changed.append(f)
    if not c.assigned_to_id and d.get("assigned_to"):
        c.assigned_to = d["assigned_to"]
        changed.append("assigned_to")
    if d["stage"] == "actual" and c.stage != "actual":
        c.stage = "actual"
    c.updated_at = now()
    c.save()
    have = {p.canonical for p in c.phones}
    has_primary = any(p.is_primary for p in c.phones)
    for p in d["phones"]:
        if p["canonical"] not in have:
            PhoneNumber.create(customer=cid, label=p["label"], raw=p["raw"], canonical=p["canonical"],
                               tail=p["tail"], extension=p.get("extension", ""), is_primary=not has_primary)
            has_primary = True
            have.add(p["canonical"])
            changed.append("phone")
    lines = {(a.city, a.line) for a in c.addresses}
    for a in d["addresses"]:
        if (a["city"], a["line"]) not in lines:
            Address.create(customer=cid, **a)
            changed.append("address")
    have_tags = {t.tag.name for t in c.tag_links.join(Tag)}
    for name in d["tags"]:
        if name not in have_tags:
            CustomerTag.create(customer=cid, tag=cs.get_or_create_tag(name).id)
            changed.append("tag")
    cs.refresh_keys(c)
    timeline.record(cid, "imported", f"اطلاعات ردیف {to_persian_digits(row_no)} فایل «{source}» به این پرونده "
                                     "افزوده شد.", "customer", cid, data={"fields": sorted(set(changed))},
                    user=user)


class _Plan:
    """What the import will do, decided before the write job: new customers (the stage's ``new`` table, in row
    order, ``seq`` their place: the row as staged, or its data when later rows were folded into it), rows folded
    into existing customers (``merge``), the tags to create. ``finish()`` sets the folded rows' data aside as
    staged values (the ``fold_*`` tables, laid out as the staged rows), so the write reads plain values only."""

    def __init__(self, report: Report):
        self.stage = report.stage
        con = self.stage.conn
        for t in ("new", "merge", "fold_row", *(f"fold_{name}" for name, _cols in CHILD_TABLES)):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        con.execute("CREATE TABLE new (seq INTEGER PRIMARY KEY, row INTEGER NOT NULL UNIQUE, data BLOB)")
        con.execute("CREATE TABLE merge (seq INTEGER PRIMARY KEY, customer INTEGER NOT NULL, row INTEGER NOT NULL)")
        con.execute(f"CREATE TABLE fold_row (row INTEGER PRIMARY KEY, name TEXT, {STAGED_COLUMNS})")
        create_child_tables(con, "fold_")
        self.tags: set[str] = set()
        self.new_count = 0
        self.merge_count = 0
        self.folded = 0                          # new customers whose data took in later rows (see finish())
        self._new: dict[int, dict | None] = {}   # this batch's new rows (None: as the dry run left them)
        self._merge: list[tuple[int, int]] = []

    def add_new(self, row: int) -> None:
        self._new[row] = None
        self.new_count += 1

    def add_merge(self, cid: int, row: int) -> None:
        self._merge.append((cid, row))
        self.merge_count += 1

    def checked_data(self, row: int) -> dict:
        return self.stage.data_of([row])[row]

    def fold_into_new(self, target: int, d: dict) -> None:
        """A later row of the same new customer: its data joins the earlier row's."""
        con = self.stage.conn
        if target in self._new:
            into = self._new[target]
            if into is None:
                into = self._new[target] = self.checked_data(target)
            _merge_data(into, d)
            return
        blob = con.execute("SELECT data FROM new WHERE row = ?", (target,)).fetchone()[0]
        into = self.checked_data(target) if blob is None else pickle.loads(blob)
        _merge_data(into, d)
        con.execute("UPDATE new SET data = ? WHERE row = ?", (pickle.dumps(into, 5), target))

    def flush(self) -> None:
        con = self.stage.conn
        con.execute("BEGIN")
        # in row order: a new customer's seq is its place among them (its id is the first id + seq - 1)
        con.executemany("INSERT INTO new (row, data) VALUES (?, ?)",
                        [(r, None if d is None else pickle.dumps(d, 5)) for r, d in sorted(self._new.items())])
        con.executemany("INSERT INTO merge (customer, row) VALUES (?, ?)", self._merge)
        con.execute("COMMIT")
        self._new.clear()
        self._merge.clear()

    def finish(self) -> None:
        """After the last flush: the folded rows' data as staged values, and the tags the new customers use."""
        con = self.stage.conn
        con.execute("BEGIN")
        last = 0
        while True:
            page = con.execute(f"SELECT row, data FROM new WHERE row > ? AND data IS NOT NULL ORDER BY row "
                               f"LIMIT {BATCH}", (last,)).fetchall()
            if not page:
                break
            rows: list[tuple] = []
            children: tuple[list[tuple], list[tuple], list[tuple]] = ([], [], [])
            for row, blob in page:
                name, values, phones, addresses, tags = staged_values(pickle.loads(blob))
                rows.append((row, name, *values))
                add_children(children, row, phones, addresses, tags)
                self.tags.update(tags)
            con.executemany(f"INSERT INTO fold_row VALUES ({', '.join('?' * (len(CUSTOMER_VALUES) + 2))})", rows)
            insert_children(con, children, "fold_")
            self.folded += len(page)
            last = page[-1][0]
        con.execute("COMMIT")
        self.tags.update(t for t, in con.execute(
            "SELECT DISTINCT t.name FROM new n JOIN tag t ON t.row = n.row WHERE n.data IS NULL"))

    def new_pages(self, size: int = BATCH) -> Iterator[_Page]:
        """The new customers in row order, a page at a time, each with its phones, addresses and tags."""
        con = self.stage.conn
        cols = ", ".join(f"r.c_{c}" for c in CUSTOMER_VALUES)
        children = [(name, ", ".join(f"c.{c}" for c in names)) for name, names in CHILD_TABLES]
        last = 0
        while True:
            page = con.execute(f"SELECT n.row, n.data IS NOT NULL, r.name, {cols} FROM new n "
                               f"JOIN row r ON r.row = n.row WHERE n.row > ? ORDER BY n.row LIMIT {size}",
                               (last,)).fetchall()
            if not page:
                return
            out = _Page()
            first, final = page[0][0], page[-1][0]
            folded = {row for row, was_folded, *_ in page if was_folded}
            if folded:
                marks = ",".join("?" * len(folded))
                values_of = {row: (name, values) for row, name, *values in con.execute(
                    f"SELECT row, name, {STAGED_COLUMNS} FROM fold_row WHERE row IN ({marks})", sorted(folded))}
            out.customers.extend((row, *values_of[row]) if row in folded else (row, name, values)
                                 for row, _f, name, *values in page)
            for (name, cols_c), into in zip(children, (out.phones, out.addresses, out.tags), strict=True):
                # the plain rows' children and the folded rows' own, merged in (row, seq) order
                got = con.execute(
                    f"SELECT c.row, c.seq, {cols_c} FROM new n JOIN {name} c ON c.row = n.row "
                    "WHERE n.row BETWEEN ? AND ? AND n.data IS NULL "
                    f"UNION ALL SELECT c.row, c.seq, {cols_c} FROM new n JOIN fold_{name} c ON c.row = n.row "
                    "WHERE n.row BETWEEN ? AND ? AND n.data IS NOT NULL ORDER BY 1, 2",
                    (first, final, first, final)).fetchall()
                into.extend((row, *v) for row, _seq, *v in got)
            yield out
            last = final

    def merges(self):
        last = 0
        while True:
            page = self.stage.conn.execute(
                f"SELECT seq, customer, row FROM merge WHERE seq > ? ORDER BY seq LIMIT {BATCH}", (last,)).fetchall()
            if not page:
                return
            rows = [r for _seq, _cid, r in page]
            data = self.stage.data_of(rows)
            for _seq, cid, row in page:
                yield cid, row, data[row]
            last = page[-1][0]


@dataclass
class _Page:
    """A page of new customers as they are written: (row, display name, CUSTOMER_VALUES) each, and their phones,
    addresses and tags as (row, values…), in row order."""
    customers: list[tuple[int, str, Sequence[Any]]] = field(default_factory=list)
    phones: list[tuple] = field(default_factory=list)
    addresses: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)


def _live_customers(ids: set[int]) -> set[int]:
    out: set[int] = set()
    ids_l = sorted(ids)
    for lo in range(0, len(ids_l), SQL_CHUNK):
        q = Customer.select(Customer.id).where(Customer.id.in_(ids_l[lo:lo + SQL_CHUNK]), Customer.merged_into.is_null())
        out.update(c for c, in q.tuples())
    return out


def _make_plan(report: Report, duplicates: str, result: ImportResult, cancel: CancelFn | None) -> _Plan:
    """Decide each row (re-checked against the database as it is now: someone may have added customers since
    the dry run). Reads only: no write lock is held."""
    plan = _Plan(report)
    con = report.stage.conn
    # the rows that later rows name as their earlier twin: only their targets need remembering
    referenced = {r for r, in con.execute("SELECT DISTINCT dup_row FROM row WHERE dup_row IS NOT NULL")}
    invalid_referenced = {r for r, in con.execute(
        "SELECT row FROM row WHERE status = 'error' AND row IN (SELECT dup_row FROM row)")}
    target_of_row: dict[int, tuple[str, int]] = {}   # row → ("new", row) | ("existing", customer id)
    page: list[tuple] = []

    def decide(page: list[tuple]) -> None:
        canon = {c for r in page for c in r[5][0]}
        nids = {r[5][1] for r in page if r[5][1]}
        existing_phones, existing_nids = _existing_of(canon, nids)
        live = _live_customers({r[2] for r in page if r[2] is not None and not r[5][0] and not r[5][1]})
        for row, _status, dup_customer, _name, dup_row, keys, _data in page:
            canon_r, nid = keys
            existing = next((existing_phones[c] for c in canon_r if c in existing_phones
                             and (_personal(c) or existing_phones[c] == dup_customer)), None)
            if existing is None and nid:
                existing = existing_nids.get(nid)
            if existing is None and not canon_r and not nid and dup_customer in live:
                existing = dup_customer          # a name-only row matching a customer by name
            if existing is not None and duplicates != "add":
                if duplicates == "skip":
                    result.skipped_duplicates += 1
                else:
                    plan.add_merge(existing, row)
                    if row in referenced:
                        target_of_row[row] = ("existing", existing)
                continue
            if dup_row is not None and duplicates != "add" and dup_row in target_of_row:
                if duplicates == "skip":
                    result.skipped_duplicates += 1
                    continue
                kind, target = target_of_row[dup_row]
                if kind == "new":
                    plan.fold_into_new(target, plan.checked_data(row))
                    result.merged += 1
                else:
                    plan.add_merge(target, row)
                if row in referenced:
                    target_of_row[row] = (kind, target)
                continue
            if dup_row is not None and duplicates == "skip" and dup_row not in invalid_referenced:
                result.skipped_duplicates += 1
                continue            # (the twin of a row left out for its errors is not a duplicate of anything)
            plan.add_new(row)
            if row in referenced:
                target_of_row[row] = ("new", row)
        plan.flush()

    for item in report.stage.rows("status IN ('ok', 'duplicate')", raw=True):
        page.append(item)
        if len(page) >= BATCH:
            decide(page)
            page = []
            if cancel and cancel():
                raise ImportCancelled()
    decide(page)
    plan.finish()
    result.merged += plan.merge_count
    return plan


def import_rows(report: Report, duplicates: str = "skip", skip_invalid: bool = False, user: int | None = None,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> ImportResult:
    """Write the report's rows in one transaction: all of them or none."""
    if duplicates not in DUPLICATE_CHOICES:
        raise UserError("برای ردیف‌های تکراری یکی از «وارد نشود»، «ادغام» یا «مشتری جدید» را انتخاب کنید.")
    errors = report.errors
    n_errors = len(errors)
    if n_errors and not skip_invalid:
        first_error = next(iter(errors))
        first = first_error.problems[0].text() if first_error.problems else ""
        raise UserError(f"{to_persian_digits(n_errors)} ردیف خطا دارد؛ هیچ ردیفی وارد نشد. "
                        f"خطاها را در فایل درست کنید یا «ردیف‌های خطادار وارد نشوند» را انتخاب کنید. ({first})")
    result = ImportResult(skipped_invalid=n_errors, formula_cells=report.formula_count)
    source = Path(report.table.path).name
    with sparse_gc():
        plan = _make_plan(report, duplicates, result, cancel)
        # the write: one job through the one door, one transaction (BEGIN IMMEDIATE on SQLite: it waits its turn)
        try:
            writer.run(_write, plan, source, now(), user, result, progress, cancel)
        except BaseException:
            # rolled back: the writer's connection lets go of the stage in a job of its own (when committed, it
            # did so right after the commit, see _copy_create)
            if not is_postgres():
                try:
                    if not writer.run(_detach_stage):
                        logger.warning("the import's stage stayed attached to the writer's connection")
                except Exception:  # the import's own error is what the caller gets, not this one
                    logger.warning("the import's stage stayed attached to the writer's connection", exc_info=True)
            raise
    logger.info("import from %s: %s", source, result)
    if result.created:
        statistics.refresh(wait=False)         # thousands of new customers: the planner's figures are stale
    return result


def _write(plan: _Plan, source: str, stamp: dt.datetime, user: int | None, result: ImportResult,
           progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    created: array[int] = array("q")
    try:
        if not (_copies_with_sql() and _copy_create(plan, source, stamp, user, created, progress, cancel)):
            _bulk_create(plan, source, stamp, user, created, progress, cancel)
        for n, (cid, row_no, d) in enumerate(plan.merges(), 1):
            if cancel and n % 50 == 0 and cancel():
                raise ImportCancelled()
            _merge_into_existing(cid, d, row_no, source, user)
        result.customer_ids = created
        result.created = len(created)
        _audit(source, user, result)
    except BaseException:
        result.customer_ids = []
        result.created = 0
        raise


def _audit(source: str, user: int | None, result: ImportResult) -> None:
    """One entry in the office's audit log for the whole import (not one per row), in the import's own
    transaction: the rows and their entry are written together or not at all."""
    from app.office import audit

    p = to_persian_digits
    skipped = result.skipped_duplicates + result.skipped_invalid
    summary = (f"ورود مشتریان از فایل «{source}»: {p(result.created)} مشتری تازه، {p(result.merged)} ردیف ادغام با "
               f"پرونده موجود، {p(skipped)} ردیف وارد نشد")
    if result.skipped_invalid:
        summary += f" ({p(result.skipped_invalid)} ردیف خطادار)"
    audit.record("import", "customers", None, summary,
                 {"file": [None, source], "added": [None, result.created], "updated": [None, result.merged],
                  "skipped": [None, skipped], "skipped_duplicates": [None, result.skipped_duplicates],
                  "skipped_invalid": [None, result.skipped_invalid]}, user_id=user)


# SQLite: the new customers and their children are copied from the stage by SQLite itself (INSERT … SELECT from
# the stage file attached to the writer's connection), no value passing through Python. False: through Python,
# as on PostgreSQL (the tests compare both).
SQL_COPY = True
# the stage's name on the writer's connection while the import's write job runs
STAGE_ALIAS = "import_stage"


def _copies_with_sql() -> bool:
    """The SQLite copy, for a write job that is its own transaction: a stage attached inside an enclosing
    transaction could not be detached when the job ends (the enclosing one still holds it)."""
    return SQL_COPY and not is_postgres() and db.transaction_depth() == 1


def _detach_stage() -> bool:
    """The writer's connection lets go of the stage, outside the transaction that read it (DETACH is refused
    there), or in a later one. False when SQLite refused."""
    con = db.connection()
    if any(name == STAGE_ALIAS for _seq, name, _file in con.execute("PRAGMA database_list").fetchall()):
        try:
            con.execute(f"DETACH DATABASE {STAGE_ALIAS}")
        except sqlite3.OperationalError:
            return False
    return True


def _detach_after_commit() -> None:
    """Run by peewee right after the import's transaction commits (on the writer's thread, no transaction open):
    must not raise, the import is stored."""
    try:
        if not _detach_stage():
            logger.warning("the import's stage stayed attached to the writer's connection")
    except Exception:  # the commit happened; a stage left attached is let go by the next import
        logger.warning("the import's stage stayed attached to the writer's connection", exc_info=True)


def _persian_digits_sql(expr: str) -> str:
    """SQL for to_persian_digits() of an integer expression."""
    out = f"CAST({expr} AS TEXT)"
    for d in range(10):
        out = f"replace({out}, '{d}', '{to_persian_digits(d)}')"
    return out


class _CopySql:
    """The statements that copy one stretch of new customers (seq :lo … :hi) from the attached stage, each in row
    order and each child in its row's order, so every id is the one the Python path gives. A customer's id is
    its seq + :off. Folded rows (see _Plan.finish) are read from the fold_* tables, the others from the rows
    the dry run staged."""

    def __init__(self, folded: bool):
        def insert(model, columns: tuple[str, ...], picks: list[str], table: str, join: str = "") -> str:
            """INSERT into ``model``'s ``columns`` of ``picks`` (expressions over the new customer ``n`` and its
            staged ``table`` row ``c``), in the order of n.seq (and c.seq for a child table)."""
            fields = model._meta.fields
            names = ", ".join(f'"{fields[c].column_name}"' for c in columns)
            head = f'INSERT INTO main."{model._meta.table_name}" ({names}) '
            keys = ["n.seq"] + (["c.seq"] if table != "row" else [])

            def select(source: str, plain: bool) -> str:
                return (f"FROM {STAGE_ALIAS}.new n JOIN {STAGE_ALIAS}.{source} c ON c.row = n.row{join} "
                        f"WHERE n.seq BETWEEN :lo AND :hi AND n.data IS {'NULL' if plain else 'NOT NULL'}")

            if not folded:      # one table in order: nothing to sort
                return f"{head}SELECT {', '.join(picks)} {select(table, True)} ORDER BY {', '.join(keys)}"
            named = ", ".join([*(f"{k} AS o{i}" for i, k in enumerate(keys)),
                               *(f"{e} AS x{i}" for i, e in enumerate(picks))])
            return (f"{head}SELECT {', '.join(f'x{i}' for i in range(len(picks)))} FROM ("
                    f"SELECT {named} {select(table, True)} UNION ALL SELECT {named} {select('fold_' + table, False)}"
                    f") ORDER BY {', '.join(f'o{i}' for i in range(len(keys)))}")

        cid = "n.seq + :off"
        self.customer = insert(Customer, ("id", *_CUSTOMER_COLS),
                               [cid, *(f"c.c_{c}" for c in CUSTOMER_VALUES), ":user", ":at", ":at"], "row")
        self.children = []
        for (table, cols), model in zip(CHILD_TABLES, (PhoneNumber, Address, CustomerTag), strict=True):
            if table == "tag":
                # a tag's name → its id (each is stored as staged: see _copy_create)
                self.children.append(insert(model, ("customer", "tag"), [cid, "m.id"], table,
                                            ' JOIN main."tag" m ON m.name = c.name'))
            else:
                self.children.append(insert(model, ("customer", *cols), [cid, *(f"c.{c}" for c in cols)], table))
        # «پرونده «نام» از ردیف ۱۲ فایل «…» وارد شد.», as the Python path writes it
        self.activity = insert(Activity, ("customer", "at", "kind", "user", "summary", "ref_table", "ref_id", "data"),
                               [cid, ":act_at", ":kind", ":user",
                                f":before || c.name || :middle || {_persian_digits_sql('n.row')} || :after",
                                ":ref_table", cid, ":data"], "row")


def _copy_create(plan: _Plan, source: str, stamp: dt.datetime, user: int | None, created: array[int],
                 progress: ProgressFn | None, cancel: CancelFn | None) -> bool:
    """SQLite: the new customers, their phones, addresses, tags and timeline entries copied from the stage with
    INSERT … SELECT, CUSTOMER_STATEMENT customers a statement (see there), the write lock held by this job's
    transaction as on the Python path. What is stored is what _bulk_create stores (tests compare the two).
    False (nothing written but the tags): the Python path is to do it (a tag stored under another spelling than
    staged, or the stage of an earlier import still attached and not to be let go)."""
    if not _detach_stage():          # (an earlier import's stage, if it was left attached)
        return False
    # a staged tag name is found in the tag table by its name (unique): each is stored as staged (it was
    # cleaned by the check), else the Python path maps it
    if any(cs.get_or_create_tag(t).name != t for t in sorted(plan.tags)):
        return False
    # No TEMP table is made in this transaction: with one, the next BEGIN IMMEDIATE on this connection also
    # locks the stage and _detach_stage could not let it go.
    db.execute_sql(f"ATTACH DATABASE ? AS {STAGE_ALIAS}", (plan.stage.path,))
    db.after_commit(_detach_after_commit)
    sql = _CopySql(bool(plan.folded))
    params: dict[str, Any] = {
        "user": user, "at": _db_ready(Customer.created_at, stamp), "act_at": _db_ready(Activity.at, stamp),
        "kind": "imported", "before": "پرونده «", "middle": "» از ردیف ", "after": f" فایل «{source}» وارد شد.",
        "ref_table": "customer", "data": ""}
    total = plan.new_count
    # The search index is given each statement's customers at once, in its own order (models.listcode): its
    # insert trigger is paused in this transaction and set going again before it ends.
    indexed = search.has_fts()
    if indexed:
        db.execute_sql(listcode.PAUSE)
    for lo in range(1, total + 1, CUSTOMER_STATEMENT):
        if cancel and cancel():
            raise ImportCancelled()
        hi = min(total, lo + CUSTOMER_STATEMENT - 1)
        first_id = db.execute_sql('SELECT COALESCE(MAX(id), 0) + 1 FROM main."customer"').fetchall()[0][0]
        params.update(lo=lo, hi=hi, off=first_id - lo)
        copied = db.execute_sql(sql.customer, params).rowcount
        if copied != hi - lo + 1:
            raise RuntimeError(f"import: {copied} customers copied for {hi - lo + 1}")
        if indexed:
            db.execute_sql(listcode.fill(f"id BETWEEN {first_id} AND {first_id + hi - lo}"))
        for statement in sql.children:
            db.execute_sql(statement, params)
        db.execute_sql(sql.activity, params)
        created.extend(range(first_id, first_id + hi - lo + 1))
        if progress:
            progress(hi, total)
    if indexed:
        db.execute_sql(listcode.RESUME)
    return True


def _db_ready(field: pw.Field, value):
    """``value`` as the driver receives it from peewee for ``field``: its db_value(), and on SQLite the
    adapter the sqlite3 module would apply to it (a date or datetime becomes its ISO text). For values the import
    writes on every row, converted once."""
    if value is None:
        return None
    value = field.db_value(value)
    if not is_postgres():
        adapt = sqlite3.adapters.get((type(value), sqlite3.PrepareProtocol))
        if adapt is not None:
            value = adapt(value)
    return value


class _RawInsert:
    """INSERT through the driver's cursor with plain parameters: peewee's insert_many builds a node per value,
    which costs more than the import's whole checking for 50,000 rows. The rows come ready: each value as
    peewee would hand it to the driver (see _db_ready), so what is stored is what peewee would store."""

    def __init__(self, model, columns: list[str]):
        self.fields = [model._meta.fields[c] for c in columns]
        q0, q1 = db.quote if hasattr(db, "quote") else ('"', '"')
        names = self.names = ", ".join(f"{q0}{f.column_name}{q1}" for f in self.fields)
        params = self.params = ", ".join([db.param] * len(self.fields))
        self.table = model._meta.table_name
        self.sql = f"INSERT INTO {q0}{self.table}{q1} ({names}) VALUES ({params})"
        # PostgreSQL: one multi-row statement per page (psycopg2's executemany sends a statement per row)
        self.pg_sql = f"INSERT INTO {q0}{self.table}{q1} ({names}) VALUES %s"
        self.pg_sql_with_id = f"INSERT INTO {q0}{self.table}{q1} (id, {names}) VALUES %s"
        self.next_id: int | None = None     # SQLite: the id the next row held in the TEMP copy gets
        self.held = 0                       # SQLite: rows in the TEMP copy, not yet in the table

    def many(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if is_postgres():
            from psycopg2.extras import execute_values

            execute_values(db.cursor(), self.pg_sql, rows, page_size=1000)
        else:
            db.cursor().executemany(self.sql, rows)

    def many_with_new_ids(self, rows: list[tuple]) -> list[int]:
        """Rows that need their new ids back, in order. PostgreSQL: the ids are drawn from the table's sequence
        first and the rows inserted with them (safe beside other desks inserting at the same time). SQLite: the
        ids after the largest, and the rows only held in a TEMP copy of the table until ``move()``."""
        if not rows:
            return []
        if is_postgres():
            from psycopg2.extras import execute_values

            cur = db.execute_sql("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                 (self.table, len(rows)))
            ids = [r[0] for r in cur.fetchall()]
            execute_values(db.cursor(), self.pg_sql_with_id,
                           [(i, *r) for i, r in zip(ids, rows, strict=True)], page_size=1000)
            return ids
        # SQLite: the write lock is ours for the whole transaction (BEGIN IMMEDIATE), so the next ids are
        # max(id)+1… (what SQLite itself would give a rowid table). They go first into a TEMP copy of the table
        # (executemany, no indexes, no triggers), then into the table with one INSERT … SELECT (move()): a table
        # with a full-text index behind a trigger (customer) has that index flushed at every statement, so one
        # statement per many rows instead of one per row makes the whole write three times cheaper.
        temp = f"import_{self.table}"
        cur = db.cursor()
        if self.next_id is None:
            cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" AS SELECT id, {self.names} '
                        f'FROM main."{self.table}" WHERE 0')
            cur.execute(f'DELETE FROM temp."{temp}"')
        if not self.held:
            self.next_id = db.execute_sql(f'SELECT COALESCE(MAX(id), 0) FROM main."{self.table}"').fetchone()[0] + 1
        start = self.next_id
        assert start is not None
        new_ids = range(start, start + len(rows))
        cur.executemany(f'INSERT INTO temp."{temp}" (id, {self.names}) VALUES ({db.param}, {self.params})',
                        [(i, *r) for i, r in zip(new_ids, rows, strict=True)])
        self.next_id = start + len(rows)
        self.held += len(rows)
        return list(new_ids)

    def move(self) -> None:
        """SQLite: the rows held in the TEMP copy go into the table, in one statement."""
        if is_postgres() or not self.held:
            return
        temp = f"import_{self.table}"
        db.execute_sql(f'INSERT INTO main."{self.table}" (id, {self.names}) SELECT id, {self.names} '
                       f'FROM temp."{temp}" ORDER BY id')
        db.cursor().execute(f'DELETE FROM temp."{temp}"')
        self.held = 0


_CUSTOMER_COLS = [*CUSTOMER_VALUES, "created_by", "created_at", "updated_at"]
_DATE_AT = (CUSTOMER_VALUES.index("birthday"), CUSTOMER_VALUES.index("anniversary"))


def _bulk_create(plan: _Plan, source: str, stamp: dt.datetime, user: int | None, created: array[int],
                 progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    tag_ids = {t: cs.get_or_create_tag(t).id for t in sorted(plan.tags)}
    ins_customer = _RawInsert(Customer, _CUSTOMER_COLS)
    ins_phone = _RawInsert(PhoneNumber, ["customer", "label", "raw", "canonical", "tail", "extension", "is_primary"])
    ins_address = _RawInsert(Address, ["customer", "label", "province", "city", "line", "postal_code"])
    ins_tag = _RawInsert(CustomerTag, ["customer", "tag"])
    ins_act = _RawInsert(Activity, ["customer", "at", "kind", "user", "summary", "ref_table", "ref_id", "data"])
    # the values every row shares, converted once (see _db_ready); the staged ones are as peewee would hand
    # them to SQLite (dates as ISO text), and on PostgreSQL the dates become dates again
    created_at = _db_ready(Customer.created_at, stamp)
    customer_tail = (user, created_at, created_at)
    act_at = _db_ready(Activity.at, stamp)
    pg = is_postgres()
    persian = to_persian_digits
    # SQLite: the children go in after their customers have left the TEMP copy (their foreign keys are checked)
    per_statement = WRITE_PAGE if pg else CUSTOMER_STATEMENT
    phones: list[tuple] = []
    addresses: list[tuple] = []
    links: list[tuple] = []
    acts: list[tuple] = []

    def move() -> None:
        ins_customer.move()
        for ins, rows in ((ins_phone, phones), (ins_address, addresses), (ins_tag, links), (ins_act, acts)):
            ins.many(rows)
            rows.clear()

    total = plan.new_count
    done = 0
    for page in plan.new_pages(WRITE_PAGE):
        if cancel and cancel():
            raise ImportCancelled()
        rows = [(*values, *customer_tail) for _row, _name, values in page.customers]
        if pg:
            rows = [_pg_dates(r) for r in rows]
        ids = ins_customer.many_with_new_ids(rows)
        cid_of = dict(zip((row for row, _n, _v in page.customers), ids, strict=True))
        phones.extend((cid_of[row], label, raw, canonical, tail, ext, bool(primary))
                      for row, label, raw, canonical, tail, ext, primary in page.phones)
        addresses.extend((cid_of[row], *a) for row, *a in page.addresses)
        links.extend((cid_of[row], tag_ids[name]) for row, name in page.tags)
        acts.extend((cid, act_at, "imported", user, f"پرونده «{name}» از ردیف {persian(row)} فایل «{source}» وارد شد.",
                     "customer", cid, "") for cid, (row, name, _v) in zip(ids, page.customers, strict=True))
        created.extend(ids)
        done += len(page.customers)
        if ins_customer.held >= per_statement or done >= total or pg:
            move()
        if progress:
            progress(done, total)
    move()


def _pg_dates(row: tuple) -> tuple:
    """PostgreSQL: a staged customer row's dates (ISO text) as dates, what peewee hands psycopg2."""
    if row[_DATE_AT[0]] is None and row[_DATE_AT[1]] is None:
        return row
    out = list(row)
    for i in _DATE_AT:
        if out[i] is not None:
            out[i] = dt.date.fromisoformat(out[i])
    return tuple(out)


def import_file(path: str | Path, sheet: str | None = None, duplicates: str = "skip", skip_invalid: bool = False,
                user: int | None = None) -> tuple[Report, ImportResult]:
    """Read, check and import in one call (the CLI's path)."""
    report = analyse(load_table(path, sheet))
    return report, import_rows(report, duplicates, skip_invalid, user)
