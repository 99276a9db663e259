"""Panasonic SMDR over the LAN (KX-TDE / NCP / NS): a TCP client that logs in, then receives call records.

The PBX listens (port 2300 by default on the models the third-party clients were written for) and asks for
a login: a prompt such as ``-`` or ``Login:``, answered with the user (``SMDR``), then ``Enter Password:``,
answered with the password (factory default ``PCCSMDR``). Then it prints the header and one record per
finished call (see shared/reference/telephony-ami-smdr.md, part B4, and app/callerid/decoders/smdr.py).
Serial SMDR needs no login: it is a ``sources.SerialSource`` with format "smdr".
"""
from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable

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

logger = logging.getLogger(__name__)

DEFAULT_PORT = 2300
LOGIN_WAIT = 3.0           # seconds to wait for a prompt before assuming the PBX needs no login
_PASSWORD_PROMPT = re.compile(rb"pass(?:word)?\s*:?\s*$", re.IGNORECASE)
_USER_PROMPT = re.compile(rb"(?:login|user(?:name)?|user id)\s*:?\s*$", re.IGNORECASE)
_RECORD = re.compile(rb"\d{1,2}/\d{1,2}/\d{2}|\*\*/\*\*/\*\*|Date\s+Time")
_REFUSED = re.compile(rb"invalid|incorrect|denied|fail|wrong|error", re.IGNORECASE)


class SmdrTcpSource(Source):
    kind = "smdr"
    default_format = "smdr"

    def __init__(self, host: str, port: int = DEFAULT_PORT, user: str = "SMDR", password: str = "PCCSMDR",
                 connect_timeout: float = 3.0, login_wait: float = LOGIN_WAIT):
        self.host = host
        self.port = int(port)
        self.user = user
        self.password = password
        self.connect_timeout = connect_timeout
        self.login_wait = login_wait
        self._sock: socket.socket | None = None
        self._pending = b""

    @property
    def description(self) -> str:
        return f"گزارش SMDR {self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self, cancel: Callable[[], bool] | None = None) -> str:
        if self._sock is not None:
            return ""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as e:
            raise tcp_open_error("مرکز تلفن", self.host, self.port, e) from None
        self._sock = sock
        try:
            self._pending = self._login(cancel)
        except SourceLost:
            self.close()
            raise SourceUnavailable(f"مرکز تلفن {self.host}:{self.port} هنگام ورود به SMDR اتصال را بست؛ رمز SMDR "
                                    f"را بررسی کنید.", state=ERROR) from None
        except SourceUnavailable:
            self.close()
            raise
        return ""

    def _recv(self, timeout: float) -> bytes:
        return recv_some(self._sock, timeout, "the PBX")

    def _send_line(self, text: str) -> None:
        try:
            self._sock.sendall(text.encode("ascii", "replace") + b"\r\n")
        except OSError as e:
            raise SourceLost(str(e)) from e

    def _login(self, cancel: Callable[[], bool] | None) -> bytes:
        """Answer the prompts; return the bytes that came after the login (records, header)."""
        buf = b""
        sent_user = sent_password = False
        deadline = time.monotonic() + self.login_wait
        while time.monotonic() < deadline:
            if cancel is not None and cancel():
                break
            data = self._recv(min(0.2, max(0.001, deadline - time.monotonic())))
            if not data:
                if sent_password and buf:
                    break                        # quiet after the password: accepted
                continue
            buf += data
            if _RECORD.search(buf):
                break                            # the header or a record: logged in (or no login asked)
            if sent_password and _REFUSED.search(buf):
                raise SourceUnavailable("مرکز تلفن رمز SMDR را نپذیرفت؛ رمز را در تنظیمات شناسه تماس درست کنید "
                                        "(رمز کارخانه معمولاً PCCSMDR است).", state=ERROR)
            lines = [ln.strip() for ln in re.split(rb"[\r\n]+", buf) if ln.strip()]
            last = lines[-1] if lines else b""
            if _PASSWORD_PROMPT.search(last):
                self._send_line(self.password)
                sent_password = True
                buf = b""
                deadline = time.monotonic() + 1.5
            elif not sent_user and not sent_password and (last == b"-" or _USER_PROMPT.search(last)):
                self._send_line(self.user)
                sent_user = True
                buf = b""
                deadline = time.monotonic() + self.login_wait
        if sent_user and not sent_password:
            raise SourceUnavailable("مرکز تلفن پس از نام کاربری SMDR رمز نخواست؛ نشانی و درگاه را بررسی کنید.",
                                    state=NO_DEVICE)
        return buf

    def read(self, timeout: float = POLL_SECONDS) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        return self._recv(timeout)

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise SourceLost("not connected")
        try:
            self._sock.sendall(data)
        except OSError as e:
            raise SourceLost(str(e)) from e

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
