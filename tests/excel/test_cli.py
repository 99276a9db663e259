"""`crm export customers` and `crm import customers` through the real command line parser."""
from __future__ import annotations

import openpyxl

from cli.main import run
from models.connection import close_database
from tests.excel.test_import import messy_workbook


def test_export_then_dry_run_then_refused_then_imported(tmp_path, capsys):
    dbfile = str(tmp_path / "office.sqlite3")
    try:
        assert run(["--db", dbfile, "demo-data", "--customers", "30", "--calls", "0", "--tasks", "0",
                    "--invoices", "0"]) == 0
        out = tmp_path / "c.xlsx"
        assert run(["--db", dbfile, "export", "customers", "--out", str(out), "--stage", "potential"]) == 0
        assert "مشتری در" in capsys.readouterr().out
        ws = openpyxl.load_workbook(out).active
        assert ws.sheet_view.rightToLeft and "مرحله: سرنخ (بالقوه)" in ws["A1"].value
        stage_col = [c.value for c in ws[2]].index("مرحله") + 1
        assert {ws.cell(r, stage_col).value for r in range(3, ws.max_row + 1)} == {"سرنخ (بالقوه)"}

        messy = messy_workbook(tmp_path / "messy.xlsx")
        assert run(["--db", dbfile, "import", "customers", str(messy), "--dry-run"]) == 1
        text = capsys.readouterr().out
        assert "[خطا] ردیف ۹: ستون «تلفن همراه»" in text
        assert "[تکراری] ردیف ۱۱: تکرار ردیف ۵ همین فایل" in text
        assert "چیزی ذخیره نشد" in text

        assert run(["--db", dbfile, "import", "customers", str(messy)]) == 3
        captured = capsys.readouterr()
        assert "هیچ ردیفی وارد نشد" in captured.err

        assert run(["--db", dbfile, "import", "customers", str(messy), "--skip-invalid",
                    "--duplicates", "skip"]) == 0
        assert "۵ مشتری تازه" in capsys.readouterr().out

        assert run(["--db", dbfile, "export", "report", "list"]) == 0
        assert "customers_source\tمشتریان بر اساس نحوه آشنایی" in capsys.readouterr().out
        rep = tmp_path / "r.xlsx"
        assert run(["--db", dbfile, "export", "report", "customers_source", "--out", str(rep),
                    "--from", "1400/01/01", "--to", "1499/12/29"]) == 0
        assert "نوشته شد" in capsys.readouterr().out
        ws = openpyxl.load_workbook(rep).active
        assert "از ۱۴۰۰/۰۱/۰۱ تا ۱۴۹۹/۱۲/۲۹" in ws["A1"].value
        assert ws.cell(ws.max_row, 1).value == "جمع" and ws.cell(ws.max_row, 2).value == 35
        assert run(["--db", dbfile, "export", "report", "customers_source", "--out", str(rep),
                    "--from", "1400/13/01"]) == 2
        assert "ماه باید" in capsys.readouterr().err

        bad = tmp_path / "x.xlsx"
        bad.write_bytes(b"not a workbook at all")
        assert run(["--db", dbfile, "import", "customers", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "اکسل نیست" in err and "Traceback" not in err
    finally:
        close_database()
