"""The seeds' KPIs on a fixture with known times, computed by hand (office hours: Sat–Wed 08–17, Thu 08–13,
Friday off), including a request that waits over a Thursday night and a Friday."""
from __future__ import annotations

import datetime as dt

import pytest

from app import settings
from app.core import clock
from app.service import hours, kpi
from app.service import requests as rq
from tests.tasks.helpers import customer, j, user

# 1405/03/02 is a Saturday; 03/06 Wednesday, 03/07 Thursday, 03/08 Friday, 03/09 Saturday.


@pytest.fixture
def fixture(anydb):
    reza, maryam = user("رضا کریمی", "reza"), user("مریم احمدی", "maryam")
    settings.set("service.reassign_rule", "off")
    cat = rq.save_category("تعمیر در محل", 60, 240)
    ali = customer()
    ids = {}

    def new(key, at, who, channel="phone"):
        clock.set_now(at)
        ids[key] = rq.create_request({"customer_id": ali, "subject": f"درخواست {key}", "category_id": cat.id,
                                      "assignee_id": who, "channel": channel}, user=who).id

    # R1: Saturday 09:00 → reply 09:30 (30 min) → done 12:00 (180 min; due 13:00, met); score 5
    new("r1", j(1405, 3, 2, 9, 0), reza)
    rq.reply(ids["r1"], "تماس گرفتم، فردا تکنسین می‌آید.", reza, at=j(1405, 3, 2, 9, 30))
    rq.set_status(ids["r1"], "done", reza, at=j(1405, 3, 2, 12, 0))
    rq.record_survey(ids["r1"], 5, "عالی", reza, at=j(1405, 3, 2, 13, 0))
    # R2: Wednesday 16:30 → reply Thursday 08:15 (30 + 15 = 45) → done Thursday 12:00 (30 + 240 = 270;
    # due Thursday 11:30: missed); score 3
    new("r2", j(1405, 3, 6, 16, 30), maryam)
    rq.reply(ids["r2"], "قطعه سفارش داده شد.", maryam, at=j(1405, 3, 7, 8, 15))
    rq.set_status(ids["r2"], "done", maryam, at=j(1405, 3, 7, 12, 0))
    rq.record_survey(ids["r2"], 3, "", maryam, at=j(1405, 3, 7, 12, 30))
    # R3: Thursday 12:00 → (Thursday night, Friday off) → reply Saturday 08:20 (60 + 20 = 80) → second reply
    # → closed Saturday 10:00 (60 + 120 = 180; due Saturday 11:00: met); no survey
    new("r3", j(1405, 3, 7, 12, 0), reza, "sms")
    rq.reply(ids["r3"], "پیامک شما رسید.", reza, at=j(1405, 3, 9, 8, 20))
    rq.reply(ids["r3"], "مشکل برطرف شد؟", reza, at=j(1405, 3, 9, 9, 0))
    rq.set_status(ids["r3"], "closed", reza, at=j(1405, 3, 9, 10, 0))
    # R4: Friday 10:00 (e-mail on the day off) → reply Saturday 09:00 (60); still open
    new("r4", j(1405, 3, 8, 10, 0), maryam, "email")
    rq.reply(ids["r4"], "در حال بررسی.", maryam, at=j(1405, 3, 9, 9, 0))
    # R5: Saturday 10:00, nobody answered yet
    new("r5", j(1405, 3, 9, 10, 0), reza, "visit")
    clock.set_now(j(1405, 3, 9, 18, 0))
    return {"reza": reza, "maryam": maryam, "ids": ids, "cat": cat.id}


def test_stored_minutes_and_sla(fixture):
    from models.service import ServiceRequest as SR

    rows = {k: SR.get_by_id(v) for k, v in fixture["ids"].items()}
    assert [rows[k].response_minutes for k in ("r1", "r2", "r3", "r4", "r5")] == [30, 45, 80, 60, None]
    assert [rows[k].service_minutes for k in ("r1", "r2", "r3")] == [180, 270, 180]
    assert [rows[k].sla_met for k in ("r1", "r2", "r3")] == [True, False, True]
    assert rows["r2"].due_at == j(1405, 3, 7, 11, 30)
    assert rows["r3"].due_at == j(1405, 3, 9, 11, 0)
    assert rows["r4"].response_due_at == j(1405, 3, 9, 9, 0)    # received on the Friday: the clock starts Saturday


