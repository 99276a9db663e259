"""Tasks, follow-ups and referrals, reminders, meetings."""
