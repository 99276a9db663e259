"""Ghasedak (قاصدک) gateway: https://gateway.ghasedak.me/rest/api/v1/WebService/, header ApiKey, JSON bodies;
envelope {Data, IsSuccess, StatusCode, Message}. Batches go through SendPairToPairSMS with our id as each
item's ClientReferenceId, and `CheckSmsStatus?Type=2` looks messages up by that id: an interrupted send is
checked, not re-sent blindly. Ghasedak's numeric error table for this gateway is not published; its own
Persian `Message` is shown beside the meaning we infer from the HTTP status."""
from __future__ import annotations

from app.sms.providers.base import (
    BLACKLIST,
    CREDIT,
    KEY,
    LIMIT,
    OTHER,
    SERVER,
    Delivery,
    Inbound,
    Outgoing,
    Provider,
    Result,
)

HTTP_KINDS = {401: KEY, 403: KEY, 402: CREDIT, 429: LIMIT, 500: SERVER, 503: SERVER}
# SDK enum: 0 ToBeConfirmed 1 Rejected 2 ToBeSent 3 Sending 4 Sent 5 DebugMode 6 InternalFailed 7 Canceled
# 8 InternalBlacklisted 9 Paused 10 SentToProvider 11 DeliveredToProvider 12 Blacklisted 13 NotDelivered
# 14 Delivered 15 Blocked 16 Failed 17 Processing
DELIVERY = {14: "delivered", 13: "undelivered", 1: "failed", 6: "failed", 7: "failed", 8: "failed",
            12: "failed", 15: "failed", 16: "failed", 0: "sent", 2: "sent", 3: "sent", 4: "sent", 10: "sent",
            11: "sent", 17: "sent"}
BLACKLISTED = {8, 12}


class Ghasedak(Provider):
    name = "ghasedak"
    label = "قاصدک"
    default_base = "https://gateway.ghasedak.me/rest/api/v1/WebService"
    max_batch = 100
    min_interval = 0.5
    can_lookup_local = True

    def _call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        status, data = self.http(method, f"{self.base_url}/{path}", body=body, query=query,
                                 headers={"ApiKey": self.key})
        data = data or {}
        if not data.get("IsSuccess"):
            code = data.get("StatusCode") or status
            msg = str(data.get("Message") or "")
            kind = HTTP_KINDS.get(int(code) if str(code).isdigit() else 0, OTHER)
            if "اعتبار" in msg or "credit" in msg.lower():
                kind = CREDIT
            raise self.error(kind, code, msg)
        return data.get("Data")

    def send(self, items: list[Outgoing]) -> list[Result]:
        data = self._call("POST", "SendPairToPairSMS", {
            "Items": [{"LineNumber": self.sender, "Receptor": i.number, "Message": i.text,
                       "ClientReferenceId": str(i.local_id)} for i in items], "Udh": True})
        rows = (data or {}).get("Items") if isinstance(data, dict) else data
        by_ref = {str(r.get("ClientReferenceId")): r for r in rows or [] if isinstance(r, dict)}
        return [self._result(i.local_id, by_ref.get(str(i.local_id))) for i in items]

    def _result(self, local_id: int, r: dict | None) -> Result:
        if not r or not r.get("MessageId"):
            return Result(local_id, False, kind=OTHER, error="پاسخی برای این شماره نیامد.")
        st = r.get("Status")
        st = int(str(st)) if str(st).isdigit() else None
        if st is not None and DELIVERY.get(st) == "failed":
            kind = BLACKLIST if st in BLACKLISTED else OTHER
            return Result(local_id, False, str(r["MessageId"]), str(st), kind)
        return Result(local_id, True, str(r["MessageId"]), "" if st is None else str(st))

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        out = []
        for lo in range(0, len(provider_ids), 100):
            rows = self._call("GET", "CheckSmsStatus", query={"Type": 1, "Ids": ",".join(provider_ids[lo:lo + 100])})
            for r in rows or []:
                st = r.get("Status")
                if isinstance(st, int) and st in DELIVERY:
                    out.append(Delivery(str(r.get("MessageId")), DELIVERY[st], str(st)))
        return out

    def lookup_local(self, local_ids: list[int]) -> dict[int, Result]:
        found: dict[int, Result] = {}
        for lo in range(0, len(local_ids), 100):
            rows = self._call("GET", "CheckSmsStatus",
                              query={"Type": 2, "Ids": ",".join(map(str, local_ids[lo:lo + 100]))})
            for r in rows or []:
                ref = str(r.get("ClientReferenceId") or "")
                if ref.isdigit() and r.get("MessageId"):
                    found[int(ref)] = self._result(int(ref), r)
        return found

    def inbox(self) -> list[Inbound]:
        rows = self._call("GET", "GetReceivedSmses", query={"LineNumber": self.sender, "IsRead": "false"}) or []
        return [Inbound(str(r.get("Id")), str(r.get("Sender") or ""), str(r.get("Message") or ""),
                        str(r.get("LineNumber") or ""), r.get("ReceiveDate")) for r in rows if isinstance(r, dict)]
