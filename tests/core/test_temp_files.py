"""Temporary work files live in one folder (data_dir()/tmp); a killed import's file is removed a day later."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import models.connection as connection
from app.core.paths import data_dir
from models.connection import close_database, open_database, sweep_temp, temp_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_stage_lives_in_the_programs_temp_folder_and_goes_with_it(db):
    from app.excel.importer.checking import Stage

    stage = Stage()
    path = Path(stage.path)
    assert path.parent == data_dir() / "tmp" == temp_dir()
    assert path.name.startswith("crm-import-") and path.exists()
    if os.name == "posix":
        assert (path.parent.stat().st_mode & 0o777) == 0o700
    stage.close()
    assert not path.exists()


def test_a_killed_imports_file_is_removed_a_day_later(tmp_path, monkeypatch):
    # A real process makes its stage and is killed before it can clean up.
    code = ("import os, signal, sys; from app.excel.importer.checking import Stage; s = Stage(); "
            "print(s.path, flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = Path(proc.stdout.strip())
    assert left.exists() and left.parent == temp_dir()

    fresh = temp_dir() / "crm-import-running.sqlite3"     # an import still at work: kept
    fresh.write_bytes(b"x")
    assert sweep_temp() == 0 and left.exists(), "a file younger than a day is kept"

    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(left, (two_days_ago, two_days_ago))
    outside = tmp_path / "crm-import-not-ours.sqlite3"     # never touched outside the program's folder
    outside.write_bytes(b"x")
    os.utime(outside, (two_days_ago, two_days_ago))

    # Opening a database sweeps the folder (once per run).
    monkeypatch.setattr(connection, "_swept", False)
    open_database(str(tmp_path / "crm.sqlite3"), create=True)
    close_database()
    assert not left.exists()
    assert fresh.exists() and outside.exists()
    assert connection._swept is True
