"""The customer service on a real database (SQLite file, and PostgreSQL when CRM_TEST_POSTGRES_URL is set):
validation, create/update, search as a receptionist types, look-up by phone, duplicates, merge, saved filters."""
from __future__ import annotations

import datetime as dt

import pytest

from app import settings
from app.core import clock
from app.core.errors import NotFound, ValidationError
from app.customers import service as cs
from app.customers import timeline
from app.customers.service import Filter
from models.calls import Call
from models.core import Activity, Address, Customer, CustomerTag, Note, PhoneNumber, SavedFilter, Tag, User

NOW = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.set_now(NOW)
    yield
    clock.set_now(None)


def person(first="علی", last="کریمی", phones=(), **kw) -> dict:
    return {"kind": "person", "first_name": first, "last_name": last, "phones": list(phones), **kw}


def make(first="علی", last="کریمی", phones=(), **kw) -> Customer:
    return cs.create_customer(person(first, last, phones, **kw))


def ids(text="", **kw) -> list[int]:
    return cs.search_ids(Filter(text=text, **kw))


def counts() -> tuple[int, ...]:
    return tuple(m.select().count() for m in (Customer, PhoneNumber, Address, Tag, CustomerTag, Note, Activity))


# --- validation ----------------------------------------------------------------------------------------------

def test_validate_cleans_text(anydb):
    d = cs.validate(person("  علي\u200f ", "كريمي\u00a0زاده", job="مـدیـر  فروش", company="شرکت ۱۲۳"))
    assert d["first_name"] == "علی"
    assert d["last_name"] == "کریمی زاده"
    assert d["job"] == "مدیر فروش"
    assert d["company"] == "شرکت 123"
    assert d["status"] == "active" and d["stage"] == "actual" and d["kind"] == "person"


@pytest.mark.parametrize("data, field, message", [
    (person("", ""), "last_name", "نام یا نام خانوادگی را بنویسید."),
    (person("  ", "\u200c"), "last_name", "نام یا نام خانوادگی را بنویسید."),
    ({"kind": "organisation", "first_name": "علی"}, "company", "نام شرکت یا سازمان را بنویسید."),
    ({"kind": "robot", "last_name": "x"}, "kind", "نوع مشتری باید حقیقی یا حقوقی باشد."),
    (person(stage="maybe"), "stage", "وضعیت مشتری (بالقوه/بالفعل) درست نیست."),
    (person(phones=["0912123456"]), "phones.0", "تعداد رقم‌های شماره درست نیست (همراه ۱۱ رقم با ۰۹، ثابت ۸ رقم یا ۱۱ رقم با کد شهر)."),
    (person(phones=["09121234567", "تلفن ندارد"]), "phones.1", "شماره تلفن فقط می‌تواند رقم، فاصله، خط تیره، پرانتز و + داشته باشد."),
    (person(phones=["019-22514321"]), "phones.0", "پیش‌شماره این شماره در ایران وجود ندارد."),
    (person(birthday="1403/13/40"), "birthday", "ماه باید بین ۱ و ۱۲ باشد."),
    (person(birthday="1402/12/30"), "birthday", "اسفند ۱۴۰۲ فقط ۲۹ روز دارد."),
    (person(anniversary="۱۴۰۳/۰۷/۳۱"), "anniversary", "مهر ۱۴۰۳ فقط ۳۰ روز دارد."),
    (person(birthday="1406/01/01"), "birthday", "تاریخ تولد نمی‌تواند در آینده باشد."),
    (person(birthday=dt.date(2027, 1, 1)), "birthday", "تاریخ تولد نمی‌تواند در آینده باشد."),
    (person(national_id="0499370898"), "national_id", "کد ملی معتبر نیست (رقم کنترل نمی‌خواند)."),
    (person(national_id="49937089"), "national_id", "کد ملی ۱۰ رقم است."),
    ({"kind": "organisation", "company": "آریا", "national_id": "abcdefghijk"}, "national_id",
     "شناسه ملی فقط رقم دارد."),
    (person(economic_code="123"), "economic_code", "کد اقتصادی باید ۱۰ تا ۱۴ رقم باشد."),
    (person(postal_code="12345"), "postal_code", "کد پستی ۱۰ رقم است."),
    (person(email="ali@"), "email", "نشانی ایمیل درست نیست."),
    (person(first="ع" * 101), "first_name", "این متن بیش از ۱۰۰ نویسه است."),
    (person(rank="A" * 11), "rank", "این متن بیش از ۱۰ نویسه است."),
    (person(registration_no="1" * 21), "registration_no", "این متن بیش از ۲۰ نویسه است."),
    (person(addresses=[{"city": "تهران", "postal_code": "123"}]), "addresses.0", "کد پستی ۱۰ رقم است."),
    (person(addresses=[{"city": "ت" * 61}]), "addresses.0", "نام شهر بیش از ۶۰ نویسه است."),
    (person(addresses=[{"province": "ا" * 61}]), "addresses.0", "نام استان بیش از ۶۰ نویسه است."),
    (person(assigned_to=987654), "assigned_to", "کاربر مسئول پیدا نشد."),
    (person(assigned_to="abc"), "assigned_to", "کاربر مسئول پیدا نشد."),
])
def test_bad_input_gets_a_persian_message_and_saves_nothing(anydb, data, field, message):
    before = counts()
    with pytest.raises(ValidationError) as e:
        cs.create_customer(data)
    assert e.value.errors[field] == message
    assert counts() == before


