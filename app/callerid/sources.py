"""Where caller-ID bytes come from, and the loop that turns them into events.

Sources (one small interface, plain Python, no Qt):

- ``SerialSource(port, baud)``: a voice modem or a multi-line box on a serial / USB-serial port, through
  pyserial (8N1, DTR on). A pseudo-terminal (the simulator, /dev/pts/N or a symlink to it) is just a port.
- ``NcidSource(host, port=3333)``: a TCP client of an NCID server. Its history lines (CIDLOG:, HUPLOG: …)
  are replayed on every connect; the ncid decoder, not this class, knows not to take them for live calls.

Every source has ``open()`` (raises ``SourceUnavailable``, a UserError with a Persian message, when the
device is missing, busy or refused), ``read(timeout) -> bytes`` (``b""`` when nothing came; raises
``SourceLost`` when the device went away), ``write(bytes)`` and ``close()``.

``Pump`` owns one source and one decoder and runs the loop: open (with back-off while the device is
missing), read, feed the decoder, hand each event to a callback at once, and report the state
(listening / no_device / reconnecting / error / stopped) with its Persian status-bar text. It is what the
Qt listener runs on its worker thread and what ``crm callerid monitor`` runs in the foreground.

Idle flush: the decoder's ``flush()`` is called when ``idle_flush`` seconds (the decoders'
``IDLE_FLUSH_SECONDS``) have passed since the last byte and there was input since the previous flush. The
read timeout is short (``POLL_SECONDS``), so the flush comes at most one poll late; nothing on the hot path
sleeps: bytes are fed to the decoder the moment ``read`` returns them, and every event the decoder gives
back (records ending in ``@``, ``.`` or a newline give theirs at once) goes to the callback before the next
read. ``tick()`` is called about once a second so a box's line that rang out becomes MISSED.

Device lost and back: when the open device goes away (unplugged, pty closed, server hung up) the pump emits,
through ``on_event``, ``CallerIdEvent(kind=DEVICE, source=<the decoder's protocol>, extra={"device": "lost"})``
after the events the last bytes gave, and ``{"device": "back"}`` (same source) once it is open again; the call
lifecycle closes the calls that were open. For a minute after a loss the port is retried every
``REOPEN_POLL_SECONDS``, and a port opened without a modem init keeps what is already in its input queue
(pyserial would flush it), so a record the box sends the moment it returns is read, not lost.
"""
from __future__ import annotations

import concurrent.futures
import errno
import logging
import os
import queue
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.callerid import events as ev
from app.callerid.events import CallerIdEvent
from app.core.errors import UserError

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05        # the longest a read blocks: bounds stop() latency and idle-flush jitter
TICK_SECONDS = 1.0
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 3.0, 5.0)   # between attempts to (re)open a missing device
# Right after a device is lost it usually comes back soon (a cable re-seated, a box power-cycled, a USB hub
# reset), and a box speaks at once: a record sent while the port is still closed is gone for good. So for
# REOPEN_FAST_WINDOW seconds after a loss the port is tried every REOPEN_POLL_SECONDS (a failed open of a
# missing device costs one system call), then the ordinary back-off takes over.
REOPEN_POLL_SECONDS = 0.1
REOPEN_FAST_WINDOW = 60.0
DEFAULT_BAUD = 57600
DEFAULT_NCID_PORT = 3333
SIMULATOR_LINK = "/tmp/crm-modem"   # where `crm callerid simulate --link` puts its symlink by default
SIMULATOR_TCP_PORT = 7001           # where `crm callerid simulate --tcp` listens by default (always, on Windows)
SIMULATOR_URL = f"socket://127.0.0.1:{SIMULATOR_TCP_PORT}"


def default_idle_flush() -> float:
    try:
        from app.callerid.decoders.base import IDLE_FLUSH_SECONDS

        return float(IDLE_FLUSH_SECONDS)
    except Exception:  # noqa: BLE001 - the decoders package is optional for this module's import
        return 0.7


# --- states --------------------------------------------------------------------------------------------
LISTENING = "listening"
NO_DEVICE = "no_device"
RECONNECTING = "reconnecting"
ERROR = "error"
STOPPED = "stopped"
STATES = (LISTENING, NO_DEVICE, RECONNECTING, ERROR, STOPPED)

STATE_TEXT = {
    LISTENING: "شناسه تماس: در حال گوش دادن",
    NO_DEVICE: "شناسه تماس: دستگاه پیدا نشد",
    RECONNECTING: "شناسه تماس: در حال اتصال دوباره…",
    ERROR: "شناسه تماس: خطا",
    STOPPED: "شناسه تماس: خاموش",
}


