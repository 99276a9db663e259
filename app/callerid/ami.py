"""The Asterisk Manager Interface client: log in, receive call events, place calls (Originate).

An Asterisk / Issabel / FreePBX server listens on TCP 5038 (manager.conf). This module has:

- ``AmiConnection``: one TCP connection: the ``Asterisk Call Manager/x.y`` banner, ``Login`` with the secret
  (``AuthType: MD5`` after a ``Challenge`` when asked, falling back to plain), actions with an ActionID and
  their responses;
- ``AmiSource``: a caller-ID source for ``sources.Pump`` (kind "ami"): it logs in for call events and hands
  every byte received (from the banner on) to the AMI decoder (app/callerid/decoders/ami.py); a ``Ping``
  every ``KEEPALIVE_SECONDS`` of silence finds a dead connection, which the Pump reopens with back-off;
- ``originate(number, extension)``: click-to-call. A short second connection asks the PBX to ring the
  desk's phone (``Channel: PJSIP/<ext>``, the technology configurable) and, when it is picked up, to dial the
  number in the configured context (``Async: true``); the ``OriginateResponse`` event tells how it went,
  reported in Persian (answered, busy, no answer, extension offline …). Blocking (up to the ring time): call
  it off the GUI thread;
- ``check_connection(...)``: log in and report, in Persian, what the PBX said.

Secrets are never logged.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.callerid.decoders.ami import BANNER_PREFIX, Packet, PacketReader, encode_action
from app.callerid.sources import (
    ERROR,
    NO_DEVICE,
    POLL_SECONDS,
    Source,
    SourceLost,
    SourceUnavailable,
    recv_some,
    tcp_open_error,
)
from app.core.errors import UserError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5038
CONNECT_TIMEOUT = 3.0
LOGIN_TIMEOUT = 5.0
KEEPALIVE_SECONDS = 60.0
ORIGINATE_RING_SECONDS = 30.0
_action_ids = itertools.count(1)


class AmiConnection:
    """One AMI connection (blocking socket). Every byte received is also kept in ``received`` until taken,
    so a source can hand the whole stream (banner and events that came during the login) to the decoder."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, connect_timeout: float = CONNECT_TIMEOUT):
        self.host = host
        self.port = int(port)
        self.connect_timeout = connect_timeout
        self.sock: socket.socket | None = None
        self.banner = ""
        self.received = bytearray()
        self._reader = PacketReader()
        self._packets: list[Packet] = []

    # -- transport -------------------------------------------------------------------------------------------
    def connect(self) -> str:
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as e:
            raise tcp_open_error("مرکز تلفن", self.host, self.port, e) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while not self.banner:
            if time.monotonic() > deadline:
                self.close()
                raise SourceUnavailable(f"دستگاه {self.host}:{self.port} خود را مرکز تلفن Asterisk معرفی نکرد؛ "
                                        f"نشانی و درگاه AMI (معمولاً ۵۰۳۸) را بررسی کنید.", state=ERROR)
            self._pump(deadline - time.monotonic())
            if self.received and b"\n" in self.received and not self.banner:
                first = bytes(self.received).split(b"\n", 1)[0].decode("utf-8", "replace").strip()
                if not first.startswith(BANNER_PREFIX):
                    self.close()
                    raise SourceUnavailable(f"دستگاه {self.host}:{self.port} مرکز تلفن Asterisk نیست "
                                            f"(پاسخ: «{first[:60]}»).", state=ERROR)
        return self.banner

    def _pump(self, timeout: float) -> bytes:
        """Receive once (waiting at most ``timeout``); parse what came. Raises SourceLost when closed."""
        data = recv_some(self.sock, timeout, "the PBX")
        if not data:
            return b""
        self.received += data
        for p in self._reader.push(data):
            if p.has("Banner"):
                self.banner = p.get("Banner")
            else:
                self._packets.append(p)
        return data

    def send(self, fields: dict) -> str:
        """Send an action; returns its ActionID."""
        fields = dict(fields)
        action_id = fields.setdefault("ActionID", f"crm-{next(_action_ids)}")
        if self.sock is None:
            raise SourceLost("not connected")
        try:
            self.sock.settimeout(3.0)
            self.sock.sendall(encode_action(fields))
        except OSError as e:
            raise SourceLost(str(e)) from e
        return str(action_id)

    def wait_for(self, match: Callable[[Packet], bool], timeout: float) -> Packet | None:
        deadline = time.monotonic() + timeout
        while True:
            for i, p in enumerate(self._packets):
                if match(p):
                    del self._packets[:i + 1]
                    return p
            if len(self._packets) > 1000:
                del self._packets[:-100]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._pump(min(left, 0.5))

    def response(self, action_id: str, timeout: float = LOGIN_TIMEOUT) -> Packet | None:
        return self.wait_for(lambda p: bool(p.response) and p.get("ActionID") == action_id, timeout)

    def take_received(self) -> bytes:
        data = bytes(self.received)
        self.received.clear()
        return data

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # -- login -----------------------------------------------------------------------------------------------
    def login(self, user: str, secret: str, auth: str = "md5", events: str = "call,cdr") -> None:
        """Log in (MD5 challenge when ``auth`` is md5 and the server offers it, else plain). Raises
        SourceUnavailable (state ERROR) with a Persian message when refused."""
        if not (user or "").strip():
            raise SourceUnavailable("نام کاربری AMI نوشته نشده است؛ آن را در تنظیمات شناسه تماس بنویسید "
                                    "(همان نام بخش کاربر در manager.conf).", state=ERROR)
        fields: dict = {"Action": "Login", "Username": user.strip()}
        if (auth or "").lower() == "md5":
            aid = self.send({"Action": "Challenge", "AuthType": "MD5"})
            r = self.response(aid)
            challenge = r.get("Challenge") if r is not None and r.response.lower() == "success" else ""
            if challenge:
                fields.update({"AuthType": "MD5",
                               "Key": hashlib.md5((challenge + (secret or "")).encode("utf-8")).hexdigest()})
            else:
                logger.info("AMI server offered no MD5 challenge; logging in with the plain secret")
        if "Key" not in fields:
            fields["Secret"] = secret or ""
        fields["Events"] = events
        aid = self.send(fields)
        r = self.response(aid)
        if r is None:
            raise SourceUnavailable("مرکز تلفن به درخواست ورود پاسخ نداد؛ کمی بعد دوباره امتحان کنید.", state=NO_DEVICE)
        if r.response.lower() != "success":
            msg = r.get("Message")
            raise SourceUnavailable(
                f"ورود به مرکز تلفن پذیرفته نشد: نام کاربری یا رمز AMI درست نیست، یا این رایانه در permit همان "
                f"کاربر در manager.conf نیست. (پاسخ مرکز تلفن: {msg or r.response})", state=ERROR, details=msg)
        logger.info("AMI login accepted on %s:%s as %s", self.host, self.port, user)


