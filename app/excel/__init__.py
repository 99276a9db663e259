"""Excel: export of lists, import of customers."""
