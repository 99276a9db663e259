"""Tasks and follow-ups, their referral chain, meetings/visits and reminders."""
from __future__ import annotations

import peewee as pw

from models.base import BaseModel, now
from models.calls import Call
from models.core import Customer, User


class Task(BaseModel):
    """A to-do with a due date: a plain task, a follow-up (پیگیری) or a call the assignee must make."""

    KINDS = ("task", "followup", "call")
    STATUSES = ("open", "done", "cancelled")
    RECURRENCES = ("", "daily", "weekly", "monthly", "yearly")
    PRIORITIES = (0, 1, 2, 3)                   # low, normal, high, urgent

    title = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    kind = pw.CharField(max_length=12, default="task", index=True)
    customer = pw.ForeignKeyField(Customer, null=True, backref="tasks", on_delete="SET NULL")
    assignee = pw.ForeignKeyField(User, null=True, backref="tasks", on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    due_at = pw.DateTimeField(null=True)        # naive office-local; 00:00 of the day when all_day
    all_day = pw.BooleanField(default=False)    # a date without a time: overdue from the next day
    priority = pw.IntegerField(default=1)
    status = pw.CharField(max_length=10, default="open")
    done_at = pw.DateTimeField(null=True)
    done_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    # Recurrence: the anchor day/month keep "every 31st" and "every Esfand 30" true across short months.
    recurrence = pw.CharField(max_length=8, default="")
    recur_interval = pw.IntegerField(default=1)
    recur_day = pw.IntegerField(null=True)      # Jalali day of month of the first occurrence
    recur_month = pw.IntegerField(null=True)    # Jalali month (yearly)
    recur_until = pw.DateField(null=True)
    series = pw.IntegerField(null=True, index=True)   # id of the first task of a recurring series
    next_task = pw.IntegerField(null=True)      # the occurrence created when this one was done
    remind_before = pw.IntegerField(null=True)  # minutes before due_at; None = no reminder
    call = pw.ForeignKeyField(Call, null=True, backref="tasks", on_delete="SET NULL")  # the call it follows up
    # The latest referral, copied here so an inbox of thousands reads in one query; the chain is TaskReferral.
    referred_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    referred_at = pw.DateTimeField(null=True)
    referral_note = pw.TextField(default="")
    referral_count = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = (
            # (status, assignee, due_at, priority DESC, id, all_day, kind), covering the inbox and every count: migration 18
            (("status", "due_at"), False),
            (("customer", "status"), False),
        )


class TaskReferral(BaseModel):
    """One hand-over (ارجاع) of a task: who gave it to whom, when and why. Never edited."""

    task = pw.ForeignKeyField(Task, backref="referrals", on_delete="CASCADE")
    from_user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    to_user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = pw.DateTimeField(default=now)
    reason = pw.TextField(default="")


class Meeting(BaseModel):
    """A meeting or visit (حضوری): at the office, at the customer's, or online."""

    KINDS = ("office", "onsite", "online")
    STATUSES = ("planned", "held", "cancelled")

    customer = pw.ForeignKeyField(Customer, null=True, backref="meetings", on_delete="SET NULL")
    user = pw.ForeignKeyField(User, null=True, backref="meetings", on_delete="SET NULL")
    kind = pw.CharField(max_length=10, default="office")
    status = pw.CharField(max_length=10, default="planned")
    start_at = pw.DateTimeField(index=True)
    duration = pw.IntegerField(null=True)       # minutes
    subject = pw.CharField(max_length=200, default="")
    location = pw.CharField(max_length=200, default="")
    summary = pw.TextField(default="")          # what was agreed
    remind_before = pw.IntegerField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("customer", "start_at"), False),)


class Reminder(BaseModel):
    """An alarm. Pending until done or dismissed; snoozing moves fire_at. One that fell due while the app was
    closed is still pending at the next start, and shows then."""

    KINDS = ("task", "meeting", "birthday", "anniversary")
    STATES = ("pending", "done", "dismissed")

    kind = pw.CharField(max_length=12, default="task")
    task = pw.ForeignKeyField(Task, null=True, backref="reminders", on_delete="CASCADE")
    meeting = pw.ForeignKeyField(Meeting, null=True, backref="reminders", on_delete="CASCADE")
    customer = pw.ForeignKeyField(Customer, null=True, backref="+", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")  # None: everyone
    title = pw.CharField(max_length=250, default="")
    fire_at = pw.DateTimeField()
    event_at = pw.DateTimeField(null=True)      # when the thing itself happens
    state = pw.CharField(max_length=10, default="pending")
    snoozes = pw.IntegerField(default=0)
    # birthday/anniversary reminders: one per customer and day (kept unique so generation is idempotent)
    key = pw.CharField(max_length=60, null=True, unique=True)
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("state", "fire_at"), False),)


TASK_MODELS = [Task, TaskReferral, Meeting, Reminder]
