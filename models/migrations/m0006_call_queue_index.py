"""Indexes for lists read every few seconds: unhandled/missed calls newest first (the missed-calls tab and the
dashboard), and the activity-field suggestions of the customer form."""

NUMBER = 6
NAME = "indexes: unhandled calls by state and time; customer activity field"


def up(database):
    database.execute_sql("CREATE INDEX IF NOT EXISTS call_queue ON call (handled, state, started_at, id)")
    database.execute_sql("CREATE INDEX IF NOT EXISTS customer_activity_field ON customer (activity_field)")
