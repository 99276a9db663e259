"""Shared builders for the office tests: colleagues with real passwords and roles, signed in for real."""
from __future__ import annotations

import contextlib

from app.office import session
from models.core import User


def make_user(name: str, username: str, role: str, password: str | None = None) -> int:
    uid = User.create(name=name, username=username, role=role).id
    if password:
        from app.office import auth

        with session.acting_as(session.SYSTEM):
            auth.set_password(uid, password)
    return uid


@contextlib.contextmanager
def as_user(user_id: int):
    """Act as this colleague (as if they had signed in at this desk)."""
    u = User.get_by_id(user_id)
    with session.acting_as(session.Principal(u.id, u.name, u.role, how="test")):
        yield
