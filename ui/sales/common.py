"""Small helpers the sales screens share: colours, the warning box, money text, today.
"""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from app import fmt
from app.core.errors import UserError
from app.core.text import parse_int

logger = logging.getLogger(__name__)


RED = QColor("#b91c1c")
GREY = QColor("#9ca3af")
GREEN = QColor("#15803d")


def warn_user(parent, e: UserError, title: str = "انجام نشد") -> None:
    QMessageBox.warning(parent, title, e.message)


def money_text(value) -> str:
    v = parse_int(value) if not isinstance(value, int) else value
    return fmt.num(v or 0)


def jalali_today() -> dt.date:
    from app.core.clock import today

    return today()
