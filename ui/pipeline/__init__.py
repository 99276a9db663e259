"""The sales pipeline screens: the Kanban board, the list, the opportunity dialog, the reports, the settings."""
