"""A simulated GSM modem on a pseudo-terminal, for tests and demos of SMS sending without a SIM.

It answers AT, ATE0, AT+CMGF=<0|1>, AT+CSCS, AT+CSMP, AT+CNMI and AT+CMGS: in PDU mode it prompts "> ", reads
the hex PDU up to Ctrl-Z, decodes it (app/sms/pdu.py) and answers ``+CMGS: <mr>`` and ``OK``; told to, it
answers ``+CMS ERROR: <n>`` instead (all sends, or sends to one number). What it received is kept in
``received`` (decoded parts) and ``messages()`` (parts joined by their concatenation reference).
"""
from __future__ import annotations

import logging
import os
import select
import threading
from dataclasses import dataclass

from app.sms import pdu

logger = logging.getLogger(__name__)


@dataclass
class Received:
    number: str
    text: str
    reference: int | None
    total: int
    seq: int
    mr: int


class GsmSimulator:
    def __init__(self) -> None:
        self.master = -1
        self.slave = -1
        self.port = ""
        self.pdu_mode = False
        self.received: list[Received] = []
        self.commands: list[str] = []
        self.cms_error: int | None = None              # every AT+CMGS fails with this
        self.cms_error_for: dict[str, int] = {}        # number (+98…) → error
        self._mr = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._awaiting_pdu: int | None = None

    def start(self) -> GsmSimulator:
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self._thread = threading.Thread(target=self._run, name="gsm-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def messages(self) -> list[tuple[str, str]]:
        """(number, whole text) per message, concatenated parts joined in order."""
        out: list[tuple[str, str]] = []
        groups: dict = {}
        for r in self.received:
            if r.total == 1:
                out.append((r.number, r.text))
                continue
            key = (r.number, r.reference)
            groups.setdefault(key, {})[r.seq] = r
            g = groups[key]
            if len(g) == r.total:
                out.append((r.number, "".join(g[i].text for i in sorted(g))))
        return out

    def _write(self, data: bytes) -> None:
        os.write(self.master, data)

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            buf += chunk
            while True:
                if self._awaiting_pdu is not None:
                    if b"\x1a" not in buf:
                        break
                    data, buf = buf.split(b"\x1a", 1)
                    self._on_pdu(data.decode("ascii", "replace").strip(), self._awaiting_pdu)
                    self._awaiting_pdu = None
                    continue
                if b"\r" not in buf:
                    break
                line, buf = buf.split(b"\r", 1)
                line = line.strip(b"\n ")
                if line:
                    self._on_command(line.decode("ascii", "replace").strip())

    def _ok(self) -> None:
        self._write(b"\r\nOK\r\n")

    def _on_command(self, cmd: str) -> None:
        self.commands.append(cmd)
        up = cmd.upper()
        if up in ("AT", "ATE0", "ATZ") or up.startswith(("AT+CSCS", "AT+CSMP", "AT+CNMI")):
            self._ok()
        elif up.startswith("AT+CMGF="):
            self.pdu_mode = up.endswith("0")
            self._ok()
        elif up.startswith("AT+CMGS="):
            if not self.pdu_mode:
                self._write(b"\r\n+CMS ERROR: 304\r\n")
                return
            self._awaiting_pdu = int(up.split("=", 1)[1])
            self._write(b"\r\n> ")
        else:
            self._write(b"\r\nERROR\r\n")

    def _on_pdu(self, hexdata: str, length: int) -> None:
        try:
            if len(hexdata) // 2 - 1 - int(hexdata[:2], 16) != length:
                raise ValueError("length")
            sub = pdu.decode_submit(hexdata)
        except (ValueError, IndexError):
            self._write(b"\r\n+CMS ERROR: 304\r\n")
            return
        err = self.cms_error_for.get(sub.number, self.cms_error)
        if err is not None:
            self._write(f"\r\n+CMS ERROR: {err}\r\n".encode())
            return
        self._mr = (self._mr + 1) % 256
        self.received.append(Received(sub.number, sub.text, sub.reference, sub.total, sub.seq, self._mr))
        self._write(f"\r\n+CMGS: {self._mr}\r\n\r\nOK\r\n".encode())