def state_text(state: str, detail: str = "") -> str:
    base = STATE_TEXT.get(state, STATE_TEXT[ERROR])
    return f"{base} ({detail})" if detail else base


# --- errors --------------------------------------------------------------------------------------------
class SourceUnavailable(UserError):
    """The device could not be opened. ``state`` is NO_DEVICE (missing: keep looking) or ERROR (busy,
    permission, bad address: needs the user)."""

    def __init__(self, message: str, state: str = NO_DEVICE, details: str | None = None):
        super().__init__(message, details=details)
        self.state = state


class SourceLost(Exception):
    """The open device went away (unplugged, pty closed, server hung up)."""


def is_port_url(port: str) -> bool:
    """socket://host:port, rfc2217://…, loop:// — a port pyserial reaches through a URL handler, not a device."""
    return "://" in (port or "")


def check_socket_url(url: str) -> tuple[str, int]:
    """socket://HOST:PORT → (host, port); ValueError when the host or a port in 1…65535 is missing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port                     # ValueError when out of range or not a number
    if parts.scheme.lower() != "socket" or not parts.hostname or not port:
        raise ValueError(f"expected socket://HOST:PORT, not {url!r}")
    return parts.hostname, port


def serial_open_error(port: str, exc: BaseException) -> SourceUnavailable:
    """pyserial's open failure → a Persian message the receptionist can act on (no traceback)."""
    text = str(exc)
    low = text.lower()
    code = getattr(exc, "errno", None)
    cause = exc.__cause__ or exc.__context__
    if code is None and isinstance(cause, OSError):
        code = cause.errno
    if is_port_url(port):
        if isinstance(exc, ValueError) or ("protocol" in low and "not known" in low) or "expected a string" in low:
            return SourceUnavailable(
                f"نشانی درگاه «{port}» درست نیست؛ نام درگاه (مانند COM3 یا /dev/ttyUSB0) یا نشانی شبکه به شکل "
                f"socket://192.168.1.20:4001 بنویسید.", state=ERROR, details=text)
        if isinstance(cause, socket.gaierror):
            return SourceUnavailable(f"نشانی «{port}» پیدا نشد؛ نشانی IP دستگاه را درست بنویسید.", state=ERROR,
                                     details=text)
        if code in (errno.ECONNREFUSED, getattr(errno, "WSAECONNREFUSED", -2)) or "refused" in low:
            return SourceUnavailable(
                f"دستگاه در نشانی «{port}» اتصال را نپذیرفت؛ روشن بودن دستگاه (یا شبیه‌ساز) و شماره درگاه را "
                f"بررسی کنید. با آماده شدن آن، برنامه خودش وصل می‌شود.", state=NO_DEVICE, details=text)
        return SourceUnavailable(
            f"دستگاه در نشانی «{port}» در دسترس نیست؛ کابل شبکه و نشانی IP را بررسی کنید.", state=NO_DEVICE,
            details=text)
    if code in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in low or "resource busy" in low \
            or "device or resource busy" in low:
        return SourceUnavailable(
            f"درگاه «{port}» در اختیار برنامه دیگری است؛ آن برنامه (نرم‌افزار دیگر شناسه تماس یا مودم) را "
            f"ببندید تا اتصال دوباره برقرار شود.", state=ERROR, details=text)
    if "access is denied" in low or "permissionerror(13" in low:
        # Windows says "Access is denied" for a COM port another program holds open.
        return SourceUnavailable(
            f"درگاه «{port}» در اختیار برنامه دیگری است یا اجازه دسترسی به آن نیست؛ برنامه‌ای را که از این "
            f"درگاه استفاده می‌کند ببندید.", state=ERROR, details=text)
    if code in (errno.EACCES, errno.EPERM) or "permission denied" in low:
        return SourceUnavailable(
            f"اجازه دسترسی به درگاه «{port}» نیست؛ در لینوکس کاربر را به گروه dialout بیفزایید "
            f"(sudo usermod -aG dialout $USER) و دوباره وارد شوید.", state=ERROR, details=text)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "no such file" in low \
            or "cannot find the file" in low or "filenotfounderror" in low:
        return SourceUnavailable(
            f"درگاه «{port}» پیدا نشد؛ کابل مودم یا دستگاه شناسه تماس را بررسی کنید. با وصل شدن دوباره، "
            f"برنامه خودش آن را پیدا می‌کند.", state=NO_DEVICE, details=text)
    if code == errno.EIO:
        return SourceUnavailable(f"درگاه «{port}» پاسخ نمی‌دهد (خطای ورودی/خروجی)؛ دستگاه را جدا و دوباره وصل کنید.",
                                 state=NO_DEVICE, details=text)
    return SourceUnavailable(f"درگاه «{port}» باز نشد: {text}", state=ERROR, details=text)


