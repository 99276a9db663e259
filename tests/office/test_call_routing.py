"""Colleagues' extensions, which desk a PBX call pops on, and what an "own customers only" role sees of a
caller who is a colleague's customer (SQLite and, where CRM_TEST_POSTGRES_URL is set, PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest

from app.callerid import service as svc
from app.core.errors import ValidationError
from app.office import live as rules
from app.office import users, visibility
from tests.office.helpers import as_user, make_user


def _view(**kw) -> svc.CallView:
    base = dict(call_id=0, key="k1", line=1, line_label="", direction="in", state="ringing", number_raw="09351112233",
                number="09351112233", number_display="0935 111 2233", number_status="ok", caller_name="",
                customer_id=None, customer_name="", other_matches=0, started_at=dt.datetime(2026, 12, 5, 10, 0),
                answered_at=None, ended_at=None, duration=None, rings=1, final=False, number_known=True,
                source="ami")
    base.update(kw)
    return svc.CallView(**base)


@pytest.fixture
def office(anydb):
    from app.customers import service as cs

    sara = make_user("سارا فروش", "sara", "sales")
    kamran = make_user("کامران احمدی", "kamran", "sales")
    boss = make_user("مدیر دفتر", "boss", "manager")
    desk = make_user("پذیرش", "desk", "reception")
    theirs = cs.create_customer({"first_name": "مینا", "last_name": "کاظمی", "phones": ["09351112233"],
                                 "assigned_to": kamran}).id
    mine = cs.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["09122800039"],
                               "assigned_to": sara}).id
    free = cs.create_customer({"first_name": "رضا", "last_name": "بی‌مسئول", "phones": ["09120000001"]}).id
    return {"sara": sara, "kamran": kamran, "boss": boss, "desk": desk, "theirs": theirs, "mine": mine,
            "free": free}


def test_extensions_saved_checked_and_unique(office):
    u = users.save_user("سارا فروش", "sara", "sales", user_id=office["sara"], extension="۱۰۲")
    assert u.extension == "102" and users.user_by_extension("102").id == office["sara"]
    with pytest.raises(ValidationError) as e:
        users.save_user("کامران احمدی", "kamran", "sales", user_id=office["kamran"], extension="102")
    assert e.value.errors["extension"] == "داخلی ۱۰۲ به «سارا فروش» داده شده است."
    with pytest.raises(ValidationError) as e:
        users.save_user("کامران احمدی", "kamran", "sales", user_id=office["kamran"], extension="10a")
    assert "فقط با رقم" in e.value.errors["extension"]
    users.save_user("سارا فروش", "sara", "sales", user_id=office["sara"])          # None: kept
    assert users.user_by_extension("102").id == office["sara"]
    assert svc.user_at_extension("102") == office["sara"]                         # the call's colleague


@pytest.mark.parametrize("who, sees", [("sara", False), ("kamran", True), ("boss", True), ("desk", True)])
def test_the_popup_hides_a_colleagues_customer_from_own_only_roles(office, who, sees):
    v = _view(customer_id=office["theirs"], customer_name="مینا کاظمی", other_matches=1)
    with as_user(office[who]):
        shown = visibility.popup_view(v)
    if sees:
        assert shown is v
    else:
        assert shown.customer_id is None and shown.customer_name == "" and shown.other_matches == 0
        assert shown.colleague == "کامران احمدی" and shown.number == v.number


def test_own_and_unassigned_customers_stay_visible(office):
    with as_user(office["sara"]):
        for cid in (office["mine"], office["free"]):
            v = _view(customer_id=cid, customer_name="x")
            assert visibility.popup_view(v) is v
        unknown = _view()
        assert visibility.popup_view(unknown) is unknown


def test_which_desk_shows_a_pbx_call(office):
    ring_102 = _view(extension="102", extensions=("102",))
    group = _view(extension="102", extensions=("102", "103"))
    box_line_2 = _view(line=2, source="segal")
    mine, other, none = frozenset({"102"}), frozenset({"103"}), frozenset()
    assert rules.shows_call(ring_102, mine, watch=rules.NONE)            # my extension rings: always
    assert not rules.shows_call(ring_102, other, watch=rules.ALL, others=False)
    assert rules.shows_call(ring_102, other, watch=rules.ALL, others=True)
    assert rules.shows_call(group, other, watch=rules.NONE)
    assert rules.shows_call(ring_102, none, watch=rules.ALL)             # a desk without an extension: lines
    assert not rules.shows_call(ring_102, none, watch=rules.NONE)
    assert rules.shows_call(box_line_2, mine, watch=frozenset({2}))      # a box's lines: as before
    assert not rules.shows_call(box_line_2, mine, watch=frozenset({1}))
    assert rules.shows_own_call(ring_102, other, shared=False)           # one desk shows everything
    assert not rules.shows_own_call(ring_102, other, shared=True, others=False)
    assert rules.shows_own_call(ring_102, none, shared=True)


def test_a_ring_group_call_answered_elsewhere_and_by_whom(office):
    users.save_user("کامران احمدی", "kamran", "sales", user_id=office["kamran"], extension="103")
    answered = _view(state="answered", extension="103", extensions=("102", "103"), answered_by="103")
    ringing = _view(extension="102", extensions=("102", "103"))
    assert rules.answered_elsewhere(answered, frozenset({"102"}))            # Sara's desk: Kamran has it
    assert not rules.answered_elsewhere(answered, frozenset({"103"}))        # Kamran's desk keeps its popup
    assert not rules.answered_elsewhere(answered, frozenset())               # a desk following its lines
    assert not rules.answered_elsewhere(ringing, frozenset({"102"}))
    assert not rules.answered_elsewhere(_view(state="ended", final=True, answered_by="103"), frozenset({"102"}))
    assert rules.answerer_name("103") == "کامران احمدی"
    assert rules.answerer_name("105") == "داخلی ۱۰۵"                    # nobody's extension


def test_the_desk_extensions_are_the_colleagues_and_the_desks(office):
    from app import settings
    from app.callerid import settings_keys as sk

    users.save_user("سارا فروش", "sara", "sales", user_id=office["sara"], extension="102")
    assert rules.desk_extensions(office["sara"]) == frozenset({"102"})
    settings.set(sk.PBX_EXTENSION, "110")
    assert rules.desk_extensions(office["sara"]) == frozenset({"102", "110"})
    assert rules.desk_extensions(None) == frozenset({"110"})


def test_a_call_view_keeps_its_extensions_across_desks():
    v = _view(extension="102", extensions=("102", "103"))
    import json

    back = rules.call_view(json.loads(json.dumps(rules.call_payload(v), default=str)))
    assert back.extensions == ("102", "103") and back.extension == "102"


def test_an_older_database_gains_the_extension_column(tmp_path):
    """A database from before migration 13 (the column dropped) gets it on opening, with its users kept."""
    import sqlite3

    from models.connection import close_database, open_database
    from models.core import User

    path = tmp_path / "old.sqlite"
    open_database(f"sqlite:///{path}", create=True)
    User.create(name="قدیمی", username="old")
    close_database()
    con = sqlite3.connect(path)
    con.execute('ALTER TABLE "user" DROP COLUMN extension')
    con.execute("DELETE FROM schema_migration WHERE number >= 13")      # and every later one: an older file
    con.commit()
    con.close()
    open_database(f"sqlite:///{path}")
    try:
        u = User.get(User.username == "old")
        assert u.extension == ""
    finally:
        close_database()


def test_click_to_call_rings_the_signed_in_colleagues_extension(office):
    """No «داخلی این میز» on this PC: click-to-call rings the extension of whoever signed in here."""
    from app import settings
    from app.callerid import settings_keys as sk
    from app.callerid.ami import dial_extension, originate
    from app.callerid.pbx_simulator import AmiServer

    users.save_user("سارا فروش", "sara", "sales", user_id=office["sara"], extension="104")
    with AmiServer() as ami:
        settings.set(sk.PBX_ADDRESS, ami.address)
        settings.set(sk.PBX_USER, "crm")
        settings.set(sk.PBX_SECRET, "s3cret")
        settings.set(sk.PBX_EXTENSION, "")
        with as_user(office["sara"]):
            assert dial_extension() == "104"
            r = originate("02122514321")
        assert r.ok, r.message
        action = next(a for a in ami.actions if a.get("Action") == "Originate")
        assert action["Channel"] == "PJSIP/104"
    settings.set(sk.PBX_EXTENSION, "110")                  # the desk's own phone comes first
    assert dial_extension(office["sara"]) == "110"
    with as_user(office["kamran"]):
        settings.set(sk.PBX_EXTENSION, "")
        assert dial_extension() == ""


def test_cli_sets_and_lists_extensions(tmp_path, capsys):
    import io
    import sys

    from cli.main import run

    path = tmp_path / "office.sqlite3"
    assert run(["--db", str(path), "demo-data", "--customers", "0", "--calls", "0", "--tasks", "0",
                "--invoices", "0"]) == 0
    old = sys.stdin
    sys.stdin = io.StringIO("strong-pass-9\n")
    try:
        assert run(["--db", str(path), "users", "add", "سارا فروش", "--username", "sara2", "--extension", "۱۰۲",
                    "--password-stdin"]) == 0
    finally:
        sys.stdin = old
    capsys.readouterr()
    assert run(["--db", str(path), "users", "list"]) == 0
    assert "داخلی 102" in capsys.readouterr().out
    assert run(["--db", str(path), "users", "extension", "sara2", "105"]) == 0
    assert "105" in capsys.readouterr().out
    assert run(["--db", str(path), "users", "extension", "sara2", "x1"]) != 0
    assert "رقم" in capsys.readouterr().err
    assert run(["--db", str(path), "users", "extension", "sara2"]) == 0
    assert "داخلی ندارد" in capsys.readouterr().out
