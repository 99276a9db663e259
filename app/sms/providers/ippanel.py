"""IPPanel Edge: https://edge.ippanel.com/v1, header Authorization: <key>, JSON. `POST /api/send` with
sending_type `webservice` (one text) or `peer_to_peer`; numbers in E.164. Success
{data: {message_outbox_ids}, meta: {status: true}}; HTTP 401 → message_code 400-1, 422 → 400-2 with `errors`.
Delivery: `GET /api/report/recipients?bulk_id=` → message_status 0 sent to operator, 1 received by operator,
2 delivered, 3 not delivered, 4 blacklisted. No lookup by our own id: an interrupted send is "uncertain"."""
from __future__ import annotations

from typing import Any

from app.sms.providers.base import (
    CREDIT,
    KEY,
    LIMIT,
    OTHER,
    SENDER,
    Delivery,
    Outgoing,
    Provider,
    Result,
    e164,
    national,
)

DELIVERY = {0: "sent", 1: "sent", 2: "delivered", 3: "undelivered", 4: "failed"}


class IPPanel(Provider):
    name = "ippanel"
    label = "آی‌پی‌پنل (IPPanel)"
    default_base = "https://edge.ippanel.com/v1"
    max_batch = 100
    min_interval = 0.5

    def _call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        status, data = self.http(method, f"{self.base_url}{path}", body=body, query=query,
                                 headers={"Authorization": self.key})
        data = data or {}
        meta = data.get("meta") or {}
        if status == 401 or meta.get("message_code") == "400-1":
            raise self.error(KEY, meta.get("message_code") or 401)
        if status == 429:
            raise self.error(LIMIT, 429)
        if not meta.get("status"):
            msg = str(meta.get("message") or "")
            errors = data.get("errors") or meta.get("errors") or {}
            text = msg + " " + " ".join(str(v) for v in (errors.values() if isinstance(errors, dict) else errors))
            kind = (CREDIT if "اعتبار" in text or "credit" in text.lower()
                    else SENDER if "from_number" in str(errors) or "فرستنده" in text else OTHER)
            raise self.error(kind, meta.get("message_code") or status, msg)
        return data.get("data")

    def _from(self) -> str:
        return e164(self.sender) if self.sender.startswith("0") else "+98" + self.sender.lstrip("+")

    def send(self, items: list[Outgoing]) -> list[Result]:
        body: dict[str, Any]
        if len({i.text for i in items}) == 1:
            body = {"sending_type": "webservice", "from_number": self._from(), "message": items[0].text,
                    "params": {"recipients": [e164(i.number) for i in items]}}
        else:
            body = {"sending_type": "peer_to_peer", "from_number": self._from(),
                    "params": [{"recipients": [e164(i.number)], "message": i.text} for i in items]}
        data = self._call("POST", "/api/send", body) or {}
        ids = data.get("message_outbox_ids") or []
        # One outbox id per call (webservice) or per pair (peer_to_peer); each message keeps "bulk:number".
        out = []
        for n, i in enumerate(items):
            bulk = ids[n] if len(ids) == len(items) else (ids[0] if ids else "")
            out.append(Result(i.local_id, True, f"{bulk}:{i.number}") if bulk else self.fail(i, OTHER))
        return out

    def status(self, provider_ids: list[str]) -> list[Delivery]:
        out = []
        bulks: dict[str, list[str]] = {}
        for pid in provider_ids:
            bulk, _, number = pid.partition(":")
            bulks.setdefault(bulk, []).append(number)
        for bulk, numbers in bulks.items():
            rows = self._call("GET", "/api/report/recipients", query={"bulk_id": bulk, "page": 1,
                                                                       "per_page": 1000}) or []
            if isinstance(rows, dict):
                rows = rows.get("recipients") or rows.get("items") or []
            for r in rows:
                num = national(str(r.get("recipient") or r.get("number") or ""))
                st = r.get("message_status")
                if num in numbers and st in DELIVERY:
                    out.append(Delivery(f"{bulk}:{num}", DELIVERY[st], str(st)))
        return out

