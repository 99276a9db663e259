"""The AT command layer of a voice modem: send a command, read its answer, initialise caller ID.

Works on any open ``Source`` (it only writes bytes and reads lines); app/callerid/sources.py calls
``initialise`` when a serial source asks for a modem, and app/callerid/modem.py builds the probe and
click-to-call on top. It imports nothing from sources at run time, so the two never import each other.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.callerid.sources import Source

logger = logging.getLogger(__name__)

OK = "OK"
ERROR = "ERROR"
TIMEOUT = "TIMEOUT"
FINAL_CODES = ("OK", "ERROR", "NO CARRIER", "NO DIALTONE", "NO DIAL TONE", "BUSY", "NO ANSWER", "CONNECT",
               "+CME ERROR", "+CMS ERROR")
UNSOLICITED = re.compile(r"^(RING|DATE|TIME|NMBR|NAME|DDN_NMBR|MESG|CALLER NUMBER|CALLER NAME)\b", re.I)

RESET_TIMEOUT = 3.0
COMMAND_TIMEOUT = 2.0
PROBE_TIMEOUT = 0.8      # "auto": a quick AT to tell a modem from a box that never answers


def _default_reset() -> str:
    from app.callerid.settings_keys import DEFAULT_RESET

    return DEFAULT_RESET


def _default_commands() -> list[str]:
    from app.callerid.settings_keys import DEFAULT_INIT_COMMANDS

    return list(DEFAULT_INIT_COMMANDS)


@dataclass
class Answer:
    command: str
    code: str                       # OK, ERROR, NO DIALTONE, … or TIMEOUT
    lines: list[str] = field(default_factory=list)   # information lines (ATI text), echo and noise removed

    @property
    def ok(self) -> bool:
        return self.code == OK

    @property
    def text(self) -> str:
        return "\n".join([*self.lines, self.code])


def _norm(cmd: str) -> str:
    return re.sub(r"\s+", "", cmd).upper()


def command(src: Source, cmd: str, timeout: float = COMMAND_TIMEOUT,
            cancel: Callable[[], bool] | None = None) -> Answer:
    """Send one AT command line and read its answer up to a final result code (or TIMEOUT)."""
    src.write(cmd.encode("ascii", errors="replace") + b"\r")
    deadline = time.monotonic() + timeout
    buf = b""
    lines: list[str] = []
    echo = _norm(cmd)
    while time.monotonic() < deadline:
        if cancel is not None and cancel():
            return Answer(cmd, TIMEOUT, lines)
        data = src.read(min(0.05, max(0.001, deadline - time.monotonic())))
        if not data:
            continue
        buf += data
        parts = re.split(rb"[\r\n]+", buf)
        buf = parts.pop()                      # the unterminated tail
        for raw in parts:
            line = raw.decode("ascii", errors="replace").strip()
            if not line:
                continue
            up = line.upper()
            if _norm(line) == echo:
                continue
            if any(up == c or up.startswith(c + " ") or up.startswith(c + ":") for c in FINAL_CODES):
                return Answer(cmd, "NO DIALTONE" if up == "NO DIAL TONE" else up.split(":")[0], lines)
            if UNSOLICITED.match(line):
                continue
            lines.append(line)
    return Answer(cmd, TIMEOUT, lines)


@dataclass
class InitResult:
    modem_found: bool                # the modem answered the reset / AT
    command: str | None              # the caller-ID command it accepted, or None
    tried: list[Answer]
    message: str                     # a Persian report for the settings page and the log

    @property
    def ok(self) -> bool:
        return self.command is not None

    @property
    def status_note(self) -> str:
        """A short note for the status bar (empty when all is well)."""
        if self.ok:
            return f"مودم: {self.command}"
        if not self.modem_found:
            return "مودمی به فرمان AT پاسخ نداد"
        return "هیچ فرمان فعال‌سازی شناسه تماس پذیرفته نشد"


def initialise(src: Source, commands: Sequence[str] | None = None, *, reset: str | None = None,
               require_modem: bool = True, cancel: Callable[[], bool] | None = None,
               timeout: float = COMMAND_TIMEOUT) -> InitResult:
    """Reset the modem, then try the caller-ID commands in turn until one answers OK.

    ``require_modem=False`` ("auto" device): first a quick AT; if nothing answers, the device is taken for
    a box that does not speak AT and nothing more is sent.
    """
    commands = list(commands) if commands else _default_commands()
    reset = reset or _default_reset()
    tried: list[Answer] = []
    if not require_modem:
        a = command(src, "AT", PROBE_TIMEOUT, cancel)
        tried.append(a)
        if a.code == TIMEOUT:
            return InitResult(False, None, tried, "به فرمان AT پاسخی نیامد؛ دستگاه، جعبه شناسه تماس (نه مودم) "
                                                  "فرض شد و فرمانی به آن فرستاده نمی‌شود.")
    a = command(src, reset, RESET_TIMEOUT, cancel)
    tried.append(a)
    if a.code == TIMEOUT:
        # Some modems need a bare ATZ first (the long NCID line is refused by a few): try once more.
        a = command(src, "ATZ", RESET_TIMEOUT, cancel)
        tried.append(a)
    if a.code == TIMEOUT:
        return InitResult(False, None, tried, "مودم به فرمان‌های AT پاسخ نداد؛ روشن بودن مودم، درگاه و سرعت "
                                              "(baud) را بررسی کنید.")
    for cmd in commands:
        if cancel is not None and cancel():
            break
        a = command(src, cmd, timeout, cancel)
        tried.append(a)
        logger.info("modem init %s → %s", cmd, a.code)
        if a.ok:
            return InitResult(True, cmd, tried, f"مودم آماده است؛ شناسه تماس با فرمان {cmd} فعال شد.")
    names = "، ".join(commands)
    return InitResult(True, None, tried, f"مودم پاسخ می‌دهد، اما هیچ‌یک از فرمان‌های فعال‌سازی شناسه تماس "
                                         f"({names}) را نپذیرفت؛ شاید این مودم شناسه تماس ندارد. "
                                         f"فرمان ویژه مودم خود را در تنظیمات بیفزایید.")
