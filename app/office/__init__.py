"""The office on one server: moving a desk's SQLite database to PostgreSQL (dbcopy) and live events between
the desks that share it (events, live)."""
