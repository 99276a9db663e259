"""SQLite: the trigram index numbered in the list's order (models.listcode, migration 21).

The code must never fall when the list key rises (or a page would miss a match), the SQL the triggers compute must
equal the Python the pages are bounded with, and the index must follow every change to a customer."""
from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.text import PERSIAN_ALPHABET, sort_key
from app.customers import search
from app.customers import service as cs
from models import listcode
from models.base import db
from models.core import Customer

# What keys are made of: the space, digits, Latin, the Persian letters (as sort_key maps them), other scripts,
# punctuation and characters past the Persian letters' private range.
KEY_CHARS = (" 09az!:`{~\x01\x1f" + "".join(chr(0xE000 + i) for i in range(len(PERSIAN_ALPHABET)))
             + "\u0621\u06cc\u200c\ue020\uf8ff😀é")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=KEY_CHARS, max_size=8), min_size=2, max_size=30))
def test_the_code_never_falls_as_the_key_rises_and_bounds_its_keys(keys):
    keys.sort()
    for a, b in zip(keys, keys[1:], strict=False):
        assert listcode.code(a) <= listcode.code(b), (a, b)
    for k in keys:
        low, high = listcode.key_range(listcode.code(k))
        assert low <= k and (high is None or k < high), k


def test_sql_computes_the_same_code_as_python():
    con = sqlite3.connect(":memory:")
    sql = listcode.numbered("k", "7", "''", "FROM (SELECT ? AS k)")
    rng = random.Random(21)
    keys = [sort_key(n) for n in ("رضایی علی", "بازرگانی آریا", "پرویز", "یوسف", "Ali Reza", "۱۲ ۳۴", "آب", "")]
    keys += ["".join(rng.choice(KEY_CHARS) for _ in range(rng.randint(0, 9))) for _ in range(3000)]
    for k in keys:
        assert con.execute(sql, (k,)).fetchone() == (listcode.code(k) * listcode.ID_SPAN + 7, ""), k


def test_persian_names_sort_by_their_code_in_alphabet_order():
    names = ["ابراهیمی", "آرش", "بهرامی", "پارسا", "تهرانی", "چمران", "کریمی", "گلستانی", "یوسفی"]
    codes = [listcode.code(sort_key(n)) for n in names]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)


def _entries() -> set[int]:
    db.execute_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_rows USING fts5vocab(main, customer_fts, instance)")
    return {r[0] for r in db.execute_sql("SELECT DISTINCT doc FROM temp.fts_rows").fetchall()}


def _numbers() -> set[int]:
    """What the index's entries must be numbered: every customer with text to index (one merged away has none)."""
    return {listcode.code(c.sort_key) * listcode.ID_SPAN + c.id
            for c in Customer.select(Customer.id, Customer.sort_key, Customer.search_text) if len(c.search_text) >= 3}


def _found(text: str) -> list[int]:
    return cs.search_ids(cs.Filter(text=text))


def test_the_index_follows_every_change_to_a_customer(db):
    a = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09121112233"]}).id
    b = cs.create_customer({"first_name": "مریم", "last_name": "کریمی", "phones": ["09351112233"]}).id
    c = cs.create_customer({"kind": "organisation", "company": "بازرگانی آریا", "phones": ["02144556677"]}).id
    assert _entries() == _numbers() and len(_entries()) == 3
    assert _found("رضایی") == [a] and _found("1112233") == [a, b]                # رضایی before کریمی

    cs.update_customer(a, {"first_name": "علی", "last_name": "یزدانی", "phones": ["09121112233"]})  # a new place
    assert _entries() == _numbers()
    assert _found("رضایی") == [] and _found("یزدانی") == [a]
    assert _found("1112233") == [b, a]                                         # کریمی before یزدانی

    cs.merge(b, a)
    assert _entries() == _numbers() and _found("یزدانی") == []

    Customer.delete().where(Customer.id == c).execute()
    assert _entries() == _numbers() and _found("آریا") == []


