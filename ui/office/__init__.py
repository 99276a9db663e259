"""Screens for the office's people: sign-in, colleagues and roles, the audit log."""
