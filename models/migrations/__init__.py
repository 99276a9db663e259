"""Numbered schema migrations, recorded in the database.

Each module here is named mNNNN_what.py, defines NUMBER, NAME and up(database), and is listed in
all_migrations(). Every migration not yet recorded runs in order, each inside one transaction; an SQLite file gets a safety copy first. A database
written by a newer version (a number we do not know) is refused rather than damaged.

Numbers by area: 1 core, 2 calls, 3 tasks and reminders, 4 sales documents; later ones take the next free number.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import peewee as pw

from app.core.errors import DatabaseError

logger = logging.getLogger(__name__)


# The numbers all_migrations() lists (a test keeps them equal). A database that has exactly these applied needs
# no migration, and opening it does not import the migrations (nor the models they bring) before the first screen.
KNOWN_NUMBERS = frozenset(range(1, 25))


def all_migrations() -> list[ModuleType]:
    """Every migration, in number order. Listed by plain imports (a new one is added here; a test checks that no
    mNNNN file in this folder is left out), so the import graph and a frozen build see them all."""
    from models.migrations import (
        m0001_core,
        m0002_calls,
        m0003_tasks,
        m0004_sales,
        m0005_search_index,
        m0006_call_queue_index,
        m0007_family_sort,
        m0008_pipeline,
        m0009_messaging,
        m0010_office_people,
        m0011_issued_cheques,
        m0012_service,
        m0013_user_extension,
        m0014_service_kpi_indexes,
        m0015_pipeline_board_index,
        m0016_group_messages_permission,
        m0017_dashboard_count_indexes,
        m0018_dashboard_order_indexes,
        m0019_name_start_indexes,
        m0020_customer_id_key_index,
        m0021_search_index_in_list_order,
        m0022_invoice_paid,
        m0023_list_indexes,
        m0024_occasion_indexes,
    )

    mods = sorted([m0001_core, m0002_calls, m0003_tasks, m0004_sales, m0005_search_index, m0006_call_queue_index,
                   m0007_family_sort, m0008_pipeline, m0009_messaging, m0010_office_people, m0011_issued_cheques,
                   m0012_service, m0013_user_extension, m0014_service_kpi_indexes,
                   m0015_pipeline_board_index, m0016_group_messages_permission, m0017_dashboard_count_indexes,
                   m0018_dashboard_order_indexes, m0019_name_start_indexes, m0020_customer_id_key_index,
                   m0021_search_index_in_list_order, m0022_invoice_paid, m0023_list_indexes,
                   m0024_occasion_indexes],
                  key=lambda m: m.NUMBER)
    numbers = [m.NUMBER for m in mods]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return mods


def add_column(database: pw.Database, table: str, column: str, definition: str) -> bool:
    """ALTER TABLE … ADD COLUMN `column` `definition` (e.g. "BIGINT NOT NULL DEFAULT 0", the same words on SQLite
    and PostgreSQL) when the table lacks it: a database created by this version has it from its model already.

    Never a rebuild of the table: peewee's SQLite migrator adds a NOT NULL column by copying the table and dropping
    the old one, and with foreign keys on that DROP runs every ON DELETE action pointing at it (adding the users'
    extension that way cleared every customer's and every task's colleague)."""
    if any(c.name == column for c in database.get_columns(table)):
        return False
    database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}')
    return True


def applied_numbers(database: pw.Database) -> set[int]:
    from models.core import SchemaMigration

    if not database.table_exists(SchemaMigration._meta.table_name):
        return set()
    return {row.number for row in SchemaMigration.select(SchemaMigration.number)}


def migrate(database: pw.Database, sqlite_path: Path | None = None,
            starting: Callable[[list[int]], None] | None = None) -> list[int]:
    """Run every migration not yet recorded. `starting`, when given, is told their numbers first (the program
    shows that the file is being upgraded: a large one takes minutes)."""
    from models.core import SchemaMigration

    done = applied_numbers(database)
    if done == KNOWN_NUMBERS:
        return []
    known = all_migrations()
    newest_known = max(m.NUMBER for m in known)
    if done and max(done) > newest_known:
        raise DatabaseError(
            "این پایگاه داده با نسخه تازه‌تری از برنامه ساخته شده است. برنامه را به‌روز کنید؛ "
            "پایگاه داده دست‌نخورده ماند.",
            en="This database was written by a newer version of the program; update the program. "
               "The database was left untouched.")
    pending = [m for m in known if m.NUMBER not in done]
    if not pending:
        return []
    if starting is not None and done:
        starting([m.NUMBER for m in pending])
    if done and sqlite_path is not None and sqlite_path.exists():
        from models.snapshot import safety_copy

        safety_copy(sqlite_path, reason=f"before-migration-{pending[0].NUMBER:04d}")
    if not database.table_exists(SchemaMigration._meta.table_name):
        database.create_tables([SchemaMigration])
    ran = []
    for m in pending:
        logger.info("applying migration %04d %s", m.NUMBER, m.NAME)
        try:
            with database.atomic():
                m.up(database)
                SchemaMigration.create(number=m.NUMBER, name=m.NAME)
        except (pw.OperationalError, sqlite3.OperationalError) as e:
            from models.writer import translate

            raise translate(e) from e          # a full or read-only disk in Persian; the step rolled back
        ran.append(m.NUMBER)
    return ran
