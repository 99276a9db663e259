"""PySide6 widgets. Thin: no SQL, no business rules; calls app/ services."""
from app.core.qtcompat import quicken_feature_check

quicken_feature_check()
