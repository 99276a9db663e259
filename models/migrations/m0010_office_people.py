"""The office's people: credentials, remembered desks, editable roles, and the append-only audit log.

The audit log refuses UPDATE and DELETE in the database itself (a trigger on SQLite and on PostgreSQL), so
no program — this one or a hand-run SQL tool going through the same database — rewrites history quietly."""
from models.office import OFFICE_MODELS

NUMBER = 10
NAME = "office: sign-in, roles, audit log"

DEFAULT_ROLES = [
    # key, Persian name, permissions
    ("admin", "مدیر سیستم", ["customers.all", "export", "money.view", "invoice.issue", "invoice.cancel",
                             "customers.delete", "settings.change", "audit.view", "handover", "users.manage"]),
    ("manager", "مدیر", ["customers.all", "export", "money.view", "invoice.issue", "invoice.cancel",
                         "customers.delete", "settings.change", "audit.view", "handover"]),
    ("sales", "کارشناس فروش", ["money.view", "invoice.issue"]),
    ("reception", "پذیرش", ["customers.all"]),
]


def up(database):
    import json

    import peewee as pw

    database.create_tables(OFFICE_MODELS)
    from models.office import Role

    for key, name, perms in DEFAULT_ROLES:
        Role.insert(key=key, name=name, permissions=json.dumps(perms), builtin=True).on_conflict_ignore().execute()
    if isinstance(database, pw.PostgresqlDatabase):
        database.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_log_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql")
        database.execute_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        database.execute_sql("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                             "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            database.execute_sql(
                f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")
