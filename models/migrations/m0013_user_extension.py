"""Each colleague may have an extension on the office's telephone system: the popup of a call ringing that
extension goes to the desk where they are signed in."""
NUMBER = 13
NAME = "users: PBX extension"


def up(database):
    import peewee as pw
    from playhouse.migrate import SchemaMigrator, migrate

    if any(c.name == "extension" for c in database.get_columns("user")):
        return                       # a database created by this version has it already
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("user", "extension", pw.CharField(max_length=20, default="")))
