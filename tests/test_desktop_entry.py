"""`crm install-desktop`: the Linux menu entry (Persian name, icon, AppStream metadata) installed for the user under a
temporary XDG_DATA_HOME, checked with the freedesktop.org tools where they are installed (scripts/setup.sh --test
installs them), and removed again."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import app
from app import desktop
from app.core.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str                     # keys are case-sensitive: Name[fa]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


@pytest.fixture
def installed(tmp_path):
    home = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(home), "HOME": str(tmp_path / "home"),
           "CRM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "main.py", "install-desktop"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "منوی برنامه‌ها" in done.stdout
    return home, env


def test_the_menu_entry_has_the_persian_name_and_starts_this_program(installed):
    home, _ = installed
    path = home / "applications" / f"{app.APP_ID}.desktop"
    entry = read_entry(path)
    assert entry["Name[fa]"].startswith("پیوند") and entry["Name"] == "Peyvand CRM"
    assert entry["Type"] == "Application" and entry["Terminal"] == "false" and "Office;" in entry["Categories"]
    program, *args = entry["Exec"].split(" ")
    assert args == ["gui"]
    assert os.path.isabs(program) and os.access(program, os.X_OK)
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout == "", check.stdout + check.stderr


def test_the_icon_is_found_in_the_users_hicolor_theme(installed):
    home, _ = installed
    name = read_entry(home / "applications" / f"{app.APP_ID}.desktop")["Icon"]
    assert name == app.APP_ID
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml") and "<svg" in svg.read_text(encoding="utf-8")
    for size in (16, 32, 48, 128, 256):
        png = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == size        # IHDR width: each file is its size


def test_the_appstream_metadata_is_valid_and_names_the_entry(installed):
    home, _ = installed
    path = home / "metainfo" / f"{app.APP_ID}.metainfo.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == app.APP_ID
    assert root.findtext("launchable") == f"{app.APP_ID}.desktop"
    names = {n.get(XML_LANG): n.text for n in root.findall("name")}
    assert names[None] == "Peyvand CRM" and names["fa"] == "پیوند"
    assert any(s.get(XML_LANG) == "fa" for s in root.findall("summary"))
    assert [r.get("version") for r in root.iter("release")][0] == app.__version__
    if shutil.which("appstreamcli"):
        check = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", str(path)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_installing_again_then_removing(installed):
    home, env = installed
    again = subprocess.run([sys.executable, "main.py", "install-desktop"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    removed = subprocess.run([sys.executable, "main.py", "install-desktop", "--remove"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0, removed.stderr
    left = [p for p in home.rglob("*") if p.is_file() and app.APP_ID in p.name]
    assert left == []
    assert "برداشته شد" in removed.stdout


def test_exec_arguments_with_spaces_are_quoted():
    text = desktop.desktop_entry(["/opt/Peyvand CRM/peyvand", "gui"])
    assert 'Exec="/opt/Peyvand CRM/peyvand" gui\n' in text
    assert desktop.desktop_entry(["/usr/bin/crm", "gui"]).count("Exec=/usr/bin/crm gui\n") == 1


def test_a_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home() == tmp_path / ".local" / "share"


def test_on_windows_it_points_to_the_installer(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(UserError) as e:
        desktop.install(tmp_path)
    assert "ویندوز" in e.value.message and not any(tmp_path.iterdir())
