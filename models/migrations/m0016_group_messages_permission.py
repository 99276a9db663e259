"""A permission for group sends (پیامک یا ایمیل گروهی): a campaign to a whole segment is a manager's decision.
The stored built-in roles that had every office permission (admin, manager) get it; the sales and reception
roles, and roles an office made itself, are left as they are (the admin can tick it in the roles table)."""

NUMBER = 16
NAME = "roles: group messages permission"

PERMISSION = "messages.group"


def up(database):
    import json

    from models.office import Role

    for role in Role.select().where(Role.key.in_(("admin", "manager"))):
        perms = json.loads(role.permissions or "[]")
        if PERMISSION not in perms:
            perms.append(PERMISSION)
            Role.update(permissions=json.dumps(sorted(perms))).where(Role.id == role.id).execute()
