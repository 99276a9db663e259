"""Shared fixtures: a real SQLite file per test (and PostgreSQL where CRM_TEST_POSTGRES_URL is set)."""
from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.core.qtcompat import guard_pyside

guard_pyside()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Every test gets its own data folder: no test touches the user's real files."""
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    from app import settings
    from app.core import clock

    clock.set_now(None)
    settings.reset_cache()
    yield
    clock.set_now(None)


def _open_sqlite(tmp_path):
    from models.connection import close_database, open_database

    url = open_database(str(tmp_path / "test.sqlite3"), create=True)
    return url, close_database


def _open_postgres():
    import peewee as pw

    base = os.environ["CRM_TEST_POSTGRES_URL"]
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = pw.PostgresqlDatabase(None)
    from urllib.parse import urlparse

    p = urlparse(base)
    kwargs = dict(host=p.hostname or "127.0.0.1", port=p.port or 5432, user=p.username or "postgres",
                  password=p.password)
    dbname = (p.path or "/test").lstrip("/") or "test"
    admin.init(dbname, **kwargs)
    admin.connect()
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    admin.close()
    from models.connection import close_database, open_database

    sep = "&" if "?" in base else "?"
    url = open_database(f"{base}{sep}options=-csearch_path%3D{schema}")

    def cleanup():
        close_database()
        admin.connect()
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()

    return url, cleanup


def _backends():
    out = ["sqlite"]
    if os.environ.get("CRM_TEST_POSTGRES_URL"):
        out.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return out


@pytest.fixture
def db(tmp_path):
    """A migrated SQLite database file, initialised as the app's global database."""
    url, cleanup = _open_sqlite(tmp_path)
    yield url
    cleanup()


@pytest.fixture(params=_backends())
def anydb(request, tmp_path):
    """The same test on SQLite and (when CRM_TEST_POSTGRES_URL is set) on PostgreSQL."""
    if request.param == "sqlite":
        url, cleanup = _open_sqlite(tmp_path)
    else:
        url, cleanup = _open_postgres()
    yield url
    cleanup()


def type_text(widget, text: str) -> None:
    """Type any text (Persian included) into a widget, key by key, through real key events.

    QTest.keyClicks only knows ASCII (Qt asserts on other characters), so send QKeyEvents carrying the text."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))


@pytest.fixture
def typer():
    """`typer(widget, "علی")` types Persian text with real key events."""
    return type_text


@pytest.fixture
def persian_app(qapp):
    """The program's real start-up look: Persian locale, right-to-left layout, the Vazirmatn font and the style
    sheet (`ui.application.setup_qt_app`), undone afterwards so that the next test gets Qt's defaults.

    A test file that needs it for every test says `pytestmark = pytest.mark.usefixtures("persian_app")`."""
    from PySide6.QtCore import QLocale, QTranslator

    from ui.application import setup_qt_app

    before = (qapp.layoutDirection(), QLocale(), qapp.styleSheet(), qapp.font())
    translators = set(qapp.findChildren(QTranslator))
    setup_qt_app()
    yield qapp
    for tr in set(qapp.findChildren(QTranslator)) - translators:     # one Persian translator per test, not hundreds
        qapp.removeTranslator(tr)
        tr.setParent(None)
    qapp.setLayoutDirection(before[0])
    QLocale.setDefault(before[1])
    qapp.setStyleSheet(before[2])
    qapp.setFont(before[3])
