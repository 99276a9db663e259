"""CLI errors: Persian by default, English with --lang en; never a traceback; bad files left untouched."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def crm(*args, data_dir):
    env = {"CRM_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "main.py", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)


def test_unreadable_database_in_persian_and_in_english(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database\n" * 10)
    before = bad.read_bytes()
    fa = crm("--db", str(bad), "demo-data", "--customers", "2", data_dir=tmp_path / "d")
    assert fa.returncode == 2 and "دست‌نخورده" in fa.stderr and "Traceback" not in fa.stderr
    en = crm("--lang", "en", "--db", str(bad), "demo-data", "--customers", "2", data_dir=tmp_path / "d")
    assert en.returncode == 2 and "not a database of this program" in en.stderr and "Traceback" not in en.stderr
    assert bad.read_bytes() == before


def test_restore_of_a_foreign_file_in_english(tmp_path):
    db = tmp_path / "crm.sqlite3"
    assert crm("--db", str(db), "demo-data", "--customers", "3", data_dir=tmp_path / "d").returncode == 0
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("hello")
    before = db.read_bytes()
    r = crm("--lang", "en", "--db", str(db), "restore", str(junk), data_dir=tmp_path / "d")
    assert r.returncode == 2 and "is not a backup of this program" in r.stderr
    assert db.read_bytes() == before


def test_global_options_also_after_the_verb(tmp_path, capsys):
    """`bash run.sh --db FILE` runs `crm gui --demo-if-empty --db FILE`: the global options work after the verb
    (it used to stop with an English argparse error)."""
    import sqlite3

    from main import main

    path = tmp_path / "after.sqlite3"
    assert main(["demo-data", "--customers", "3", "--calls", "0", "--tasks", "0", "--invoices", "0",
                 "--db", str(path)]) == 0
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM customer").fetchone()[0] == 3
    assert main(["backup", "--db", str(tmp_path / "none" / "x.sqlite3"), "--lang", "en"]) != 0
    err = capsys.readouterr().err
    assert "usage:" not in err and "unrecognized arguments" not in err


GUI_STARTS = [
    [], ["gui"], ["--db", "x.sqlite3"], ["gui", "--db", "x.sqlite3"], ["--db", "x.sqlite3", "gui"],
    ["gui", "--demo-if-empty", "--db", "x.sqlite3"], ["--lang", "en", "gui", "-v", "--quit-after", "2.5"],
    ["-v", "--db=postgresql://u@127.0.0.1/test", "gui", "--open-backup", "b.zip"],
    ["--db", "a.sqlite3", "gui", "--db", "b.sqlite3"],
]
NOT_GUI_STARTS = [
    ["--help"], ["gui", "-h"], ["demo-data"], ["--db", "x.sqlite3", "backup"], ["--demo-if-empty"],
    ["gui", "--no-such-option"], ["gui", "--quit-after", "soon"], ["--lang", "de"], ["gui", "extra"],
    ["--d", "x.sqlite3"],
]


def test_the_desktop_start_is_read_without_every_verb_as_the_full_parser_reads_it():
    """`crm` and `crm gui …` skip building every verb's parser (and importing every verb's module); what they
    read must be what the full parser reads, and anything else is left to the full parser."""
    from cli import core
    from cli.main import build_parser, gui_args

    full = build_parser()
    for argv in GUI_STARTS:
        quick = gui_args(argv)
        assert quick is not None, argv
        assert quick.func is core.cmd_gui
        want = vars(full.parse_args(argv))
        want.setdefault("func", core.cmd_gui)           # `crm` alone has no verb: run() opens the GUI
        got = vars(quick)
        if want.get("command") is None:                # no verb: the gui options keep their defaults
            assert not got["demo_if_empty"] and got["quit_after"] is None and got["open_backup"] is None
            got = {k: v for k, v in got.items() if k in want}
        assert got == want, argv
    for argv in NOT_GUI_STARTS:
        assert gui_args(argv) is None, argv


def test_the_desktop_start_imports_no_other_verb():
    code = ("import sys, cli.main as m; m.gui_args(['gui', '--db', 'x.sqlite3']); "
            "print(sorted(n for n in sys.modules if n.startswith('cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['cli.core', 'cli.main']"
