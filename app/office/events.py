"""Live office events: what one desk does, the other desks hear within a blink.

    from app.office import events

    events.start()                                   # after the database is open (PostgreSQL: LISTEN)
    off = events.subscribe("call", fn)               # fn(Event) on the events thread; off() unsubscribes
    events.publish("call", {"line": 2, ...})         # to every desk, this one included
    events.stop()

On PostgreSQL the desks talk through the server's own LISTEN/NOTIFY (no server of ours): one dedicated
connection per desk listens in a worker thread (select() on its socket, then poll() and read the notifies),
another sends. On SQLite (one desk) and before start(), the same events stay in this process. Either way
callbacks run on one "office-events" thread, never on the publisher's; a GUI hands them to its own thread
(ui/office/live.py does it with a queued signal).

Channels:
- ``call``: the desk that owns the caller-ID device publishes each call update (line, number, customer, state,
  call key…); desks watching that line show the popup.
- ``task_assigned``: a task created for, or referred (ارجاع) to, a colleague; their desk shows a notice.
- ``changed``: {"table": name} after a committed write touched that table, at most one per table per
  COALESCE_S from each desk (models.writer.on_commit feeds it); lists, the dashboard and the settings cache
  of the other desks refresh.
- ``resync`` (local only): the link to the server was lost and is back; events may have been missed, so
  everything shown should be read again.

Every event carries the publishing desk's id (DESK_ID, one per running program): a desk recognises its own.
A NOTIFY is delivered only after the sender's transaction commits and only to one database, so offices sharing
a server never hear each other; desks in different schemas of one database are kept apart by the channel name.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import select
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

DESK_ID = uuid.uuid4().hex[:12]
COALESCE_S = 0.5
MAX_PAYLOAD = 7900                      # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
QUIET_TABLES = frozenset({"schema_migration"})
RECONNECT_S = (0.5, 1, 2, 5)


@dataclass(frozen=True)
class Event:
    channel: str
    payload: dict
    desk: str = DESK_ID                 # the desk that published it
    sent_at: float = field(default_factory=time.time)

    @property
    def mine(self) -> bool:
        """Published by this very desk (this running program)."""
        return self.desk == DESK_ID


Callback = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[Callback]] = {}
        self._lock = threading.Lock()
        self._inbox: queue.Queue = queue.Queue()
        self._dispatcher: threading.Thread | None = None
        self._transport: PgTransport | None = None
        self._coalescer = Coalescer(self)
        self._hooked = False

    # --- subscribers -------------------------------------------------------------------------------------
    def subscribe(self, channel: str, fn: Callback) -> Callable[[], None]:
        """fn(Event) for each event on `channel` ("*" for all). Returns a function that unsubscribes."""
        with self._lock:
            self._subs.setdefault(channel, []).append(fn)
        self._ensure_dispatcher()

        def off() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if fn in subs:
                    subs.remove(fn)

        return off

    # --- publishing ---------------------------------------------------------------------------------------
    def publish(self, channel: str, payload: dict | None = None) -> None:
        """Send an event to every desk (this one too). Never raises: a lost event must not stop the work
        that caused it (the reason is logged)."""
        try:
            msg = {"ch": channel, "desk": DESK_ID, "at": time.time(), "d": payload or {}}
            text = json.dumps(msg, ensure_ascii=False, default=str)
            if len(text.encode("utf-8")) > MAX_PAYLOAD:
                logger.warning("office event %s too large (%d bytes); not sent", channel, len(text))
                return
            transport = self._transport
            if transport is not None and transport.alive():
                transport.send(text)
            else:
                self._inbox.put(text)
                self._ensure_dispatcher()
        except Exception:  # see the docstring
            logger.exception("office event %s could not be sent", channel)

    def publish_after_commit(self, channel: str, payload: dict | None = None) -> None:
        """Publish once the current transaction commits (at once outside one); nothing if it rolls back."""
        from models.base import db

        database = db.obj
        if database is None or not database.in_transaction():
            self.publish(channel, payload)
            return
        try:
            database.after_commit(lambda: self.publish(channel, payload))
        except ValueError:                     # a manual transaction has no commit callbacks
            self.publish(channel, payload)

    def changed(self, tables: frozenset[str] | set[str]) -> None:
        """A commit touched these tables: a coalesced `changed` event per table."""
        self._coalescer.add(tables)

    # --- life ---------------------------------------------------------------------------------------------
    def start(self, database: Any = None, timeout: float = 10.0) -> str:
        """Connect the bus to the open database: on PostgreSQL LISTEN on the office's channel, else stay in
        this process. Also publishes `changed` after every committed write. Returns "postgres" or "local".
        Raises DatabaseError (Persian) when the server cannot be reached."""
        from models import writer as writer_mod

        if database is None:
            from models.base import db

            database = db.obj
        self.stop_transport()
        if not self._hooked:
            writer_mod.on_commit(self.changed)
            self._hooked = True
        self._ensure_dispatcher()
        if _is_postgres(database):
            transport = PgTransport(lambda: _pg_connect(database), self._inbox.put)
            transport.start(timeout)
            self._transport = transport
            return "postgres"
        return "local"

    @property
    def mode(self) -> str:
        return "postgres" if self._transport is not None else "local"

    def stop_transport(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.stop()

    def stop(self) -> None:
        """Disconnect and unhook (subscribers stay, so a later start() serves them again)."""
        from models import writer as writer_mod

        self._coalescer.flush_now()
        self.stop_transport()
        if self._hooked:
            writer_mod.remove_commit_hook(self.changed)
            self._hooked = False

    # --- delivery -----------------------------------------------------------------------------------------
    def _ensure_dispatcher(self) -> None:
        with self._lock:
            if self._dispatcher is not None and self._dispatcher.is_alive():
                return
            self._dispatcher = threading.Thread(target=self._dispatch_loop, name="office-events", daemon=True)
            self._dispatcher.start()

    def _dispatch_loop(self) -> None:
        while True:
            text = self._inbox.get()
            try:
                self._deliver(text)
            except Exception:  # one bad event must not end the delivery thread
                logger.exception("office event could not be delivered")

    def _deliver(self, text: str) -> None:
        msg = json.loads(text)
        if not isinstance(msg, dict) or not isinstance(msg.get("ch"), str):
            return
        d = msg.get("d")
        payload = d if isinstance(d, dict) else {}
        ev = Event(msg["ch"], payload, str(msg.get("desk", "")), float(msg.get("at") or time.time()))
        with self._lock:
            subs = list(self._subs.get(ev.channel, ())) + list(self._subs.get("*", ()))
        for fn in subs:
            try:
                fn(ev)
            except Exception:  # one subscriber's failure must not starve the others
                logger.exception("office event subscriber failed on %s", ev.channel)


class Coalescer:
    """At most one `changed` event per table per COALESCE_S: the first at once, later ones within the window
    folded into one sent when the window ends."""

    def __init__(self, bus: EventBus, window: float = COALESCE_S) -> None:
        self.bus = bus
        self.window = window
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._timers: dict[str, threading.Timer] = {}

    def add(self, tables) -> None:
        now = time.monotonic()
        send = []
        with self._lock:
            for t in tables:
                if t in QUIET_TABLES or t.startswith("sqlite_") or t in self._timers:
                    continue
                last = self._last.get(t)
                if last is None or now - last >= self.window:
                    self._last[t] = now
                    send.append(t)
                else:
                    timer = threading.Timer(last + self.window - now, self._due, args=(t,))
                    timer.daemon = True
                    self._timers[t] = timer
                    timer.start()
        for t in send:
            self.bus.publish("changed", {"table": t})

    def _due(self, table: str) -> None:
        with self._lock:
            if self._timers.pop(table, None) is None:
                return
            self._last[table] = time.monotonic()
        self.bus.publish("changed", {"table": table})

    def flush_now(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, {}
        for table, timer in timers.items():
            timer.cancel()
            self.bus.publish("changed", {"table": table})


# --- PostgreSQL ---------------------------------------------------------------------------------------------

def _is_postgres(database: Any) -> bool:
    import peewee as pw

    return isinstance(database, pw.PostgresqlDatabase)


def _pg_connect(database: Any):
    """A separate psycopg2 connection to the same server, database and schema as the program's own."""
    import psycopg2
    import psycopg2.extensions

    conn = psycopg2.connect(database=database.database, **database.connect_params)
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