def test_validation_reports_every_bad_field_at_once(anydb):
    with pytest.raises(ValidationError) as e:
        cs.create_customer(person("", "", phones=["12"], birthday="1403/13/40", email="x"))
    assert set(e.value.errors) == {"last_name", "phones.0", "birthday", "email"}
    assert e.value.field in e.value.errors and e.value.message == e.value.errors[e.value.field]


def test_validate_phones(anydb):
    d = cs.validate(person(phones=[
        "۰۹۱۲-۱۲۳-۴۵۶۷",
        {"raw": "(021) 2251 4321 داخلی ۱۲", "label": "work"},
        "+98 912 123 4567",                     # the same mobile again: dropped
        "",                                     # empty rows of the form: ignored
        {"raw": "  "},
        {"raw": "22514322", "label": "fax"},
        {"raw": "0311 222 1234", "label": "nonsense"},
    ]))
    assert [(p["canonical"], p["label"]) for p in d["phones"]] == [
        ("09121234567", "mobile"), ("02122514321", "work"), ("02122514322", "fax"), ("03112221234", "other")]
    assert d["phones"][0]["is_primary"] and d["phones"][0]["raw"] == "0912-123-4567"
    assert d["phones"][1]["extension"] == "12"
    assert d["phones"][0]["tail"] == "21234567"


def test_eight_digit_numbers_take_the_office_area_code(anydb):
    assert cs.validate(person(phones=["22514321"]))["phones"][0]["canonical"] == "02122514321"
    settings.set("office.area_code", "031")
    assert cs.validate(person(phones=["22514321"]))["phones"][0]["canonical"] == "03122514321"
    c = make(phones=["3222 1234"])
    assert [p.canonical for p in c.phones] == ["03132221234"]


def test_validate_tags_and_addresses(anydb):
    d = cs.validate(person(tags=["مشتري ويژه", "مشتری ویژه", " ", "عمده"],
                           addresses=[{"city": " تهران ", "line": "خیابان  ولیعصر", "postal_code": "۱۴۳۴۸-۶۳۱۱۱"},
                                      {"city": "", "line": ""},
                                      {"label": "warehouse", "city": "کرج"},
                                      {"label": "moon", "city": "قم"}]))
    assert d["tags"] == ["مشتری ویژه", "عمده"]
    assert [(a["label"], a["city"]) for a in d["addresses"]] == [("work", "تهران"), ("warehouse", "کرج"),
                                                                    ("work", "قم")]
    assert d["addresses"][0]["postal_code"] == "1434863111"
    assert d["addresses"][0]["line"] == "خیابان ولیعصر"


def test_validate_dates_and_identity(anydb):
    d = cs.validate(person(birthday="۱۳۷۰/۰۵/۱۲", anniversary=dt.date(2020, 1, 1), national_id="۰۴۹۹-۳۷۰۸۹۹",
                           economic_code="4111 1111 1111", postal_code="1434863111"))
    assert d["birthday"] == dt.date(1991, 8, 3)
    assert d["anniversary"] == dt.date(2020, 1, 1)
    assert d["national_id"] == "0499370899"
    assert d["economic_code"] == "411111111111"
    d = cs.validate(person(birthday=dt.datetime(1991, 8, 3, 12, 0), anniversary=""))
    assert d["birthday"] == dt.date(1991, 8, 3) and d["anniversary"] is None


def test_organisation_with_company_id(anydb):
    c = cs.create_customer({"kind": "organisation", "company": "بازرگاني آريا", "national_id": "10380284790",
                            "first_name": "رضا", "last_name": "نوری"})
    assert c.display_name == "بازرگانی آریا"
    assert c.national_id == "10380284790"


# --- create / update ------------------------------------------------------------------------------------------

