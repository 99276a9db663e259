"""Settings: one tab per panel. Each area adds its panel module to PANELS."""
from __future__ import annotations

import importlib
import logging

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ui.context import AppContext

logger = logging.getLogger(__name__)

# module, class. Each panel class takes (ctx, parent) and has a TITLE.
PANELS = [
    ("ui.settings.office_panel", "OfficePanel"),
    ("ui.office.users_page", "UsersPage"),
    ("ui.settings.callerid_panel", "CallerIdPanel"),
    ("ui.settings.invoice_panel", "InvoicePanel"),
    ("ui.settings.backup_panel", "BackupPanel"),
]


class SettingsPage(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        title = QLabel("تنظیمات")
        title.setProperty("role", "title")
        lay.addWidget(title)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        for module, cls in PANELS:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as e:
                if e.name != module:
                    raise
                continue
            panel = getattr(mod, cls)(ctx, self)
            self.tabs.addTab(panel, panel.TITLE)
