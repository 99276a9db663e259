"""Which caller-ID device speaks at a network address or on a serial port («جستجوی خودکار» in the settings).

A network address is asked what it is by what it says first, before anything is sent to it:

- an Asterisk / Issabel / FreePBX manager port greets with its banner ``Asterisk Call Manager/x.y`` → "ami";
- a Panasonic PBX's LAN SMDR port asks for its login (``-`` or ``Login:``, then ``Enter Password:``), or, when it
  needs none, prints its column header and records → "smdr";
- an NCID server greets with ``200 … NCID …`` → "ncid".

Without a port, the usual ones are tried in turn (AMI 5038, SMDR 2300, NCID 3333). A serial port is listened
to for a few seconds and what arrives goes through the same recognisers as the "auto" decoder
(decoders/detect.py: the boxes, the modem, SMDR records); a port that stays silent is asked ``AT`` (a modem
answers). A Panasonic PBX prints a record only when a call ends, so a silent serial port is not a failure: the
"auto" setting recognises the first record when it comes.

    found = search_network("192.168.1.10")      # Found(kind="ami", where="192.168.1.10:5038", message=…)
    found = search_serial("/dev/ttyUSB0", 9600)
"""
from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.callerid.decoders.ami import BANNER_PREFIX
from app.callerid.decoders.detect import Detector, detect
from app.callerid.sources import POLL_SECONDS, Source, SourceLost
from app.core.errors import UserError
from app.core.text import to_persian_digits

logger = logging.getLogger(__name__)

NETWORK_PORTS = (5038, 2300, 3333)          # AMI, Panasonic LAN SMDR, NCID
GREETING_WAIT = 2.0                          # seconds to wait for what a network device says first
SERIAL_LISTEN = 3.0
CONNECT_TIMEOUT = 1.5
_NCID_GREETING = re.compile(r"^200 .*(?:NCID|ncidd|Server)", re.IGNORECASE)
_SMDR_PROMPT = re.compile(r"^(?:-|login:?|user ?name:?|enter password:?|password:?)$", re.IGNORECASE)

KIND_NAMES = {
    "ami": "مرکز تلفن Asterisk / Issabel (AMI)",
    "smdr": "گزارش SMDR مرکز تلفن پاناسونیک",
    "ncid": "سرور NCID",
    "modem": "مودم صوتی",
    "segal": "دستگاه چندخطی اوج سگال / دانژه",
    "yasna": "دستگاه چندخطی یاسنا / کاسپین",
    "techno": "دستگاه چندخطی تکنو",
}


@dataclass(frozen=True)
class Found:
    kind: str            # a device kind of the settings (ami, smdr, ncid, modem, segal…); "" when none recognised
    where: str           # host:port, or the serial port
    message: str         # Persian, for the settings page
    greeting: str = ""   # the first words the device said (the AMI banner…)


def recognise(data: bytes, final: bool = False) -> str | None:
    """The kind of device these first bytes come from, or None while unsure."""
    text = data.decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    if lines and lines[0].startswith(BANNER_PREFIX):
        return "ami"
    if lines and _NCID_GREETING.match(lines[0]):
        return "ncid"
    name = Detector().scan(data) or (detect(data, final=True) if final else None)
    if name:
        return "modem" if name == "raw" else name
    if lines and _SMDR_PROMPT.match(lines[-1]):
        return "smdr"                   # the LAN SMDR login: «-» / «Login:», then «Enter Password:»
    return None


def probe_tcp(host: str, port: int, wait: float = GREETING_WAIT,
              connect_timeout: float = CONNECT_TIMEOUT) -> tuple[str | None, str]:
    """(kind or None, the first line it said) of what listens at host:port. Raises OSError when nothing
    listens there."""
    with socket.create_connection((host, port), timeout=connect_timeout) as sock:
        data = b""
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(min(left, 0.3))
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                break                                     # it closed the connection
            if chunk:
                data += chunk
                kind = recognise(data)
                if kind:
                    return kind, _first_line(data)
        return recognise(data, final=True), _first_line(data)