def test_create_saves_everything_and_records_the_timeline(anydb):
    u = User.create(name="مریم احمدی", username="maryam")
    c = cs.create_customer(person(
        "علي", "كريمي", phones=["0912 123 4567", {"raw": "021-22514321", "label": "work"}],
        title="آقای", job="مدیر خرید", customer_type="عمده‌فروش", rank="A", source="اینستاگرام",
        birthday="1370/05/12", national_id="0499370899", email="ali@example.com",
        addresses=[{"province": "تهران", "city": "تهران", "line": "خیابان آزادی، پلاک ۱۲"}],
        tags=["وفادار"], assigned_to=u.id, description="خط اول\nخط دوم"), user=u.id)
    d = cs.customer_data(c.id)
    assert d["first_name"] == "علی" and d["last_name"] == "کریمی" and d["display_name"] == "علی کریمی"
    assert [p["canonical"] for p in d["phones"]] == ["09121234567", "02122514321"]
    assert d["addresses"][0]["line"] == "خیابان آزادی، پلاک 12"
    assert d["tags"] == ["وفادار"]
    assert d["assigned_to"] == u.id and d["assigned_name"] == "مریم احمدی"
    assert d["birthday"] == dt.date(1991, 8, 3)
    assert d["created_at"] == NOW
    entries = timeline.entries(c.id)
    assert [(e.kind, e.user_name) for e in entries] == [("created", "مریم احمدی")]
    assert "علی کریمی" in entries[0].summary
    # an entry whose stored details are not JSON (an old or hand-edited row) is listed, without details
    timeline.record(c.id, "note", "یادداشت کهنه", at=NOW + dt.timedelta(minutes=1))
    Activity.update(data="{broken").where(Activity.kind == "note").execute()
    entries = timeline.entries(c.id)
    assert [(e.kind, e.data) for e in entries] == [("note", {}), ("created", entries[1].data)]


def test_update_replaces_children_and_records_changed_fields(anydb):
    c = make(phones=["09121234567"], tags=["الف"], addresses=[{"city": "تهران"}])
    data = cs.customer_data(c.id)
    data.update(last_name="کریمی‌نژاد", job="حسابدار", phones=[{"raw": "09351112233"}], tags=["ب"],
                addresses=[{"city": "شیراز"}])
    cs.update_customer(c.id, data)
    d = cs.customer_data(c.id)
    assert d["last_name"] == "کریمی‌نژاد" and d["job"] == "حسابدار"
    assert [p["canonical"] for p in d["phones"]] == ["09351112233"]
    assert d["tags"] == ["ب"] and [a["city"] for a in d["addresses"]] == ["شیراز"]
    assert cs.find_by_phone("09121234567") == []
    assert [x.id for x in cs.find_by_phone("09351112233")] == [c.id]
    edited = [e for e in timeline.entries(c.id) if e.kind == "edited"]
    assert len(edited) == 1 and set(edited[0].data["fields"]) == {"last_name", "job"}
    assert ids("نژاد") == [c.id] and ids("شیراز") == [c.id] and ids("تهران") == []


def test_failed_update_changes_nothing(anydb):
    c = make(phones=["09121234567"])
    before = counts()
    data = cs.customer_data(c.id)
    data.update(last_name="", phones=["09351112233", "بد"])
    with pytest.raises(ValidationError):
        cs.update_customer(c.id, data)
    assert counts() == before
    assert cs.customer_data(c.id)["last_name"] == "کریمی"
    assert [x.id for x in cs.find_by_phone("09121234567")] == [c.id]


def test_missing_customer(anydb):
    with pytest.raises(NotFound):
        cs.get_customer(424242)
    with pytest.raises(NotFound):
        cs.update_customer(424242, person())
    with pytest.raises(NotFound):
        cs.add_note(424242, "سلام")
    assert Note.select().count() == 0 and Activity.select().count() == 0


def test_add_phone(anydb):
    c = make(phones=["09121234567"])
    p = cs.add_phone(c.id, "۰۲۱-۲۲۵۱۴۳۲۱ داخلی ۵")
    assert (p.canonical, p.label, p.extension, p.is_primary) == ("02122514321", "work", "5", False)
    assert cs.add_phone(c.id, "+982122514321").id == p.id            # already there: nothing added
    assert c.phones.count() == 2
    assert ids("2251") == [c.id]
    with pytest.raises(ValidationError) as e:
        cs.add_phone(c.id, "0912")
    assert e.value.errors["phone"].startswith("تعداد رقم")
    kinds = [e.kind for e in timeline.entries(c.id)]
    assert kinds.count("phone_added") == 1
    bare = make("بی", "تلفن")
    assert cs.add_phone(bare.id, "09351112233").is_primary


