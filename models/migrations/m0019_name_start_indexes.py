"""SQLite: the names' first letters indexed in the list's order, for the first keystrokes of a search.

One or two letters typed match the customers whose family name (or company) starts with them, one stretch of the
list, and those whose first name does: the names part of the search text («| first last company») starts with
them. Those were found through the trigram index, every id first: the first keystroke «م» gathered 200,000 ids at a
million customers (25 ms) for a page of 100. These indexes hold that part's first one and two letters with the
list's order after them, so the first page is read in order straight away (0.05 ms):

    customer_name_start1  (substr(search_text, instr(search_text, '| ') + 2, 1), sort_key, id)
    customer_name_start2  (substr(search_text, instr(search_text, '| ') + 2, 2), sort_key, id)

both of customers not merged into another (WHERE merged_into_id IS NULL, as the list is). The expression comes first:
with merged_into_id first, SQLite took such an index for any read of the list's customers and sorted what it read
(a phone number's digits: 7 ms → 180 ms). app.customers.search.name_starts_with() writes the same expressions
(SQLite uses an indexed expression only for the same expression). PostgreSQL reads these pages its own way
(app.customers.search.next_in_order) and gets none.
"""
import peewee as pw

NUMBER = 19
NAME = "indexes: the names' first letters in the list's order (SQLite)"


def up(database):
    if not isinstance(database, pw.SqliteDatabase):
        return
    for n in (1, 2):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS customer_name_start{n} ON customer "
                             f"(substr(search_text, instr(search_text, '| ') + 2, {n}), sort_key, id) "
                             "WHERE merged_into_id IS NULL")