def _first_line(data: bytes) -> str:
    for ln in data.decode("utf-8", errors="replace").splitlines():
        if ln.strip():
            return ln.strip()[:80]
    return ""


def _address(text: str) -> tuple[str, int | None]:
    """'192.168.1.10' → (host, None); '192.168.1.10:5038' / '[::1]:5038' → (host, 5038). Raises UserError."""
    from app.core.text import to_ascii_digits

    t = to_ascii_digits((text or "").strip())
    if not t:
        raise UserError("نشانی دستگاه در شبکه را بنویسید (مانند 192.168.1.10)؛ درگاه را اگر نمی‌دانید ننویسید.")
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", t) or re.fullmatch(r"([^:\s]+)(?::(\d+))?", t)
    if not m:
        raise UserError(f"نشانی «{t}» درست نیست؛ مانند 192.168.1.10 یا 192.168.1.10:5038 بنویسید.")
    port = int(m[2]) if m[2] else None
    if port is not None and not 0 < port < 65536:
        raise UserError(f"شماره درگاه {to_persian_digits(port)} درست نیست.")
    return m[1], port


def search_network(text: str, ports: tuple[int, ...] = NETWORK_PORTS, wait: float = GREETING_WAIT) -> Found:
    """Find which device answers at ``host[:port]`` (without a port, the usual ports in turn)."""
    host, port = _address(text)
    tried = [port] if port else list(ports)
    silent = []
    for p in tried:
        try:
            kind, greeting = probe_tcp(host, p, wait)
        except OSError as e:
            logger.info("auto search: nothing at %s:%s (%s)", host, p, e)
            continue
        where = f"{host}:{p}"
        if kind:
            return Found(kind, where, _found_text(kind, where, greeting), greeting)
        silent.append(p)
    ports_fa = "، ".join(to_persian_digits(p) for p in tried)
    if silent:
        return Found("", host, f"دستگاهی در {host} (درگاه {ports_fa}) پاسخ داد ولی شناخته نشد؛ نوع دستگاه را خودتان "
                               "انتخاب کنید.")
    return Found("", host, f"در {host} هیچ مرکز تلفن یا سرور شناسه تماسی پاسخ نداد (درگاه {ports_fa} امتحان شد)؛ "
                           "نشانی، کابل شبکه و روشن بودن دستگاه را بررسی کنید.")


def _found_text(kind: str, where: str, greeting: str = "") -> str:
    what = KIND_NAMES.get(kind, kind)
    text = f"{what} در {where} پیدا شد."
    if kind == "ami":
        text += " نام کاربری و رمز AMI را بنویسید و «آزمایش اتصال» را بزنید."
    elif kind == "smdr":
        text += " مرکز تلفن هر تماس را پس از پایانش گزارش می‌دهد."
    return text


def search_serial(port: str, baud: int = 9600, listen: float = SERIAL_LISTEN) -> Found:
    """Listen to a serial port for a while and recognise what speaks; a silent port is asked AT (a modem).
    Raises UserError (Persian) when the port cannot be opened."""
    from app.callerid.sources import SerialSource, SourceUnavailable

    if not (port or "").strip():
        raise UserError("ابتدا درگاه را انتخاب کنید یا بنویسید.")
    src = SerialSource(port, baud, fmt="auto", init=None)
    data = b""
    try:
        src.open()
        deadline = time.monotonic() + listen
        while (left := deadline - time.monotonic()) > 0:
            data += src.read(min(left, 0.2))
            if recognise(data):
                break
    except SourceUnavailable as e:
        raise UserError(e.message) from None
    except SourceLost:
        raise UserError("ارتباط با درگاه هنگام جستجو قطع شد.") from None
    finally:
        src.close()
    kind = recognise(data, final=True)
    if kind:
        return Found(kind, port, _found_text(kind, port), _first_line(data))
    if not data.strip():
        from app.callerid import modem

        try:
            modem.probe(port, baud)
        except UserError:
            pass
        else:
            return Found("modem", port, _found_text("modem", port))
    secs = to_persian_digits(int(listen))
    return Found("", port, f"در {secs} ثانیه چیزی از درگاه {port} شناخته نشد. جعبه‌های شناسه تماس و مرکز تلفن "
                           "پاناسونیک فقط هنگام تماس چیزی می‌فرستند: «تشخیص خودکار» را نگه دارید تا با نخستین تماس "
                           "شناخته شود.")


