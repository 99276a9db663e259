"""The office: its people (users), later desks, roles and the audit log."""
