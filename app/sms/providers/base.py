"""The one small interface every SMS provider implements, and the HTTP helper the web panels share.

A provider sends a batch of (local id, number, text) and answers per message; a refusal of the whole call (no
credit, a bad key, a bad sender line) raises ProviderError with the Persian meaning of the provider's code.
"""
from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import UserError

logger = logging.getLogger(__name__)

# What went wrong, whatever the provider's own number for it.
CREDIT = "credit"
KEY = "key"
SENDER = "sender"
BLACKLIST = "blacklist"
NUMBER = "number"
TEXT = "text"
LIMIT = "limit"
SERVER = "server"
NETWORK = "network"
OTHER = "other"

MEANINGS = {
    CREDIT: "اعتبار حساب پیامک تمام شده است؛ حساب را در پنل {label} شارژ کنید.",
    KEY: "کلید دسترسی (API) یا نام کاربری و رمز {label} درست نیست یا غیرفعال شده است؛ "
         "آن را در تنظیمات پیامک دوباره وارد کنید.",
    SENDER: "شماره خط فرستنده درست نیست یا به این حساب {label} تعلق ندارد؛ خط را در تنظیمات پیامک بررسی کنید.",
    BLACKLIST: "این شماره در فهرست سیاه مخابرات است (دریافت پیامک تبلیغاتی را بسته است)؛ "
               "پیام فقط از خط خدماتی به آن می‌رسد.",
    NUMBER: "شماره گیرنده معتبر نیست.",
    TEXT: "متن پیام پذیرفته نشد (خالی، بیش از اندازه یا دارای واژه یا پیوند ممنوع).",
    LIMIT: "سقف ارسال {label} پر شده یا درخواست‌ها بیش از اندازه است؛ کمی بعد دوباره امتحان کنید.",
    SERVER: "سامانه {label} موقتاً پاسخ نمی‌دهد؛ کمی بعد دوباره امتحان کنید.",
    NETWORK: "اتصال به سامانه {label} برقرار نشد؛ اینترنت را بررسی کنید.",
    OTHER: "سامانه {label} پیام را نپذیرفت.",
}
MEANINGS_EN = {
    CREDIT: "The SMS account has no credit left.", KEY: "The API key (or username/password) is wrong or disabled.",
    SENDER: "The sender line is wrong or not on this account.", BLACKLIST: "The number is on the telecom blacklist.",
    NUMBER: "The recipient number is invalid.", TEXT: "The text was refused (empty, too long, or filtered).",
    LIMIT: "Sending limit reached or too many requests; try later.", SERVER: "The provider is not answering.",
    NETWORK: "Could not connect to the provider.", OTHER: "The provider refused the message.",
}


class ProviderError(UserError):
    """The provider refused the call. `code` is its own code, `kind` ours; `maybe_sent` is True when the request
    may have reached the provider (a time-out after sending) — then the messages are not known to be unsent."""

    def __init__(self, kind: str, label: str, code: Any = "", detail: str = "", maybe_sent: bool = False):
        self.kind = kind
        self.code = str(code)
        self.maybe_sent = maybe_sent
        message = MEANINGS.get(kind, MEANINGS[OTHER]).format(label=label)
        if detail:
            message += f" ({detail})"
        if self.code:
            message += f" [کد {self.code}]"
        en = MEANINGS_EN.get(kind, MEANINGS_EN[OTHER]) + (f" [code {self.code}]" if self.code else "")
        super().__init__(message, details=detail, en=en)


@dataclass
class Outgoing:
    local_id: int
    number: str          # canonical 09…
    text: str


@dataclass
class Result:
    local_id: int
    ok: bool
    provider_id: str = ""
    code: str = ""
    kind: str = ""       # when not ok: one of the kinds above
    error: str = ""      # Persian


@dataclass
class Delivery:
    provider_id: str
    state: str           # sent / delivered / undelivered / failed
    code: str = ""


@dataclass
class Inbound:
    provider_id: str
    sender: str
    text: str
    line: str = ""
    received_at: Any = None


@dataclass
class Provider:
    """Base: subclasses set name, label, default_base, max_batch and implement send()."""

    key: str = ""
    sender: str = ""
    base_url: str = ""
    timeout: float = 20.0
    extra: dict = field(default_factory=dict)

    name = ""
    label = ""
    default_base = ""
    max_batch = 100          # recipients per call (the provider's documented limit)
    min_interval = 0.5       # seconds between calls (throttle)
    can_lookup_local = False # the provider can be asked "did you get local id X?"

    def __post_init__(self) -> None:
        self.base_url = (self.base_url or self.default_base).rstrip("/")

    # --- the interface --------------------------------------------------------------------------------------
    def send(self, items: list[Outgoing]) -> list[Result]:
        raise NotImplementedError

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        return []

    def lookup_local(self, local_ids: list[int]) -> dict[int, Result]:
        """What the provider knows of these local ids: those it has, as Results (only if can_lookup_local)."""
        raise NotImplementedError

    def inbox(self) -> list[Inbound]:
        return []

    # --- helpers ------------------------------------------------------------------------------------------------
    def error(self, kind: str, code: Any = "", detail: str = "", maybe_sent: bool = False) -> ProviderError:
        return ProviderError(kind, self.label, code, detail, maybe_sent)

    def fail(self, item: Outgoing, kind: str, code: Any = "") -> Result:
        return Result(item.local_id, False, code=str(code), kind=kind,
                      error=MEANINGS.get(kind, MEANINGS[OTHER]).format(label=self.label))

    def http(self, method: str, url: str, *, form: dict | None = None, body: Any = None,
             headers: dict | None = None, query: dict | None = None) -> tuple[int, Any]:
        """One HTTP call; returns (status, parsed JSON or None). Network trouble becomes ProviderError: a refused
        connection means nothing was sent; a time-out after the request left means it may have been."""
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query, doseq=True)
        data = None
        h = {"Accept": "application/json", "User-Agent": "Peyvand-CRM"}
        if form is not None:
            data = urllib.parse.urlencode(form).encode("utf-8")
            h["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json; charset=utf-8"
        h.update(headers or {})
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read() or b""
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            sent = isinstance(reason, (socket.timeout, TimeoutError)) or isinstance(e, (socket.timeout, TimeoutError))
            refused = isinstance(reason, (ConnectionRefusedError, socket.gaierror))
            logger.warning("%s: %s %s failed: %s", self.name, method, _redacted(url, self.key), e)
            raise self.error(NETWORK, detail="", maybe_sent=sent or not refused) from e
        try:
            parsed = json.loads(raw.decode("utf-8-sig")) if raw.strip() else None
        except ValueError:
            parsed = None
        if status >= 500 and parsed is None:
            raise self.error(SERVER, code=status)
        return status, parsed


def _redacted(url: str, key: str) -> str:
    return url.replace(key, "***") if key else url


def e164(number: str) -> str:
    """09121234567 → +989121234567 (IPPanel Edge wants E.164)."""
    n = number.strip()
    if n.startswith("0") and not n.startswith("00"):
        return "+98" + n[1:]
    return n if n.startswith("+") else "+" + n.lstrip("0")


def national(number: str) -> str:
    n = number.strip()
    if n.startswith("+98"):
        return "0" + n[3:]
    if n.startswith("98") and len(n) == 12:
        return "0" + n[2:]
    return n
