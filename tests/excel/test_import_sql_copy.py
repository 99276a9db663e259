"""SQLite: the real import copies the new customers from the dry run's stage with INSERT … SELECT (the stage
attached to the writer's connection). It must store exactly what the Python path (the PostgreSQL one) stores:
every row of every table the import writes, ids included, for a sheet with several phones and addresses per row,
tags, duplicates of earlier rows and of existing customers (skipped, merged, added), bad rows, dates and a user."""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from app.core import clock
from app.customers import service as cs
from app.demo import customers as demo
from app.excel import importer as ei
from app.excel.importer import writing
from models import listcode
from models.base import db
from models.writer import writer

HEADERS = ["نام", "نام خانوادگی", "شرکت", "موبایل", "تلفن محل کار", "استان", "شهر", "نشانی", "سایر نشانی‌ها",
           "برچسب‌ها", "تاریخ تولد", "مسئول", "کد ملی", "توضیحات"]
TABLES = ("customer", "phone_number", "address", "tag", "customer_tag", "activity", "audit_log")


def _sheet(path: Path, rows: int = 120) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["فهرست مشتریان"])
    ws.append(HEADERS)
    for i in range(rows):
        mobile = f"0912{i:07d}"
        work = f"021{44000000 + i}" if i % 3 else f"021{44000000 + i}، 021{55000000 + i}"
        if i % 10 == 4:
            mobile = f"0912{i - 1:07d}"                  # the previous row's customer again (duplicate row)
        if i % 17 == 5:
            mobile = "09121110000"                       # an existing customer's mobile
        if i % 23 == 7:
            mobile = "12"                                # a bad phone: an error row
        others = "منزل: اصفهان، خیابان چهارباغ" if i % 5 == 0 else None
        tags = ["عمده، همکار", "خرده", None, "همکار،  vip"][i % 4]
        birthday = f"1370/0{1 + i % 9}/1{i % 10}" if i % 6 == 0 else None
        ws.append([f"نام{i % 40}", f"خانوادگی{i}", f"شرکت {i % 7}" if i % 2 else None, mobile, work,
                   "تهران", ["تهران", "کرج", None][i % 3], f"خیابان {i}، پلاک {i % 9}" if i % 4 else None, others,
                   tags, birthday, "مدیر" if i % 8 == 0 else None, None, "مشتری قدیمی" if i == 9 else None])
    ws.append(["بی‌نام", None, None, "0935", None])     # bad row: a short number
    ws.append([None, None, None, None, None, None, None, None, None, None, None, None, None, "فقط یادداشت"])
    wb.save(path)
    return path


def _seed() -> None:
    demo.ensure_users()
    cs.create_customer({"first_name": "مینا", "last_name": "قدیمی", "phones": ["09121110000"], "tags": ["همکار"],
                        "addresses": [{"city": "تهران", "line": "خیابان ولیعصر"}]})
    cs.create_customer({"first_name": "نام3", "last_name": "خانوادگی3", "phones": ["02144000003"]})


def _dump(path: str) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        # the trigram index holds no text of its own: its every term, entry and place, as fts5vocab reads them
        con.execute("CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab(main, customer_fts, instance)")
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in TABLES} | {
            "fts": con.execute("SELECT term, doc, offset FROM temp.fts_terms ORDER BY doc, offset, term").fetchall(),
            "keys": con.execute("SELECT id, sort_key FROM customer WHERE search_text != ''").fetchall()}
    finally:
        con.close()


