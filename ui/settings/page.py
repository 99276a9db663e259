"""Settings: one tab per panel. Each area adds its panel class to PANELS."""
from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ui.context import AppContext
from ui.office.users_page import UsersPage
from ui.service.settings_panel import ServiceSettingsPanel
from ui.settings.backup_panel import BackupPanel
from ui.settings.callerid_panel import CallerIdPanel
from ui.settings.invoice_panel import InvoicePanel
from ui.settings.office_panel import OfficePanel
from ui.settings.watch_panel import WatchPanel
from ui.sms.email_settings import EmailSettingsPanel
from ui.sms.settings_panel import SmsSettingsPanel

logger = logging.getLogger(__name__)

# Each panel class takes (ctx, parent) and has a TITLE.
PANELS = [OfficePanel, UsersPage, CallerIdPanel, WatchPanel, InvoicePanel, SmsSettingsPanel, EmailSettingsPanel,
          ServiceSettingsPanel, BackupPanel]


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
        for cls in PANELS:
            panel = cls(ctx, self)
            self.tabs.addTab(panel, panel.TITLE)
