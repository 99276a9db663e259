"""The pipeline's services on a real database (SQLite, and PostgreSQL where CRM_TEST_POSTGRES_URL is set):
stage moves and their history, won/lost rules, the lead → customer conversion (on a win and on the first
invoice), next steps as tasks, validation in Persian, stage settings."""
from __future__ import annotations

import datetime as dt

import pytest

from app.core import clock
from app.core.errors import UserError, ValidationError
from app.pipeline import board as pb
from app.pipeline import conversion
from app.pipeline import opportunities as ops
from app.pipeline import stages as pst
from app.sales.documents import convert_proforma, create_invoice
from models.core import Activity, Customer
from models.pipeline import CustomerConversion, Opportunity, OpportunityDocument, StageChange
from models.tasks import Task
from tests.pipeline.helpers import at, freeze, make_customer, make_user, stage_ids


@pytest.fixture
def office(anydb):
    freeze("1405/02/20")
    reza = make_user()
    lead = make_customer()
    yield {"reza": reza, "lead": lead, "stages": stage_ids()}
    clock.set_now(None)


def _new(office, **kw):
    data = {"customer_id": office["lead"], "title": "سیم‌کشی ساختمان اداری", "value": "۱۲۰٬۰۰۰٬۰۰۰",
            "close_date": "1405/03/15"}
    data.update(kw)
    return ops.create_opportunity(data, user=office["reza"])


def test_default_stages_are_persian_with_won_and_lost(anydb):
    stages = pst.list_stages()
    assert [s.name for s in stages] == ["سرنخ جدید", "تماس اولیه", "نیازسنجی", "ارسال پیش\u200cفاکتور", "مذاکره",
                                        "برنده", "ازدست\u200cرفته"]
    assert [s.probability for s in stages] == [10, 20, 40, 60, 80, 100, 0]
    assert [s.name for s in stages if s.is_won] == ["برنده"] and [s.name for s in stages if s.is_lost] == ["ازدست\u200cرفته"]
    assert pst.lost_reasons()


def test_create_takes_defaults_from_stage_and_customer(office):
    Customer.update(assigned_to=office["reza"]).where(Customer.id == office["lead"]).execute()
    opp = _new(office)
    assert (opp.value, opp.probability, opp.probability_manual, opp.status) == (120_000_000, 10, False, "open")
    assert opp.close_date == dt.date(2026, 6, 5)
    assert opp.owner_id == office["reza"] and opp.source == "اینستاگرام"
    hist = ops.history(opp.id)
    assert [(h.from_stage, h.to_stage, h.user_name) for h in hist] == [("", "سرنخ جدید", "رضا کریمی")]
    assert Activity.select().where(Activity.customer == office["lead"], Activity.kind == "opportunity").count() == 1


def test_stage_moves_are_recorded_with_time_in_stage(office):
    s = office["stages"]
    opp = _new(office)
    freeze("1405/02/23")
    ops.move_stage(opp.id, s["نیازسنجی"], user=office["reza"])
    freeze("1405/02/30")
    ops.move_stage(opp.id, s["مذاکره"], user=office["reza"])
    freeze("1405/03/02")
    hist = ops.history(opp.id)
    assert [(h.from_stage, h.to_stage) for h in hist] == [("", "سرنخ جدید"), ("سرنخ جدید", "نیازسنجی"),
                                                          ("نیازسنجی", "مذاکره")]
    assert [h.at for h in hist] == [at("1405/02/20"), at("1405/02/23"), at("1405/02/30")]
    assert [round(h.days, 2) for h in hist] == [3.0, 7.0, 3.0]      # the last one: until now
    assert [h.probability for h in hist] == [10, 40, 80]
    row = pb.row(opp.id)
    assert (row.stage_name, row.probability, row.days_in_stage) == ("مذاکره", 80, 3)
    assert StageChange.select().where(StageChange.opportunity == opp.id).count() == 3


