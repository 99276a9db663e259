"""A Jalali date field: type ۱۴۰۳/۰۵/۱۲ (Persian or ASCII digits, / - .) or pick from a Persian calendar.

Qt's own Jalali QCalendarWidget reads wrong out of the box (Sunday first, Saturday/Sunday red, Latin digits,
ISO week numbers); `JalaliCalendar` fixes each of those. `JalaliDateEdit` holds a line edit, a button that
pops the calendar up, and a red label under the field for a Persian message when the text is no date.
"""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QDate, QLocale, QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import fmt
from app.core.jalali import JalaliError, format_long, parse_date
from app.core.text import to_ascii_digits

logger = logging.getLogger(__name__)

# An empty field's grey hint: the format in words, so it can never be read as a date someone entered
# («۱۴۰۳/۰۵/۱۲» looked like one: «از ۱۴۰۵/۰۸/۱۴ تا ۱۴۰۳/۰۵/۱۲», birthdays that seemed filled in). Written in
# logical order روز/ماه/سال, it shows year-left like a typed ۱۴۰۳/۰۵/۱۲ in a right-to-left field.
DATE_PLACEHOLDER = "روز/ماه/سال"

PERSIAN_LOCALE = QLocale(QLocale.Language.Persian, QLocale.Country.Iran)
WEEKEND_COLOUR = QColor("#dc2626")


def to_qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def from_qdate(q: QDate) -> dt.date | None:
    if not q.isValid():
        return None
    return dt.date(q.year(), q.month(), q.day())   # QDate's y/m/d are Gregorian unless a calendar is passed


class JalaliCalendar(QCalendarWidget):
    """QCalendarWidget set up the Iranian way: Jalali months, Saturday first, Friday the weekend,
    Persian digits and names, one-letter day names (the long ones do not fit), no week numbers."""

    def __init__(self, parent=None):
        super().__init__(parent)
        from PySide6.QtCore import QCalendar

        self.setCalendar(QCalendar(QCalendar.System.Jalali))
        self.setLocale(PERSIAN_LOCALE)
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.setFirstDayOfWeek(Qt.DayOfWeek.Saturday)
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.setHorizontalHeaderFormat(QCalendarWidget.HorizontalHeaderFormat.SingleLetterDayNames)
        self.setGridVisible(False)
        plain = QTextCharFormat()
        for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday, Qt.DayOfWeek.Monday, Qt.DayOfWeek.Tuesday,
                    Qt.DayOfWeek.Wednesday, Qt.DayOfWeek.Thursday):
            self.setWeekdayTextFormat(day, plain)
        weekend = QTextCharFormat()
        weekend.setForeground(QBrush(WEEKEND_COLOUR))
        self.setWeekdayTextFormat(Qt.DayOfWeek.Friday, weekend)
        self.setMinimumSize(300, 240)
        # Today stands out (bold, underlined) so the user sees where "now" is.
        from app.core.clock import today

        t = QTextCharFormat()
        t.setFontWeight(700)
        t.setFontUnderline(True)
        self.setDateTextFormat(to_qdate(today()), t)


