"""Peyvand CRM domain layer: plain Python, importable without a display (no QtWidgets here)."""

APP_NAME = "peyvand"
APP_TITLE = "پیوند"
__version__ = "0.1.0"
