"""Melipayamak (ملی پیامک, payamak-panel.com) REST: https://rest.payamak-panel.com/api/SendSMS/{Method}, POST
form-encoded, `username` and `password` in every body (the key setting holds «username:password»). Response
{Value, RetStatus, StrRetStatus}; RetStatus 1 = sent and Value = the recId(s). Max 100 numbers per call.
No lookup by our own id: an interrupted send is marked "uncertain"."""
from __future__ import annotations

from app.sms.providers.base import (
    BLACKLIST,
    CREDIT,
    KEY,
    LIMIT,
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
    0: (KEY, "نام کاربری یا رمز نادرست"), 2: (CREDIT, ""), 3: (LIMIT, "سقف ارسال روزانه"),
    4: (LIMIT, "سقف حجم ارسال"), 5: (SENDER, ""), 6: (SERVER, "سامانه در حال به‌روزرسانی است"),
    7: (TEXT, "متن واژه فیلترشده دارد"), 9: (SENDER, "از خطوط عمومی نمی‌توان با وب‌سرویس فرستاد"),
    10: (KEY, "کاربر غیرفعال است"), 11: (OTHER, "ارسال نشد"), 12: (KEY, "مدارک کاربر کامل نیست"),
    14: (TEXT, "متن پیوند دارد"),
    15: (TEXT, "ارسال به بیش از یک شماره بدون «لغو11» در پایان متن مجاز نیست"),
    35: (BLACKLIST, ""),
}
# GetDeliveries2 codes are not confirmed from an official page (reference §3): 1 delivered, 2 not delivered.
DELIVERY = {1: "delivered", 2: "undelivered", 0: "sent", 8: "sent", 16: "undelivered"}


class Melipayamak(Provider):
    name = "melipayamak"
    label = "ملی پیامک"
    default_base = "https://rest.payamak-panel.com/api/SendSMS"
    max_batch = 100
    min_interval = 0.5

    def _auth(self) -> dict:
        user, _, password = self.key.partition(":")
        return {"username": user, "password": password}

    def _call(self, method: str, form: dict) -> str:
        status, data = self.http("POST", f"{self.base_url}/{method}", form={**self._auth(), **form})
        data = data or {}
        ret = data.get("RetStatus")
        if status == 401:
            raise self.error(KEY, 401)
        if ret != 1:
            code = int(str(ret)) if str(ret).lstrip("-").isdigit() else -1
            kind, detail = CODES.get(code, (OTHER, str(data.get("StrRetStatus") or "")))
            raise self.error(kind, code, detail)
        return str(data.get("Value") or "")

    def send(self, items: list[Outgoing]) -> list[Result]:
        if len({i.text for i in items}) == 1:
            ids = self._call("SendSMS", {"to": ",".join(i.number for i in items), "from": self.sender,
                                         "text": items[0].text, "isFlash": "false"}).split(",")
            return [Result(i.local_id, True, ids[n].strip()) if n < len(ids) and ids[n].strip()
                    else self.fail(i, OTHER) for n, i in enumerate(items)]
        out = []
        for i in items:                     # different texts: one call each (no pair-to-pair in the REST API)
            try:
                out.append(Result(i.local_id, True, self._call("SendSMS", {"to": i.number, "from": self.sender,
                                                                          "text": i.text, "isFlash": "false"})))
            except Exception as e:
                if getattr(e, "kind", "") == BLACKLIST:
                    out.append(self.fail(i, BLACKLIST, 35))
                    continue
                if out:                     # the earlier ones went: report them, and stop here
                    return out + [self.fail(x, getattr(e, "kind", OTHER), getattr(e, "code", ""))
                                  for x in items[len(out):]]
                raise
        return out

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        out = []
        for pid in provider_ids:
            status, data = self.http("POST", f"{self.base_url}/GetDeliveries2", form={**self._auth(), "recId": pid})
            v = (data or {}).get("Value")
            if str(v).lstrip("-").isdigit() and int(str(v)) in DELIVERY:
                out.append(Delivery(pid, DELIVERY[int(str(v))], str(v)))
        return out

    def inbox(self) -> list[Inbound]:
        status, data = self.http("POST", f"{self.base_url}/GetMessages",
                                 form={**self._auth(), "location": 1, "index": 0, "count": 100, "from": ""})
        rows = (data or {}).get("Data") or []
        return [Inbound(str(r.get("MsgID")), str(r.get("Sender") or ""), str(r.get("Body") or ""),
                        str(r.get("Receiver") or ""), r.get("SendDate")) for r in rows if isinstance(r, dict)]