# --- the "auto" device on a network address --------------------------------------------------------------
_NETWORK = re.compile(r"(?:tcp://)?(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9][\w.\-]*\.[\w.\-]+)"
                      r"(?::\d{1,5})?|(?:tcp://)?[A-Za-z0-9][\w.\-]*:\d{1,5}")


def is_network_address(text: str) -> bool:
    """«192.168.1.10», «pbx.local:5038», «tcp://host:2300»: a network address typed where a serial port goes
    (COM3, /dev/ttyUSB0 and the like are not)."""
    from app.core.text import to_ascii_digits

    t = to_ascii_digits((text or "").strip())
    return bool(t) and not t.startswith("/") and not re.fullmatch(r"(?i)com\d+", t) and bool(_NETWORK.fullmatch(t))


class AutoNetworkSource(Source):
    """The "auto" device on a network address: what answers there is recognised when the link opens (an
    Asterisk manager port, a Panasonic LAN SMDR port, an NCID server) and the matching source does the rest
    (login with the desk's telephone-system user and secret). ``detected_format`` tells the pump which decoder
    to use. Built by configured.source_from_settings."""

    kind = "auto"
    default_format = "auto"
    can_dial = False

    def __init__(self, address: str, user: str = "", secret: str = "", auth: str = "md5",
                 ports: tuple[int, ...] = NETWORK_PORTS):
        from app.core.text import to_ascii_digits

        self.address = re.sub(r"^tcp://", "", to_ascii_digits(address.strip()))
        self.user, self.secret, self.auth = user, secret, auth
        self.ports = ports
        self.delegate: Source | None = None
        self.detected_format = ""

    @property
    def description(self) -> str:
        if self.delegate is not None:
            return self.delegate.description
        return f"دستگاه شبکه {self.address}"

    @property
    def is_open(self) -> bool:
        return self.delegate is not None and self.delegate.is_open

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        from app.callerid import settings_keys as sk
        from app.callerid.sources import NO_DEVICE, NcidSource, SourceUnavailable

        if self.is_open:
            return ""
        try:
            found = search_network(self.address, self.ports)
        except UserError as e:
            raise SourceUnavailable(e.message, state=NO_DEVICE) from None
        if not found.kind:
            raise SourceUnavailable(found.message, state=NO_DEVICE)
        host, _, port_text = found.where.rpartition(":")
        host, port = host.strip("[]"), int(port_text)
        src: Source
        if found.kind == "ami":
            from app.callerid.ami import AmiSource

            src = AmiSource(host, port, self.user, self.secret, self.auth)
        elif found.kind == "smdr":
            from app.callerid.smdr import SmdrTcpSource

            src = SmdrTcpSource(host, port, self.user or sk.DEFAULT_SMDR_USER,
                                self.secret or sk.DEFAULT_SMDR_PASSWORD)
        elif found.kind == "ncid":
            src = NcidSource(host, port)
        else:
            raise SourceUnavailable(found.message, state=NO_DEVICE)
        note = src.open(cancel)
        self.delegate, self.detected_format = src, src.default_format
        logger.info("auto: %s recognised at %s", found.kind, found.where)
        return note or KIND_NAMES.get(found.kind, found.kind)

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        if self.delegate is None:
            raise SourceLost("not connected")
        return self.delegate.read(timeout)

    def write(self, data: bytes) -> None:
        if self.delegate is None:
            raise SourceLost("not connected")
        self.delegate.write(data)

    def close(self) -> None:
        src, self.delegate = self.delegate, None
        if src is not None:
            src.close()
