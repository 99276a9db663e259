"""The import wizard on a messy sheet: columns guessed, the dry run's problems listed by row, then the import."""
from __future__ import annotations

import threading

import openpyxl
import pytest
from PySide6.QtWidgets import QWizard

from app.customers import service as cs
from models.core import Customer, User
from tests.excel.test_import import messy_workbook

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def office(db):
    User.create(name="سارا محمدی", username="sara")
    return cs.create_customer({"first_name": "حسن", "last_name": "موسوی", "phones": [{"raw": "09127778899"}]})


def _wizard(qtbot, path):
    from ui.excel.import_wizard import ImportWizard

    w = ImportWizard()
    qtbot.addWidget(w)
    w.show()
    w.load(path)
    qtbot.waitUntil(lambda: w.table is not None and not w.busy, timeout=10_000)
    return w


def test_wizard_dry_run_then_import(qtbot, office, tmp_path):
    w = _wizard(qtbot, messy_workbook(tmp_path / "messy.xlsx"))
    assert "۱۰ ردیف داده" in w.file_page.status.text()
    assert w.file_page.isComplete()
    w.next()
    mp = w.mapping_page
    assert [c.currentData() for c in mp.combos][:5] == ["", "full_name", "company", "phone_mobile", "phone_work"]
    assert mp.preview.rowCount() == 10
    assert mp.isComplete()
    w.next()
    cp = w.check_page
    qtbot.waitUntil(lambda: w.report is not None and not w.busy, timeout=10_000)
    rows = [(cp.problems.item(i, 0).text(), cp.problems.item(i, 1).text(), cp.problems.item(i, 3).text())
            for i in range(cp.problems.rowCount())]
    assert rows[0][0] == "۹" and rows[0][1] == "خطا" and "«۰۹۱۲۱۲۳»" in rows[0][2]
    assert ("۱۱", "تکراری", "تکرار ردیف ۵ همین فایل (شماره مشترک).") in rows
    assert ("۱۲", "تکراری", "شماره ۰۹۱۲۷۷۷۸۸۹۹ در پرونده «حسن موسوی» هست.") in rows
    assert [r[0] for r in rows] == ["۹", "۱۰", "۱۱", "۱۲", "۱۳", "۱۴", "۱۵"]
    assert not cp.isComplete()                      # errors: the import is refused until they are skipped
    w.resize(1000, 700)
    w.grab().save(str(tmp_path / "wizard-check.png"))
    export = cp._save_problems(tmp_path / "problems.xlsx")      # written in the background, in its window
    qtbot.addWidget(export)
    qtbot.waitUntil(lambda: export.outcome is not None or bool(export.error), timeout=10_000)
    assert export.error is None and export.op.worker_thread != threading.get_ident()
    ws = openpyxl.load_workbook(export.path).active
    assert ws.sheet_view.rightToLeft and ws["A3"].value == 9 and ws["B3"].value == "خطا"
    cp.skip_invalid.setChecked(True)
    cp.dup_buttons["merge"].setChecked(True)
    assert cp.isComplete()
    before = Customer.select().count()
    seen = []
    w.ctx.bus.data_changed.connect(seen.append)
    w.next()
    ip = w.import_page
    qtbot.waitUntil(lambda: ip.result is not None or ip.failed, timeout=20_000)
    assert not ip.failed, ip.status.text()
    assert (ip.result.created, ip.result.merged, ip.result.skipped_invalid) == (4, 2, 4)
    assert Customer.select().count() == before + 4
    assert "۴ مشتری تازه" in ip.status.text()
    assert seen == ["customers"]
    assert w.button(QWizard.WizardButton.FinishButton).isVisible()


def test_wizard_shows_bad_file_message(qtbot, db, tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("this is not a workbook", encoding="utf-8")
    from ui.excel.import_wizard import ImportWizard

    w = ImportWizard()
    qtbot.addWidget(w)
    w.show()
    w.load(bad)
    qtbot.waitUntil(lambda: not w.busy and "اکسل" in w.file_page.status.text(), timeout=10_000)
    assert w.table is None and not w.file_page.isComplete()


def test_remapping_a_column_in_the_wizard(qtbot, db, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("ستون ۱,ستون ۲\nعلی کریمی,09121234567\nمریم احمدی,0912\n", encoding="utf-8")
    w = _wizard(qtbot, p)
    w.next()
    assert not w.mapping_page.isComplete()          # no name column guessed
    w.mapping_page.set_field(0, "full_name")
    w.mapping_page.set_field(1, "phone")
    assert w.mapping_page.isComplete()
    w.next()
    qtbot.waitUntil(lambda: w.report is not None and not w.busy, timeout=10_000)
    assert [r.status for r in w.report.rows] == ["ok", "error"]
