"""Screens of the office on one server: the other desks, live."""