def test_moving_to_the_same_stage_writes_nothing(office):
    opp = _new(office)
    ops.move_stage(opp.id, opp.stage_id, user=office["reza"])
    assert StageChange.select().where(StageChange.opportunity == opp.id).count() == 1


def test_won_closes_converts_the_lead_and_cancels_the_next_step(office):
    opp = _new(office, next_step="ارسال نمونه کار", next_step_date="1405/02/22")
    task = Task.get_by_id(opp.next_task_id)
    assert (task.status, task.kind, task.assignee_id) == ("open", "followup", office["reza"])
    freeze("1405/02/28")
    ops.mark_won(opp.id, user=office["reza"], note="قرارداد امضا شد")
    opp = Opportunity.get_by_id(opp.id)
    assert (opp.status, opp.probability, opp.closed_at, opp.close_note) == ("won", 100, at("1405/02/28").date(),
                                                                           "قرارداد امضا شد")
    assert Customer.get_by_id(office["lead"]).stage == "actual"
    conv = CustomerConversion.get(CustomerConversion.customer == office["lead"])
    assert (conv.via, conv.opportunity_id, conv.user_id, conv.at) == ("opportunity", opp.id, office["reza"],
                                                                     at("1405/02/28"))
    assert conv.source == "اینستاگرام"
    assert Task.get_by_id(task.id).status == "cancelled"
    # a second win elsewhere does not convert twice
    other = _new(office, title="روشنایی پارکینگ")
    ops.mark_won(other.id, user=office["reza"])
    assert CustomerConversion.select().where(CustomerConversion.customer == office["lead"]).count() == 1


def test_lost_needs_a_reason_and_writes_nothing_without_one(office):
    s = office["stages"]
    opp = _new(office)
    with pytest.raises(ValidationError) as e:
        ops.move_stage(opp.id, s["ازدست\u200cرفته"], user=office["reza"])
    assert set(e.value.errors) == {"lost_reason"}
    assert Opportunity.get_by_id(opp.id).status == "open"
    assert StageChange.select().where(StageChange.opportunity == opp.id).count() == 1
    reason = pst.lost_reasons()[0]
    ops.mark_lost(opp.id, reason[0], user=office["reza"], note="رقیب ارزان‌تر داد")
    opp = Opportunity.get_by_id(opp.id)
    assert (opp.status, opp.probability, opp.lost_reason_id) == ("lost", 0, reason[0])
    assert Customer.get_by_id(office["lead"]).stage == "potential"      # losing does not convert


def test_reopening_a_lost_deal_clears_the_close(office):
    s = office["stages"]
    opp = _new(office, probability=35)
    ops.mark_lost(opp.id, pst.lost_reasons()[0][0], user=office["reza"])
    ops.move_stage(opp.id, s["مذاکره"], user=office["reza"])
    opp = Opportunity.get_by_id(opp.id)
    assert (opp.status, opp.closed_at, opp.lost_reason_id, opp.probability) == ("open", None, None, 80)
    assert [h.to_stage for h in ops.history(opp.id)] == ["سرنخ جدید", "ازدست\u200cرفته", "مذاکره"]


def test_typed_probability_sticks_until_cleared(office):
    s = office["stages"]
    opp = _new(office, probability="۳۵٪")
    assert (opp.probability, opp.probability_manual) == (35, True)
    ops.move_stage(opp.id, s["مذاکره"], user=office["reza"])
    assert Opportunity.get_by_id(opp.id).probability == 35
    ops.update_opportunity(opp.id, {"probability": None}, user=office["reza"])
    opp = Opportunity.get_by_id(opp.id)
    assert (opp.probability, opp.probability_manual) == (80, False)


