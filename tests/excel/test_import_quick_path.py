"""The quick path for plain rows (app/excel/importer/quickrows.py) gives each row the answer the full path gives:
the same status, duplicates, keys, cleaned data and problems, for an exported sheet and for a messy one."""
from __future__ import annotations

import copy

import openpyxl

from app.demo import customers as demo
from app.excel import importer as ei
from app.excel.export import export_customers
from app.excel.importer import checking, quickrows
from tests.excel.test_messy_real_sheets import office_workbook


def _dump(report) -> tuple:
    con = report.stage.conn
    rows = list(report.stage.rows())
    # each importable row as the import will write it: the customer's columns (sort and search keys included),
    # phones, addresses, tags
    staged = [con.execute("SELECT * FROM row ORDER BY row").fetchall()] + [
        con.execute(f"SELECT * FROM {t} ORDER BY row, seq").fetchall() for t, _cols in checking.CHILD_TABLES]
    problems = [(p.row, p.severity, p.message, p.column) for p in report.problems()]
    return rows, staged, problems, report.summary()


def _both(path, monkeypatch) -> tuple[tuple, tuple, int]:
    used = []
    rows = quickrows.QuickRows.rows
    checked: dict[int, dict] = {}
    staged_values = checking.staged_values

    def counted(self, batch):
        out = rows(self, batch)
        used.extend(a is not None for a in out)
        return out

    def staged(d):
        checked[len(checked)] = copy.deepcopy(d)
        return staged_values(d)

    def analysed() -> tuple:
        checked.clear()
        out = _dump(ei.analyse(ei.load_table(path)))
        # the stage keeps each row's checked data only as staged values: what it gives back is what the check made
        given = [data for _r, _s, _c, _n, _d, _k, data in out[0] if data is not None]
        assert len(given) == len(checked) > 0
        assert given == [checked[i] for i in range(len(checked))]
        return out

    monkeypatch.setattr(quickrows.QuickRows, "rows", counted)
    monkeypatch.setattr(checking, "staged_values", staged)
    quick = analysed()
    monkeypatch.setattr(quickrows.QuickRows, "rows", lambda self, batch: [None] * len(batch))
    full = analysed()
    return quick, full, sum(used)


def _messy_rows(ws) -> None:
    """Rows under an exported sheet's header that the quick path must hand on (or get exactly right)."""
    header = [c.value for c in ws[2]]
    col = {h: i for i, h in enumerate(header)}

    def add(**cells):
        values = [None] * len(header)
        for h, v in cells.items():
            values[col[h]] = v
        ws.append(values)

    add(**{"نام": "علي", "نام خانوادگی": "رضايي", "موبایل": "9.12E+09"})
    add(**{"نام": "'حسن", "نام خانوادگی": "كريمي", "موبایل": 9121234567.0, "تلفن اصلی": "0912-123-4567"})
    add(**{"نام خانوادگی": "x" * 120, "موبایل": "09121112233"})
    add(**{"شرکت": "بازرگانی نور", "نوع": "حقوقی", "کد ملی / شناسه ملی": 14005678901.0})
    add(**{"نام": "سارا", "نوع": "نامعلوم", "مرحله": "عجیب", "مسئول": "کسی دیگر"})
    add(**{"نام": "جمع", "نام خانوادگی": "کل"})
    add(**{"نام": "مریم", "تاریخ تولد": "1404/13/40", "سالگرد": 24000, "ایمیل": "bad@"})
    add(**{"نام": "نیما", "برچسب‌ها": "vip|عمده، vip", "نشانی‌های دیگر": "نوع: انبار؛ شهر: کرج؛ نشانی: جاده قدیم"})
    add(**{"نام": "رضا", "تلفن محل کار": "88776655-8", "نمابر": "021-88776659 داخلی ۱۲", "کد پستی": "12345"})


def test_an_exported_sheet_takes_the_quick_path_with_the_same_answers(db, tmp_path, monkeypatch):
    demo.seed(customers=150, calls=0, tasks=0, invoices=0)
    path = tmp_path / "customers.xlsx"
    export_customers(path)
    wb = openpyxl.load_workbook(path)
    _messy_rows(wb.active)
    wb.save(path)
    quick, full, used = _both(path, monkeypatch)
    assert used >= 150
    assert quick == full


def test_a_messy_sheet_gets_the_same_answers(db, tmp_path, monkeypatch):
    quick, full, _used = _both(office_workbook(tmp_path / "office.xlsx"), monkeypatch)
    assert quick == full
