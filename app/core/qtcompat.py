"""Known Qt-binding defects and their one workaround, applied in one place.

PySide6 6.12.0 on Python < 3.12 returns None/True/False from many calls (void methods, Signal.emit) without
taking a reference, so after a few thousand calls the interpreter aborts ("Fatal Python error: none_dealloc").
pyproject.toml excludes that release; if it is installed anyway, make the three singletons effectively immortal,
as Python 3.12 does. Nothing happens on any other version.
"""
from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)

BROKEN_RELEASES = {"6.12.0"}
_applied = False


def guard_pyside() -> bool:
    """Apply the workaround when the installed PySide6 is a known-broken release. Returns True if applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12):
        return _applied
    try:
        import PySide6
    except ImportError:
        return False
    if PySide6.__version__ not in BROKEN_RELEASES:
        return False
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    logger.warning("PySide6 %s has a reference-count defect; workaround applied (install 6.11.3)",
                   PySide6.__version__)
    _applied = True
    return True
