"""Typed errors that services raise and the UI (or CLI) shows to the user.

Services never open dialogs: they raise a UserError whose message is already Persian, ready to show.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can understand and fix; `message` is Persian, `field` names the form field.
    `en` is the English wording where one exists (the command line prints it with `--lang en`)."""

    def __init__(self, message: str, field: str | None = None, details: str | None = None, en: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        self.en = en


class ValidationError(UserError):
    """One or more fields are invalid; `errors` maps field name -> Persian message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        first_field, first_msg = next(iter(self.errors.items()))
        super().__init__(first_msg, field=first_field)


class NotFound(UserError):
    pass


class DatabaseError(UserError):
    pass


class PermissionDenied(UserError):
    """The signed-in person's role does not allow this (app/office/roles.py)."""
