"""`crm service list/add/show/reply/close/kpi/hand-over`: tab-separated or JSON lines on stdout and exit 0, or a
Persian message on stderr, exit 2 and nothing written. KPIs on requests with known times, computed by hand."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import settings
from app.core import clock
from app.service import requests as rq
from cli.main import run
from models.service import RequestEntry, ServiceRequest
from tests.tasks.helpers import customer, j, user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def office(db, tmp_path):
    ids = {"reza": user("رضا کریمی", "reza"), "maryam": user("مریم احمدی", "maryam"),
           "ali": customer(phone="09121234567"), "path": str(tmp_path / "test.sqlite3")}
    settings.set("service.reassign_rule", "off")
    return ids


def crm(office, capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--db", office["path"], "service", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_reply_close_show(office, capsys):
    clock.set_now(j(1405, 3, 2, 9, 0))
    code, out, err = crm(office, capsys, "add", "--customer", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "--subject", "پمپ صدا می‌دهد",
                         "--category", "تعمير", "--priority", "high", "--assignee", "reza", "--serial", "SN-77")
    assert code == 0, err
    number = out.strip()
    assert number == "S1405-00001"
    r = ServiceRequest.get(ServiceRequest.number == number)
    assert (r.customer_id, r.assignee_id, r.priority, r.serial, r.channel) == (office["ali"], office["reza"], 2,
                                                                              "SN-77", "phone")

    code, out, _ = crm(office, capsys, "list")
    assert code == 0
    fields = out.strip().split("\t")
    assert fields[0] == number and fields[1] == "1405/03/02 09:00" and fields[2] == "جدید"
    assert fields[3] == "رضا کریمی" and fields[5] == "پمپ صدا می‌دهد"

    clock.set_now(j(1405, 3, 2, 9, 30))
    assert crm(office, capsys, "reply", number.lower(), "تکنسین فردا می‌آید.")[0] == 0
    assert crm(office, capsys, "reply", number, "قطعه سفارش شد", "--note", "--by", "maryam")[0] == 0
    clock.set_now(j(1405, 3, 2, 12, 0))
    code, out, _ = crm(office, capsys, "close", number, "--score", "۵", "--comment", "عالی")
    assert code == 0 and out.strip() == f"{number}\tبسته"

    code, out, _ = crm(office, capsys, "show", number, "--json")
    v = json.loads(out)
    assert (v["status"], v["satisfaction"], v["sla_met"], v["first_response"]) == ("closed", 5, True,
                                                                                   "1405/03/02 09:30")
    kinds = [(e["kind"], e["by"]) for e in v["entries"]]
    assert ("reply", "رضا کریمی") in kinds and ("note", "مریم احمدی") in kinds and ("survey", "رضا کریمی") in kinds
    r = ServiceRequest.get_by_id(r.id)
    assert r.resolved_by_id == office["reza"]           # closed by its assignee: counted as theirs in the KPIs

    assert crm(office, capsys, "list")[1] == ""         # open only, by default
    code, out, _ = crm(office, capsys, "list", "--status", "all", "--json")
    assert [json.loads(x)["status_label"] for x in out.splitlines()] == ["بسته"]


@pytest.mark.parametrize("args, words", [
    (("add", "--customer", "09350000000", "--subject", "x"), "پیدا نشد"),
    (("add", "--customer-id", "99", "--subject", "x"), "مشتری"),
    (("add", "--customer", "09121234567", "--subject", "x", "--category", "باغبانی"), "دسته‌ها: تعمیر"),
    (("add", "--customer", "09121234567", "--subject", "x", "--assignee", "nobody"), "nobody"),
    (("add", "--customer", "09121234567", "--subject", " "), "موضوع"),
    (("add", "--customer", "09121234567", "--subject", "x", "--priority", "زیادتر"), "اولویت"),
    (("add", "--customer", "09121234567", "--subject", "x", "--channel", "fax"), "راه دریافت"),
    (("close", "S1405-00099"), "S1405-00099"),
    (("kpi", "--from", "1405/13/01"), "ماه باید"),
    (("kpi", "--from", "1405/05/01", "--to", "1405/04/01"), "پیش از آغاز"),
])
def test_bad_input_says_why_and_writes_nothing(office, capsys, args, words):
    code, out, err = crm(office, capsys, *args)
    assert code == 2 and out == "" and words in err and "Traceback" not in err
    assert ServiceRequest.select().count() == 0


def test_bad_score_leaves_the_request_open(office, capsys):
    r = rq.create_request({"customer_id": office["ali"], "subject": "x", "assignee_id": office["reza"]})
    code, _out, err = crm(office, capsys, "close", r.number, "--score", "6")
    assert code == 2 and "۱ تا ۵" in err
    assert ServiceRequest.get_by_id(r.id).status == "new"
    assert RequestEntry.select().where(RequestEntry.kind == "survey").count() == 0


def test_kpi_figures_by_hand(office, capsys, tmp_path):
    """Office hours Sat–Wed 08–17, Thu 08–13, Friday off. 1405/03/06 is a Wednesday.
    A: Wed 16:30 → reply Thu 08:15 (30 + 15 = 45 min) → done Thu 12:00 (30 + 240 = 270; due Thu 11:30, missed)
    B: Thu 12:00 → reply Sat 08:20 (60 + 20 = 80) → closed Sat 10:00 (60 + 120 = 180; met); score 4
    C: Sat 10:00, open."""
    cat = rq.save_category("تعمیر در محل", 60, 240)
    reza, maryam = office["reza"], office["maryam"]

    def new(at, who):
        clock.set_now(at)
        return rq.create_request({"customer_id": office["ali"], "subject": "آزمون", "category_id": cat.id,
                                  "assignee_id": who}, user=who).id

    a = new(j(1405, 3, 6, 16, 30), maryam)
    rq.reply(a, "پاسخ", maryam, at=j(1405, 3, 7, 8, 15))
    rq.set_status(a, "done", maryam, at=j(1405, 3, 7, 12, 0))
    b = new(j(1405, 3, 7, 12, 0), reza)
    rq.reply(b, "پاسخ", reza, at=j(1405, 3, 9, 8, 20))
    rq.set_status(b, "closed", reza, at=j(1405, 3, 9, 10, 0))
    rq.record_survey(b, 4, "", reza, at=j(1405, 3, 9, 10, 30))
    new(j(1405, 3, 9, 10, 0), reza)
    clock.set_now(j(1405, 3, 9, 18, 0))

    code, out, err = crm(office, capsys, "kpi", "--from", "۱۴۰۵/۰۳/۰۱", "--to", "1405/03/31", "--json")
    assert code == 0, err
    t = json.loads(out)
    assert (t["received"], t["closed"], t["open_end"]) == (3, 2, 1)
    assert (t["avg_response"], t["p90_response"], t["avg_service"]) == (62.5, 80, 225.0)
    assert (t["sla_pct"], t["satisfaction"], t["avg_replies"]) == (50.0, 4.0, 1.0)

    code, out, _ = crm(office, capsys, "kpi", "--from", "1405/03/01", "--to", "1405/03/31", "--by", "person")
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert rows["رضا کریمی"][1:4] == ["2", "1", "1"] and rows["مریم احمدی"][1:4] == ["1", "1", "0"]

    code, out, _ = crm(office, capsys, "kpi", "--from", "1405/03/01", "--to", "1405/03/31", "--by", "day",
                       "--json")
    days = {d["label"]: d for d in map(json.loads, out.splitlines())}
    assert len(days) == 31 and days["1405/03/07"]["received"] == 1 and days["1405/03/07"]["closed"] == 1

    xlsx = tmp_path / "kpi.xlsx"
    code, out, _ = crm(office, capsys, "kpi", "--from", "1405/03/01", "--to", "1405/03/31", "--out", str(xlsx))
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert code == 0 and out.strip() == str(xlsx) and wb["خلاصه"]["B3"].value == 3


def test_hand_over_for_cron(office, capsys):
    settings.set("service.team", "reza, maryam")
    settings.set("service.reassign_rule", "least_loaded")
    clock.set_now(j(1405, 3, 2, 9, 0))
    r = rq.create_request({"customer_id": office["ali"], "subject": "بی‌پاسخ", "assignee_id": office["reza"]})
    clock.set_now(j(1405, 3, 2, 12, 0))                # its first answer was due at 10:00; not done till 17:00
    code, out, _ = crm(office, capsys, "hand-over")
    assert code == 0 and out.strip() == f"{r.number}\tبی‌پاسخ\tمریم احمدی"
    assert crm(office, capsys, "hand-over")[1] == ""   # once per reason


def test_a_real_process_exits_with_the_codes(office):
    from models.connection import close_database

    close_database()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}

    def crm_process(*args):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", office["path"], "service", *args],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    p = crm_process("add", "--customer", "09121234567", "--subject", "از خط فرمان")
    assert p.returncode == 0 and p.stdout.strip().startswith("S14"), p.stderr
    p = crm_process("close", "S0000-1")
    assert p.returncode == 2 and "پیدا نشد" in p.stderr and "Traceback" not in p.stderr