def test_add_note(anydb):
    c = make()
    n = cs.add_note(c.id, "تماس گرفت\u200f و  پيش‌فاکتور خواست\nفردا پیگیری شود")
    assert n.body == "تماس گرفت و پیش‌فاکتور خواست\nفردا پیگیری شود"
    assert timeline.entries(c.id)[0].kind == "note"
    with pytest.raises(ValidationError):
        cs.add_note(c.id, " \n \u200c ")


# --- search as a receptionist types ---------------------------------------------------------------------------

@pytest.fixture
def book(anydb):
    """A small address book."""
    clock.set_now(NOW)
    out = {
        "ali": make("علی‌رضا", "کریمی", phones=["0912 123 4567", "021-22514321"], national_id="0499370899",
                    tags=["وفادار"], addresses=[{"city": "تهران"}]),
        "maryam": make("مریم", "یاسمی", phones=["+98 935 111 2233"], addresses=[{"city": "اصفهان"}]),
        "aria": cs.create_customer({"kind": "organisation", "company": "بازرگانی آریا ۱۰۰%", "phones": ["031-32221234"],
                                    "customer_type": "عمده‌فروش", "tags": ["عمده"]}),
        "mikhaham": make("می‌خواهم", "تست", phones=["09191112233"]),
        "kaveh": make("کاوه", "مُحَمَّدی", phones=["09127654321"], rank="A"),
    }
    return {k: v.id for k, v in out.items()}


@pytest.mark.parametrize("typed, who", [
    ("علي", "ali"),                 # Arabic ي
    ("كريمي", "ali"),               # Arabic ك and ي
    ("عليرضا", "ali"),              # no ZWNJ
    ("علی رضا", "ali"),             # a space instead of ZWNJ
    ("علی\u200cرضا", "ali"),
    ("رضا كريم", "ali"),            # parts of first and last name, any order
    ("یاسمي", "maryam"),
    ("آریا", "aria"),
    ("اريا", "aria"),               # آ typed as ا
    ("بازرگاني", "aria"),
    ("میخواهم", "mikhaham"),        # «می‌خواهم» / «می خواهم» / «میخواهم»
    ("می خواهم", "mikhaham"),
    ("مي\u200cخواهم", "mikhaham"),
    ("محمدی", "kaveh"),             # diacritics stored, none typed
    ("مُحمّدی", "kaveh"),             # diacritics typed
    ("محـــمدی", "kaveh"),          # tatweel typed
    ("\u200fکاوه\u200e", "kaveh"),   # bidi marks pasted
    ("وفادار", "ali"),              # a tag
    ("اصفهان", "maryam"),           # a city
    ("0499370899", "ali"),          # national code
    ("۰۴۹۹۳۷۰۸۹۹", "ali"),
])
def test_search_by_name_in_any_spelling(book, typed, who):
    assert ids(typed) == [book[who]]


@pytest.mark.parametrize("typed, who", [
    ("۲۲۵۱", ["ali"]),              # the middle of 021-22514321, Persian digits
    ("2251", ["ali"]),
    ("22514321", ["ali"]),
    ("021 2251 4321", ["ali"]),
    ("(021) 2251", ["ali"]),
    ("۰۲۱-۲۲۵۱۴۳۲۱", ["ali"]),
    ("+98912", ["ali", "kaveh"]),   # 0912…
    ("+98 912", ["ali", "kaveh"]),
    ("0098912", ["ali", "kaveh"]),
    ("۰۹۱۲", ["ali", "kaveh"]),
    ("9121234567", ["ali"]),         # without the leading zero
    ("+989121234567", ["ali"]),
    ("0912-123", ["ali"]),
    ("٠٩١٢ ١٢٣", ["ali"]),
    ("+98 935 111", ["maryam"]),
    ("3222", ["aria"]),
    ("7654321", ["kaveh"]),
    ("4567", ["ali"]),
])
def test_search_by_phone_fragment_in_any_format(book, typed, who):
    assert sorted(ids(typed)) == sorted(book[w] for w in who)


def test_search_tokens_must_all_match(book):
    assert ids("علی یاسمی") == []
    assert ids("مریم یاسمی") == [book["maryam"]]


def test_short_typing_matches_the_start_of_names(book):
    # The first keystrokes (one or two letters) match names that start with them: the family name (the list's
    # order), the first name, or the company.
    assert sorted(ids("ك")) == sorted([book["kaveh"], book["ali"]])           # کاوه …, … کریمی
    assert sorted(ids("م")) == sorted([book["maryam"], book["mikhaham"], book["kaveh"]])     # … محمدی
    assert ids("کا") == [book["kaveh"]]


