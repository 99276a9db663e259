"""The quicker answer to PySide6's "does this module use PySide6?" is the same answer."""
from __future__ import annotations

import sys
import types

from app.core.qtcompat import quicken_feature_check


def test_the_quick_feature_check_answers_as_pyside_does(tmp_path):
    quicken_feature_check()
    feature = sys.modules["shibokensupport.feature"]
    quick = feature._mod_uses_pyside
    original = quick.original
    import json

    import app.core.text
    import ui.main_window

    bare = types.ModuleType("made_at_run_time")                  # no file at all
    gone = types.ModuleType("deleted_since")
    gone.__file__ = str(tmp_path / "deleted.py")                 # a file that is no longer there
    odd = tmp_path / "mentions.py"
    odd.write_text("# this file only names PySide6 in a comment\nx = 1\n", encoding="utf-8")
    named = types.ModuleType("mentions")
    named.__file__ = str(odd)
    modules = [ui.main_window, app.core.text, json, sys, bare, gone, named]
    answers = [quick(m) for m in modules]
    assert answers == [original(m) for m in modules]
    assert answers == [True, False, False, False, False, False, True]
    quicken_feature_check()                                      # a second call wraps nothing again
    assert feature._mod_uses_pyside is quick
