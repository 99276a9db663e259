"""Screens of the office: sign-in, colleagues and roles, the audit log, and the other desks live."""