def test_percent_and_underscore_are_not_wildcards(book):
    assert cs.query_tokens("100%") == ["100"]
    assert ids("100%") == [book["aria"]]
    assert ids("آریا ۱۰۰%") == [book["aria"]]
    # As LIKE patterns these would match 021-2251… and every name with a letter; here they match nothing.
    assert ids("2_5") == []
    assert ids("22_14") == []
    assert ids("ع_ی") == []
    assert ids("%%%کریمی") == [book["ali"]]
    # A query of nothing but punctuation is no query at all: the whole list.
    assert len(ids("%")) == len(ids("_")) == len(ids("")) == 5


def test_query_tokens(anydb):
    assert cs.query_tokens("") == []
    assert cs.query_tokens("  ") == []
    assert cs.query_tokens("+98 912 123") == ["0912123"]
    assert cs.query_tokens("0098-912") == ["0912"]
    assert cs.query_tokens("989121234567") == ["09121234567"]
    assert cs.query_tokens("9121234567") == ["09121234567"]
    assert cs.query_tokens("(021) 2251-4321") == ["02122514321"]
    assert cs.query_tokens("۲۲۵۱") == ["2251"]
    assert cs.query_tokens("12") == ["12"]                       # too short to be a phone fragment
    assert cs.query_tokens("علي   كريمي") == ["علی", "کریمی"]


def test_merged_customers_are_not_listed(book):
    cs.merge(book["ali"], book["kaveh"])
    assert ids("7654321") == [book["ali"]]               # the merged record's phone is found on the survivor
    assert ids("کاوه") == []                             # its name is not searchable any more
    assert book["kaveh"] not in ids()
    assert cs.count() == 4


def test_filters(book):
    u = User.create(name="سارا", username="sara")
    cs.update_customer(book["maryam"], {**cs.customer_data(book["maryam"]), "assigned_to": u.id, "stage": "potential",
                                         "status": "inactive", "source": "نمایشگاه"})
    assert ids(kind="organisation") == [book["aria"]]
    assert ids(stage="potential") == [book["maryam"]]
    assert ids(status="inactive") == [book["maryam"]]
    assert ids(source="نمایشگاه") == [book["maryam"]]
    assert ids(assigned_to=u.id) == [book["maryam"]]
    assert ids(rank="A") == [book["kaveh"]]
    assert ids(customer_type="عمده‌فروش") == [book["aria"]]
    assert ids(tag="وفادار") == [book["ali"]]
    assert ids(tag="عمده") == [book["aria"]]
    assert ids(city="اصفهان") == [book["maryam"]]
    assert ids(city="اصفهان ") == [book["maryam"]]
    assert ids("مریم", status="active") == []
    assert cs.count(Filter(kind="person")) == 4


def test_filter_values_typed_with_arabic_letters(book):
    cs.update_customer(book["kaveh"], {**cs.customer_data(book["kaveh"]), "tags": ["مشتری ویژه"]})
    assert ids(tag="مشتري ويژه") == [book["kaveh"]]
    assert ids(city="اصفهان") == ids(city="اصفهان\u200f") == [book["maryam"]]


def test_sort_orders(book):
    names = [cs.fetch_rows([i])[i].name for i in cs.search_ids(sort="name")]
    # Family name first, as Iranian office lists are kept; an organisation by its name.
    assert names == ["بازرگانی آریا 100%", "می‌خواهم تست", "علی‌رضا کریمی", "کاوه محمدی", "مریم یاسمی"]
    assert cs.search_ids(sort="name", descending=True) == list(reversed(cs.search_ids(sort="name")))
    assert cs.search_ids(sort="id") == sorted(book.values())
    assert cs.search_ids(sort="nonsense") == cs.search_ids(sort="name")


def test_fetch_rows(book):
    u = User.create(name="سارا", username="sara")
    cs.update_customer(book["ali"], {**cs.customer_data(book["ali"]), "assigned_to": u.id})
    rows = cs.fetch_rows([book["ali"], book["aria"], 999999])
    assert set(rows) == {book["ali"], book["aria"]}
    r = rows[book["ali"]]
    assert (r.name, r.phone, r.city, r.assigned, r.kind, r.status) == (
        "علی‌رضا کریمی", "09121234567", "تهران", "سارا", "person", "active")
    assert rows[book["aria"]].name == "بازرگانی آریا 100%" and rows[book["aria"]].assigned == ""
    assert cs.fetch_rows([]) == {}
    # the primary phone, not the first one written; the first address with a city
    c = make("نادر", "صالحی", phones=["021-22514300", "0912 765 4300"],
             addresses=[{"street": "بی‌شهر"}, {"city": "شیراز"}, {"city": "یزد"}])
    PhoneNumber.update(is_primary=False).where(PhoneNumber.customer == c.id).execute()
    PhoneNumber.update(is_primary=True).where(PhoneNumber.customer == c.id, PhoneNumber.canonical == "09127654300"
                                              ).execute()
    got = cs.fetch_rows([c.id, book["ali"]])
    assert (got[c.id].phone, got[c.id].city) == ("09127654300", "شیراز")
    assert got[book["ali"]].phone == "09121234567"


