"""The storage of the options declared in app/options.py: office options in the database, desk options in a file.

Office settings (company details, VAT, area code) live in the database, so every desk sharing a PostgreSQL
server sees the same values; the cache is dropped when another desk changes them (a live event). Desk settings
(this PC's serial port, popup behaviour) live in a JSON file in the user's data folder. get()/set() take an
Option constant of app/options.py (or, for now, its key, looked up in the one registry there).
"""
from __future__ import annotations

import functools
import json
import logging
import re
import sys
from typing import Any

from app import options
from app.options import DESK, KEPT_BY_PROGRAM, OFFICE, OPTIONS, Option, declare

__all__ = ["DESK", "KEPT_BY_PROGRAM", "OFFICE", "OPTIONS", "Option", "declare", "get", "set", "reset_cache",
           "area_code", "csv_list", "option"]

logger = logging.getLogger(__name__)

_office_cache: dict[str, Any] | None = None
_office_db: Any = None
_desk_cache: dict[str, Any] | None = None


def reset_cache() -> None:
    global _office_cache, _desk_cache
    _office_cache = None
    _desk_cache = None


def _coerce(opt: Option, value: Any) -> Any:
    if value is None:
        return opt.default
    try:
        if opt.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        return opt.type(value)
    except (TypeError, ValueError):
        logger.warning("setting %s has a bad value %r; using the default", opt.key, value)
        return opt.default


@functools.cache
def _database() -> Any:
    """models.base.db, imported on first use (a function-level import on every look-up cost more than the
    look-up: a money column asks for the Toman setting once per cell)."""
    from models.base import db

    return db


def _load_desk() -> dict[str, Any]:
    global _desk_cache
    if _desk_cache is None:
        from app.core.paths import config_file

        try:
            _desk_cache = json.loads(config_file().read_text(encoding="utf-8"))
            if not isinstance(_desk_cache, dict):
                _desk_cache = {}
        except (OSError, ValueError):
            _desk_cache = {}
    return _desk_cache


def _load_office() -> dict[str, Any]:
    global _office_cache, _office_db
    db = _database()
    # The cache belongs to one database: another one opened later (a restore, --db) is read afresh.
    if _office_cache is None or _office_db is not db.obj:
        from models.core import Setting

        if db.obj is None:
            return {}        # not open yet: defaults apply, and nothing is cached that would hide the real values
        try:
            _office_cache = {s.key: s.value for s in Setting.select()}
            _office_db = db.obj
        except Exception:  # no table yet (before migrations): defaults apply, read again later
            logger.debug("settings table not readable yet", exc_info=True)
            return {}
    return _office_cache


def option(key: Option | str) -> Option:
    """The option itself, from the option or its key (looked up in the one registry of app/options.py)."""
    if isinstance(key, Option):
        return key
    try:
        return OPTIONS[key]
    except KeyError:
        raise KeyError(f"no option is declared with the key {key!r} (app/options.py declares them all)") from None


def get(key: Option | str) -> Any:
    opt = option(key)
    store = _load_desk() if opt.scope == DESK else _load_office()
    return _coerce(opt, store.get(opt.key))


def set(key: Option | str, value: Any) -> None:  # the natural name beside get()
    opt = option(key)
    key = opt.key
    value = _coerce(opt, value)
    if opt.scope == OFFICE and key not in KEPT_BY_PROGRAM:
        from app.office.roles import require

        require("settings.change")       # office settings are the manager's; the program's own bookkeeping is not
    if opt.scope == DESK:
        from app.core.paths import config_file

        data = dict(_load_desk())
        data[key] = value
        path = config_file()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        _load_desk()[key] = value
    else:
        from models.core import Setting

        stored = json.dumps(value) if opt.type in (bool,) else str(value)
        Setting.insert(key=key, value=stored).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: stored}).execute()
        _load_office()[key] = value


def area_code() -> str:
    return get(options.OFFICE_AREA_CODE)


# A list typed in a Persian field is separated by the Persian comma «،» (U+060C) as often as by «,»; the
# Arabic semicolon «؛» and «;» count too. Each value is trimmed; empty ones and repeats are dropped.
_LIST_SEPARATORS = re.compile("[,،؛;]")


def csv_list(key: Option | str) -> list[str]:
    out: list[str] = []
    for p in _LIST_SEPARATORS.split(str(get(key))):
        p = p.strip(" ‌ 	")
        if p and p not in out:
            out.append(p)
    return out


# Option.get() / Option.set() read and write through this module.
options.bind_storage(sys.modules[__name__])
