"""The pipeline screens, offscreen: the board and list models pass Qt's model tester; a card moves between
columns through the model (stage changed, history written, sums updated); a drop on «lost» asks for the
reason; the opportunity dialog creates and edits; the customer file and the dashboard show the deals; the
reports draw. Any Qt warning fails the test."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QtMsgType

from app.core import clock
from app.pipeline import board as pb
from app.pipeline import opportunities as ops
from app.pipeline import stages as pst
from models.core import Customer
from models.pipeline import Opportunity, StageChange
from tests.pipeline.helpers import freeze, make_customer, make_user, stage_ids
from ui.pipeline.models import ID_ROLE

pytestmark = pytest.mark.usefixtures("persian_app")

M = 1_000_000


@pytest.fixture(autouse=True)
def _no_qt_warnings(qtlog):
    yield
    bad = [r.message for r in qtlog.records if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                                                          QtMsgType.QtFatalMsg)
           and "propagateSizeHints" not in r.message]      # the offscreen platform's own notice
    assert bad == []


@pytest.fixture
def office(db):
    freeze("1405/02/20")
    reza, maryam = make_user(), make_user("مریم احمدی", "maryam")
    lead = make_customer("علی رضایی")
    other = make_customer("شرکت نور پارس", kind="organisation", company="شرکت نور پارس", stage="actual")
    s = stage_ids()
    titles = ("سیم‌کشی ساختمان اداری", "روشنایی پارکینگ", "تابلو برق کارخانه", "دوربین مداربسته فروشگاه",
              "پشتیبانی سالانه سامانه")
    ids = []
    for i, title in enumerate(titles):
        o = ops.create_opportunity({"customer_id": (lead, other)[i % 2], "title": title, "value": (i + 1) * 120 * M,
                                    "close_date": f"1405/03/{10 + i}", "owner_id": (reza, maryam)[i % 2],
                                    "next_step": "تماس پیگیری" if i == 0 else "",
                                    "next_step_date": "1405/02/20" if i == 0 else None}, user=reza)
        ids.append(o.id)
    ops.move_stage(ids[2], s["نیازسنجی"], user=reza)
    ops.move_stage(ids[3], s["مذاکره"], user=reza)
    yield {"reza": reza, "maryam": maryam, "lead": lead, "other": other, "s": s, "ids": ids}
    clock.set_now(None)


def _model(office):
    from ui.pipeline.models import BoardModel

    m = BoardModel(user_id=office["reza"])
    m.load()
    return m


def test_board_model_passes_the_model_tester(qtmodeltester, office):
    qtmodeltester.check(_model(office), force_py=True)


def test_list_model_passes_the_model_tester(qtmodeltester, office):
    from ui.pipeline.models import OpportunityListModel

    m = OpportunityListModel()
    m.load()
    assert m.rowCount() == 5
    qtmodeltester.check(m, force_py=True)
    m.sort(3, Qt.SortOrder.DescendingOrder)
    assert [r.value for r in m.rows] == [600 * M, 480 * M, 360 * M, 240 * M, 120 * M]


def test_moving_a_card_through_the_model_changes_stage_and_writes_history(qtbot, office):
    from ui.pipeline.board import BoardView

    m = _model(office)
    view = BoardView(m)
    qtbot.addWidget(view)
    view.resize(1500, 700)
    view.show()
    s = office["s"]
    opp = office["ids"][0]
    src = m.card_index(opp)
    target = m.stage_index(s["ارسال پیش\u200cفاکتور"])
    data = m.mimeData([src])
    with qtbot.waitSignal(m.rowsMoved, timeout=2000), qtbot.waitSignal(m.moved, timeout=2000) as moved:
        assert m.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, target)
    assert moved.args == [opp, s["ارسال پیش\u200cفاکتور"]]
    assert Opportunity.get_by_id(opp).stage_id == s["ارسال پیش\u200cفاکتور"]
    hist = [(h.from_stage, h.to_stage, h.user_name) for h in ops.history(opp)]
    assert hist[-1] == ("سرنخ جدید", "ارسال پیش\u200cفاکتور", "رضا کریمی")
    assert m.card_index(opp).parent() == target and m.card_index(opp).data(Qt.ItemDataRole.DisplayRole) == \
        "سیم‌کشی ساختمان اداری"
    assert m.rowCount(m.stage_index(s["سرنخ جدید"])) == 2
    col = view.column_for(s["ارسال پیش\u200cفاکتور"])
    assert col.sums.text().startswith("۱ فرصت — ۱۲۰ میلیون ریال") and "وزنی: ۷۲ میلیون" in col.sums.text()
    # dropping onto a card means its column
    other_card = m.card_index(office["ids"][3])
    assert m.dropMimeData(m.mimeData([m.card_index(opp)]), Qt.DropAction.MoveAction, -1, -1, other_card)
    assert Opportunity.get_by_id(opp).stage_id == s["مذاکره"]
    # the view asks the source to remove the dragged rows after a move: the model keeps them
    assert not m.removeRows(0, 1, m.stage_index(s["مذاکره"]))
    assert m.rowCount(m.stage_index(s["مذاکره"])) == 2


def test_columns_read_by_page_fetch_more_and_keep_their_figures(qtbot, qtmodeltester, office):
    """Two cards a page: «سرنخ جدید» shows two of its three; its count and sums cover all three. A card dropped
    in joins in board order; scrolling to the end (fetchMore) reads the rest once; the model tester passes on
    the part-read board."""
    from ui.pipeline.board import BoardView
    from ui.pipeline.models import BoardModel

    s, ids = office["s"], office["ids"]
    m = BoardModel(user_id=office["reza"], page=2)
    m.load()
    view = BoardView(m)
    qtbot.addWidget(view)
    view.resize(1500, 700)
    view.show()
    first = m.stage_row(s["سرنخ جدید"])
    parent = m.index(first, 0)
    assert (m.rowCount(parent), m.hidden(first), m.summary(first)) == (2, 1, (3, 960 * M, 96 * M))
    assert parent.data() == "سرنخ جدید (۳)"
    col = view.column_for(s["سرنخ جدید"])
    assert col.more.isVisibleTo(view) and col.more.text() == "نمایش بیشتر (۱ فرصت دیگر)"
    assert m.move_opportunity(ids[2], s["سرنخ جدید"])               # from «نیازسنجی», closing 1405/03/12
    assert [m.index(r, 0, parent).data() for r in range(3)] == ["سیم‌کشی ساختمان اداری", "روشنایی پارکینگ",
                                                                "تابلو برق کارخانه"]
    assert m.summary(first) == (4, 1320 * M, 1320 * M * 10 // 100) and m.hidden(first) == 1
    assert m.summary(m.stage_row(s["نیازسنجی"]))[0] == 0
    assert m.canFetchMore(parent)
    with qtbot.waitSignal(m.rowsInserted, timeout=2000) as inserted:
        m.fetchMore(parent)
    assert inserted.args[1:] == [3, 3]
    assert m.index(3, 0, parent).data(ID_ROLE) == ids[4] and m.rowCount(parent) == 4
    assert not m.canFetchMore(parent) and not col.more.isVisibleTo(view)
    qtmodeltester.check(m, force_py=True)


def test_a_drop_on_lost_asks_for_the_reason(qtbot, office):
    m = _model(office)
    s = office["s"]
    opp = office["ids"][1]
    lost = m.stage_index(s["ازدست\u200cرفته"])
    asked = []
    m.lost_reason_provider = lambda row: asked.append(row.title) or None       # the user cancels
    assert not m.dropMimeData(m.mimeData([m.card_index(opp)]), Qt.DropAction.MoveAction, -1, -1, lost)
    assert asked == ["روشنایی پارکینگ"]
    assert Opportunity.get_by_id(opp).status == "open" and m.card_index(opp).parent() != lost
    reason_id, reason = pst.lost_reasons()[1]
    m.lost_reason_provider = lambda row: (reason_id, "رقیب ارزان‌تر داد")
    assert m.dropMimeData(m.mimeData([m.card_index(opp)]), Qt.DropAction.MoveAction, -1, -1, lost)
    o = Opportunity.get_by_id(opp)
    assert (o.status, o.lost_reason_id, o.close_note, o.probability) == ("lost", reason_id, "رقیب ارزان‌تر داد", 0)
    assert m.card_index(opp).parent() == lost


def test_a_drop_on_won_converts_the_lead(qtbot, office):
    m = _model(office)
    s = office["s"]
    opp = office["ids"][0]
    assert Customer.get_by_id(office["lead"]).stage == "potential"
    assert m.move_opportunity(opp, s["برنده"])
    assert Customer.get_by_id(office["lead"]).stage == "actual"
    assert m.card_index(opp).data(Qt.ItemDataRole.ToolTipRole).count("سیم‌کشی") == 1


def test_a_refused_move_reports_in_persian_and_keeps_the_card(qtbot, office):
    m = _model(office)
    opp = office["ids"][0]
    s = office["s"]
    Opportunity.delete().where(Opportunity.id == opp).execute()           # another desk deleted it meanwhile
    with qtbot.waitSignal(m.failed, timeout=2000) as failed:
        assert not m.move_opportunity(opp, s["مذاکره"])
    [message] = failed.args
    assert "پیدا نشد" in message
    assert m.card_index(opp).isValid()


def test_page_filters_by_rep_and_switches_views(qtbot, office):
    from ui.context import AppContext
    from ui.pipeline.page import PipelinePage

    page = PipelinePage(AppContext(user_id=office["reza"]))
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: not page._stale)
    assert sum(len(c.rows) for c in page.board_model.columns) == 5
    assert page.totals.text().startswith("۵ فرصت باز")
    page.owner.setCurrentIndex(page.owner.findData(office["maryam"]))
    assert sum(len(c.rows) for c in page.board_model.columns) == 2
    page.owner.setCurrentIndex(0)
    page.tabs.setCurrentIndex(1)
    assert page.list_model.rowCount() == 5
    page.search.setText("پارکینگ")
    page.refresh()
    assert [r.title for r in page.list_model.rows] == ["روشنایی پارکینگ"]
    page.tabs.setCurrentIndex(2)
    page.reports.select_report("funnel")
    qtbot.waitUntil(lambda: page.reports.result is not None and page.reports.result.key == "funnel")
    assert page.reports.table.rowCount() == 6 and page.reports.chart_view.chart().series()


def test_dialog_creates_an_opportunity_with_lines_and_competitors(qtbot, office, typer):
    from ui.context import AppContext
    from ui.pipeline.dialog import OpportunityDialog

    dlg = OpportunityDialog(AppContext(user_id=office["maryam"]), customer_id=office["other"])
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.save()
    assert "عنوان فرصت" in dlg.error.text()
    assert Opportunity.select().count() == 5
    typer(dlg.title, "نوسازی تأسیسات برقی")
    dlg._add_line("کابل برق ۲.۵ افشان", "۲", 38_500_000)
    dlg._add_competitor("الکتریک پارس", 70 * M, "تحویل سریع")
    dlg.close_date.setText("۱۴۰۵/۰۴/۱۵")
    dlg.auto_probability.setChecked(False)
    dlg.probability.setValue(25)
    with qtbot.waitSignal(dlg.saved, timeout=2000):
        assert dlg.save()
    opp = Opportunity.get(Opportunity.title == "نوسازی تأسیسات برقی")
    assert (opp.value, opp.probability, opp.probability_manual, opp.owner_id) == (77 * M, 25, True, office["maryam"])
    data = ops.get_opportunity(opp.id)
    assert data["competitors"][0]["name"] == "الکتریک پارس" and data["competitors"][0]["price"] == 70 * M
    assert data["lines"][0]["amount"] == 77 * M


def test_dialog_shows_history_and_marks_lost_with_a_reason(qtbot, office):
    from ui.context import AppContext
    from ui.pipeline.dialog import OpportunityDialog

    opp = office["ids"][2]
    dlg = OpportunityDialog(AppContext(user_id=office["reza"]), opp)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.history.rowCount() == 2
    assert [dlg.history.item(1, c).text() for c in (1, 2)] == ["سرنخ جدید", "نیازسنجی"]
    assert dlg.title.text() == "تابلو برق کارخانه"
    reason_id = pst.lost_reasons()[0][0]
    assert dlg.mark_lost((reason_id, "بودجه ندارند"))
    assert Opportunity.get_by_id(opp).status == "lost"


def test_customer_file_lists_open_opportunities(qtbot, office):
    from ui.context import AppContext
    from ui.customers.file import CustomerFileWindow

    w = CustomerFileWindow(AppContext(user_id=office["reza"]), office["lead"])
    qtbot.addWidget(w)
    w.show()
    texts = w.opportunities_box.texts()
    assert len(texts) == 3
    assert texts[0].startswith("سیم‌کشی ساختمان اداری — سرنخ جدید — ۱۲۰٬۰۰۰٬۰۰۰ ریال — گام بعدی: تماس پیگیری")


def test_dashboard_shows_my_steps_due_and_rotting_deals(qtbot, office):
    from ui.context import AppContext
    from ui.dashboard.page import DashboardPage

    freeze("1405/02/28")        # eight days idle: «سرنخ جدید» rots after 7
    page = DashboardPage(AppContext(user_id=office["reza"]))
    qtbot.addWidget(page)
    page.show()
    texts = page.texts("opportunities")
    assert texts[0].startswith("۱۴۰۵/۰۲/۲۰  تماس پیگیری — سیم‌کشی ساختمان اداری")
    # «پشتیبانی…» idles in «سرنخ جدید» (rots after 7 days); the first deal is listed once, as due
    assert texts[1:] == ["راکد ۸ روز در «سرنخ جدید» — پشتیبانی سالانه سامانه (علی رضایی)"]
    assert page.cards["opportunities"].count.text() == "۲"
    assert page.cards["opportunities"].count.property("alert") is True


def test_brief_is_what_the_popup_needs(office):
    briefs = pb.open_opportunities_brief(office["lead"])
    assert [(b.title, b.stage_name, b.next_step) for b in briefs][0] == ("سیم‌کشی ساختمان اداری", "سرنخ جدید",
                                                                         "تماس پیگیری")


def test_settings_dialog_saves_stages_and_targets(qtbot, office):
    from ui.context import AppContext
    from ui.pipeline.settings_dialog import PipelineSettingsDialog

    dlg = PipelineSettingsDialog(AppContext())
    qtbot.addWidget(dlg)
    dlg.show()
    dlg._add_stage()
    row = dlg.stage_table.rowCount() - 1
    dlg.stage_table.item(row, 0).setText("ارسال نمونه")
    dlg.stage_table.setCurrentCell(row, 0)
    dlg._shift(-1)
    dlg._shift(-1)                       # before «برنده» and «ازدست‌رفته»
    assert dlg.save_stages(), dlg.error.text()
    assert [x.name for x in pst.list_stages()][-3:] == ["ارسال نمونه", "برنده", "ازدست\u200cرفته"]
    from PySide6.QtWidgets import QTableWidgetItem

    dlg.target_table.setItem(0, 2, QTableWidgetItem("۱۵۰٬۰۰۰٬۰۰۰"))
    assert dlg.save_targets()
    from app.pipeline.reports import targets_of

    uid = dlg.target_users[0][0]
    assert targets_of(1405)[(uid, 3)] == 150 * M
    assert StageChange.select().count() >= 5


def test_table_rows_of_the_dialogs_add_read_and_remove(qtbot, office):
    """The dialogs' small tables: a competitor added in the settings is saved with its site; the deal
    dialog's lines total follows a line removed; a stage's spin boxes and checks are read back."""
    from app.pipeline import competitors as pc
    from ui.context import AppContext
    from ui.pipeline.dialog import OpportunityDialog
    from ui.pipeline.settings_dialog import PipelineSettingsDialog

    dlg = PipelineSettingsDialog(AppContext())
    qtbot.addWidget(dlg)
    dlg._add_competitor()
    r = dlg.comp_table.rowCount() - 1
    dlg.comp_table.item(r, 0).setText("برق آفرین")
    dlg.comp_table.item(r, 1).setText("barghafarin.ir")
    assert not dlg.comp_table.item(r, 4).flags() & Qt.ItemFlag.ItemIsEditable      # the deals count
    assert dlg.save_competitors(), dlg.error.text()
    assert [(c.name, c.website) for c in pc.list_competitors() if c.name == "برق آفرین"] == [("برق آفرین",
                                                                                             "barghafarin.ir")]
    won = next(i for i in range(dlg.stage_table.rowCount()) if dlg._stage_values(i)["is_won"])
    assert dlg._stage_values(won)["probability"] == 100 and dlg._stage_values(won)["id"] is not None

    opp = OpportunityDialog(AppContext(user_id=office["reza"]), customer_id=office["other"])
    qtbot.addWidget(opp)
    opp._add_line("کابل برق ۲.۵ افشان", "۲", 38_500_000)
    opp._add_line("کلید مینیاتوری", "۱۰", 1_200_000)
    assert opp.lines_total.text() == "جمع: ۸۹٬۰۰۰٬۰۰۰ ریال"
    opp.lines.setCurrentCell(0, 0)
    opp._remove_line()
    assert opp.lines_total.text() == "جمع: ۱۲٬۰۰۰٬۰۰۰ ریال"
    assert opp._line_rows() == [{"description": "کلید مینیاتوری", "quantity": "۱۰", "unit_price": "۱٬۲۰۰٬۰۰۰"}]


def test_pipeline_reports_hide_the_excel_button_from_a_role_without_export(qtbot, office):
    from app.office import session
    from ui.context import AppContext
    from ui.pipeline.reports_page import PipelineReports

    with session.acting_as(session.Principal(office["reza"], "رضا کریمی", "sales", how="test")):
        rep = PipelineReports(AppContext(user_id=office["reza"]))
    qtbot.addWidget(rep)
    manager = PipelineReports(AppContext())                  # the system (tests): everything
    qtbot.addWidget(manager)
    assert rep.excel_button.isHidden() and not manager.excel_button.isHidden()


def test_reports_are_counted_off_the_gui_thread_and_only_the_latest_shown(qtbot, office):
    import datetime as dt
    import threading

    from ui.context import AppContext
    from ui.pipeline.reports_page import PipelineReports

    rep = PipelineReports(AppContext())
    qtbot.addWidget(rep)
    rep.show()
    qtbot.waitUntil(lambda: rep.result is not None and rep.result.key == "funnel")
    assert rep.job.worker_thread not in (None, threading.get_ident())
    assert rep.table.rowCount() == 6
    rep.set_params(dt.date(2026, 5, 1), dt.date(2026, 4, 1), None, None)
    qtbot.waitUntil(lambda: not rep.job.running)
    assert rep.note.isVisibleTo(rep) and rep.note.text() == "تاریخ «از» بعد از تاریخ «تا» است."
    rep.set_params(None, None, None, None)
    rep.select_report("forecast")
    earlier = rep.job
    rep.select_report("lost_reasons")
    qtbot.waitUntil(lambda: not earlier.running and not rep.job.running)
    assert earlier.result.key == "forecast"                       # counted, but asked for no longer
    assert rep.result.key == "lost_reasons" and rep.heading.text() == "علت‌های از دست رفتن فرصت‌ها"


def test_list_reads_a_page_at_a_time_and_sorts_in_the_database(qtbot, qtmodeltester, office):
    from ui.pipeline.models import OpportunityListModel

    m = OpportunityListModel()
    m.PAGE = 2
    m.sort(3, Qt.SortOrder.DescendingOrder)              # before the first load: only remembered
    assert m.rowCount() == 0 and not m.canFetchMore()
    m.load()
    assert (m.rowCount(), m.count) == (2, 5) and m.canFetchMore()
    with qtbot.waitSignal(m.rowsInserted, timeout=2000):
        m.fetchMore()
    m.fetchMore()
    assert [r.value for r in m.rows] == [600 * M, 480 * M, 360 * M, 240 * M, 120 * M] and not m.canFetchMore()
    with qtbot.waitSignal(m.modelReset, timeout=2000):
        m.sort(0, Qt.SortOrder.AscendingOrder)           # by title: read again from the first page
    assert m.rowCount() == 2 and m.rows[0].title == "تابلو برق کارخانه"     # code-point order, as before
    qtmodeltester.check(m, force_py=True)


def _more_due_than_the_card_holds(office) -> int:
    """Five deals more than the dashboard card lists, each with a step due three days ago; how many were made."""
    freeze("1405/02/28")
    extra = pb.DASHBOARD_LIMIT + 5
    for i in range(extra):
        ops.create_opportunity({"customer_id": office["lead"], "title": f"فرصت {i}", "value": M,
                                "owner_id": office["reza"], "next_step": "تماس",
                                "next_step_date": "1405/02/25"}, user=office["reza"])
    return extra


def test_dashboard_card_counts_past_its_limit_and_opens_the_pipeline(qtbot, office):
    """An office with more deals due than the card holds: the card lists the first ones, its count is every deal
    that needs a step or rots (each once), and its last row opens the pipeline."""
    from app import fmt
    from ui.context import AppContext
    from ui.dashboard.page import DashboardPage

    extra = _more_due_than_the_card_holds(office)
    page = DashboardPage(AppContext(user_id=office["reza"]))
    qtbot.addWidget(page)
    page.show()
    shown = pb.DASHBOARD_LIMIT + 1
    assert len(page.texts("opportunities")) == shown        # at first, the rows it holds
    # the fixture's deal due on 1405/02/20 (idle too, listed once) and its rotting one, besides the new ones
    total = extra + 2
    assert pb.count_needing_attention(office["reza"]) == total
    # then every deal, counted on a worker
    qtbot.waitUntil(lambda: page.cards["opportunities"].count.text() == fmt.num(total), timeout=3000)
    texts = page.texts("opportunities")
    assert len(texts) == shown + 1 and texts[-1] == f"… و {fmt.count(total - shown, 'مورد دیگر')}"
    lst = page.cards["opportunities"].list
    with qtbot.waitSignal(page.ctx.bus.show_section) as sig:
        lst.itemActivated.emit(lst.item(lst.count() - 1))
    assert sig.args == ["pipeline"]
    # read again (the same page refreshed): one closing row, not two
    page.refresh()
    qtbot.waitUntil(lambda: page.texts("opportunities")[-1].startswith("…"), timeout=3000)
    assert page.texts("opportunities") == texts


def test_a_dashboard_left_before_its_deals_are_counted_counts_them_when_it_is_shown_again(qtbot, office,
                                                                                          monkeypatch):
    """The count past the card's limit walks every open deal: a page hidden by the time it is due does not read it
    then, but once it is chosen again."""
    from app import fmt
    from ui.context import AppContext
    from ui.dashboard.page import DashboardPage

    extra = _more_due_than_the_card_holds(office)
    from ui.pipeline import dashboard_card

    counted = []
    count = dashboard_card.count_opportunities
    monkeypatch.setattr(dashboard_card, "count_opportunities", lambda *a: counted.append(a) or count(*a))
    page = DashboardPage(AppContext(user_id=office["reza"]))
    qtbot.addWidget(page)
    page.show()
    first = page.cards["opportunities"].count.text()
    page.hide()                                   # left at once, before the count is due
    qtbot.waitUntil(lambda: page._count_when_shown is not None, timeout=3000)
    assert page.cards["opportunities"].count.text() == first and not counted
    page.show()
    qtbot.waitUntil(lambda: page.cards["opportunities"].count.text() == fmt.num(extra + 2), timeout=3000)
    assert page._count_when_shown is None
