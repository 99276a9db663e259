"""`crm db copy --to postgresql://…`: an office moves its one-desk SQLite database onto a PostgreSQL server.

    report = copy_to_postgres(Path("crm.sqlite3"), "postgresql://crm:secret@server/crm", force=False)

The steps:
1. The SQLite file is opened the ordinary way (migrated to this version if it is older; a safety copy first).
2. The target is checked before anything is written there: reachable (wrong password, unknown database,
   refused connection… each said in Persian), not another program's tables, and empty. A target that already
   holds rows of this program is refused unless `force`; with `force` it is emptied (TRUNCATE) in the same
   transaction as the copy, so a failed copy leaves the old contents in place.
3. The schema is made on the target by running this program's migrations there (the PostgreSQL parts too,
   e.g. the trigram search index), exactly as a desk that opens an empty server would.
4. One transaction: foreign keys and the tables' own triggers are lifted, every table's rows go across in
   batches (COPY … FROM STDIN, in primary-key order), the triggers and foreign keys are put back (PostgreSQL
   re-checks every row against them), each id sequence is set past the largest id, and then every table is
   verified: its row count and an md5 over its rows in primary-key order, each value written out in one canonical
   text form, computed the same way from both sides. Only when every table matches is the transaction committed; any difference rolls it all
   back and names the table. The source is read inside one read transaction (one consistent snapshot).

When it returns, the program's database is the target (the copied office is open).
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from app.core.errors import DatabaseError, UserError

logger = logging.getLogger(__name__)

BATCH = 5000
SKIP_SOURCE_PREFIXES = ("sqlite_", "customer_fts")      # SQLite's own tables, its full-text index
NOT_COPIED = {"schema_migration"}                       # made by the migrations on the target


@dataclass
class TableReport:
    name: str
    rows: int
    checksum: str


@dataclass
class CopyReport:
    target: str
    tables: list[TableReport] = field(default_factory=list)
    seconds: float = 0.0
    emptied: bool = False

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


# --- errors in Persian --------------------------------------------------------------------------------------

def server_error(e: BaseException) -> DatabaseError:
    """A psycopg2 OperationalError (or peewee's wrapper of one) as a Persian message naming the cause."""
    text = str(e).strip()
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low \
            or "password is required" in low:
        fa = "گذرواژه یا نام کاربری سرور PostgreSQL درست نیست. نشانی را بررسی کنید (postgresql://کاربر:گذرواژه@سرور/پایگاه)."
        en = "The PostgreSQL user name or password is wrong. Check the address (postgresql://user:password@server/db)."
    elif "no pg_hba.conf entry" in low:
        fa = ("سرور PostgreSQL به این رایانه اجازه ورود نمی‌دهد. در pg_hba.conf سرور، شبکه دفتر را اضافه کنید "
              "(راهنما در README) و سرویس را دوباره بارگذاری کنید.")
        en = "The PostgreSQL server does not admit this computer; add the office network to its pg_hba.conf (README)."
    elif "database" in low and "does not exist" in low:
        fa = "پایگاه داده‌ای با این نام روی سرور نیست. اول آن را بسازید (createdb؛ راهنما در README)."
        en = "There is no database of that name on the server; create it first (createdb; see the README)."
    elif "role" in low and "does not exist" in low:
        fa = "کاربری با این نام روی سرور PostgreSQL نیست. اول آن را بسازید (createuser؛ راهنما در README)."
        en = "There is no such user on the PostgreSQL server; create it first (createuser; see the README)."
    elif any(k in low for k in ("could not connect", "connection refused", "could not translate host",
                                "timeout expired", "no route to host", "network is unreachable",
                                "name or service not known", "server closed the connection",
                                "connection timed out")):
        fa = ("به سرور PostgreSQL وصل نشد: سرور خاموش است، نشانی یا درگاه (پورت) اشتباه است، یا دیوار آتش "
              "راه را بسته است. نشانی را بررسی کنید و ببینید سرویس PostgreSQL روی سرور روشن است.")
        en = ("Cannot reach the PostgreSQL server: it is off, the address or port is wrong, or a firewall is in "
              "the way. Check the address and that the PostgreSQL service is running.")
    else:
        fa = f"اتصال به سرور PostgreSQL برقرار نشد: {text}"
        en = f"Cannot connect to the PostgreSQL server: {text}"
    return DatabaseError(fa, details=text, en=en)


def _safe(url: str) -> str:
    p = urlparse(url)
    return url.replace(p.password, "***") if p.password else url


# --- values in one canonical form (the checksum) -------------------------------------------------------------

def column_kind(data_type: str) -> str:
    """A PostgreSQL column type (information_schema.columns.data_type) → how its values are compared."""
    t = data_type.lower()
    if t == "boolean":
        return "bool"
    if t in ("integer", "bigint", "smallint"):
        return "int"
    if t in ("real", "double precision"):
        return "float"
    if t == "numeric":
        return "numeric"
    if t.startswith("timestamp"):
        return "timestamp"
    if t == "date":
        return "date"
    if t == "bytea":
        return "bytes"
    return "text"


def canon(value: Any, kind: str) -> str:
    """One text form of a value, the same whether it was read from SQLite or from PostgreSQL."""
    if value is None:
        return "\\N"
    if kind == "bool":
        if isinstance(value, str):
            return "t" if value.strip().lower() in ("1", "t", "true") else "f"
        return "t" if value else "f"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return repr(float(value))
    if kind == "numeric":
        return format(decimal.Decimal(str(value)).normalize(), "f")
    if kind == "timestamp":
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.strip())
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        return str(value)
    if kind == "date":
        if isinstance(value, str):
            value = dt.date.fromisoformat(value.strip()[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.isoformat()
    if kind == "bytes":
        return bytes(value).hex()
    return str(value)


def _copy_text(value: Any, kind: str) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if kind == "bool":
        return canon(value, "bool")
    if kind == "bytes":
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    s = str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Checksum:
    def __init__(self, kinds: list[str]) -> None:
        self.kinds = kinds
        self.md5 = hashlib.md5()
        self.rows = 0

    def add(self, rows: Iterable[tuple]) -> None:
        kinds = self.kinds
        for row in rows:
            self.md5.update(("\t".join(canon(v, k) for v, k in zip(row, kinds, strict=True)) + "\n").encode())
            self.rows += 1

    def hexdigest(self) -> str:
        return self.md5.hexdigest()


# --- the copy ------------------------------------------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Table:
    name: str
    columns: list[str]
    kinds: list[str]
    key: list[str]                     # primary-key columns (ordering)
    has_id_sequence: bool


def _target_state(database) -> tuple[str | None, dict[str, int] | None]:
    """(schema, row counts of the tables there, or None when the schema holds another program's tables)."""
    cur = database.execute_sql("SELECT current_schema()")
    schema = cur.fetchone()[0]
    if schema is None:
        return None, {}
    cur = database.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE'")
    tables = sorted(r[0] for r in cur.fetchall())
    if tables and "schema_migration" not in tables:
        return schema, None
    counts = {}
    for t in tables:
        if t in NOT_COPIED:
            continue
        n = database.execute_sql(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]
        if n:
            counts[t] = n
    return schema, counts


def check_target(url: str) -> tuple[str, dict[str, int]]:
    """Reach the target and look at it without writing: (schema, non-empty tables of this program there).
    Raises DatabaseError when unreachable, without a schema, or holding another program's tables."""
    import peewee as pw

    from models.connection import make_database

    database = make_database(url)
    try:
        database.connect()
    except pw.OperationalError as e:
        raise server_error(e) from e
    try:
        schema, counts = _target_state(database)
    finally:
        database.close()
    if schema is None:
        raise DatabaseError("در پایگاه داده مقصد طرحواره (schema) برای ساختن جدول‌ها انتخاب نشده است؛ "
                            "search_path نشانی را بررسی کنید.",
                            en="No schema is selected on the target to create tables in; check the address's "
                               "search_path.")
    if counts is None:
        raise DatabaseError(
            "پایگاه داده مقصد جدول‌های برنامه دیگری را دارد؛ چیزی در آن نوشته نشد. یک پایگاه داده خالی "
            "(createdb) برای این برنامه بسازید.",
            en="The target database holds another program's tables; nothing was written there. Create an empty "
               "database (createdb) for this program.")
    return schema, counts


def _source_tables(con: sqlite3.Connection) -> dict[str, list[str]]:
    out = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if name.startswith(SKIP_SOURCE_PREFIXES):
            continue
        out[name] = [r[1] for r in con.execute(f"PRAGMA table_info({_q(name)})")]
    return out


def _target_tables(cur, source: dict[str, list[str]]) -> list[_Table]:
    cur.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
    cols: dict[str, list[tuple[str, str]]] = {}
    for t, c, typ in cur.fetchall():
        cols.setdefault(t, []).append((c, typ))
    cur.execute("""SELECT c.relname, a.attname FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                   WHERE i.indisprimary ORDER BY c.relname, array_position(i.indkey, a.attnum)""")
    keys: dict[str, list[str]] = {}
    for t, c in cur.fetchall():
        keys.setdefault(t, []).append(c)
    missing = sorted(t for t in cols if t not in source and t not in NOT_COPIED)
    if missing:
        raise DatabaseError(
            "پایگاه داده SQLite این جدول‌ها را ندارد: " + "، ".join(missing) + ". شاید با نسخه دیگری از برنامه "
            "ساخته شده است؛ چیزی کپی نشد.",
            en="The SQLite database lacks these tables: " + ", ".join(missing) + ". Nothing was copied.")
    tables = []
    for name in sorted(cols):
        if name in NOT_COPIED:
            continue
        target_cols = dict(cols[name])
        extra = [c for c in source[name] if c not in target_cols]
        if extra:
            raise DatabaseError(
                f"ستون‌های {', '.join(extra)} از جدول {name} در مقصد نیست؛ چیزی کپی نشد.",
                en=f"The columns {', '.join(extra)} of table {name} are missing on the target; nothing was copied.")
        use = [c for c in source[name]]
        kinds = [column_kind(target_cols[c]) for c in use]
        key = keys.get(name) or use
        has_seq = "id" in target_cols and key == ["id"]
        tables.append(_Table(name, use, kinds, key, has_seq))
    return tables


def _order_sqlite(t: _Table) -> str:
    return ", ".join(_q(c) for c in t.key)


def _order_pg(t: _Table) -> str:
    parts = []
    for c in t.key:
        kind = t.kinds[t.columns.index(c)] if c in t.columns else "text"
        parts.append(f'{_q(c)} COLLATE "C" NULLS FIRST' if kind == "text" else f"{_q(c)} NULLS FIRST")
    return ", ".join(parts)


def _drop_foreign_keys(cur) -> list[tuple[str, str, str]]:
    cur.execute("""SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con
                   JOIN pg_class c ON c.oid = con.conrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
                   WHERE con.contype = 'f' ORDER BY c.relname, con.conname""")
    fks = cur.fetchall()
    for table, name, _definition in fks:
        cur.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}")
    return fks


def _user_triggers(cur, tables: list[_Table], verb: str) -> None:
    """DISABLE or ENABLE the tables' own triggers (not the foreign keys' system ones) for the copy: the rows
    arrive as the source has them, its kept figures (a document's paid amount, migration 22) included, which a
    trigger would otherwise work out again from tables not yet copied."""
    for t in tables:
        cur.execute(f"ALTER TABLE {_q(t.name)} {verb} TRIGGER USER")


def _restore_foreign_keys(cur, fks: list[tuple[str, str, str]]) -> None:
    import psycopg2

    for table, name, definition in fks:
        try:
            cur.execute("SAVEPOINT fk")
            cur.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
            cur.execute("RELEASE SAVEPOINT fk")
        except psycopg2.IntegrityError as e:
            raise DatabaseError(
                f"در جدول {table} ردیف‌هایی به ردیف‌های نبوده اشاره می‌کنند ({name})؛ کپی انجام نشد و مقصد "
                "دست‌نخورده ماند. پایگاه داده SQLite را بررسی کنید.",
                details=str(e), en=f"Rows of table {table} point at rows that do not exist ({name}); nothing was "
                                   "copied and the target was left as it was.") from e


def _copy_table(src: sqlite3.Connection, cur, t: _Table, batch: int,
                progress: Callable[[str], None] | None) -> int:
    import psycopg2

    cols = ", ".join(_q(c) for c in t.columns)
    rows = src.execute(f"SELECT {cols} FROM {_q(t.name)} ORDER BY {_order_sqlite(t)}")
    kinds = t.kinds
    total = 0
    while True:
        chunk = rows.fetchmany(batch)
        if not chunk:
            break
        buf = io.StringIO()
        for row in chunk:
            buf.write("\t".join(_copy_text(v, k) for v, k in zip(row, kinds, strict=True)))
            buf.write("\n")
        buf.seek(0)
        try:
            cur.copy_expert(f"COPY {_q(t.name)} ({cols}) FROM STDIN", buf)
        except psycopg2.DataError as e:
            raise DatabaseError(
                f"داده‌ای از جدول {t.name} در PostgreSQL جا نمی‌شود (مثلاً متنی بلندتر از اندازه ستون): "
                f"{str(e).splitlines()[0]}. کپی انجام نشد و مقصد دست‌نخورده ماند.",
                details=str(e), en=f"A value of table {t.name} does not fit PostgreSQL ({e}); nothing was copied.") from e
        except psycopg2.Error as e:
            raise DatabaseError(
                f"کپی جدول {t.name} روی سرور پذیرفته نشد: {str(e).splitlines()[0]}. کپی انجام نشد و مقصد "
                "دست‌نخورده ماند.", details=str(e),
                en=f"The server refused table {t.name}: {e}. Nothing was copied; the target was left as it was.") from e
        total += len(chunk)
        if progress is not None and total >= batch:
            progress(f"{t.name}: {total}")
    return total


def _set_sequences(cur, tables: list[_Table]) -> None:
    for t in tables:
        if not t.has_id_sequence:
            continue
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (_q(t.name),))
        seq = cur.fetchone()[0]
        if seq is None:
            continue
        cur.execute(f"SELECT setval(%s, COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {_q(t.name)}", (seq,))


