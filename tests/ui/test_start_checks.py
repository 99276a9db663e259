"""The start's background duties for a file sealed at its last clean close: the page check skipped at open runs
beside the window; damage stops the backup, is shown in Persian and closes the program; a whole file is backed
up and sealed again at a clean exit."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.paths import backup_dir
from models.connection import close_database, open_database, seal, sealed, take_unchecked
from models.core import Customer
from tests.core import test_damaged_file as damaged_file

office = damaged_file.office                       # the fixture: a closed database of 3,000 customers
_damage_keeping_state = damaged_file._damage_keeping_state


@pytest.fixture
def sealed_office(request) -> Path:
    """That office, opened and closed by the program, then sealed."""
    office = request.getfixturevalue("office")
    open_database(str(office))
    close_database()
    assert seal(office)
    yield office
    close_database()


def _backups() -> list[Path]:
    return sorted(backup_dir().glob("*"))


def test_damage_found_beside_the_window_is_shown_and_closes_the_program(qtbot, sealed_office):
    from ui.application import StartChecks

    _damage_keeping_state(sealed_office)
    open_database(str(sealed_office), defer_check=True, migrate=False)
    assert take_unchecked(sealed_office)
    before = _backups()
    quits: list[bool] = []
    checks = StartChecks(sealed_office, owe_check=True, quit=lambda: quits.append(True))
    job = checks.start()
    def boxes():
        return [w for w in QApplication.topLevelWidgets() if w.objectName() == "damaged-database" and w.isVisible()]

    qtbot.waitUntil(lambda: not job.running and bool(boxes()), timeout=20_000)
    assert len(boxes()) == 1 and checks.damaged
    box = boxes()[0]
    assert isinstance(box, QMessageBox)
    assert "آسیب دیده" in box.text() and "بسته می‌شود" in box.text() and "restore" in box.text()
    assert _backups() == before, "a damaged file is not backed up (it would rotate a good backup out)"
    box.button(QMessageBox.StandardButton.Ok).click()
    assert quits == [True]
    assert not checks.close() and not sealed(sealed_office)


def test_a_whole_file_is_checked_backed_up_and_sealed_again_at_exit(qtbot, sealed_office):
    from ui.application import StartChecks

    open_database(str(sealed_office), defer_check=True)
    assert take_unchecked(sealed_office) and not sealed(sealed_office)
    checks = StartChecks(sealed_office, owe_check=True, quit=lambda: pytest.fail("must not quit"))
    job = checks.start()
    qtbot.waitUntil(lambda: not job.running, timeout=20_000)
    assert checks.checked and not checks.damaged
    assert job.result is not None and job.result.exists()
    Customer.create(first_name="تازه", last_name="مشتری")           # the day's work
    assert checks.close() and sealed(sealed_office)


def test_closing_before_the_background_check_checks_at_exit(sealed_office):
    from ui.application import StartChecks

    open_database(str(sealed_office), defer_check=True)
    checks = StartChecks(sealed_office, owe_check=True)
    assert checks.close() and sealed(sealed_office)                # whole: sealed again

    _damage_keeping_state(sealed_office)
    open_database(str(sealed_office), defer_check=True, migrate=False)
    checks = StartChecks(sealed_office, owe_check=take_unchecked(sealed_office))
    assert checks.owe_check
    assert not checks.close() and not sealed(sealed_office)        # damaged: the next start checks first
