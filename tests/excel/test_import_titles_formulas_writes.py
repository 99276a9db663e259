"""Issue 17 (import): title rows above the header, formulas without saved values, the one door for writes, another
process writing during an import, a kill in the middle, and the streaming reader for very large sheets."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest

from app.core.errors import DatabaseError
from app.excel import importer as ei
from models.core import Activity, Customer, PhoneNumber

ROOT = Path(__file__).resolve().parents[2]


def _titled(path, titles, merged=True, blank_between=0, header=("نام", "نام خانوادگی", "موبایل", "شهر")):
    wb = openpyxl.Workbook()
    ws = wb.active
    r = 1
    for t in titles:
        ws.cell(r, 1, t)
        if merged:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(header))
        r += 1
    r += blank_between
    for c, h in enumerate(header, 1):
        ws.cell(r, c, h)
    ws.cell(r + 1, 1, "علی"), ws.cell(r + 1, 2, "رضایی"), ws.cell(r + 1, 3, "09121234567"), ws.cell(r + 1, 4, "تهران")
    ws.cell(r + 2, 1, "سارا"), ws.cell(r + 2, 2, "نیک"), ws.cell(r + 2, 3, "09124445566"), ws.cell(r + 2, 4, "قم")
    wb.save(path)
    return path, r


@pytest.mark.parametrize("titles,merged,blank", [
    (["فهرست مشتریان دفتر"], True, 0),                          # the reported sheet: merged title right above
    (["فهرست مشتریان دفتر"], False, 0),                         # the same title, not merged
    (["فهرست مشتریان دفتر", "تهیه‌کننده: خانم احمدی"], True, 2),  # two titles, blank rows between
])
def test_title_rows_above_the_header_are_skipped_and_named(db, tmp_path, titles, merged, blank):
    path, header_row = _titled(tmp_path / "t.xlsx", titles, merged, blank)
    t = ei.load_table(path)
    assert t.header_row + 1 == header_row
    assert t.headers == ["نام", "نام خانوادگی", "موبایل", "شهر"]
    assert t.mapping == ["first_name", "last_name", "phone_mobile", "city"]
    report = ei.analyse(t)
    names = [(r.data["first_name"], r.data["last_name"]) for r in report.rows]
    assert names == [("علی", "رضایی"), ("سارا", "نیک")]          # the first name is kept on every row
    p = "۰۱۲۳۴۵۶۷۸۹"
    seen = "".join(p[int(c)] for c in str(header_row))
    assert f"سرستون‌ها در ردیف {seen} برگه" in report.summary()
    assert "بالای آن عنوان است" in report.summary()
    assert ei.import_rows(report).created == 2
    assert sorted(c.first_name for c in Customer.select()) == ["سارا", "علی"]


def test_title_above_a_one_column_header(db, tmp_path):
    path, header_row = _titled(tmp_path / "one.xlsx", ["لیست مشتریان"], header=("نام",))
    t = ei.load_table(path)
    assert (t.header_row + 1, t.headers, t.mapping) == (header_row, ["نام"], ["full_name"])


def test_two_level_header_still_joins_its_groups(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "فهرست مشتریان"
    ws.merge_cells("A1:D1")
    ws["A2"], ws["B2"] = "نام و نام خانوادگی", "تلفن"
    ws.merge_cells("B2:C2")
    ws["D2"] = "شهر"
    ws.merge_cells("A2:A3")
    ws.merge_cells("D2:D3")
    ws["B3"], ws["C3"] = "همراه", "ثابت"
    ws.append(["علی رضایی", "09121234567", "02188776655", "تهران"])
    wb.save(tmp_path / "two.xlsx")
    t = ei.load_table(tmp_path / "two.xlsx")
    assert t.header_row == 2 and t.mapping[:3] == ["full_name", "phone_mobile", "phone_work"]


def test_csv_title_rows(db, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("فهرست مشتریان دفتر,,\r\nتاریخ: ۱۴۰۳/۰۱/۰۱,,\r\n,,\r\nنام,نام خانوادگی,موبایل\r\n"
                    "علی,رضایی,09121234567\r\n", encoding="utf-8")
    report = ei.analyse(ei.load_table(path))
    assert report.table.header_row == 3
    assert [(r.data["first_name"], r.data["last_name"]) for r in report.rows] == [("علی", "رضایی")]
    assert "سرستون‌ها در ردیف ۴" in report.summary() and "ردیف ۱، ۲ بالای آن عنوان است" in report.summary()


def _formula_book(path):
    """openpyxl writes formulas without their results, like any program that does not calculate."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["نام", "نام خانوادگی", "موبایل", "شهر", "یادداشت"])
    ws.append(["علی", "رضایی", "09121234567", "تهران", "=1+1"])
    ws.append(["سارا", "نیک", '="0912"&"4445566"', "=D2", None])
    ws.append(["رضا", "کریمی", "09351112233", "قم", None])
    wb.save(path)
    return path