def test_first_invoice_converts_a_lead_and_links_the_opportunity(office):
    opp = _new(office, lines=[{"description": "کابل برق ۲.۵", "quantity": "۲", "unit_price": "38500000"}],
               value=None)
    assert opp.value == 77_000_000
    pf = ops.create_proforma(opp.id, user=office["reza"])
    assert [d.id for d in ops.documents(opp.id)] == [pf.id]
    assert Customer.get_by_id(office["lead"]).stage == "potential"       # a proforma is not a sale
    inv = convert_proforma(pf.id, user=office["reza"])
    assert Customer.get_by_id(office["lead"]).stage == "actual"
    conv = CustomerConversion.get(CustomerConversion.customer == office["lead"])
    assert (conv.via, conv.document_id, conv.opportunity_id) == ("invoice", inv.id, opp.id)
    assert OpportunityDocument.select().where(OpportunityDocument.opportunity == opp.id).count() == 2
    assert ops.realised_amount(opp.id) == inv.total


def test_a_plain_invoice_converts_a_lead_without_an_opportunity(office):
    other = make_customer("مریم احمدی")
    inv = create_invoice(other, [{"description": "لامپ", "quantity": 3, "unit_price": 450_000}])
    assert Customer.get_by_id(other).stage == "actual"
    assert conversion.conversion_of(other).document_id == inv.id
    # an invoice kept as a draft converts nothing
    third = make_customer("سینا نوری")
    create_invoice(third, [{"description": "لامپ", "quantity": 1, "unit_price": 450_000}], issue=False)
    assert Customer.get_by_id(third).stage == "potential"


def test_next_step_task_follows_edits(office):
    opp = _new(office, next_step="تماس", next_step_date="1405/02/22")
    first = opp.next_task_id
    ops.update_opportunity(opp.id, {"next_step_date": "1405/02/25"}, user=office["reza"])
    t = Task.get_by_id(first)
    assert t.due_at == at("1405/02/25", 0) and t.all_day and "تماس" in t.title
    ops.update_opportunity(opp.id, {"next_step": "", "next_step_date": None}, user=office["reza"])
    assert Task.get_by_id(first).status == "cancelled"


@pytest.mark.parametrize("data, field, message", [
    ({"title": ""}, "title", "عنوان فرصت را بنویسید"),
    ({"customer_id": None}, "customer", "مشتری یا سرنخ این فرصت را انتخاب کنید."),
    ({"value": "دوازده"}, "value", "ارزش مورد انتظار باید عدد (ریال) باشد."),
    ({"value": -5}, "value", "ارزش مورد انتظار نمی‌تواند منفی باشد."),
    ({"probability": 140}, "probability", "احتمال باید عددی بین ۰ و ۱۰۰ باشد."),
    ({"close_date": "1405/13/01"}, "close_date", "ماه"),
])
def test_bad_input_gets_a_persian_message_and_saves_nothing(office, data, field, message):
    with pytest.raises(ValidationError) as e:
        _new(office, **data)
    assert field in e.value.errors and message in e.value.errors[field]
    assert Opportunity.select().count() == 0 and StageChange.select().count() == 0


def test_brief_for_the_popup_and_dashboard_lists(office):
    s = office["stages"]
    a = _new(office, title="الف", next_step="تماس", next_step_date="1405/02/19")
    b = _new(office, title="ب", next_step="جلسه", next_step_date="1405/02/25")
    c = _new(office, title="ج")
    ops.mark_lost(c.id, pst.lost_reasons()[0][0], user=office["reza"])
    briefs = pb.open_opportunities_brief(office["lead"])
    assert [x.title for x in briefs] == ["الف", "ب"]
    assert briefs[0].stage_name == "سرنخ جدید" and briefs[0].value == 120_000_000
    assert [r.title for r in pb.needing_step(office["reza"])] == ["الف"]
    assert pb.rotting(office["reza"]) == []
    freeze("1405/02/27")          # 7 days idle in «سرنخ جدید» (rots after 7)
    ops.move_stage(b.id, s["نیازسنجی"], user=office["reza"])
    assert [r.title for r in pb.rotting(office["reza"])] == ["الف"]
    assert [r.title for r in pb.rotting(None)] == ["الف"]
    assert pb.row(a.id).rotting and not pb.row(b.id).rotting


