"""The office: its people (users, sign-in, roles, the audit log, hand-over), moving a desk's SQLite database
to PostgreSQL (dbcopy), and live events between the desks that share one server (events, live)."""
