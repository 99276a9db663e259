"""One peewee database, initialised late (at start-up, or by a test on a temp file)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import peewee as pw

logger = logging.getLogger(__name__)

db = pw.DatabaseProxy()


def now() -> dt.datetime:
    from app.core.clock import now as _now

    return _now()


class BaseModel(pw.Model):
    if TYPE_CHECKING:
        # For the type checker only: peewee adds the `id` primary key and each foreign key's `<name>_id`
        # at run time, which its stubs cannot see.
        id: Any

        def __getattr__(self, name: str) -> Any: ...

    class Meta:
        database = db
        legacy_table_names = False


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(db.obj, pw.SqliteDatabase)
