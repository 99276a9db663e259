"""The customer list: lazy model (checked by qtmodeltester), search as you type, filters, saved filters."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.customers import service as cs
from ui.context import AppContext


@pytest.fixture
def people(db):
    from app.demo.customers import ensure_users

    users = ensure_users()
    made = [
        cs.create_customer({"first_name": "علی", "last_name": "رضایی", "company": "بازرگانی نور",
                            "phones": [{"raw": "021-22514321"}], "tags": ["VIP"], "customer_type": "عمده‌فروش",
                            "assigned_to": users[2]}),
        cs.create_customer({"first_name": "پرویز", "last_name": "یزدانی", "phones": [{"raw": "09121234567"}],
                            "status": "inactive"}),
        cs.create_customer({"kind": "organisation", "company": "صنایع کاوه", "phones": [{"raw": "+98 31 3222 1100"}],
                            "national_id": "10101946806", "rank": "A"}),
        cs.create_customer({"first_name": "زهرا", "last_name": "گودرزی", "stage": "potential",
                            "phones": [{"raw": "۰۹۳۵ ۱۱۱ ۲۲۳۳"}], "tags": ["VIP", "همکار"]}),
    ]
    return made, users


def test_model_passes_qt_model_tester(qtmodeltester, people):
    from ui.customers.model import CustomerTableModel

    m = CustomerTableModel()
    m.search(cs.Filter())
    qtmodeltester.check(m)
    m.sort(0, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(m)


def test_rows_are_fetched_a_page_at_a_time(db):
    from app.demo.customers import seed
    from ui.customers.model import FIRST, PAGE, CustomerTableModel

    seed(customers=450, calls=0, tasks=0, invoices=0)
    m = CustomerTableModel()
    m.search(cs.Filter())
    assert m.total == 450
    assert m.rowCount() == FIRST < 450, "only the first ids are read"
    assert m.canFetchMore()
    m.fetchMore()
    assert m.rowCount() == 2 * FIRST
    m.fetch_all()
    assert m.rowCount() == 450 and not m.canFetchMore()
    assert m.ids == cs.search_ids(cs.Filter())
    assert m.queries == 0
    m.data(m.index(449, 0))
    assert m.queries == 1
    m.data(m.index(448, 2))
    assert m.queries == 1, "the same page is cached"
    m.data(m.index(0, 0))
    assert m.queries == 2
    assert len(m._pages) == 2 and 450 // PAGE + 1 > 2


@pytest.mark.parametrize("sort,desc", [("name", False), ("name", True), ("created", True), ("company", False),
                                       ("rank", False)])
def test_paged_result_set_matches_the_full_search(anydb, sort, desc):
    """Keyset pages (common words) and the materialised path (rare words) give the same order as one query."""
    from app.demo.customers import seed

    seed(customers=700, calls=0, tasks=0, invoices=0)
    cs.ResultSet.MATERIALISE = 50
    try:
        for text in ("", "رضایی", "091", "ع", "تهران"):
            f = cs.Filter(text=text)
            rs = cs.ResultSet(f, sort, desc)
            got = []
            while chunk := rs.next_ids(37):
                got += chunk
            assert got == cs.search_ids(f, sort, desc), text
            assert rs.total == len(got)
    finally:
        cs.ResultSet.MATERIALISE = 5000


def test_persian_alphabetical_order(people):
    ids = cs.search_ids(cs.Filter(), "name")
    names = [cs.fetch_rows([i])[i].name for i in ids]
    # By family name (رضایی، [صنایع کاوه]، گودرزی، یزدانی): گ after ص and before ی, which plain code-point
    # order gets wrong (it puts گ after ی).
    assert names == ["علی رضایی", "صنایع کاوه", "زهرا گودرزی", "پرویز یزدانی"]


def test_search_as_you_type_and_filters(qtbot, people, typer):
    from ui.customers.page import CustomersPage

    (ali, parviz, kaveh, zahra), users = people
    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    assert len(page.model.ids) == 4
    typer(page.search, "رضاي")  # Arabic ي typed, Persian ی stored
    qtbot.waitUntil(lambda: page.model.ids == [ali.id], timeout=2000)
    page.search.clear()
    typer(page.search, "+98 912 123")
    qtbot.waitUntil(lambda: page.model.ids == [parviz.id], timeout=2000)
    page.search.clear()
    typer(page.search, "۳۲۲۲۱۱")
    qtbot.waitUntil(lambda: page.model.ids == [kaveh.id], timeout=2000)
    page.search.setText("10101946806")
    qtbot.waitUntil(lambda: page.model.ids == [kaveh.id], timeout=2000)
    page.search.clear()
    page.apply_filter()
    page.tag.setCurrentIndex(page.tag.findData("VIP"))
    assert sorted(page.model.ids) == sorted([ali.id, zahra.id])
    page.stage.setCurrentIndex(page.stage.findData("potential"))
    assert page.model.ids == [zahra.id]


def test_saved_filter_round_trip(qtbot, people, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from ui.customers.page import CustomersPage

    (ali, parviz, kaveh, zahra), users = people
    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    page.status.setCurrentIndex(page.status.findData("inactive"))
    assert page.model.ids == [parviz.id]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("غیرفعال‌ها", True))
    page.save_filter()
    page.status.setCurrentIndex(0)
    assert len(page.model.ids) == 4
    i = page.saved.findText("غیرفعال‌ها")
    assert i > 0
    page.saved.setCurrentIndex(i)
    page._apply_saved(i)
    assert page.model.ids == [parviz.id]


def test_list_refreshes_when_a_customer_is_added(qtbot, people):
    from ui.customers.page import CustomersPage

    ctx = AppContext()
    page = CustomersPage(ctx)
    qtbot.addWidget(page)
    c = cs.create_customer({"first_name": "مینا", "last_name": "افشار"})
    ctx.bus.customer_changed.emit(c.id)
    assert c.id in page.model.ids


def test_the_list_reads_more_ids_as_its_view_needs_them(qtbot, db):
    """A search reads only its first ids (FIRST); a view taller than those rows, or scrolled to their end, reads
    the next ones itself (canFetchMore/fetchMore), so a short first read never leaves the list cut short."""
    from PySide6.QtWidgets import QApplication

    from app.demo.customers import seed
    from ui.customers.model import FIRST
    from ui.customers.page import CustomersPage

    seed(customers=450, calls=0, tasks=0, invoices=0)
    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    rows_high = page.view.verticalHeader().defaultSectionSize()
    page.resize(1280, rows_high * (FIRST + 30) + 200)          # room for more rows than the first read gives
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > FIRST, timeout=3000)
    page.resize(1280, 700)
    QApplication.processEvents()
    before = page.model.rowCount()
    assert before < 450
    bar = page.view.verticalScrollBar()
    bar.setValue(bar.maximum())                                  # the end of what is read: the next ids come
    qtbot.waitUntil(lambda: page.model.rowCount() > before, timeout=3000)
    assert page.model.ids == cs.search_ids(cs.Filter())[:page.model.rowCount()]


def test_select_all_takes_every_customer_found_not_only_the_rows_read(qtbot, db):
    """Ctrl+A (and the table's corner button) select every customer the search found, in list order, though the
    list had read only its first page of them: a message or a change for «all of them» reaches all of them."""
    from PySide6.QtCore import Qt

    from app.demo.customers import seed
    from ui.customers.model import FIRST
    from ui.customers.page import CustomersPage

    seed(customers=FIRST + 30, calls=0, tasks=0, invoices=0)
    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    assert page.model.rowCount() < FIRST + 30
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert page.selected_ids() == cs.search_ids(cs.Filter()) and len(page.selected_ids()) == FIRST + 30
    page.view.clearSelection()
    page.search.setText("zzz-nobody")
    page.apply_filter()
    page.view.selectAll()
    assert page.selected_ids() == []


def test_the_count_of_a_long_list_is_read_off_the_gui_thread(qtbot, db):
    """More matches than the first page holds: the count («۱۲۰ مشتری») is read on a worker thread and shown when
    in; a search that changed meanwhile keeps its own. One whose first page holds every match is counted at once."""
    import threading

    from ui.customers.page import CustomersPage

    for i in range(120):
        cs.create_customer({"first_name": f"نام{i}", "last_name": "شمارشی", "phones": []})
    cs.create_customer({"first_name": "تنها", "last_name": "یگانه", "phones": []})
    page = CustomersPage(AppContext())
    qtbot.addWidget(page)
    counted_on: list[int] = []
    real = cs.ResultSet.total
    page.model.result = None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cs.ResultSet, "MATERIALISE", 20)      # read a page at a time, not whole
        mp.setattr(cs.ResultSet, "total", property(lambda rs: counted_on.append(threading.get_ident())
                                                   or real.fget(rs)))
        page.search.setText("شمارشی")
        page.apply_filter()
        assert page.count_label.text() == "در حال شمارش…" and len(page.model.ids) == 50
        qtbot.waitUntil(lambda: page.count_label.text() == "۱۲۰ مشتری", timeout=5000)
        assert counted_on and threading.get_ident() not in counted_on
        page.search.setText("یگانه")
        page.apply_filter()
        assert page.count_label.text() == "۱ مشتری"
