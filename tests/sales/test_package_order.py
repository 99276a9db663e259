"""app/sales/ reads top to bottom: each module imports only the modules listed above it in the package's
docstring (documents never imports payments), so the order a newcomer reads them in is the order they build on."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import app.sales

SALES = Path(app.sales.__file__).parent


def listed_order() -> list[str]:
    return re.findall(r"^\s+app\.sales\.(\w+)\s", app.sales.__doc__ or "", re.M)


def sibling_imports(name: str) -> set[str]:
    tree = ast.parse((SALES / f"{name}.py").read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("app.sales."):
                out.add(node.module.split(".")[2])
            elif node.module == "app.sales":
                out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[2] for a in node.names if a.name.startswith("app.sales.")}
    return out - {name}


def test_every_module_is_listed_once():
    order = listed_order()
    files = sorted(p.stem for p in SALES.glob("*.py") if p.stem != "__init__")
    assert sorted(order) == files


def test_modules_import_only_those_listed_above_them():
    order = listed_order()
    for i, name in enumerate(order):
        later = sibling_imports(name) - set(order[:i])
        assert later == set(), f"app.sales.{name} imports {sorted(later)}, listed below it"
