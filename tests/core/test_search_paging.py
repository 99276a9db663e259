"""Search as you type read a page at a time gives exactly the matches of the search's definition, in list order,
whichever way each page is read (SQLite: read whole through the trigram index, or in list order; PostgreSQL: in
list order a window at a time, through the trigram index, or both), on SQLite and on PostgreSQL.

The address book is made for the hard cases: families sorted together (a family name's matches sit in one stretch
of the list), first names sharing their first letters, organisations, numbers, merged customers."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.text import sort_key
from app.customers import search
from app.customers import service as cs
from models.core import Customer
from tests.plans import plan

FIRST = ["علی", "علیرضا", "عباس", "رضا", "رضوان", "سارا", "سامان", "ساره", "مریم", "محمد", "محمدرضا", "نوید", "امیر",
         "امیرحسین", "پارسا", ""]
LAST = ["رضایی", "نوری", "نوروزی", "محمدی", "کریمی", "سعیدی", "پارسا", "ابراهیمی"]
COMPANIES = ["پارس تجارت", "نور گستر", "سامان ۱۰۰%", "رضا_کالا", "آریا"]
TYPED = ["ع", "عل", "علی", "ر", "رض", "رضا", "رضای", "رضایی", "س", "سا", "سار", "م", "مح", "محمد", "ن", "نو", "نور",
         "نوری", "نوروزی", "پ", "پا", "پارس", "ا", "ام", "امیرحسین", "آریا", "کا", "۱۰۰%", "_", "%", "0912", "091",
         "12", "2", "021", "345", "ی", "زز"]


@pytest.fixture
def book(anydb):
    return _fill()


@pytest.fixture
def sqlite_book(db):
    return _fill()


def _fill() -> list[int]:
    rng = random.Random(1405)
    made = []
    for _ in range(160):
        if rng.random() < 0.2:
            data = {"kind": "organisation", "company": rng.choice(COMPANIES), "phones": []}
        else:
            data = {"kind": "person", "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
                    "company": rng.choice(COMPANIES) if rng.random() < 0.2 else "", "phones": []}
            if not data["first_name"] and not data["company"]:
                data["first_name"] = "زهرا"
        digits = "".join(rng.choice("0123456789") for _ in range(7))
        data["phones"] = [rng.choice(["0912", "0935"]) + digits if rng.random() < 0.6
                          else rng.choice(["021", "031"]) + rng.choice("2345678") + digits]
        made.append(cs.create_customer(data).id)
    for keep, drop in zip(made[:6], made[6:12], strict=True):
        cs.merge(keep, drop)
    return made


def expected(text: str, kind: str = "") -> set[int]:
    """The search's definition, in Python: every token of three characters or more occurs in the search text;
    short ones too, and a query of short tokens only matches the start of the name (the list's key) or, for one
    token, the start of the names part of the search text."""
    tokens = cs.query_tokens(text)
    out = set()
    for c in Customer.select().where(Customer.merged_into.is_null()):
        if kind and c.kind != kind:
            continue
        long = [t for t in tokens if len(t) >= 3]
        short = [t for t in tokens if len(t) < 3]
        if not tokens:
            ok = True
        elif not long:
            k = sort_key(" ".join(short))
            ok = k <= c.sort_key < k + "\uffff" or (len(short) == 1 and "| " + short[0] in c.search_text)
        else:
            ok = all(t in c.search_text for t in tokens)
        if ok:
            out.add(c.id)
    return out


KNOBS = {"PROBE_ROWS": [1, 3, 20, 300], "BLIND_ROWS_LOOSE": [0, 4, 60, 4800], "SCAN_BUDGET": [0, 15, 12000],
         "LOOSE_FACTOR": [0, 8, 10_000], "SAMPLE_ROWS": [1_000, 1_000_000], "SAMPLE_LEAST": [0, 200],
         "WINDOW_MARGIN": [0.0, 0.2, 1.5], "SCAN_PER_MATCH": [0.0, 3.0, 1e9], "WINDOWS": [0, 1, 2, 5],
         "PILOT_ROWS": [0, 1, 5, 100], "ROW_TEST": [0.0, 15.0, 1e9], "TEST_WINDOWS": [0, 1, 3],
         "GROUP_LOOKUPS": [0, 1, 3, 1000], "FIRST_READ": [0, 1, 2]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(TYPED), min_size=0, max_size=3),
       sort=st.sampled_from(["name", "name", "created", "company", "id"]), descending=st.booleans(),
       page=st.integers(min_value=1, max_value=40), organisations=st.booleans(),
       materialise=st.sampled_from([0, 7, 5000]), index_pages=st.sampled_from([0, 20, 5000]),
       knobs=st.fixed_dictionaries(
           {k: st.sampled_from(v) for k, v in KNOBS.items()}))
def test_pages_hold_exactly_the_matches_in_list_order(book, words, sort, descending, page, organisations,
                                                     materialise, index_pages, knobs):
    text = " ".join(words)
    f = cs.Filter(text=text, kind="organisation" if organisations else "")
    saved = {k: getattr(search, k) for k in knobs}
    try:
        for k, v in knobs.items():
            setattr(search, k, v)
        rs = type("RS", (cs.ResultSet,), {"MATERIALISE": materialise, "INDEX_PAGES": index_pages})(f, sort, descending)
        got: list[int] = []
        while not rs.exhausted:
            chunk = rs.next_ids(page)
            assert len(chunk) <= page
            got += chunk
            assert len(got) <= len(book), "a page repeats"
        assert rs.next_ids(page) == []
    finally:
        for k, v in saved.items():
            setattr(search, k, v)
    assert got == cs.search_ids(f, sort, descending), (text, sort, descending)
    assert len(got) == len(set(got))
    assert set(got) == expected(text, f.kind), text
    assert rs.total == len(got)


def test_first_letters_read_as_two_parts_whichever_way_the_first_names_are_found(sqlite_book, monkeypatch):
    """SQLite, one short token with many matches: the family names' stretch of the list and the first names'
    starts read as two queries; the first names through the names' first letters' index (letters), or without it
    (digits, or a database without it) through the trigram index when few have them, otherwise row by row. Each
    way gives exactly the search's matches in list order (both directions, small pages)."""
    ways = set()
    for name_index in (True, False):
        monkeypatch.setattr(search, "has_name_start_index", lambda name_index=name_index: name_index)
        for token in [t for t in TYPED if len(t) < 3]:
            first = sum(1 for c in Customer.select().where(Customer.merged_into.is_null())
                        if "| " + token in c.search_text)
            for few in (first, max(first - 1, 0)):
                parts = search.first_letters_parts(Customer.select(), token, few)
                ways.add(parts.way)
                assert ("customer_fts" in parts.first.sql()[0]) == (parts.way == "index"), token
                for descending in (False, True):
                    rs = type("RS", (cs.ResultSet,), {"MATERIALISE": few})(cs.Filter(text=token), "name", descending)
                    got: list[int] = []
                    while not rs.exhausted:
                        got += rs.next_ids(3)
                    assert got == cs.search_ids(cs.Filter(text=token), "name", descending), (token, few)
                    assert set(got) == expected(token), token
    assert ways == {"name start", "index", "rows"}


def test_the_names_first_letters_are_read_through_their_index_and_only_there(sqlite_book):
    """The names' first letters are read in list order through their own index (the expression written as the index
    has it, or SQLite would not use it), and the list's other reads keep the list's index."""
    from models.base import db

    assert search.has_name_start_index()
    base = Customer.select(Customer.id, Customer.sort_key).where(Customer.merged_into.is_null())

    for token, n in (("م", 1), ("مح", 2)):
        q = search.keyset(base.where(search.name_starts_with(token)), Customer.sort_key, False, ("", 0))
        q = q.order_by(*search.ordered(Customer.sort_key, False)).limit(10)
        assert f"INDEX customer_name_start{n} (<expr>=? AND" in plan(q)
        assert "TEMP B-TREE" not in plan(q)
        want = [c.id for c in sorted((c for c in Customer.select() if c.merged_into_id is None
                                      and c.search_text.split("| ", 1)[1].startswith(token)),
                                     key=lambda c: (c.sort_key, c.id))]
        assert [r[0] for r in db.execute(base.where(search.name_starts_with(token))
                                         .order_by(*search.ordered(Customer.sort_key, False)))] == want
    for q in (base.order_by(Customer.sort_key, Customer.id).limit(1).offset(5),
              base.where(search._in_fts(["0912"])).order_by(Customer.sort_key, Customer.id).limit(5),
              base.where(search._in_fts(["0912"], probe=True)).order_by(Customer.sort_key, Customer.id).limit(5)):
        assert "customer_name_start" not in plan(q)


def _all_pages(read_page, head: tuple, tail: tuple, size: int = 4) -> list[int]:
    """Every id, page after page of ``size`` (id, sort key) pairs, each page read after the last one's key:
    ``read_page(*head, after, size, *tail)``."""
    got: list[int] = []
    after = None
    while True:
        page = read_page(*head, after, size, *tail)
        got += [i for i, _ in page]
        if len(page) < size:
            return got
        after = (page[-1][1], page[-1][0])


def test_index_pages_read_in_list_order_or_through_the_index_give_the_same(sqlite_book):
    """SQLite, text of three characters or more with more matches than are read whole: each page read in list
    order through the list's covering index (each id tested against the trigram index's), through the index
    alone, or partly each way (a read that stops short of a full page), gives exactly the matches in list order."""
    base = Customer.select(Customer.id).where(Customer.merged_into.is_null())
    rows = search.customer_rows()
    assert rows >= len(sqlite_book)
    for text in ["رضایی", "نوری", "پارس", "091", "021", "امیرحسین", "آریا", "محمد"]:
        tokens = cs.query_tokens(text)
        joined, probed = search.apply_text(base, tokens), search.apply_text(base, tokens, probe=True)
        assert "customer_fts" in probed.sql()[0] and '"id" +' in probed.sql()[0]
        matches = search.match_bounds(tokens, 10_000)[1]
        for descending in (False, True):
            want = cs.search_ids(cs.Filter(text=text), "name", descending)
            for margin, per_match, together in ((0.0, 1e9, 0), (0.3, 1e9, 0), (1.5, 3.0, 0), (1.5, 0.0, 0),
                                                (1.5, 1e9, matches // 2)):
                saved = search.WINDOW_MARGIN, search.SCAN_PER_MATCH
                search.WINDOW_MARGIN, search.SCAN_PER_MATCH = margin, per_match
                try:
                    got = _all_pages(search.index_page, (joined, probed, base, Customer.sort_key, descending),
                                     (matches, rows, together))
                finally:
                    search.WINDOW_MARGIN, search.SCAN_PER_MATCH = saved
                assert got == want, (text, descending, margin, per_match)
                assert set(got) == expected(text), text


def test_common_text_read_by_testing_rows_or_through_the_index_gives_the_same(sqlite_book):
    """SQLite, text with more matches than are paged through the index: after a short read testing each row, the
    rest of the page read on testing rows or through the list's covering index gives exactly the matches in list
    order."""
    base = Customer.select(Customer.id).where(Customer.merged_into.is_null())
    rows = search.customer_rows()
    for text in ["رضایی", "نوری", "091", "021", "محمد", "آریا"]:
        tokens = cs.query_tokens(text)
        tested, probed = search.apply_text(base, tokens, use_index=False), search.apply_text(base, tokens, probe=True)
        for descending in (False, True):
            want = cs.search_ids(cs.Filter(text=text), "name", descending)
            for pilot, row_test in ((1, 0.0), (1, 1e9), (7, 0.0), (7, 1e9), (1000, 1.0)):
                saved = search.PILOT_ROWS, search.ROW_TEST
                search.PILOT_ROWS, search.ROW_TEST = pilot, row_test
                try:
                    got = _all_pages(search.common_page, (tested, probed, base, Customer.sort_key, descending),
                                     (rows,))
                finally:
                    search.PILOT_ROWS, search.ROW_TEST = saved
                assert got == want, (text, descending, pilot, row_test)


def test_a_page_through_the_trigram_index_reads_the_ids_index_once_statistics_are_gathered(sqlite_book):
    """With the planner's statistics (models.statistics), a page of the trigram index's matches looks each match up
    in the index of ids with their list key (migration 20) instead of reading its row; without them SQLite passed
    that index over. The probe (a read in list order) keeps the list's index."""
    from models import statistics
    from models.base import db

    base = Customer.select(Customer.id, Customer.sort_key).where(Customer.merged_into.is_null())

    # the book twenty-one times over: a list long enough that reading it in order costs more than the look-ups
    cols = ", ".join(f'"{f.column_name}"' for f in Customer._meta.sorted_fields if f.name != "id")
    db.execute_sql(f'INSERT INTO customer ({cols}) SELECT {cols} FROM customer, (WITH RECURSIVE n(i) AS '
                   "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT i FROM n)")
    from models.core import PhoneNumber

    token = PhoneNumber.select().order_by(PhoneNumber.id).first().canonical[-7:]    # 21 customers hold it
    paged = base.where(search._in_fts([token])).order_by(Customer.sort_key, Customer.id).limit(5)
    probed = base.where(search._in_fts([token], probe=True)).order_by(Customer.sort_key, Customer.id).limit(5)
    assert "customer_id_key" not in plan(paged)                  # no statistics yet: the planner passes it over
    assert "customer" in statistics.refresh()
    assert "COVERING INDEX customer_id_key" in plan(paged)
    assert "customer_list_name" in plan(probed)
    assert [r[0] for r in db.execute(paged)] == [c.id for c in sorted(
        (c for c in Customer.select() if c.merged_into_id is None and token in c.search_text),
        key=lambda c: (c.sort_key, c.id))][:5]