# --- the interface -------------------------------------------------------------------------------------
class Source:
    """A byte stream from a caller-ID device. Not thread-safe: one thread (the pump's) uses it."""

    kind = ""
    default_format = "auto"
    can_dial = False

    @property
    def description(self) -> str:
        return self.kind

    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        """Open the device; return an optional Persian note for the status text (e.g. the modem's init).
        Raises SourceUnavailable."""
        raise NotImplementedError

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        raise NotImplementedError

    def fileno(self) -> int | None:
        """The open device's descriptor when another thread's event loop may wait on it and then call
        ``read_ready()`` (a POSIX serial port, pty or socket:// port); None when reads must go through
        ``read(timeout)``."""
        return None

    def read_ready(self) -> bytes:
        """What has arrived, without waiting (b"" when nothing has); SourceLost as ``read``. Only for a source
        whose ``fileno()`` is not None, once its descriptor was reported readable."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    hwid: str = ""


def _port_order(device: str) -> tuple:
    """COM3 before COM10, ttyUSB2 before ttyUSB10: the number in the name compared as a number."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", device))


def list_ports(extra: Sequence[str] = (SIMULATOR_LINK,), simulator_url: str | None = None) -> list[PortInfo]:
    """The serial ports this PC has (COM3…, /dev/ttyACM0, /dev/ttyUSB0…), as pyserial's list_ports reports them
    (ListPortInfo: device, description, hwid), in natural order; plus the stable /dev/serial/by-id names on
    Linux, the simulator's link when it exists and, where there are no ptys (Windows), the simulator's
    socket:// address (``simulator_url``: None picks that default; "" leaves it out)."""
    out: list[PortInfo] = []
    seen: set[str] = set()
    try:
        from serial.tools import list_ports as lp

        for p in sorted(lp.comports(), key=lambda p: _port_order(p.device)):
            if not p.device or p.device in seen:
                continue
            desc = p.description if p.description and p.description != "n/a" else p.device
            out.append(PortInfo(p.device, desc, p.hwid if p.hwid and p.hwid != "n/a" else ""))
            seen.add(p.device)
    except Exception:  # listing ports must never break the settings page
        logger.exception("listing serial ports failed")
    by_id = "/dev/serial/by-id"
    if os.path.isdir(by_id):
        for name in sorted(os.listdir(by_id)):
            path = os.path.join(by_id, name)
            out.append(PortInfo(path, f"{name} → {os.path.realpath(path)}", ""))
    for path in extra:
        if path and path not in seen and os.path.exists(path):
            out.append(PortInfo(path, "شبیه‌ساز شناسه تماس" if path == SIMULATOR_LINK else path, ""))
    if simulator_url is None:
        simulator_url = "" if hasattr(os, "openpty") else SIMULATOR_URL
    if simulator_url:
        out.append(PortInfo(simulator_url, "شبیه‌ساز شناسه تماس روی شبکه (crm callerid simulate --tcp)", ""))
    return out


