"""Nothing on the runtime path is POSIX-only, so the program starts on Windows.

1. Every runtime module (main.py, app/, models/, cli/, ui/) is imported in a fresh interpreter where fcntl,
   termios, tty, pty, grp, pwd and resource cannot be imported (a meta-path finder raises ImportError for them,
   as Windows' Python would), and the command line is built (`crm --help`).
2. The source is read (not imported): those modules, and os.openpty / os.fork / os.getuid-style calls, appear
   only where they are allowed — inside a function, in the POSIX-only simulator back ends (the pty simulators)
   or behind a platform check that has a Windows branch (models/presence.py locks with msvcrt there).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("app", "models", "cli", "ui")
POSIX_ONLY = ("fcntl", "termios", "tty", "pty", "grp", "pwd", "resource")

# (file, module or os function) → why it may be there. Each is used inside a function only.
ALLOWED = {
    ("app/callerid/simulator.py", "tty"): "the simulator's pty back end (the TCP back end serves Windows)",
    ("app/callerid/simulator.py", "os.openpty"): "the simulator's pty back end",
    ("app/callerid/simulator.py", "os.ttyname"): "the simulator's pty back end",
    ("app/callerid/pbx_simulator.py", "tty"): "SmdrPty; SmdrTcpServer is the portable one",
    ("app/callerid/pbx_simulator.py", "os.openpty"): "SmdrPty",
    ("app/callerid/pbx_simulator.py", "os.ttyname"): "SmdrPty",
    ("app/sms/gsm_simulator.py", "tty"): "the GSM modem simulator (tests and demos only)",
    ("app/sms/gsm_simulator.py", "os.openpty"): "the GSM modem simulator",
    ("app/sms/gsm_simulator.py", "os.ttyname"): "the GSM modem simulator",
    ("models/presence.py", "fcntl"): "byte-range lock on POSIX; msvcrt.locking on Windows",
    ("app/core/fs.py", "os.getuid"): "permission tightening, behind `if not POSIX: return`",
}
POSIX_OS_CALLS = {"openpty", "ttyname", "fork", "forkpty", "getuid", "geteuid", "getgid", "setsid", "killpg",
                  "getpgid", "mkfifo"}

CHECK = r'''
import importlib, importlib.abc, json, os, sys
BLOCKED = set(sys.argv[1].split(","))

class NoPosix(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (not on Windows)")
        return None

for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]
sys.meta_path.insert(0, NoPosix())
try:
    import fcntl  # noqa: F401
    sys.exit("the blocker does not block")
except ImportError:
    pass

failed, done = {}, []
for mod in sys.argv[2:]:
    try:
        importlib.import_module(mod)
        done.append(mod)
    except BaseException as e:  # noqa: BLE001 - reported
        failed[mod] = f"{type(e).__name__}: {e}"
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({"failed": failed, "done": done, "leaked": leaked}))
'''


def runtime_modules(root: Path = ROOT, packages=RUNTIME) -> list[str]:
    mods = ["main"] if (root / "main.py").exists() else []
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            mods.append(".".join(parts))
    return mods


def import_without_posix(root: Path, modules: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen", "CRM_DATA_DIR": str(root / ".x")}
    done = subprocess.run([sys.executable, "-c", CHECK, ",".join(POSIX_ONLY), *modules], cwd=root, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_runtime_module_imports_without_posix_modules():
    mods = runtime_modules()
    assert len(mods) > 150 and "app.callerid.sources" in mods and "ui.main_window" in mods
    got = import_without_posix(ROOT, mods)
    assert got["failed"] == {}
    assert got["leaked"] == []
    assert set(got["done"]) == set(mods)


def test_the_command_line_is_built_without_posix_modules(tmp_path):
    """`crm --help` through main.py with the POSIX modules gone (argparse, every verb's registration)."""
    script = CHECK.replace('print(json.dumps(', 'import main\ntry:\n    main.main(["--help"])\nexcept SystemExit:\n'
                           '    pass\nprint(json.dumps(')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRM_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script, ",".join(POSIX_ONLY)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "demo-data" in done.stdout and "callerid" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1])["leaked"] == []


def test_the_check_catches_a_module_that_needs_posix(tmp_path):
    """The same check on a small tree with a top-level `import termios` reports that module, and only it."""
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "portable.py").write_text("import os, socket, select\n")
    (pkg / "console.py").write_text("import termios\n")
    (pkg / "lazy.py").write_text("def f():\n    import fcntl\n")
    got = import_without_posix(tmp_path, runtime_modules(tmp_path, ("app",)))
    assert list(got["failed"]) == ["app.console"]
    assert "termios" in got["failed"]["app.console"]


def _posix_uses(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module or os.function, inside a function?) for each POSIX-only import or os call in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function |= {id(n) for n in ast.walk(node) if n is not node}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module.split(".")[0]]
            if node.module == "os":
                names += [f"os.{a.name}" for a in node.names if a.name in POSIX_OS_CALLS]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in POSIX_OS_CALLS:
            names = [f"os.{node.attr}"]
        for name in names:
            if name in POSIX_ONLY or name.startswith("os."):
                out.append((node.lineno, name, id(node) in in_function))
    return out


def test_posix_only_code_stays_in_its_allowed_corners():
    found = []
    for pkg in RUNTIME:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, name, inside in _posix_uses(path):
                key = (rel, name)
                if key not in ALLOWED or not inside:
                    found.append(f"{rel}:{line}: {name}" + ("" if inside else " at module level"))
    assert found == [], "POSIX-only code outside the simulator back ends:\n" + "\n".join(found)


def test_the_source_check_sees_module_level_and_hidden_uses(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import pwd\nfrom os import getuid\n\ndef g():\n    import termios\n    return os.openpty()\n")
    assert sorted(_posix_uses(f)) == [(1, "pwd", False), (2, "os.getuid", False), (5, "termios", True),
                                      (6, "os.openpty", True)]


def test_the_windowed_build_without_console_streams_runs_a_verb(tmp_path):
    """peyvandw.exe (PyInstaller, console=False) starts with sys.stdout and sys.stderr set to None."""
    code = ("import sys; sys.stdout = None; sys.stderr = None; import main; "
            "sys.exit(main.main(['callerid', 'decode', 'tests/callerid/captures/ncid_session.txt']))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRM_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""                   # printed into os.devnull, not onto a stream that is not there
