"""Nothing lost, whatever the office does: restore while other desks work, incomplete backups, a mistyped --db,
a full or read-only disk, piles of safety copies, backups over the wrong file, and files others can read.
Real processes, real files, real (tiny) file systems where the failure needs them."""
from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import backup as B
from app.core import clock
from app.core.errors import DatabaseError, UserError
from app.core.paths import backup_dir, data_dir, log_dir, safety_dir
from app.customers import service as cs
from cli.main import run
from models import presence
from models.base import db
from models.connection import close_database, open_database
from models.core import Customer
from tests.procs import reap

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def persian(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def names_in(path: Path) -> list[str]:
    con = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT first_name FROM customer ORDER BY id")]
    finally:
        con.close()


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT)
    e["QT_QPA_PLATFORM"] = "offscreen"
    e.pop("CRM_DATABASE_URL", None)
    return e


@pytest.fixture
def office(tmp_path):
    path = tmp_path / "office" / "crm.sqlite3"
    open_database(str(path), create=True)
    clock.set_now(dt.datetime(2026, 11, 24, 10, 30, 0))
    for name in ("علی", "مریم", "رضا"):
        cs.create_customer({"first_name": name, "last_name": "کریمی", "phones": []})
    yield path
    close_database()
    clock.set_now(None)


DESK = r"""
import sys, time
from models.connection import open_database
from app.customers import service as cs
open_database(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    line = sys.stdin.readline()
    if not line or line.strip() == "stop":
        break
    for _ in range(int(line)):
        n += 1
        c = cs.create_customer({"first_name": f"desk{n}", "last_name": "x", "phones": []})
        print(f"ack {c.first_name}", flush=True)
    print("done", flush=True)
"""


class Desk:
    """Another desk: a real process that opened the database the ordinary way and writes on request; every
    write it prints as "ack" is one the writer acknowledged."""

    def __init__(self, path: Path):
        self.p = subprocess.Popen([sys.executable, "-c", DESK, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env())
        assert self.p.stdout.readline().strip() == "ready", self.p.stderr.read()
        self.acked: list[str] = []

    def write(self, n: int) -> None:
        self.p.stdin.write(f"{n}\n")
        self.p.stdin.flush()
        while (line := self.p.stdout.readline().strip()) != "done":
            assert line.startswith("ack "), line + self.p.stderr.read()
            self.acked.append(line[4:])

    def stop(self) -> None:
        self.p.stdin.write("stop\n")
        self.p.stdin.flush()
        reap(self.p, 30)


# --- 1. restore while another desk has the database open -----------------------------------------------------

def test_restore_is_refused_while_another_process_has_the_database_open(office):
    good = B.backup(office)
    close_database()
    desk = Desk(office)
    try:
        desk.write(5)
        for _ in range(3):                          # the old restore swapped the file here and lost what followed
            with pytest.raises(UserError) as e:
                B.restore(good, office, wait=0.5)
            assert persian(e.value.message)
            assert socket.gethostname() in e.value.message and str(desk.p.pid) in e.value.message
            assert "ببندید" in e.value.message
            desk.write(5)
        assert not list(safety_dir().iterdir())     # refused before anything was written
    finally:
        desk.stop()
    names = names_in(office)
    assert len(desk.acked) == 20 and all(n in names for n in desk.acked)     # every acknowledged write is there
    # The desk closed: now the restore runs, and the safety copy holds every write the desk made.
    safety = B.restore(good, office)
    assert names_in(office) == ["علی", "مریم", "رضا"]
    assert all(n in names_in(safety) for n in desk.acked)


def test_a_crashed_desk_does_not_block_restore(office):
    good = B.backup(office)
    close_database()
    desk = Desk(office)
    desk.p.kill()                                   # no goodbye: its registration stays behind, unlocked
    reap(desk.p, 10)
    assert list(presence.folder_of(office).iterdir())
    assert presence.others(office) == []            # seen as gone, and tidied away
    B.restore(good, office)
    assert names_in(office) == ["علی", "مریم", "رضا"]
    assert not presence.folder_of(office).exists()


def test_restore_is_refused_while_another_program_holds_an_exclusive_lock(office):
    """A process that did not register (another tool, an older version) and holds BEGIN EXCLUSIVE."""
    good = B.backup(office)
    cs.create_customer({"first_name": "بعدی", "last_name": "تازه", "phones": []})
    close_database()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); sys.stdin.readline()", str(office)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = office.read_bytes()
        with pytest.raises(UserError) as e:
            B.restore(good, office, wait=0.5)
        assert "برنامه دیگری" in e.value.message and persian(e.value.message)
        assert office.read_bytes() == before
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        reap(holder, 10)
    assert names_in(office)[-1] == "بعدی"


