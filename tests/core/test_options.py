"""Every option is declared once, in app/options.py, and read through its typed constant."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import options, settings
from app.options import OPTIONS, Option

ROOT = Path(__file__).resolve().parents[2]


def test_every_declared_key_reads_in_a_fresh_process_that_imported_only_app_settings(tmp_path):
    """No option depends on the module that happens to use it being imported first."""
    code = (
        "import json, sys\n"
        "from app import settings\n"
        "from models.connection import open_database\n"
        "open_database(sys.argv[1], create=True)\n"
        "values = {k: settings.get(k) for k in settings.OPTIONS}\n"
        "users = [m for m in ('app.sales.vat', 'app.sales.documents', 'app.sms.automatic', 'app.callerid.settings_keys')"
        " if m in sys.modules]\n"
        "print(json.dumps({'values': values, 'users_loaded': users}))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "CRM_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "crm.sqlite3")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["users_loaded"] == []                  # the modules that use the options were never imported
    got = result["values"]
    assert set(got) == set(OPTIONS) and len(got) > 90
    for key, value in got.items():
        assert value == OPTIONS[key].default, key
    assert got["sales.paper"] == "A4" and got["callerid.baud"] == 57600


def test_the_constants_are_the_registry():
    consts = {v.key: v for n, v in vars(options).items() if isinstance(v, Option)}
    for family in (options.SMS_AUTO_ENABLED, options.SMS_AUTO_TEXT, options.SMS_AUTO_SINCE):
        consts.update({v.key: v for v in family.values()})
    assert consts == OPTIONS
    assert "ui.language" not in OPTIONS                  # nothing read it


def test_a_key_declared_twice_differently_is_refused():
    with pytest.raises(ValueError, match="sales.paper"):
        options.declare("sales.paper", str, "A5", "اندازه کاغذ فاکتور")
    assert OPTIONS["sales.paper"].default == "A4"


def test_option_get_and_set_go_to_the_storage(anydb):
    assert options.SALES_PAPER.get() == "A4"
    options.SALES_PAPER.set("A5")
    settings.reset_cache()
    assert options.SALES_PAPER.get() == "A5" == settings.get("sales.paper") == settings.get(options.SALES_PAPER)
    options.CALLERID_BAUD.set("۹۶۰۰")                    # a desk option, coerced to its type
    settings.reset_cache()
    assert options.CALLERID_BAUD.get() == 9600
    assert settings.get(options.SMS_AUTO_ENABLED["birthday"]) is False


def test_old_names_are_aliases_of_the_constants():
    from app.callerid import service as svc
    from app.callerid import settings_keys as sk
    from app.office import live

    assert sk.PORT is options.CALLERID_PORT and sk.DEVICE_KINDS is options.CALLERID_DEVICE_KINDS
    assert svc.POPUP_ENABLED is options.CALLERID_POPUP_ENABLED and live.WATCH_LINES is options.OFFICE_WATCH_LINES


_LITERAL_READ = re.compile(r"""settings\.(get|set|csv_list)\(\s*f?["']""")
_DECLARE = re.compile(r"""\bdeclare\(""")


def _sources():
    for folder in ("app", "ui", "cli"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_option_is_read_or_written_by_a_string_literal():
    bad = [f"{p.relative_to(ROOT)}:{i}" for p in _sources()
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _LITERAL_READ.search(line)]
    assert bad == []


def test_options_are_declared_only_in_app_options():
    bad = [f"{p.relative_to(ROOT)}:{i}" for p in _sources() if p.relative_to(ROOT).as_posix() != "app/options.py"
           and p.relative_to(ROOT).as_posix() != "app/settings.py"
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _DECLARE.search(line)]
    assert bad == []


def test_the_checks_catch_what_they_look_for():
    assert _LITERAL_READ.search('x = settings.get("sales.paper")')
    assert _LITERAL_READ.search("settings.set(f'sms.auto.{k}.text', v)")
    assert not _LITERAL_READ.search("settings.get(options.SALES_PAPER)")
