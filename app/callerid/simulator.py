"""A simulated caller-ID device on a pseudo-terminal or a TCP port: a voice modem or a multi-line box.

`crm callerid simulate` opens a pty, prints the path of its far end (the "port" the CRM opens, optionally
behind a stable symlink such as /tmp/crm-modem), or with ``--tcp`` listens on 127.0.0.1 and prints its
``socket://127.0.0.1:PORT`` address (the way to try caller ID without hardware on Windows, which has no ptys),
answers AT commands like a modem of the chosen chipset,
and rings with chosen numbers in the byte format of the chosen device. Tests and the bench drive the
``Simulator`` class directly; the byte formats are the small pure functions at the top of this module.

Devices and what they can report (what the real ones do):
- modem: RING lines, and between the first and second RING (or before the first, ``cid_position``) the
  caller-ID block — formatted (DATE/TIME/NMBR/NAME) after AT+VCID=1 / AT#CID=1 …, or the SDMF/MDMF message
  as hex after AT+VCID=2 / AT#CID=2. Nothing about answering, hanging up or dialling.
- segal (Oj Segal / Danjeh): ``L1C<number>@``, ``L1R01@``, ``L1HF@``, ``L1D9@``, ``L1HND:<dialled> T<mmss>@``.
- yasna (Yasna System / Caspian): ``L1 Ringing CallerID:<n> RingsCount:1 ``, ``L1 HookOff ``,
  ``L1 HookOn Duration:35 `` (fields end with a space, records with CR LF).
- techno: ``D1:L1:CallerID=<n>.``, ``D1:L1:Ring=1.``, ``D1:L1:Answer.``, ``D1:L1:HangDown,Time=35.``,
  ``D1:L1:MissCall,Ring=3.``, ``D1:L1:HangUp.`` (handset lifted), ``D1:L1:Dial=9.``.

Script / interactive commands (one per line, or ``;``-separated in ``--script``):
    ring <line> <number> [name…]   answer <line>   hangup <line> [seconds]   miss <line>
    dial <line> <number>           wait <seconds>  raw <text with \\r \\n escapes>   status   quit
On a modem the line may be left out (``ring 09121234567``).
"""
from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import os
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

CRLF = b"\r\n"
DEVICES = ("modem", "segal", "yasna", "techno")


# =========================================================================================================
# Pure protocol writers: bytes exactly as each device sends them.
# =========================================================================================================
def _when(when: dt.datetime | None) -> dt.datetime:
    if when is not None:
        return when
    from app.core import clock

    return clock.now()


def _ascii(text: str) -> bytes:
    return text.encode("ascii", errors="replace")


# --- voice modem ---------------------------------------------------------------------------------------
def modem_ring(eol: bytes = CRLF) -> bytes:
    return eol + b"RING" + eol


def modem_cid(number: str, name: str | None = None, when: dt.datetime | None = None, *,
              eol: bytes = CRLF, mesg: str | None = None) -> bytes:
    """The formatted caller-ID block: DATE = MMDD, TIME = HHMM, NMBR = …, [NAME = …], [MESG = …]."""
    w = _when(when)
    lines = [f"DATE = {w:%m%d}", f"TIME = {w:%H%M}", f"NMBR = {number}"]
    if name is not None:
        lines.append(f"NAME = {name}")
    if mesg is not None:
        lines.append(f"MESG = {mesg}")
    body = eol.join(ln.encode("utf-8") for ln in lines)
    return eol + body + eol


def _checksummed(body: bytes) -> bytes:
    return body + bytes([(-sum(body)) % 256])


def sdmf_message(number: str, when: dt.datetime | None = None) -> bytes:
    """SDMF (type 0x04): MMDDHHMM + number (or P / O), with its checksum byte."""
    payload = _ascii(f"{_when(when):%m%d%H%M}{number}")
    return _checksummed(bytes([0x04, len(payload)]) + payload)


def mdmf_message(number: str, name: str | None = None, when: dt.datetime | None = None) -> bytes:
    """MDMF (type 0x80): date/time (0x01), number (0x02) or reason absent (0x04: P/O), name (0x07)."""
    params = [(0x01, _ascii(f"{_when(when):%m%d%H%M}"))]
    if number in ("P", "O"):
        params.append((0x04, _ascii(number)))
    else:
        params.append((0x02, _ascii(number)))
    if name:
        params.append((0x07, name.encode("utf-8")[:80]))
    body = b"".join(bytes([t, len(v)]) + v for t, v in params)
    return _checksummed(bytes([0x80, len(body)]) + body)


