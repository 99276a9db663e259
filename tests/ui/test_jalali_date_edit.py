"""The Jalali date field and its calendar: parsing, Persian messages, the Iranian week."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QColor

from app.core.jalali import from_jalali
from ui.widgets import JalaliCalendar, JalaliDateEdit

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def edit(qtbot):
    w = JalaliDateEdit()
    qtbot.addWidget(w)
    w.show()
    return w


def test_empty_is_allowed(edit):
    assert edit.date() is None
    assert edit.is_valid()
    assert edit.value() is None


@pytest.mark.parametrize("typed", ["1403/05/12", "۱۴۰۳/۰۵/۱۲", "1403-5-12", "۱۴۰۳.۵.۱۲", " 1403 / 05 / 12 "])
def test_typed_dates_in_any_digits_and_separator(edit, qtbot, typed):
    edit.line.setFocus()
    edit.line.insert(typed)          # typed or pasted (QTest cannot type Persian digits)
    edit.line.editingFinished.emit()
    assert edit.date() == dt.date(2024, 8, 2)
    # Normalised for display: Persian digits, zero-padded.
    assert edit.text() == "۱۴۰۳/۰۵/۱۲"
    assert not edit.error_label.isVisible()


def test_invalid_date_shows_persian_message(edit, qtbot):
    qtbot.keyClicks(edit.line, "1403/13/40")
    edit.line.editingFinished.emit()
    assert edit.date() is None
    assert not edit.is_valid()
    assert edit.error_label.isVisible()
    assert "ماه" in edit.error_label.text()
    # the raw text goes to the service, which reports it against the field
    assert edit.value() == "1403/13/40"
    # fixing it hides the message as soon as the text becomes valid
    edit.line.clear()
    qtbot.keyClicks(edit.line, "1403/12/30")   # 1403 is a leap year: Esfand has 30 days
    assert not edit.error_label.isVisible()
    assert edit.date() == from_jalali(1403, 12, 30)


def test_esfand_30_in_a_common_year_is_refused(edit):
    edit.setText("1404/12/30")
    assert edit.date() is None
    assert "۲۹" in edit.error()


def test_set_date_round_trip_and_signal(edit, qtbot):
    d = dt.date(2026, 11, 24)
    with qtbot.waitSignal(edit.dateChanged) as sig:
        edit.setDate(d)
    assert sig.args == [d]
    assert edit.text() == "۱۴۰۵/۰۹/۰۳"
    assert edit.date() == d
    edit.setDate(None)
    assert edit.text() == "" and edit.date() is None


def test_calendar_is_iranian(edit):
    cal = edit.calendar()
    assert isinstance(cal, JalaliCalendar)
    assert cal.firstDayOfWeek() == Qt.DayOfWeek.Saturday
    assert cal.locale().language() == QLocale.Language.Persian
    assert cal.verticalHeaderFormat() == cal.VerticalHeaderFormat.NoVerticalHeader
    red = QColor("#dc2626")
    assert cal.weekdayTextFormat(Qt.DayOfWeek.Friday).foreground().color() == red
    for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday):
        assert cal.weekdayTextFormat(day).foreground().color() != red


def test_picking_from_the_calendar_sets_the_field(edit, qtbot):
    edit.setDate(from_jalali(1405, 9, 3))
    edit.show_calendar()
    cal = edit.calendar()
    # the calendar opens on the field's date
    assert cal.selectedDate().toPython() == from_jalali(1405, 9, 3)
    target = from_jalali(1405, 9, 10)
    cal.setSelectedDate(target)
    cal.activated.emit(cal.selectedDate())
    assert edit.date() == target
    assert edit.text() == "۱۴۰۵/۰۹/۱۰"
    assert not edit.popup().isVisible()


def test_clear_from_popup(edit):
    edit.setDate(dt.date(2024, 1, 1))
    edit.show_calendar()
    edit.popup().clear_button.click()
    assert edit.date() is None and edit.text() == ""


def test_typing_announces_the_new_date_once(edit, qtbot):
    got = []
    edit.dateChanged.connect(got.append)
    edit.line.insert("1403/5/12")
    edit.line.editingFinished.emit()
    edit.line.editingFinished.emit()        # leaving the field again changes nothing
    assert got == [dt.date(2024, 8, 2)]
    edit.line.clear()
    edit.line.editingFinished.emit()
    assert got == [dt.date(2024, 8, 2), None]
    edit.line.insert("1403/13/01")           # no date: no announcement, a message instead
    edit.line.editingFinished.emit()
    assert got == [dt.date(2024, 8, 2), None] and edit.error_label.isVisible()
