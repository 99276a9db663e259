"""app.sqlcache: a query's SQL generated once, run again with other arguments, gives what peewee gives."""
from __future__ import annotations

import pytest

from app.customers import service as customers
from models import sqlcache
from models.core import Customer, PhoneNumber


def _by_phone(*keys):
    return (Customer.select(Customer.id, Customer.last_name).join(PhoneNumber)
            .where(PhoneNumber.canonical.in_(list(keys)), Customer.merged_into.is_null())
            .order_by(Customer.id))


def test_reused_sql_with_new_arguments_matches_peewee(anydb):
    a = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"]})
    b = customers.create_customer({"first_name": "مینا", "last_name": "کاظمی", "phones": ["09350000001"]})
    for keys in (("09122800039", "x"), ("09350000001", "09122800039"), ("0", "1")):
        got = sqlcache.run("test.by_phone.2", _by_phone, *keys).fetchall()
        want = list(_by_phone(*keys).tuples())
        assert [tuple(r) for r in got] == want
    assert [r[0] for r in sqlcache.run("test.by_phone.2", _by_phone, "09122800039", "09350000001")] == [a.id, b.id]
    cur = sqlcache.run("test.name", lambda cid: Customer.select(Customer.last_name).where(Customer.id == cid), b.id)
    assert sqlcache.columns(cur) == ["last_name"] and cur.fetchone()[0] == "کاظمی"


def test_an_argument_that_never_reaches_the_sql_is_refused(anydb):
    with pytest.raises(ValueError):
        sqlcache.run("test.unused", lambda cid: Customer.select(Customer.id).where(Customer.id == 1), 5)


def test_a_none_argument_is_an_optional_filter_with_its_own_sql(anydb):
    """`build` is given None for a None argument (a filter it leaves out); each pattern of None arguments keeps
    its own statement, and every other argument must still reach the SQL."""
    a = customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"]})
    b = customers.create_customer({"first_name": "مینا", "last_name": "رضایی", "phones": ["09350000001"]})
    seen = []

    def build(last, cid):
        seen.append(cid)
        q = Customer.select(Customer.id).where(Customer.last_name == last).order_by(Customer.id)
        return q if cid is None else q.where(Customer.id == cid)

    for _ in range(2):
        assert [r[0] for r in sqlcache.run("test.optional", build, "رضایی", None)] == [a.id, b.id]
        assert [r[0] for r in sqlcache.run("test.optional", build, "رضایی", b.id)] == [b.id]
        assert [r[0] for r in sqlcache.run("test.optional", build, "کاظمی", a.id)] == []
    assert len(seen) == 2 and seen[0] is None and seen[1] is not None     # built once per pattern
    with pytest.raises(ValueError):
        sqlcache.run("test.optional_unused", lambda last, cid: Customer.select(Customer.id).where(
            Customer.last_name == last), "رضایی", 5)