def test_period_totals(fixture):
    k = kpi.compute(hours.jd and j(1405, 3, 1).date(), j(1405, 3, 31).date())
    t = k.total
    assert (t.received, t.closed, t.open_end) == (5, 3, 2)
    assert (t.resp_n, t.resp_sum) == (4, 215)
    assert t.avg_response == 53.8                 # 215 / 4 = 53.75
    assert t.p90_response == 80                   # nearest rank: the 4th of [30, 45, 60, 80]
    assert t.avg_service == 210.0                 # (180 + 270 + 180) / 3
    assert t.sla_pct == 66.7                      # 2 of 3
    assert t.satisfaction == 4.0                  # (5 + 3) / 2
    assert t.avg_replies == 1.33                  # (1 + 1 + 2) / 3


def test_per_day_week_month(fixture):
    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 10).date())
    by_day = {b.label: b for b in k.days}
    d = {n: by_day[f"۱۴۰۵/۰۳/{n}"] for n in ("۰۱", "۰۲", "۰۵", "۰۶", "۰۷", "۰۸", "۰۹", "۱۰")}
    assert [d[n].received for n in d] == [0, 1, 0, 1, 1, 1, 1, 0]
    assert [d[n].closed for n in d] == [0, 1, 0, 0, 1, 0, 1, 0]
    assert [d[n].open_end for n in d] == [0, 0, 0, 1, 1, 2, 2, 2]
    assert d["۰۶"].avg_response == 45.0 and d["۰۷"].avg_response == 80.0 and d["۰۹"].avg_response is None
    assert d["۰۷"].avg_service == 270.0 and d["۰۷"].sla_pct == 0.0
    # weeks start on Saturday: 03/02–03/08 and 03/09–03/15 (03/01 is the Friday of the week before)
    weeks = {w.label: w for w in k.weeks}
    w1, w2 = weeks["هفته ۱۴۰۵/۰۳/۰۲"], weeks["هفته ۱۴۰۵/۰۳/۰۹"]
    assert (w1.received, w1.closed, w1.open_end, w1.resp_sum, w1.resp_n) == (4, 2, 2, 215, 4)
    assert (w2.received, w2.closed, w2.open_end) == (1, 1, 2)
    assert w2.avg_service == 180.0 and w2.sla_pct == 100.0
    assert [m.label for m in k.months] == ["خرداد ۱۴۰۵"]
    assert k.months[0].received == 5


def test_per_person(fixture):
    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date())
    p = {b.key: b for b in k.people}
    reza, maryam = p[fixture["reza"]], p[fixture["maryam"]]
    assert (reza.received, reza.closed, reza.open_end) == (3, 2, 1)
    assert (maryam.received, maryam.closed, maryam.open_end) == (2, 1, 1)
    assert reza.avg_response == 55.0 and maryam.avg_response == 52.5     # (30+80)/2, (45+60)/2
    assert reza.avg_service == 180.0 and maryam.avg_service == 270.0
    assert reza.sla_pct == 100.0 and maryam.sla_pct == 0.0
    assert reza.satisfaction == 5.0 and maryam.satisfaction == 3.0
    assert k.people[0].key == fixture["reza"]                           # most closed first


def test_period_edges_carry_open_requests(fixture):
    """A period that starts after some requests arrived still counts them as open at its end."""
    k = kpi.compute(j(1405, 3, 9).date(), j(1405, 3, 9).date())
    assert (k.total.received, k.total.closed, k.total.open_end) == (1, 1, 2)
    assert k.total.resp_n == 0           # response times belong to the day a request was received


def test_reopen_undoes_resolution(fixture):
    rq.set_status(fixture["ids"]["r1"], "in_progress", fixture["reza"], at=j(1405, 3, 9, 17, 0))
    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date())
    assert (k.total.closed, k.total.open_end) == (2, 3)
    assert k.total.avg_service == 225.0


def test_all_minutes_when_business_hours_off(fixture):
    settings.set("service.business_hours", False)
    rq.recompute_minutes(closed_too=True)      # r3 is closed: measured again only when asked
    from models.service import ServiceRequest as SR

    r3 = SR.get_by_id(fixture["ids"]["r3"])
    assert r3.response_minutes == int((j(1405, 3, 9, 8, 20) - j(1405, 3, 7, 12, 0)).total_seconds() // 60) == 2660


def test_complaints_report(fixture):
    complaint = rq.save_category("شکایت از ارسال", 30, 120, is_complaint=True)
    clock.set_now(j(1405, 3, 9, 11, 0))
    r = rq.create_request({"customer_id": customer("زهرا", "مرادی", "09350000000"), "subject": "دیر رسید",
                           "category_id": complaint.id, "assignee_id": fixture["maryam"]})
    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date(), complaints_only=True)
    assert (k.total.received, k.total.closed) == (1, 0)
    assert k.categories[0].name == "شکایت از ارسال" and k.categories[0].is_complaint
    rows, n = rq.list_requests(rq.RequestFilter(complaints=True))
    assert n == 1 and rows[0].id == r.id