def _checksum_sqlite(src: sqlite3.Connection, t: _Table) -> Checksum:
    c = Checksum(t.kinds)
    cols = ", ".join(_q(x) for x in t.columns)
    cur = src.execute(f"SELECT {cols} FROM {_q(t.name)} ORDER BY {_order_sqlite(t)}")
    while True:
        chunk = cur.fetchmany(BATCH)
        if not chunk:
            break
        c.add(chunk)
    return c


def _checksum_pg(conn, t: _Table) -> Checksum:
    """Read in batches through a server-side cursor (the transaction is peewee's, so psycopg2's named cursors,
    which want their own, are not used)."""
    c = Checksum(t.kinds)
    cols = ", ".join(_q(x) for x in t.columns)
    with conn.cursor() as cur:
        cur.execute(f"DECLARE verify NO SCROLL CURSOR FOR SELECT {cols} FROM {_q(t.name)} ORDER BY {_order_pg(t)}")
        while True:
            cur.execute(f"FETCH {BATCH} FROM verify")
            chunk = cur.fetchall()
            if not chunk:
                break
            c.add(chunk)
        cur.execute("CLOSE verify")
    return c


def copy_to_postgres(source: Path | str, target_url: str, force: bool = False, batch: int = BATCH,
                     progress: Callable[[str], None] | None = None) -> CopyReport:
    """Copy the SQLite database at `source` to the PostgreSQL server at `target_url` (see the module's
    docstring). Returns what went across, table by table; raises UserError with nothing written on failure."""
    from models.connection import close_database, open_database, resolve_url, sqlite_path_of

    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    target_url = (target_url or "").strip()
    if urlparse(target_url).scheme not in ("postgresql", "postgres"):
        raise UserError("مقصد باید نشانی سرور PostgreSQL باشد، مانند postgresql://crm:گذرواژه@server/crm",
                        en="The target must be a PostgreSQL address such as postgresql://crm:password@server/crm")
    source_url = resolve_url(str(source))
    path = sqlite_path_of(source_url)
    if path is None:
        raise UserError("مبدأ کپی باید فایل SQLite باشد (--db مسیر فایل).",
                        en="The source of the copy must be an SQLite file (--db PATH).")
    # 1. The source, brought to this version.
    open_database(source_url, create=False)
    close_database()
    # 2. The target, looked at before anything is written.
    say("بررسی سرور مقصد…")
    _schema, counts = check_target(target_url)
    if counts and not force:
        shown = "، ".join(f"{t} ({n})" for t, n in sorted(counts.items())[:6])
        raise DatabaseError(
            f"پایگاه داده مقصد خالی نیست ({shown}) و چیزی در آن نوشته نشد. اگر می‌خواهید همه داده‌های آن با "
            "داده‌های این میز جایگزین شود، فرمان را با --force بزنید.",
            en="The target database is not empty (" + ", ".join(f"{t} ({n})" for t, n in sorted(counts.items())[:6])
               + "); nothing was written. To replace everything there with this desk's data, add --force.")
    # 3. The schema, by the migrations.
    say("ساختن جدول‌ها روی سرور…")
    try:
        open_database(target_url)
    except DatabaseError:
        raise
    from models.base import db

    report = CopyReport(_safe(target_url), emptied=bool(counts))
    src = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        src.execute("BEGIN")                             # one snapshot of the source for copy and checks
        conn = db.connection()
        src_tables = _source_tables(src)
        src_versions = {r[0] for r in src.execute("SELECT number FROM schema_migration")}
        with db.atomic():
            cur = db.cursor()
            cur.execute("SELECT number FROM schema_migration")
            if {r[0] for r in cur.fetchall()} != src_versions:
                raise DatabaseError("نسخه ساختار پایگاه داده مبدأ و مقصد یکی نیست؛ چیزی کپی نشد.",
                                    en="The source and target schema versions differ; nothing was copied.")
            tables = _target_tables(cur, src_tables)
            if counts:
                say("خالی کردن پایگاه داده مقصد…")
            # always: the migrations seed defaults (sales stages, lost reasons) that the source has its own copy of
            cur.execute("TRUNCATE " + ", ".join(_q(t.name) for t in tables) + " RESTART IDENTITY CASCADE")
            fks = _drop_foreign_keys(cur)
            _user_triggers(cur, tables, "DISABLE")
            for t in tables:
                n = _copy_table(src, cur, t, batch, progress)
                say(f"{t.name}: {n} ردیف")
            _user_triggers(cur, tables, "ENABLE")
            _restore_foreign_keys(cur, fks)
            _set_sequences(cur, tables)
            say("مقایسه تعداد و چکیده (md5) هر جدول در دو طرف…")
            for t in tables:
                a, b = _checksum_sqlite(src, t), _checksum_pg(conn, t)
                if (a.rows, a.hexdigest()) != (b.rows, b.hexdigest()):
                    raise DatabaseError(
                        f"جدول {t.name} پس از کپی با مبدأ یکی نیست ({a.rows} ردیف در مبدأ، {b.rows} در مقصد)؛ "
                        "کپی برگردانده شد و مقصد دست‌نخورده ماند.",
                        details=f"{a.hexdigest()} != {b.hexdigest()}",
                        en=f"Table {t.name} differs after the copy ({a.rows} rows in the source, {b.rows} on the "
                           "target); the copy was rolled back and the target left as it was.")
                report.tables.append(TableReport(t.name, a.rows, a.hexdigest()))
        src.execute("COMMIT")
    except Exception:
        close_database()
        raise
    finally:
        src.close()
    _tidy_after_copy(db, tables, say)
    report.seconds = time.perf_counter() - t0
    logger.info("copied %s to %s: %d rows in %.1f s", path, report.target, report.rows, report.seconds)
    return report


def _tidy_after_copy(database, tables, say: Callable[[str], None]) -> None:
    """VACUUM (ANALYZE) the copied tables: the server learns their sizes and marks their pages all-visible, so
    the first desks read through the indexes alone (a count of a rep's open tasks read 5,000 table pages
    before, until autovacuum came by). Not part of the copy itself: a failure is logged and the copy stands."""
    say("آماده کردن جدول‌ها روی سرور برای خواندن سریع…")
    try:
        database.execute_sql("VACUUM (ANALYZE) " + ", ".join(_q(t.name) for t in tables))
    except Exception:  # the data is copied and checked; the server's autovacuum will do it later
        logger.warning("VACUUM after the copy failed", exc_info=True)
