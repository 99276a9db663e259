"""Known Qt-binding defects and their one workaround, applied in one place.

PySide6 6.12.0 on Python < 3.12 returns None/True/False from many calls (void methods, Signal.emit) without
taking a reference, so after a few thousand calls the interpreter aborts ("Fatal Python error: none_dealloc").
pyproject.toml excludes that release; if it is installed anyway, make the three singletons effectively immortal,
as Python 3.12 does. Nothing happens on any other version.

PySide6's `__feature__` support asks of every module imported after Qt whether its source names "PySide6", with
inspect.getsource: each file read, decoded, split into lines and kept in linecache, about 150 modules at the
program's start, 5% of it. quicken_feature_check() gives the same answer from the file's bytes.
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


def quicken_feature_check() -> None:
    """Answer PySide6's "does this module use PySide6?" (shibokensupport.feature._mod_uses_pyside) from the
    module's file read as bytes; any module without a .py file is still asked the original way."""
    import PySide6.QtCore  # noqa: F401 - loads shibokensupport.feature

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "original", None) is not None:
        return

    def uses_pyside(module) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as f:
                    return b"PySide6" in f.read()
            except OSError:
                pass
        return original(module)

    uses_pyside.original = original  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[union-attr]