def test_restore_from_the_command_line_names_the_other_desk(office, tmp_path):
    good = B.backup(office)
    close_database()
    desk = Desk(office)
    try:
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(office), "restore", str(good)],
                           capture_output=True, text=True, cwd=ROOT, env=env(), timeout=60)
    finally:
        desk.stop()
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(desk.p.pid) in r.stderr and persian(r.stderr)


# --- 2. the whole schema of a backup ---------------------------------------------------------------------------

def _without(good: Path, tmp: Path, name: str, *sql: str) -> Path:
    out = tmp / name
    out.write_bytes(good.read_bytes())
    con = sqlite3.connect(out)
    con.execute("PRAGMA foreign_keys=OFF")
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()
    return out


def test_a_backup_missing_tables_columns_or_migrations_is_refused(office, tmp_path):
    good = B.backup(office)
    close_database()
    before = office.read_bytes()
    cases = {
        "no-call-no-sales-line.sqlite3": (['DROP TABLE "call"', "DROP TABLE sales_line"], ["call", "sales_line"]),
        "no-task.sqlite3": (["DROP TABLE task"], ["task"]),
        "no-migration-3.sqlite3": (["DELETE FROM schema_migration WHERE number = 3"], ["3"]),
        "no-migrations.sqlite3": (["DELETE FROM schema_migration"], ["schema_migration"]),
        "no-column.sqlite3": (["ALTER TABLE customer DROP COLUMN website"], ["customer.website"]),
    }
    for name, (sql, words) in cases.items():
        bad = _without(good, tmp_path, name, *sql)
        with pytest.raises(UserError) as e:
            B.restore(bad, office)
        assert persian(e.value.message), name
        for w in words:
            assert w in e.value.message, (name, e.value.message)
        assert office.read_bytes() == before, name
    assert not list(safety_dir().iterdir())


def test_a_backup_from_an_older_version_is_still_accepted(tmp_path):
    """A backup made when only migration 1 existed: its tables are all there; newer ones come at next open."""
    import peewee as pw

    from models.core import SchemaMigration
    from models.migrations import all_migrations

    old = tmp_path / "old.sqlite3"
    database = pw.SqliteDatabase(str(old))
    db.initialize(database)
    first = all_migrations()[0]
    database.create_tables([SchemaMigration])
    first.up(database)
    SchemaMigration.create(number=first.NUMBER, name=first.NAME)
    Customer.create(first_name="قدیمی")
    database.close()
    B.check_file(old)
    target = tmp_path / "new-pc" / "crm.sqlite3"
    assert B.restore(old, target) is None
    open_database(str(target))
    try:
        assert Customer.get().first_name == "قدیمی"
    finally:
        close_database()


# --- 4. --db never makes a database by mistake ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["sqlite://", "sqlite:///", "sqlite:///:memory:", ":memory:", "",
                                   "sqlite:office.db", "postgresql:/host/db", "bad\nname"])
