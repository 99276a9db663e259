"""Settings → «تماس‌های این میز»: the lines this desk watches, saved per desk, and read back by the rules that
decide which other desks' calls pop here."""
from __future__ import annotations

import pytest

from app import settings
from app.callerid import settings_keys as sk
from app.office import live as rules

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def panel(qapp, db, qtbot):
    from ui.context import AppContext
    from ui.settings.watch_panel import WatchPanel

    p = WatchPanel(AppContext())
    qtbot.addWidget(p)
    p.resize(700, 540)
    p.show()
    return p


def test_all_lines_is_the_default_and_eight_lines_are_offered(panel):
    assert panel.all_lines.isChecked() and not panel.lines_box.isEnabled()
    assert sorted(panel.line_checks) == list(range(1, 9))
    assert panel.line_checks[2].text() == "خط ۲"


def test_chosen_lines_saved_for_this_desk_and_read_by_the_rules(panel, tmp_path):
    panel.some_lines.setChecked(True)
    assert panel.lines_box.isEnabled()
    assert not panel.save() and "دست‌کم یک خط" in panel.message.text()
    panel.line_checks[1].setChecked(True)
    panel.line_checks[3].setChecked(True)
    assert panel.save() and "خط‌های ۱ و ۳" in panel.message.text()
    settings.reset_cache()
    assert settings.get(rules.WATCH_LINES) == "1,3"
    assert rules.watched_lines() == frozenset({1, 3})
    assert rules.watches(3) and not rules.watches(2)
    panel.no_lines.setChecked(True)
    assert panel.save()
    settings.reset_cache()
    assert not rules.watches(1)
    panel.all_lines.setChecked(True)
    panel.other_extensions.setChecked(True)
    assert panel.save()
    settings.reset_cache()
    assert rules.watched_lines() == rules.ALL and settings.get(rules.WATCH_OTHER_EXTENSIONS) is True


def test_the_device_lines_and_their_office_names_are_offered(qapp, db, qtbot):
    from ui.context import AppContext
    from ui.settings.watch_panel import WatchPanel

    settings.set(sk.LINES, 3)
    settings.set(sk.LINE_LABELS, "پذیرش|خط فروش")
    settings.set(rules.WATCH_LINES, "۲")
    p = WatchPanel(AppContext())
    qtbot.addWidget(p)
    assert sorted(p.line_checks) == [1, 2, 3]
    assert p.line_checks[2].text() == "خط ۲ — خط فروش"
    assert p.some_lines.isChecked() and p.line_checks[2].isChecked() and not p.line_checks[1].isChecked()


def test_the_panel_is_one_of_the_settings_tabs(qapp, db, qtbot):
    from ui.context import AppContext
    from ui.settings.page import SettingsPage

    page = SettingsPage(AppContext())
    qtbot.addWidget(page)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert "تماس‌های این میز" in titles


def test_screenshot(panel, tmp_path, qtbot):
    from models.core import User

    u = User.create(name="سارا فروش", username="sara", extension="102")
    panel.ctx.user_id = u.id
    settings.set(sk.LINE_LABELS, "پذیرش|خط فروش|پشتیبانی")
    panel.load()
    assert "۱۰۲" in panel.extension_note.text()
    out = tmp_path / "watch_panel.png"
    assert panel.grab().save(str(out))
    import os
    import shutil

    if os.environ.get("CRM_SCREENSHOTS"):
        shutil.copy(out, os.environ["CRM_SCREENSHOTS"])
