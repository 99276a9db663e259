"""Pipeline reports against figures worked out by hand on a small office (see each test's comments), on
SQLite and PostgreSQL; and the Excel export of a report re-opened."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from app.core import clock
from app.core.jalali import parse_date
from app.pipeline import opportunities as ops
from app.pipeline import reports as pr
from app.pipeline import stages as pst
from app.sales.documents import create_invoice
from tests.pipeline.helpers import freeze, make_customer, make_user, stage_ids

M = 1_000_000


@pytest.fixture
def office(anydb):
    """Six deals created 1405/02/20 (T0); «now» is 1405/03/05 (T0 + 16 days).

    O1 reza   100M  close 1405/03/10  «سرنخ جدید» p10          open
    O2 reza   250M  close 1405/03/25  → «نیازسنجی» T0+1  p35 typed  open
    O3 maryam 80,000,015 close 1405/04/02 → «تماس اولیه» T0+2 p15 typed  open
    O4 maryam 50M   close 1405/03/05  won T0+14 (1405/03/03); competitor X at 52M
    O5 reza   30M   source نمایشگاه → «نیازسنجی» T0+2, lost T0+5 (reason A); competitor X at 28M
    O6 reza   70M   no close date      «سرنخ جدید» p10          open
    """
    freeze("1405/02/20")
    reza, maryam = make_user(), make_user("مریم احمدی", "maryam")
    lead = make_customer("علی رضایی", source="اینستاگرام")
    expo = make_customer("سارا نوری", source="نمایشگاه")
    make_customer("کاوه صادقی", stage="actual", source="تماس ورودی")
    s = stage_ids()

    def new(title, owner, value, close=None, **kw):
        return ops.create_opportunity({"customer_id": lead, "title": title, "owner_id": owner, "value": value,
                                       "close_date": close, **kw}, user=owner).id

    o1 = new("O1", reza, 100 * M, "1405/03/10")
    o2 = new("O2", reza, 250 * M, "1405/03/25", probability=35)
    o3 = new("O3", maryam, 80_000_015, "1405/04/02", probability=15)
    o4 = new("O4", maryam, 50 * M, "1405/03/05", competitors=[{"name": "X", "price": 52 * M}])
    o5 = new("O5", reza, 30 * M, None, source="نمایشگاه", competitors=[{"name": "X", "price": 28 * M}])
    o6 = new("O6", reza, 70 * M)
    freeze("1405/02/21")
    ops.move_stage(o2, s["نیازسنجی"], user=reza)
    freeze("1405/02/22")
    ops.move_stage(o3, s["تماس اولیه"], user=maryam)
    ops.move_stage(o5, s["نیازسنجی"], user=reza)
    freeze("1405/02/25")
    reason = pst.lost_reasons()[0]
    ops.mark_lost(o5, reason[0], user=reza)
    freeze("1405/03/03")
    ops.mark_won(o4, user=maryam)
    freeze("1405/03/04")
    create_invoice(expo, [{"description": "بازدید فنی", "quantity": 1, "unit_price": 10 * M}], rep_id=reza)
    pr.set_target(reza, 1405, 3, 200 * M)
    pr.set_target(maryam, 1405, 3, 100 * M)
    freeze("1405/03/05")
    yield {"reza": reza, "maryam": maryam, "ids": (o1, o2, o3, o4, o5, o6), "reason": reason[1]}
    clock.set_now(None)


KHORDAD_TIR = (parse_date("1405/03/01"), parse_date("1405/04/31"))


def test_forecast_per_jalali_month(office):
    r = pr.run("forecast", *KHORDAD_TIR)
    # Khordad: O1 + O2 open = 350M; weighted (100M×10 + 250M×35) / 100 = 97.5M; O4 won 50M
    # Tir: O3 80,000,015 × 15 = 1,200,000,225 → /100, half-up once = 12,000,002
    assert [(x["month"], x["count"], x["unweighted"], x["weighted"], x["won"], x["forecast"]) for x in r.rows] == [
        ("خرداد ۱۴۰۵", 2, 350 * M, 97_500_000, 50 * M, 147_500_000),
        ("تیر ۱۴۰۵", 1, 80_000_015, 12_000_002, 0, 12_000_002)]
    assert r.totals == {"count": 3, "unweighted": 430_000_015, "weighted": 109_500_002, "won": 50 * M,
                        "forecast": 159_500_002}
    assert r.note.startswith("۱ فرصت") and "تاریخ بستن" in r.note        # O6


def test_forecast_by_rep_and_filters(office):
    r = pr.run("forecast_rep", *KHORDAD_TIR)
    assert [(x["name"], x["count"], x["unweighted"], x["weighted"], x["won"], x["forecast"]) for x in r.rows] == [
        ("رضا کریمی", 2, 350 * M, 97_500_000, 0, 97_500_000),
        ("مریم احمدی", 1, 80_000_015, 12_000_002, 50 * M, 62_000_002)]
    only = pr.run("forecast", *KHORDAD_TIR, owner_id=office["maryam"])
    assert [(x["month"], x["weighted"], x["won"]) for x in only.rows] == [("خرداد ۱۴۰۵", 0, 50 * M),
                                                                          ("تیر ۱۴۰۵", 12_000_002, 0)]
    khordad = pr.run("forecast", parse_date("1405/03/01"), parse_date("1405/03/31"))
    assert [x["month"] for x in khordad.rows] == ["خرداد ۱۴۰۵"]


def test_funnel_counts_values_conversions_and_days(office):
    r = pr.run("funnel")
    got = [(x["name"], x["reached"], x["reached_value"], x["here"], x["here_value"], x["weighted"], x["conversion"],
            x["avg_days"]) for x in r.rows]
    assert got == [
        # reached by all six; here now O1 and O6 (170M, weighted 17M); 4 of 6 went on → 66.7 %;
        # days: O1 16, O2 1, O3 2, O4 14, O5 2, O6 16 → 51 / 6 = 8.5
        ("سرنخ جدید", 6, 580_000_015, 2, 170 * M, 17 * M, 66.7, 8.5),
        # O2 and O5 skipped it (they reached a later stage), O3 is here, O4 was won: 4; 3 of 4 went on
        ("تماس اولیه", 4, 410_000_015, 1, 80_000_015, 12_000_002, 75.0, 14.0),
        # O2 (here, 15 days so far), O5 (3 days, then lost), O4 (won): 3; 1 of 3 went on
        ("نیازسنجی", 3, 330 * M, 1, 250 * M, 87_500_000, 33.3, 9.0),
        ("ارسال پیش\u200cفاکتور", 1, 50 * M, 0, 0, 0, 100.0, None),
        ("مذاکره", 1, 50 * M, 0, 0, 0, 100.0, None),
        ("برنده", 1, 50 * M, 1, 50 * M, 50 * M, None, None),
    ]
    assert r.note.startswith("۶ فرصت") and "۱ برنده" in r.note and "۱ ازدست‌رفته" in r.note


def test_win_rate_and_cycle_by_rep_and_source(office):
    r = pr.run("win_rep")
    assert [(x["name"], x["won"], x["lost"], x["win_rate"], x["won_value"], x["avg_cycle"]) for x in r.rows] == [
        ("مریم احمدی", 1, 0, 100.0, 50 * M, 14.0),          # O4: 1405/02/20 → 1405/03/03 = 14 days
        ("رضا کریمی", 0, 1, 0.0, 0, None)]
    assert (r.totals["won"], r.totals["lost"], r.totals["win_rate"], r.totals["avg_cycle"]) == (1, 1, 50.0, 14.0)
    r = pr.run("win_source")
    assert [(x["name"], x["won"], x["lost"]) for x in r.rows] == [("اینستاگرام", 1, 0), ("نمایشگاه", 0, 1)]


def test_lead_source_effectiveness(office):
    r = pr.run("lead_sources")
    # اینستاگرام: the lead, converted by O4's win, no invoice; five of its deals carry that source, O4 won
    # نمایشگاه: the expo lead, converted by its invoice of 10M + 10% VAT; O5 carries that source (lost)
    # the customer who came in as a customer (تماس ورودی) is not a lead
    assert [(x["name"], x["leads"], x["converted"], x["rate"], x["revenue"], x["opportunities"], x["won"],
             x["won_value"]) for x in r.rows] == [
        ("نمایشگاه", 1, 1, 100.0, 11 * M, 1, 0, 0),
        ("اینستاگرام", 1, 1, 100.0, 0, 5, 1, 50 * M)]


def test_targets_with_progress(office):
    r = pr.run("targets", parse_date("1405/03/01"), parse_date("1405/03/31"))
    assert [(x["name"], x["month"], x["target"], x["achieved"], x["progress"], x["pipeline"]) for x in r.rows] == [
        ("رضا کریمی", "خرداد ۱۴۰۵", 200 * M, 11 * M, 5.5, 97_500_000),
        ("مریم احمدی", "خرداد ۱۴۰۵", 100 * M, 0, 0.0, 0)]
    assert r.totals["progress"] == round(11 * 100 / 300, 1)


def test_competitors_and_lost_reasons(office):
    r = pr.run("competitors")
    assert [(x["name"], x["won"], x["lost"], x["win_rate"], x["avg_price"], x["lost_value"]) for x in r.rows] == [
        ("X", 1, 1, 50.0, 40 * M, 30 * M)]
    r = pr.run("lost_reasons")
    assert [(x["name"], x["count"], x["share"], x["value"]) for x in r.rows] == [(office["reason"], 1, 100.0, 30 * M)]


def test_every_report_runs_on_an_empty_database_with_a_note(anydb):
    for key in pr.REPORTS:
        r = pr.run(key, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        assert r.rows == [] or key == "funnel" and all(x["reached"] == 0 for x in r.rows)
        assert r.note


def test_bad_period_is_refused_in_persian(anydb):
    from app.core.errors import UserError

    with pytest.raises(UserError) as e:
        pr.run("forecast", dt.date(2026, 5, 1), dt.date(2026, 4, 1))
    assert "«از»" in e.value.message and "«تا»" in e.value.message


def test_forecast_exports_to_excel(office, tmp_path):
    from app.reports import service as reports

    r = pr.run("forecast", *KHORDAD_TIR)
    out = reports.export_xlsx(r, tmp_path / "forecast.xlsx")
    ws = openpyxl.load_workbook(out).active
    assert ws.sheet_view.rightToLeft and "پیش‌بینی فروش ماهانه" in ws["A1"].value
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=5)]
    assert values[0][:6] == ["خرداد ۱۴۰۵", 2, 350 * M, 97_500_000, 50 * M, 147_500_000]
    assert values[2][0] == "جمع" and values[2][5] == 159_500_002
