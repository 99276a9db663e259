"""ui/ formats numbers, money, dates and times through app.fmt only, so every screen follows one rule (issue 18).

Each .py file under ui/ is parsed (not imported) and these are refused:
- a thousands separator made by hand: a format spec with «,» (f"{n:,}", "{:,}".format(n), format(n, ","));
- the low-level helpers app.fmt wraps: to_persian_digits, format_number, format_rial, group_thousands;
- app.core.jalali's format_date / format_datetime / format_time for display (with persian=False they write the
  ASCII text an input field or a file name wants, and are allowed);
- strftime, whose digits are ASCII.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Being rewritten on another branch; it joins the rule when that lands.
NOT_YET: set[str] = set()

HELPERS = {"to_persian_digits", "format_number", "format_rial", "group_thousands"}
DATE_HELPERS = {"format_date", "format_datetime", "format_time"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _spec_has_comma(spec: ast.AST | None) -> bool:
    return spec is not None and any(isinstance(v, ast.Constant) and "," in str(v.value)
                                    for v in ast.walk(spec))


def hand_made_formatting(source: str) -> list[str]:
    """(line: what) for every piece of display formatting done without app.fmt."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.FormattedValue) and _spec_has_comma(node.format_spec):
            bad.append(f"{line}: thousands separator in an f-string (use fmt.num / fmt.count / fmt.money)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (":," in node.value
                                                                                 and "{" in node.value):
            bad.append(f"{line}: thousands separator in a format string (use fmt.num)")
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name in HELPERS:
                    bad.append(f"{line}: imports {a.name} (use app.fmt)")
        elif isinstance(node, ast.Call):
            fn = _name(node.func)
            if fn in HELPERS:
                bad.append(f"{line}: calls {fn} (use app.fmt)")
            elif fn in DATE_HELPERS and not any(k.arg == "persian" for k in node.keywords):
                bad.append(f"{line}: calls {fn} for display (use fmt.date / fmt.datetime / fmt.time)")
            elif fn == "strftime":
                bad.append(f"{line}: strftime gives ASCII digits (use fmt.time / fmt.date)")
            elif fn == "format" and isinstance(node.func, ast.Name) and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Constant) and "," in str(node.args[1].value):
                bad.append(f"{line}: format(n, ',') (use fmt.num)")
    return bad


def _ui_files() -> list[Path]:
    return sorted(p for p in (ROOT / "ui").rglob("*.py") if str(p.relative_to(ROOT)) not in NOT_YET)


@pytest.mark.parametrize("path", _ui_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_formats_through_app_fmt(path):
    assert hand_made_formatting(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    "x = f'{n:,}'",
    "x = f'{n:,.0f} ریال'",
    "x = '{:,}'.format(n)",
    "x = format(n, ',')",
    "from app.core.text import to_persian_digits",
    "x = to_persian_digits(n)",
    "x = text.format_number(n)",
    "x = jalali.format_date(d)",
    "x = format_datetime(d)",
    "x = d.strftime('%H:%M')",
])
def test_the_scan_catches_each_spelling(source):
    assert hand_made_formatting(source) != []


@pytest.mark.parametrize("source", [
    "x = fmt.num(n)",
    "x = f'{fmt.count(n, \"تماس\")} (بیشتر)'",
    "x = jalali.format_date(d, persian=False)",
    "x = f'{ratio:.1f}'",
    "x = 'a, b'",
])
def test_the_scan_lets_app_fmt_and_ascii_input_text_pass(source):
    assert hand_made_formatting(source) == []
