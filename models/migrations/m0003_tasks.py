from models.tasks import TASK_MODELS

NUMBER = 3
NAME = "tasks: tasks and follow-ups, referrals, meetings, reminders"


def up(database):
    database.create_tables(TASK_MODELS)
    # Birthday and anniversary reminders search these dates by day ranges (app/tasks/reminders.py dates_on).
    database.execute_sql('CREATE INDEX IF NOT EXISTS customer_birthday ON customer (birthday)')
    database.execute_sql('CREATE INDEX IF NOT EXISTS customer_anniversary ON customer (anniversary)')
    # The dashboard's "calls not yet handled this week".
    database.execute_sql('CREATE INDEX IF NOT EXISTS call_handled_started_at ON "call" (handled, started_at)')