# --- serial ports (and ptys) ---------------------------------------------------------------------------
class SerialSource(Source):
    """A serial / USB-serial port (or a pty path): 8N1 at ``baud``, DTR on, locked against other programs.

    ``init``: None (a box: send nothing), "modem" (reset + caller-ID commands, see app.callerid.modem) or
    "auto" (a quick AT; initialise only if a modem answers).
    """

    kind = "serial"
    can_dial = True

    def __init__(self, port: str, baud: int = DEFAULT_BAUD, *, fmt: str = "auto", init: str | None = None,
                 init_commands: Sequence[str] | None = None, reset_command: str | None = None,
                 dtr: bool = True, exclusive: bool = True):
        if not port or not str(port).strip():
            raise SourceUnavailable("هنوز درگاهی برای شناسه تماس انتخاب نشده است؛ در تنظیمات، درگاه مودم یا "
                                    "دستگاه را انتخاب کنید.", state=NO_DEVICE)
        self.port = str(port).strip()
        self._url = is_port_url(self.port)
        self.baud = int(baud)
        self.default_format = fmt or "auto"
        self.init = init
        self.init_commands = list(init_commands) if init_commands else None
        self.reset_command = reset_command
        self.dtr = dtr
        self.exclusive = exclusive
        self.init_result = None           # app.callerid.modem.InitResult after an init
        self._ser = None
        self._fd: int | None = None       # a POSIX device's descriptor, read directly (see _read_fd)
        self._usb_id: tuple | None = None  # (vid, pid, serial number) of a USB port, to find it if renamed

    @property
    def description(self) -> str:
        return self.port

    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def _open_port(self, port: str):
        """Opens ``port`` through pyserial's URL support, so a COM name (COM3), a device path (/dev/ttyACM0,
        a pty or its link) and a network URL (socket://127.0.0.1:7001: a serial-to-Ethernet converter, or the
        simulator on a PC without ptys) are all just a port."""
        import serial

        if port.lower().startswith("socket://"):
            check_socket_url(port)        # pyserial's own check trips on a missing or out-of-range port number
        ser = serial.serial_for_url(port, do_not_open=True)
        ser.baudrate = self.baud
        ser.bytesize, ser.parity, ser.stopbits = serial.EIGHTBITS, serial.PARITY_NONE, serial.STOPBITS_ONE
        ser.timeout = POLL_SECONDS
        ser.write_timeout = 2.0
        ser.dtr = self.dtr            # applied by open(); ignored quietly by ptys and sockets, which have no DTR line
        ser.rts = True
        native = not is_port_url(port)
        if native and os.name == "posix":
            ser.exclusive = self.exclusive
        # open() discards whatever is already in the input queue (tcflush on POSIX, a drain of the socket for
        # socket://). A box that came back and spoke before the port was reopened would lose that record, so a
        # listener that sends nothing keeps it. (With a modem init, the init's own exchange deals with stale
        # bytes. On Windows the driver's purge is inside open() itself and cannot be skipped.)
        name = None
        if not self.init:
            name = "reset_input_buffer" if not native else "_reset_input_buffer" if os.name == "posix" else None
        if name:
            setattr(ser, name, lambda: None)
            try:
                ser.open()
            finally:
                delattr(ser, name)
        else:
            ser.open()
        return ser

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        import serial

        if self._ser is not None:
            return ""
        port = self.port
        try:
            self._ser = self._open_port(port)
        except (serial.SerialException, OSError, ValueError) as e:
            err = serial_open_error(port, e)
            moved = self._find_moved() if err.state == NO_DEVICE else None
            if not moved:
                raise err from None
            try:
                self._ser = self._open_port(moved)
                logger.info("caller-ID port %s came back as %s", port, moved)
            except (serial.SerialException, OSError, ValueError) as e2:
                raise serial_open_error(moved, e2) from None
        self._remember_usb_id()
        # A POSIX serial port or pty has its descriptor as `fd`; a socket:// port (a serial-to-Ethernet converter,
        # the simulator over TCP) has its non-blocking socket's. Either is waited on and read directly, and can be
        # lent to the GUI thread's event loop (Windows reads through pyserial on the worker).
        if self._url:
            fd = self._ser.fileno() if self.port.lower().startswith("socket://") else None
        else:
            fd = getattr(self._ser, "fd", None)
        self._fd = fd if os.name == "posix" and isinstance(fd, int) else None
        logger.info("caller-ID port %s open at %d baud", self._ser.port, self.baud)
        if not self.init:
            return ""
        from app.callerid.at import initialise

        try:
            result = initialise(self, self.init_commands, reset=self.reset_command,
                                      require_modem=(self.init == "modem"), cancel=cancel)
        except SourceLost:
            self.close()
            raise SourceUnavailable(f"درگاه «{self.port}» هنگام راه‌اندازی مودم قطع شد.", state=NO_DEVICE) from None
        self.init_result = result
        return result.status_note

    def _remember_usb_id(self) -> None:
        if self._url:
            return
        try:
            from serial.tools import list_ports as lp

            real = os.path.realpath(self._ser.port)
            for p in lp.comports():
                if p.vid is not None and os.path.realpath(p.device) == real:
                    self._usb_id = (p.vid, p.pid, p.serial_number)
                    return
        except Exception:  # a nicety; never in the way of opening the port
            logger.debug("could not read the USB id of %s", self.port, exc_info=True)

    def _find_moved(self) -> str | None:
        """The same USB device (vid, pid, serial) re-enumerated under another name (ttyACM0 → ttyACM1)."""
        if not self._usb_id or self._url:
            return None
        try:
            from serial.tools import list_ports as lp

            for p in lp.comports():
                if (p.vid, p.pid, p.serial_number) == self._usb_id:
                    return p.device
        except Exception:
            logger.debug("port search failed", exc_info=True)
        return None

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        """Whatever has arrived, returning the moment the first byte does (or after POLL_SECONDS)."""
        ser = self._ser
        if ser is None:
            raise SourceLost("port not open")
        fd = self._fd
        if fd is not None:
            return _read_fd(fd, min(timeout, POLL_SECONDS))
        try:
            data = ser.read(1)
            if data:
                if self._url:
                    # a URL port's in_waiting is only "something or nothing" (socket://): take what has arrived
                    # without waiting, in one read
                    ser.timeout = 0
                    try:
                        data += ser.read(65536)
                    finally:
                        ser.timeout = POLL_SECONDS
                else:
                    n = ser.in_waiting
                    if n:
                        data += ser.read(n)
            return data
        except Exception as e:  # SerialException, OSError, or pyserial's own slips on a dead fd
            raise SourceLost(str(e)) from e

    def fileno(self) -> int | None:
        return self._fd if self._ser is not None else None

    def read_ready(self) -> bytes:
        fd = self._fd
        if self._ser is None or fd is None:
            raise SourceLost("port not open")
        return _read_now(fd)

    def write(self, data: bytes) -> None:
        ser = self._ser
        if ser is None:
            raise SourceLost("port not open")
        try:
            ser.write(data)
            ser.flush()
        except Exception as e:
            raise SourceLost(str(e)) from e

    def close(self) -> None:
        ser, self._ser = self._ser, None
        self._fd = None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # closing a vanished device may fail; it is closed either way
                logger.debug("closing %s failed", self.port, exc_info=True)


