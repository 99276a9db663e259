"""Customers: the service (create, edit, merge, find by phone), search, the timeline, the summary the popup and the file show."""
