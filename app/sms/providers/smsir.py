"""sms.ir REST v1: https://api.sms.ir/v1, header X-API-KEY, JSON bodies; envelope {status, message, data}.

Bulk (same text) `POST /send/bulk`, pair-to-pair `POST /send/likeToLike`, ≤100 mobiles per request. In a bulk
result a messageIds element 0 means the number is blacklisted and null that it is invalid. No lookup by our
own id: a send interrupted by a crash is marked "uncertain", never re-sent blindly.
"""
from __future__ import annotations

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

CODES = {
    0: (SERVER, ""), 10: (KEY, ""), 11: (KEY, "کلید غیرفعال است"), 12: (KEY, "کلید برای IP دیگری است"),
    13: (KEY, "حساب غیرفعال است"), 14: (KEY, "حساب معلق است"), 20: (LIMIT, ""), 101: (SENDER, ""),
    102: (CREDIT, ""), 103: (TEXT, "متن خالی است"), 104: (NUMBER, ""), 105: (LIMIT, "بیش از ۱۰۰ شماره"),
    106: (LIMIT, "بیش از ۱۰۰ متن"), 107: (NUMBER, "فهرست شماره‌ها خالی است"), 108: (TEXT, "فهرست متن‌ها خالی است"),
    109: (OTHER, "زمان ارسال نادرست است"), 110: (OTHER, "تعداد شماره‌ها و متن‌ها برابر نیست"),
    113: (OTHER, "قالب یافت نشد"), 115: (BLACKLIST, ""), 117: (TEXT, "متن تأیید نشده است"),
    118: (LIMIT, ""), 119: (OTHER, "طرح حساب باید ارتقا یابد"), 123: (SENDER, "خط باید فعال شود"),
}
DELIVERY = {1: "delivered", 2: "undelivered", 3: "sent", 4: "sent", 5: "sent", 6: "failed", 7: "failed"}


class SmsIr(Provider):
    name = "smsir"
    label = "اس‌ام‌اس‌دات‌آی‌آر (sms.ir)"
    default_base = "https://api.sms.ir/v1"
    max_batch = 100
    min_interval = 0.5

    def _headers(self) -> dict:
        return {"X-API-KEY": self.key}

    def _call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        status, data = self.http(method, f"{self.base_url}{path}", body=body, headers=self._headers(), query=query)
        data = data or {}
        code = data.get("status")
        if status == 401:
            raise self.error(KEY, code if code is not None else 401)
        if status == 429:
            raise self.error(LIMIT, code if code is not None else 429)
        if code != 1:
            kind, detail = CODES.get(int(str(code)) if str(code).lstrip("-").isdigit() else -1,
                                     (OTHER, str(data.get("message") or "")))
            raise self.error(kind, code if code is not None else status, detail)
        return data.get("data")

    def _line(self):
        return int(self.sender) if str(self.sender).isdigit() else self.sender

    def send(self, items: list[Outgoing]) -> list[Result]:
        if len({i.text for i in items}) == 1:
            data = self._call("POST", "/send/bulk", {"lineNumber": self._line(), "messageText": items[0].text,
                                                     "mobiles": [i.number for i in items]})
        else:
            data = self._call("POST", "/send/likeToLike", {"lineNumber": self._line(),
                                                           "messageTexts": [i.text for i in items],
                                                           "mobiles": [i.number for i in items]})
        ids = (data or {}).get("messageIds") or []
        out = []
        for n, item in enumerate(items):
            mid = ids[n] if n < len(ids) else None
            if mid is None:
                out.append(self.fail(item, NUMBER))
            elif str(mid) == "0":
                out.append(self.fail(item, BLACKLIST, "0"))
            else:
                out.append(Result(item.local_id, True, str(mid)))
        return out

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        out = []
        for pid in provider_ids:
            data = self._call("GET", f"/send/{pid}") or {}
            st = data.get("deliveryState")
            if st in DELIVERY:
                out.append(Delivery(pid, DELIVERY[st], str(st)))
        return out

    def inbox(self) -> list[Inbound]:
        data = self._call("GET", "/receive/latest", query={"count": 100}) or []
        return [Inbound(str(d.get("id") or f"{d.get('mobile')}:{d.get('receivedDateTime')}"),
                        str(d.get("mobile") or ""), str(d.get("messageText") or ""), str(d.get("number") or ""),
                        d.get("receivedDateTime")) for d in data]