def test_a_customer_id_beyond_the_index_numbers_is_refused_whole(db):
    for bad in (listcode.ID_SPAN, -5):
        with pytest.raises(Exception, match="out of the search index's range"):
            Customer.insert(id=bad, sort_key="abc", search_text="abc").execute()
    assert Customer.select().count() == 0 and _entries() == set()


def test_a_rename_by_another_desk_during_a_page_loses_no_match(db, monkeypatch):
    """The index's read and the look-ups of one page read one state of the database: a customer on the page
    renamed by another desk in between does not move the page's end past matches not yet shown."""
    ids = {}
    for ch in "abcdefghijklmnop":
        data = ({"kind": "organisation", "company": f"xyz {ch}"} if ch in "aklm"
                else {"first_name": ch, "last_name": "xyz"})
        ids[ch] = cs.create_customer({**data, "phones": []}).id
    path = Customer._meta.database.database
    renamed = []
    real = search._looked_up

    def rename_then_look_up(*a):
        if not renamed:
            with sqlite3.connect(path) as other:            # another desk renames «xyz a» meanwhile
                other.execute("UPDATE customer SET sort_key = 'zz' WHERE id = ?", (ids["a"],))
            renamed.append(True)
        return real(*a)

    monkeypatch.setattr(search, "FIRST_READ", 1)
    monkeypatch.setattr(search, "_looked_up", rename_then_look_up)
    rs = type("RS", (cs.ResultSet,), {"MATERIALISE": 0})(cs.Filter(text="xyz", kind="organisation"))
    assert rs.next_ids(3) == [ids["a"], ids["k"], ids["l"]] and renamed and not rs.exhausted


def test_a_page_in_list_order_reads_a_few_of_many_matches(db, monkeypatch):
    """A word matching many customers across the list: the first page reads the index's first matches and those
    sharing the last one's code, not every match."""
    rng = random.Random(5)
    families = ["".join(rng.choice(PERSIAN_ALPHABET) for _ in range(6)) for _ in range(100)]
    made = [cs.create_customer({"first_name": f"نام{i}", "last_name": families[i % 100],
                                "company": "گروه رضایی" if i % 3 == 0 else "", "phones": []}).id
            for i in range(300)]
    looked: list[int] = []
    real = search._looked_up
    monkeypatch.setattr(search, "_looked_up", lambda q, ids, *a: looked.extend(ids) or real(q, ids, *a))
    rs = type("RS", (cs.ResultSet,), {"MATERIALISE": 10})(cs.Filter(text="رضایی"))
    page = rs.next_ids(5)
    assert page == _found("رضایی")[:5] and len(made) == 300
    assert 5 <= len(looked) < 60, len(looked)


def test_an_index_numbered_by_id_is_numbered_again_when_the_file_is_upgraded(tmp_path):
    """A file from before migration 21 (its index numbered by customer id, reading the customers' table) opens with
    the index numbered in list order, every customer in it, and searches find the same customers."""
    from models.connection import close_database, open_database
    from models.migrations import m0005_search_index as m5
    from models.migrations import m0021_search_index_in_list_order as m21

    path = str(tmp_path / "old.sqlite3")
    open_database(path, create=True)
    try:
        ids = [cs.create_customer({"first_name": f, "last_name": last, "phones": [p]}).id
               for f, last, p in (("علی", "رضایی", "09121112233"), ("مریم", "کریمی", "09351112233"),
                                  ("رضا", "نوری", "02144556677"))]
        for t in m21.TRIGGERS:
            db.execute_sql(f"DROP TRIGGER {t}")
        db.execute_sql("DROP TABLE customer_fts")
        m5._sqlite_fts(db.obj)                            # as migration 5 made it: numbered by id
        db.execute_sql("DELETE FROM schema_migration WHERE number >= 21")   # and the later ones
        assert _entries() == set(ids)
    finally:
        close_database()
    open_database(path)
    try:
        assert _entries() == _numbers() and len(_entries()) == 3
        assert _found("رضا") == [ids[0], ids[2]] and _found("1112233") == [ids[0], ids[1]]
        d = cs.create_customer({"first_name": "سارا", "last_name": "احمدی", "phones": []}).id
        assert _found("سارا") == [d] and _entries() == _numbers()
    finally:
        close_database()
