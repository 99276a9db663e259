"""A realistic Persian demo dataset: `crm demo-data --customers N`. Bulk inserts, so 100,000 customers take seconds."""
from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable

from app import options
from app.core import phones as ph
from app.core.clock import now
from app.customers import service as cs
from models.base import db
from models.core import Activity, Address, Customer, CustomerTag, PhoneNumber, User

logger = logging.getLogger(__name__)

MALE = ("علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "حمید", "سعید", "مجید", "محسن", "جواد", "کامران", "بهرام",
        "فرهاد", "داریوش", "سیاوش", "مسعود", "احمد", "مرتضی", "مصطفی", "یاسر", "پیمان", "آرش", "بابک", "کیوان",
        "نیما", "سینا", "پویا", "امیرحسین", "محمدرضا", "علیرضا", "حامد", "وحید", "هادی", "ابراهیم", "اکبر")
FEMALE = ("فاطمه", "زهرا", "مریم", "سارا", "نرگس", "لیلا", "مینا", "الهام", "شیرین", "نازنین", "پریسا", "سمیرا",
          "مهسا", "نگار", "آزاده", "فرزانه", "طاهره", "معصومه", "سپیده", "هانیه", "نسرین", "شهرزاد", "رویا", "ژیلا")
LAST = ("رضایی", "محمدی", "حسینی", "احمدی", "کریمی", "موسوی", "جعفری", "رحیمی", "کاظمی", "صادقی", "قاسمی",
        "هاشمی", "نوری", "عباسی", "اکبری", "طاهری", "فرهادی", "ملکی", "شریفی", "زمانی", "یزدانی", "نجفی",
        "اصفهانی", "تهرانی", "شیرازی", "تبریزی", "کرمانی", "بهرامی", "سلطانی", "افشار", "پورمحمدی", "میرزایی",
        "خسروی", "امینی", "دهقان", "باقری", "قربانی", "ابراهیمی", "سبحانی", "وکیلی", "علوی", "نیک‌نام")
COMPANY_PREFIX = ("بازرگانی", "شرکت", "صنایع", "گروه", "فروشگاه", "تولیدی", "پخش", "مهندسی", "کارخانه")
COMPANY_NAME = ("نور", "پارس", "آریا", "سپهر", "کاوه", "البرز", "دماوند", "زاگرس", "ستاره", "آفتاب", "مهر",
                "پیشگامان", "نوین", "سپید", "کیمیا", "آسمان", "رهاورد", "پویان", "تدبیر", "اندیشه", "فراز")
COMPANY_SUFFIX = ("", "", " تجارت", " صنعت", " گستر", " الکتریک", " ساختمان", " پلاستیک", " سازه", " طب")
JOBS = ("مدیر فروش", "مدیرعامل", "کارشناس خرید", "حسابدار", "مهندس ناظر", "پیمانکار", "پزشک", "وکیل",
        "مدیر داخلی", "کارمند", "فروشنده", "معمار", "مدیر تدارکات", "صاحب فروشگاه")
FIELDS = ("ساختمان", "تجهیزات پزشکی", "مواد غذایی", "پوشاک", "الکترونیک", "خودرو", "لوازم خانگی", "کشاورزی",
          "آموزش", "نرم‌افزار", "چاپ و تبلیغات", "حمل‌ونقل")
CITIES = (("تهران", "تهران", "21"), ("تهران", "تهران", "21"), ("تهران", "تهران", "21"), ("اصفهان", "اصفهان", "31"),
          ("مشهد", "خراسان رضوی", "51"), ("شیراز", "فارس", "71"), ("تبریز", "آذربایجان شرقی", "41"),
          ("کرج", "البرز", "26"), ("قم", "قم", "25"), ("اهواز", "خوزستان", "61"), ("رشت", "گیلان", "13"),
          ("کرمان", "کرمان", "34"), ("یزد", "یزد", "35"), ("ساری", "مازندران", "11"))
STREETS = ("خیابان ولیعصر", "خیابان انقلاب", "بلوار کشاورز", "خیابان آزادی", "خیابان شریعتی", "خیابان مطهری",
           "بلوار میرداماد", "خیابان جمهوری", "خیابان فردوسی", "بلوار امام رضا", "خیابان چهارباغ", "بلوار زند")
TAGS = ("VIP", "خوش‌حساب", "بدحساب", "نمایشگاه ۱۴۰۳", "همکار", "عمده", "پیگیری ویژه", "قدیمی")
USERS = (("مدیر دفتر", "admin", "admin"), ("سارا محمدی", "sara", "reception"), ("رضا کریمی", "reza", "sales"),
         ("مریم احمدی", "maryam", "sales"), ("امیر حسینی", "amir", "manager"))