def test_formulas_without_values_are_reported(db, tmp_path):
    t = ei.load_table(_formula_book(tmp_path / "f.xlsx"))
    assert t.formula_count == 3 and sorted(t.formula_cells) == [(2, 4), (3, 2), (3, 3)]
    report = ei.analyse(t)
    probs = [(p.row, p.column, p.severity) for p in report.problems()]
    assert (2, "یادداشت", "warning") in probs and (3, "موبایل", "warning") in probs and (3, "شهر", "warning") in probs
    assert all("فرمول" in p.message for p in report.problems())
    assert "۳ خانه فرمول بی‌مقدار" in report.summary()
    res = ei.import_rows(report)
    assert res.created == 3 and res.formula_cells == 3
    assert "۳ خانه فرمول داشت" in res.summary()
    sara = Customer.get(Customer.last_name == "نیک")
    assert PhoneNumber.select().where(PhoneNumber.customer == sara.id).count() == 0   # read as empty, said so


def test_streaming_reader_gives_the_same_report(db, tmp_path, monkeypatch):
    from app.excel.importer import reading
    from tests.excel.test_messy_real_sheets import office_workbook

    path = office_workbook(tmp_path / "office.xlsx")
    whole = ei.analyse(ei.load_table(path))
    monkeypatch.setattr(reading, "STREAM_ABOVE_BYTES", 0)
    t = ei.load_table(path)
    assert t.streamed and t.header_row == whole.table.header_row and t.mapping == whole.table.mapping
    streamed = ei.analyse(t)
    assert [(r.row, r.status, r.data) for r in streamed.rows] == [(r.row, r.status, r.data) for r in whole.rows]
    assert [p.text() for p in streamed.problems()] == [p.text() for p in whole.problems()]
    f = ei.load_table(_formula_book(tmp_path / "f.xlsx"))
    assert f.streamed
    assert ei.analyse(f).formula_count == 3


def _big_sheet(path, n):
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("مشتریان")
    ws.append(["نام", "نام خانوادگی", "موبایل", "شهر"])
    for i in range(n):
        ws.append([f"نام{i}", f"فامیل{i}", f"0912{i:07d}", "تهران"])
    wb.save(path)
    return path


def test_the_check_holds_no_lock_and_the_write_is_one_job(db, tmp_path, monkeypatch):
    """While the sheet is checked another connection can write; the rows are then written by one job of the
    writer, in one transaction."""
    import sqlite3

    from models.base import db as database
    from models.writer import writer

    path = _big_sheet(tmp_path / "big.xlsx", 1200)
    table = ei.load_table(path)
    other = sqlite3.connect(database.database, timeout=0.2)
    wrote = []

    def progress(done, total):
        other.execute("BEGIN IMMEDIATE")          # would fail at once if the check held a write lock
        other.execute("COMMIT")
        wrote.append(done)

    report = ei.analyse(table, progress=progress)
    assert wrote
    jobs = []
    real_run = writer.run
    def counted(fn, *a, **k):
        if not writer.on_writer_thread():        # (work done inside the job, e.g. its audit entry, is that job)
            jobs.append(fn.__name__)
        return real_run(fn, *a, **k)

    monkeypatch.setattr(writer, "run", counted)
    res = ei.import_rows(report)
    assert res.created == 1200 and jobs == ["_write"]
    other.close()


WRITER_LOOP = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    end = time.time() + float(sys.argv[2])
    n = 0
    print("ready", flush=True)
    while time.time() < end:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO tag (name, color) VALUES (?, ?)", (f"other-{n}", ""))
        time.sleep(0.02)                       # holds the write lock a little, like another desk saving
        con.execute("COMMIT")
        n += 1
    print(n, flush=True)
""")

HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.execute("COMMIT")
""")


def test_another_process_writing_during_the_import(db, tmp_path):
    from models.base import db as database

    path = _big_sheet(tmp_path / "big.xlsx", 3000)
    report = ei.analyse(ei.load_table(path))
    proc = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, database.database, "4"], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        res = ei.import_rows(report)                     # waits its turn; never "database is locked"
        assert res.created == 3000
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and int(out.strip()) > 10
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()                # reaps it and closes its pipe
    assert Customer.select().count() == 3000


def test_a_lock_held_too_long_is_a_persian_error_and_nothing_is_written(db, tmp_path):
    from models.base import db as database

    report = ei.analyse(ei.load_table(_big_sheet(tmp_path / "big.xlsx", 50)))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, database.database, "9"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(DatabaseError) as e:
            ei.import_rows(report)
        assert "پایگاه داده در دست برنامه یا میز دیگری است" in e.value.message
    finally:
        proc.kill()
        proc.communicate()                # reaps it and closes its pipe (left open, it was a ResourceWarning later)
    assert Customer.select().count() == 0 and Activity.select().count() == 0


KILLED_IMPORT = textwrap.dedent("""
    import sys
    from app.excel import importer as ei
    from models.connection import open_database
    open_database(sys.argv[1])
    report = ei.analyse(ei.load_table(sys.argv[2]))
    def progress(done, total):
        print("writing", done, flush=True)
        import time
        time.sleep(30)                         # killed here, half-way through the write
    ei.import_rows(report, progress=progress)
""")


def test_a_kill_during_the_import_leaves_nothing(tmp_path):
    from models.connection import close_database, open_database

    dbfile = str(tmp_path / "k.sqlite3")
    open_database(dbfile, create=True)
    close_database()
    path = _big_sheet(tmp_path / "big.xlsx", 1500)
    env = dict(os.environ, PYTHONPATH=str(ROOT), CRM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, dbfile, str(path)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.startswith("writing"), line
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()                # reaps it and closes its pipe
    open_database(dbfile)
    try:
        assert Customer.select().count() == 0 and PhoneNumber.select().count() == 0
        assert Activity.select().count() == 0
    finally:
        close_database()
