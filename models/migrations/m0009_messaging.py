from models.messaging import MESSAGING_MODELS

NUMBER = 9
NAME = "messaging: SMS and email templates, outbox, replies, opt-outs"


def up(database):
    database.create_tables(MESSAGING_MODELS)
