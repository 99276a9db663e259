"""Reusable widgets: the Jalali date field and its Persian calendar."""
from ui.widgets.jalali_date_edit import JalaliCalendar, JalaliDateEdit

__all__ = ["JalaliCalendar", "JalaliDateEdit"]