def hex_line(message: bytes, eol: bytes = CRLF) -> bytes:
    """How a modem in unformatted mode (AT+VCID=2) prints a message: its bytes as hex on one line."""
    return eol + message.hex().upper().encode("ascii") + eol


# --- Oj Segal / Danjeh ---------------------------------------------------------------------------------
def segal_caller(line: int, number: str) -> bytes:
    return _ascii(f"L{line}C{number}@") + CRLF


def segal_ring(line: int, count: int) -> bytes:
    return _ascii(f"L{line}R{count:02d}@") + CRLF


def segal_lift(line: int) -> bytes:
    return _ascii(f"L{line}HF@") + CRLF


def segal_digit(line: int, digit: str) -> bytes:
    return _ascii(f"L{line}D{digit}@") + CRLF


def segal_down(line: int, seconds: int, dialled: str = "") -> bytes:
    """Handset down: the number dialled (empty on an incoming call) and the duration as MMSS."""
    m, s = divmod(max(0, int(seconds)), 60)
    return _ascii(f"L{line}HND:{dialled} T{min(m, 99):02d}{s:02d}@") + CRLF


# --- Yasna System / Caspian ----------------------------------------------------------------------------
def yasna_ring(line: int, number: str | None, count: int) -> bytes:
    caller = f"CallerID:{number} " if number is not None else ""
    return _ascii(f"L{line} Ringing {caller}RingsCount:{count} ") + CRLF


def yasna_lift(line: int) -> bytes:
    return _ascii(f"L{line} HookOff ") + CRLF


def yasna_down(line: int, seconds: int, dialled: str | None = None) -> bytes:
    dial = f"Dialed:{dialled} " if dialled else ""
    return _ascii(f"L{line} HookOn {dial}Duration:{max(0, int(seconds))} ") + CRLF


# --- Techno --------------------------------------------------------------------------------------------
def techno_connect(lines: int, device: int = 1, serial: str = "0") -> bytes:
    return _ascii(f"D{device}:DeviceConnect,Serial={serial},CountLine={lines}.") + CRLF


