"""One peewee database, initialised late (at start-up, or by a test on a temp file)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, overload

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


@overload
def as_date(v: None) -> None: ...
@overload
def as_date(v: dt.date | str) -> dt.date: ...
def as_date(v: dt.date | str | None) -> dt.date | None:
    """A date column's value as the driver gives it without peewee (SQLite: ISO text; PostgreSQL: a date)."""
    if v is None or type(v) is dt.date:
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


@overload
def as_datetime(v: None) -> None: ...
@overload
def as_datetime(v: dt.date | str) -> dt.datetime: ...
def as_datetime(v: dt.date | str | None) -> dt.datetime | None:
    """A date-time column's value as the driver gives it without peewee (SQLite: text; PostgreSQL: a datetime)."""
    if v is None or isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    s = str(v)
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        return dt.datetime.strptime(s[:19], "%Y-%m-%d %H:%M:%S")


def for_update(q):
    """`q` taking row locks on PostgreSQL (SELECT … FOR UPDATE), until the transaction ends; on SQLite `q` as it
    is: its BEGIN IMMEDIATE serialises every writer already."""
    return q if is_sqlite() else q.for_update()


def lock_rows(q) -> None:
    """Lock the rows `q` selects for the rest of the transaction (see for_update); nothing to do on SQLite."""
    if not is_sqlite():
        list(q.for_update())