class _Popup(QFrame):
    """The frame that floats under the field while the calendar is open."""

    def __init__(self, parent: QWidget):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.calendar = JalaliCalendar(self)
        lay.addWidget(self.calendar)
        row = QHBoxLayout()
        self.today_button = QToolButton(self)
        self.today_button.setText("امروز")
        self.clear_button = QToolButton(self)
        self.clear_button.setText("پاک کردن")
        row.addWidget(self.today_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        lay.addLayout(row)


class JalaliDateEdit(QWidget):
    """A date field in the Jalali calendar. Empty is allowed (date() is None).

    date() -> datetime.date | None (None when empty or when the text is not a valid date: check
    is_valid()/error()), setDate(date | None). dateChanged(object) is emitted with the new date or None.
    """

    dateChanged = Signal(object)  # noqa: N815 - Qt naming

    def __init__(self, parent=None, placeholder: str = DATE_PLACEHOLDER):
        super().__init__(parent)
        self._date: dt.date | None = None      # the last date announced with dateChanged
        self._popup: _Popup | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(placeholder)
        self.line.setMaxLength(16)
        self.line.setClearButtonEnabled(True)
        self.line.setMinimumWidth(110)
        # Digits alone would be left-aligned by Qt; a date reads from the right like the rest of the form.
        self.line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter)
        self._tip = "تاریخ شمسی، مانند ۱۴۰۳/۰۵/۱۲ — Alt+↓ تقویم را باز می‌کند"
        self.line.setToolTip(self._tip)
        self.button = QToolButton(self)
        self.button.setText("▾")
        self.button.setToolTip("انتخاب از تقویم")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.line, 1)
        row.addWidget(self.button)
        outer.addLayout(row)
        self.error_label = QLabel(self)
        self.error_label.setProperty("role", "error")
        self.error_label.setStyleSheet("color: #dc2626;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        self.setFocusProxy(self.line)
        self.button.clicked.connect(self.show_calendar)
        self.line.editingFinished.connect(self._commit_text)
        self.line.textEdited.connect(self._on_edited)
        for keys in ("Alt+Down", "F4"):
            sc = QShortcut(QKeySequence(keys), self.line)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(self.show_calendar)

    # --- value ------------------------------------------------------------------------------------------
    def date(self) -> dt.date | None:
        """The date the text says now (None when empty or not a date)."""
        d, err = self._parse(self.line.text())
        return None if err else d

    def setDate(self, d: dt.date | dt.datetime | None) -> None:  # Qt naming
        if isinstance(d, dt.datetime):
            d = d.date()
        self.line.setText(fmt.date(d) if d else "")
        self.line.setToolTip(format_long(d) if d else self._tip)
        self.show_error(None)
        self._announce(d)

    def text(self) -> str:
        return self.line.text()

    def setText(self, text: str) -> None:  # Qt naming
        self.line.setText(text)
        self._commit_text()

    def is_valid(self) -> bool:
        return self._parse(self.line.text())[1] is None

    def error(self) -> str | None:
        return self._parse(self.line.text())[1]

    def value(self) -> dt.date | str | None:
        """What a form hands to a service: the date, None when empty, or the raw text when it is no date
        (the service's validation then reports it against the field)."""
        d, err = self._parse(self.line.text())
        if err:
            return to_ascii_digits(self.line.text().strip())
        return d

    # --- errors -----------------------------------------------------------------------------------------
    def show_error(self, message: str | None) -> None:
        """Show (or with None/'' hide) a red message under the field."""
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        self.line.setStyleSheet("QLineEdit { border: 1px solid #dc2626; }" if message else "")

    # --- internals --------------------------------------------------------------------------------------
    @staticmethod
    def _parse(text: str) -> tuple[dt.date | None, str | None]:
        text = text.strip()
        if not text:
            return None, None
        try:
            return parse_date(text), None
        except JalaliError as e:
            return None, str(e)

    def _on_edited(self, _text: str) -> None:
        if self.error_label.isVisible() and self.is_valid():
            self.show_error(None)

    def _commit_text(self) -> None:
        """Leaving the field (or Enter): show the date the Persian way, or the message under the field."""
        d, err = self._parse(self.line.text())
        if err:
            self.show_error(err)
            return
        if d is not None:
            pretty = fmt.date(d)
            if self.line.text() != pretty:
                self.line.setText(pretty)
        self.line.setToolTip(format_long(d) if d else self._tip)
        self.show_error(None)
        self._announce(d)

    def _announce(self, d: dt.date | None) -> None:
        if d != self._date:
            self._date = d
            self.dateChanged.emit(d)

    # --- popup ------------------------------------------------------------------------------------------
    def popup(self) -> _Popup:
        if self._popup is None:
            self._popup = _Popup(self)
            self._popup.calendar.clicked.connect(self._picked)
            self._popup.calendar.activated.connect(self._picked)
            self._popup.today_button.clicked.connect(self._pick_today)
            self._popup.clear_button.clicked.connect(self._pick_clear)
        return self._popup

    def calendar(self) -> JalaliCalendar:
        return self.popup().calendar

    def show_calendar(self) -> None:
        from app.core.clock import today

        pop = self.popup()
        d = self.date() or today()
        pop.calendar.setSelectedDate(to_qdate(d))
        pop.adjustSize()
        # Right-aligned under the field (RTL); kept on screen.
        below = self.line.mapToGlobal(QPoint(0, self.line.height()))
        x = below.x() + self.line.width() - pop.width() + self.button.width()
        screen = self.screen().availableGeometry() if self.screen() else None
        y = below.y()
        if screen is not None:
            x = max(screen.left(), min(x, screen.right() - pop.width()))
            if y + pop.height() > screen.bottom():
                y = self.line.mapToGlobal(QPoint(0, 0)).y() - pop.height()
        pop.move(x, y)
        pop.show()
        pop.calendar.setFocus()

    def _picked(self, q: QDate) -> None:
        self.setDate(from_qdate(q))
        if self._popup is not None:
            self._popup.hide()
        self.line.setFocus()

    def _pick_today(self) -> None:
        from app.core.clock import today

        self._picked(to_qdate(today()))

    def _pick_clear(self) -> None:
        self.setDate(None)
        if self._popup is not None:
            self._popup.hide()
        self.line.setFocus()
