"""One rotating log file in the data folder; a hard crash (faulthandler) is reported at the next start."""
from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import sys

_fault_file = None


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log names customers and numbers: each log file is created owner-only (0600), rotated ones too."""

    def _open(self):
        from app.core.fs import open_private

        return open_private(self.baseFilename, self.mode, encoding=self.encoding or "utf-8")


def setup(verbose: bool = False) -> None:
    from app.core.paths import log_dir

    root = logging.getLogger()
    if getattr(root, "_crm_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    from app.core.fs import tighten

    path = log_dir() / "crm.log"
    tighten(path)                      # an older version left it readable by everyone
    fh = _PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(fh)
    if verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(sh)
    root._crm_configured = True  # type: ignore[attr-defined]


def enable_faulthandler() -> str | None:
    """Start recording hard crashes; return the previous run's crash report, if it left one."""
    global _fault_file
    from app.core.paths import log_dir

    path = log_dir() / "crash.txt"
    previous = None
    try:
        if path.exists() and path.stat().st_size > 0:
            previous = path.read_text(encoding="utf-8", errors="replace")
        from app.core.fs import open_private

        _fault_file = open_private(path, "w")  # must stay open for faulthandler
        faulthandler.enable(_fault_file)
    except OSError:
        logging.getLogger(__name__).warning("faulthandler not enabled", exc_info=True)
    return previous