def _mobile(rng: random.Random) -> str:
    return "09" + rng.choice(("12", "12", "13", "19", "35", "36", "01", "02", "21", "22", "30", "90")) + \
        "".join(rng.choice("0123456789") for _ in range(7))


def _landline(rng: random.Random, area: str) -> str:
    return "0" + area + rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(7))


def _raw_forms(canonical: str, rng: random.Random) -> str:
    """Numbers as offices really typed them."""
    c = canonical
    style = rng.random()
    if style < 0.5:
        return c
    if style < 0.65:
        return f"{c[:4]} {c[4:7]} {c[7:]}" if c.startswith("09") else f"{c[:3]}-{c[3:]}"
    if style < 0.75:
        return "+98" + c[1:]
    if style < 0.9:
        from app.core.text import to_persian_digits

        return to_persian_digits(c)
    if c.startswith("09"):
        return f"{c[:4]}-{c[4:7]}-{c[7:]}"
    return f"({c[:3]}) {c[3:7]} {c[7:]}"


def ensure_users() -> list[int]:
    ids = []
    for name, username, role in USERS:
        u = User.get_or_none(User.username == username)
        if u is None:
            u = User.create(name=name, username=username, role=role)
        ids.append(u.id)
    return ids


def seed_customers(n: int, rng: random.Random, user_ids: list[int],
                   progress: Callable[[str], None] | None = None) -> list[int]:
    tag_ids = [cs.get_or_create_tag(t).id for t in TAGS]
    tag_names = dict(zip(tag_ids, TAGS, strict=True))
    types = ("عمده‌فروش", "خرده‌فروش", "پیمانکار", "سازمانی", "مصرف‌کننده")
    sources = ("معرفی دوستان", "اینستاگرام", "وب‌سایت", "نمایشگاه", "تبلیغات", "تماس ورودی")
    start_id = (Customer.select(Customer.id).order_by(Customer.id.desc()).scalar() or 0) + 1
    created: list[int] = []
    base_time = now() - dt.timedelta(days=900)
    batch = 1000
    used_numbers: set[str] = set(p for (p,) in PhoneNumber.select(PhoneNumber.canonical).tuples())
    for lo in range(0, n, batch):
        cust_rows: list = []
        phone_rows: list = []
        addr_rows: list = []
        tag_rows: list = []
        act_rows: list = []
        for i in range(lo, min(n, lo + batch)):
            cid = start_id + i
            org = rng.random() < 0.3
            female = rng.random() < 0.4
            first = rng.choice(FEMALE if female else MALE)
            last = rng.choice(LAST)
            company = ""
            if org or rng.random() < 0.3:
                company = f"{rng.choice(COMPANY_PREFIX)} {rng.choice(COMPANY_NAME)}{rng.choice(COMPANY_SUFFIX)}"
            city, province, area = rng.choice(CITIES)
            d = {"kind": "organisation" if org else "person", "first_name": first, "last_name": last,
                 "company": company, "job": rng.choice(JOBS), "national_id": "", "economic_code": "",
                 "activity_field": rng.choice(FIELDS), "email": ""}
            nums: list[str] = []
            for _ in range(1 + (rng.random() < 0.75) + (rng.random() < 0.25)):
                for _attempt in range(5):
                    num = _mobile(rng) if (not nums or rng.random() < 0.4) else _landline(rng, area)
                    if num not in used_numbers:
                        used_numbers.add(num)
                        nums.append(num)
                        break
            prows = []
            for k, num in enumerate(nums):
                parsed = ph.normalize(num, "0" + area)
                prows.append({"customer": cid, "label": "mobile" if parsed.kind == ph.MOBILE else rng.choice(("work", "home", "fax")),
                              "raw": _raw_forms(num, rng), "canonical": parsed.canonical, "tail": parsed.tail,
                              "extension": "", "is_primary": k == 0})
            my_tags = rng.sample(tag_ids, k=rng.choice((0, 0, 0, 1, 1, 2)))
            created_at = base_time + dt.timedelta(minutes=rng.randrange(0, 900 * 24 * 60))
            birthday = (dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 15000))) if rng.random() < 0.5 else None
            anniversary = (dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(0, 11000))) if rng.random() < 0.2 else None
            search_text = cs._search_text(d, prows, [tag_names[t] for t in my_tags], [city])
            cust_rows.append({
                "id": cid, "kind": d["kind"], "stage": "potential" if rng.random() < 0.25 else "actual",
                "first_name": first, "last_name": last, "company": company, "title": "خانم" if female else "آقای",
                "job": d["job"], "customer_type": rng.choice(types), "rank": rng.choice("AABBBCC"),
                "status": rng.choice(("active",) * 9 + ("inactive",)), "activity_field": d["activity_field"],
                "source": rng.choice(sources), "assigned_to": rng.choice(user_ids) if user_ids else None,
                "birthday": birthday, "anniversary": anniversary, "national_id": "", "economic_code": "",
                "registration_no": "", "postal_code": "", "email": "", "website": "", "description": "",
                "sort_key": cs.sort_key_of(d), "search_text": search_text,
                "created_at": created_at, "updated_at": created_at})
            phone_rows.extend(prows)
            addr_rows.append({"customer": cid, "label": "work", "province": province, "city": city,
                              "line": f"{rng.choice(STREETS)}، پلاک {rng.randrange(1, 400)}", "postal_code": ""})
            tag_rows.extend({"customer": cid, "tag": t} for t in my_tags)
            act_rows.append({"customer": cid, "at": created_at, "kind": "created",
                             "summary": f"پرونده «{cs.display_name_of(d)}» ساخته شد.", "ref_table": "customer",
                             "ref_id": cid, "data": ""})
            created.append(cid)
        with db.atomic():
            Customer.insert_many(cust_rows).execute()
            PhoneNumber.insert_many(phone_rows).execute()
            Address.insert_many(addr_rows).execute()
            if tag_rows:
                CustomerTag.insert_many(tag_rows).execute()
            Activity.insert_many(act_rows).execute()
        if progress and (lo // batch) % 10 == 9:
            progress(f"مشتریان: {min(n, lo + batch)} از {n}")
    _fix_sequence(Customer)
    return created


def _fix_sequence(model) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequence past them."""
    from models.base import is_postgres

    if is_postgres():
        table = model._meta.table_name
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


# Other areas add their demo data here: (module, function, count key). Each function takes
# (rng, customer_ids, user_ids, n) and is skipped when its module is not installed yet.
def _extra_seeders() -> list[tuple[Callable, str]]:
    """The other areas' demo data, after the customers: (seeder, key of the wanted count)."""
    from app.demo.sales import seed_sales
    from app.demo.tasks import seed_tasks
    from app.pipeline.demo import seed_pipeline

    return [(seed_tasks, "tasks"), (seed_sales, "invoices"), (seed_pipeline, "opportunities")]


DEMO_OFFICE = {
    options.OFFICE_NAME: "بازرگانی پیوند نوین",
    options.OFFICE_ECONOMIC_CODE: "411155556666",
    options.OFFICE_NATIONAL_ID: "10320567890",
    options.OFFICE_REGISTRATION_NO: "۴۵۶۷۸۹",
    options.OFFICE_POSTAL_CODE: "1591634111",
    options.OFFICE_ADDRESS: "تهران، خیابان ولیعصر، بالاتر از میدان ونک، کوچه نیلوفر، پلاک ۱۲، واحد ۴",
    options.OFFICE_PHONE: "021-88776655",
}


def seed_office() -> None:
    """Office details for a demo database (only where the office has not filled them in)."""
    from app import settings

    for opt, value in DEMO_OFFICE.items():
        if not settings.get(opt):
            settings.set(opt, value)


def seed(customers: int = 200, calls: int | None = None, tasks: int | None = None, invoices: int | None = None,
         seed: int = 1405, progress: Callable[[str], None] | None = None,
         opportunities: int | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    seed_office()
    user_ids = ensure_users()
    ids = seed_customers(customers, rng, user_ids, progress)
    counts = {"customers": len(ids)}
    wanted = {"tasks": tasks if tasks is not None else customers,
              "calls": calls if calls is not None else customers * 2,
              "invoices": invoices if invoices is not None else max(1, customers // 4),
              "opportunities": opportunities if opportunities is not None else max(1, customers // 5)}
    for fn, key in _extra_seeders():
        if key == "tasks":
            result = fn(rng, ids, user_ids, wanted["tasks"], wanted["calls"])
        else:
            result = fn(rng, ids, user_ids, wanted[key])
        if isinstance(result, dict):
            counts.update(result)
        elif isinstance(result, int):
            counts[key] = result
    _demo_desk_signs_in(user_ids[0])
    return counts


def _demo_desk_signs_in(admin_id: int) -> None:
    """A demo office opens at once on the desk that made it: its admin signs in automatically here (the admin's
    choice, in the audit log like any other; Settings › colleagues turns it off and sets a password)."""
    from app.office import auth

    if not auth.anyone_has_password():
        auth.enable_auto_sign_in(admin_id)
