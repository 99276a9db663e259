"""A database file with damaged pages is found on open (PRAGMA quick_check) and refused, untouched, with a Persian
message naming the newest backup and the `crm restore` command that brings it back."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.backup import backup
from app.core.errors import DatabaseError
from models.connection import close_database, open_database, quick_check
from models.core import Customer

ROOT = Path(__file__).resolve().parents[2]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def office(tmp_path) -> Path:
    """A real database with 3,000 customers (a few hundred pages), closed and checkpointed."""
    path = tmp_path / "office" / "crm.sqlite3"
    open_database(str(path), create=True)
    Customer.insert_many([{"first_name": f"مشتری{i}", "last_name": "آزمایشی"} for i in range(3000)]).execute()
    close_database()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


def _damage(path: Path) -> int:
    """Overwrite 64 bytes inside one of the customer table's leaf pages (its cell pointers). Returns the page."""
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'customer' AND pagetype = 'leaf' "
                                       "ORDER BY pageno")]
    con.close()
    assert len(pages) > 10
    page = pages[len(pages) // 2]
    with open(path, "r+b") as f:
        f.seek((page - 1) * page_size + 8)
        f.write(b"\xff" * 64)
    return page


def test_a_whole_file_passes_the_check(office):
    assert quick_check(office) is None
    open_database(str(office))
    assert Customer.select().count() == 3000
    close_database()


def test_damaged_pages_are_refused_naming_the_latest_backup(office):
    older = backup(office, tag="old")
    newest = backup(office)
    os.utime(older, (1_000_000_000, 1_000_000_000))
    _damage(office)
    assert quick_check(office) is not None
    before = _sha(office)

    with pytest.raises(DatabaseError) as e:
        open_database(str(office))
    close_database()
    msg = e.value.message
    assert "آسیب دیده" in msg
    assert str(newest) in msg and str(older) not in msg
    assert f'crm --db "{office}" restore "{newest}"' in msg
    assert "restore" in e.value.en and e.value.details
    assert _sha(office) == before, "the damaged file was left untouched"

    # The command in the message brings the data back.
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(office), "restore", str(newest)],
                          capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    open_database(str(office))
    assert Customer.select().count() == 3000
    close_database()


def test_without_a_backup_the_message_says_so(office):
    _damage(office)
    with pytest.raises(DatabaseError) as e:
        open_database(str(office))
    close_database()
    assert "پشتیبانی در پوشه پشتیبان‌ها پیدا نشد" in e.value.message
    assert "restore" in e.value.message


def test_the_office_may_open_a_damaged_file_once_to_rescue_its_data(office, monkeypatch):
    _damage(office)
    monkeypatch.setenv("CRM_OPEN_DAMAGED", "1")
    open_database(str(office), migrate=False)
    assert Customer.select().where(Customer.id < 10).count() == 9     # pages before the damage still read
    close_database()


# --- the seal of a clean close: a file left exactly as the program closed it opens without the page check ---

def _damage_keeping_state(path: Path) -> None:
    """Damage pages but give the file back its inode, size and modification time: only reading pages finds it."""
    st = path.stat()
    _damage(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


def test_a_sealed_file_opens_without_the_page_check_which_is_then_owed(office):
    from models.connection import seal, sealed, take_unchecked

    open_database(str(office))
    close_database()
    assert seal(office) and sealed(office)
    _damage_keeping_state(office)
    open_database(str(office), defer_check=True, migrate=False)    # the window's start: no page reading
    close_database()
    assert take_unchecked(office) and not take_unchecked(office)    # owed once, to the background check
    assert quick_check(office) is not None                         # which finds the damage
    assert not sealed(office), "opening consumes the seal: only the next clean close vouches for the file"
    with pytest.raises(DatabaseError):
        open_database(str(office), defer_check=True)
    close_database()


def test_the_command_line_always_checks_pages(office):
    from models.connection import seal

    open_database(str(office))
    close_database()
    assert seal(office)
    _damage_keeping_state(office)
    with pytest.raises(DatabaseError):
        open_database(str(office))                                 # defer_check is the window's choice only
    close_database()


def test_any_change_after_the_seal_means_a_full_check(office):
    from models.connection import seal, sealed

    open_database(str(office))
    close_database()
    assert seal(office)
    con = sqlite3.connect(office)
    con.execute("UPDATE customer SET first_name = 'تغییر' WHERE id = 1")
    con.commit()
    assert not sealed(office)                                      # a write-ahead log with frames in it
    con.close()                                                    # the last close folds it into the file
    assert not sealed(office)                                      # the file itself changed
    assert seal(office) and sealed(office)
    os.utime(office, ns=(1_000_000_000, 1_000_000_000))            # touched, copied back, restored…
    assert not sealed(office)


def test_no_seal_while_another_desk_has_the_file_open(office):
    from models.connection import seal, sealed

    code = ("import sys,time; from models.connection import open_database; open_database(sys.argv[1]);"
            "print('open', flush=True); time.sleep(60)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    other = subprocess.Popen([sys.executable, "-c", code, str(office)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert other.stdout.readline().strip() == "open"
        assert not seal(office) and not sealed(office)
    finally:
        other.kill()
        other.communicate()
    assert seal(office)                                            # the other desk is gone
