"""NcidSource against a fake NCID server on a localhost TCP socket: banner, history, live CID lines, reconnects."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from app.callerid import events as ev
from app.callerid import sources
from app.callerid.sources import NcidSource, Pump, SourceUnavailable

BANNER = (b"200 NCID Server: ncidd (NCID) 1.13\n"
          b"210 API: 1.11 Feature Set 1 2 3 4\n"
          b"CIDLOG: *DATE*11232026*TIME*0930*LINE*-*NMBR*09120000000*MESG*NONE*NAME*HISTORY*\n"
          b"HUPLOG: *DATE*11232026*TIME*0931*LINE*-*NMBR*09120000001*MESG*NONE*NAME*HISTORY*\n"
          b"250 End of call log\n"
          b"300 End of connection startup\n")


def cid_line(number: str, line: str = "1", name: str = "NO NAME") -> bytes:
    return f"CID: *DATE*11242026*TIME*1015*LINE*{line}*NMBR*{number}*MESG*NONE*NAME*{name}*\n".encode()


class FakeNcidServer:
    """Accepts clients one at a time; sends the banner and history, then whatever the test pushes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.client: socket.socket | None = None
        self.connections = 0
        self.connected = threading.Event()
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            c.sendall(BANNER)
            self.client = c
            self.connected.set()

    def send(self, data: bytes):
        self.client.sendall(data)

    def drop_client(self):
        self.connected.clear()
        c, self.client = self.client, None
        c.shutdown(socket.SHUT_RDWR)
        c.close()

    def close(self):
        self._stop = True
        self.thread.join(1)
        if self.client:
            self.client.close()
        self.sock.close()


@pytest.fixture
def server():
    s = FakeNcidServer()
    yield s
    s.close()


class Collector:
    def __init__(self):
        self.events, self.states = [], []
        self.cond = threading.Condition()

    def on_event(self, e):
        with self.cond:
            self.events.append(e)
            self.cond.notify_all()

    def on_state(self, state, text):
        with self.cond:
            self.states.append((state, text))
            self.cond.notify_all()

    def wait(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def incoming(self):
        return [e for e in self.events if e.kind == ev.INCOMING]


def start(pump):
    stop = threading.Event()
    t = threading.Thread(target=pump.run, args=(stop,), daemon=True)
    t.start()
    return stop, t


def test_live_cid_lines_become_events_and_history_does_not(server):
    col = Collector()
    pump = Pump(NcidSource("127.0.0.1", server.port), on_event=col.on_event, on_state=col.on_state,
                backoff=(0.1,))
    assert pump.fmt == "ncid"
    stop, t = start(pump)
    try:
        assert server.connected.wait(3)
        assert col.wait(lambda: any(s == sources.LISTENING for s, _ in col.states))
        assert "NCID 127.0.0.1" in col.states[-1][1]
        # a line split across two TCP segments
        line = cid_line("02122514321", "1", "RAHIMI")
        server.send(line[:20])
        time.sleep(0.05)
        server.send(line[20:])
        assert col.wait(lambda: col.incoming())
        e = col.incoming()[0]
        assert (e.number, e.name, e.source) == ("02122514321", "RAHIMI", "ncid")
        time.sleep(0.3)
        assert [x.number for x in col.incoming()] == ["02122514321"]     # the CIDLOG history was not a call
    finally:
        stop.set()
        t.join(2)
    assert not t.is_alive()


def test_reconnects_after_the_server_drops_the_connection(server):
    col = Collector()
    pump = Pump(NcidSource("127.0.0.1", server.port), on_event=col.on_event, on_state=col.on_state,
                backoff=(0.1, 0.2))
    stop, t = start(pump)
    try:
        assert server.connected.wait(3)
        server.send(cid_line("09121234567"))
        assert col.wait(lambda: len(col.incoming()) == 1)
        server.drop_client()
        assert col.wait(lambda: any(s == sources.RECONNECTING for s, _ in col.states))
        assert server.connected.wait(3)                      # the client came back by itself
        assert server.connections == 2
        server.send(b"CIDLOG: *DATE*11242026*TIME*1015*LINE*1*NMBR*09121234567*MESG*NONE*NAME*NO NAME*\n")
        server.send(cid_line("09350001122", "2"))
        assert col.wait(lambda: len(col.incoming()) == 2)
        assert col.incoming()[1].number == "09350001122"
        assert [s for s, _ in col.states].count(sources.LISTENING) == 2
    finally:
        stop.set()
        t.join(2)


def test_a_server_that_is_not_running_is_reported_in_persian():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                              # nothing listens there now
    with pytest.raises(SourceUnavailable) as exc:
        NcidSource("127.0.0.1", port).open()
    assert exc.value.state == sources.NO_DEVICE
    assert "NCID" in exc.value.message and "نپذیرفت" in exc.value.message


def test_an_unknown_host_name_is_an_error_in_persian():
    with pytest.raises(SourceUnavailable) as exc:
        NcidSource("no-such-host.invalid", 3333).open()
    assert exc.value.state == sources.ERROR
    assert "پیدا نشد" in exc.value.message


def test_stop_is_prompt_while_connecting_to_an_unreachable_address():
    col = Collector()
    # 10.255.255.1 is not routed in test environments: connect() would hang for the whole timeout
    pump = Pump(NcidSource("10.255.255.1", 3333, connect_timeout=10), on_event=col.on_event,
                on_state=col.on_state, backoff=(10,))
    stop, t = start(pump)
    time.sleep(0.3)
    t0 = time.monotonic()
    stop.set()
    t.join(2)
    assert not t.is_alive() and time.monotonic() - t0 < 1.0
