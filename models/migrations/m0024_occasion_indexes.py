"""The day's birthdays and wedding anniversaries read from their index alone.

The dashboard's «مناسبت‌های امروز» card (app/tasks/reminders.py dates_and_total) finds the customers whose date
falls on today's Jalali day in any year: some 120 one-day ranges over the date's index, then each customer's row for
the names, the kind and the colleague it is assigned to, to order them and keep the first few. At a million
customers a day has a couple of thousand of them, so the card read a couple of thousand rows spread over the whole
table: 7–9 ms when those pages were not in the connection's cache (the money cards' summary, read a moment
later, pushes them out), more than any other part of the dashboard's first screen. These indexes hold what the card
reads, so it reads the index alone ("USING COVERING INDEX", 1.7–2.9 ms), and only customers with the date are
in them (a comparison on the date implies it is not NULL, so every query on these dates can use them):

    customer_birthday_card     (birthday, merged_into_id, assigned_to_id, kind, first_name, last_name, company)
    customer_anniversary_card  (anniversary, …the same)

They replace the plain date indexes of migration 3.
"""
NUMBER = 24
NAME = "indexes: birthdays and anniversaries with what the day's card shows"

_COLUMNS = "merged_into_id, assigned_to_id, kind, first_name, last_name, company"


def up(database):
    for kind in ("birthday", "anniversary"):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS customer_{kind}_card "
                             f"ON customer ({kind}, {_COLUMNS}) WHERE {kind} IS NOT NULL")
        database.execute_sql(f"DROP INDEX IF EXISTS customer_{kind}")