def techno_caller(line: int, number: str, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:CallerID={number}.") + CRLF


def techno_ring(line: int, count: int, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:Ring={count}.") + CRLF


def techno_answer(line: int, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:Answer.") + CRLF


def techno_lift(line: int, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:HangUp.") + CRLF      # Techno's word for lifting the handset


def techno_digit(line: int, digit: str, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:Dial={digit}.") + CRLF


def techno_down(line: int, seconds: int, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:HangDown,Time={max(0, int(seconds))}.") + CRLF


def techno_miss(line: int, rings: int, device: int = 1) -> bytes:
    return _ascii(f"D{device}:L{line}:MissCall,Ring={rings}.") + CRLF


# --- one call's bytes, per device ----------------------------------------------------------------------
class Protocol:
    """What a device sends at each moment of a call (b"" where it says nothing)."""

    name = ""
    multi_line = True

    def hello(self, lines: int) -> bytes:
        return b""

    def caller(self, line: int, number: str, name: str | None, when: dt.datetime | None) -> bytes:
        return b""

    def ring(self, line: int, count: int, number: str | None) -> bytes:
        return b""

    def answer(self, line: int) -> bytes:
        return b""

    def hangup(self, line: int, seconds: int) -> bytes:
        return b""

    def miss(self, line: int, rings: int) -> bytes:
        return b""

    def lift(self, line: int) -> bytes:
        return b""

    def digit(self, line: int, digit: str) -> bytes:
        return b""

    def hangup_outgoing(self, line: int, number: str, seconds: int) -> bytes:
        return b""


class ModemProtocol(Protocol):
    """``raw`` = None (formatted), "sdmf" or "mdmf"."""

    name = "modem"
    multi_line = False

    def __init__(self, raw: str | None = None):
        self.raw = raw

    def caller(self, line, number, name, when):
        if self.raw == "sdmf":
            return hex_line(sdmf_message(number, when))
        if self.raw == "mdmf":
            return hex_line(mdmf_message(number, name, when))
        return modem_cid(number, name, when)

    def ring(self, line, count, number):
        return modem_ring()


class SegalProtocol(Protocol):
    name = "segal"

    def caller(self, line, number, name, when):
        return segal_caller(line, number)

    def ring(self, line, count, number):
        return segal_ring(line, count)

    def answer(self, line):
        return segal_lift(line)

    def hangup(self, line, seconds):
        return segal_down(line, seconds)

    def lift(self, line):
        return segal_lift(line)

    def digit(self, line, digit):
        return segal_digit(line, digit)

    def hangup_outgoing(self, line, number, seconds):
        return segal_down(line, seconds, number)


class YasnaProtocol(Protocol):
    name = "yasna"

    def caller(self, line, number, name, when):
        return b""                     # the number rides on each ring record

    def ring(self, line, count, number):
        return yasna_ring(line, number, count)

    def answer(self, line):
        return yasna_lift(line)

    def hangup(self, line, seconds):
        return yasna_down(line, seconds)

    def lift(self, line):
        return yasna_lift(line)

    def hangup_outgoing(self, line, number, seconds):
        return yasna_down(line, seconds, number)


class TechnoProtocol(Protocol):
    name = "techno"

    def hello(self, lines):
        return techno_connect(lines)

    def caller(self, line, number, name, when):
        return techno_caller(line, number)

    def ring(self, line, count, number):
        return techno_ring(line, count)

    def answer(self, line):
        return techno_answer(line)

    def hangup(self, line, seconds):
        return techno_down(line, seconds)

    def miss(self, line, rings):
        return techno_miss(line, rings)

    def lift(self, line):
        return techno_lift(line)

    def digit(self, line, digit):
        return techno_digit(line, digit)

    def hangup_outgoing(self, line, number, seconds):
        return techno_down(line, seconds)


def protocol_for(device: str, raw: str | None = None) -> Protocol:
    device = (device or "modem").lower()
    if device == "modem":
        return ModemProtocol(raw)
    if device in ("segal", "danjeh"):
        return SegalProtocol()
    if device in ("yasna", "caspian"):
        return YasnaProtocol()
    if device == "techno":
        return TechnoProtocol()
    raise ValueError(f"unknown device {device!r}; one of {', '.join(DEVICES)}")


# =========================================================================================================
# The AT command interpreter of a simulated voice modem (pure: bytes in, bytes out).
# =========================================================================================================
@dataclass(frozen=True)
class Chipset:
    name: str
    ati: str
    extended: frozenset      # extended command names it accepts (+VCID, #CID, …)


CHIPSETS = {
    "conexant": Chipset("conexant", "CX93001-EIS_V0.2002-V92",
                        frozenset({"+VCID", "+FCLASS", "+GCI", "+VLS", "+VRID", "+GMM", "+GMI", "+GMR"})),
    "usr": Chipset("usr", "U.S. Robotics 56K Voice Faxmodem V.92 (5637)",
                   frozenset({"#CID", "#CLS", "+FCLASS", "+GMM", "+GMI"})),
    "pctel": Chipset("pctel", "PCTEL HSP56 MicroModem", frozenset({"#CID", "#CLS", "+FCLASS"})),
    "motorola": Chipset("motorola", "Motorola SM56 Data Fax Voice Modem", frozenset({"*ID", "#CC", "+FCLASS"})),
    "pp": Chipset("pp", "Practical Peripherals PM56KV", frozenset({"%CCID", "+FCLASS"})),
    "nocid": Chipset("nocid", "Generic 56K Data/Fax Modem", frozenset({"+FCLASS", "+GMM"})),
}

# (name, value) → caller-ID mode it selects: 1 formatted, 2 raw hex, 0 off
_CID_MODES = {
    ("+VCID", "1"): 1, ("+VCID", "2"): 2, ("+VCID", "0"): 0,
    ("#CID", "1"): 1, ("#CID", "2"): 2, ("#CID", "0"): 0,
    ("%CCID", "1"): 1, ("%CCID", "3"): 1, ("%CCID", "2"): 2, ("%CCID", "0"): 0,
    ("*ID", "1"): 1, ("*ID", "0"): 0, ("#CC", "1"): 1, ("#CC", "0"): 0,
}

_EXT_TOKEN = re.compile(r"([+#%*$&][A-Z]+)(=\?|\?|=[^;+#%*$&]*|\d*)")
_BASIC_TOKEN = re.compile(r"(Z\d?|E[01]?|V[01]?|Q[01]?|I\d?|H[01]?|A|O\d?|L\d?|M\d?|X\d?|S\d+=\d+|S\d+\?|P|T|W\d?|B\d?)")


class AtInterpreter:
    """Answers AT command lines like a modem: echo (E1), verbose results (V1), quiet (Q1), ATI, caller-ID
    enabling per chipset, voice dialling (ATDT…;). ``dial_result`` makes ATD answer NO DIALTONE, BUSY or
    ERROR instead of OK, for the click-to-call error paths."""

    def __init__(self, chipset: str = "conexant", dial_result: str = "OK"):
        if chipset not in CHIPSETS:
            raise ValueError(f"unknown chipset {chipset!r}; one of {', '.join(CHIPSETS)}")
        self.chipset = CHIPSETS[chipset]
        self.dial_result = dial_result
        self.history: list[str] = []
        self.dialled: list[str] = []
        self.hooked_off = False
        self._buf = b""
        self.reset()

    def reset(self) -> None:
        self.echo = True
        self.verbose = True
        self.quiet = False
        self.cid_mode = 0

    def _result(self, code: str) -> bytes:
        if self.quiet:
            return b""
        if self.verbose:
            return CRLF + code.encode() + CRLF
        numeric = {"OK": "0", "CONNECT": "1", "RING": "2", "NO CARRIER": "3", "ERROR": "4", "NO DIALTONE": "6",
                   "BUSY": "7", "NO ANSWER": "8"}
        return numeric.get(code, "4").encode() + b"\r"

    def feed(self, data: bytes) -> bytes:
        """Bytes from the computer → the modem's reply bytes (echo included)."""
        out = b""
        self._buf += data
        while True:
            m = re.search(rb"[\r\n]", self._buf)
            if not m:
                if len(self._buf) > 256:
                    self._buf = b""
                return out
            line, self._buf = self._buf[:m.start()], self._buf[m.end():]
            text = line.decode("ascii", errors="replace").strip()
            if not text:
                continue
            if self.echo:
                out += line + b"\r"
            out += self.execute(text)

    def execute(self, text: str) -> bytes:
        self.history.append(text)
        up = text.upper()
        if up == "A/":
            up = self.history[-2].upper() if len(self.history) > 1 else "AT"
        if not up.startswith("AT"):
            return b""                                    # not a command: a real modem ignores it
        body = up[2:]
        info: list[str] = []
        i = 0
        body_ns = body.replace(" ", "")
        try:
            while i < len(body_ns):
                ch = body_ns[i]
                if ch == ";":
                    i += 1
                    continue
                if ch == "D":                                # dial: the rest of the line is the dial string
                    return self._dial(body_ns[i + 1:])
                m = _EXT_TOKEN.match(body_ns, i)
                if m:
                    self._extended(m[1], m[2], info)
                    i = m.end()
                    continue
                m = _BASIC_TOKEN.match(body_ns, i)
                if m:
                    self._basic(m[1], info)
                    i = m.end()
                    continue
                return self._result("ERROR")
        except ValueError:
            return self._result("ERROR")
        pre = b"".join(CRLF + s.encode() for s in info)
        return pre + self._result("OK")

    def _basic(self, tok: str, info: list[str]) -> None:
        c, arg = tok[0], tok[1:]
        if c == "Z":
            self.reset()
        elif c == "E":
            self.echo = arg != "0"
        elif c == "V":
            self.verbose = arg != "0"
        elif c == "Q":
            self.quiet = arg == "1"
        elif c == "I":
            info.append(self.chipset.ati)
        elif c == "H":
            self.hooked_off = arg == "1"
        elif c == "A":
            raise ValueError("no call to answer")         # ATA with no incoming data call → ERROR here
        # S registers, L, M, X, O, P, T, W, B: accepted

    def _extended(self, name: str, value: str, info: list[str]) -> None:
        if name not in self.chipset.extended and not name.startswith("&"):
            raise ValueError(name)
        v = value[1:] if value.startswith("=") else value
        if name in ("*ID", "#CC"):
            v = value
        if value in ("?", "=?"):
            info.append(f"{name}: {self.cid_mode}" if name in ("+VCID", "#CID") else f"{name}: 0")
            return
        if (name, v) in _CID_MODES:
            self.cid_mode = _CID_MODES[(name, v)]
        elif name in ("+VCID", "#CID", "%CCID", "*ID", "#CC"):
            raise ValueError(f"{name}{value}")

    def _dial(self, dial: str) -> bytes:
        number = re.sub(r"[^0-9*#,+]", "", dial.lstrip("TP"))
        voice = dial.rstrip().endswith(";")
        self.dialled.append(number)
        if self.dial_result != "OK":
            return self._result(self.dial_result)
        if not number:
            return self._result("ERROR")
        self.hooked_off = True
        return self._result("OK" if voice else "NO CARRIER")


# =========================================================================================================
# The simulator: a pty, a thread, a schedule.
# =========================================================================================================
def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


@dataclass
class LineState:
    state: str = "idle"                 # idle, ringing, answered, offhook
    number: str = ""
    name: str | None = None
    rings: int = 0
    since: float = 0.0                  # monotonic: when answered / lifted
    dialled: str = ""
    generation: int = 0                 # bumps on every change, so stale scheduled rings do nothing


@dataclass
class SimulatorOptions:
    device: str = "modem"
    chipset: str = "conexant"
    lines: int = 1
    raw: str | None = None              # force SDMF/MDMF hex output on a modem: "sdmf" / "mdmf"
    cid_enabled: bool = False           # a modem prints caller ID only once enabled (AT+VCID=1 …) unless set
    cid_position: str = "between"       # "between" the 1st and 2nd RING (Bellcore) or "before" the first
    ring_period: float = 4.0            # seconds between rings
    cid_delay: float = 0.5              # seconds after the first RING before the caller-ID block
    max_rings: int = 8                  # then the call rings out (missed)
    digit_gap: float = 0.15             # seconds between dialled digits
    dial_result: str = "OK"
    link: str | None = None             # pty only: a stable symlink to the pty (/tmp/crm-modem)
    transport: str = "pty"              # "pty" (POSIX) or "tcp": a socket:// port, on every OS
    tcp_host: str = "127.0.0.1"
    tcp_port: int = 0                   # 0: any free port (sim.port says which)
    output: Callable[[str], None] | None = field(default=None, repr=False)   # a trace of what is written


class Simulator:
    """Usage::

        sim = Simulator(SimulatorOptions(device="segal", lines=4, link="/tmp/crm-modem")).start()
        sim.path                     # /dev/pts/N: open it (or sim.link) as the serial port
        sim.ring(2, "09121234567"); sim.answer(2); sim.hangup(2); sim.miss(1); sim.dial(3, "0912…")
        sim.reopen()                 # unplug and replug: a new pty, the link moved to it
        sim.close()

    With ``transport="tcp"`` the device listens on ``tcp_host:tcp_port`` instead (no pty, so on Windows too):
    ``sim.port`` is ``socket://127.0.0.1:N``, which the CRM opens like any serial port (pyserial's URL
    support). One connection at a time, like a serial cable: a new one takes over from the old. Bytes written
    while nobody is connected are lost, as a real device's would be; ``wait_for_client()`` waits for the CRM.
    """

    def __init__(self, options: SimulatorOptions | None = None, **kw):
        self.opt = options or SimulatorOptions(**kw)
        if self.opt.transport not in ("pty", "tcp"):
            raise ValueError(f"unknown transport {self.opt.transport!r}")
        if self.opt.transport == "tcp" and self.opt.link:
            raise ValueError("a link is for a pty; a TCP simulator is reached at its socket:// address")
        self.protocol = protocol_for(self.opt.device, self.opt.raw)
        self.at = AtInterpreter(self.opt.chipset, self.opt.dial_result) if self.opt.device == "modem" else None
        if self.at is not None and self.opt.cid_enabled:
            self.at.cid_mode = 2 if self.opt.raw else 1
        self.lines: dict[int, LineState] = {n: LineState() for n in range(1, max(1, self.opt.lines) + 1)}
        self.master: int | None = None        # pty: the device's end
        self.slave: int | None = None         # pty: the computer's end (kept open so the pty lives)
        self.listener: socket.socket | None = None   # tcp: the listening socket
        self.client: socket.socket | None = None     # tcp: the connected computer
        self.path: str | None = None
        self.written = bytearray()            # everything sent to the port (for tests)
        self.received = bytearray()           # everything the computer sent
        self._lock = threading.RLock()
        self._schedule: list = []
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()
        # wakes the thread's select(); a socket pair, because Windows selects on sockets only
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._congested = False

    # -- life cycle -----------------------------------------------------------------------------------------
    @property
    def link(self) -> str | None:
        return self.opt.link

    @property
    def port(self) -> str:
        """What the CRM should open: the link when there is one, else the pty path or the socket:// URL."""
        return self.opt.link or self.path or ""

    @property
    def tcp(self) -> bool:
        return self.opt.transport == "tcp"

    @property
    def plugged(self) -> bool:
        return (self.listener if self.tcp else self.master) is not None

    def start(self) -> Simulator:
        self._open_port()
        self._thread = threading.Thread(target=self._run, name="callerid-simulator", daemon=True)
        self._thread.start()
        return self

    def _open_port(self) -> None:
        if self.tcp:
            self._open_tcp()
        else:
            self._open_pty()

    def _open_tcp(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if os.name == "posix":    # on Windows SO_REUSEADDR would let two listeners share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.opt.tcp_host, self.opt.tcp_port))
            sock.listen(1)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        host, port = sock.getsockname()[:2]
        self.opt.tcp_port = port              # plugged in again at the same address
        with self._lock:
            self.listener = sock
            self.path = f"socket://{host}:{port}"
        logger.info("simulated %s on %s", self.opt.device, self.path)

    def _accept(self) -> None:
        """A computer connected: it is now the one at the end of the cable (any earlier one is dropped)."""
        listener = self.listener
        if listener is None:
            return
        try:
            conn, _addr = listener.accept()
        except OSError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            old, self.client = self.client, conn
            self._congested = False
        if old is not None:
            _close_quietly(old)
        hello = self.protocol.hello(len(self.lines))
        if hello:
            self.write(hello)
        self._connected.set()
        logger.info("simulator: a computer connected to %s", self.path)

    def _drop_client(self) -> None:
        with self._lock:
            conn, self.client = self.client, None
            self._connected.clear()
        if conn is not None:
            _close_quietly(conn)

    def wait_for_client(self, timeout: float = 5.0) -> bool:
        """TCP: wait until a computer is connected (a pty is always "connected")."""
        return True if not self.tcp else self._connected.wait(timeout)

    def _open_pty(self) -> None:
        if not hasattr(os, "openpty"):
            raise OSError("no pseudo-terminals on this system; use transport='tcp'")
        import tty  # POSIX only, like os.openpty: the one back end that needs termios

        master, slave = os.openpty()
        tty.setraw(slave)                     # no echo or line editing by the tty itself: the modem echoes
        os.set_blocking(master, False)
        with self._lock:
            self.master, self.slave = master, slave
            self.path = os.ttyname(slave)
        if self.opt.link:
            tmp = f"{self.opt.link}.{os.getpid()}.tmp"
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(self.path, tmp)
            os.replace(tmp, self.opt.link)
        hello = self.protocol.hello(len(self.lines))
        if hello:
            self.write(hello)
        logger.info("simulated %s on %s", self.opt.device, self.path)

    def _close_port(self) -> None:
        with self._lock:
            fds = (self.master, self.slave)
            self.master = self.slave = None
            listener, self.listener = self.listener, None
        for fd in fds:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if listener is not None:
            _close_quietly(listener)
        self._drop_client()
        self._wake()

    def unplug(self, remove_link: bool = True) -> None:
        """The device disappears: the pty is closed (and the link removed), or the connection dropped and the
        TCP port closed."""
        self._close_port()
        if remove_link and self.opt.link:
            try:
                os.unlink(self.opt.link)
            except FileNotFoundError:
                pass

    def plug(self) -> None:
        """The device comes back: a new pty (maybe at a new /dev/pts/N), the link pointed at it; or the same
        TCP port listening again."""
        if not self.plugged:
            self._open_port()
            self._wake()

    def reopen(self) -> None:
        self.unplug(remove_link=False)
        self.plug()

    def close(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(2.0)
        self.unplug(remove_link=True)
        for sock in (self._wake_r, self._wake_w):
            _close_quietly(sock)

    def __enter__(self) -> Simulator:
        return self if self._thread else self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- output ---------------------------------------------------------------------------------------------
    def write(self, data: bytes) -> float:
        """Send bytes down the line now; returns time.perf_counter() right after the write (for the bench)."""
        if not data:
            return time.perf_counter()
        with self._lock:
            target: int | socket.socket | None = self.client if self.tcp else self.master
            if target is None:
                logger.debug("simulator unplugged or not connected: %r dropped", data)
                return time.perf_counter()
            view = memoryview(data)
            deadline = time.monotonic() + (0.0 if self._congested else 0.2)
            lost = False
            while view:
                try:
                    n = target.send(view) if isinstance(target, socket.socket) else os.write(target, view)
                    view = view[n:]
                    self._congested = False
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        # nobody reads the port (as a real device's buffer overflows): drop, do not block
                        if not self._congested:
                            logger.warning("nobody reads the simulated port: output dropped")
                        self._congested = True
                        break
                    select.select([], [target], [], 0.02)
                except OSError as e:
                    logger.debug("simulator write failed: %s", e)
                    lost = isinstance(target, socket.socket)
                    break
            t = time.perf_counter()
            self.written += data
        if lost:
            self._drop_client()
        if self.opt.output:
            self.opt.output(data.decode("utf-8", errors="replace"))
        return t

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _at(self, delay: float, fn: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._schedule, (time.monotonic() + delay, next(self._seq), fn))
        self._wake()

    # -- the thread: AT answers and scheduled rings -----------------------------------------------------------
    def _read_ready(self, ready: list) -> bytes:
        """What the computer sent, from whichever of the port's handles select() found ready."""
        with self._lock:
            fd, listener, client = self.master, self.listener, self.client
        if listener is not None and listener in ready:
            self._accept()
        if client is not None and client in ready:
            try:
                data = client.recv(4096)
            except (BlockingIOError, InterruptedError):
                return b""
            except OSError:
                data = b""
            if not data:                      # the computer closed the port
                self._drop_client()
            return data
        if fd is not None and fd in ready:
            try:
                return os.read(fd, 4096)
            except OSError:                   # BlockingIOError, InterruptedError, EIO of a closed pty
                return b""
        return b""

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                due = self._schedule[0][0] if self._schedule else None
                handles = [h for h in (self.master, self.listener, self.client) if h is not None]
            timeout = 0.5 if due is None else max(0.0, min(0.5, due - time.monotonic()))
            try:
                ready, _, _ = select.select([self._wake_r, *handles], [], [], timeout)
            except (OSError, ValueError):
                ready = []
            if self._wake_r in ready:
                try:
                    self._wake_r.recv(4096)
                except OSError:
                    pass
            data = self._read_ready(ready)
            if data:
                self.received += data
                if self.at is not None:
                    reply = self.at.feed(data)
                    if reply:
                        self.write(reply)
            self._run_due()

    def _run_due(self) -> None:
        while True:
            with self._lock:
                if not self._schedule or self._schedule[0][0] > time.monotonic():
                    return
                _, _, fn = heapq.heappop(self._schedule)
            try:
                fn()
            except Exception:  # a broken step must not kill the simulator
                logger.exception("simulator step failed")

    # -- calls ----------------------------------------------------------------------------------------------
    def _line(self, line: int | None) -> tuple[int, LineState]:
        n = line or 1
        if n not in self.lines:
            if n < 1 or n > 64:
                raise ValueError(f"no line {n}")
            self.lines[n] = LineState()
        return n, self.lines[n]

    def _cid_on(self) -> bool:
        return self.at is None or self.at.cid_mode > 0

    def _caller_bytes(self, n: int, st: LineState) -> bytes:
        if not self._cid_on():
            return b""
        proto = self.protocol
        if isinstance(proto, ModemProtocol) and self.at is not None and self.at.cid_mode == 2 and not proto.raw:
            return hex_line(mdmf_message(st.number, st.name, None))
        return proto.caller(n, st.number, st.name, None)

    def ring(self, line: int | None, number: str, name: str | None = None) -> float:
        """A call starts ringing on ``line`` with ``number`` (P = withheld, O = unavailable).
        Returns the perf_counter time at which the caller-ID record's last byte was written (or the first
        ring's, where the caller ID comes later on the schedule)."""
        n, st = self._line(line)
        with self._lock:
            st.state, st.number, st.name, st.rings, st.dialled = "ringing", number, name, 1, ""
            st.generation += 1
            gen = st.generation
        t = time.perf_counter()
        if isinstance(self.protocol, ModemProtocol):
            if self.opt.cid_position == "before":
                t = self.write(self._caller_bytes(n, st))
                self.write(self.protocol.ring(n, 1, number))
            else:
                t = self.write(self.protocol.ring(n, 1, number))
                self._at(self.opt.cid_delay, lambda: self._if_current(n, gen, self._caller_bytes(n, st)))
        else:
            t = self.write(self.protocol.caller(n, number, name, None) + self.protocol.ring(n, 1, number))
        self._at(self.opt.ring_period, lambda: self._ring_again(n, gen))
        return t

    def _if_current(self, n: int, gen: int, data: bytes) -> None:
        st = self.lines[n]
        if st.generation == gen and st.state == "ringing":
            self.write(data)

    def _ring_again(self, n: int, gen: int) -> None:
        st = self.lines[n]
        if st.generation != gen or st.state != "ringing":
            return
        if st.rings >= self.opt.max_rings:
            self.miss(n)
            return
        st.rings += 1
        self.write(self.protocol.ring(n, st.rings, st.number))
        self._at(self.opt.ring_period, lambda: self._ring_again(n, gen))

    def answer(self, line: int | None) -> None:
        n, st = self._line(line)
        with self._lock:
            if st.state != "ringing":
                raise ValueError(f"line {n} is not ringing")
            st.state, st.since = "answered", time.monotonic()
            st.generation += 1
        self.write(self.protocol.answer(n))

    def hangup(self, line: int | None, seconds: int | None = None) -> int:
        """End the call on ``line``; returns the duration reported (the time since the answer or the lift,
        or ``seconds`` when given, for scripted calls that should last longer than the script waits)."""
        n, st = self._line(line)
        with self._lock:
            prev = st.state
            if seconds is None:
                seconds = int(round(time.monotonic() - st.since)) if prev in ("answered", "offhook") else 0
            number, dialled = st.number, st.dialled
            st.state = "idle"
            st.generation += 1
        if prev == "answered":
            self.write(self.protocol.hangup(n, seconds))
        elif prev == "offhook":
            self.write(self.protocol.hangup_outgoing(n, dialled or number, seconds))
        elif prev == "ringing":
            self.write(self.protocol.miss(n, st.rings))
        return seconds

    def miss(self, line: int | None) -> None:
        """The caller gives up: the line stops ringing unanswered."""
        n, st = self._line(line)
        with self._lock:
            if st.state != "ringing":
                raise ValueError(f"line {n} is not ringing")
            st.state = "idle"
            st.generation += 1
            rings = st.rings
        self.write(self.protocol.miss(n, rings))

    def dial(self, line: int | None, number: str, wait: bool = False) -> None:
        """An outgoing call: handset lifted, the digits dialled one by one; ``hangup(line)`` ends it."""
        n, st = self._line(line)
        with self._lock:
            if st.state != "idle":
                raise ValueError(f"line {n} is busy")
            st.state, st.since, st.number, st.dialled = "offhook", time.monotonic(), number, ""
            st.generation += 1
            gen = st.generation
        self.write(self.protocol.lift(n))
        digits = [d for d in number if d.isdigit() or d in "*#"]
        done = threading.Event()

        def step(i: int) -> None:
            if st.generation != gen:
                done.set()
                return
            if i >= len(digits):
                done.set()
                return
            st.dialled += digits[i]
            self.write(self.protocol.digit(n, digits[i]))
            self._at(self.opt.digit_gap, lambda: step(i + 1))

        self._at(self.opt.digit_gap, lambda: step(0))
        if wait:
            done.wait(self.opt.digit_gap * (len(digits) + 2) + 1.0)

    def status(self) -> str:
        parts = []
        for n, st in sorted(self.lines.items()):
            parts.append(f"L{n}: {st.state}{' ' + st.number if st.state != 'idle' and st.number else ''}")
        return ", ".join(parts)

    # -- script / interactive commands ------------------------------------------------------------------------
    def execute(self, command: str) -> str | None:
        """Run one script command; returns a short English note (or None). Raises ValueError on nonsense."""
        words = command.strip().split()
        if not words or words[0].startswith("#"):
            return None
        verb, args = words[0].lower(), words[1:]

        def line_arg(required_number: bool = False) -> tuple[int | None, list[str]]:
            """'ring 2 0912…' → (2, ['0912…']); 'ring 0912…' → (None, ['0912…']); 'answer 2' → (2, [])."""
            if args and re.fullmatch(r"[Ll]?\d{1,2}", args[0]) and (len(args) > 1 or not required_number):
                return int(args[0].lstrip("Ll")), args[1:]
            return None, args

        if verb == "ring":
            line, rest = line_arg(required_number=True)
            if not rest:
                raise ValueError("ring needs a number")
            self.ring(line, rest[0], " ".join(rest[1:]) or None)
            return f"ringing line {line or 1}: {rest[0]}"
        if verb in ("answer", "pickup"):
            line, _ = line_arg()
            self.answer(line)
            return f"line {line or 1} answered"
        if verb in ("hangup", "hang", "down"):
            line, rest = line_arg()
            seconds = int(rest[0]) if rest and rest[0].isdigit() else None
            return f"line {line or 1} hung up after {self.hangup(line, seconds)} s"
        if verb in ("miss", "missed"):
            line, _ = line_arg()
            self.miss(line)
            return f"line {line or 1} rang out"
        if verb == "dial":
            line, rest = line_arg(required_number=True)
            if not rest:
                raise ValueError("dial needs a number")
            self.dial(line, rest[0], wait=True)
            return f"line {line or 1} dialled {rest[0]}"
        if verb in ("wait", "sleep"):
            time.sleep(float(args[0]) if args else 1.0)
            return None
        if verb == "raw":
            text = command.strip()[3:].strip()
            self.write(text.encode("utf-8").decode("unicode_escape").encode("latin-1", errors="replace"))
            return None
        if verb == "unplug":
            self.unplug(remove_link=False)
            return "unplugged"
        if verb == "plug":
            self.plug()
            return f"plugged in again at {self.path}"
        if verb == "status":
            return self.status()
        raise ValueError(f"unknown command {verb!r}")

    def run_script(self, script: str) -> list[str]:
        notes = []
        for cmd in re.split(r"[;\n]", script):
            note = self.execute(cmd)
            if note:
                notes.append(note)
        return notes
