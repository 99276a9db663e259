"""Excel import wizard and export dialog."""
