"""Peyvand CRM domain layer: plain Python, importable without a display (no QtWidgets here)."""

APP_NAME = "peyvand"
APP_TITLE = "پیوند"
APP_ID = "ir.peyvand.crm"          # reverse-DNS id: the Linux menu entry, icon and AppStream metadata
__version__ = "0.1.0"
