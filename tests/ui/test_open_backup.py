"""A backup file opened from the file manager (`crm gui --open-backup FILE`, the Windows installer's file
association): the restore is offered first, done only on «Yes», and a bad file changes nothing."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app import backup
from app.customers import service as customers
from models.base import db as database

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def answers(monkeypatch):
    said: list[tuple[str, str]] = []
    reply = {"button": QMessageBox.StandardButton.Yes}

    def question(parent, title, text, *a, **k):
        said.append(("question", text))
        return reply["button"]

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "information", lambda p, t, text, *a, **k: said.append(("information", text)))
    monkeypatch.setattr(QMessageBox, "critical", lambda p, t, text, *a, **k: said.append(("critical", text)))
    return said, reply


def names(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("SELECT first_name FROM customer ORDER BY id")]
    finally:
        con.close()


@pytest.fixture
def office(db, tmp_path):
    """A database with one customer, a backup of it, then a second customer added after the backup."""
    customers.create_customer({"first_name": "علی", "last_name": "رضایی", "phones": ["02122514321"]})
    path = Path(database.obj.database)
    saved = backup.backup(path, out=tmp_path / "crm-office.sqlite3")
    customers.create_customer({"first_name": "مریم", "last_name": "کریمی", "phones": ["09122800039"]})
    from models import presence
    from models.connection import close_database

    close_database()
    presence.unregister()
    return path, saved


def test_restore_offered_and_done_on_yes(office, answers):
    from ui.application import offer_restore

    path, saved = office
    said, _ = answers
    assert names(path) == ["علی", "مریم"]
    assert offer_restore(saved, path)
    assert names(path) == ["علی"]
    assert said[0][0] == "question" and "crm-office.sqlite3" in said[0][1]
    assert said[-1][0] == "information" and "بازگردانی انجام شد" in said[-1][1]


def test_no_leaves_the_database_as_it_was(office, answers):
    from ui.application import offer_restore

    path, saved = office
    said, reply = answers
    reply["button"] = QMessageBox.StandardButton.No
    assert not offer_restore(saved, path)
    assert names(path) == ["علی", "مریم"] and [k for k, _ in said] == ["question"]


def test_a_file_that_is_not_a_backup_is_refused_in_persian(office, answers, tmp_path):
    from ui.application import offer_restore

    path, _ = office
    said, _ = answers
    bogus = tmp_path / "crm-bogus.sqlite3"
    bogus.write_bytes(b"not a database at all" * 100)
    assert not offer_restore(bogus, path)
    assert names(path) == ["علی", "مریم"]
    assert said[-1][0] == "critical" and any("\u0600" <= c <= "\u06ff" for c in said[-1][1])
