"""Iranian identity numbers: national code (کد ملی) check digit, company national ID, economic and postal codes."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.identity import (
    check_economic_code,
    check_national_id,
    check_postal_code,
    digits,
    is_valid_company_id,
    is_valid_national_code,
)

# Checksum-valid national codes that circulate as examples (e.g. in persian-tools' test suite).
VALID_CODES = ["0499370899", "0790419904", "1583250689", "0684159414", "4400276201", "2540201288", "7400076205",
               "7340416501", "0013542419", "0084575948"]


def _check_digit(first9: str) -> str:
    s = sum(int(first9[i]) * (10 - i) for i in range(9)) % 11
    return str(s if s < 2 else 11 - s)


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_national_codes(code):
    assert is_valid_national_code(code)
    assert check_national_id(code, "person") is None


@pytest.mark.parametrize("typed", ["۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "049-937089-9", "049 937 0899", " 0499370899 ",
                                   "۰۴۹-۹۳۷۰۸۹-۹"])
def test_national_code_as_people_type_it(typed):
    assert digits(typed) == "0499370899"
    assert is_valid_national_code(typed)
    assert check_national_id(typed, "person") is None


@pytest.mark.parametrize("code", ["0499370898", "1234567890", "0499370890", "9990419904", "0010000000"])
def test_wrong_check_digit(code):
    assert not is_valid_national_code(code)
    assert "رقم کنترل" in check_national_id(code, "person")


@pytest.mark.parametrize("code", [f"{d}" * 10 for d in range(10)])
def test_repeated_digits_are_never_issued(code):
    # 1111111111 etc. pass the mod-11 test but are not real codes.
    assert not is_valid_national_code(code)


@pytest.mark.parametrize("typed, says", [
    ("049937089", "۱۰ رقم"),          # a leading zero lost (Excel)
    ("04993708990", "۱۰ رقم"),
    ("12345", "۱۰ رقم"),
    ("04993708a9", "فقط رقم"),
    ("abcdefghij", "فقط رقم"),
])
def test_national_code_length_and_characters(typed, says):
    assert not is_valid_national_code(typed)
    assert says in check_national_id(typed, "person")


def test_empty_national_code_is_allowed():
    assert check_national_id("", "person") is None
    assert check_national_id("  ", "organisation") is None
    assert check_national_id(None, "person") is None


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_check_digit_property(first9):
    code = first9 + _check_digit(first9)
    assert is_valid_national_code(code) == (len(set(code)) > 1)
    wrong = first9 + str((int(_check_digit(first9)) + 1) % 10)
    assert not is_valid_national_code(wrong)


# --- companies ------------------------------------------------------------------------------------------------

def test_company_national_id_check_digit():
    assert is_valid_company_id("10380284790")
    assert is_valid_company_id("۱۰۳۸۰۲۸۴۷۹۰")
    assert not is_valid_company_id("10380284792")
    assert not is_valid_company_id("10380285692")
    assert not is_valid_company_id("11111111111")
    assert not is_valid_company_id("1038028479")


def test_organisation_accepts_an_11_digit_id_or_a_10_digit_code():
    assert check_national_id("10380284790", "organisation") is None
    # Only the length is enforced for the 11-digit ID (the published check-digit rules disagree).
    assert check_national_id("10380284792", "organisation") is None
    # A sole proprietorship registers with its owner's 10-digit national code.
    assert check_national_id("0499370899", "organisation") is None
    assert "معتبر نیست" in check_national_id("0499370898", "organisation")
    assert "۱۱ رقم" in check_national_id("123456789", "organisation")


@pytest.mark.parametrize("typed", ["abcdefghijk", "1038028479a", "10380-2847-9x", "۱۰۳۸۰۲۸۴۷۹ب"])
def test_organisation_id_with_letters_is_refused(typed):
    assert "فقط رقم" in check_national_id(typed, "organisation")


# --- economic and postal codes --------------------------------------------------------------------------------

def test_economic_code():
    assert check_economic_code("") is None
    assert check_economic_code("411111111111") is None
    assert check_economic_code("۴۱۱۱۱۱۱۱۱۱۱۱") is None
    assert check_economic_code("10380284790") is None      # new-style: the company's national ID
    assert check_economic_code("1234567890") is None
    assert check_economic_code("12345678901234") is None
    for wrong in ("123", "123456789012345", "41111111111x"):
        assert "۱۰ تا ۱۴ رقم" in check_economic_code(wrong)


def test_postal_code():
    assert check_postal_code("") is None
    assert check_postal_code("1234567890") is None
    assert check_postal_code("۱۴۳۴۸-۶۳۱۱۱") is None
    for wrong in ("12345", "12345678901", "کد پستی"):
        assert "۱۰ رقم" in check_postal_code(wrong)
