"""The layers only point down: ui/, cli/ → app/ → models/ → app/core/.

Every .py file under app/, models/, cli/ and ui/ is parsed (not imported) and each import is checked, including
imports inside functions and imports by name through importlib.import_module / __import__ (imports under
`if TYPE_CHECKING:` are for type hints only and are not counted):
- app/ may use PySide6.QtCore (signals, threads) but no other Qt module (no widgets, no QtGui), nothing from ui/
  and nothing from cli/;
- models/ uses no Qt at all, nothing from ui/ or cli/, and from app/ only the ground floor, app/core/;
- app/core/ uses nothing else of the project (the package face `app`, which holds the name and version, aside);
- no import circles anywhere: no two modules import each other, directly or through others.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

APP_QT_ALLOWED = {"PySide6.QtCore"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file; `from X import Y` yields X.Y as well as X."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    current = _module_name(path)
    is_package = path.name == "__init__.py"
    out: list[tuple[int, str]] = []
    hints = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hints |= {id(n) for b in node.body for n in ast.walk(b)}
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(node, current, is_package)
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                out.append((node.lineno, node.args[0].value))
    return out


def _under(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def app_violations(path: Path) -> list[str]:
    bad = []
    core = _module_name(path).startswith("app.core")
    for line, mod in imports_of(path):
        if _under(mod, "ui") or _under(mod, "cli"):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (app/ must not depend on ui/ or cli/)")
        elif core and ((_under(mod, "app") and mod not in ("app", "app.APP_NAME", "app.APP_TITLE", "app.__version__")
                        and not _under(mod, "app.core")) or _under(mod, "models")):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (app/core/ is the ground floor: it imports "
                       "nothing else of the project)")
        elif _under(mod, "PySide6") and mod != "PySide6" and not any(_under(mod, ok) for ok in APP_QT_ALLOWED):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (app/ may use PySide6.QtCore only)")
    return bad


def models_violations(path: Path) -> list[str]:
    bad = []
    for line, mod in imports_of(path):
        if _under(mod, "ui") or _under(mod, "cli") or _under(mod, "PySide6") or _under(mod, "shiboken6"):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (models/ must not use Qt, ui/ or cli/)")
        elif _under(mod, "app") and mod != "app" and not _under(mod, "app.core"):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} (models/ may use only app/core/ of app/)")
    return bad


def import_graph(folders=("app", "models", "cli", "ui")) -> dict[str, set[str]]:
    """Module → the project modules it imports (anywhere in the file, functions included)."""
    files = {_module_name(p): p for folder in folders if (ROOT / folder).is_dir() for p in _files(folder)}

    def owner(name: str) -> str | None:
        while name:
            if name in files:
                return name
            name = name.rpartition(".")[0]
        return None

    graph: dict[str, set[str]] = {m: set() for m in files}
    for m, p in files.items():
        for _line, mod in imports_of(p):
            o = owner(mod)
            # a package's face (__init__.py) imported on the way to its modules is not an edge of its own
            if o and o != m and files[o].name != "__init__.py":
                graph[m].add(o)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


# ui/ reads and writes through app/ services only: no models (tables, queries, the writer) and no peewee.
# ui/application.py is the start-up, which opens the database and starts the writer before any screen exists.
UI_START_UP = {"ui/application.py"}
# Older screens that still reach into models/, each to move behind an app/ function; the list may only shrink
# (test_ui_model_debts_are_still_real fails when one is paid, so its line is removed with it).
UI_MODEL_DEBTS = {
    ("ui/calls/controller.py", "models.writer"),
    ("ui/office/users_page.py", "models.core"),
    ("ui/settings/backup_panel.py", "models.base"),
    ("ui/sms/segment_builder.py", "models.core"),
    ("ui/sms/send_dialog.py", "models.core"),
}


def ui_violations(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    if rel in UI_START_UP:
        return []
    bad = []
    for line, mod in imports_of(path):
        top = next((m for m in ("models", "peewee", "playhouse") if _under(mod, m)), None)
        if top is None:
            continue
        owner = ".".join(mod.split(".")[:2]) if top == "models" else top
        if (rel, owner) not in UI_MODEL_DEBTS:
            bad.append(f"{rel}:{line} imports {mod} (ui/ reads and writes through app/ services, never models/)")
    return bad


@pytest.mark.parametrize("path", _files("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_imports_no_models(path):
    assert ui_violations(path) == []


def test_ui_model_debts_are_still_real():
    """Each listed exception still exists; a paid one is taken off the list so it cannot come back unseen."""
    found = set()
    for rel, mod in UI_MODEL_DEBTS:
        f = ROOT / rel
        if f.exists() and any(_under(m, mod) for _l, m in imports_of(f)):
            found.add((rel, mod))
    assert found == UI_MODEL_DEBTS


@pytest.mark.parametrize("source", [
    "from models.service import ServiceRequest",
    "def f():\n    from models.calls import Call\n",
    "import models.core",
    "from models import service",
    "import peewee as pw",
    "from playhouse.shortcuts import model_to_dict",
    "import importlib\nimportlib.import_module('models.sales')",
])
def test_checker_flags_models_in_ui(tmp_path, source):
    (tmp_path / "ui" / "service").mkdir(parents=True)
    f = tmp_path / "ui" / "service" / "page.py"
    f.write_text(source, encoding="utf-8")
    globals()["ROOT"], old = tmp_path, ROOT
    try:
        assert ui_violations(f), source
        f.write_text("from app.service import requests\nfrom app.core.text import clean\nimport modelsx", encoding="utf-8")
        assert ui_violations(f) == []
    finally:
        globals()["ROOT"] = old


@pytest.mark.parametrize("path", _files("cli"), ids=lambda p: str(p.relative_to(ROOT)))
def test_cli_uses_no_widgets_of_its_own(path):
    """cli/ parses and prints; the only way it reaches the GUI is `crm gui` (ui.application)."""
    bad = [f"{line}: {mod}" for line, mod in imports_of(path)
           if (_under(mod, "ui") and not _under(mod, "ui.application")) or _under(mod, "PySide6.QtWidgets")]
    assert bad == []


def test_there_is_something_to_check():
    assert len(_files("app")) > 10 and len(_files("models")) > 3


@pytest.mark.parametrize("path", _files("app"), ids=lambda p: str(p.relative_to(ROOT)))
def test_app_imports_no_widgets_and_no_ui(path):
    assert app_violations(path) == []


@pytest.mark.parametrize("path", _files("models"), ids=lambda p: str(p.relative_to(ROOT)))
def test_models_import_no_qt_and_no_ui(path):
    assert models_violations(path) == []


# --- the checker itself catches every spelling of a forbidden import ---------------------------------------------

@pytest.mark.parametrize("source", [
    "from PySide6.QtWidgets import QWidget",
    "from PySide6 import QtWidgets",
    "import PySide6.QtWidgets",
    "import PySide6.QtGui as g",
    "from PySide6.QtGui import QColor",
    "from PySide6 import QtCore, QtGui",
    "def f():\n    from ui.main_window import MainWindow\n",
    "import ui",
    "from ui import widgets",
    "import importlib\nimportlib.import_module('ui.application')",
    "__import__('PySide6.QtWidgets')",
    "from ..ui import x",
])
def test_checker_flags_forbidden_imports_in_app(tmp_path, source):
    (tmp_path / "app" / "sub").mkdir(parents=True)
    f = tmp_path / "app" / "sub" / "mod.py"
    f.write_text(source, encoding="utf-8")
    globals()["ROOT"], old = tmp_path, ROOT
    try:
        if source.startswith("from ..ui"):
            # app/sub/mod.py: ".." is app/, so this is app.ui: allowed; one dot more reaches the top-level ui.
            assert app_violations(f) == []
            f.write_text("from ...ui import x", encoding="utf-8")
        assert app_violations(f), source
    finally:
        globals()["ROOT"] = old


@pytest.mark.parametrize("source", [
    "from PySide6.QtCore import Signal",
    "from PySide6 import QtCore",
    "import PySide6.QtCore",
    "from app.core.text import clean\nfrom models.core import Customer\nimport peewee",
    "import uikit",
    "from app import ui_helpers",
])
def test_checker_allows_qtcore_and_lower_layers_in_app(tmp_path, source):
    (tmp_path / "app").mkdir()
    f = tmp_path / "app" / "mod.py"
    f.write_text(source, encoding="utf-8")
    globals()["ROOT"], old = tmp_path, ROOT
    try:
        assert app_violations(f) == []
    finally:
        globals()["ROOT"] = old


@pytest.mark.parametrize("source, ok", [
    ("from PySide6.QtCore import Signal", False),
    ("import ui.widgets", False),
    ("from app.customers.service import create_customer", False),
    ("from app.backup import safety_copy", False),
    ("from cli.common import open_db", False),
    ("from app.core.errors import DatabaseError", True),
    ("from app.core.clock import now", True),
    ("from app.core import paths", True),
    ("import peewee", True),
])
def test_checker_for_models(tmp_path, source, ok):
    (tmp_path / "models").mkdir()
    f = tmp_path / "models" / "mod.py"
    f.write_text(source, encoding="utf-8")
    globals()["ROOT"], old = tmp_path, ROOT
    try:
        assert (models_violations(f) == []) == ok
    finally:
        globals()["ROOT"] = old
