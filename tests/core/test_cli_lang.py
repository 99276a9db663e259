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