def _run(tmp_path: Path, sheet: Path, name: str, copy: bool, duplicates: str, monkeypatch) -> tuple:
    from models.connection import close_database, open_database

    monkeypatch.setattr(writing, "SQL_COPY", copy)
    copies: list[bool] = []
    real = writing._copy_create
    monkeypatch.setattr(writing, "_copy_create", lambda *a: copies.append(real(*a)) or copies[-1])
    path = str(tmp_path / f"{name}.sqlite3")
    open_database(path, create=True)
    try:
        clock.set_now(dt.datetime(2025, 3, 1, 10, 30))
        _seed()
        report = ei.analyse(ei.load_table(sheet))
        res = ei.import_rows(report, duplicates=duplicates, skip_invalid=True)
        stage_file = report.stage.path
        report.close()
        attached = [r[1] for r in db.connection().execute("PRAGMA database_list").fetchall()]
        writer.release()
    finally:
        close_database()
    assert not Path(stage_file).exists()                 # let go of and deleted
    assert writing.STAGE_ALIAS not in attached
    assert copies == ([True] if copy else [])           # the path asked for is the one taken
    return res, _dump(path)


@pytest.mark.parametrize("duplicates", ["skip", "merge", "add"])
def test_the_sql_copy_stores_what_the_python_path_stores(tmp_path, monkeypatch, duplicates):
    sheet = _sheet(tmp_path / "s.xlsx")
    res_sql, sql = _run(tmp_path, sheet, "sql", True, duplicates, monkeypatch)
    res_py, py = _run(tmp_path, sheet, "py", False, duplicates, monkeypatch)
    assert (res_sql.created, res_sql.merged, res_sql.skipped_duplicates, res_sql.skipped_invalid) == (
        res_py.created, res_py.merged, res_py.skipped_duplicates, res_py.skipped_invalid)
    assert list(res_sql.customer_ids) == list(res_py.customer_ids)
    assert res_sql.created > 80 and res_sql.skipped_invalid >= 2
    if duplicates == "merge":
        assert res_sql.merged >= 10                      # rows folded into earlier rows and into existing customers
    for table in (*TABLES, "fts"):
        assert sql[table] == py[table], table
    # what was written is there: several phones, addresses and tags a customer
    assert len(sql["phone_number"]) > len(sql["customer"]) and len(sql["address"]) > 50
    assert len(sql["customer_tag"]) > 80
    assert {doc for _, doc, _ in sql["fts"]} == {listcode.code(k) * listcode.ID_SPAN + i for i, k in sql["keys"]}