def test_board_groups_by_stage_with_sums_and_filters(office):
    s = office["stages"]
    other = make_user("مریم احمدی", "maryam")
    a = _new(office, value=100, probability=50)
    _new(office, value=300, owner_id=other)
    b = _new(office, value=1000)
    ops.move_stage(b.id, s["مذاکره"], user=office["reza"])
    board = pb.load_board()
    first = board.column_of(s["سرنخ جدید"])
    assert (len(first.rows), first.total, first.weighted) == (2, 400, 80)   # 100×50% + 300×10%
    assert board.column_of(s["مذاکره"]).total == 1000
    mine = pb.load_board(pb.BoardFilter(owner_id=other))
    assert sum(len(c.rows) for c in mine.columns) == 1
    ops.mark_won(a.id, user=office["reza"])
    assert [r.id for r in pb.load_board().column_of(s["برنده"]).rows] == [a.id]
    freeze("1405/04/30")          # more than 30 days later the won card leaves the board (archive)
    assert pb.load_board().column_of(s["برنده"]).rows == []


def test_board_reads_a_column_a_page_at_a_time_with_figures_of_the_whole(office):
    """Seven deals in «سرنخ جدید» (two without a close date), three cards a page: the figures cover all seven
    from the start; each page continues after the last card read, in board order (soonest close first,
    undated last); a card dropped in meanwhile is not read twice; the text search narrows figures and pages."""
    s = office["stages"]
    dates = ["1405/03/20", "1405/03/05", None, "1405/03/05", "1405/04/01", None, "1405/03/10"]
    ids = [_new(office, title=f"پروژه {i}", value=(i + 1) * 1000, close_date=d).id for i, d in enumerate(dates)]
    moved = _new(office, title="انبار", value=500, close_date="1405/03/25")
    ops.move_stage(moved.id, s["مذاکره"], user=office["reza"])
    order = [ids[1], ids[3], ids[6], ids[0], ids[4], ids[2], ids[5]]

    board = pb.load_board(page=3)
    col = board.column_of(s["سرنخ جدید"])
    assert [r.id for r in col.rows] == order[:3]
    assert (col.count, col.unread, col.total, col.weighted) == (7, 4, 28_000, 2_800)
    assert board.column_of(s["مذاکره"]).count == 1 and board.column_of(s["برنده"]).rows == []
    # another desk drops «انبار» into the column: it sorts between the pages (close 03/25)
    ops.move_stage(moved.id, s["سرنخ جدید"], user=office["reza"])
    col.rows.insert(3, pb.row(moved.id))
    col.add(col.rows[3])
    rows, after, complete = pb.read_more(board, col, 3)
    assert [r.id for r in rows] == [ids[0], ids[4]] and not complete      # «انبار» was read in the page: skipped
    col.extend(rows, after, complete)
    rows, after, complete = pb.read_more(board, col, 3)
    assert [r.id for r in rows] == [ids[2], ids[5]] and complete
    col.extend(rows, after, complete)
    assert col.unread == 0 and len(col.rows) == col.count == 8
    assert pb.read_more(board, col, 3) == ([], after, True)

    found = pb.load_board(pb.BoardFilter(text="پروژه"), page=2).column_of(s["سرنخ جدید"])
    assert (found.count, found.total, [r.id for r in found.rows]) == (7, 28_000, order[:2])


def test_stage_settings_rules(anydb):
    s = {x.name: x for x in pst.list_stages()}
    new = pst.save_stage({"name": "ارسال نمونه", "probability": 50, "rot_days": 5})
    names = [x.name for x in pst.list_stages()]
    assert names.index("ارسال نمونه") == names.index("برنده") - 1       # new open stages go before won/lost
    with pytest.raises(ValidationError):
        pst.save_stage({"name": "برنده و باخته", "is_won": True, "is_lost": True})
    with pytest.raises(UserError):
        pst.save_stage({"name": "برنده", "probability": 100, "is_won": False}, s["برنده"].id)
    assert pst.won_stage().name == "برنده"                              # refused: nothing changed
    with pytest.raises(ValidationError):
        pst.save_stage({"name": "نیازسنجی"})                             # duplicate name
    pst.remove_stage(new.id)
    assert "ارسال نمونه" not in [x.name for x in pst.list_stages(active_only=False)]


