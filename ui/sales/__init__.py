"""Invoices, proformas and payments screens."""
