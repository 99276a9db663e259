"""Caller-ID settings: which device, where it is plugged in, how it is initialised, how the popup behaves.

Everything about the hardware is per PC (desk scope): each receptionist's PC has its own port and box.
The labels of the lines are office-wide (every desk shows "خط فروش" for line 2).

Read them through the helpers below rather than bare keys.
"""
from __future__ import annotations

import logging
import re

from app import settings
from app.settings import DESK, OFFICE

logger = logging.getLogger(__name__)

ENABLED = "callerid.enabled"
DEVICE = "callerid.device"
PORT = "callerid.port"
BAUD = "callerid.baud"
INIT = "callerid.init"
INIT_COMMANDS = "callerid.init_commands"
NCID_ADDRESS = "callerid.ncid"
LINES = "callerid.lines"
LINE_LABELS = "callerid.line_labels"
POPUP_ON_HANGUP = "callerid.popup_on_hangup"
DIAL_RELEASE_AFTER = "callerid.dial_release_after"
# the office's telephone system (kind "ami": Asterisk / Issabel / FreePBX; "smdr": Panasonic call records)
PBX_ADDRESS = "callerid.pbx_address"
PBX_USER = "callerid.pbx_user"
PBX_SECRET = "callerid.pbx_secret"
PBX_AUTH = "callerid.pbx_auth"
PBX_TECH = "callerid.pbx_tech"
PBX_CONTEXT = "callerid.pbx_context"
PBX_EXTENSION = "callerid.pbx_extension"
PBX_EXTENSIONS = "callerid.pbx_extensions"
SMDR_LINK = "callerid.smdr_link"

DEVICE_KINDS = ("auto", "modem", "ncid", "segal", "yasna", "techno", "ami", "smdr")
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
PBX_AUTH_CHOICES = ("md5", "plain")
PBX_TECH_CHOICES = ("PJSIP", "SIP", "IAX2", "Local")
SMDR_LINK_CHOICES = ("tcp", "serial")
BAUD_RATES = (57600, 19200, 9600, 115200, 38400, 4800, 2400, 1200)
POPUP_HANGUP_CHOICES = ("close", "dim", "keep")
POPUP_HANGUP_LABELS = {"close": "بسته شود", "dim": "کم‌رنگ شود", "keep": "بماند"}

# The caller-ID commands of the common chipsets, tried in turn (NCID's table, see
# shared/reference/callerid-formats.md). Stored as one string, commands separated by "|" or new lines,
# because the commands themselves contain ";" and ",".
DEFAULT_INIT_COMMANDS = (
    "AT+VCID=1",            # IS-101: Conexant/Rockwell HCF, Lucent, Cirrus
    "AT#CID=1",             # USR, TI, Rockwell, Hayes, PCTel
    "AT%CCID=1",            # Practical Peripherals
    "AT*ID1",               # some Motorola
    "AT#CC1",               # older Aspen/Cirrus/Motorola
    "AT+FCLASS=8;+VCID=1",  # voice class first, for modems that accept +VCID only there
    "AT#CLS=8#CID=1",
    "AT$JSCID=4,1",
)
DEFAULT_RESET = "AT Z S0=0 E1 V1 Q0"   # NCID's default: reset, never auto-answer, echo, verbose, results on

settings.declare(ENABLED, bool, True, "نمایش شناسه تماس", scope=DESK)
settings.declare(DEVICE, str, "auto", "نوع دستگاه شناسه تماس", scope=DESK, choices=DEVICE_KINDS)
settings.declare(PORT, str, "", "درگاه سریال (مانند COM3 یا /dev/ttyACM0)", scope=DESK)
settings.declare(BAUD, int, 57600, "سرعت درگاه (baud)", scope=DESK, choices=BAUD_RATES)
settings.declare(INIT, bool, True, "راه‌اندازی مودم با فرمان‌های AT هنگام اتصال", scope=DESK)
settings.declare(INIT_COMMANDS, str, "|".join(DEFAULT_INIT_COMMANDS),
                 "فرمان‌های فعال‌کردن شناسه تماس (به ترتیب امتحان می‌شوند، با | جدا کنید)", scope=DESK)
settings.declare(NCID_ADDRESS, str, "127.0.0.1:3333", "نشانی سرور NCID (میزبان:درگاه)", scope=DESK)
settings.declare(LINES, int, 1, "تعداد خطوط تلفن دستگاه", scope=DESK)
settings.declare(LINE_LABELS, str, "", "نام هر خط (با | جدا کنید، مانند «خط فروش|خط پشتیبانی»)", scope=OFFICE)
settings.declare(POPUP_ON_HANGUP, str, "dim", "پنجره تماس پس از قطع تماس", scope=DESK,
                 choices=POPUP_HANGUP_CHOICES)
settings.declare(DIAL_RELEASE_AFTER, float, 8.0,
                 "آزاد کردن خط مودم پس از شماره‌گیری (ثانیه، اگر زودتر گوشی برداشته نشد)", scope=DESK)
settings.declare(PBX_ADDRESS, str, "", "نشانی مرکز تلفن (میزبان:درگاه، مانند 192.168.1.10:5038)", scope=DESK)
settings.declare(PBX_USER, str, "", "نام کاربری مرکز تلفن (کاربر AMI در manager.conf، یا SMDR)", scope=DESK)
settings.declare(PBX_SECRET, str, "", "رمز مرکز تلفن", scope=DESK)
settings.declare(PBX_AUTH, str, "md5", "روش ورود AMI", scope=DESK, choices=PBX_AUTH_CHOICES)
settings.declare(PBX_TECH, str, "PJSIP", "فناوری داخلی‌ها برای شماره‌گیری (PJSIP یا SIP)", scope=DESK,
                 choices=PBX_TECH_CHOICES)
settings.declare(PBX_CONTEXT, str, "from-internal", "context شماره‌گیری بیرونی در مرکز تلفن", scope=DESK)
settings.declare(PBX_EXTENSION, str, "", "داخلی تلفن این میز (برای شماره‌گیری با کلیک)", scope=DESK)
settings.declare(PBX_EXTENSIONS, str, "", "داخلی‌ها و کاربران (مانند «101=علی رضایی|102=مریم احمدی»)", scope=OFFICE)
settings.declare(SMDR_LINK, str, "tcp", "اتصال به گزارش SMDR: شبکه یا درگاه سریال", scope=DESK,
                 choices=SMDR_LINK_CHOICES)


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
                        field=NCID_ADDRESS)
    port = int(m[2]) if m[2] else default_port
    if not 0 < port < 65536:
        raise UserError(f"شماره درگاه {port} درست نیست.", field=NCID_ADDRESS)
    return m[1], port


def pbx_default_port(kind: str) -> int:
    return DEFAULT_SMDR_PORT if kind == "smdr" else DEFAULT_AMI_PORT


def parse_pbx_address(text: str, kind: str = "ami") -> tuple[str, int]:
    """The PBX's 'host[:port]' (the port defaults to 5038 for AMI, 2300 for SMDR). Raises UserError."""
    from app.core.errors import UserError

    if not (text or "").strip():
        raise UserError("نشانی مرکز تلفن نوشته نشده است؛ در تنظیمات شناسه تماس، نشانی IP مرکز تلفن را بنویسید "
                        "(مانند 192.168.1.10).", field=PBX_ADDRESS)
    try:
        return parse_host_port(text, pbx_default_port(kind))
    except UserError as e:
        raise UserError(e.message.replace("سرور NCID", "مرکز تلفن"), field=PBX_ADDRESS) from None


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
