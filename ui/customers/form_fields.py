"""Field widgets of the customer form: editable and lazily filled combo boxes, the tag editor (Persian «،» or
Latin comma between tags), digits-only fields.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit

logger = logging.getLogger(__name__)


TITLES = ("", "آقای", "خانم", "دکتر", "مهندس")
RANKS = ("", "A", "B", "C", "D")
TAG_SEPARATORS = re.compile(r"[،,؛;]")
RLM = "\u200f"


def editable_combo(values: list[str], current: str = "") -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    seen: list[str] = []
    for v in ["", *values]:
        if v not in seen:
            seen.append(v)
            box.addItem(v)
    box.setCurrentText(current)
    box.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    box.completer().setFilterMode(Qt.MatchFlag.MatchContains)
    return box


class LazyCombo(QComboBox):
    """An editable combo whose suggestions are read on first use (focus or popup), not when the form opens:
    a DISTINCT over an unindexed column of 100,000 customers costs ~130 ms."""

    def __init__(self, loader: Callable[[], list[str]], parent=None):
        super().__init__(parent)
        self._loader: Callable[[], list[str]] | None = loader
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer().setFilterMode(Qt.MatchFlag.MatchContains)

    def load(self) -> None:
        if self._loader is None:
            return
        loader, self._loader = self._loader, None
        text = self.currentText()
        for v in loader():
            if v and self.findText(v) < 0:
                self.addItem(v)
        self.setCurrentText(text)

    def focusInEvent(self, event) -> None:
        self.load()
        super().focusInEvent(event)

    def showPopup(self) -> None:
        self.load()
        super().showPopup()


def merge_lists(*lists: list[str]) -> list[str]:
    out: list[str] = []
    for lst in lists:
        for v in lst:
            if v and v not in out:
                out.append(v)
    return out


def digits_field(edit: QLineEdit) -> None:
    """A field of digits reads from the right like the rest of the form. Qt left-aligns text without a
    right-to-left letter, and flips a plain AlignRight under RTL, hence AlignAbsolute."""
    edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter)


class TagEdit(QLineEdit):
    """Tags typed one after another, separated by «،» (or a comma); each completes from the existing tags."""

    def __init__(self, existing: list[str], parent=None):
        super().__init__(parent)
        self._model = QStringListModel(existing, self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self._completer.setWidget(self)
        self._completer.activated.connect(self._insert_completion)
        self.textEdited.connect(self._update_prefix)
        self.setPlaceholderText("مثلاً: VIP، خوش‌حساب")

    def tags(self) -> list[str]:
        text = self.text().replace(RLM, "")
        return [t.strip() for t in TAG_SEPARATORS.split(text) if t.strip()]

    def set_tags(self, tags: list[str]) -> None:
        # A leading RLM keeps the list right-to-left when the first tag is Latin (VIP، خوش‌حساب).
        self.setText(RLM + "، ".join(tags) if tags else "")

    def _current_token(self) -> str:
        before = self.text()[: self.cursorPosition()]
        return TAG_SEPARATORS.split(before)[-1].strip(" " + RLM)

    def _update_prefix(self, _text: str) -> None:
        token = self._current_token()
        if not token:
            self._completer.popup().hide()
            return
        self._completer.setCompletionPrefix(token)
        if self._completer.completionCount() > 0:
            self._completer.complete()
        else:
            self._completer.popup().hide()

    def _insert_completion(self, tag: str) -> None:
        pos = self.cursorPosition()
        text = self.text()
        before, after = text[:pos], text[pos:]
        parts = TAG_SEPARATORS.split(before)
        head = before[: len(before) - len(parts[-1])]
        new_before = head + (" " if head else "") + tag + "، "
        self.setText(new_before + after.lstrip("،, "))
        self.setCursorPosition(len(new_before))
