"""Talking AT to a voice modem: initialisation for caller ID, the "test this port" probe, click-to-call.

Every function takes either an open ``SerialSource`` (the listener's, so the port is not fought over) or
a port name, which it opens and closes itself. Answers are read line by line until a final result code
(OK, ERROR, NO DIALTONE, BUSY, NO CARRIER, NO ANSWER, CONNECT…); the modem's echo of the command and
unsolicited lines (RING, caller-ID lines) are skipped. A port that cannot be opened raises the Persian
``SourceUnavailable`` (a UserError) from app.callerid.sources.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.callerid.at import (  # noqa: F401 - the AT layer's names, used through modem.* too
    COMMAND_TIMEOUT,
    ERROR,
    FINAL_CODES,
    OK,
    PROBE_TIMEOUT,
    RESET_TIMEOUT,
    TIMEOUT,
    UNSOLICITED,
    Answer,
    InitResult,
    _default_commands,
    _default_reset,
    _norm,
    command,
    initialise,
)
from app.callerid.sources import DEFAULT_BAUD, SerialSource, Source, SourceLost
from app.core.errors import UserError

logger = logging.getLogger(__name__)

# --- helpers that open the port themselves -------------------------------------------------------------
class _Borrowed:
    """Use an open source as is, or open a port for the duration of a with-block."""

    def __init__(self, port_or_source: str | Source, baud: int):
        if isinstance(port_or_source, Source):
            self.src, self.owned = port_or_source, False
        else:
            self.src, self.owned = SerialSource(port_or_source, baud), True

    def __enter__(self) -> Source:
        if self.owned:
            self.src.open()
        return self.src

    def __exit__(self, *exc) -> None:
        if self.owned:
            self.src.close()


def init_port(port: str | Source, baud: int = DEFAULT_BAUD, commands: Sequence[str] | None = None,
              reset: str | None = None) -> InitResult:
    with _Borrowed(port, baud) as src:
        try:
            return initialise(src, commands, reset=reset)
        except SourceLost:
            raise UserError("ارتباط با مودم هنگام راه‌اندازی قطع شد.") from None


def probe(port: str | Source, baud: int = DEFAULT_BAUD, timeout: float = COMMAND_TIMEOUT) -> str:
    """AT and ATI: the modem's own words, for the settings page's "test this port" button.

    Returns the answers as text; raises UserError (Persian) when the port cannot be opened or nothing
    answers.
    """
    with _Borrowed(port, baud) as src:
        try:
            at = command(src, "AT", timeout)
            if at.code == TIMEOUT:
                raise UserError("روی این درگاه، مودمی به فرمان AT پاسخ نداد. اگر دستگاه شما جعبه شناسه تماس "
                                "چندخطی است این طبیعی است؛ در غیر این صورت روشن بودن مودم و سرعت درگاه را بررسی کنید.")
            ati = command(src, "ATI", timeout)
        except SourceLost:
            raise UserError("ارتباط با درگاه هنگام آزمایش قطع شد.") from None
    out = [f"AT → {at.text}"]
    out.append("ATI → " + (ati.text if ati.lines or ati.code != TIMEOUT else "(بی‌پاسخ)"))
    return "\n".join(out)


# --- click to call -------------------------------------------------------------------------------------
@dataclass
class DialResult:
    number: str                  # what was dialled
    released: str                # "handset" (the user said they picked up / the modem saw it) or "timeout"
    message: str                 # Persian, for a status line


DIAL_ERRORS = {
    "NO DIALTONE": "بوق آزاد شنیده نشد؛ سیم تلفن مودم وصل نیست یا خط در حال استفاده است.",
    "BUSY": "شماره مقصد اشغال است.",
    "NO ANSWER": "کسی پاسخ نداد.",
    ERROR: "این مودم شماره‌گیری را نپذیرفت (ERROR)؛ با این دستگاه شماره‌گیری از رایانه ممکن نیست.",
    TIMEOUT: "مودم به فرمان شماره‌گیری پاسخ نداد.",
}


def dialable(number: str, area_code: str | None = None) -> str:
    """The digits a modem should dial for a stored or reported number: +98/0098 folded to 0, and a landline
    in the office's own city dialled without its area code. Raises UserError when nothing dialable is left."""
    from app.core import phones
    from app.core.text import to_ascii_digits

    area = area_code
    if area is None:
        try:
            from app import settings

            area = settings.area_code()
        except Exception:  # noqa: BLE001 - no database: fall back to the default
            area = phones.DEFAULT_AREA_CODE
    raw = (number or "").strip()
    digits = re.sub(r"[^0-9+*#,]", "", to_ascii_digits(raw))
    try:
        p = phones.normalize(raw, area)
    except Exception:  # noqa: BLE001
        p = None
    if p is not None and p.valid and p.kind in (phones.MOBILE, phones.LANDLINE):
        digits = p.canonical
        if p.kind == phones.LANDLINE and area and digits.startswith(area) and len(digits) > len(area):
            digits = digits[len(area):]
    elif digits.startswith("+"):
        digits = "00" + digits[1:]
    if not re.search(r"\d", digits):
        raise UserError(f"«{number}» شماره قابل گرفتن نیست.")
    return digits


def dial(port: str | Source, number: str, *, baud: int = DEFAULT_BAUD, release_after: float = 8.0,
         picked_up: threading.Event | None = None, cancel: Callable[[], bool] | None = None,
         area_code: str | None = None, dial_timeout: float = 30.0) -> DialResult:
    """Dial ``number`` (voice: ATDT…; so the modem stays in command mode), then hang the modem up (ATH) once
    the handset is picked up — ``picked_up`` set by the UI's «گوشی را برداشتم» button, or an answer from the
    modem — or after ``release_after`` seconds. Raises UserError with a Persian message when the modem
    refuses (ERROR), hears no dial tone, the line is busy, or no modem answers."""
    digits = dialable(number, area_code)
    with _Borrowed(port, baud) as src:
        try:
            at = command(src, "AT", COMMAND_TIMEOUT, cancel)
            if at.code == TIMEOUT:
                raise UserError("روی درگاه شناسه تماس مودمی پاسخ نداد؛ شماره‌گیری با این دستگاه ممکن نیست.")
            a = command(src, f"ATDT{digits};", dial_timeout, cancel)
            if not a.ok:
                command(src, "ATH", COMMAND_TIMEOUT)
                raise UserError(DIAL_ERRORS.get(a.code, f"شماره‌گیری انجام نشد ({a.code})."))
            released = _wait_release(src, release_after, picked_up, cancel)
            command(src, "ATH", COMMAND_TIMEOUT)
        except SourceLost:
            raise UserError("ارتباط با مودم هنگام شماره‌گیری قطع شد.") from None
    from app.core.text import to_persian_digits

    return DialResult(digits, released, f"شماره {to_persian_digits(digits)} گرفته شد؛ گوشی را بردارید.")


def _wait_release(src: Source, seconds: float, picked_up: threading.Event | None,
                  cancel: Callable[[], bool] | None) -> str:
    deadline = time.monotonic() + max(0.0, seconds)
    buf = b""
    while time.monotonic() < deadline:
        if picked_up is not None and picked_up.is_set():
            return "handset"
        if cancel is not None and cancel():
            return "timeout"
        data = src.read(0.05)
        if data:
            buf = (buf + data)[-256:]
            # Some modems report the extension picked up (line current drop) as NO CARRIER / OK.
            if re.search(rb"NO CARRIER|\bOK\b", buf):
                return "handset"
    return "timeout"
