"""A GSM modem or USB dongle on a serial port, in PDU mode (3GPP TS 27.005): AT+CMGF=0, then for each part
AT+CMGS=<TPDU length>, wait for "> ", send the PDU in hex and Ctrl-Z; the modem answers +CMGS: <mr> and OK,
or +CMS ERROR: <n>. Persian goes as UCS-2; a long message as concatenated parts with a UDH.

Ordinary SIM cards are blocked by operators for mass sending: the modem is for a handful of service messages
(missed-call replies, reminders), so it sends one message at a time, seconds apart. It cannot be asked about a
message after a crash: an interrupted one is marked "uncertain"."""
from __future__ import annotations

import itertools
import logging
import time

from app.sms import pdu
from app.sms.providers.base import NETWORK, NUMBER, OTHER, SERVER, Outgoing, Provider, Result

logger = logging.getLogger(__name__)

# +CMS ERROR (27.005 §3.2.5; 0–127 network causes of 24.011 Annex E-2, 128–255 TP-FCS of 23.040 §9.2.3.22)
CMS_ERRORS = {
    1: "شماره گیرنده تخصیص داده نشده است", 8: "اپراتور ارسال را مسدود کرده است",
    10: "ارسال پیامک برای این سیم‌کارت ممنوع است", 21: "پیام رد شد", 27: "گیرنده در دسترس نیست",
    28: "شماره گیرنده نامعتبر است", 38: "شبکه از کار افتاده است", 41: "خرابی موقت شبکه",
    42: "شبکه شلوغ است", 50: "سیم‌کارت برای این سرویس اشتراک ندارد",
    96: "پیام نادرست ساخته شده است", 193: "سیم‌کارت در مرکز پیام اشتراک ندارد", 196: "گیرنده مسدود است",
    300: "خطای مودم", 301: "سرویس پیامک مودم رزرو است", 302: "این کار مجاز نیست", 303: "این کار پشتیبانی نمی‌شود",
    304: "پارامتر حالت PDU نادرست است", 305: "پارامتر حالت متنی نادرست است", 310: "سیم‌کارت در مودم نیست",
    311: "سیم‌کارت رمز PIN می‌خواهد", 312: "سیم‌کارت رمز PH-SIM PIN می‌خواهد", 313: "سیم‌کارت خراب است",
    314: "سیم‌کارت مشغول است", 315: "سیم‌کارت نادرست است", 316: "سیم‌کارت رمز PUK می‌خواهد",
    320: "خطای حافظه", 321: "شماره حافظه نادرست است", 322: "حافظه پر است",
    330: "شماره مرکز پیام (SMSC) روی سیم‌کارت نیست", 331: "مودم به شبکه وصل نیست (آنتن ندارد)",
    332: "مهلت شبکه به پایان رسید", 340: "تأیید +CNMA انتظار نمی‌رفت", 500: "خطای ناشناخته",
}
NUMBER_CAUSES = {1, 28}

_refs = itertools.count(1)


class GsmModem(Provider):
    """key: unused; base_url: the serial port (/dev/ttyUSB0, COM3, a pty, or socket://IP:PORT); extra['baudrate']."""

    name = "gsm"
    label = "مودم GSM"
    default_base = ""
    max_batch = 1
    min_interval = 3.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url or self.extra.get("port", "")

    def _open(self):
        import serial

        if not self.base_url:
            raise self.error(OTHER, detail="درگاه سریال مودم در تنظیمات پیامک انتخاب نشده است")
        try:
            # a URL too (COM3, /dev/ttyUSB0, or socket://IP:PORT for a modem behind a serial-to-network box)
            return serial.serial_for_url(self.base_url, baudrate=int(self.extra.get("baudrate", 115200)), timeout=0.2)
        except (OSError, ValueError) as e:
            raise self.error(NETWORK, detail=f"درگاه {self.base_url} باز نشد") from e

    def _read_until(self, port, tokens: tuple[bytes, ...], timeout: float) -> bytes:
        buf = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = port.read(256)
            if chunk:
                buf += chunk
                if any(t in buf for t in tokens):
                    # a final result may still be followed by "\r\n": read what is already there
                    time.sleep(0.01)
                    buf += port.read(port.in_waiting or 0)
                    return buf
        raise self.error(SERVER, detail="مودم پاسخ نداد", maybe_sent=True)

    def _command(self, port, line: str, timeout: float = 5.0) -> bytes:
        port.write(line.encode("ascii") + b"\r")
        resp = self._read_until(port, (b"OK\r\n", b"ERROR"), timeout)
        self._check(resp)
        return resp

    def _check(self, resp: bytes) -> None:
        text = resp.decode("ascii", "replace")
        if "+CMS ERROR:" in text:
            code = text.split("+CMS ERROR:")[1].split()[0].strip()
            n = int(code) if code.isdigit() else 500
            raise self.error(NUMBER if n in NUMBER_CAUSES else OTHER, f"CMS {n}", CMS_ERRORS.get(n, ""))
        if "+CME ERROR:" in text:
            code = text.split("+CME ERROR:")[1].split()[0].strip()
            raise self.error(OTHER, f"CME {code}", "خطای مودم")
        if "ERROR" in text:
            raise self.error(OTHER, "ERROR", "مودم فرمان را نپذیرفت")

    def send(self, items: list[Outgoing]) -> list[Result]:
        port = self._open()
        try:
            self._command(port, "AT")
            self._command(port, "AT+CMGF=0")
            out = []
            for item in items:
                refs = []
                try:
                    for part in pdu.submit_pdus(item.number, item.text, reference=next(_refs) & 0xFF):
                        port.write(part.command.encode("ascii") + b"\r")
                        self._read_until(port, (b"> ", b"ERROR"), 10.0)
                        port.write(part.hex.encode("ascii") + b"\x1a")
                        resp = self._read_until(port, (b"OK\r\n", b"ERROR"), 60.0)
                        self._check(resp)
                        text = resp.decode("ascii", "replace")
                        refs.append(text.split("+CMGS:")[1].split()[0] if "+CMGS:" in text else "")
                except ValueError:
                    out.append(self.fail(item, NUMBER))
                    continue
                except Exception as e:
                    if refs or getattr(e, "kind", "") != NUMBER:
                        if not refs and not out:
                            raise
                        out.append(Result(item.local_id, False, ",".join(refs), getattr(e, "code", ""),
                                          getattr(e, "kind", OTHER), getattr(e, "message", str(e))))
                        continue
                    out.append(Result(item.local_id, False, "", getattr(e, "code", ""), NUMBER, getattr(e, "message", str(e))))
                    continue
                out.append(Result(item.local_id, True, "mr:" + ",".join(refs)))
            return out
        finally:
            port.close()