# --- the caller-ID source -------------------------------------------------------------------------------
class AmiSource(Source):
    """Call events from an Asterisk server, for sources.Pump (format "ami")."""

    kind = "ami"
    default_format = "ami"
    can_dial = False          # click-to-call goes through originate(), not through the listener's port

    def __init__(self, host: str, port: int = DEFAULT_PORT, user: str = "", secret: str = "", auth: str = "md5",
                 events: str = "call,cdr", keepalive: float = KEEPALIVE_SECONDS):
        self.host = host
        self.port = int(port)
        self.user = user
        self.secret = secret
        self.auth = auth
        self.events = events
        self.keepalive = keepalive
        self.conn: AmiConnection | None = None
        self._pending = b""
        self._last_rx = 0.0
        self._pinged = False

    @property
    def description(self) -> str:
        return f"مرکز تلفن {self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self.conn is not None

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        if self.conn is not None:
            return ""
        conn = AmiConnection(self.host, self.port)
        conn.connect()
        try:
            conn.login(self.user, self.secret, self.auth, self.events)
        except SourceLost:
            conn.close()
            raise SourceUnavailable("مرکز تلفن هنگام ورود اتصال را بست؛ نام کاربری، رمز و permit را بررسی کنید.",
                                    state=ERROR) from None
        except SourceUnavailable:
            conn.close()
            raise
        self.conn = conn
        self._pending = conn.take_received()
        self._last_rx = time.monotonic()
        self._pinged = False
        return conn.banner

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        conn = self.conn
        if conn is None:
            raise SourceLost("not connected")
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        sock = conn.sock
        if sock is None:
            raise SourceLost("not connected")
        try:
            sock.settimeout(max(0.001, timeout))
            data = sock.recv(65536)
        except TimeoutError:
            data = b""
        except OSError as e:
            raise SourceLost(str(e)) from e
        else:
            if not data:
                raise SourceLost("the PBX closed the connection")
        now = time.monotonic()
        if data:
            self._last_rx = now
            self._pinged = False
        elif now - self._last_rx > self.keepalive:
            if self._pinged:
                raise SourceLost("no answer to Ping")
            conn.send({"Action": "Ping"})
            self._pinged = True
            self._last_rx = now
        return data

    def write(self, data: bytes) -> None:
        conn = self.conn
        if conn is None or conn.sock is None:
            raise SourceLost("not connected")
        try:
            conn.sock.sendall(data)
        except OSError as e:
            raise SourceLost(str(e)) from e

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.send({"Action": "Logoff"})
            except SourceLost:
                pass
            conn.close()


