"""Reusable widgets: the Jalali date field and its Persian calendar (imported on first use: the main window's
own widgets are in this package too, and it opens before anything needs a calendar)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.widgets.jalali_date_edit import JalaliCalendar, JalaliDateEdit

__all__ = ["JalaliCalendar", "JalaliDateEdit"]


def __getattr__(name: str):
    if name in __all__:
        from ui.widgets import jalali_date_edit

        return getattr(jalali_date_edit, name)
    raise AttributeError(f"module 'ui.widgets' has no attribute {name!r}")
