"""Small helpers for forms: a red Persian message under a field, and showing a ValidationError on a form.

    errors = FieldErrors()
    form.addRow("نام خانوادگی", errors.wrap("last_name", last_name_edit))
    try:
        service.save(data)
    except ValidationError as e:
        errors.show(e)          # messages under their fields, focus on the first bad one

A widget that shows its own message (JalaliDateEdit) is used as is: it has show_error(message).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

from app.core.errors import UserError, ValidationError

logger = logging.getLogger(__name__)

ERROR_STYLE = "color: #dc2626;"
INVALID_STYLE = "border: 1px solid #dc2626;"


def error_text(error: UserError) -> str:
    """The messages of an error as lines (each once): a ValidationError's per field, else its message."""
    if isinstance(error, ValidationError):
        return "\n".join(dict.fromkeys(error.errors.values()))
    return error.message


def error_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class _Slot:
    """Where a field's message goes, and which widget gets focus when it is wrong."""

    def __init__(self, focus: QWidget, label: QLabel | None, before_focus: Callable[[], None] | None = None):
        self.focus = focus
        self.label = label
        self.before_focus = before_focus

    def show(self, message: str | None) -> None:
        if self.label is None and hasattr(self.focus, "show_error"):
            self.focus.show_error(message)
            return
        if self.label is not None:
            self.label.setText(message or "")
            self.label.setVisible(bool(message))
        _mark(self.focus, bool(message))


def _mark(widget: QWidget, bad: bool) -> None:
    """A red border on a bad input (kept apart from any other style the widget has)."""
    base = widget.property("_base_style")
    if base is None:
        base = widget.styleSheet()
        widget.setProperty("_base_style", base)
    cls = type(widget).__name__
    widget.setStyleSheet(f"{base} {cls} {{ {INVALID_STYLE} }}" if bad else base)


class FieldErrors:
    """Field name → (input widget, red label). show(ValidationError) fills them; clear() empties them."""

    def __init__(self):
        self._slots: dict[str, _Slot] = {}
        self.general: QLabel | None = None    # for messages whose field has no slot
        self.shown: dict[str, str] = {}

    def wrap(self, name: str, widget: QWidget, before_focus: Callable[[], None] | None = None) -> QWidget:
        """A container with `widget` and, under it, the red label for field `name`."""
        if hasattr(widget, "show_error"):
            self.register(name, widget, None, before_focus)
            return widget
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addWidget(widget)
        label = error_label(box)
        lay.addWidget(label)
        self.register(name, widget, label, before_focus)
        return box

    def add_under(self, name: str, widget: QWidget, layout: QLayout,
                  before_focus: Callable[[], None] | None = None) -> QLabel:
        """Add a red label for `name` to `layout` (under a row of several widgets); `widget` takes focus."""
        label = error_label()
        layout.addWidget(label)
        self.register(name, widget, label, before_focus)
        return label

    def register(self, name: str, widget: QWidget, label: QLabel | None,
                 before_focus: Callable[[], None] | None = None) -> None:
        self._slots[name] = _Slot(widget, label, before_focus)

    def unregister(self, name: str) -> None:
        self._slots.pop(name, None)

    def unregister_prefix(self, prefix: str) -> None:
        for k in [k for k in self._slots if k.startswith(prefix)]:
            del self._slots[k]

    def clear(self) -> None:
        for slot in self._slots.values():
            slot.show(None)
        if self.general is not None:
            self.general.hide()
        self.shown = {}

    def attempt(self, parent: QWidget, fn: Callable[[], object]) -> tuple[bool, object]:
        """Run a service call for a dialog's save: a ValidationError goes under its fields, any other
        UserError into a message box. Returns (saved?, what fn returned)."""
        from PySide6.QtWidgets import QMessageBox

        try:
            return True, fn()
        except ValidationError as e:
            self.show(e)
        except UserError as e:
            QMessageBox.warning(parent, "خطا", e.message)
        return False, None

    def show(self, error: ValidationError | UserError, order: list[str] | None = None) -> QWidget | None:
        """Put each message under its field; focus the first bad field (in `order`, else in form order).

        Returns the focused widget (None when no field of the error is on this form)."""
        self.clear()
        errors = error.errors if isinstance(error, ValidationError) else {error.field or "": error.message}
        self.shown = dict(errors)
        unplaced = []
        for name, message in errors.items():
            slot = self._slots.get(name)
            if slot is None:
                unplaced.append(message)
            else:
                slot.show(message)
        if unplaced and self.general is not None:
            self.general.setText("\n".join(unplaced))
            self.general.show()
        names = order or list(self._slots)
        first = next((n for n in names if n in errors and n in self._slots), None)
        if first is None:
            return None
        slot = self._slots[first]
        if slot.before_focus:
            slot.before_focus()
        slot.focus.setFocus(Qt.FocusReason.OtherFocusReason)
        if hasattr(slot.focus, "selectAll"):
            slot.focus.selectAll()
        return slot.focus

    def message(self, name: str) -> str | None:
        return self.shown.get(name)