def pbx_source_from_settings(kind: str) -> Source:
    """The source for device kind "ami" or "smdr" from the desk's settings (SourceUnavailable when incomplete)."""
    from app import settings
    from app.callerid import settings_keys as sk

    if kind == "smdr" and settings.get(sk.SMDR_LINK) == "serial":
        from app.callerid.sources import SerialSource

        return SerialSource(settings.get(sk.PORT), settings.get(sk.BAUD), fmt="smdr", init=None)
    try:
        host, port = sk.parse_pbx_address(settings.get(sk.PBX_ADDRESS), kind)
    except UserError as e:
        raise SourceUnavailable(e.message, state=ERROR) from None
    if kind == "smdr":
        from app.callerid.smdr import SmdrTcpSource

        return SmdrTcpSource(host, port, settings.get(sk.PBX_USER) or sk.DEFAULT_SMDR_USER,
                             settings.get(sk.PBX_SECRET) or sk.DEFAULT_SMDR_PASSWORD)
    return AmiSource(host, port, settings.get(sk.PBX_USER), settings.get(sk.PBX_SECRET), settings.get(sk.PBX_AUTH))


# --- click to call --------------------------------------------------------------------------------------
# OriginateResponse "Reason" is the last control state of the ringing leg (Asterisk's AST_CONTROL_* numbers:
# 1 hang-up, 3 ringing (timed out), 4 answer, 5 busy, 8 congestion; 0 = the channel could not be created).
# These numbers are from Asterisk's source conventions, not from the reference file: treat as best effort.
REASONS = {
    "0": "داخلی {ext} در دسترس نیست (گوشی خاموش است یا در مرکز تلفن ثبت نشده).",
    "1": "داخلی {ext} تماس را رد کرد.",
    "3": "داخلی {ext} پاسخ نداد.",
    "5": "داخلی {ext} مشغول است.",
    "8": "مرکز تلفن مسیر آزاد نداشت (شلوغ است)؛ کمی بعد دوباره امتحان کنید.",
}


@dataclass(frozen=True)
class OriginateResult:
    ok: bool
    message: str                      # Persian, for the status bar
    reason: str = ""                  # the PBX's Reason code, when it failed
    action_id: str = ""


def dial_extension(user_id: int | None = None) -> str:
    """The extension click-to-call rings first: the desk's own («داخلی این میز»), else the extension of the
    colleague signed in here (Settings › colleagues); "" when neither is known."""
    from app import settings
    from app.callerid import settings_keys as sk
    from app.core.text import to_ascii_digits

    ext = to_ascii_digits(str(settings.get(sk.PBX_EXTENSION) or "")).strip()
    if ext:
        return ext
    if user_id is None:
        from app.office import session

        user_id = session.current_user_id()
    if not user_id:
        return ""
    from models.core import User

    try:
        return str(User.select(User.extension).where(User.id == user_id).scalar() or "").strip()
    except Exception:  # an old database, a lost connection: no extension known
        logger.warning("extension of user %s not read", user_id, exc_info=True)
        return ""


def dial_number(number: str) -> str:
    """What the PBX should dial: ASCII digits; +98… / 0098… become 0…; spaces and dashes dropped."""
    from app.core.text import to_ascii_digits

    t = re.sub(r"[\s\-().]", "", to_ascii_digits(number or ""))
    if t.startswith("+98"):
        t = "0" + t[3:]
    elif t.startswith("0098"):
        t = "0" + t[4:]
    if not re.fullmatch(r"[0-9*#]{2,20}", t):
        raise UserError(f"«{number}» شماره تلفن درستی برای گرفتن نیست.")
    return t


