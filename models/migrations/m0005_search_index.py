"""Fast customer search and list ordering.

SQLite: an FTS5 trigram index over customer.search_text (substring search in a few ms over 100,000 customers),
kept in step by triggers; PostgreSQL: a pg_trgm GIN index serving the same substring test, when the extension can
be created. Both: covering indexes for the list's common orders, so opening the list reads no table rows."""
import logging

import peewee as pw

NUMBER = 5
NAME = "search: trigram index over customers, covering list indexes"

logger = logging.getLogger(__name__)

LIST_INDEXES = [
    ("customer_list_name", "merged_into_id, sort_key, id"),
    ("customer_list_created", "merged_into_id, created_at, id"),
    ("customer_list_company", "merged_into_id, company, id"),
]


def up(database):
    for name, cols in LIST_INDEXES:
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON customer ({cols})")
    if isinstance(database, pw.SqliteDatabase):
        _sqlite_fts(database)
    elif isinstance(database, pw.PostgresqlDatabase):
        _postgres_trgm(database)


def _sqlite_fts(database):
    try:
        database.execute_sql(
            "CREATE VIRTUAL TABLE customer_fts USING fts5(search_text, content='customer', content_rowid='id', "
            "tokenize='trigram')")
    except pw.OperationalError:
        logger.warning("this SQLite has no FTS5 trigram tokenizer; customer search scans the table instead")
        return
    database.execute_sql(
        "CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN "
        "INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    database.execute_sql(
        "CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN "
        "INSERT INTO customer_fts(customer_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END")
    database.execute_sql(
        "CREATE TRIGGER customer_fts_au AFTER UPDATE OF search_text ON customer BEGIN "
        "INSERT INTO customer_fts(customer_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    database.execute_sql("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")


def _postgres_trgm(database):
    # The extension is the server's, shared by every schema: it goes to `public` (not to whichever schema is first
    # on this connection's search path, where dropping that schema would take it away from the others), and the
    # operator class is named with the schema it lives in, so an office on another search path finds it too.
    try:
        with database.atomic():
            database.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            schema = database.execute_sql(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_trgm'").fetchone()[0]
            database.execute_sql(
                "CREATE INDEX IF NOT EXISTS customer_search_trgm ON customer USING gin "
                f'(search_text "{schema}".gin_trgm_ops)')
    except pw.DatabaseError:
        logger.warning("pg_trgm not available; customer search scans the table instead")
