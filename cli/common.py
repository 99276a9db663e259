"""What every verb shares: opening the database the global --db names."""
from __future__ import annotations


def open_db(args, migrate: bool = True, create: bool | None = None) -> str:
    """Open the database --db names. create=None: only the default data-folder file may be made (first start);
    a --db path that does not exist is refused (a typing mistake must not become a new empty database)."""
    from models.connection import open_database

    return open_database(args.db, migrate=migrate, create=create)