def channel_name(schema: str) -> str:
    """The NOTIFY channel of one office: one per schema, so tests (or offices) in other schemas of the same
    database never hear it."""
    return "peyvand_" + re.sub(r"[^a-z0-9_]", "_", schema.lower())[:50]


class PgTransport:
    """LISTEN on a dedicated connection in a worker thread; NOTIFY through another connection from a sender
    thread. A lost connection is re-opened (with a local `resync` event once it is back)."""

    def __init__(self, connect: Callable[[], Any], deliver: Callable[[str], None]) -> None:
        self._connect = connect
        self._deliver = deliver
        self._stop = threading.Event()
        self._outbox: queue.Queue = queue.Queue()
        self._listen_conn = None
        self._threads: list[threading.Thread] = []
        self.channel = ""
        self.connected = threading.Event()

    def alive(self) -> bool:
        return not self._stop.is_set()

    def start(self, timeout: float = 10.0) -> None:
        import psycopg2

        try:
            self._listen_conn = self._listen()
        except psycopg2.Error as e:
            from app.core.errors import DatabaseError
            from app.office.dbcopy import server_error

            raise server_error(e) if isinstance(e, psycopg2.OperationalError) else DatabaseError(
                "رویدادهای زنده دفتر راه نیفتاد.", details=str(e), en="The live office events did not start.") from e
        self.connected.set()
        for target, name in ((self._listen_loop, "office-listen"), (self._send_loop, "office-send")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def _listen(self):
        conn = self._connect()
        with conn.cursor() as cur:
            cur.execute("SELECT current_schema()")
            schema = cur.fetchone()[0] or "public"
            self.channel = channel_name(schema)
            cur.execute(f'LISTEN "{self.channel}"')
        return conn

    def send(self, text: str) -> None:
        self._outbox.put(text)

    def stop(self) -> None:
        self._stop.set()
        self._outbox.put(None)
        for t in self._threads:
            t.join(timeout=3)
        self._threads.clear()
        _close(self._listen_conn)
        self._listen_conn = None

    def _listen_loop(self) -> None:
        import psycopg2

        conn = self._listen_conn
        tries = 0
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self._listen()
                    self._listen_conn = conn
                    tries = 0
                    self.connected.set()
                    logger.info("office events: connected again")
                    self._deliver(json.dumps({"ch": "resync", "desk": DESK_ID, "at": time.time(), "d": {}}))
                if select.select([conn], [], [], 0.25) == ([], [], []):
                    continue
                conn.poll()
                while conn.notifies:
                    n = conn.notifies.pop(0)
                    if n.channel == self.channel:
                        self._deliver(n.payload)
            except (psycopg2.Error, OSError, ValueError) as e:
                if self._stop.is_set():
                    break
                self.connected.clear()
                logger.warning("office events: connection lost (%s); trying again", e)
                _close(conn)
                conn = self._listen_conn = None
                self._stop.wait(RECONNECT_S[min(tries, len(RECONNECT_S) - 1)])
                tries += 1

    def _send_loop(self) -> None:
        import psycopg2

        conn = None
        while True:
            text = self._outbox.get()
            if text is None:
                break
            for attempt in range(2):
                try:
                    if conn is None:
                        conn = self._connect()
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_notify(%s, %s)", (self.channel, text))
                    break
                except (psycopg2.Error, OSError) as e:
                    _close(conn)
                    conn = None
                    if attempt:
                        logger.warning("office event lost: %s", e)
        _close(conn)


def _close(conn) -> None:
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # closing is best effort
        logger.debug("closing an events connection failed", exc_info=True)


# --- the program's one bus ----------------------------------------------------------------------------------

bus = EventBus()


def publish(channel: str, payload: dict | None = None) -> None:
    bus.publish(channel, payload)


def publish_after_commit(channel: str, payload: dict | None = None) -> None:
    bus.publish_after_commit(channel, payload)


def subscribe(channel: str, fn: Callback) -> Callable[[], None]:
    return bus.subscribe(channel, fn)


def start(database: Any = None, timeout: float = 10.0) -> str:
    return bus.start(database, timeout)


def stop() -> None:
    bus.stop()


def task_assigned(task: Any, by_user: int | None, reason: str = "", referral: bool = False) -> None:
    """A task now sits in `task.assignee`'s inbox (created for them, or referred to them): tell their desk,
    once the transaction commits."""
    try:
        if not task.assignee_id:
            return
        due = task.due_at.isoformat(sep=" ") if getattr(task, "due_at", None) else None
        publish_after_commit("task_assigned", {
            "task_id": task.id, "title": (task.title or "")[:300], "to_user": task.assignee_id,
            "by_user": by_user, "referral": referral, "reason": (reason or "")[:500], "due_at": due,
            "customer_id": task.customer_id})
    except Exception:  # a notice lost must never undo the task
        logger.exception("task_assigned event not sent")
