"""The segment builder's query on a real database (SQLite, and PostgreSQL where set): each criterion alone and
together, the count, and a segment saved as a customer filter and read back."""
from __future__ import annotations

import datetime as dt

import pytest

from app.core import clock
from app.customers import service as cs
from app.sales.documents import create_invoice
from app.sales.payments import record_payment
from app.sms import segments
from app.sms.segments import Segment
from tests.sms.conftest import customer

NOW = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture
def office(anydb):
    clock.set_now(NOW)
    t = NOW.date()
    people = {
        "ali": customer("علی", "رضایی", "09121111111", title="آقای", birthday=dt.date(1990, 1, 1),
                        customer_type="عمده‌فروش", rank="A", source="نمایشگاه", tags=["vip"],
                        addresses=[{"province": "تهران", "city": "تهران"}]),
        "maryam": customer("مریم", "احمدی", "09122222222", title="خانم", birthday=dt.date(2000, 6, 1),
                           customer_type="خرده‌فروش", rank="B", tags=["vip", "شمال"],
                           addresses=[{"province": "مازندران", "city": "ساری"}]),
        "reza": customer("رضا", "کریمی", "09123333333", title="آقای", birthday=dt.date(1960, 3, 3), rank="C",
                         addresses=[{"province": "تهران", "city": "شهریار"}]),
        "none": customer("بی", "خرید", "09124444444"),
    }

    def invoice(who, days_ago, amount):
        clock.set_now(NOW - dt.timedelta(days=days_ago))
        create_invoice(people[who].id, [{"description": "کالا", "quantity": 1, "unit_price": amount}],
                             date=t - dt.timedelta(days=days_ago))
        clock.set_now(NOW)

    for d in (10, 40, 70):
        invoice("ali", d, 10_000_000)          # loyal: 3 recent purchases
    invoice("maryam", 20, 2_000_000)           # new: one recent purchase
    for d in (400, 500, 600):
        invoice("reza", d, 1_000_000)          # lost (and at risk)
    record_payment(people["ali"].id, "cash", 25_000_000)     # ali owes 5,000,000
    yield {k: v.id for k, v in people.items()}
    clock.set_now(None)


def names(seg, office):
    rev = {v: k for k, v in office.items()}
    return sorted(rev[i] for i in segments.ids(seg) if i in rev)


@pytest.mark.parametrize("seg,expected", [
    (Segment(), ["ali", "maryam", "none", "reza"]),
    (Segment(province="تهران"), ["ali", "reza"]),
    (Segment(city="ساری"), ["maryam"]),
    (Segment(customer_type="عمده‌فروش"), ["ali"]),
    (Segment(rank="C"), ["reza"]),
    (Segment(source="نمایشگاه"), ["ali"]),
    (Segment(tags=["شمال", "nothing"]), ["maryam"]),
    (Segment(tags=["vip"]), ["ali", "maryam"]),
    (Segment(gender="female"), ["maryam"]),
    (Segment(gender="male"), ["ali", "reza"]),
    (Segment(age_min=30, age_max=40), ["ali"]),
    (Segment(age_max=29), ["maryam"]),
    (Segment(age_min=60), ["reza"]),
    (Segment(bought_within_days=30), ["ali", "maryam"]),
    (Segment(not_bought_days=365), ["none", "reza"]),
    (Segment(purchases_min=2), ["ali", "reza"]),
    (Segment(purchases_max=1), ["maryam", "none"]),
    (Segment(value_min=20_000_000), ["ali"]),
    (Segment(period_from=dt.date(2026, 10, 1), purchases_min=1), ["ali", "maryam"]),
    (Segment(period_from=dt.date(2026, 10, 1), purchases_min=2), ["ali"]),
    (Segment(band="loyal"), ["ali"]),
    (Segment(band="new"), ["maryam"]),
    (Segment(band="at_risk"), ["reza"]),
    (Segment(band="lost"), ["reza"]),
    (Segment(band="never"), ["none"]),
    (Segment(owed_min=4_000_000), ["ali"]),
    (Segment(owed_min=2_500_000), ["ali", "reza"]),
    (Segment(gender="male", province="تهران", band="loyal"), ["ali"]),
])
def test_each_criterion(office, seg, expected):
    assert names(seg, office) == expected
    assert segments.count(seg) == len(segments.ids(seg))


def test_saved_as_a_customer_filter_and_read_back(office):
    seg = Segment(tags=["vip"], gender="female", period_from=dt.date(2026, 1, 1))
    segments.save("بانوان ویژه", seg)
    [(fid, name, back)] = [x for x in segments.saved() if x[1] == "بانوان ویژه"]
    assert back == seg and names(back, office) == ["maryam"]
    assert "بانوان" in back.describe() and "برچسب: vip" in back.describe()
    cs.save_filter("تهرانی‌ها", cs.Filter(city="تهران"))
    plain = [x for x in segments.saved() if x[1] == "تهرانی‌ها"][0][2]
    assert segments.ids_of(plain) == [office["ali"]]