def test_excel_export_reopens(fixture, tmp_path):
    from openpyxl import load_workbook

    k = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date())
    out = kpi.export_xlsx(k, tmp_path / "kpi.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["خلاصه", "روزانه", "هفتگی", "ماهانه", "همکاران", "دسته‌ها و شکایت‌ها"]
    s = wb["خلاصه"]
    assert [c.value for c in s[3]][:8] == ["کل دوره", 5, 3, 2, 53.8, 80, 210.0, 66.7]
    assert wb["روزانه"].max_row == 2 + 31
    assert wb["روزانه"].sheet_view.rightToLeft


def test_minutes_text():
    assert kpi.minutes_text(None) == "—"
    assert kpi.minutes_text(45) == "۴۵ دقیقه"
    assert kpi.minutes_text(95) == "۱ ساعت و ۳۵ دقیقه"
    assert kpi.minutes_text(120) == "۲ ساعت"


def test_business_minutes_by_hand():
    s = hours.make_schedule()
    thu_noon = dt.datetime(2026, 5, 28, 12, 0)
    assert hours.business_minutes(thu_noon, dt.datetime(2026, 5, 30, 8, 20), s) == 80
    assert hours.add_business_minutes(thu_noon, 61, s) == dt.datetime(2026, 5, 30, 8, 1)
    holiday = hours.make_schedule(holidays=[dt.date(2026, 5, 30)])
    assert hours.add_business_minutes(thu_noon, 61, holiday) == dt.datetime(2026, 5, 31, 8, 1)
    assert hours.business_minutes(dt.datetime(2026, 5, 29, 9), dt.datetime(2026, 5, 29, 17), s) == 0  # Friday
    with pytest.raises(ValueError):
        hours.parse_range("17:00-08:00")


def test_long_period_p90_per_month_and_person(fixture):
    """Over a year the p90 comes per month, person and period (histogram queries), not per day."""
    k = kpi.compute(j(1405, 1, 1).date(), j(1405, 12, 29).date(), detail=True)
    assert k.total.p90_response == 80 and k.total.avg_response == 53.8
    assert kpi.compute(j(1405, 1, 1).date(), j(1405, 12, 29).date()).months[2].p90_response is None
    khordad = next(m for m in k.months if m.label == "خرداد ۱۴۰۵")
    assert khordad.p90_response == 80 and khordad.received == 5
    assert next(m for m in k.months if m.label == "تیر ۱۴۰۵").p90_response is None
    assert all(d.p90_response is None for d in k.days)
    p = {b.key: b for b in k.people}
    assert p[fixture["reza"]].p90_response == 80 and p[fixture["maryam"]].p90_response == 60
    assert kpi.p90_hist({30: 1, 45: 1, 60: 1, 80: 1}) == kpi.p90([30, 45, 60, 80]) == 80


def test_long_and_short_periods_read_the_same_figures(fixture):
    """A year reads the person-first indexes whole (migration 13), a month reads its days: same figures."""
    month = kpi.compute(j(1405, 3, 1).date(), j(1405, 3, 31).date())
    year = kpi.compute(j(1405, 1, 1).date(), j(1405, 12, 29).date())
    assert (date_span := (year.date_to - year.date_from).days) >= kpi.DAILY_P90_DAYS, date_span

    def people(k):
        return [(b.key, b.received, b.closed, b.open_end, b.resp_n, b.resp_sum, b.service_n, b.service_sum,
                 b.sla_met, b.sat_n, b.sat_sum, b.replies_sum, b.p90_response) for b in k.people]

    def cats(k):
        return [(c.name, c.received, c.open_now, c.closed, c.service_sum, c.met, c.sat_sum) for c in k.categories]

    assert people(year) == people(month) and len(month.people) == 2
    assert cats(year) == cats(month) == [("تعمیر در محل", 5, 2, 3, 630, 2, 8)]
    assert (year.total.received, year.total.closed, year.total.open_end) == (5, 3, 2)
