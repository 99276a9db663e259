from models.calls import Call

NUMBER = 2
NAME = "calls: the call log"


def up(database):
    database.create_tables([Call])