def test_result_set_pages_match_search_ids(anydb):
    for i in range(30):
        make(f"نام{i:02d}", "رضایی", phones=[f"0912{i:07d}"])
    for text in ("", "رضایی", "0912", "نام1", "ر"):
        expected = cs.search_ids(Filter(text=text))
        for materialise in (cs.ResultSet.MATERIALISE, 0):
            rs = type("RS", (cs.ResultSet,), {"MATERIALISE": materialise})(Filter(text=text))
            got = []
            while not rs.exhausted:
                got += rs.next_ids(7)
            assert got == expected, (text, materialise)
            assert rs.total == len(expected)
            assert rs.next_ids(7) == []
        desc = type("RS", (cs.ResultSet,), {"MATERIALISE": 0})(Filter(text=text), descending=True)
        got = []
        while not desc.exhausted:
            got += desc.next_ids(4)
        assert got == cs.search_ids(Filter(text=text), descending=True)


def test_distinct_values_and_tags(book):
    assert cs.distinct_values("customer_type") == ["عمده‌فروش"]
    assert cs.all_tags() == sorted(["وفادار", "عمده"])


# --- look-up by phone (caller ID) -----------------------------------------------------------------------------

@pytest.mark.parametrize("reported", ["09121234567", "9121234567", "+989121234567", "00989121234567", "989121234567",
                                      "۰۹۱۲ ۱۲۳ ۴۵۶۷", "0912-123-4567"])
def test_find_by_phone_mobile(book, reported):
    assert [c.id for c in cs.find_by_phone(reported)] == [book["ali"]]


@pytest.mark.parametrize("reported", ["02122514321", "2122514321", "22514321", "+982122514321", "00982122514321",
                                      "(021) 2251-4321", "902122514321"])
def test_find_by_phone_tehran_office(book, reported):
    assert [c.id for c in cs.find_by_phone(reported)] == [book["ali"]]


def test_find_by_phone_is_kept_prepared_on_postgresql(book):
    """Every ring looks its number up. PostgreSQL plans a statement sent as text afresh each time (longer than the
    look-up itself), so the look-up is PREPAREd once per connection and number of keys, then EXECUTEd: the same
    answers, one statement per look-up."""
    from models.base import db, is_postgres
    from tests.callerid.test_service_summary import QueryCounter

    for reported in ("09121234567", "22514321", "+982122514321", "۰۹۱۲ ۱۲۳ ۴۵۶۷"):
        assert [c.id for c in cs.find_by_phone(reported)] == [book["ali"]]
    assert cs.find_by_phone("09129999999") == []
    with QueryCounter() as qc:
        assert [c.id for c in cs.find_by_phone("09121234567")] == [book["ali"]]
    assert len(qc.sql) == 1
    if is_postgres():
        assert qc.sql[0].upper().startswith("EXECUTE CUSTOMERS_BY_NUMBER_")
        name = qc.sql[0].split()[1].lower()
        text = db.execute_sql("SELECT statement FROM pg_prepared_statements WHERE name = %s", (name,)).fetchone()
        assert text is not None and "phone_number" in text[0]


def test_the_lists_rows_are_kept_prepared_on_postgresql(book):
    """The list reads a page of rows at every keystroke: on PostgreSQL that statement is PREPAREd once per
    connection and number of ids (customer_rows_N), and its rows are those read the first time."""
    from models.base import db, is_postgres

    ids = cs.search_ids(Filter())
    first = cs.fetch_rows(ids)
    assert set(first) == set(ids) and cs.fetch_rows(ids) == first
    assert cs.fetch_rows(ids[:1]) == {ids[0]: first[ids[0]]}
    if is_postgres():
        names = {r[0] for r in db.execute_sql("SELECT name FROM pg_prepared_statements").fetchall()}
        assert {f"customer_rows_{len(ids)}", "customer_rows_1"} <= names


def test_find_by_phone_isfahan_office(book):
    settings.set("office.area_code", "031")
    # A local call in Isfahan arrives as 8 digits and matches the stored 031 number.
    assert [c.id for c in cs.find_by_phone("32221234")] == [book["aria"]]
    # A Tehran customer's number without area code cannot be a local call in Isfahan ...
    # ... but as the only customer with that subscriber number, the fallback still finds them.
    assert [c.id for c in cs.find_by_phone("22514321")] == [book["ali"]]