def test_a_stage_with_open_deals_is_not_removed(office):
    opp = _new(office)
    with pytest.raises(UserError) as e:
        pst.remove_stage(opp.stage_id)
    assert "فرصت باز" in e.value.message


def test_learned_probabilities_use_laplace_on_closed_history(office):
    s = office["stages"]
    reason = pst.lost_reasons()[0][0]
    # 3 won after reaching «مذاکره»; 2 lost at «سرنخ جدید»; 1 lost after «نیازسنجی»
    for i in range(3):
        o = _new(office, title=f"برد {i}")
        ops.move_stage(o.id, s["مذاکره"], user=office["reza"])
        ops.mark_won(o.id, user=office["reza"])
    for i in range(2):
        o = _new(office, title=f"باخت {i}")
        ops.mark_lost(o.id, reason, user=office["reza"])
    o = _new(office, title="باخت دیر")
    ops.move_stage(o.id, s["نیازسنجی"], user=office["reza"])
    ops.mark_lost(o.id, reason, user=office["reza"])
    _new(office, title="باز")                                # open deals are not evidence
    learned = pst.learned_probabilities(min_closed=1)
    assert learned[s["سرنخ جدید"]] == (round(4 * 100 / 8), 3, 6)      # (3+1)/(6+2) = 50 %
    assert learned[s["نیازسنجی"]] == (round(4 * 100 / 6), 3, 4)       # (3+1)/(4+2) = 67 %
    assert learned[s["مذاکره"]] == (80, 3, 3)                         # (3+1)/(3+2) = 80 %
    assert pst.learned_probabilities() == {}                          # fewer than 10 closed: not offered
    pst.apply_learned_probabilities(min_closed=1)
    assert pst.get_stage(s["سرنخ جدید"]).probability == 50
    assert Opportunity.get(Opportunity.title == "باز").probability == 50


def test_roles_narrow_what_a_rep_sees_and_guard_the_settings(office):
    """A sales rep (own customers only) sees the deals they own and those of their own or unassigned
    customers — on the board, in the list, the dashboard and the reports — and is refused, in Persian, a
    colleague's deal and the office's pipeline settings; the manager sees and may do everything."""
    from app.core.errors import PermissionDenied
    from app.pipeline import reports as pr
    from tests.office.helpers import as_user

    s = office["stages"]
    rep = make_user("سارا محمدی", "sara", role="sales")
    boss = make_user("مدیر دفتر", "boss", role="manager")
    colleague = office["reza"]
    theirs = make_customer("مشتری رضا", assigned_to=colleague)
    mine_c = make_customer("مشتری سارا", assigned_to=rep)
    a = _new(office, title="فرصت رضا", customer_id=theirs, owner_id=colleague, value=100)
    b = _new(office, title="فرصت سارا", customer_id=mine_c, owner_id=rep, value=200)
    c = _new(office, title="سرنخ بی‌مسئول", owner_id=colleague, value=400)          # the lead is unassigned
    d = _new(office, title="فرصت سارا نزد مشتری رضا", customer_id=theirs, owner_id=rep, value=800)
    with as_user(rep):
        board = pb.load_board()
        assert sorted(r.title for col in board.columns for r in col.rows) == sorted(
            ["فرصت سارا", "سرنخ بی‌مسئول", "فرصت سارا نزد مشتری رضا"])
        assert board.column_of(s["سرنخ جدید"]).total == 1400
        assert {r.id for r in pb.list_opportunities()} == {b.id, c.id, d.id}
        assert [r["reached"] for r in pr.run("funnel").rows][0] == 3
        with pytest.raises(PermissionDenied) as e:
            ops.move_stage(a.id, s["مذاکره"], user=rep)
        assert e.value.message.startswith("این فرصت فروش از آنِ همکار دیگری است")
        with pytest.raises(PermissionDenied):
            ops.get_opportunity(a.id)
        with pytest.raises(PermissionDenied):
            _new(office, title="برای مشتری رضا", customer_id=theirs, owner_id=rep)
        ops.move_stage(d.id, s["مذاکره"], user=rep)                     # their own deal, whoever the customer
        for refused in (lambda: pst.save_stage({"name": "ارسال نمونه"}), lambda: pst.save_lost_reason("گرانی"),
                        lambda: pr.set_target(rep, 1405, 3, 1000), lambda: pst.remove_stage(s["مذاکره"])):
            with pytest.raises(PermissionDenied) as e:
                refused()
            assert "تغییر تنظیمات دفتر" in e.value.message
    assert Opportunity.get_by_id(a.id).stage_id == s["سرنخ جدید"]
    with as_user(boss):
        assert sum(col.count for col in pb.load_board().columns) == 4
        ops.move_stage(a.id, s["مذاکره"], user=boss)
        pst.save_lost_reason("گرانی")


