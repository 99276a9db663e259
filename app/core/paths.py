"""Where the program keeps its files (per user, per OS), through platformdirs.

The data folder and the folders in it (backups, safety copies, logs) are the program's own: owner-only (0700)
on POSIX, tightened if an older version left them open to others; the files in them are created 0600."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from app import APP_NAME

_tightened: set[Path] = set()


def _own_dir(p: Path) -> Path:
    from app.core.fs import private_dir, tighten

    if p not in _tightened:
        private_dir(p)
        tighten(p)
        _tightened.add(p)
    elif not p.exists():
        private_dir(p)
    return p


def data_dir() -> Path:
    return _own_dir(data_dir_path())


def data_dir_path() -> Path:
    """Where the data folder is, without making it (data_dir() makes it, owner-only)."""
    override = os.environ.get("CRM_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def backup_dir() -> Path:
    return _own_dir(data_dir() / "backups")


def safety_dir() -> Path:
    """Copies taken before something risky (a migration, a restore); rotated apart from the backups."""
    return _own_dir(backup_dir() / "safety")


def log_dir() -> Path:
    return _own_dir(data_dir() / "logs")


def config_file() -> Path:
    return data_dir() / "desk-settings.json"


def resources_dir() -> Path:
    """resources/ at the project's root (app/core/paths.py → three levels up); beside the program when frozen."""
    return Path(__file__).resolve().parents[2] / "resources"