def test_find_by_phone_fallback_refuses_ambiguity(book):
    settings.set("office.area_code", "031")
    make("دو", "شهری", phones=["051-22514321"])
    assert cs.find_by_phone("22514321") == []


def test_find_by_phone_misses(book):
    assert cs.find_by_phone("09120000000") == []
    assert cs.find_by_phone("") == []
    assert cs.find_by_phone("PRIVATE") == []
    assert cs.find_by_phone("110") == []


def test_find_by_phone_two_customers_sharing_a_number(book):
    other = make("همسر", "کریمی", phones=["021 2251 4321"])
    assert sorted(c.id for c in cs.find_by_phone("22514321")) == sorted([book["ali"], other.id])


def test_lookup_report(book):
    r = cs.lookup_report("+98 21 2251 4321")
    assert r["tried"][0] == "02122514321" and r["area_code"] == "021"
    assert r["matches"] == [{"id": book["ali"], "name": "علی‌رضا کریمی", "company": "", "phone": "02122514321"}]


# --- duplicates -----------------------------------------------------------------------------------------------

def test_find_duplicates_by_phone_in_any_format(book):
    for phone in ("+98 912 123 4567", "۰۹۱۲۱۲۳۴۵۶۷", {"raw": "22514321"}, {"canonical": "09121234567"}):
        dups = cs.find_duplicates({"phones": [phone]})
        assert [d.customer_id for d in dups] == [book["ali"]]
        assert dups[0].name == "علی‌رضا کریمی"
        assert "شماره" in dups[0].reason


def test_find_duplicates_by_national_id(book):
    dups = cs.find_duplicates({"national_id": "۰۴۹۹-۳۷۰۸۹۹"})
    assert [d.customer_id for d in dups] == [book["ali"]]
    assert "0499370899" in dups[0].reason


def test_find_duplicates_reports_each_customer_once(book):
    dups = cs.find_duplicates({"phones": ["09121234567", "02122514321"], "national_id": "0499370899"})
    assert [d.customer_id for d in dups] == [book["ali"]]


def test_find_duplicates_excludes_self_merged_and_invalid(book):
    assert cs.find_duplicates({"phones": ["09121234567"]}, exclude_id=book["ali"]) == []
    assert cs.find_duplicates({"phones": ["abc", "", "0912"]}) == []
    assert cs.find_duplicates({}) == []
    cs.merge(book["maryam"], book["kaveh"])
    assert [d.customer_id for d in cs.find_duplicates({"phones": ["09127654321"]})] == [book["maryam"]]


def test_duplicate_of_a_validated_form(book):
    d = cs.validate(person("علی", "کریمی", phones=["0912 123 4567"]))
    assert [x.customer_id for x in cs.find_duplicates(d)] == [book["ali"]]


# --- merge ----------------------------------------------------------------------------------------------------

def test_merge_keeps_every_phone_note_tag_and_timeline_entry(anydb):
    keep = make("علی", "کریمی", phones=["09121234567", "02122514321"], tags=["وفادار"],
                addresses=[{"city": "تهران"}])
    drop = cs.create_customer(person("علي", "كريمي", phones=["0912 123 4567", "09351112233"], tags=["وفادار", "عمده"],
                                     national_id="0499370899", job="مهندس", birthday="1370/05/12", stage="actual",
                                     addresses=[{"city": "کرج"}]))
    cs.update_customer(keep.id, {**cs.customer_data(keep.id), "stage": "potential"})
    cs.add_note(keep.id, "یادداشت پرونده اصلی")
    cs.add_note(drop.id, "یادداشت پرونده تکراری")
    call = Call.create(customer=drop.id, number="09351112233", direction="in", state="ended")
    keep_entries = timeline.entries(keep.id)
    drop_entries = timeline.entries(drop.id)

    cs.merge(keep.id, drop.id)

    d = cs.customer_data(keep.id)
    assert sorted(p["canonical"] for p in d["phones"]) == ["02122514321", "09121234567", "09351112233"]
    assert PhoneNumber.select().where(PhoneNumber.canonical == "09121234567").count() == 1
    assert sorted(d["tags"]) == sorted(["وفادار", "عمده"])
    assert sorted(a["city"] for a in d["addresses"]) == ["تهران", "کرج"]
    assert d["national_id"] == "0499370899" and d["job"] == "مهندس"     # empty fields take the other's values
    assert d["birthday"] == dt.date(1991, 8, 3)
    assert d["stage"] == "actual"
    assert sorted(n.body for n in Note.select().where(Note.customer == keep.id)) == sorted(
        ["یادداشت پرونده اصلی", "یادداشت پرونده تکراری"])
    assert Call.get_by_id(call.id).customer_id == keep.id
    after = {e.id for e in timeline.entries(keep.id)}
    assert {e.id for e in keep_entries} | {e.id for e in drop_entries} < after
    assert timeline.entries(keep.id)[0].kind == "merged"
    assert timeline.entries(drop.id) == []

    gone = Customer.get_by_id(drop.id)
    assert gone.merged_into_id == keep.id and gone.status == "merged"
    assert cs.customer_data(drop.id)["merged_into"] == keep.id
    assert [c.id for c in cs.find_by_phone("09351112233")] == [keep.id]
    assert ids("مهندس") == [keep.id]
    assert ids("کرج") == [keep.id]


