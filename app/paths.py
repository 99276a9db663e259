"""Where the program keeps its files (per user, per OS), through platformdirs."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from app import APP_NAME


def data_dir() -> Path:
    override = os.environ.get("CRM_DATA_DIR")
    p = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    p.mkdir(parents=True, exist_ok=True)
    return p


def backup_dir() -> Path:
    p = data_dir() / "backups"
    p.mkdir(parents=True, exist_ok=True)
    return p


def log_dir() -> Path:
    p = data_dir() / "logs"
    p.mkdir(parents=True, exist_ok=True)
    return p


def config_file() -> Path:
    return data_dir() / "desk-settings.json"


def resources_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "resources"
