"""A database written by an earlier version is brought up to date before the first screen: a large one takes
minutes (a copy first, then new indexes), so a window says so while it runs; a database already up to date, or a
new one, opens with no such window."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from models.base import db
from models.connection import close_database, open_database
from ui.application import UpgradeNotice

pytestmark = pytest.mark.usefixtures("persian_app")


def _open(path, seen: list) -> None:
    notice = UpgradeNotice(QApplication.instance())

    def show(numbers: list[int]) -> None:
        notice.show(numbers)
        w = notice.window
        seen.append((numbers, w.isVisible(), w.text()))
        assert not w.grab().isNull()
    try:
        open_database(str(path), create=True, upgrading=show)
    finally:
        notice.close()
    assert notice.window is None


def test_the_window_shows_while_an_older_file_is_upgraded_and_only_then(tmp_path):
    path = tmp_path / "crm.sqlite3"
    seen: list = []
    _open(path, seen)                                   # a new file: made, not upgraded
    close_database()
    assert seen == []
    _open(path, seen)                                   # up to date
    close_database()
    assert seen == []
    open_database(str(path))
    db.execute_sql("DELETE FROM schema_migration WHERE number = 24")      # as an earlier version left it
    close_database()
    _open(path, seen)
    try:
        assert [(n, visible) for n, visible, _ in seen] == [([24], True)]
        assert "به‌روز می‌شود" in seen[0][2] and "نبندید" in seen[0][2]
        assert db.execute_sql("SELECT 1 FROM schema_migration WHERE number = 24").fetchone() == (1,)
    finally:
        close_database()
    assert not [w for w in QApplication.topLevelWidgets()
                if w.isVisible() and getattr(w, "text", lambda: "")() == UpgradeNotice.TEXT]
