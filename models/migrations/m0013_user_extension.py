"""Each colleague may have an extension on the office's telephone system: the popup of a call ringing that
extension goes to the desk where they are signed in."""
NUMBER = 13
NAME = "users: PBX extension"


def up(database):
    from models.migrations import add_column

    add_column(database, "user", "extension", "VARCHAR(20) NOT NULL DEFAULT ''")