def test_malformed_database_addresses_are_refused(value, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run(["--db", value, "export", "calls", "--out", str(tmp_path / "calls.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and persian(err), err
    assert not (tmp_path / "calls.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"] or not list(tmp_path.glob("*.sqlite3"))


def test_a_mistyped_db_path_is_refused_and_creates_nothing(office, tmp_path, capsys):
    close_database()
    typo = office.with_name("crm.sqlite")
    for argv in (["export", "calls", "--out", str(tmp_path / "c.xlsx")], ["callerid", "lookup", "09121234567"],
                 ["import", "customers", str(tmp_path / "none.xlsx"), "--dry-run"]):
        code = run(["--db", str(typo), *argv])
        err = capsys.readouterr().err
        assert code != 0 and "وجود ندارد" in err, (argv, err)
        assert not typo.exists()
    assert sorted(p.name for p in office.parent.iterdir()) == ["crm.sqlite3"]
    with pytest.raises(DatabaseError):
        open_database(str(typo))
    assert not typo.exists()


def test_demo_data_and_the_first_start_still_make_a_database(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    new = tmp_path / "new" / "crm.sqlite3"
    assert run(["--db", str(new), "demo-data", "--customers", "3", "--calls", "0", "--tasks", "0",
                "--invoices", "0"]) == 0
    close_database()
    assert len(names_in(new)) == 3
    default = data_dir() / "crm.sqlite3"
    assert not default.exists()
    assert run(["export", "calls", "--out", str(tmp_path / "c.xlsx")]) == 0        # the very first start
    close_database()
    assert default.exists()


# --- 6. a full disk, a read-only disk: the real cause, in Persian ------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    if not IS_ROOT or sys.platform != "linux":
        pytest.skip("mounting a tiny tmpfs needs root on Linux")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {r.stderr!r}")
    yield mnt
    close_database()
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_while_writing_names_the_full_disk_not_the_rollback(tiny_disk):
    path = tiny_disk / "crm.sqlite3"
    open_database(str(path), create=True)
    kept = cs.create_customer({"first_name": "پیش", "last_name": "از پر شدن", "phones": []})

    def fill():
        for k in range(20000):
            Customer.create(first_name=f"پر{k}", description="x" * 4000)

    from models.writer import writer

    with pytest.raises(DatabaseError) as e:
        writer.run(fill)
    assert "دیسک پر است" in e.value.message
    assert "rollback" not in e.value.message
    with pytest.raises(Exception) as raw:               # a plain transaction (demo data, migrations) too
        with db.atomic():
            fill()
    assert "full" in str(raw.value) and "cannot rollback" not in str(raw.value)
    assert Customer.get_by_id(kept.id).first_name == "پیش"


def test_full_disk_on_the_command_line_says_so(tiny_disk):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(tiny_disk / "crm.sqlite3"),
                        "demo-data", "--customers", "3000"], capture_output=True, text=True, cwd=ROOT, env=env(),
                       timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "دیسک پر است" in r.stderr, r.stderr


def test_backup_and_safety_copy_onto_a_full_disk(office, tiny_disk):
    for k in range(300):
        cs.create_customer({"first_name": f"مشتری{k}", "description": "ب" * 3000, "phones": []})
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"x" * 2_700_000)          # a little room: less than the backup needs
    with pytest.raises(UserError) as e:
        B.backup(office, out=tiny_disk / "b.sqlite3")
    assert "دیسک پر است" in e.value.message
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["ballast"]           # nothing half-written


def test_export_to_a_read_only_folder_has_no_traceback(office, tmp_path):
    if not IS_ROOT or sys.platform != "linux":
        pytest.skip("a read-only mount needs root on Linux")
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k,ro", "tmpfs", str(ro)]).returncode != 0:
        pytest.skip("cannot mount")
    close_database()
    try:
        for argv in (["export", "calls", "--out", str(ro / "c.xlsx")],
                     ["export", "customers", "--out", str(ro / "c.xlsx")],
                     ["backup", "--out", str(ro / "b.sqlite3")]):
            r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(office), *argv],
                               capture_output=True, text=True, cwd=ROOT, env=env(), timeout=120)
            assert r.returncode == 2, (argv, r.stderr)
            assert "Traceback" not in r.stderr and "فقط‌خواندنی" in r.stderr, (argv, r.stderr)
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


# --- 7. safety copies rotate; backup --out writes exactly what was asked, never over the wrong thing ------------

def test_safety_copies_are_rotated(office):
    made = []
    for k in range(B.SAFETY_KEEP + 4):
        clock.set_now(dt.datetime(2026, 11, 24, 11, k))
        made.append(B.safety_copy(office, f"before-import-{k}"))
        os.utime(made[-1], (1_700_000_000 + k, 1_700_000_000 + k))
    left = sorted(safety_dir().iterdir())
    assert len(left) == B.SAFETY_KEEP
    assert made[-1] in left and made[0] not in left
    assert sorted(left) == sorted(made[-B.SAFETY_KEEP:])


def test_backup_out_rules(office, tmp_path, capsys):
    before = office.read_bytes()
    for target in (office, Path(str(office) + "-wal"), office.parent / ".." / "office" / "crm.sqlite3"):
        for force in (False, True):
            with pytest.raises(UserError) as e:
                B.backup(office, out=target, force=force)
            assert "خود پایگاه داده" in e.value.message
    link = tmp_path / "link.sqlite3"
    link.symlink_to(office)
    with pytest.raises(UserError):
        B.backup(office, out=link, force=True)
    if Path("/dev/null").exists():
        with pytest.raises(UserError) as e:
            B.backup(office, out=Path("/dev/null"), force=True)
        assert "فایل معمولی نیست" in e.value.message
    assert office.read_bytes() == before and names_in(office) == ["علی", "مریم", "رضا"]

    usb = tmp_path / "usb"
    usb.mkdir()
    out = B.backup(office, out=usb)                             # a folder: a dated file inside it
    assert out.parent == usb and out.name == "crm-1405-09-03_103000.sqlite3"
    csv = usb / "x.csv"
    assert B.backup(office, out=csv) == csv                      # exactly the name asked for
    assert sorted(p.name for p in usb.iterdir()) == sorted([out.name, "x.csv"])
    csv.write_text("my spreadsheet")
    with pytest.raises(UserError) as e:
        B.backup(office, out=csv)
    assert "--force" in e.value.message and csv.read_text() == "my spreadsheet"
    assert B.backup(office, out=csv, force=True) == csv and names_in(csv) == ["علی", "مریم", "رضا"]
    assert sorted(p.name for p in usb.iterdir()) == sorted([out.name, "x.csv"])   # no temporary left

    close_database()
    again = B.backup(office, out=usb)                           # the same second again: a new name, none overwritten
    assert again != out and again.parent == usb and out.exists() and names_in(again) == ["علی", "مریم", "رضا"]
    clock.set_now(dt.datetime(2026, 11, 24, 10, 31, 0))
    code = run(["--db", str(office), "backup", "--out", str(usb)])
    printed = capsys.readouterr().out.strip()
    assert code == 0 and Path(printed).parent == usb and Path(printed).exists()   # says where it went
    after = office.read_bytes()
    assert run(["--db", str(office), "backup", "--out", str(office)]) == 2
    assert office.read_bytes() == after and names_in(office) == ["علی", "مریم", "رضا"]


# --- 8. owner-only files -----------------------------------------------------------------------------------------

def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_backups_safety_copies_and_logs_are_owner_only(tmp_path, monkeypatch):
    old_umask = os.umask(0o022)
    try:
        monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "fresh-data"))
        new = tmp_path / "new-folder" / "crm.sqlite3"
        open_database(str(new), create=True)
        cs.create_customer({"first_name": "علی", "phones": []})
        assert mode(new) == 0o600 and mode(new.parent) == 0o700
        assert mode(Path(str(new) + "-wal")) == 0o600 and mode(Path(str(new) + "-shm")) == 0o600
        assert mode(data_dir()) == 0o700 and mode(backup_dir()) == 0o700 and mode(safety_dir()) == 0o700
        b = B.backup(new)
        s = B.safety_copy(new, "before-import")
        assert mode(b) == 0o600 and mode(s) == 0o600
        out = B.backup(new, out=tmp_path / "usb" / "copy.sqlite3")
        assert mode(out) == 0o600 and mode(out.parent) == 0o700
        close_database()

        import logging

        from app.core import logs

        root = logging.getLogger()
        saved = list(root.handlers)
        root._crm_configured = False  # type: ignore[attr-defined]
        try:
            logs.setup()
            logging.getLogger("test").warning("x")
            assert mode(log_dir()) == 0o700 and mode(log_dir() / "crm.log") == 0o600
        finally:
            for h in root.handlers[:]:
                if h not in saved:
                    root.removeHandler(h)
                    h.close()
            root._crm_configured = False  # type: ignore[attr-defined]
        # A data folder an older version left open to everyone is closed at the next start.
        old = tmp_path / "old-data"
        old.mkdir(mode=0o755)
        os.chmod(old, 0o755)
        monkeypatch.setenv("CRM_DATA_DIR", str(old))
        assert mode(data_dir()) == 0o700
    finally:
        os.umask(old_umask)


