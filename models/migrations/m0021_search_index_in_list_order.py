"""SQLite: the trigram index numbered in the list's order.

The index made by migration 5 numbered each entry by the customer's id, and held no text of its own (it read
the customers' table). This one numbers it by models.listcode (the list key's code, then the id), so that a
search reads its matches in the list's order; it holds no text either ("contentless": the triggers give it the
old text when a customer changes or goes), and the customer's id is the number's low bits.

The triggers compute the number in SQL, so any program that writes a customer keeps the index right.
"""
import peewee as pw

from app.core.errors import DatabaseError
from models import listcode

NUMBER = 21
NAME = "search: the trigram index numbered in the list's order (SQLite)"

TRIGGERS = ("customer_fts_ai", "customer_fts_ad", "customer_fts_au")


def up(database):
    if not isinstance(database, pw.SqliteDatabase):
        return
    if not database.table_exists("customer_fts"):
        return                      # this SQLite has no trigram tokenizer (migration 5): search scans the table
    for t in TRIGGERS:
        database.execute_sql(f"DROP TRIGGER IF EXISTS {t}")
    database.execute_sql("DROP TABLE customer_fts")
    create(database)


def create(database):
    """The index, its triggers and its entries, in the index's order (see models.listcode.fill)."""
    database.execute_sql("CREATE VIRTUAL TABLE customer_fts USING fts5(search_text, content='', "
                         "tokenize='trigram')")
    database.execute_sql(f"CREATE TABLE IF NOT EXISTS {listcode.PAUSED} (paused INTEGER NOT NULL)")
    database.execute_sql(listcode.insert_trigger())
    database.execute_sql(f"CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN {listcode.unindex_old()} END")
    database.execute_sql("CREATE TRIGGER customer_fts_au AFTER UPDATE OF search_text, sort_key, id ON customer BEGIN "
                         f"{listcode.OUT_OF_RANGE} {listcode.unindex_old()} {listcode.index_new()} END")
    if database.execute_sql("SELECT 1 FROM customer WHERE id < 0 OR id >= ? LIMIT 1", (listcode.ID_SPAN,)).fetchone():
        raise DatabaseError("شناسهٔ یکی از مشتریان بیرون از بازهٔ نمایهٔ جست‌وجوست؛ پایگاه داده "
                            "دست‌نخورده ماند.", en="a customer's id is out of the search index's range")
    database.execute_sql(listcode.fill())
