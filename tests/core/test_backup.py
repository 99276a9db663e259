"""Backups a small office can trust: online copies of a live database, rotation, and a restore that checks the
file first; a corrupt, foreign or too-new file changes nothing."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from app import backup as B
from app.core import clock
from app.core.errors import UserError
from app.core.paths import backup_dir
from app.customers import service as cs
from models.base import db
from models.connection import close_database, open_database
from models.core import Customer
from models.migrations import all_migrations


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def names_in(path: Path) -> list[str]:
    con = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT first_name FROM customer ORDER BY id")]
    finally:
        con.close()


@pytest.fixture
def live(tmp_path):
    """The office database, open (WAL) with a few customers, as while the program runs."""
    path = tmp_path / "office" / "crm.sqlite3"
    open_database(str(path), create=True)
    clock.set_now(dt.datetime(2026, 11, 24, 10, 30, 0))
    for name in ("علی", "مریم", "رضا"):
        cs.create_customer({"first_name": name, "last_name": "کریمی", "phones": []})
    yield path
    close_database()
    clock.set_now(None)


def refused(fn, *args) -> UserError:
    with pytest.raises(UserError) as e:
        fn(*args)
    assert any("\u0600" <= ch <= "\u06ff" for ch in e.value.message)
    return e.value


# --- backup ---------------------------------------------------------------------------------------------------

def test_backup_of_a_live_database_holds_everything_committed(live):
    # The last rows are still in the WAL file (no checkpoint): a file copy of crm.sqlite3 would miss them.
    assert Path(str(live) + "-wal").stat().st_size > 0
    out = B.backup(live)
    assert out.parent == backup_dir()
    assert out.name == "crm-1405-09-03_103000.sqlite3"          # Jalali date and time of the backup
    assert names_in(out) == ["علی", "مریم", "رضا"]
    B.check_file(out)
    con = sqlite3.connect(out)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # one self-contained file
    finally:
        con.close()
    assert not list(out.parent.glob("*.part"))
    # The program keeps working on the live database afterwards.
    cs.create_customer({"first_name": "سارا", "last_name": "نوری"})
    assert Customer.select().count() == 4


def test_backup_to_a_named_file_and_a_tag(live, tmp_path):
    out = B.backup(live, out=tmp_path / "usb" / "دفتر.sqlite3")
    assert out == tmp_path / "usb" / "دفتر.sqlite3" and names_in(out) == ["علی", "مریم", "رضا"]
    tagged = B.backup(live, folder=tmp_path / "f", tag="auto")
    assert tagged.name == "crm-1405-09-03_103000-auto.sqlite3"


def test_backup_into_a_folder_with_uri_characters(live, tmp_path):
    for folder in ("a#b", "x?y", "۱۰۰%25", "پشتیبان ها"):
        out = B.backup(live, folder=tmp_path / folder)
        assert names_in(out) == ["علی", "مریم", "رضا"]


def test_backup_of_a_missing_database(tmp_path):
    e = refused(B.backup, tmp_path / "nothing.sqlite3")
    assert "وجود ندارد" in e.message


def test_list_backups_newest_first(live):
    made = []
    for minute in range(3):
        clock.set_now(dt.datetime(2026, 11, 24, 11, minute))
        made.append(B.backup(live))
        os.utime(made[-1], (1_700_000_000 + minute, 1_700_000_000 + minute))
    assert B.list_backups() == list(reversed(made))


# --- rotation -------------------------------------------------------------------------------------------------

def test_auto_backup_rotates_to_the_last_n_and_spares_manual_backups(live):
    manual = B.backup(live, tag="before-import")
    autos = []
    for k in range(6):
        clock.set_now(dt.datetime(2026, 11, 24, 12, k))
        autos.append(B.auto_backup(live, keep=3))
        os.utime(autos[-1], (1_700_000_000 + k, 1_700_000_000 + k))
        B.rotate(backup_dir(), keep=3)
    left = sorted(p.name for p in backup_dir().glob("*-auto.sqlite3"))
    assert left == sorted(p.name for p in autos[-3:])
    assert manual.exists()
    assert sorted(B.rotate(backup_dir(), keep=0)) == sorted(autos[-3:])
    assert not list(backup_dir().glob("*-auto.sqlite3")) and manual.exists()


def test_auto_backup_skips_a_new_or_missing_database(tmp_path):
    assert B.auto_backup(tmp_path / "missing.sqlite3", keep=3) is None
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert B.auto_backup(empty, keep=3) is None
    assert not list(backup_dir().glob("*.sqlite3"))


# --- restore --------------------------------------------------------------------------------------------------

def test_restore_brings_back_the_backup_and_keeps_a_safety_copy(live):
    good = B.backup(live)
    cs.create_customer({"first_name": "بعدی", "last_name": "تازه"})
    close_database()
    now_state = names_in(live)
    assert now_state[-1] == "بعدی"

    safety = B.restore(good, live)

    assert not Path(str(live) + "-wal").exists() and not Path(str(live) + "-shm").exists()
    assert names_in(live) == ["علی", "مریم", "رضا"]
    assert safety is not None and "before-restore" in safety.name and safety.parent.name == "safety"
    assert names_in(safety) == now_state
    assert not list(live.parent.glob("*.restore"))
    open_database(str(live))                    # the program opens the restored file normally
    assert [c.first_name for c in Customer.select().order_by(Customer.id)] == ["علی", "مریم", "رضا"]


def test_restore_onto_a_missing_database(live, tmp_path):
    good = B.backup(live)
    target = tmp_path / "new-pc" / "crm.sqlite3"
    target.parent.mkdir()
    assert B.restore(good, target) is None
    assert names_in(target) == ["علی", "مریم", "رضا"]


def _corrupt_variants(good: Path, tmp: Path) -> dict[str, Path]:
    raw = good.read_bytes()
    out: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        p = tmp / name
        p.write_bytes(data)
        out[name] = p

    put("empty.sqlite3", b"")
    put("text.sqlite3", "این یک فایل متنی است\n".encode() * 200)
    put("excel.xlsx", b"PK\x03\x04" + os.urandom(3000))
    put("truncated.sqlite3", raw[: len(raw) // 2])
    put("header-only.sqlite3", raw[:100])
    mid = bytearray(raw)
    page = 4096
    for k in range(2, len(raw) // page):          # scribble over every page but the first
        mid[k * page + 100: k * page + 400] = os.urandom(300)
    put("scribbled.sqlite3", bytes(mid))
    foreign = tmp / "foreign.sqlite3"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
    con.commit()
    con.close()
    out["foreign.sqlite3"] = foreign
    newer = tmp / "newer.sqlite3"
    newer.write_bytes(raw)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_migration (number, name, applied_at) VALUES (?, 'future', '2030-01-01')",
                (max(m.NUMBER for m in all_migrations()) + 1,))
    con.commit()
    con.close()
    out["newer.sqlite3"] = newer
    return out


def test_a_bad_backup_file_changes_nothing(live, tmp_path):
    good = B.backup(live)
    close_database()
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    variants = _corrupt_variants(good, bad_dir)
    before = sha(live)
    files_before = sorted(p.name for p in live.parent.iterdir())
    safety_before = sorted(backup_dir().rglob("*"))
    for name, path in variants.items():
        src_before = sha(path)
        e = refused(B.restore, path, live)
        assert sha(live) == before, name
        assert sorted(p.name for p in live.parent.iterdir()) == files_before, name
        assert sorted(backup_dir().rglob("*")) == safety_before, name          # not even a safety copy
        assert sha(path) == src_before, name                                     # nor the chosen file
        if name == "newer.sqlite3":
            assert "نسخه تازه‌تری" in e.message
        if name == "foreign.sqlite3":
            assert "پشتیبان این برنامه نیست" in e.message
    assert names_in(live) == ["علی", "مریم", "رضا"]


def test_restore_refusals_for_missing_file_and_folder(live, tmp_path):
    close_database()
    before = sha(live)
    e = refused(B.restore, tmp_path / "no-such.sqlite3", live)
    assert "پیدا نشد" in e.message
    folder = tmp_path / "a-folder.sqlite3"
    folder.mkdir()
    refused(B.restore, folder, live)
    assert sha(live) == before


def test_check_file_messages(live, tmp_path):
    good = B.backup(live)
    B.check_file(good)
    variants = _corrupt_variants(good, tmp_path)
    assert "پشتیبان این برنامه نیست" in refused(B.check_file, variants["text.sqlite3"]).message
    assert "آسیب دیده" in refused(B.check_file, variants["truncated.sqlite3"]).message
    assert "آسیب دیده" in refused(B.check_file, variants["scribbled.sqlite3"]).message


def test_a_failed_restore_midway_changes_nothing(live, tmp_path):
    """The staging copy cannot be written (disk full, permissions): the database stays as it was."""
    good = B.backup(live)
    close_database()
    before = sha(live)
    staged = live.with_name(live.name + ".restore")
    staged.mkdir()                                  # something in the way of the staging file
    (staged / "x").write_text("x")
    with pytest.raises(UserError):
        B.restore(good, live)
    assert sha(live) == before
    assert names_in(live) == ["علی", "مریم", "رضا"]


def test_safety_copy_names(live):
    p = B.safety_copy(live, "before-import")
    assert p.parent == backup_dir() / "safety"
    assert p.name == "crm-1405-09-03_103000-before-import.sqlite3"
    assert names_in(p) == ["علی", "مریم", "رضا"]
    assert db.obj is not None