def test_presence_register_and_unregister(tmp_path):
    path = tmp_path / "x.sqlite3"
    presence.register(path)
    try:
        mine = list(presence.folder_of(path).iterdir())
        assert len(mine) == 1 and str(os.getpid()) in mine[0].name
        assert presence.others(path) == []          # this process does not count itself
    finally:
        presence.unregister(path)
    assert not presence.folder_of(path).exists()


def test_a_desk_that_opens_during_a_restore_waits_and_sees_the_restored_data(office, tmp_path):
    """The restore holds SQLite's exclusive lock for its whole length; a desk opening meanwhile waits, then
    reads the restored file (never a mixture)."""
    good = B.backup(office)
    for k in range(2000):
        cs.create_customer({"first_name": f"بعد{k}", "last_name": "ن" * 50, "phones": []})
    close_database()
    code = ("import sys, time, sqlite3\n"
            "time.sleep(0.05)\n"
            "c = sqlite3.connect(sys.argv[1], timeout=20)\n"
            "print(c.execute('SELECT COUNT(*) FROM customer').fetchone()[0])\n")
    reader = subprocess.Popen([sys.executable, "-c", code, str(office)], stdout=subprocess.PIPE, text=True)
    t = time.perf_counter()
    B.restore(good, office)
    out = reader.communicate(timeout=60)[0].strip()
    assert out in ("3", str(2003)), out                  # before or after, whole
    assert time.perf_counter() - t < 60
    assert names_in(office) == ["علی", "مریم", "رضا"]
