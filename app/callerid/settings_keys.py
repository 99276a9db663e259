"""Caller-ID settings: which device, where it is plugged in, how it is initialised, how the popup behaves.

Everything about the hardware is per PC (desk scope): each receptionist's PC has its own port and box.
The labels of the lines are office-wide (every desk shows "خط فروش" for line 2).

The options are declared in app/options.py; read them through the names and helpers below rather than bare keys.
"""
from __future__ import annotations

import logging
import re

from app import options, settings

logger = logging.getLogger(__name__)

# The options themselves are declared in app/options.py; these names stay as aliases so callers keep working.
ENABLED = options.CALLERID_ENABLED
DEVICE = options.CALLERID_DEVICE
PORT = options.CALLERID_PORT
BAUD = options.CALLERID_BAUD
INIT = options.CALLERID_INIT
INIT_COMMANDS = options.CALLERID_INIT_COMMANDS
NCID_ADDRESS = options.CALLERID_NCID_ADDRESS
LINES = options.CALLERID_LINES
LINE_LABELS = options.CALLERID_LINE_LABELS
POPUP_ON_HANGUP = options.CALLERID_POPUP_ON_HANGUP
DIAL_RELEASE_AFTER = options.CALLERID_DIAL_RELEASE_AFTER
# the office's telephone system (kind "ami": Asterisk / Issabel / FreePBX; "smdr": Panasonic call records)
PBX_ADDRESS = options.CALLERID_PBX_ADDRESS
PBX_USER = options.CALLERID_PBX_USER
PBX_SECRET = options.CALLERID_PBX_SECRET
PBX_AUTH = options.CALLERID_PBX_AUTH
PBX_TECH = options.CALLERID_PBX_TECH
PBX_CONTEXT = options.CALLERID_PBX_CONTEXT
PBX_EXTENSION = options.CALLERID_PBX_EXTENSION
PBX_EXTENSIONS = options.CALLERID_PBX_EXTENSIONS
SMDR_LINK = options.CALLERID_SMDR_LINK

DEVICE_KINDS = options.CALLERID_DEVICE_KINDS
PBX_KINDS = ("ami", "smdr")
DEVICE_LABELS = {
    "auto": "تشخیص خودکار",
    "modem": "مودم صوتی (Voice Modem)",
    "ncid": "سرور NCID در شبکه",
    "segal": "دستگاه چندخطی اوج سگال / دانژه",
    "yasna": "دستگاه چندخطی یاسنا سیستم / کاسپین",
    "techno": "دستگاه چندخطی تکنو",
    "ami": "مرکز تلفن Asterisk / Issabel (AMI)",
    "smdr": "مرکز تلفن پاناسونیک (گزارش SMDR)",
}
DEFAULT_AMI_PORT = 5038
DEFAULT_SMDR_PORT = 2300
DEFAULT_SMDR_USER = "SMDR"
DEFAULT_SMDR_PASSWORD = "PCCSMDR"        # the factory password third-party SMDR clients use (reference B4)
PBX_AUTH_CHOICES = options.CALLERID_PBX_AUTH_CHOICES
PBX_TECH_CHOICES = options.CALLERID_PBX_TECH_CHOICES
SMDR_LINK_CHOICES = options.CALLERID_SMDR_LINK_CHOICES
BAUD_RATES = options.CALLERID_BAUD_RATES
POPUP_HANGUP_CHOICES = options.CALLERID_POPUP_HANGUP_CHOICES
POPUP_HANGUP_LABELS = {"close": "بسته شود", "dim": "کم‌رنگ شود", "keep": "بماند"}

DEFAULT_INIT_COMMANDS = options.CALLERID_DEFAULT_INIT_COMMANDS
DEFAULT_RESET = "AT Z S0=0 E1 V1 Q0"   # NCID's default: reset, never auto-answer, echo, verbose, results on


def split_commands(text: str) -> list[str]:
    """'AT+VCID=1|AT#CID=1' (or one per line) → ['AT+VCID=1', 'AT#CID=1']; blanks dropped."""
    return [c.strip() for c in re.split(r"[|\n\r]+", text or "") if c.strip()]


def init_commands() -> list[str]:
    cmds = split_commands(settings.get(INIT_COMMANDS))
    return cmds or list(DEFAULT_INIT_COMMANDS)


def parse_host_port(text: str, default_port: int = 3333) -> tuple[str, int]:
    """'192.168.1.5:3333' / 'ncid.local' / '[::1]:3333' → (host, port). Raises UserError on nonsense."""
    from app.core.errors import UserError

    t = (text or "").strip()
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", t) or re.fullmatch(r"([^:\s]+)(?::(\d+))?", t)
    if not m:
        raise UserError(f"نشانی سرور NCID «{t}» درست نیست؛ به شکل میزبان:درگاه بنویسید، مانند 192.168.1.5:3333.",
                        field=NCID_ADDRESS.key)
    port = int(m[2]) if m[2] else default_port
    if not 0 < port < 65536:
        raise UserError(f"شماره درگاه {port} درست نیست.", field=NCID_ADDRESS.key)
    return m[1], port


def pbx_default_port(kind: str) -> int:
    return DEFAULT_SMDR_PORT if kind == "smdr" else DEFAULT_AMI_PORT


def parse_pbx_address(text: str, kind: str = "ami") -> tuple[str, int]:
    """The PBX's 'host[:port]' (the port defaults to 5038 for AMI, 2300 for SMDR). Raises UserError."""
    from app.core.errors import UserError

    if not (text or "").strip():
        raise UserError("نشانی مرکز تلفن نوشته نشده است؛ در تنظیمات شناسه تماس، نشانی IP مرکز تلفن را بنویسید "
                        "(مانند 192.168.1.10).", field=PBX_ADDRESS.key)
    try:
        return parse_host_port(text, pbx_default_port(kind))
    except UserError as e:
        raise UserError(e.message.replace("سرور NCID", "مرکز تلفن"), field=PBX_ADDRESS.key) from None


def parse_extension_map(text: str) -> dict[str, str]:
    """'101=علی رضایی|102=مریم' (or one per line, or ':' instead of '=') → {'101': 'علی رضایی', '102': 'مریم'}."""
    from app.core.text import to_ascii_digits

    out: dict[str, str] = {}
    for part in re.split(r"[|\n\r،,]+", text or ""):
        if not part.strip():
            continue
        m = re.match(r"^\s*([0-9۰-۹٠-٩*#]+)\s*[=:]\s*(.*?)\s*$", part)
        if m:
            out[to_ascii_digits(m[1])] = m[2]
    return out


def extension_map() -> dict[str, str]:
    return parse_extension_map(settings.get(PBX_EXTENSIONS))


def user_for_extension(ext: str | None) -> str:
    """The person at an extension (from the office's extension map), '' when unknown."""
    if not ext:
        return ""
    return extension_map().get(str(ext).strip(), "")


def line_labels() -> dict[int, str]:
    """{1: 'خط فروش', 2: 'خط پشتیبانی'} from the office setting; lines without a label are absent."""
    parts = [p.strip() for p in str(settings.get(LINE_LABELS) or "").split("|")]
    return {i + 1: p for i, p in enumerate(parts) if p}


def line_label(line: int | None) -> str:
    """The label to show for a line: its name when set, else «خط ۲»; '' for single-line devices (None)."""
    if line is None:
        return ""
    label = line_labels().get(line)
    if label:
        return label
    from app.core.text import to_persian_digits

    return f"خط {to_persian_digits(str(line))}"
