"""The office: its people (users), moving a desk's SQLite database to PostgreSQL (dbcopy), and live events
between the desks that share one server (events, live)."""
