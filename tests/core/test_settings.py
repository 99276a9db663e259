"""Settings declared once: office settings in the database (shared by every desk), desk settings in a JSON file."""
from __future__ import annotations

import json
import logging

import pytest

from app import settings
from app.core import paths
from app.settings import DESK, OFFICE, OPTIONS
from models.base import db
from models.connection import close_database, open_database
from models.core import Setting


def _persian(s: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in s)


def test_every_declared_option_is_consistent():
    assert {"office.area_code", "backup.keep", "backup.on_start", "callerid.device", "sales.paper"} <= set(OPTIONS)
    for key, opt in OPTIONS.items():
        assert opt.key == key
        assert opt.scope in (OFFICE, DESK), key
        assert isinstance(opt.default, opt.type), key
        assert _persian(opt.label), key
        if opt.choices:
            assert opt.default in opt.choices, key


def test_defaults_without_anything_stored(anydb):
    assert settings.get("office.area_code") == "021"
    assert settings.area_code() == "021"
    assert settings.get("backup.keep") == 10
    assert settings.get("money.show_toman") is False
    assert settings.get("backup.on_start") is True
    assert settings.get("callerid.device") == "auto"


def test_unknown_key_is_a_programming_error(anydb):
    with pytest.raises(KeyError):
        settings.get("no.such.key")
    with pytest.raises(KeyError):
        settings.set("no.such.key", 1)


# --- office settings: in the database -------------------------------------------------------------------------

def test_office_settings_are_stored_in_the_database(anydb):
    settings.set("office.area_code", "031")
    settings.set("office.name", "بازرگانی آریا")
    settings.set("backup.keep", 3)
    settings.set("money.show_toman", True)
    rows = {s.key: s.value for s in Setting.select()}
    assert rows["office.area_code"] == "031" and rows["office.name"] == "بازرگانی آریا"
    assert rows["backup.keep"] == "3" and rows["money.show_toman"] == "true"
    settings.reset_cache()                        # another desk, or the next start: read from the database
    assert settings.get("office.area_code") == "031"
    assert settings.area_code() == "031"
    assert settings.get("office.name") == "بازرگانی آریا"
    assert settings.get("backup.keep") == 3
    assert settings.get("money.show_toman") is True
    settings.set("money.show_toman", False)
    settings.set("office.area_code", "021")       # overwriting, not a second row
    settings.reset_cache()
    assert settings.get("money.show_toman") is False
    assert settings.get("office.area_code") == "021"
    assert Setting.select().where(Setting.key == "office.area_code").count() == 1


@pytest.mark.parametrize("value, expected", [("۵", 5), ("7", 7), (4.0, 4), (True, 1)])
def test_int_values_are_coerced(anydb, value, expected):
    settings.set("backup.keep", value)
    settings.reset_cache()
    assert settings.get("backup.keep") == expected


@pytest.mark.parametrize("stored, expected", [("true", True), ("1", True), ("yes", True), ("on", True),
                                              ("false", False), ("0", False), ("", False), ("no", False)])
def test_bool_values_read_back(anydb, stored, expected):
    Setting.create(key="money.show_toman", value=stored)
    settings.reset_cache()
    assert settings.get("money.show_toman") is expected


def test_a_bad_stored_value_falls_back_to_the_default_with_a_warning(anydb, caplog):
    Setting.create(key="backup.keep", value="ده تا")
    settings.reset_cache()
    with caplog.at_level(logging.WARNING, logger="app.settings"):
        assert settings.get("backup.keep") == 10
    assert any("backup.keep" in r.getMessage() for r in caplog.records)


def test_office_settings_before_the_database_is_open(tmp_path):
    """Reading an office setting before start-up opened the database gives the default, and must not hide the
    real value once the database is open."""
    db.initialize(None)
    settings.reset_cache()
    assert settings.get("office.area_code") == "021"
    path = tmp_path / "crm.sqlite3"
    open_database(str(path), create=True)
    try:
        Setting.create(key="office.area_code", value="031")
        assert settings.get("office.area_code") == "031"
    finally:
        close_database()


