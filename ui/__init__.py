"""PySide6 widgets. Thin: no SQL, no business rules; calls app/ services."""
