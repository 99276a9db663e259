"""PostgreSQL's driver (psycopg2), loaded when a PostgreSQL database is opened, not by every start.

peewee imports psycopg2 when it is itself imported, and psycopg2 brings libpq and OpenSSL with it: 10–20 ms of
a start that opens an SQLite file and never talks to a server. The program's start imports peewee inside
``without_driver()``; ``ensure_driver()`` (called before a PostgreSQL database is made) gives peewee the driver
when one is needed, exactly as peewee's own import would have (tests/core/test_pgdriver.py
checks this against a real server in a fresh process, so a peewee release that changes these names is caught).
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def without_driver() -> Iterator[None]:
    """Import peewee (and the models) here without psycopg2. Does nothing when either is already imported."""
    if "peewee" in sys.modules or "psycopg2" in sys.modules:
        yield
        return
    sys.modules["psycopg2"] = None        # type: ignore[assignment]   # `import psycopg2` raises ImportError
    try:
        yield
    finally:
        if "psycopg2" in sys.modules and sys.modules["psycopg2"] is None:
            del sys.modules["psycopg2"]


def ensure_driver() -> None:
    """Give peewee psycopg2 if it was imported without it (what its own module-level import does)."""
    import peewee

    if getattr(peewee, "psycopg2", None) is not None:
        return
    import psycopg2
    from psycopg2 import extensions
    from psycopg2.extras import Json, register_uuid

    register_uuid()
    peewee.psycopg2 = psycopg2
    peewee.pg_extensions = extensions
    peewee.pg_register_uuid = register_uuid
    peewee.Json_pg2 = Json
    adapter = peewee.Psycopg2Adapter
    adapter.txn_idle = extensions.TRANSACTION_STATUS_IDLE
    adapter.txn_inerror = extensions.TRANSACTION_STATUS_INERROR
    adapter.txn_unknown = extensions.TRANSACTION_STATUS_UNKNOWN
