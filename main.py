"""Entry point: `crm` opens the GUI, `crm <subcommand>` runs a command (see `crm --help`)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """`crm VERB …` runs the command line; `crm` alone (or `crm gui`) opens the GUI (cli/core.py cmd_gui)."""
    import os

    # The windowed Windows build (peyvandw.exe, no console) starts with no stdout/stderr at all: a print or a
    # log line to the console would fail. They go nowhere instead; the log file keeps everything.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    from cli.main import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
