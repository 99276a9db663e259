"""Local fake SMS panels on 127.0.0.1 that speak each provider's documented API (paths, key placement, bodies,
envelopes, error codes), count what they receive per number, and can be told to refuse with a given code."""
from __future__ import annotations

import base64
import itertools
import json
import socketserver
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fake:
    KEY = "test-key"

    def __init__(self, delay: float = 0.0):
        self.lock = threading.Lock()
        self.sent: list[dict] = []            # {number, text, local_id, id, sender}
        self.by_number: Counter = Counter()
        self.by_local: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.error: object = None             # code to refuse every send with
        self.per_number_status: dict[str, int] = {}   # number → per-message status (blacklist …)
        self.delay = delay
        self.ids = itertools.count(7_000_000_001)
        self.inbox: list[dict] = []
        self.delivery: dict[str, int] = {}
        self.busy = 0

    def accept(self, number: str, text: str, local_id: str = "", sender: str = "") -> dict:
        with self.lock:
            rec = {"number": number, "text": text, "local_id": str(local_id), "id": next(self.ids), "sender": sender}
            self.sent.append(rec)
            self.by_number[number] += 1
            if local_id:
                self.by_local[str(local_id)] = rec
            return rec

    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, object]:
        raise NotImplementedError

    # --- the server ---------------------------------------------------------------------------------------------
    def start(self) -> Fake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlsplit(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
                with fake.lock:
                    fake.requests.append((self.command, u.path, dict(self.headers)))
                    fake.busy += 1
                try:
                    status, payload = fake.handle(self.command, u.path, q, self.headers, body)
                    if fake.delay:
                        time.sleep(fake.delay)
                    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                    try:
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json; charset=utf-8")
                        self.send_header("Content-Length", str(len(raw)))
                        self.end_headers()
                        self.wfile.write(raw)
                    except OSError:
                        pass          # the client died (kill -9) while we answered
                finally:
                    with fake.lock:
                        fake.busy -= 1

            do_GET = do_POST = do_DELETE = _do

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def idle(self, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.busy == 0:
                    return
            time.sleep(0.01)


def _form(body: bytes) -> dict:
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


class FakeKavenegar(Fake):
    """/v1/{API-KEY}/sms/{send,sendarray,status,statuslocalmessageid,receive}.json; return.status codes."""

    def _ret(self, status: int, entries=None, http: int | None = None):
        msg = {200: "تایید شد", 403: "کد شناسائی API-Key معتبر نمی‌باشد", 418: "اعتبار حساب شما کافی نیست",
               412: "ارسال کننده نامعتبر است", 411: "گیرنده نامعتبر است"}.get(status, "خطا")
        return http or (200 if status == 200 else status), {"return": {"status": status, "message": msg},
                                                            "entries": entries}

    def handle(self, method, path, query, headers, body):
        parts = path.strip("/").split("/")           # v1, key, sms, method.json
        if len(parts) != 4 or parts[0] != "v1":
            return self._ret(404)
        if parts[1] != self.KEY:
            return self._ret(403)
        form = {**query, **_form(body)}
        m = parts[3].removesuffix(".json")
        if m in ("send", "sendarray"):
            if self.error:
                return self._ret(int(self.error))
            if m == "send":
                numbers = form["receptor"].split(",")
                texts = [form["message"]] * len(numbers)
                lids = form.get("localid", "").split(",") if form.get("localid") else [""] * len(numbers)
                sender = form.get("sender", "")
            else:
                numbers = json.loads(form["receptor"])
                texts = json.loads(form["message"])
                lids = json.loads(form.get("localmessageids") or "[]") or [""] * len(numbers)
                sender = json.loads(form["sender"])[0]
                if not (len(numbers) == len(texts) == len(lids)):
                    return self._ret(419)
            if len(numbers) > 200:
                return self._ret(414)
            entries = []
            for num, text, lid in zip(numbers, texts, lids, strict=True):
                st = self.per_number_status.get(num, 1)
                rec = self.accept(num, text, lid, sender) if st != 14 else {"id": next(self.ids)}
                entries.append({"messageid": rec["id"], "message": text, "status": st,
                                "statustext": "در صف ارسال" if st == 1 else "مسدود", "sender": sender,
                                "receptor": num, "date": int(time.time()), "cost": 120})
            return self._ret(200, entries)
        if m == "statuslocalmessageid":
            entries = []
            for lid in form["localid"].split(","):
                rec = self.by_local.get(lid)
                entries.append({"messageid": rec["id"], "localid": lid, "status": 1, "statustext": "در صف"}
                               if rec else {"messageid": 0, "localid": lid, "status": 100, "statustext": "نامعتبر"})
            return self._ret(200, entries)
        if m == "status":
            return self._ret(200, [{"messageid": int(i), "status": self.delivery.get(i, 4), "statustext": ""}
                                   for i in form["messageid"].split(",")])
        if m == "receive":
            out, self.inbox = self.inbox, []
            return self._ret(200, out)
        return self._ret(404)


class FakeSmsIr(Fake):
    """/v1/send/bulk, /v1/send/likeToLike, /v1/send/{id}, /v1/receive/latest; X-API-KEY; {status,message,data}."""

    def handle(self, method, path, query, headers, body):
        if headers.get("X-API-KEY") != self.KEY:
            return 401, {"status": 10, "message": "کلید وب سرویس نامعتبر است", "data": None}
        if method == "POST" and path in ("/v1/send/bulk", "/v1/send/likeToLike"):
            if self.error:
                return 400, {"status": int(self.error), "message": "خطا", "data": None}
            b = json.loads(body)
            mobiles = b["mobiles"]
            texts = [b["messageText"]] * len(mobiles) if path.endswith("bulk") else b["messageTexts"]
            if len(mobiles) > 100:
                return 400, {"status": 105, "message": "تعداد موبایل‌ها بیش از ۱۰۰", "data": None}
            ids = []
            for num, text in zip(mobiles, texts, strict=True):
                if self.per_number_status.get(num) == 115:
                    ids.append(0)
                else:
                    ids.append(self.accept(num, text, sender=str(b["lineNumber"]))["id"])
            return 200, {"status": 1, "message": "موفق", "data": {"packId": "p-1", "messageIds": ids, "cost": 1.0}}
        if method == "GET" and path.startswith("/v1/send/"):
            mid = path.rsplit("/", 1)[1]
            return 200, {"status": 1, "message": "موفق",
                         "data": {"messageId": int(mid), "deliveryState": self.delivery.get(mid, 3)}}
        if path == "/v1/receive/latest":
            out, self.inbox = self.inbox, []
            return 200, {"status": 1, "message": "موفق", "data": out}
        return 404, {"status": 0, "message": "not found", "data": None}


class FakeMelipayamak(Fake):
    """/api/SendSMS/{SendSMS,GetDeliveries2,GetMessages}, form body with username/password; {Value,RetStatus}."""

    USER, PASSWORD = "office", "secret"

    def handle(self, method, path, query, headers, body):
        f = _form(body)
        if f.get("username") != self.USER or f.get("password") != self.PASSWORD:
            return 200, {"Value": "0", "RetStatus": 0, "StrRetStatus": "InvalidUserPass"}
        m = path.rsplit("/", 1)[1]
        if m == "SendSMS":
            if self.error:
                return 200, {"Value": str(self.error), "RetStatus": int(self.error), "StrRetStatus": "Error"}
            numbers = f["to"].split(",")
            if any(self.per_number_status.get(n) == 35 for n in numbers):
                return 200, {"Value": "35", "RetStatus": 35, "StrRetStatus": "Blacklist"}
            ids = [str(self.accept(n, f["text"], sender=f["from"])["id"]) for n in numbers]
            return 200, {"Value": ",".join(ids), "RetStatus": 1, "StrRetStatus": "Ok"}
        if m == "GetDeliveries2":
            return 200, {"Value": str(self.delivery.get(f["recId"], 0)), "RetStatus": 1, "StrRetStatus": "Ok"}
        return 404, {"Value": "", "RetStatus": -1}


class FakeGhasedak(Fake):
    """/rest/api/v1/WebService/{SendPairToPairSMS,CheckSmsStatus,GetReceivedSmses}, header ApiKey."""

    def _env(self, data=None, ok=True, code=200, msg="با موفقیت انجام شد"):
        return (200 if ok else code), {"Data": data, "IsSuccess": ok, "StatusCode": code, "Message": msg}

    def handle(self, method, path, query, headers, body):
        if headers.get("ApiKey") != self.KEY:
            return self._env(ok=False, code=401, msg="کلید نامعتبر است")
        m = path.rsplit("/", 1)[1]
        if m == "SendPairToPairSMS":
            if self.error:
                return self._env(ok=False, code=int(self.error), msg="اعتبار کافی نیست")
            items = []
            for it in json.loads(body)["Items"]:
                st = self.per_number_status.get(it["Receptor"], 2)
                rec = self.accept(it["Receptor"], it["Message"], it["ClientReferenceId"], it["LineNumber"]) \
                    if st != 12 else {"id": next(self.ids)}
                items.append({"Receptor": it["Receptor"], "MessageId": str(rec["id"]), "Cost": 1,
                              "ClientReferenceId": it["ClientReferenceId"], "Status": st})
            return self._env({"Items": items, "TotalCost": len(items)})
        if m == "CheckSmsStatus":
            ids = query["Ids"].split(",")
            rows = []
            for i in ids:
                if query["Type"] == "2":
                    rec = self.by_local.get(i)
                    if rec:
                        rows.append({"MessageId": str(rec["id"]), "ClientReferenceId": i, "Status": 4})
                else:
                    rows.append({"MessageId": i, "Status": self.delivery.get(i, 4)})
            return self._env(rows)
        if m == "GetReceivedSmses":
            out, self.inbox = self.inbox, []
            return self._env(out)
        return self._env(ok=False, code=404, msg="not found")


class FakeIPPanel(Fake):
    """Edge: POST /v1/api/send (webservice / peer_to_peer), GET /v1/api/report/recipients; Authorization."""

    def handle(self, method, path, query, headers, body):
        if headers.get("Authorization") != self.KEY:
            return 401, {"data": None, "meta": {"status": False, "message": "عدم احراز هویت", "message_code": "400-1"}}
        if path == "/v1/api/send":
            b = json.loads(body)
            if self.error:
                return 422, {"data": None, "errors": {"credit": ["اعتبار کافی نیست"]},
                             "meta": {"status": False, "message": "اعتبار کافی نیست", "message_code": "400-2"}}
            if b["sending_type"] == "webservice":
                bulk = next(self.ids)
                for r in b["params"]["recipients"]:
                    self.accept("0" + r[3:], b["message"], sender=b["from_number"])
                self.bulks = getattr(self, "bulks", {})
                self.bulks[str(bulk)] = b["params"]["recipients"]
                ids = [bulk]
            else:
                ids = []
                for p in b["params"]:
                    bulk = next(self.ids)
                    for r in p["recipients"]:
                        self.accept("0" + r[3:], p["message"], sender=b["from_number"])
                    self.bulks = getattr(self, "bulks", {})
                    self.bulks[str(bulk)] = p["recipients"]
                    ids.append(bulk)
            return 200, {"data": {"message_outbox_ids": ids},
                         "meta": {"status": True, "message": "انجام شد", "message_code": "200-1"}}
        if path == "/v1/api/report/recipients":
            recips = getattr(self, "bulks", {}).get(query["bulk_id"], [])
            return 200, {"data": [{"recipient": r, "message_status": self.delivery.get(r, 0)} for r in recips],
                         "meta": {"status": True, "message": "انجام شد", "message_code": "200-1"}}
        return 404, {"data": None, "meta": {"status": False, "message": "not found"}}


# --- SMTP ------------------------------------------------------------------------------------------------------

class SMTPHandler(socketserver.StreamRequestHandler):
    """A small SMTP server on 127.0.0.1: EHLO, AUTH (checks the password), MAIL/RCPT (a recipient with
    "refused" in it is refused), DATA; what it receives is kept in `server.received`. With `server.hold` (an
    Event) it keeps a message and holds back its reply until the event is set (a sender killed mid-send)."""

    def handle(self):
        srv = self.server
        self.wfile.write(b"220 fake ESMTP\r\n")
        data_mode, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    data_mode = False
                    srv.received.append(b"".join(lines))
                    lines = []
                    if srv.hold is not None:
                        srv.hold.wait()       # the message is here; the sender waits for the reply
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250-fake\r\n250 AUTH PLAIN LOGIN\r\n")
            elif cmd.startswith(b"AUTH"):
                ok = srv.password is None or srv.password.encode() in base64.b64decode(
                    line.split()[-1])
                self.wfile.write(b"235 ok\r\n" if ok else b"535 bad credentials\r\n")
            elif cmd.startswith(b"RCPT") and b"refused" in cmd.lower():
                self.wfile.write(b"550 no such user\r\n")
            elif cmd.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                self.wfile.write(b"250 ok\r\n")
            elif cmd == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, ctx=None, password=None):
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.received, self.ctx, self.password = [], ctx, password
        self.hold: threading.Event | None = None     # set: replies to DATA wait until the event is set

    def get_request(self):
        sock, addr = super().get_request()
        if self.ctx:
            sock = self.ctx.wrap_socket(sock, server_side=True)
        return sock, addr

    def start(self) -> SMTPServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    @property
    def port(self) -> int:
        return self.server_address[1]
