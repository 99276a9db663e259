"""Entry point: `crm` opens the GUI, `crm <subcommand>` runs a command (see `crm --help`)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from app.cli import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
