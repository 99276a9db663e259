"""Merging two customers through the dialog, on a real SQLite file: nothing of either file is lost."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.customers import service as cs
from app.customers import timeline
from app.demo.customers import ensure_users
from ui.context import AppContext
from ui.customers import file as customer_file
from ui.customers.file import open_customer_file
from ui.customers.merge_dialog import COMPARE_ROWS, MergeDialog

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture(autouse=True)
def _close_customer_files(persian_app):
    yield
    for w in list(customer_file._open_windows.values()):
        w.close()


@pytest.fixture
def ctx(db):
    users = ensure_users()
    return AppContext(user_id=users[1])


@pytest.fixture
def pair(ctx):
    a = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": [{"raw": "09121112233"}],
                            "tags": ["VIP"], "customer_type": "عمده‌فروش"}, ctx.user_id)
    b = cs.create_customer({"first_name": "علی", "last_name": "رضائی", "company": "فروشگاه نور",
                            "phones": [{"raw": "09121112233"}, {"raw": "02644556677"}],
                            "national_id": "0013542419", "tags": ["همکار"],
                            "addresses": [{"city": "کرج", "line": "میدان آزادگان"}]}, ctx.user_id)
    cs.add_note(a.id, "یادداشت پرونده اول")
    cs.add_note(b.id, "یادداشت پرونده دوم")
    timeline.record(b.id, "call_in", "تماس ورودی از 02644556677")
    return a, b


def answer_box(button_text: str, attempts: int = 300):
    """Click the button labelled `button_text` of the next modal QMessageBox."""
    state = {"left": attempts}

    def check():
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox):
            for b in w.buttons():
                if b.text() == button_text:
                    b.click()
                    return
        state["left"] -= 1
        if state["left"] <= 0:
            if w is not None:
                w.reject()
            return
        QTimer.singleShot(10, check)

    QTimer.singleShot(0, check)


def open_dialog(qtbot, ctx, cid, **kw) -> MergeDialog:
    dlg = MergeDialog(ctx, cid, **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def pick(dlg: MergeDialog, text: str) -> list[int]:
    dlg.search.setText(text)
    dlg.run_search()
    return [dlg.results.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dlg.results.count())]


def test_search_finds_others_not_itself(qtbot, ctx, pair):
    a, b = pair
    dlg = open_dialog(qtbot, ctx, a.id)
    assert pick(dlg, "علی") == [b.id]                 # a itself is not offered
    assert pick(dlg, "0264455") == [b.id]             # a partial phone number
    assert pick(dlg, "۰۹۱۲ ۱۱۱ ۲۲۳۳") == [b.id]        # Persian digits, spaced
    assert pick(dlg, "ناموجود") == []
    assert "پیدا نشد" in dlg.results_hint.text()
    assert not dlg.merge_button.isEnabled()


def test_side_by_side_comparison(qtbot, ctx, pair):
    a, b = pair
    dlg = open_dialog(qtbot, ctx, a.id)
    pick(dlg, "فروشگاه نور")
    dlg.results.setCurrentRow(0)
    assert dlg.other_id == b.id and dlg.merge_button.isEnabled()
    row = {f: i for i, (f, _l) in enumerate(COMPARE_ROWS)}
    t = dlg.table
    assert t.horizontalHeaderItem(0).text() == "علی رضایی" and t.horizontalHeaderItem(1).text() == "علی رضائی"
    assert t.item(row["phones"], 1).text() == "۰۹۱۲۱۱۱۲۲۳۳\n۰۲۶۴۴۵۵۶۶۷۷"
    assert t.item(row["national_id"], 1).text() == "۰۰۱۳۵۴۲۴۱۹" and t.item(row["national_id"], 0).text() == ""
    assert t.item(row["timeline"], 0).text() == "۲" and t.item(row["timeline"], 1).text() == "۳"
    assert "«علی رضایی» می‌ماند" in dlg.summary.text()
    dlg.keep_b.setChecked(True)
    assert "«علی رضائی» می‌ماند" in dlg.summary.text()
    assert dlg.keep_and_drop() == (b.id, a.id)


def test_merge_through_the_dialog_keeps_everything(qtbot, ctx, pair):
    a, b = pair
    dlg = open_dialog(qtbot, ctx, a.id)
    pick(dlg, "رضائی")
    dlg.results.setCurrentRow(0)
    dlg.keep_b.setChecked(True)                        # the second file survives
    changed = []
    ctx.bus.customer_changed.connect(changed.append)
    answer_box("بله، ادغام کن")
    qtbot.mouseClick(dlg.merge_button, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.kept_id == b.id
    assert set(changed) == {a.id, b.id}
    assert cs.search_ids(cs.Filter()) == [b.id]
    d = cs.customer_data(b.id)
    assert {p["canonical"] for p in d["phones"]} == {"09121112233", "02644556677"}
    assert sorted(d["tags"]) == ["VIP", "همکار"]
    assert d["customer_type"] == "عمده‌فروش"            # filled from the dropped file
    summaries = [e.summary for e in timeline.entries(b.id)]
    assert "یادداشت پرونده اول" in summaries and "یادداشت پرونده دوم" in summaries
    assert "تماس ورودی از 02644556677" in summaries
    assert [e.kind for e in timeline.entries(b.id)].count("created") == 2
    assert cs.customer_data(a.id)["merged_into"] == b.id


def test_declining_the_confirmation_changes_nothing(qtbot, ctx, pair):
    a, b = pair
    dlg = open_dialog(qtbot, ctx, a.id, other_id=b.id)
    assert dlg.other_id == b.id
    answer_box("خیر")
    qtbot.mouseClick(dlg.merge_button, Qt.MouseButton.LeftButton)
    assert dlg.kept_id is None and dlg.isVisible()
    assert sorted(cs.search_ids(cs.Filter())) == sorted([a.id, b.id])


def test_merge_refused_by_the_service_is_shown(qtbot, ctx, pair):
    a, b = pair
    dlg = open_dialog(qtbot, ctx, a.id, other_id=b.id)
    cs.merge(b.id, a.id)        # someone else merged them meanwhile
    assert not dlg.do_merge()
    assert dlg.error.isVisible() and "ادغام شده" in dlg.error.text()


def test_merge_from_the_customer_file(qtbot, ctx, pair):
    a, b = pair
    win = open_customer_file(ctx, a.id)
    qtbot.addWidget(win)
    dlg = win.merge()
    dlg.set_other(b.id)
    dlg.keep_b.setChecked(True)
    answer_box("بله، ادغام کن")
    qtbot.mouseClick(dlg.merge_button, Qt.MouseButton.LeftButton)
    # the open file follows the merge to the survivor and shows both histories
    qtbot.waitUntil(lambda: win.customer_id == b.id)
    assert win.banner.isVisibleTo(win)
    m = win.timeline.model()
    labels = [m.index(i, 2).data() for i in range(m.rowCount())]
    assert "یادداشت پرونده اول" in labels and "یادداشت پرونده دوم" in labels
