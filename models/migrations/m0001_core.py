from models.core import CORE_MODELS

NUMBER = 1
NAME = "core: users, customers, phones, addresses, tags, notes, timeline, settings"


def up(database):
    database.create_tables(CORE_MODELS)
