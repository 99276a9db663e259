"""Round trip: export 10,000 customers, import the file into an empty database, compare field by field."""
from __future__ import annotations

import random

from app.customers import service as cs
from app.demo import customers as demo
from app.excel import importer as ei
from app.excel.export import export_customers
from models.connection import close_database, open_database
from models.core import Customer
from tests.excel.helpers import national_code

N = 10_000


def _rich_customers(user_ids):
    """Customers with every field the demo data leaves empty."""
    out = []
    for i in range(40):
        kind = "organisation" if i % 4 == 0 else "person"
        out.append(cs.create_customer({
            "kind": kind, "stage": "potential" if i % 3 == 0 else "actual", "title": "دکتر" if i % 2 else "خانم",
            "first_name": f"نام{i}", "last_name": f"خانوادگی {i}", "company": f"شرکت شماره {i} & پسران",
            "job": "مدیر", "customer_type": "پیمانکار", "rank": "A", "status": "inactive" if i % 5 == 0 else "active",
            "activity_field": "ساختمان", "source": "نمایشگاه", "assigned_to": user_ids[i % len(user_ids)],
            "national_id": ("1" + str(10**9 + i)) if kind == "organisation" else national_code(f"00{1234500 + i}"),
            "economic_code": str(411111111111 + i), "registration_no": str(5000 + i),
            "postal_code": f"{1234567890 + i}", "email": f"user{i}@example.ir", "website": "https://example.ir",
            "description": f"مشتری قدیمی؛ خرید نقدی <{i}>", "birthday": "1360/01/15" if i % 2 else "1370/12/29",
            "anniversary": "1390/06/31" if i % 3 else None,
            "phones": ([] if i % 2 else [{"label": "mobile", "raw": f"0912{5550000 + i}"}]) + [
                       {"label": "work", "raw": f"021{88000000 + i} داخلی {i + 1}"}] +   # primary: work or mobile
                      ([{"label": "mobile", "raw": f"0912{5550000 + i}"}] if i % 2 else []) + [
                       {"label": "fax", "raw": f"021{77000000 + i}"},
                       {"label": "home", "raw": f"031{33000000 + i}"},
                       {"label": "other", "raw": f"+4930{1234000 + i}"}],
            "addresses": [{"label": "home" if i % 3 == 0 else "work", "province": "تهران", "city": "تهران", "line": f"خیابان ولیعصر، کوچه {i}، پلاک ۲/۱",
                           "postal_code": f"{1411111110 + i}"},
                          {"label": "warehouse", "province": "البرز", "city": "کرج", "line": "جاده مخصوص",
                           "postal_code": ""}],
            "tags": ["VIP", f"گروه {i % 3}"]}))
    return out


def _comparable(d: dict) -> dict:
    out = {k: v for k, v in d.items() if k not in ("id", "created_at", "assigned_to", "merged_into", "phones",
                                                   "addresses")}
    phones = [(p["label"], p["canonical"], p["extension"]) for p in d["phones"]]
    out["primary_phone"] = phones[0] if phones else None
    out["phones"] = sorted(phones)
    out["addresses"] = [(a["label"], a["province"], a["city"], a["line"], a["postal_code"]) for a in d["addresses"]]
    out["tags"] = sorted(d["tags"])
    return out


def test_export_import_round_trip(tmp_path):
    open_database(str(tmp_path / "a.sqlite3"), create=True)
    try:
        users = demo.ensure_users()
        _rich_customers(users)
        demo.seed_customers(N - 40, random.Random(7), users)
        ids = cs.search_ids(cs.Filter())
        assert len(ids) == N
        before = [_comparable(cs.customer_data(i)) for i in ids]
        sheet = tmp_path / "customers.xlsx"
        assert export_customers(sheet).rows == N
    finally:
        close_database()

    open_database(str(tmp_path / "b.sqlite3"), create=True)
    try:
        demo.ensure_users()                     # the same colleagues exist in the new office database
        assert Customer.select().count() == 0
        report = ei.analyse(ei.load_table(sheet))
        assert [p.text() for p in report.problems()] == []
        res = ei.import_rows(report)
        assert res.created == N
        new_ids = sorted(res.customer_ids)       # created in the sheet's order, which is the export's order
        after = [_comparable(cs.customer_data(i)) for i in new_ids]
        for b, a in zip(before, after, strict=True):
            assert a == b
        # search and caller-ID look-up work on the imported data
        assert cs.search_ids(cs.Filter(text="خانوادگی 7")) != []
        assert len(cs.find_by_phone("+98 912 555 0003")) == 1
    finally:
        close_database()