def originate(number: str, extension: str | None = None, *, host: str | None = None, port: int | None = None,
              user: str | None = None, secret: str | None = None, auth: str | None = None,
              tech: str | None = None, context: str | None = None, ring_seconds: float = ORIGINATE_RING_SECONDS,
              caller_id: str | None = None) -> OriginateResult:
    """Ring ``extension`` (the desk's phone, from the settings when not given); when it is picked up the PBX
    dials ``number``. Returns when the PBX has reported the outcome. Missing settings raise UserError."""
    from app import settings
    from app.callerid import settings_keys as sk

    target = dial_number(number)
    ext = (extension or dial_extension()).strip()
    if not ext:
        raise UserError("داخلی تلفن این میز در تنظیمات › شناسه تماس (یا داخلی شما در «همکاران و نقش‌ها») نوشته "
                        "نشده است؛ بدون آن مرکز تلفن نمی‌داند کدام گوشی را زنگ بزند.")
    if host is None:
        host, port = sk.parse_pbx_address(settings.get(sk.PBX_ADDRESS), "ami")
    port = port or DEFAULT_PORT
    user = settings.get(sk.PBX_USER) if user is None else user
    secret = settings.get(sk.PBX_SECRET) if secret is None else secret
    auth = settings.get(sk.PBX_AUTH) if auth is None else auth
    tech = (tech or settings.get(sk.PBX_TECH) or "PJSIP").strip()
    context = (context or settings.get(sk.PBX_CONTEXT) or "from-internal").strip()
    channel = f"Local/{ext}@{context}" if tech.lower() == "local" else f"{tech}/{ext}"
    conn = AmiConnection(host, port)
    try:
        conn.connect()
        conn.login(user, secret, auth, events="call")
        aid = conn.send({
            "Action": "Originate", "Channel": channel, "Context": context, "Exten": target, "Priority": "1",
            "CallerID": caller_id or f'"{target}" <{target}>', "Timeout": str(int(ring_seconds * 1000)),
            "Async": "true", "Variable": "CRM_CLICK_TO_CALL=1"})
        r = conn.response(aid)
        if r is None:
            return OriginateResult(False, "مرکز تلفن به درخواست شماره‌گیری پاسخ نداد.", action_id=aid)
        if r.response.lower() != "success":
            msg = r.get("Message")
            if "permission" in msg.lower():
                text = "کاربر AMI اجازه شماره‌گیری ندارد؛ در manager.conf برای این کاربر write = originate بگذارید."
            else:
                text = f"مرکز تلفن شماره‌گیری را نپذیرفت: {msg or r.response}"
            return OriginateResult(False, text, action_id=aid)
        ev = conn.wait_for(lambda p: p.event.lower() == "originateresponse" and p.get("ActionID") == aid,
                           ring_seconds + 10)
    except SourceLost:
        return OriginateResult(False, "اتصال با مرکز تلفن هنگام شماره‌گیری قطع شد.")
    finally:
        conn.close()
    from app.core.text import to_persian_digits

    ext_fa = to_persian_digits(ext)
    if ev is None:
        return OriginateResult(False, f"مرکز تلفن نتیجه شماره‌گیری را نگفت؛ گوشی داخلی {ext_fa} را نگاه کنید.",
                               action_id=aid)
    if ev.response.lower() == "success" or ev.get("Response").lower() == "success":
        return OriginateResult(True, f"داخلی {ext_fa} پاسخ داد؛ شماره {to_persian_digits(target)} گرفته می‌شود.",
                               action_id=aid)
    reason = ev.get("Reason").strip()
    text = REASONS.get(reason, "شماره‌گیری انجام نشد (کد {reason} از مرکز تلفن).")
    return OriginateResult(False, text.format(ext=ext_fa, reason=to_persian_digits(reason or "?")), reason=reason,
                           action_id=aid)


# --- the settings page's test ---------------------------------------------------------------------------
def check_connection(kind: str, address: str, user: str = "", secret: str = "", auth: str = "md5",
                    serial_port: str = "", baud: int = 9600) -> tuple[bool, str]:
    """Connect and log in as the settings say; (ok, Persian text). Never raises for a device's answer."""
    from app.callerid import settings_keys as sk

    try:
        if kind == "smdr":
            from app.callerid.smdr import SmdrTcpSource

            host, port = sk.parse_pbx_address(address, "smdr")
            src = SmdrTcpSource(host, port, user or sk.DEFAULT_SMDR_USER, secret or sk.DEFAULT_SMDR_PASSWORD)
            src.open()
            src.close()
            return True, f"اتصال به گزارش SMDR مرکز تلفن در {host}:{port} برقرار شد و رمز پذیرفته شد."
        host, port = sk.parse_pbx_address(address, "ami")
        conn = AmiConnection(host, port)
        banner = conn.connect()
        try:
            conn.login(user, secret, auth, events="off")
            version = ""
            try:
                aid = conn.send({"Action": "CoreSettings"})
                r = conn.response(aid, timeout=2.0)
                if r is not None and r.response.lower() == "success":
                    version = r.get("AsteriskVersion")
            except SourceLost:
                pass
        finally:
            conn.close()
        what = f"Asterisk {version}" if version else banner
        return True, f"اتصال برقرار شد و ورود پذیرفته شد ({what})."
    except UserError as e:
        return False, e.message
    except SourceLost:
        return False, "مرکز تلفن اتصال را بست."
