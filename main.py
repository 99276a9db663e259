"""Entry point: `crm` opens the GUI, `crm <subcommand>` runs a command (see `crm --help`)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from cli import main as cli

    cli.gui_launcher = _run_gui
    return cli.run(argv)


def _run_gui(args) -> int:
    from ui.application import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