def test_a_folded_row_takes_its_later_rows_data(tmp_path, monkeypatch):
    """A later row of a new customer folded into it (merge): its phones and tags join the earlier row's, in the
    SQL copy as in the Python path; the timeline names the earlier row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["نام", "نام خانوادگی", "موبایل", "تلفن محل کار", "برچسب‌ها"])
    ws.append(["علی", "رضایی", "09121234567", None, "الف"])
    ws.append(["سارا", "نیک", "09124445566", None, None])
    ws.append(["علی", "رضایی", "09121234567", "02188776655", "ب، الف"])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    res, dump = _run(tmp_path, path, "fold", True, "merge", monkeypatch)
    assert (res.created, res.merged) == (2, 1)
    ali = dump["customer"][-2]
    phones = [(p[1], p[4]) for p in dump["phone_number"] if p[1] == ali[0]]
    assert phones == [(ali[0], "09121234567"), (ali[0], "02188776655")]
    tags = {t[0]: t[1] for t in dump["tag"]}
    assert [tags[link[2]] for link in dump["customer_tag"] if link[1] == ali[0]] == ["الف", "ب"]
    assert "از ردیف ۲ فایل «f.xlsx» وارد شد." in next(a[4] for a in dump["activity"] if a[1] == ali[0]
                                                       and a[3] == "imported")


def test_a_cancelled_copy_leaves_nothing_and_lets_the_stage_go(db, tmp_path, monkeypatch):
    """Cancelled in the middle of the copy (several statements): nothing is stored, the writer's connection lets
    go of the stage (a job of its own after the rollback), and the same report then imports on the SQL path."""
    from models.core import Activity, Customer, PhoneNumber

    monkeypatch.setattr(writing, "CUSTOMER_STATEMENT", 25)
    copies: list[bool] = []
    real = writing._copy_create
    monkeypatch.setattr(writing, "_copy_create", lambda *a: copies.append(real(*a)) or copies[-1])
    demo.ensure_users()
    report = ei.analyse(ei.load_table(_sheet(tmp_path / "s.xlsx")))
    seen: list[int] = []
    with pytest.raises(ei.ImportCancelled):
        ei.import_rows(report, skip_invalid=True, progress=lambda done, total: seen.append(done),
                       cancel=lambda: len(seen) >= 2)
    assert seen == [25, 50] and copies == []             # cancelled between two statements of the copy
    assert Customer.select().count() == PhoneNumber.select().count() == Activity.select().count() == 0
    assert writer.run(lambda: [r[1] for r in db_list()]) == ["main"]
    assert Customer._meta.database.execute_sql(f"SELECT COUNT(*) FROM {listcode.PAUSED}").fetchone() == (0,)   # the pause rolled back
    res = ei.import_rows(report, skip_invalid=True)
    assert copies == [True] and res.created > 80 and Customer.select().count() == res.created
    assert writer.run(lambda: [r[1] for r in db_list()]) == ["main"]
    # the search index holds every imported customer, and the trigger indexes the next one again
    assert Customer._meta.database.execute_sql(f"SELECT COUNT(*) FROM {listcode.PAUSED}").fetchone() == (0,)
    later = cs.create_customer({"first_name": "تازه", "last_name": "پس‌ازورود", "phones": []}).id
    assert cs.search_ids(cs.Filter(text="پس‌ازورود")) == [later]
    in_tehran = {c.id for c in Customer.select() if "تهران" in c.search_text and c.merged_into_id is None}
    assert set(cs.search_ids(cs.Filter(text="تهران"))) == in_tehran and len(in_tehran) > 30
    path = report.stage.path
    report.close()
    assert not Path(path).exists()


def db_list() -> list[tuple]:
    return db.connection().execute("PRAGMA database_list").fetchall()


def test_an_import_gathers_the_planners_statistics_once_stored(db, tmp_path, monkeypatch):
    """Thousands of new customers leave SQLite's statistics (none, or a smaller table's) out of step: the import
    queues their gathering once its rows are stored, and every connection reads them (models.statistics)."""
    from models import statistics

    monkeypatch.setattr(statistics, "LEAST_ROWS", 50)         # the sheet holds some 100 customers
    demo.ensure_users()
    assert statistics.stale_tables(db_obj()) == []
    res = ei.import_rows(ei.analyse(ei.load_table(_sheet(tmp_path / "s.xlsx"))), skip_invalid=True)
    writer.drain()
    assert res.created > 80
    stat = db_obj().execute_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'customer_list_name'").fetchone()
    assert stat is not None and int(stat[0].split()[0]) == res.created        # every customer, counted
    assert statistics.stale_tables(db_obj()) == []


def db_obj():
    return db.obj



def test_a_full_disk_stops_the_dry_run_with_a_plain_message_and_takes_its_file_away(db, tmp_path, monkeypatch):
    """The dry run sets its checked rows aside in a file of its own: when that file cannot grow (the disk full),
    the dry run stops with the disk's reason in Persian, not a general error, and its file goes."""
    from app.core.errors import UserError
    from app.excel.importer import checking

    monkeypatch.setattr(checking, "BATCH", 10)
    demo.ensure_users()
    sheet = _sheet(tmp_path / "s.xlsx")
    made: list[checking.Stage] = []
    real_init = checking.Stage.__init__

    def small_disk(self) -> None:
        real_init(self)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 4}")    # a few batches fit, the rest do not
        made.append(self)

    monkeypatch.setattr(checking.Stage, "__init__", small_disk)
    with pytest.raises(UserError) as caught:
        ei.analyse(ei.load_table(sheet))
    assert caught.value.message == "فایل موقت بررسی نوشته نشد: دیسک پر است. چیزی نیمه‌کاره باقی نماند."
    assert "full" in caught.value.details and isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert not Path(made[0].path).exists()
    monkeypatch.setattr(checking.Stage, "__init__", real_init)
    report = ei.analyse(ei.load_table(sheet))            # with room again, the same sheet checks through
    assert len(report.rows) == 122 and len(report.ready) > 80
    report.close()
