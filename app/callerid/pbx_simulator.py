"""Simulated telephone systems: an Asterisk AMI server and a Panasonic SMDR port (pty or TCP).

``crm callerid simulate --device ami|smdr`` runs them; tests and the bench drive the classes directly.

AMI (``AmiServer``): listens on 127.0.0.1 (port 0 = any free port), greets with the banner
``Asterisk Call Manager/7.0.3`` (style "16", Asterisk 12+ event names: Newchannel, DialBegin, DialEnd,
BridgeEnter, BridgeLeave, Hangup, Cdr) or ``…/1.3`` (style "11": ``Dial`` with ``SubEvent: Begin/End``,
``Bridge`` with ``Bridgestate: Link``, no Linkedid), accepts ``Login`` (plain ``Secret`` or the MD5
``Challenge``/``Key``), ``Ping``, ``Logoff``, ``CoreSettings`` and ``Originate``, and plays scripted calls
to every logged-in client:

    server.incoming("09121234567", ["101", "102"], answer_by="102", transfer_to="103", talk=2.0)
    server.outgoing("101", "09351112233", talk=1.0)

``Originate`` (with ``Async: true``) is answered "Originate successfully queued"; the ``OriginateResponse``
follows with the outcome set for the extension in ``server.extension_states`` ("answer" — the default —,
"busy", "noanswer", "offline", "reject"); an answered Originate then plays the outgoing call.

SMDR (``SmdrPty`` / ``SmdrTcpServer``): one fixed-column record per finished call (``smdr_record``), the
header at the start and after each page (``page_length`` records; a form feed between pages); the TCP
server asks ``-`` (user, ``SMDR``) then ``Enter Password:`` (``PCCSMDR``) first, as the LAN models do.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable

from app.callerid.decoders.ami import PacketReader, encode_action

logger = logging.getLogger(__name__)

STYLES = ("16", "11")
BANNERS = {"16": "Asterisk Call Manager/7.0.3", "11": "Asterisk Call Manager/1.3"}
TRUNK = "tci"
OFFICE_DID = "02188776655"
ORIGINATE_REASONS = {"answer": ("Success", "4"), "busy": ("Failure", "5"), "noanswer": ("Failure", "3"),
                     "offline": ("Failure", "0"), "reject": ("Failure", "1")}

Step = tuple[float, bytes]          # (seconds to wait before, bytes to send)


def ami_packet(fields: Iterable[tuple[str, str]]) -> bytes:
    return encode_action(list(fields))


# =========================================================================================================
# Scripted calls in both event styles
# =========================================================================================================
class CallScript:
    """Builds the event packets of whole calls. Unique ids grow from ``base``; every event carries a
    ``Timestamp`` (style 16) so talk times can be checked."""

    def __init__(self, style: str = "16", base: float | None = None):
        if style not in STYLES:
            raise ValueError(f"unknown AMI style {style!r}; one of {', '.join(STYLES)}")
        self.style = style
        self._base = int(base if base is not None else time.time())
        self._ids = itertools.count(1)
        self._chan_ids = itertools.count(1)
        self.clock = 0.0                 # seconds since the script began, advanced by the delays

    def _uid(self) -> str:
        return f"{self._base}.{next(self._ids)}"

    def _chan(self, peer: str) -> str:
        tech = "PJSIP" if self.style == "16" else "SIP"
        return f"{tech}/{peer}-{next(self._chan_ids):08x}"

    def _snap(self, chan: str, uid: str, linked: str, state: int, num: str, name: str = "", exten: str = "s",
              ctx: str = "from-internal", connected: str = "") -> list[tuple[str, str]]:
        desc = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}[state]
        out = [("Channel", chan), ("ChannelState", str(state)), ("ChannelStateDesc", desc), ("CallerIDNum", num),
               ("CallerIDName", name or "<unknown>")]
        if self.style == "16":
            out += [("ConnectedLineNum", connected or "<unknown>"), ("ConnectedLineName", "<unknown>"),
                    ("Language", "en"), ("AccountCode", ""), ("Context", ctx), ("Exten", exten), ("Priority", "1"),
                    ("Uniqueid", uid), ("Linkedid", linked)]
        else:
            out += [("AccountCode", ""), ("Exten", exten), ("Context", ctx), ("Uniqueid", uid)]
        return out

    def _ev(self, name: str, fields: list[tuple[str, str]]) -> bytes:
        head = [("Event", name), ("Privilege", "call,all")]
        if self.style == "16":
            head.append(("Timestamp", f"{self._base + self.clock:.6f}"))
        return ami_packet(head + fields)

    def _at(self, delay: float) -> float:
        """Advance the script's clock (call before building the step's packets, so they carry its time)."""
        self.clock += delay
        return delay

    # -- pieces ---------------------------------------------------------------------------------------------
    def _dial_begin(self, src: tuple, dst: tuple, dialstring: str) -> bytes:
        (sc, su, sl, sn), (dc, du, dl, dn) = src, dst
        if self.style == "16":
            dest = [("Dest" + k, v) for k, v in self._snap(dc, du, dl, 0, dn)]
            return self._ev("DialBegin", self._snap(sc, su, sl, 4, sn) + dest + [("DialString", dialstring)])
        return self._ev("Dial", [("SubEvent", "Begin"), ("Channel", sc), ("Destination", dc), ("CallerIDNum", sn),
                                 ("CallerIDName", "<unknown>"), ("UniqueID", su), ("DestUniqueID", du),
                                 ("Dialstring", dialstring)])

    def _dial_end(self, src: tuple, dst: tuple, status: str) -> bytes:
        (sc, su, sl, sn), (dc, du, dl, dn) = src, dst
        if self.style == "16":
            dest = [("Dest" + k, v) for k, v in self._snap(dc, du, dl, 6 if status == "ANSWER" else 5, dn)]
            return self._ev("DialEnd", self._snap(sc, su, sl, 4, sn) + dest + [("DialStatus", status)])
        return self._ev("Dial", [("SubEvent", "End"), ("Channel", sc), ("UniqueID", su), ("DialStatus", status)])

    def _bridge(self, a: tuple, b: tuple, bridge_id: str) -> bytes:
        if self.style == "16":
            return b"".join(self._ev("BridgeEnter", [("BridgeUniqueid", bridge_id), ("BridgeType", "basic"),
                                                     ("BridgeTechnology", "simple_bridge"),
                                                     ("BridgeNumChannels", str(i + 1))]
                                     + self._snap(c[0], c[1], c[2], 6, c[3])) for i, c in enumerate((a, b)))
        return self._ev("Bridge", [("Bridgestate", "Link"), ("Bridgetype", "core"), ("Channel1", a[0]),
                                   ("Channel2", b[0]), ("Uniqueid1", a[1]), ("Uniqueid2", b[1]),
                                   ("CallerID1", a[3]), ("CallerID2", b[3])])

    def _unbridge(self, chans: list[tuple], bridge_id: str) -> bytes:
        if self.style != "16":
            return b""
        return b"".join(self._ev("BridgeLeave", [("BridgeUniqueid", bridge_id), ("BridgeType", "basic")]
                                 + self._snap(c[0], c[1], c[2], 6, c[3])) for c in chans)

    def _hangup(self, c: tuple, state: int = 6, cause: str = "16", text: str = "Normal Clearing") -> bytes:
        return self._ev("Hangup", self._snap(c[0], c[1], c[2], state, c[3]) + [("Cause", cause), ("Cause-txt", text)])

    def _newchannel(self, c: tuple, state: int, name: str = "", exten: str = "s", ctx: str = "from-internal") -> bytes:
        return self._ev("Newchannel", self._snap(c[0], c[1], c[2], state, c[3], name, exten, ctx))

    def _newstate(self, c: tuple, state: int, connected: str = "") -> bytes:
        return self._ev("Newstate", self._snap(c[0], c[1], c[2], state, c[3], connected=connected))

    # -- whole calls -----------------------------------------------------------------------------------------
    def incoming(self, caller: str, extensions: list[str], answer_by: str | None = None,
                 transfer_to: str | None = None, ring: float = 0.5, talk: float = 0.5, name: str = "",
                 did: str = OFFICE_DID, cdr: bool = False) -> list[Step]:
        """A call from ``caller`` ringing every extension in ``extensions`` at once (a ring group); one of
        them answers (or nobody: the caller gives up after ``ring`` seconds); optionally a blind transfer."""
        uid = self._uid()
        trunk = (self._chan(TRUNK), uid, uid, caller)
        steps = [(self._at(0.0), b"".join([self._newchannel(trunk, 4, name, did, "from-trunk")]))]
        legs: dict[str, tuple] = {}
        ringing = []
        self._at(0.05)
        for ext in extensions:
            leg = (self._chan(ext), self._uid(), uid, ext)
            legs[ext] = leg
            ringing.append(self._newchannel(leg, 0) + self._dial_begin(trunk, leg, ext)
                           + self._newstate(leg, 5, caller))
        steps.append((0.05, b"".join(ringing)))
        if answer_by is None:
            self._at(ring)
            ends = [self._dial_end(trunk, leg, "CANCEL") + self._hangup(leg, 5, "0", "Unknown")
                    for leg in legs.values()]
            steps.append((ring, b"".join([*ends, self._hangup(trunk, 4)])))
            return steps
        if answer_by not in legs:
            raise ValueError(f"extension {answer_by} is not among the ringing ones {extensions}")
        ans = legs[answer_by]
        self._at(ring)
        packets = [self._newstate(ans, 6, caller), self._dial_end(trunk, ans, "ANSWER")]
        for ext, leg in legs.items():
            if ext != answer_by:
                packets.append(self._dial_end(trunk, leg, "CANCEL") + self._hangup(leg, 5, "26", "Answered elsewhere"))
        bridge = f"bridge-{uid}-1"
        packets.append(self._bridge(trunk, ans, bridge))
        steps.append((ring, b"".join(packets)))
        talking = ans
        if transfer_to:
            leg = (self._chan(transfer_to), self._uid(), uid, transfer_to)
            bridge2 = f"bridge-{uid}-2"
            steps.append((self._at(talk), b"".join([self._unbridge([ans, trunk], bridge), self._hangup(ans),
                                    self._newchannel(leg, 0), self._dial_begin(trunk, leg, transfer_to),
                                    self._newstate(leg, 5, caller)])))
            steps.append((self._at(ring), b"".join([self._newstate(leg, 6, caller), self._dial_end(trunk, leg, "ANSWER"),
                                    self._bridge(trunk, leg, bridge2)])))
            talking, bridge = leg, bridge2
        self._at(talk)
        end = [self._unbridge([trunk, talking], bridge), self._hangup(trunk), self._hangup(talking)]
        if cdr:
            end.append(self._ev("Cdr", [("Source", caller), ("Destination", did), ("Channel", trunk[0]),
                                        ("DestinationChannel", talking[0]), ("Disposition", "ANSWERED"),
                                        ("BillableSeconds", str(int(talk))), ("UniqueID", uid)]))
        steps.append((talk, b"".join(end)))
        return steps

    def outgoing(self, extension: str, number: str, answer: bool = True, talk: float = 0.5,
                 ring: float = 0.2) -> list[Step]:
        uid = self._uid()
        phone = (self._chan(extension), uid, uid, extension)
        trunk = (self._chan(TRUNK), self._uid(), uid, OFFICE_DID)
        dialstring = f"{number}@{TRUNK}" if self.style == "16" else f"{TRUNK}/{number}"
        steps = [(self._at(0.0), b"".join([self._newchannel(phone, 4, extension, number),
                            self._newchannel(trunk, 0, "", "s", "from-trunk"),
                            self._dial_begin(phone, trunk, dialstring)]))]
        if answer:
            steps.append((self._at(ring), b"".join([self._newstate(trunk, 6, extension), self._dial_end(phone, trunk, "ANSWER"),
                                    self._bridge(phone, trunk, f"bridge-{uid}")])))
            steps.append((self._at(talk), b"".join([self._unbridge([trunk, phone], f"bridge-{uid}"), self._hangup(trunk),
                                    self._hangup(phone)])))
        else:
            steps.append((self._at(ring), b"".join([self._dial_end(phone, trunk, "BUSY"),
                                    self._hangup(trunk, 0, "17", "User busy"), self._hangup(phone, 4, "17", "User busy")])))
        return steps

    def internal(self, caller_ext: str, callee_ext: str, talk: float = 0.2) -> list[Step]:
        uid = self._uid()
        a = (self._chan(caller_ext), uid, uid, caller_ext)
        b = (self._chan(callee_ext), self._uid(), uid, callee_ext)
        return [(self._at(0.0), b"".join([self._newchannel(a, 4, caller_ext, callee_ext), self._newchannel(b, 0),
                           self._dial_begin(a, b, callee_ext), self._newstate(b, 5, caller_ext)])),
                (self._at(0.1), b"".join([self._newstate(b, 6), self._dial_end(a, b, "ANSWER"), self._bridge(a, b, f"br-{uid}")])),
                (self._at(talk), b"".join([self._hangup(b), self._hangup(a)]))]


# =========================================================================================================
# The AMI server
# =========================================================================================================
class _Client:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader = PacketReader()
        self.logged_in = False
        self.events = True
        self.challenge = ""
        self.lock = threading.Lock()

    def send(self, data: bytes) -> bool:
        with self.lock:
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False


class AmiServer:
    """A scripted Asterisk on 127.0.0.1 (see the module's docstring)."""

    def __init__(self, port: int = 0, user: str = "crm", secret: str = "s3cret", style: str = "16",
                 host: str = "127.0.0.1", originate_delay: float = 0.3):
        if style not in STYLES:
            raise ValueError(f"unknown AMI style {style!r}; one of {', '.join(STYLES)}")
        self.user, self.secret, self.style = user, secret, style
        self.script = CallScript(style)
        self.extension_states: dict[str, str] = {}
        self.originate_delay = originate_delay
        self.actions: list[dict] = []           # every action received (secrets blanked), for tests
        self.logins = 0
        self._clients: list[_Client] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(8)
        self.host, self.port = self._sock.getsockname()[:2]
        self._threads: list[threading.Thread] = []
        self._player_lock = threading.Lock()
        t = threading.Thread(target=self._accept, name="ami-sim-accept", daemon=True)
        t.start()
        self._threads.append(t)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> AmiServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- clients -----------------------------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            self._sock.settimeout(0.1)
        except OSError:  # closed before this thread ran
            return
        while not self._stop.is_set():
            try:
                sock, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                sock.close()
                continue
            client = _Client(sock)
            with self._lock:
                self._clients.append(client)
            client.send((BANNERS[self.style] + "\r\n").encode())
            t = threading.Thread(target=self._serve, args=(client,), name="ami-sim-client", daemon=True)
            t.start()

    def _serve(self, client: _Client) -> None:
        try:
            client.sock.settimeout(0.2)
        except OSError:  # the server closed this client before its thread started
            return
        try:
            while not self._stop.is_set():
                try:
                    data = client.sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                for p in client.reader.push(data):
                    if not self._action(client, p):
                        return
        finally:
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        try:
            client.sock.close()
        except OSError:
            pass

    def _respond(self, client: _Client, aid: str, fields: list[tuple[str, str]]) -> None:
        head = fields[:1] + ([("ActionID", aid)] if aid else []) + fields[1:]
        client.send(ami_packet(head))

    def _action(self, client: _Client, p) -> bool:
        action = p.get("Action").strip().lower()
        aid = p.get("ActionID")
        self.actions.append({k: ("****" if k.lower() in ("secret", "key") else v) for k, v in p.pairs})
        if action == "challenge":
            client.challenge = secrets.token_hex(8)
            self._respond(client, aid, [("Response", "Success"), ("Challenge", client.challenge)])
        elif action == "login":
            ok = p.get("Username") == self.user
            if p.get("AuthType").lower() == "md5":
                expect = hashlib.md5((client.challenge + self.secret).encode()).hexdigest()
                ok = ok and bool(client.challenge) and p.get("Key").lower() == expect
            else:
                ok = ok and p.get("Secret") == self.secret
            if not ok:
                self._respond(client, aid, [("Response", "Error"), ("Message", "Authentication failed")])
                return False                  # Asterisk closes the connection after a failed login
            client.logged_in = True
            client.events = p.get("Events", default="on").strip().lower() != "off"
            self.logins += 1
            self._respond(client, aid, [("Response", "Success"), ("Message", "Authentication accepted")])
            if client.events:
                client.send(ami_packet([("Event", "FullyBooted"), ("Privilege", "system,all"),
                                        ("Status", "Fully Booted")]))
        elif not client.logged_in:
            self._respond(client, aid, [("Response", "Error"), ("Message", "Missing action in request")
                                        if not action else ("Message", "Permission denied")])
        elif action == "ping":
            self._respond(client, aid, [("Response", "Success"), ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])
        elif action == "logoff":
            self._respond(client, aid, [("Response", "Goodbye"), ("Message", "Thanks for all the fish.")])
            return False
        elif action == "coresettings":
            self._respond(client, aid, [("Response", "Success"), ("AMIversion", "7.0.3"),
                                        ("AsteriskVersion", "16.30.0" if self.style == "16" else "11.25.3")])
        elif action == "originate":
            self._originate(client, aid, p)
        else:
            self._respond(client, aid, [("Response", "Error"), ("Message", "Invalid/unknown command")])
        return True

    def _originate(self, client: _Client, aid: str, p) -> None:
        channel = p.get("Channel")
        ext = channel.split("/", 1)[-1].split("@", 1)[0]
        number = p.get("Exten")
        self._respond(client, aid, [("Response", "Success"), ("Message", "Originate successfully queued")])
        outcome = self.extension_states.get(ext, "answer")
        response, reason = ORIGINATE_REASONS.get(outcome, ("Failure", "0"))

        def later() -> None:
            time.sleep(self.originate_delay)
            client.send(ami_packet([("Event", "OriginateResponse"), ("Privilege", "call,all"), ("ActionID", aid),
                                    ("Response", response), ("Channel", channel), ("Context", p.get("Context")),
                                    ("Exten", number), ("Reason", reason), ("Uniqueid", "<null>"),
                                    ("CallerIDNum", "<unknown>"), ("CallerIDName", "<unknown>")]))
            if response == "Success":
                self.play(self.script.outgoing(ext, number))

        threading.Thread(target=later, name="ami-sim-originate", daemon=True).start()

    # -- events ----------------------------------------------------------------------------------------------
    def broadcast(self, data: bytes) -> float:
        """Send to every logged-in client that asked for events; returns time.perf_counter() just before."""
        with self._lock:
            clients = [c for c in self._clients if c.logged_in and c.events]
        t = time.perf_counter()
        for c in clients:
            c.send(data)
        return t

    def play(self, steps: list[Step], wait: bool = False) -> threading.Thread:
        """Send the steps in order, sleeping each step's delay first (in a thread unless ``wait``)."""
        def run() -> None:
            with self._player_lock:
                for delay, data in steps:
                    if self._stop.wait(delay):
                        return
                    if data:
                        self.broadcast(data)

        t = threading.Thread(target=run, name="ami-sim-play", daemon=True)
        if wait:
            run()
        else:
            t.start()
        return t

    def incoming(self, caller: str, extensions: list[str], wait: bool = False, **kw) -> threading.Thread:
        return self.play(self.script.incoming(caller, extensions, **kw), wait=wait)

    def outgoing(self, extension: str, number: str, wait: bool = False, **kw) -> threading.Thread:
        return self.play(self.script.outgoing(extension, number, **kw), wait=wait)

    def wait_for_clients(self, n: int = 1, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if sum(1 for c in self._clients if c.logged_in) >= n:
                    return True
            time.sleep(0.01)
        return False

    def drop_clients(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._drop(c)

    def close(self) -> None:
        self._stop.set()
        self.drop_clients()
        try:
            self._sock.close()
        except OSError:
            pass


# =========================================================================================================
# Panasonic SMDR
# =========================================================================================================
HEADER = ("Date     Time    Ext   CO Dial Number               Ring Duration Acc code   CD\r\n"
          "-------------------------------------------------------------------------------\r\n")


def _mss(seconds: int) -> str:
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m}'{s:02d}"


def _hmmss(seconds: int) -> str:
    h, rest = divmod(max(0, int(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}'{s:02d}"


def smdr_record(extension: str, co: int, number: str, *, incoming: bool = False, answered: bool = True,
                ring: int | None = None, duration: int = 0, when: dt.datetime | None = None, name: str = "",
                account: str = "", eol: str = "\r\n") -> bytes:
    """One Pattern A record (80 columns): MM/DD/YY, h:mmAM/PM, ext, CO, dial number (``<I>`` + caller for
    incoming), ring m'ss, duration hh:mm'ss, account code, condition code (AN / NA for incoming)."""
    w = when or dt.datetime.now()
    dial = f"<I>{number}{(' ' + name) if name else ''}" if incoming else number
    cd = ("AN" if answered else "NA") if incoming else ""
    time_ = w.strftime("%I:%M%p")
    line = (f"{w:%m/%d/%y} {time_:<7} {extension:<5} {co:02d} {dial[:25]:<25} "
            f"{_mss(ring) if ring is not None else '':>4} {_hmmss(duration if answered else 0):>8} {account:<10} {cd:<2}")
    return (line.rstrip() + eol).encode("ascii", "replace")


class _SmdrPager:
    def __init__(self, page_length: int = 0):
        self.page_length = page_length
        self.count = 0

    def wrap(self, record: bytes) -> bytes:
        head = b""
        if self.count == 0:
            head = HEADER.encode()
        elif self.page_length and self.count % self.page_length == 0:
            head = b"\x0c" + HEADER.encode()
        self.count += 1
        return head + record


class SmdrPty:
    """SMDR records on a pseudo-terminal (the far end is the "serial port" the CRM opens)."""

    def __init__(self, link: str | None = None, page_length: int = 0):
        import tty  # POSIX only, like os.openpty (SmdrTcpServer is the portable one)

        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.link = link
        if link:
            try:
                os.unlink(link)
            except FileNotFoundError:
                pass
            os.symlink(self.path, link)
        self.pager = _SmdrPager(page_length)

    @property
    def port(self) -> str:
        return self.link or self.path

    def write(self, data: bytes) -> float:
        t = time.perf_counter()
        view = memoryview(data)
        while view:
            n = os.write(self._master, view)
            view = view[n:]
        return t

    def record(self, *args, **kw) -> float:
        return self.write(self.pager.wrap(smdr_record(*args, **kw)))

    def close(self) -> None:
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.link:
            try:
                os.unlink(self.link)
            except OSError:
                pass

    def __enter__(self) -> SmdrPty:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SmdrTcpServer:
    """LAN SMDR: ``-`` prompt → user → ``Enter Password:`` → password → header and records (all clients)."""

    def __init__(self, port: int = 0, user: str = "SMDR", password: str = "PCCSMDR", host: str = "127.0.0.1",
                 page_length: int = 0):
        self.user, self.password = user, password
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(4)
        self.host, self.port = self._sock.getsockname()[:2]
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.page_length = page_length
        self.failed_logins = 0
        threading.Thread(target=self._accept, name="smdr-sim-accept", daemon=True).start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _accept(self) -> None:
        try:
            self._sock.settimeout(0.1)
        except OSError:  # closed before this thread ran
            return
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._login, args=(c,), name="smdr-sim-login", daemon=True).start()

    def _readline(self, c: socket.socket, timeout: float = 5.0) -> str | None:
        buf = b""
        while b"\n" not in buf and b"\r" not in buf:
            try:
                c.settimeout(timeout)
                data = c.recv(256)
            except OSError:
                return None
            if not data:
                return None
            buf += data
        return buf.decode("ascii", "replace").strip()

    def _login(self, c: socket.socket) -> None:
        try:
            c.sendall(b"-")
            if self._readline(c) != self.user:
                c.sendall(b"\r\nInvalid user\r\n")
                self.failed_logins += 1
                c.close()
                return
            c.sendall(b"\r\nEnter Password:")
            if self._readline(c) != self.password:
                c.sendall(b"\r\nInvalid password\r\n")
                self.failed_logins += 1
                time.sleep(0.1)
                c.close()
                return
            c.sendall(b"\r\n" + HEADER.encode())
        except OSError:
            return
        with self._lock:
            self._clients.append(c)

    def wait_for_clients(self, n: int = 1, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self._clients) >= n:
                    return True
            time.sleep(0.01)
        return False

    def write(self, data: bytes) -> float:
        with self._lock:
            clients = list(self._clients)
        t = time.perf_counter()
        for c in clients:
            try:
                c.sendall(data)
            except OSError:
                with self._lock:
                    if c in self._clients:
                        self._clients.remove(c)
        return t

    def record(self, *args, **kw) -> float:
        return self.write(smdr_record(*args, **kw))

    def drop_clients(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.drop_clients()
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> SmdrTcpServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# =========================================================================================================
# `crm callerid simulate --device ami|smdr`
# =========================================================================================================
def cmd_simulate(args) -> int:
    """Runs an AMI server or an SMDR port until Ctrl-C (or, with --exit, until the scripted calls are done).

    ami:  --ring NUMBER (repeatable) rings --extensions at once; --answer (by --answer-by, else the first)
          answers; --transfer EXT hands the call on; --talk seconds; --style 11 for Asterisk 11 events.
          Interactive commands: ring NUMBER EXT[,EXT] [answer EXT] [transfer EXT] | out EXT NUMBER |
          busy EXT | offline EXT | quit
    smdr: a pty (printed; --link for a stable path) or, with --tcp, a LAN port with the login prompts;
          --ring NUMBER gives an incoming record (answered with --answer), interactive: in NUMBER EXT [sec] |
          miss NUMBER EXT | out EXT NUMBER [sec] | quit
    """
    import signal
    import sys

    from app.core.errors import UserError

    exts = [e.strip() for e in (args.extensions or "101").split(",") if e.strip()] or ["101"]
    numbers = [r.split(":", 1)[-1].strip() for r in args.ring]
    say = lambda text: print(text, file=sys.stderr, flush=True)    # noqa: E731

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        if args.device == "ami":
            port = 5038 if args.tcp_port is None else args.tcp_port
            try:
                server = AmiServer(port=port, user=args.user or "crm", secret=args.secret or "s3cret",
                                   style=args.style)
            except OSError as e:
                raise UserError(f"درگاه {port} برای شبیه‌ساز AMI باز نشد ({e.strerror or e}); با --tcp-port 0 "
                                f"یک درگاه آزاد بگیرید.") from None
            print(server.address, flush=True)
            say(f"شبیه‌ساز مرکز تلفن Asterisk {args.style} روی {server.address} آماده است (کاربر "
                f"{server.user}). در تنظیمات، نوع دستگاه را «مرکز تلفن Asterisk» و همین نشانی را بدهید؛ Ctrl-C برای پایان.")
            try:
                if numbers:
                    server.wait_for_clients(1, timeout=3600)
                for n in range(max(1, args.repeat) if numbers else 0):
                    for number in numbers:
                        answer = (args.answer_by or exts[0]) if (args.answer or args.answer_by) else None
                        say(f"زنگ: {number} ← داخلی‌های {','.join(exts)}")
                        server.incoming(number, exts, answer_by=answer, transfer_to=args.transfer,
                                        ring=max(0.1, args.ring_period * max(1, args.rings)), talk=args.talk,
                                        wait=True)
                        time.sleep(max(0.0, args.interval))
                    del n
                if args.interactive or not (numbers and args.exit_when_done):
                    _ami_interactive(server, say, prompt=args.interactive)
            finally:
                server.close()
            return 0
        # smdr: a pty, or a LAN port (with --tcp, and always on Windows, which has no ptys)
        if args.tcp or not hasattr(os, "openpty"):
            port = 2300 if args.tcp_port is None else args.tcp_port
            try:
                target = SmdrTcpServer(port=port, user=args.user or "SMDR", password=args.secret or "PCCSMDR")
            except OSError as e:
                raise UserError(f"درگاه {port} برای شبیه‌ساز SMDR باز نشد ({e.strerror or e}); با --tcp-port 0 "
                                f"یک درگاه آزاد بگیرید.") from None
            print(target.address, flush=True)
            say(f"شبیه‌ساز گزارش SMDR پاناسونیک روی {target.address} آماده است (کاربر {target.user}، رمز "
                f"{target.password}); Ctrl-C برای پایان.")
        else:
            target = SmdrPty(link=args.link)
            print(target.port, flush=True)
            say(f"شبیه‌ساز گزارش SMDR پاناسونیک روی درگاه {target.port} آماده است؛ Ctrl-C برای پایان.")
        try:
            if numbers and args.tcp:
                target.wait_for_clients(1, timeout=3600)
            for i, number in enumerate(numbers):
                target.record(exts[i % len(exts)], 1 + i % 4, number, incoming=True, answered=args.answer,
                              ring=int(args.ring_period * args.rings), duration=int(args.talk))
                say(f"گزارش تماس ورودی: {number}")
                time.sleep(max(0.0, args.interval))
            if args.interactive or not (numbers and args.exit_when_done):
                _smdr_interactive(target, say, prompt=args.interactive)
        finally:
            target.close()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, old_term)


def _ami_interactive(server: AmiServer, say, prompt: bool) -> None:
    import sys

    if prompt:
        say("فرمان‌ها: ring <شماره> <داخلی،داخلی> [answer <داخلی>] [transfer <داخلی>] | out <داخلی> <شماره> | "
            "busy <داخلی> | offline <داخلی> | noanswer <داخلی> | quit")
    for raw in sys.stdin:
        parts = raw.split()
        if not parts:
            continue
        cmd = parts[0].lower()
        try:
            if cmd in ("quit", "exit", "q"):
                return
            if cmd == "ring":
                opts = dict(zip(parts[3::2], parts[4::2], strict=False))
                server.incoming(parts[1], parts[2].split(","), answer_by=opts.get("answer"),
                                transfer_to=opts.get("transfer"), ring=2.0, talk=5.0)
            elif cmd == "out":
                server.outgoing(parts[1], parts[2], talk=5.0)
            elif cmd in ("busy", "offline", "noanswer", "reject", "answer"):
                server.extension_states[parts[1]] = cmd
                say(f"داخلی {parts[1]}: {cmd}")
            else:
                say(f"? {raw.strip()}")
        except (IndexError, ValueError) as e:
            say(f"? {e}")


def _smdr_interactive(target, say, prompt: bool) -> None:
    import sys

    if prompt:
        say("فرمان‌ها: in <شماره> <داخلی> [ثانیه] | miss <شماره> <داخلی> | out <داخلی> <شماره> [ثانیه] | quit")
    for raw in sys.stdin:
        parts = raw.split()
        if not parts:
            continue
        cmd = parts[0].lower()
        try:
            if cmd in ("quit", "exit", "q"):
                return
            if cmd == "in":
                target.record(parts[2], 1, parts[1], incoming=True, ring=6,
                              duration=int(parts[3]) if len(parts) > 3 else 60)
            elif cmd == "miss":
                target.record(parts[2], 1, parts[1], incoming=True, answered=False, ring=20)
            elif cmd == "out":
                target.record(parts[1], 1, parts[2], duration=int(parts[3]) if len(parts) > 3 else 60)
            else:
                say(f"? {raw.strip()}")
        except (IndexError, ValueError) as e:
            say(f"? {e}")
