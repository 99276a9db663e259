"""The fields a sheet's columns can feed, and guessing them from Persian or English headers."""
from __future__ import annotations

import re

from app.core.text import compact_key, to_ascii_digits

# --- fields and header synonyms ---------------------------------------------------------------------------

FIELDS: dict[str, str] = {
    "": "— وارد نشود —",
    "full_name": "نام و نام خانوادگی",
    "first_name": "نام",
    "last_name": "نام خانوادگی",
    "company": "شرکت / سازمان",
    "title": "عنوان (آقای/خانم)",
    "job": "سمت / شغل",
    "kind": "نوع (حقیقی/حقوقی)",
    "stage": "مرحله (سرنخ/مشتری)",
    "phone": "تلفن (تشخیص خودکار همراه/ثابت)",
    "phone_primary": "تلفن اصلی",
    "phone_mobile": "موبایل",
    "phone_work": "تلفن محل کار",
    "phone_home": "تلفن منزل",
    "phone_fax": "نمابر",
    "phone_other": "سایر تلفن‌ها",
    "email": "ایمیل",
    "address_label": "نوع نشانی",
    "province": "استان",
    "city": "شهر",
    "address": "نشانی",
    "address_postal_code": "کد پستی نشانی",
    "other_addresses": "نشانی‌های دیگر",
    "customer_type": "نوع مشتری",
    "rank": "رتبه",
    "status": "وضعیت",
    "activity_field": "زمینه فعالیت",
    "source": "نحوه آشنایی",
    "assigned": "مسئول",
    "tags": "برچسب‌ها",
    "national_id": "کد ملی / شناسه ملی",
    "economic_code": "کد اقتصادی",
    "registration_no": "شماره ثبت",
    "postal_code": "کد پستی",
    "website": "وب‌سایت",
    "birthday": "تاریخ تولد",
    "anniversary": "سالگرد",
    "description": "توضیحات",
}

# Several columns may feed these (موبایل ۱، موبایل ۲…); any other field takes its first column only.
MULTI = {"phone", "phone_mobile", "phone_work", "phone_home", "phone_fax", "phone_other", "tags", "description",
         "other_addresses"}
