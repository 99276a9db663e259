"""The office's people: sign-in credentials, remembered desks, roles and the audit log.

The audit log is append-only. It refers to users and records by plain ids (no foreign keys), so merging
customers or deactivating a colleague never needs to touch a written entry; the program has no API that
updates or deletes one, the model refuses it, and the database refuses it too (triggers in migration 12).
"""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.core import User


class Credential(BaseModel):
    """A colleague's password: scrypt hash, its per-user salt and the parameters it was made with."""

    user = pw.ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    password_hash = pw.CharField(max_length=128)          # hex
    salt = pw.CharField(max_length=64)                    # hex, 16 random bytes
    params = pw.CharField(max_length=80)                  # "scrypt$n$r$p$dklen"
    failed_count = pw.IntegerField(default=0)            # consecutive failures since the last success
    locked_until = pw.DateTimeField(null=True)
    changed_at = pw.DateTimeField(default=now)
    last_sign_in = pw.DateTimeField(null=True)


class DeskToken(BaseModel):
    """«Remember me on this PC» and the admin's automatic sign-in for a one-desk office: the desk keeps a
    random token in its config file, the database keeps only its hash. Revoked tokens stay as history."""

    KINDS = ("remember", "auto")

    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    kind = pw.CharField(max_length=10, default="remember")
    desk = pw.CharField(max_length=120, default="")
    created_at = pw.DateTimeField(default=now)
    expires_at = pw.DateTimeField(null=True)              # None: until revoked (automatic sign-in)
    last_used = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)


class Role(BaseModel):
    """A role and what it may do (permission keys as a JSON list); the admin edits them."""

    key = pw.CharField(max_length=20, unique=True)
    name = pw.CharField(max_length=60)
    permissions = pw.TextField(default="[]")
    builtin = pw.BooleanField(default=False)

    class Meta:
        table_name = "office_role"


class AuditImmutable(Exception):
    pass


class AuditLog(BaseModel):
    """Who created, changed, deleted, merged, exported, printed what and when. Append-only."""

    at = pw.DateTimeField(default=now, index=True)
    user_id = pw.IntegerField(null=True, index=True)
    user_name = pw.CharField(max_length=120, default="")  # kept as written: history outlives renames
    action = pw.CharField(max_length=20, index=True)       # create, update, delete, merge, export, print…
    entity = pw.CharField(max_length=30, index=True)       # customer, document, payment, user, role, …
    entity_id = pw.IntegerField(null=True)
    summary = pw.TextField(default="")                     # Persian, one line
    changes = pw.TextField(default="")                     # JSON {field: [before, after]}
    desk = pw.CharField(max_length=120, default="")

    class Meta:
        table_name = "audit_log"
        indexes = ((("entity", "entity_id"), False),)

    def save(self, *args, **kwargs):
        if self._pk is not None and not kwargs.get("force_insert"):
            raise AuditImmutable("audit log entries are never changed")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AuditImmutable("audit log entries are never deleted")

    @classmethod
    def update(cls, *args, **kwargs):
        raise AuditImmutable("audit log entries are never changed")

    @classmethod
    def delete(cls):
        raise AuditImmutable("audit log entries are never deleted")

    @classmethod
    def replace(cls, *args, **kwargs):
        raise AuditImmutable("audit log entries are never replaced")


OFFICE_MODELS = [Credential, DeskToken, Role, AuditLog]
