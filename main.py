"""Entry point: `crm` opens the GUI, `crm <subcommand>` runs a command (see `crm --help`)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """`crm VERB …` runs the command line; `crm` alone (or `crm gui`) opens the GUI (cli/core.py cmd_gui)."""
    from cli.main import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
