"""Persian text normalisation for storage and search, and Persian-digit display formatting."""
from __future__ import annotations

import functools
import re
import unicodedata

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ZWNJ = "\u200c"

_TO_ASCII_DIGITS = {ord(c): str(i) for i, c in enumerate(PERSIAN_DIGITS)}
_TO_ASCII_DIGITS.update({ord(c): str(i) for i, c in enumerate(ARABIC_DIGITS)})
_TO_PERSIAN_DIGITS = {ord(str(i)): c for i, c in enumerate(PERSIAN_DIGITS)}

# Arabic letter forms that Persian keyboards and old software produce, folded to the Persian letter.
_LETTER_FOLD = {
    "ي": "ی", "ى": "ی", "ئ": "ی", "ۍ": "ی", "ې": "ی",
    "ك": "ک", "ڪ": "ک",
    "ة": "ه", "ۀ": "ه", "ہ": "ه", "ە": "ه",
    "أ": "ا", "إ": "ا", "ٱ": "ا", "آ": "ا",
    "ؤ": "و",
}
_LETTER_FOLD_STORAGE = {"ي": "ی", "ى": "ی", "ك": "ک", "ڪ": "ک"}
# the same folds as str.translate tables (one C call instead of a Python step per character)
_STORAGE_TABLE = {ord(k): v for k, v in _LETTER_FOLD_STORAGE.items()} | _TO_ASCII_DIGITS
_SEARCH_TABLE = {ord(k): v for k, v in _LETTER_FOLD.items()} | _TO_ASCII_DIGITS

# Arabic diacritics (harakat, tanwin, shadda, sukun, superscript alef), tatweel and bidi controls.
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
# Every kind of space and joiner that people type between words, including ZWNJ (half-space).
_SPACES = re.compile("[\\s\u00a0\u2000-\u200b\u200c\u200d\u202f\u205f\u3000]+")
_JOINER_RUNS = re.compile("\\s*[\u200c\u200d][\\s\u200c\u200d]*")
_SPACE_RUNS = re.compile("[\\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_PUNCT = re.compile(r"[\u060c\u061b\u061f\u066b\u066c.,;:!?()\[\]{}\"'«»\-_/\\|*+=<>~`^%$#@&]+")


def to_ascii_digits(s: str) -> str:
    """Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII; everything else unchanged."""
    return s.translate(_TO_ASCII_DIGITS)


def to_persian_digits(s: object) -> str:
    """ASCII digits to Persian digits, for display."""
    return str(s).translate(_TO_PERSIAN_DIGITS)


# Text made only of these characters (printable ASCII, tab/newline, the plain Arabic-script letters Persian uses,
# Persian and Arabic-Indic digits) has nothing for the full normalisers' Unicode steps to do: NFC/NFKC leave it
# as it is, it has no bidi controls, presentation forms, diacritics, tatweel or joiners. Such text (nearly every
# name, city, phone or code in an office sheet) takes the short path below, with the same result.
_PLAIN_CHARS = ("\t\n\r\x20-\x7e\u00ab\u00bb\u060c\u061b\u061f\u0621-\u063a\u0641-\u064a\u0660-\u0669\u067e"
                "\u0686\u0698\u06a9\u06af\u06cc\u06f0-\u06f9")
_PLAIN = re.compile(f"[{_PLAIN_CHARS}]*")
# search_key() also takes ZWNJ on the short path: it is a space there
_PLAIN_OR_ZWNJ = re.compile(f"[{_PLAIN_CHARS}\u200c]*")
# search_key()'s folds, ZWNJ and its punctuation (every character _PUNCT matches), each turned into a space
_SEARCH_PLAIN_TABLE = _SEARCH_TABLE | {ord(c): " " for c in "\u200c\u060c\u061b\u061f\u066b\u066c.,;:!?()[]{}\"'«»-_/\\|*+=<>~`^%$#@&"}


def clean(s: str | None) -> str:
    """Normalise text for storage: the way it is shown, but with one spelling.

    Arabic ي/ك become ی/ک, digits become ASCII, diacritics and tatweel go, runs of spaces become one space,
    ZWNJ is kept (it is correct Persian spelling: می‌خواهم) but doubled or stray ones are removed.
    """
    if not s:
        return ""
    if type(s) is str and len(s) <= _CACHED_LEN:
        return _clean_cached(s)
    return _clean_any(str(s))


def _clean_any(s: str) -> str:
    if _PLAIN.fullmatch(s):
        return " ".join(s.translate(_STORAGE_TABLE).split())
    return _clean_full(s)


# Short texts repeat (cities, job titles, first names, tags): an import of 50,000 rows cleans the same few
# thousand values over and over. The cache is bounded; long texts (addresses, notes) are not kept.
_CACHED_LEN = 64
_clean_cached = functools.lru_cache(maxsize=32768)(_clean_any)


def _clean_full(s: str) -> str:
    s = unicodedata.normalize("NFC", s)
    s = _BIDI_CONTROLS.sub("", s)
    # Text copied from old PDFs carries Arabic presentation forms (ﻋﻠﻰ); store the plain letters.
    s = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), s)
    s = s.translate(_STORAGE_TABLE)
    s = _DIACRITICS.sub("", s)
    # One ZWNJ for any run of joiners and spaces around them («می \u200c\u200c خواهم» → «می‌خواهم»).
    s = _JOINER_RUNS.sub(ZWNJ, s)
    s = _SPACE_RUNS.sub(" ", s)
    s = s.strip(" " + ZWNJ)
    return s


