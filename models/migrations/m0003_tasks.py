from models.tasks import TASK_MODELS

NUMBER = 3
NAME = "tasks: tasks and follow-ups, referrals, meetings, reminders"


def up(database):
    database.create_tables(TASK_MODELS)