def test_office_settings_before_migrations(tmp_path):
    open_database(str(tmp_path / "crm.sqlite3"), migrate=False, create=True)
    try:
        assert settings.get("office.area_code") == "021"       # no table yet: the default
        from models.migrations import migrate

        migrate(db.obj)
        Setting.create(key="office.area_code", value="051")
        assert settings.get("office.area_code") == "051"
    finally:
        close_database()


def test_another_database_is_read_afresh(tmp_path):
    """After a restore or with another --db, the office settings are those of the database now open."""
    open_database(str(tmp_path / "a.sqlite3"), create=True)
    settings.set("office.name", "دفتر الف")
    assert settings.get("office.name") == "دفتر الف"
    close_database()
    open_database(str(tmp_path / "b.sqlite3"), create=True)
    try:
        assert settings.get("office.name") == ""
        settings.set("office.name", "دفتر ب")
    finally:
        close_database()
    open_database(str(tmp_path / "a.sqlite3"), create=True)
    try:
        assert settings.get("office.name") == "دفتر الف"
    finally:
        close_database()


def test_csv_list(anydb):
    assert settings.csv_list("customers.statuses") == ["active", "inactive", "blacklist"]
    settings.set("customers.sources", " اینستاگرام ،, معرفی دوستان ,, ,نمایشگاه ")
    assert settings.csv_list("customers.sources") == ["اینستاگرام", "معرفی دوستان", "نمایشگاه"]
    # The Persian comma separates values as the Latin one does (it used to make one value of all of them).
    settings.set("customers.types", "عمده‌فروش، خرده‌فروش،پیمانکار ، سازمانی؛ مصرف‌کننده")
    assert settings.csv_list("customers.types") == ["عمده‌فروش", "خرده‌فروش", "پیمانکار", "سازمانی", "مصرف‌کننده"]
    settings.set("customers.types", "")
    assert settings.csv_list("customers.types") == []


def test_declare_a_new_key(anydb):
    opt = settings.declare("test.threshold", int, 5, "آستانه آزمایشی")
    try:
        assert OPTIONS["test.threshold"] is opt
        assert settings.get("test.threshold") == 5
        settings.set("test.threshold", "12")
        settings.reset_cache()
        assert settings.get("test.threshold") == 12
    finally:
        OPTIONS.pop("test.threshold", None)


# --- desk settings: a JSON file in the user's data folder ----------------------------------------------------

def test_desk_settings_live_in_a_json_file(anydb):
    settings.set("callerid.device", "ncid")
    settings.set("backup.on_start", False)
    path = paths.config_file()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {"callerid.device": "ncid", "backup.on_start": False}
    assert not Setting.select().where(Setting.key == "callerid.device").exists()
    assert not path.with_suffix(".tmp").exists()
    settings.reset_cache()
    assert settings.get("callerid.device") == "ncid"
    assert settings.get("backup.on_start") is False


def test_desk_settings_do_not_need_a_database():
    db.initialize(None)
    settings.reset_cache()
    settings.set("ui.current_user", 3)
    settings.reset_cache()
    assert settings.get("ui.current_user") == 3


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", "", "\x00\x01", '"just a string"'])
def test_a_broken_desk_file_gives_defaults_and_is_rewritten_whole(content):
    path = paths.config_file()
    path.write_text(content, encoding="utf-8")
    settings.reset_cache()
    assert settings.get("callerid.device") == "auto"
    settings.set("callerid.device", "ncid")
    settings.reset_cache()
    assert json.loads(path.read_text(encoding="utf-8")) == {"callerid.device": "ncid"}
    assert settings.get("callerid.device") == "ncid"


def test_desk_file_keeps_persian_readable():
    settings.declare("test.desk_label", str, "", "برچسب آزمایشی", scope=DESK)
    try:
        settings.set("test.desk_label", "میز پذیرش")
        assert "میز پذیرش" in paths.config_file().read_text(encoding="utf-8")
    finally:
        OPTIONS.pop("test.desk_label", None)
