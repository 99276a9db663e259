"""Kavenegar (کاوه‌نگار): https://api.kavenegar.com/v1/{API-KEY}/{scope}/{method}.json, POST form-encoded.

The key is a path segment. `return.status` is the call's result (200 = OK); `entries[].status` each message's.
`localid` ties our id to a message, and `sms/statuslocalmessageid` answers "did you get local id X?", which is
how a send interrupted by a crash is resumed without sending twice. Max 200 receptors per send call.
"""
from __future__ import annotations

import json

from app.sms.providers.base import (
    BLACKLIST,
    CREDIT,
    KEY,
    LIMIT,
    NUMBER,
    OTHER,
    SENDER,
    SERVER,
    TEXT,
    Delivery,
    Inbound,
    Outgoing,
    Provider,
    Result,
)

# return.status → our kind (table in docs/reference/sms-gateways.md §1; confirmed only by 3rd-party copies)
CALL_CODES = {
    400: (OTHER, "پارامترها ناقص است"), 401: (KEY, "حساب غیرفعال است"), 402: (OTHER, "عملیات ناموفق بود"),
    403: (KEY, ""), 404: (OTHER, "متد یافت نشد"), 405: (OTHER, "روش درخواست نادرست است"),
    406: (OTHER, "پارامترهای ضروری خالی است"), 407: (KEY, "دسترسی مجاز نیست (نشانی IP)"),
    409: (SERVER, ""), 411: (NUMBER, ""), 412: (SENDER, ""), 413: (TEXT, "بیشینه ۲۶۸ نویسه فارسی"),
    414: (LIMIT, "بیش از ۲۰۰ گیرنده در یک درخواست"), 416: (KEY, "نشانی IP با نشانی ثبت‌شده یکی نیست"),
    417: (OTHER, "تاریخ ارسال نادرست است"), 418: (CREDIT, ""), 419: (OTHER, "طول آرایه‌ها برابر نیست"),
    422: (TEXT, "نویسه نامعتبر"), 426: (OTHER, "این کار سرویس پیشرفته می‌خواهد"),
}
# entries[].status → our delivery state (kavenegar-dotnet MessageStatus)
DELIVERY = {1: "sent", 2: "sent", 4: "sent", 5: "sent", 10: "delivered", 11: "undelivered", 6: "failed",
            13: "failed", 14: "failed"}


class Kavenegar(Provider):
    name = "kavenegar"
    label = "کاوه‌نگار"
    default_base = "https://api.kavenegar.com"
    max_batch = 200
    min_interval = 0.5
    can_lookup_local = True

    def _call(self, method: str, form: dict) -> list:
        status, data = self.http("POST", f"{self.base_url}/v1/{self.key}/{method}.json", form=form)
        ret = (data or {}).get("return") or {}
        code = int(ret.get("status") or status or 0)
        if code != 200:
            kind, detail = CALL_CODES.get(code, (OTHER, str(ret.get("message") or "")))
            raise self.error(kind, code, detail)
        return (data or {}).get("entries") or []

    def send(self, items: list[Outgoing]) -> list[Result]:
        texts = {i.text for i in items}
        if len(texts) == 1:
            form = {"receptor": ",".join(i.number for i in items), "message": items[0].text,
                    "localid": ",".join(str(i.local_id) for i in items)}
            if self.sender:
                form["sender"] = self.sender
            entries = self._call("sms/send", form)
        else:
            form = {"receptor": json.dumps([i.number for i in items]),
                    "message": json.dumps([i.text for i in items], ensure_ascii=False),
                    "sender": json.dumps([self.sender] * len(items)),
                    "localmessageids": json.dumps([str(i.local_id) for i in items])}
            entries = self._call("sms/sendarray", form)
        out = []
        for n, item in enumerate(items):
            e = entries[n] if n < len(entries) else None
            out.append(self._result(item.local_id, e))
        return out

    def _result(self, local_id: int, e: dict | None) -> Result:
        if not e or not e.get("messageid"):
            return Result(local_id, False, kind=OTHER, error="پاسخی برای این شماره نیامد.")
        st = int(e.get("status") or 0)
        if DELIVERY.get(st) == "failed":
            kind = BLACKLIST if st == 14 else SENDER if st == 6 else OTHER
            return Result(local_id, False, str(e["messageid"]), str(st), kind, str(e.get("statustext") or ""))
        return Result(local_id, True, str(e["messageid"]), str(st))

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        out = []
        for lo in range(0, len(provider_ids), 500):
            for e in self._call("sms/status", {"messageid": ",".join(provider_ids[lo:lo + 500])}):
                st = int(e.get("status") or 0)
                if st in DELIVERY:
                    out.append(Delivery(str(e.get("messageid")), DELIVERY[st], str(st)))
        return out

    def lookup_local(self, local_ids: list[int]) -> dict[int, Result]:
        found: dict[int, Result] = {}
        for lo in range(0, len(local_ids), 500):
            chunk = local_ids[lo:lo + 500]
            for e in self._call("sms/statuslocalmessageid", {"localid": ",".join(map(str, chunk))}):
                st = int(e.get("status") or 0)
                lid = e.get("localid")
                if st == 100 or not e.get("messageid") or lid in (None, ""):
                    continue                       # 100: no such message — it never reached Kavenegar
                found[int(lid)] = self._result(int(lid), e)
        return found

    def inbox(self) -> list[Inbound]:
        if not self.sender:
            return []
        entries = self._call("sms/receive", {"linenumber": self.sender, "isread": 0})
        return [Inbound(str(e.get("messageid")), str(e.get("sender") or ""), str(e.get("message") or ""),
                        str(e.get("receptor") or ""), e.get("date")) for e in entries]