PHONE_FIELDS = {"phone": None, "phone_mobile": "mobile", "phone_work": "work", "phone_home": "home",
                "phone_fax": "fax", "phone_other": "other"}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": ("نام و نام خانوادگی", "نام و نام‌خانوادگی", "نام کامل", "نام مشتری", "مشتری", "طرف حساب",
                  "اسم و فامیل", "نام شخص", "full name", "name", "customer", "customer name", "contact",
                  "contact name"),
    "first_name": ("نام", "اسم", "نام کوچک", "first name", "firstname", "given name"),
    "last_name": ("نام خانوادگی", "فامیل", "فامیلی", "نام فامیل", "last name", "lastname", "surname",
                  "family name", "family"),
    "company": ("شرکت", "نام شرکت", "سازمان", "شرکت / سازمان", "نام سازمان", "فروشگاه", "نام فروشگاه",
                "مجموعه", "company", "company name", "organization", "organisation", "business"),
    "title": ("عنوان", "پیشوند", "title", "salutation"),
    "job": ("سمت", "شغل", "سمت / شغل", "سمت شغلی", "job", "job title", "position", "occupation"),
    "kind": ("نوع", "نوع شخص", "حقیقی / حقوقی", "حقیقی/حقوقی", "شخصیت", "kind", "person type", "type"),
    "stage": ("مرحله", "stage", "lead status"),
    "phone": ("تلفن", "شماره", "شماره تلفن", "شماره تماس", "تلفن ها", "تلفن‌ها", "تماس", "شماره ها",
              "phone", "phones", "phone number", "tel", "telephone", "contact number", "number"),
    "phone_mobile": ("موبایل", "همراه", "تلفن همراه", "شماره همراه", "شماره موبایل", "موبایل ۱", "موبایل ۲",
                     "mobile", "cell", "cellphone", "cell phone", "mobile phone", "mobile number"),
    "phone_work": ("تلفن محل کار", "تلفن ثابت", "ثابت", "تلفن کار", "تلفن دفتر", "تلفن شرکت", "تلفن ثابت محل کار",
                   "work phone", "office phone", "landline", "business phone"),
    "phone_home": ("تلفن منزل", "منزل", "تلفن خانه", "home phone", "home"),
    "phone_fax": ("نمابر", "فکس", "fax"),
    "phone_primary": ("تلفن اصلی", "شماره اصلی", "primary phone", "main phone"),
    "address_label": ("نوع نشانی", "نوع آدرس", "address type"),
    "phone_other": ("سایر تلفن‌ها", "سایر تلفن ها", "تلفن های دیگر", "سایر شماره ها", "other phones",
                    "other phone"),
    "email": ("ایمیل", "پست الکترونیک", "پست الکترونیکی", "رایانامه", "ای میل", "email", "e-mail", "mail"),
    "province": ("استان", "province", "state"),
    "city": ("شهر", "city", "town"),
    "address": ("آدرس", "نشانی", "آدرس کامل", "نشانی کامل", "address", "street", "street address"),
    "address_postal_code": ("کد پستی نشانی",),
    "other_addresses": ("نشانی‌های دیگر", "نشانی های دیگر", "آدرس های دیگر", "other addresses"),
    "customer_type": ("نوع مشتری", "گروه", "گروه مشتری", "دسته", "دسته بندی", "دسته‌بندی", "customer type",
                      "category", "group", "segment"),
    "rank": ("رتبه", "درجه", "درجه اعتبار", "rank", "grade", "rating"),
    "status": ("وضعیت", "status"),
    "activity_field": ("زمینه فعالیت", "حوزه فعالیت", "نوع فعالیت", "صنف", "رسته", "industry", "field"),
    "source": ("نحوه آشنایی", "منبع", "روش آشنایی", "نحوه آشنایی با ما", "معرف", "source", "lead source",
               "referral"),
    "assigned": ("مسئول", "کارشناس", "کارشناس فروش", "فروشنده", "ویزیتور", "مسئول پیگیری", "assigned",
                 "assigned to", "owner", "rep", "sales rep"),
    "tags": ("برچسب", "برچسب‌ها", "برچسب ها", "تگ", "تگ ها", "tags", "tag", "labels"),
    "national_id": ("کد ملی", "کدملی", "شناسه ملی", "کد ملی / شناسه ملی", "شماره ملی", "national id",
                    "national code", "melli code", "id number"),
    "economic_code": ("کد اقتصادی", "economic code", "tax id"),
    "registration_no": ("شماره ثبت", "registration", "registration no", "registration number"),
    "postal_code": ("کد پستی", "کدپستی", "postal code", "zip", "zip code", "postcode"),
    "website": ("وب سایت", "وب‌سایت", "سایت", "website", "web", "url"),
    "birthday": ("تاریخ تولد", "تولد", "birthday", "birth date", "date of birth", "dob"),
    "anniversary": ("سالگرد", "سالگرد ازدواج", "anniversary"),
    "description": ("توضیحات", "یادداشت", "شرح", "ملاحظات", "توضیح", "description", "notes", "note",
                    "comment", "comments", "remarks"),
    # headers that are recognised (so the header row is found) but not imported
    "": ("کد مشتری", "ردیف", "شماره ردیف", "#", "row", "id", "تاریخ ثبت", "کد", "created"),
}
_EXACT: dict[str, str] = {}
for _f, _words in _SYNONYMS.items():
    for _w in _words:
        _EXACT.setdefault(compact_key(_w), _f)
# (key, field) longest first, for headers that contain a known word («شماره موبایل مشتری»)
# Bare generic words match only a whole header: «نام پدر»، «شماره شناسنامه»، «شماره حساب»، «تاریخ تماس» are not
# the customer's name or phone (they turned every row of a real sheet into an error, or the father's name into the
# customer's first name).
_GENERIC = {compact_key(w) for w in ("نام", "اسم", "شماره", "تماس", "name", "number", "type", "field", "mail")}
_WEAK = {compact_key(w) for w in ("مشتری", "customer", "contact", "طرف حساب")}
_CONTAINS = sorted(((k, f) for k, f in _EXACT.items() if len(k) >= 3 and f and k not in _GENERIC),
                   key=lambda kf: -len(kf[0]))


def guess_field(header: str) -> str | None:
    """The field a header names, '' for a known column that is not imported, None when unknown."""
    key = compact_key(re.sub(r"\d+$", "", to_ascii_digits(header or "")).strip()) or compact_key(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    # The word nearest the start names the column: Persian puts the head noun first («آدرس منزل» is an address,
    # «شماره موبایل مشتری» a mobile), and «مشتری»/«customer» only qualify a column that names nothing else.
    best = min(((k in _WEAK, key.find(k), -len(k), f) for k, f in _CONTAINS if k in key), default=None)
    return best[3] if best else None


def guess_mapping(headers: list[str]) -> list[str]:
    """One field key per column ('' = not imported)."""
    out: list[str] = []
    used: set[str] = set()
    for h in headers:
        f = guess_field(h) or ""
        if f and f not in MULTI and f in used:
            f = ""
        if f:
            used.add(f)
        out.append(f)
    # «نام» alone, with no «نام خانوادگی» column, is the whole name.
    if "first_name" in used and "last_name" not in used and "full_name" not in used:
        out = ["full_name" if f == "first_name" else f for f in out]
    return out