def _read_fd(fd: int, timeout: float) -> bytes:
    """A POSIX serial port (or pty) read as pyserial reads it, in one wait and one read: what has arrived, the
    moment it arrives, up to 64 KiB; b"" after ``timeout``. (pyserial's read(1), in_waiting, read(n) is two
    waits and two reads, and each gives up the GIL and must win it back from the GUI thread before the
    record's event can be sent.) The descriptor is pyserial's own, non-blocking. SourceLost as pyserial's
    read raises SerialException: a device that reports data and gives none is gone, as is one that fails."""
    try:
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    except OSError as e:
        if e.errno == errno.EINTR:
            return b""
        raise SourceLost(f"read failed: {e}") from e
    except ValueError as e:               # the descriptor was closed under the wait
        raise SourceLost(str(e)) from e
    if not ready:
        return b""
    return _read_now(fd)


def _read_now(fd: int) -> bytes:
    """One non-blocking read of a descriptor reported readable: its bytes, b"" when another read took them
    first, SourceLost when it failed or reported readiness and gave nothing (the device went away)."""
    try:
        data = os.read(fd, 65536)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EALREADY, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EINTR):
            return b""
        raise SourceLost(f"read failed: {e}") from e
    except ValueError as e:               # the descriptor was closed under the read
        raise SourceLost(str(e)) from e
    if not data:
        raise SourceLost("device reports readiness to read but returned no data (device disconnected?)")
    return data


