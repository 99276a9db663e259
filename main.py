"""Entry point: `crm` opens the GUI, `crm <subcommand>` runs a command (see `crm --help`)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from app import cli

    cli.gui_launcher = _run_gui
    return cli.run(argv)


def _pin_singletons() -> None:
    """PySide6 6.12.0 on Python 3.11 returns None from void methods without a reference (every w.show(),
    setText() … drops None's count by one), so after some thousands of calls the GUI aborts with
    "Fatal Python error: none_dealloc". Python 3.12+ makes None/True/False immortal; do the same on 3.11."""
    if sys.version_info < (3, 12):
        import ctypes

        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40


def _run_gui(args) -> int:
    _pin_singletons()
    from ui.application import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
