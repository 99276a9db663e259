"""Iranian phone numbers as people type them and as caller-ID boxes report them."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core import phones as ph
from app.core.phones import (
    INTERNATIONAL,
    INVALID,
    LANDLINE,
    MOBILE,
    SERVICE,
    lookup_keys,
    normalize,
    problem_message,
)

MOBILE_CANON = "09121234567"
TEHRAN_CANON = "02122514321"


@pytest.mark.parametrize("typed", [
    "09121234567",
    "0912 123 4567",
    "0912-123-4567",
    "۰۹۱۲-۱۲۳-۴۵۶۷",                    # Persian digits with dashes
    "٠٩١٢١٢٣٤٥٦٧",                     # Arabic-Indic digits
    "۰۹۱۲ 123 ٤٥٦٧",                   # three digit sets in one number
    "9121234567",                       # no leading zero (caller ID, Excel)
    "9121234567.0",                     # an Excel cell read back as a float
    "+989121234567",
    "+98 912 123 4567",
    "+98-912-123-4567",
    "(+98) 912 123 4567",
    "+98 (0)912 123 4567",              # the trunk zero written after the country code
    "989121234567",
    "00989121234567",
    "0098-912-123-4567",
    "00 98 912 123 4567",
    "0912\u200c123\u200c4567",           # half-spaces between the groups
    "0912\u00a0123\u00a04567",           # NBSP from Word
    "0912\u2009123\u20094567",           # thin spaces
    "\u200e+98 912 123 4567\u200f",      # bidi marks pasted along with the number
    "  09121234567  ",
    "+09121234567",                      # a stray plus: no country code starts with 0
    9121234567,                          # an int from a spreadsheet
    9121234567.0,                        # a float from a spreadsheet
])
def test_mobile_in_every_format(typed):
    p = normalize(typed)
    assert (p.canonical, p.kind, p.valid) == (MOBILE_CANON, MOBILE, True)
    assert p.tail == "21234567"
    assert p.display() == "0912 123 4567"


@pytest.mark.parametrize("typed", [
    "02122514321",
    "021-22514321",
    "021 2251 4321",
    "(021) 2251 4321",
    "(۰۲۱) ۲۲۵۱-۴۳۲۱",
    "+98 (21) 22514321",
    "+98 21 2251 4321",
    "+98 (0)21 22514321",
    "+982122514321",
    "982122514321",
    "98-21-22514321",
    "00982122514321",
    "0098 21 22514321",
    "2122514321",                       # without the trunk zero
    "+021 2251 4321",
    "22514321",                         # the subscriber number alone: the office is in Tehran (021 default)
    "2251 4321",
    "۲۲۵۱۴۳۲۱",
    "02122514321.0",
])
def test_tehran_landline_in_every_format(typed):
    p = normalize(typed)
    assert (p.canonical, p.kind, p.area_code) == (TEHRAN_CANON, LANDLINE, "021")
    assert p.display() == "021 2251 4321"
    assert p.tail == "22514321"


@pytest.mark.parametrize("typed, ext", [
    ("021-22514321 داخلی ۱۲۳", "123"),
    ("۰۲۱-۲۲۵۱۴۳۲۱ داخلی ۱۲۳", "123"),
    ("021 2251 4321 داخلی: 45", "45"),
    ("02122514321 ext 12", "12"),
    ("02122514321 ext. 12", "12"),
    ("02122514321 x12", "12"),
    ("02122514321 X 12", "12"),
    ("02122514321#12", "12"),
    ("021 2251 4321 int. 9", "9"),
    ("021 2251 4321 د 12", "12"),
    ("021 2251 4321 د. 12", "12"),
])
def test_extensions_are_split_off(typed, ext):
    p = normalize(typed)
    assert p.canonical == TEHRAN_CANON and p.kind == LANDLINE
    assert p.extension == ext
    assert p.display() == f"021 2251 4321 داخلی {ext}"


def test_mobile_with_extension_word_keeps_the_number():
    p = normalize("0912 123 4567 داخلی 5")
    assert (p.canonical, p.extension) == (MOBILE_CANON, "5")


@pytest.mark.parametrize("area, canonical", [("021", "02122514321"), ("031", "03122514321"), ("۰۳۱", "03122514321"),
                                             ("31", "03122514321"), ("051", "05122514321")])
def test_local_eight_digits_take_the_office_area_code(area, canonical):
    p = normalize("22514321", area)
    assert (p.canonical, p.kind, p.area_code) == (canonical, LANDLINE, canonical[:3])


def test_office_area_code_does_not_touch_full_numbers():
    assert normalize("09121234567", "031").canonical == MOBILE_CANON
    assert normalize("021-22514321", "031").canonical == TEHRAN_CANON
    assert normalize("031-32221234", "021").canonical == "03132221234"
    assert normalize("031-32221234", "021").area_code == "031"


def test_unknown_office_area_code_falls_back_to_tehran():
    # An office area code that is not an Iranian one (019) cannot be used; the default applies.
    assert normalize("22514321", "019").canonical == TEHRAN_CANON
    assert normalize("22514321", None).canonical == TEHRAN_CANON
    assert normalize("22514321", "").canonical == TEHRAN_CANON


def test_seven_digit_local_number_is_kept_but_flagged():
    p = normalize("2251432", "031")
    assert (p.canonical, p.kind, p.problems) == ("0312251432", LANDLINE, ("short",))


@pytest.mark.parametrize("typed", ["110", "115", "1818", "۱۲۵", "118"])
def test_service_numbers(typed):
    p = normalize(typed)
    assert p.kind == SERVICE and p.valid
    assert p.canonical == typed.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))


@pytest.mark.parametrize("typed, canonical", [
    ("+1 555 123 4567", "+15551234567"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("+971 4 123 4567", "+97141234567"),
    ("(+90) 212 555 1234", "+902125551234"),
])
def test_foreign_numbers_keep_their_country_code(typed, canonical):
    p = normalize(typed)
    assert (p.canonical, p.kind) == (canonical, INTERNATIONAL)
    assert p.display() == canonical


@pytest.mark.parametrize("typed, problem", [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("-", "empty"),
    ("abc", "characters"),
    ("0912abc4567", "characters"),
    ("تلفن ندارد", "characters"),
    ("021-2251-4321 داخلی", "characters"),      # the word without a number is not an extension
    ("0912123456", "length"),                   # one digit short
    ("091212345678", "length"),                 # one digit too many
    ("12", "length"),
    ("0912", "length"),
    ("021-22514321-123", "length"),             # an extension glued on with a dash is ambiguous
    ("09121234567 / 09351234567", "length"),     # two numbers in one cell
    ("01922514321", "area_code"),               # 019 is not an Iranian area code
    ("01022514321", "area_code"),
    ("+9", "length"),
    ("+98", "length"),
    ("1234567890123456", "length"),
])
def test_invalid_numbers_say_why(typed, problem):
    p = normalize(typed)
    assert p.kind == INVALID and not p.valid
    assert problem in p.problems
    msg = problem_message(p)
    assert msg == ph.PROBLEM_MESSAGES[problem]
    assert any("\u0600" <= ch <= "\u06ff" for ch in msg)


def test_problem_message_fallback_is_persian():
    p = ph.Phone("x", "", INVALID, problems=("something-else",))
    assert "معتبر نیست" in problem_message(p)


def test_raw_is_kept_as_given():
    p = normalize("۰۹۱۲-۱۲۳-۴۵۶۷")
    assert p.raw == "۰۹۱۲-۱۲۳-۴۵۶۷"


# --- lookup_keys: what the caller-ID listener tries ------------------------------------------------------------

@pytest.mark.parametrize("reported", [
    # the forms an Iranian integrator lists (shared/reference/callerid-formats.md §5)
    "9122800039", "+989122800039", "09122800039", "00989122800039",
])
def test_lookup_keys_mobile_forms_all_try_the_canonical_first(reported):
    assert lookup_keys(reported)[0] == "09122800039"


@pytest.mark.parametrize("reported", ["00982122514321", "02122514321", "2122514321", "22514321", "+982122514321"])
def test_lookup_keys_landline_forms_all_try_the_canonical_first(reported):
    assert lookup_keys(reported)[0] == TEHRAN_CANON


def test_lookup_keys_local_number_uses_the_office_area_code():
    assert lookup_keys("22514321", "031") == ["03122514321", "22514321"]
    assert lookup_keys("22514321", "021") == ["02122514321", "22514321"]


def test_lookup_keys_also_try_the_bare_digits():
    keys = lookup_keys("+98 21 2251 4321")
    assert keys == [TEHRAN_CANON, "982122514321"]


@pytest.mark.parametrize("reported, behind", [
    ("902122514321", TEHRAN_CANON),     # outside-line 9 before a landline
    ("909121234567", MOBILE_CANON),     # outside-line 9 before a mobile
    ("002122514321", TEHRAN_CANON),     # outside-line 0 (reads as the international 00 21… otherwise)
    ("009121234567", MOBILE_CANON),     # outside-line 0 (reads as India 00 91… otherwise)
])
def test_lookup_keys_see_through_an_outside_line_digit(reported, behind):
    assert behind in lookup_keys(reported)


def test_lookup_keys_of_nothing():
    assert lookup_keys("") == []
    assert lookup_keys(None) == []
    assert lookup_keys("PRIVATE") == []
    assert lookup_keys("۱۱۰") == ["110"]


# --- properties -----------------------------------------------------------------------------------------------

_SEPARATORS = st.sampled_from(["", " ", "-", "\u00a0", "\u200c", "\u2009"])


@given(st.integers(min_value=0, max_value=9999999), st.sampled_from(["912", "935", "901", "990", "921"]),
       _SEPARATORS, st.sampled_from(["0", "+98", "0098", "98", "", "+98 (0)"]), st.booleans())
def test_any_mobile_written_any_way_folds_to_one_form(n, op, sep, prefix, persian):
    sub = f"{n:07d}"
    canonical = f"0{op}{sub}"
    typed = f"{prefix}{op}{sep}{sub[:3]}{sep}{sub[3:]}"
    if persian:
        typed = typed.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    p = normalize(typed)
    assert (p.canonical, p.kind) == (canonical, MOBILE)
    assert normalize(p.canonical) == ph.Phone(p.canonical, canonical, MOBILE)
    assert lookup_keys(typed)[0] == canonical


@given(st.text(max_size=30))
def test_normalize_never_raises(s):
    p = normalize(s)
    assert isinstance(p.canonical, str)
    if p.valid:
        assert p.canonical
    assert isinstance(lookup_keys(s), list)
