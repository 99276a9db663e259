"""The export window: the customer list's filter exported in the background; cancel leaves no file."""
from __future__ import annotations

import random

import openpyxl
import pytest
from PySide6.QtWidgets import QFileDialog

from app.customers import service as cs
from app.demo import customers as demo

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def many(db):
    demo.seed_customers(3000, random.Random(5), demo.ensure_users())


def test_export_customers_from_the_list(qtbot, many, tmp_path, monkeypatch):
    from ui.context import AppContext
    from ui.excel.export_dialog import export_customers

    out = tmp_path / "list"            # the dialog adds .xlsx
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    f = cs.Filter(stage="potential")
    dlg = export_customers(AppContext(), f, parent=None)
    qtbot.addWidget(dlg)
    steps = []
    dlg.op.on_progress(lambda d, t: steps.append((d, t)))
    qtbot.waitUntil(lambda: dlg.outcome is not None or bool(dlg.error), timeout=30_000)
    assert dlg.error is None
    expected = cs.count(f)
    assert dlg.outcome.rows == expected and steps[-1] == (expected, expected)
    assert "ساخته شد" in dlg.label.text() and dlg.cancel_button.text() == "بستن"
    wb = openpyxl.load_workbook(tmp_path / "list.xlsx", read_only=True)
    try:
        assert sum(1 for _ in wb.active.iter_rows()) == expected + 2
    finally:
        wb.close()                                  # a read-only workbook keeps its file open until closed


def test_cancel_stops_and_leaves_nothing(qtbot, many, tmp_path):
    from app.excel.export import export_customers as export
    from ui.excel.export_dialog import ExportDialog

    folder = tmp_path / "out"
    folder.mkdir()

    def slow(path, progress, cancel):
        def tick(done, total):
            progress(done, total)
            if done >= 500:
                import time

                time.sleep(0.05)
        return export(path, None, progress=tick, cancel=cancel)

    dlg = ExportDialog(None, "خروجی", folder / "all.xlsx", slow)
    qtbot.addWidget(dlg)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.bar.value() >= 500, timeout=20_000)
    dlg.cancel_button.click()
    qtbot.waitUntil(lambda: not dlg.op.running, timeout=20_000)
    qtbot.waitUntil(lambda: bool(dlg.error), timeout=5_000)
    assert "لغو" in dlg.error
    assert list(folder.iterdir()) == []
