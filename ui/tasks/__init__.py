"""Tasks, meetings and reminders screens."""
