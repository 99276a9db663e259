"""Persian text normalisation (storage and search) and Persian-digit display, with real-world inputs."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.text import (
    ZWNJ,
    clean,
    compact_key,
    digits_only,
    format_number,
    format_rial,
    isolate,
    parse_int,
    search_key,
    sort_key,
    to_ascii_digits,
    to_persian_digits,
)

NBSP = "\u00a0"
THIN = "\u2009"
NNBSP = "\u202f"
LRM, RLM = "\u200e", "\u200f"
RLE, PDF = "\u202b", "\u202c"
BOM = "\ufeff"


# --- digits -------------------------------------------------------------------------------------------------

def test_persian_and_arabic_indic_digits_become_ascii():
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    # Mixed in one string, as happens when a number is typed half on each keyboard layout.
    assert to_ascii_digits("۰۹۱2-٣٤٥ abc") == "0912-345 abc"


def test_to_persian_digits_for_display():
    assert to_persian_digits("1403/05/12") == "۱۴۰۳/۰۵/۱۲"
    assert to_persian_digits(2024) == "۲۰۲۴"
    assert to_persian_digits("abc") == "abc"


def test_digits_only():
    assert digits_only("۰۹۱۲-۱۲۳ ۴۵۶۷") == "09121234567"
    assert digits_only("(٠٢١) 2251") == "0212251"
    assert digits_only(None) == ""
    assert digits_only("بدون رقم") == ""


# --- clean(): storage -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [
    ("علي كريمي", "علی کریمی"),                               # Arabic ي/ك
    ("مي\u200cخواهم", "می\u200cخواهم"),                          # ZWNJ is correct spelling: kept
    ("می خواهم", "می خواهم"),                                   # a space stays a space
    ("میخواهم", "میخواهم"),                                     # and nothing is invented
    ("می\u200c\u200cخواهم", "می\u200cخواهم"),                      # doubled ZWNJ
    ("می \u200c خواهم", "می\u200cخواهم"),                         # ZWNJ with spaces around it
    ("می\u200dخواهم", "می\u200cخواهم"),                          # ZWJ typed instead of ZWNJ
    ("\u200cعلی\u200c", "علی"),                                  # stray ZWNJ at the ends
    ("مُحَمَّد", "محمد"),                                          # harakat and shadda
    ("قرآنٌ", "قرآن"),                                          # tanwin
    ("محـــــمد", "محمد"),                                       # tatweel (kashida)
    (f"علی{NBSP}رضا", "علی رضا"),                              # NBSP from Word
    (f"علی{THIN}رضا", "علی رضا"),                              # thin space
    (f"علی{NNBSP}رضا", "علی رضا"),                             # narrow NBSP
    ("  علی   \t  رضا  ", "علی رضا"),                            # runs of spaces and tabs
    (f"{RLM}علی رضایی{LRM}", "علی رضایی"),                       # bidi marks pasted from Word
    (f"{RLE}شرکت آریا{PDF}", "شرکت آریا"),                       # embedding controls
    (f"{BOM}سلام", "سلام"),                                       # BOM at the start of a pasted cell
    ("۱۴۰۳ و ٤٥٦", "1403 و 456"),                               # digits are stored ASCII
    ("آرش", "آرش"),                                             # آ is a letter of its own in storage
    ("خانۀ من", "خانۀ من"),                                     # precomposed ۀ (ezafe) is kept
    ("خانهٔ من", "خانه من"),                                # hamza above typed as a mark is a diacritic
    ("ﻋﻠﻰ", "علی"),                                             # Arabic presentation forms from old PDFs
    ("", ""),
    (None, ""),
])
def test_clean_for_storage(raw, stored):
    assert clean(raw) == stored


def test_clean_keeps_latin_case_and_punctuation():
    # Storage keeps what the user meant: only the spelling of Persian is unified.
    assert clean("Ali@Example.com") == "Ali@Example.com"
    assert clean("بازرگانی ۱۰۰٪") == "بازرگانی 100٪"
    assert clean("a_b%c") == "a_b%c"


def test_clean_is_idempotent_on_samples():
    for s in ("علي كريمي", "مي \u200c خواهم", "مُحَمَّد", f"{RLM}۱۲۳{NBSP}abc", "ﻋﻠﻰ"):
        assert clean(clean(s)) == clean(s)


@given(st.text(alphabet=st.sampled_from(list("abcيكیکیا آ ۰۱٠١\u200c\u200d\u00a0\u2009\u064e\u0640\u200f.,_%-")),
               max_size=40))
def test_clean_is_idempotent_and_tidy(s):
    c = clean(s)
    assert clean(c) == c
    assert "  " not in c
    assert not c.startswith((" ", ZWNJ)) and not c.endswith((" ", ZWNJ))
    assert not any(ch in c for ch in "يك٠١\u0640\u064e\u200f\u200d")


# --- search_key() / compact_key(): matching -------------------------------------------------------------------

@pytest.mark.parametrize("variant", [
    "می\u200cخواهم", "می خواهم", "مي خواهم", "می\u200c خواهم", f"می{NBSP}خواهم", f"می{THIN}خواهم", "مـی خواهم",
])
def test_zwnj_space_and_joined_meet_in_search(variant):
    assert search_key(variant) == "می خواهم"
    assert compact_key(variant) == compact_key("میخواهم") == "میخواهم"


@pytest.mark.parametrize("typed, stored", [
    ("علي", "علی"),
    ("كريمي", "کریمی"),
    ("ارش", "آرش"),                   # آ/ا
    ("اسامه", "أسامة"),               # أ and ة
    ("مسيول", "مسئول"),               # ئ folds to ی for matching
    ("موسسه", "مؤسسه"),               # ؤ folds to و
    ("خانه من", "خانهٔ من"),           # ۀ / ه + hamza
    ("محمد", "مُحَمَّد"),
    ("1403", "۱۴۰۳"),
    ("۱۴۰۳", "١٤٠٣"),
    ("ali reza", "ALI  Reza"),
    ("علی", f"{RLM}علی{LRM}"),
])
def test_search_key_makes_variants_equal(typed, stored):
    assert search_key(typed) == search_key(stored)


def test_search_key_turns_punctuation_into_spaces():
    # Punctuation separates words for search; this is also what keeps LIKE wildcards out of queries.
    assert search_key("بازرگانی (آریا)، تهران.") == "بازرگانی اریا تهران"
    assert search_key("a_b%c") == "a b c"
    assert search_key("«شرکت»-نو") == "شرکت نو"
    assert search_key("%_") == ""
    assert search_key(None) == ""


def test_compact_key_joins_words():
    assert compact_key("علی رضا") == compact_key("علیرضا") == compact_key("علی\u200cرضا") == "علیرضا"
    assert compact_key("  ") == ""


# --- sort_key(): Persian alphabetical order --------------------------------------------------------------------

def test_sort_key_orders_persian_letters_by_the_alphabet():
    names = ["یوسف", "پرویز", "گلاره", "کامران", "ژاله", "زهرا", "چنگیز", "جواد", "تینا", "بهرام", "احمد"]
    assert sorted(names, key=sort_key) == [
        "احمد", "بهرام", "پرویز", "تینا", "جواد", "چنگیز", "زهرا", "ژاله", "کامران", "گلاره", "یوسف"]


def test_sort_key_folds_arabic_forms_and_alef_madda():
    assert sort_key("علي") == sort_key("علی")
    assert sort_key("كاوه") == sort_key("کاوه")
    # آ sorts among the ا words, not after ی as a bare code-point sort would put it.
    assert sort_key("آرش") < sort_key("بهرام")
    assert sort_key("ابراهیم") < sort_key("آرش") < sort_key("اسماعیل")


# --- number display -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, shown", [
    (0, "۰"),
    (7, "۷"),
    (999, "۹۹۹"),
    (1000, "۱٬۰۰۰"),
    (1234567, "۱٬۲۳۴٬۵۶۷"),
    (-1234567, "-۱٬۲۳۴٬۵۶۷"),
    (12.0, "۱۲"),
    (1234.5, "۱٬۲۳۴٫۵"),
    (1234.25, "۱٬۲۳۴٫۲۵"),
    (-1234.25, "-۱٬۲۳۴٫۲۵"),
    (-0.5, "-۰٫۵"),                  # the sign of a value between -1 and 0 must not be lost
    (0.999, "۱"),                    # rounds up to a whole number: no dangling decimal separator
    (1234.001, "۱٬۲۳۴"),
    (None, ""),
])
def test_format_number(n, shown):
    assert format_number(n) == shown


def test_format_number_ascii():
    assert format_number(1234567, persian=False) == "1,234,567"
    assert format_number(-1234.5, persian=False) == "-1,234٫5"


def test_format_rial_and_toman():
    assert format_rial(1234560) == "۱٬۲۳۴٬۵۶۰ ریال"
    assert format_rial(0) == "۰ ریال"
    assert format_rial(None) == ""
    assert format_rial(1234560, toman=True) == "۱۲۳٬۴۵۶ تومان"
    assert format_rial(1234565, toman=True) == "۱۲۳٬۴۵۶٫۵ تومان"   # a Rial remainder is not hidden
    assert format_rial(-50, toman=True) == "-۵ تومان"
    assert format_rial(-5, toman=True) == "-۰٫۵ تومان"


# --- parse_int -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, value", [
    ("1234", 1234),
    ("۱۲۳۴", 1234),
    ("١٢٣٤", 1234),
    ("۱٬۲۳۴٬۵۶۷", 1234567),          # Arabic thousands separator
    ("1,234,567", 1234567),
    ("۱،۲۳۴", 1234),                  # Arabic comma used as a separator
    ("1 234 567", 1234567),
    (f"1{NBSP}234{THIN}567", 1234567),
    ("1'234", 1234),
    ("  42  ", 42),
    ("-12", -12),
    ("\u221212", -12),                # a real minus sign
    ("۱۲۳۴۵" + RLM, 12345),           # a bidi mark pasted from a Word cell
    (LRM + "۱٬۰۰۰", 1000),
    (0, 0),
    (15, 15),
])
def test_parse_int_reads_numbers(typed, value):
    assert parse_int(typed) == value


@pytest.mark.parametrize("typed", [None, "", "  ", "abc", "12.5", "۱۲٫۵", "12a", "--5", "-", "1-2", "5-", "۱۲ تومان",
                                   "²", "1²"])
def test_parse_int_refuses_what_is_not_an_integer(typed):
    assert parse_int(typed) is None


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_format_then_parse_round_trips(n):
    assert parse_int(format_number(n)) == n
    assert parse_int(format_number(n, persian=False)) == n


_MESSY = st.text(alphabet=st.sampled_from(list(
    "abcABCيكیکیاآأإةۀهؤئ ۰۱٠١01\u200c\u200d\u00a0\u2009\u202f\u064e\u0651\u0654\u0640\u200f\u200e\u202b.,_%-()«»ﻋﻠﻰﻻ\t\n")),
    max_size=30)


@given(_MESSY)
def test_storage_cleaning_never_changes_what_a_search_finds(s):
    # Whatever clean() stores must be found by exactly what the raw text would have been found by.
    assert search_key(clean(s)) == search_key(s)
    assert search_key(search_key(s)) == search_key(s)
    assert compact_key(clean(s)) == compact_key(s)


def test_isolate_wraps_in_first_strong_isolate():
    assert isolate("021-2251") == "\u2068021-2251\u2069"
    # clean() removes the isolates again, so an isolated value pasted back is stored plainly.
    assert clean(isolate("0912 123 4567")) == "0912 123 4567"


# Plain text (ASCII, the Persian letters and digits) takes a short path in clean() and search_key(); it must give
# exactly what the full Unicode path gives, for every mix of plain and not-so-plain characters.
_PLAIN_AND_NOT = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x09, max_codepoint=0x7f),
    st.characters(min_codepoint=0x0600, max_codepoint=0x06ff),
    st.sampled_from(list("\u00a0\u2009\u200c\u200d\u200f\u202b\ufeffﻋﻠﻰ\x0b\x0c\x1c\x85ßİ")),
), max_size=40) | st.text(alphabet=st.sampled_from(list(
    "ab AZ.,-()«»،؛؟۰۹٠٩09\t\n\u200cءآأؤإئابةتغفقكلمنهويپچژکگی")), max_size=40)


@settings(max_examples=400)
@given(_PLAIN_AND_NOT)
def test_the_short_path_for_plain_text_gives_what_the_full_path_gives(s):
    from app.core import text

    assert clean(s) == text._clean_full(s)
    assert search_key(s) == text._search_key_full(s)


@pytest.mark.parametrize("s", ["  علي   كريمي\t", "Ali  REZAEI ", "۰۹۱۲-۱۲۳ (۴۵۶۷)", "a.b,c;d", "آیدا أحمدی ة",
                               "شرکت «پارس» & پسران", "\n\r x \n", "٠١٢ abc_def/ghi",
                               "سلام، خوبی؟ بله؛ نه"])
def test_the_short_path_on_office_samples(s):
    from app.core import text

    assert text._PLAIN.fullmatch(s)
    assert clean(s) == text._clean_full(s)
    assert search_key(s) == text._search_key_full(s)
    s = s.replace(" ", "\u200c")                    # half-spaces: search_key()'s short path still
    assert text._PLAIN_OR_ZWNJ.fullmatch(s)
    assert search_key(s) == text._search_key_full(s)


def test_search_key_of_parts_is_the_key_of_the_joined_parts():
    import random

    from app.core.text import search_key_of_parts

    examples = [[], ["", ""], ["علي", "رضا"], ["مصرف\u200cکننده", " a.b ", "«x»"], ["ﻋﻠﻰ", "x"], ["ß", "İ"],
                ["a" * 70, "b"], ["\u064bمحمد", "\u0640"], ["x\u200d", "\u200fy"], ["۱۲٣", "A-B"]]
    rnd = random.Random(7)
    alphabet = "abAB z\u200c\u200d\u064a\u0643\u06cc\u06a9\u0622\u06f1\u0661.,-«»\u064b\u0640\t\u00a0ﻋ\u200fİß\u2003"
    examples += [["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8))) for _ in range(rnd.randint(0, 6))]
                 for _ in range(5000)]
    for parts in examples:
        assert search_key_of_parts(parts) == search_key(" ".join(parts)), parts
