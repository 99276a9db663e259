"""SQLite: the customers' ids with what a search's page reads of each match, in an index of their own.

A search whose matches are a few thousand (a common family name, a number's first digits) takes its page through
the trigram index: every match's id is looked up for its place in the list (merged away or not, and its list key),
then sorted. Each look-up read the customer's whole row from the table; this index holds the id with those two
columns only, so SQLite reads them from it ("USING COVERING INDEX"): «رضای» at 100,000 customers, 5.4 → 2.3 ms for
the statement. SQLite chooses it once it has the index's statistics (models.statistics gathers them when it sees
an index without any).

    customer_id_key  (id, merged_into_id, sort_key)
"""
import peewee as pw

NUMBER = 20
NAME = "index: the customers' ids with their list key (SQLite)"


def up(database):
    if not isinstance(database, pw.SqliteDatabase):
        return
    database.execute_sql("CREATE INDEX IF NOT EXISTS customer_id_key ON customer (id, merged_into_id, sort_key)")