def test_list_pages_come_in_the_order_of_any_column(office):
    """The list view reads a page at a time, sorted by the database: for every column, both ways, the pages
    glued together are the rows sorted as a person would (empty values last, first when descending; ties by
    id). Text columns follow the database's collation, checked where it is the code-point order (SQLite)."""
    from models.base import is_sqlite

    other = make_user("مریم احمدی", "maryam")
    expo = make_customer("شرکت آلفا", kind="organisation", company="شرکت آلفا")
    specs = [("۳۰۰", "1405/03/20", other, "جلسه", "1405/02/25"), ("۱۰۰", None, None, "", None),
             ("۳۰۰", "1405/03/05", office["reza"], "", None), ("۵۰", "1405/03/05", None, "تماس", "1405/02/22"),
             ("۹۰۰", None, other, "ارسال نمونه", None)]
    for i, (value, close, owner, step, step_day) in enumerate(specs):
        _new(office, title=f"پروژه {'ابپت'[i % 4]}{i}", value=value, close_date=close, owner_id=owner,
             next_step=step, next_step_date=step_day, customer_id=(office["lead"], expo)[i % 2])
    freeze("1405/03/01")
    ops.move_stage(Opportunity.select().order_by(Opportunity.id).first().id, office["stages"]["مذاکره"],
                   user=office["reza"])
    everything = pb.list_opportunities()
    assert pb.list_count() == len(everything) == 5
    for key in pb.LIST_SORT:
        if key == "days_in_stage" or (key in pb._TEXT_SORT and not is_sqlite()):
            continue
        for desc in (False, True):
            got = pb.list_page(sort=key, descending=desc, limit=2) + pb.list_page(sort=key, descending=desc,
                                                                                 offset=2, limit=2) \
                + pb.list_page(sort=key, descending=desc, offset=4, limit=2)
            value = (lambda r: r.weighted) if key == "weighted" else (lambda r, k=key: getattr(r, k))
            want = sorted(everything, key=lambda r: (value(r) is None or value(r) == "",
                                                     value(r) if value(r) is not None else "", r.id), reverse=desc)
            assert [r.id for r in got] == [r.id for r in want], (key, desc)
    for desc in (False, True):                 # days in stage: by the moment of the last move, finer than days
        days = [r.days_in_stage for r in pb.list_page(sort="days_in_stage", descending=desc)]
        assert days == sorted(days, reverse=desc) and days[0 if desc else -1] == 12 and 0 in days
    assert pb.list_count(pb.BoardFilter(owner_id=other)) == 2
    assert [r.title for r in pb.list_page(pb.BoardFilter(text="ب"), sort="title")] == ["پروژه ب1"]