# --- NCID ----------------------------------------------------------------------------------------------
class NcidSource(Source):
    """A client of an NCID server (TCP, port 3333 by default)."""

    kind = "ncid"
    default_format = "ncid"

    def __init__(self, host: str, port: int = DEFAULT_NCID_PORT, connect_timeout: float = 3.0):
        self.host = host
        self.port = int(port)
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None

    @property
    def description(self) -> str:
        return f"NCID {self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        if self._sock is not None:
            return ""
        where = f"{self.host}:{self.port}"
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise SourceUnavailable(f"نام سرور NCID «{self.host}» پیدا نشد؛ نشانی را در تنظیمات بررسی کنید.",
                                    state=ERROR, details=str(e)) from None
        refused = False
        last: BaseException | None = None
        sock = None
        for family, type_, proto, _name, addr in infos:
            sock = socket.socket(family, type_, proto)
            try:
                self._connect(sock, addr, cancel)
                break
            except ConnectionRefusedError as e:
                refused, last = True, e
            except OSError as e:
                last = e
            sock.close()
            sock = None
        if sock is None:
            if refused:
                raise SourceUnavailable(f"سرور NCID در {where} اتصال را نپذیرفت؛ آیا برنامه ncidd روی آن "
                                        f"رایانه در حال اجراست؟", state=NO_DEVICE, details=str(last))
            raise SourceUnavailable(f"سرور NCID در {where} در دسترس نیست؛ شبکه را بررسی کنید.",
                                    state=NO_DEVICE, details=str(last))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        logger.info("connected to the NCID server at %s", where)
        return ""

    def _connect(self, sock: socket.socket, addr, cancel: Callable[[], bool] | None) -> None:
        """Connect in short slices, so stop() is not held up by an unreachable server."""
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, getattr(errno, "WSAEWOULDBLOCK", -1)):
            raise OSError(err, os.strerror(err))
        deadline = time.monotonic() + self.connect_timeout
        while err != 0:
            if cancel is not None and cancel():
                raise TimeoutError("cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("connect timed out")
            _r, w, x = select.select([], [sock], [sock], min(0.1, left))
            if w or x:
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err == errno.ECONNREFUSED or err == getattr(errno, "WSAECONNREFUSED", -2):
                    raise ConnectionRefusedError(err, os.strerror(err))
                if err:
                    raise OSError(err, os.strerror(err))
                break
        sock.setblocking(True)

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        return recv_some(self._sock, timeout, "the NCID server")

    def write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise SourceLost("not connected")
        try:
            sock.settimeout(2.0)
            sock.sendall(data)
        except OSError as e:
            raise SourceLost(str(e)) from e

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


def recv_some(sock: socket.socket | None, timeout: float, peer: str) -> bytes:
    """What a TCP peer sent within ``timeout`` seconds (b"" when nothing came); SourceLost when the socket is gone
    or the peer (named in the log text) closed it."""
    if sock is None:
        raise SourceLost("not connected")
    try:
        sock.settimeout(max(0.001, timeout))
        data = sock.recv(65536)
    except TimeoutError:
        return b""
    except OSError as e:
        raise SourceLost(str(e)) from e
    if not data:
        raise SourceLost(f"{peer} closed the connection")
    return data


def tcp_open_error(what: str, host: str, port: int, exc: BaseException) -> SourceUnavailable:
    """A TCP connect failure → a Persian message (``what`` names the device, e.g. «مرکز تلفن»)."""
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return SourceUnavailable(f"نشانی {what} «{host}» پیدا نشد؛ نشانی IP را درست بنویسید.", state=ERROR,
                                 details=str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return SourceUnavailable(
            f"{what} در {where} اتصال را نپذیرفت؛ روشن بودن آن و درگاه را بررسی کنید "
            f"(در مرکز تلفن Asterisk: enabled = yes و port = 5038 در manager.conf).", state=NO_DEVICE, details=str(exc))
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return SourceUnavailable(f"{what} در {where} پاسخ نمی‌دهد؛ کابل شبکه، نشانی IP و دیوار آتش را بررسی کنید.",
                                 state=NO_DEVICE, details=str(exc))
    return SourceUnavailable(f"اتصال به {what} در {where} برقرار نشد: {getattr(exc, 'strerror', None) or exc}",
                             state=NO_DEVICE, details=str(exc))


def make_decoder(fmt: str):
    from app.callerid.decoders import decoder_for

    return decoder_for(fmt or "auto")


# --- the loop ------------------------------------------------------------------------------------------
EventCallback = Callable[[CallerIdEvent], None]
StateCallback = Callable[[str, str], None]


class ReadSession:
    """The pump's reading of an open port, lent to another thread's event loop (the GUI thread's, see
    app.callerid.listener): that thread waits on ``fd`` with the rest of its events and, when it is readable,
    calls ``read()`` and hands the bytes to ``decoder``. A record's event then needs no hand-over between
    threads: the thread that shows the popup is the one the kernel wakes.

    One owner at a time: the borrower from ``begin()`` until ``end()``, the pump before and after. The pump
    takes the port back (``cancel()`` before the borrower began, else ``reclaim`` and a wait on ``ended``) to
    run a request (dial, probe) or to stop; the borrower ends the session itself when the device is lost
    (``lost``: the pump closes the port and reopens it). The borrower never touches the descriptor after
    ``end()``; the pump closes it only after that. ``dirty``/``last_byte`` carry the idle flush across a
    reclaim: input not yet flushed is flushed by whoever owns the decoder when the line has been quiet."""

    def __init__(self, source: Source, fd: int, decoder, idle_flush: float, *, dirty: bool = False,
                 last_byte: float = 0.0):
        self.source = source
        self.fd = fd
        self.decoder = decoder
        self.idle_flush = idle_flush
        self.dirty = dirty
        self.last_byte = last_byte                    # time.monotonic() of the last bytes read
        self.lost = False
        self.lost_reason = ""
        self.reclaim_requested = False
        self.ended = threading.Event()
        self._lock = threading.Lock()
        self._begun = False
        self._cancelled = False

    def begin(self) -> bool:
        """The borrower starts reading; False when the pump has already taken the port back."""
        with self._lock:
            if self._cancelled or self.ended.is_set():
                return False
            self._begun = True
            return True

    def cancel(self) -> bool:
        """The pump takes the port back before the borrower began: True when it has it now (the borrower's
        ``begin()`` will say False); False when the borrower is reading (ask it to ``end()`` and wait)."""
        with self._lock:
            if self._begun:
                return self.ended.is_set()
            self._cancelled = True
            self.ended.set()
            return True

    def read(self) -> bytes:
        """The borrower's read, once the descriptor is readable: the bytes (b"" when none), SourceLost."""
        data = self.source.read_ready()
        if data:
            self.last_byte = time.monotonic()
            self.dirty = True
        return data

    def end(self, lost: bool = False, reason: str = "") -> None:
        """The borrower is done with the descriptor (it stopped watching it first)."""
        if lost and not self.ended.is_set():
            self.lost, self.lost_reason = True, reason
        self.ended.set()


class Pump:
    """Runs one source: open with back-off, read, decode, report. Call ``run(stop)`` on the thread that
    should block; ``submit(fn)`` runs ``fn(source)`` on that thread between reads (dial, probe)."""

    def __init__(self, source: Source, fmt: str | None = None, *, on_event: EventCallback,
                 on_state: StateCallback | None = None, idle_flush: float | None = None,
                 backoff: Sequence[float] = BACKOFF_SECONDS, decoder_factory: Callable[[str], object] | None = None,
                 lend: Callable[[ReadSession], None] | None = None, reclaim: Callable[[ReadSession], None] | None = None):
        self.source = source
        self.fmt = fmt or source.default_format or "auto"
        self.on_event = on_event
        self.on_state = on_state
        self.idle_flush = default_idle_flush() if idle_flush is None else idle_flush
        self.backoff = tuple(backoff) or (1.0,)
        self.decoder_factory = decoder_factory or make_decoder
        self.decoder = None
        self.state = STOPPED
        self.state_detail = ""
        self._last_state: tuple[str, str] | None = None
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self.events_seen = 0
        self.running = False
        # Reading lent to another thread's event loop (see ReadSession): ``lend(session)`` passes the session to
        # that thread (asynchronously), ``reclaim(session)`` asks it to end the session (asynchronously). Only
        # for sources with a descriptor (``Source.fileno()``); others are read on the pump's thread.
        self.lend = lend
        self.reclaim = reclaim

    # -- reporting ----------------------------------------------------------------------------------------
    def _set_state(self, state: str, detail: str = "") -> None:
        text = state_text(state, detail)
        self.state, self.state_detail = state, detail
        if (state, text) == self._last_state:
            return
        self._last_state = (state, text)
        logger.info("caller ID %s: %s", state, text)
        if self.on_state is not None:
            try:
                self.on_state(state, text)
            except Exception:  # a faulty observer must not stop the listener
                logger.exception("caller-ID state callback failed")

    def _emit(self, events) -> None:
        for event in events or ():
            self.events_seen += 1
            try:
                self.on_event(event)
            except Exception:
                logger.exception("caller-ID event callback failed for %r", event)

    # -- requests from other threads -------------------------------------------------------------------------
    def submit(self, fn: Callable[[Source], object]) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if not self.running:
            fut.set_exception(UserError("شنود شناسه تماس روشن نیست."))
            return fut
        self._requests.put((fn, fut))
        return fut

    def _run_requests(self) -> None:
        while True:
            try:
                fn, fut = self._requests.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            if not self.source.is_open:
                fut.set_exception(UserError("دستگاه شناسه تماس وصل نیست؛ کمی بعد دوباره امتحان کنید."))
                continue
            try:
                fut.set_result(fn(self.source))
            except SourceLost as e:
                fut.set_exception(UserError("ارتباط با دستگاه شناسه تماس قطع شد."))
                raise e
            except BaseException as e:  # noqa: BLE001 - delivered to the caller through the future
                fut.set_exception(e)

    def _fail_requests(self, message: str) -> None:
        while True:
            try:
                _fn, fut = self._requests.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                fut.set_exception(UserError(message))

    # -- the loop --------------------------------------------------------------------------------------------
    def _device_event(self, what: str, source: str) -> None:
        """DEVICE lost / back: the rest of the program closes the calls that were open on a lost device."""
        self._emit([CallerIdEvent(kind=ev.DEVICE, source=source, extra={"device": what},
                                  raw=f"{self.source.description}: {what}")])

    def _decoder_source(self) -> str:
        d = self.decoder
        if d is None:
            return self.fmt
        return getattr(d, "protocol", "") or getattr(d, "source", "") or self.fmt

    def run(self, stop: threading.Event) -> None:
        attempt = 0
        lost = False
        lost_source = ""
        lost_at = 0.0
        self.running = True
        try:
            while not stop.is_set():
                try:
                    note = self.source.open(cancel=stop.is_set)
                except SourceUnavailable as e:
                    self._fail_requests(e.message)
                    delay = self.backoff[min(attempt, len(self.backoff) - 1)]
                    if lost and time.monotonic() - lost_at < REOPEN_FAST_WINDOW:
                        delay = min(delay, REOPEN_POLL_SECONDS)
                    attempt += 1
                    state = e.state
                    if lost and state == NO_DEVICE and attempt <= 1:
                        state = RECONNECTING
                    self._set_state(state, e.message)
                    stop.wait(delay)
                    continue
                except Exception as e:  # unexpected: report, back off, try again
                    logger.exception("opening %s failed", self.source.description)
                    self._set_state(ERROR, str(e))
                    stop.wait(self.backoff[-1])
                    continue
                if stop.is_set():
                    break
                attempt = 0
                self._set_state(LISTENING, "؛ ".join(p for p in (self.source.description, note) if p))
                if lost:
                    self._device_event("back", lost_source)
                lost = self._read_until_lost(stop)
                if lost:
                    lost_at = time.monotonic()
                    lost_source = self._decoder_source()
                    self._device_event("lost", lost_source)
                    self._set_state(RECONNECTING, f"ارتباط با {self.source.description} قطع شد؛ "
                                                  f"دوباره امتحان می‌شود")
                    stop.wait(min(self.backoff[0], REOPEN_POLL_SECONDS))
        finally:
            self.running = False
            self.source.close()
            self._fail_requests("شنود شناسه تماس متوقف شد.")
            self._set_state(STOPPED)

    def _read_until_lost(self, stop: threading.Event) -> bool:
        """Read until stop (→ False) or the device goes away (→ True)."""
        fmt = self.fmt
        if fmt == "auto":                 # a source that recognised its device on opening says which
            fmt = getattr(self.source, "detected_format", "") or fmt
        try:
            self.decoder = self.decoder_factory(fmt)
        except Exception as e:  # noqa: BLE001 - e.g. an unknown format in the settings
            self.source.close()
            self._set_state(ERROR, getattr(e, "message", str(e)))
            stop.wait(self.backoff[-1])
            return False
        decoder = self.decoder
        flush = getattr(decoder, "flush", None)
        if self.lend is not None and self.reclaim is not None and self.source.fileno() is not None:
            return self._read_lent(stop, decoder, flush)
        tick = getattr(decoder, "tick", None)
        idle = self.idle_flush
        last_byte = 0.0
        dirty = False
        next_tick = time.monotonic() + TICK_SECONDS
        try:
            while not stop.is_set():
                if dirty:
                    timeout = max(0.001, min(POLL_SECONDS, last_byte + idle - time.monotonic()))
                else:
                    timeout = POLL_SECONDS
                data = self.source.read(timeout)
                now = time.monotonic()
                if data:
                    last_byte = now
                    dirty = True
                    self._emit(decoder.feed(data))
                elif dirty and now - last_byte >= idle:
                    dirty = False
                    if flush is not None:
                        self._emit(flush())
                if now >= next_tick:
                    next_tick = now + TICK_SECONDS
                    if tick is not None:
                        self._emit(tick())
                self._run_requests()
            return False
        except SourceLost as e:
            logger.warning("caller-ID device %s lost: %s", self.source.description, e)
            return True
        finally:
            self.source.close()
            if flush is not None:
                self._emit(flush())

    def _read_lent(self, stop: threading.Event, decoder, flush) -> bool:
        """``_read_until_lost`` with the reading lent (``lend``): this thread waits for the borrower to give the
        port back (device lost), for a request (the port taken back, the request run, the reading lent again)
        or for stop. Flushes the decoder when the port is given up, as the reading loop does."""
        assert self.lend is not None and self.reclaim is not None
        fd = self.source.fileno()
        assert fd is not None
        session = ReadSession(self.source, fd, decoder, self.idle_flush)
        lost = False
        try:
            self.lend(session)
            while not stop.is_set():
                if session.ended.wait(POLL_SECONDS):
                    if session.lost:
                        logger.warning("caller-ID device %s lost: %s", self.source.description, session.lost_reason)
                        lost = True
                        return True
                    if stop.wait(POLL_SECONDS):      # given back unasked (the borrower is stopping): lend again
                        break                       # unless it was the stop
                    session = ReadSession(self.source, fd, decoder, self.idle_flush, dirty=session.dirty,
                                          last_byte=session.last_byte)
                    self.lend(session)
                    continue
                if self._requests.empty():
                    continue
                if not self._take_back(session, stop):
                    break
                if session.lost:
                    lost = True
                    return True
                try:
                    self._run_requests()
                except SourceLost as e:
                    logger.warning("caller-ID device %s lost: %s", self.source.description, e)
                    lost = True
                    return True
                session = ReadSession(self.source, fd, decoder, self.idle_flush, dirty=session.dirty,
                                      last_byte=session.last_byte)
                self.lend(session)
            return False
        finally:
            if not lost:
                self._take_back(session, stop, wait=False)
            self.source.close()
            if flush is not None:
                self._emit(flush())

    def _take_back(self, session: ReadSession, stop: threading.Event, wait: bool = True) -> bool:
        """The port back from the borrower: True once it has stopped reading; False when stop came first."""
        if session.cancel():
            return True
        session.reclaim_requested = True
        self.reclaim(session)                      # type: ignore[misc]
        while not session.ended.wait(POLL_SECONDS):
            if not wait or stop.is_set():
                return session.ended.is_set()
        return True