def search_key(s: str | None) -> str:
    """Fold text for matching: what a person types should find what another person stored.

    Stronger than clean(): ZWNJ and punctuation count as a space, آ/أ/إ match ا, ة/ۀ match ه, case folded.
    The result is lower-case, single-spaced and stripped.
    """
    if not s:
        return ""
    if type(s) is str and len(s) <= _CACHED_LEN:
        return _search_key_cached(s)
    return _search_key_any(str(s))


def _search_key_any(s: str) -> str:
    if _PLAIN_OR_ZWNJ.fullmatch(s):
        return " ".join(s.translate(_SEARCH_PLAIN_TABLE).split()).casefold()
    return _search_key_full(s)


_search_key_cached = functools.lru_cache(maxsize=32768)(_search_key_any)


def search_key_of_parts(parts: list[str]) -> str:
    """search_key(" ".join(parts)), built from each part's own (cached) key where that is the same thing: text
    on the short path (see _search_key_any) is folded character by character and its words joined by single
    spaces, so the key of parts joined by spaces is their keys joined by spaces (empty keys left out). Any other
    part: the joined text's key, as search_key() makes it."""
    keys = []
    for part in parts:
        if not part:
            continue
        key = _plain_search_key(part) if type(part) is str and len(part) <= _CACHED_LEN else None
        if key is None:
            return search_key(" ".join(parts))
        if key:
            keys.append(key)
    return " ".join(keys)


@functools.lru_cache(maxsize=32768)
def _plain_search_key(s: str) -> str | None:
    if _PLAIN_OR_ZWNJ.fullmatch(s):
        return " ".join(s.translate(_SEARCH_PLAIN_TABLE).split()).casefold()
    return None


def _search_key_full(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    s = _BIDI_CONTROLS.sub("", s)
    s = s.translate(_SEARCH_TABLE)
    s = _DIACRITICS.sub("", s)
    s = _PUNCT.sub(" ", s)
    s = _SPACES.sub(" ", s)
    return s.strip().casefold()


def compact_key(s: str | None) -> str:
    """search_key without any spaces: «علی رضا» and «علیرضا» meet here."""
    return search_key(s).replace(" ", "")


def digits_only(s: str | None) -> str:
    return re.sub(r"\D", "", to_ascii_digits(s or ""))


def group_thousands(n: int, sep: str = "٬") -> str:
    neg = n < 0
    s = f"{abs(int(n)):,}".replace(",", sep)
    return ("-" if neg else "") + s


def format_number(n: int | float | None, persian: bool = True) -> str:
    """1234567 -> ۱٬۲۳۴٬۵۶۷ (Persian digits and the Arabic thousands separator)."""
    if n is None:
        return ""
    if isinstance(n, float) and not n.is_integer():
        whole, frac = f"{abs(n):.2f}".split(".")
        frac = frac.rstrip("0")
        s = group_thousands(int(whole)) + ("٫" + frac if frac else "")
        if n < 0 and (int(whole) or frac):
            s = "-" + s
    else:
        s = group_thousands(int(n))
    return to_persian_digits(s) if persian else s.replace("٬", ",")


def format_rial(amount: int | None, toman: bool = False) -> str:
    """Money for display: integer Rials, optionally shown as Toman (÷10)."""
    if amount is None:
        return ""
    if toman:
        return format_number(amount // 10 if amount % 10 == 0 else amount / 10) + " تومان"
    return format_number(amount) + " ریال"


def isolate(s: str) -> str:
    """Wrap a Latin/digit run in a bidi isolate so it keeps its order inside Persian text."""
    return f"\u2068{s}\u2069"


def parse_int(s: str | int | None) -> int | None:
    """Read an integer typed with Persian/Arabic digits and any thousands separators; None if not a number."""
    if s is None:
        return None
    if isinstance(s, int):
        return s
    t = _BIDI_CONTROLS.sub("", to_ascii_digits(str(s))).strip()
    t = re.sub("[,\u066c\u060c\\s']", "", t)
    neg = t[:1] in ("-", "\u2212")
    if neg:
        t = t[1:]
    if not (t.isascii() and t.isdigit()):
        return None
    v = int(t)
    return -v if neg else v


# Persian alphabetical order. Unicode puts پ چ ژ ک گ ی after the Arabic letters, so a plain code-point sort
# lists «پرویز» after «یوسف»; sort_key() maps each letter to a private code point in alphabet order.
PERSIAN_ALPHABET = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_COLLATE = {ord(ch): chr(0xE000 + i) for i, ch in enumerate(PERSIAN_ALPHABET)}


def sort_key(s: str | None) -> str:
    """A key that orders names the way a Persian reader expects (آ with ا, ک before گ, پ after ب)."""
    return search_key(s).translate(_COLLATE)


def party_name(first: str | None, last: str | None, company: str | None, kind: str | None) -> str:
    """How a customer is named in lists: an organisation by its company, a person by first and last name."""
    person = " ".join(p for p in (first, last) if p)
    if kind == "organisation":
        return company or person
    return person or company or ""