def test_merge_refusals_change_nothing(anydb):
    a = make("الف", "یک", phones=["09121111111"])
    b = make("ب", "دو", phones=["09122222222"])
    c = make("پ", "سه", phones=["09123333333"])
    with pytest.raises(ValidationError) as e:
        cs.merge(a.id, a.id)
    assert "خودش" in e.value.message
    cs.merge(a.id, b.id)
    before = counts()
    with pytest.raises(ValidationError) as e:
        cs.merge(c.id, b.id)
    assert "قبلاً ادغام" in e.value.message
    with pytest.raises(ValidationError):
        cs.merge(b.id, c.id)
    with pytest.raises(NotFound):
        cs.merge(a.id, 999999)
    assert counts() == before
    assert [x.id for x in cs.find_by_phone("09123333333")] == [c.id]


# --- saved filters --------------------------------------------------------------------------------------------

def test_saved_filters(anydb):
    u = User.create(name="سارا", username="sara")
    f = Filter(text="علی", status="active", tag="وفادار", assigned_to=u.id, kind="person")
    s = cs.save_filter(" مشتريان  وفادار ", f)
    assert s.name == "مشتریان وفادار"
    [(sid, name, back)] = cs.saved_filters()
    assert (sid, name) == (s.id, "مشتریان وفادار") and back == f
    # Saving under the same name (typed another way) replaces the filter instead of adding a second one.
    cs.save_filter("مشتریان وفادار", Filter(stage="potential"))
    [(sid2, _, back2)] = cs.saved_filters()
    assert sid2 == s.id and back2 == Filter(stage="potential")
    cs.save_filter("الف", Filter())
    assert [n for _, n, _ in cs.saved_filters()] == ["الف", "مشتریان وفادار"]
    cs.delete_filter(s.id)
    assert [n for _, n, _ in cs.saved_filters()] == ["الف"]
    assert SavedFilter.select().count() == 1


def test_saved_filter_name_is_checked(anydb):
    with pytest.raises(ValidationError) as e:
        cs.save_filter(" \u200c ", Filter())
    assert set(e.value.errors) == {"name"}
    with pytest.raises(ValidationError) as e:
        cs.save_filter("ف" * 81, Filter())
    assert set(e.value.errors) == {"name"} and "۸۰" in e.value.errors["name"]
    assert SavedFilter.select().count() == 0


def test_filter_json_and_description(anydb):
    u = User.create(name="سارا", username="sara")
    f = Filter(text="علی", kind="organisation", stage="potential", status="blacklist", tag="عمده", assigned_to=u.id,
               city="تهران")
    assert Filter.from_json(f.to_json()) == f
    assert Filter.from_json('{"text": "x", "unknown_key": 1}') == Filter(text="x")
    assert Filter.from_json("") == Filter()
    assert "\\u" not in f.to_json()                                      # Persian stays readable in the database
    desc = f.describe()
    for part in ("جستجو: علی", "نوع: حقوقی", "مرحله: سرنخ (بالقوه)", "وضعیت: لیست سیاه", "برچسب: عمده",
                 "مسئول: سارا", "شهر: تهران"):
        assert part in desc
    assert Filter().describe() == "همه مشتریان"


def test_saved_filter_runs(book):
    cs.save_filter("تهرانی‌ها", Filter(city="تهران"))
    [(_, _, f)] = cs.saved_filters()
    assert ids(**{k: v for k, v in f.__dict__.items() if k != "extra"}) == [book["ali"]]


def test_find_by_phone_foreign_number(anydb):
    c = make("جان", "اسمیت", phones=["+44 20 7946 0958"])
    for reported in ("+442079460958", "00442079460958", "+44 (20) 7946-0958"):
        assert [x.id for x in cs.find_by_phone(reported)] == [c.id]
    assert cs.find_by_phone("02079460958") == []
