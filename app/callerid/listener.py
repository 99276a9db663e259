"""The caller-ID listener: one source on a worker QThread, events and states out as Qt signals.

QtCore only (no widgets). Threads: the source's loop runs in ``_PumpWorker``, a QObject moved to its own
QThread (moveToThread); the worker's signals cross to the listener, which lives on the GUI thread, through
queued connections, and the listener re-emits them there. So every listener signal is emitted on the GUI
thread, and none after ``stop()``: stop() disconnects the worker, raises the stop flag (the loop checks it at
least every 50 ms and between back-off waits), quits the thread's event loop and waits for the thread to
end, without a time limit that would leave it running; events the worker had already queued are dropped by
a generation check. ``stop()`` itself reports the "stopped" state once, on the GUI thread.

    listener = CallerIdListener.from_settings(parent=app)      # or CallerIdListener(source, fmt)
    listener.event_received.connect(service.handle)            # CallerIdEvent
    listener.state_changed.connect(status_bar.show_state)      # ("listening", "شناسه تماس: در حال گوش دادن (…)")
    listener.start()
    ...
    listener.dial("09121234567"); listener.dial_finished.connect(...)   # click-to-call through the modem
    listener.stop()                                            # the thread has ended when it returns

Resilience (see sources.Pump): a missing device is retried with back-off (0.5, 1, 2, 3, 5 s …) and found
again when it comes back, at the same path, behind a symlink, or (USB) under a new name with the same
VID/PID/serial; a dropped connection gives "reconnecting" and is reopened; garbage is the decoder's to
skip and never reaches the thread's loop as an exception.

Reading on the GUI thread: once a port with a descriptor (a POSIX serial port or pty: ``Source.fileno()``) is
open, the worker lends its reading to the GUI thread (sources.ReadSession, read by ``_LentReader``): a
QSocketNotifier wakes the GUI thread's event loop when bytes arrive, they are read without blocking and decoded
there, and the events are emitted at once. The kernel wakes the thread that shows the popup; there is no hand-over
between threads (a worker woken, the GIL won back, a queued event, the GUI thread woken) on the way. The worker
keeps what blocks: opening and the back-off, a modem's init, dial/probe (it takes the port back, runs the request
and lends it again), and reopening a lost device (the GUI thread ends the session as lost when a read fails).
``read_on_gui_thread=False``, an NCID or PBX connection and Windows read on the worker as below (a socket:// port
is lent like a serial port on POSIX).

Idle flush and latency (reading on the worker): the worker reads with a 50 ms timeout and feeds bytes to the
decoder as they come; events are emitted the moment the decoder returns them (records ending in @, . or a
newline). The decoder's flush() runs once the line has been quiet for IDLE_FLUSH_SECONDS (0.8 s, from the
decoders package) after input, which is what completes a modem call that sent NMBR and no NAME (on the GUI
thread: a single-shot timer). The worker's event reaches the GUI thread through one queued hop (the controller
takes the re-emitted signal directly), and while listening the GIL changes hands at least every
SWITCH_INTERVAL_S: a record's bytes need the worker to win the GIL back from a GUI thread that is running Python,
and its event needs the reverse.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, Qt, QThread, QTimer, Signal, Slot

from app.callerid import configured, sources
from app.callerid.sources import Pump, ReadSession, Source, SourceLost, SourceUnavailable
from app.core.errors import UserError

logger = logging.getLogger(__name__)

_EMIT_FIX: bool | None = None

# The GIL's switch interval while listening. A thread that wants the GIL gets it when the holder blocks (I/O,
# most Qt calls) or, when the holder keeps running Python, only after the switch interval (5 ms by default)
# forces a hand-over. A caller-ID record wakes the worker thread while the GUI thread may be running Python
# (a page refresh, a paint, an import's progress), and its event then waits for the GUI thread to get the GIL
# back from the worker: up to 5 ms each way, several times the popup's whole budget. A shorter interval
# costs CPU-bound threads a few more hand-overs a second.
SWITCH_INTERVAL_S = 0.0005


def shorten_switch_interval(seconds: float = SWITCH_INTERVAL_S) -> None:
    """Make the GIL change hands at least every ``seconds`` (process-wide; never lengthens it)."""
    if sys.getswitchinterval() > seconds:
        sys.setswitchinterval(seconds)


def fix_signal_emit_refcount() -> bool:
    """Work around a PySide6 6.12.0 bug: ``SignalInstance.emit()`` returns ``True`` without taking a
    reference to it, so on Python < 3.12 (where True is not immortal) every emit from Python code takes one
    reference away from ``True``; after some thousands of emits the interpreter aborts with "Fatal Python
    error: bool_dealloc". This probes for the bug once and, where present, wraps ``emit`` to give the
    reference back. It is process-wide and idempotent; it does nothing on a PySide6/Python without the bug.
    Returns True when the fix was installed."""
    global _EMIT_FIX
    if _EMIT_FIX is not None:
        return _EMIT_FIX
    import ctypes
    import sys

    from PySide6.QtCore import Signal, SignalInstance

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    n = 32
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost < n - 4:
        _EMIT_FIX = False
        return False
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for _ in range(n):
        incref(True)
    original = SignalInstance.emit

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(result)              # the reference emit() should have returned
        return result

    SignalInstance.emit = emit
    _EMIT_FIX = True
    logger.info("PySide6 SignalInstance.emit reference-count fix installed")
    return True


fix_signal_emit_refcount()


class _PumpWorker(QObject):
    """Runs the source's loop on the thread it was moved to; reports through its own signals (emitted on
    that thread, delivered queued to the listener on the GUI thread). Emits nothing once ``stop`` is set."""

    event = Signal(object, int)          # CallerIdEvent, generation
    state = Signal(str, str, int)        # state key, Persian text, generation
    lend = Signal(object, int)           # ReadSession: read the open port on the GUI thread, generation
    reclaim = Signal(object, int)        # ReadSession: give the port back to the worker, generation
    finished = Signal()

    def __init__(self, pump: Pump, stop: threading.Event, generation: int, lend_reading: bool = False):
        super().__init__()
        self.pump = pump
        self.stop_event = stop
        self.generation = generation
        pump.on_event = self._event
        pump.on_state = self._state
        if lend_reading:
            pump.lend = lambda session: self.lend.emit(session, self.generation)
            pump.reclaim = lambda session: self.reclaim.emit(session, self.generation)

    def _event(self, e) -> None:
        if not self.stop_event.is_set():
            self.event.emit(e, self.generation)

    def _state(self, key: str, text: str) -> None:
        if not self.stop_event.is_set():
            self.state.emit(key, text, self.generation)

    @Slot()
    def run(self) -> None:
        try:
            self.pump.run(self.stop_event)
        except Exception:  # the last guard: the thread ends, the state says so
            logger.exception("caller-ID worker crashed")
            self._state(sources.ERROR, sources.state_text(sources.ERROR, "خطای داخلی؛ جزئیات در crm.log"))
        finally:
            self.finished.emit()


class _LentReader(QObject):
    """Reads a port lent by the worker (sources.ReadSession) on the GUI thread: a QSocketNotifier on the port's
    descriptor wakes the GUI thread's event loop the moment bytes arrive; they are read (non-blocking, what has
    arrived), fed to the decoder and its events delivered at once. The idle flush and the once-a-second tick
    are timers here. A failed read (device unplugged, pty closed) ends the session as lost and the worker
    reopens the port. ``close()`` stops watching the descriptor before the session is ended, so the worker
    never closes a descriptor the event loop still polls."""

    def __init__(self, session: ReadSession, deliver, on_closed, parent: QObject):
        super().__init__(parent)
        self.session = session
        self._deliver = deliver
        self._on_closed = on_closed
        self.closed = False
        self._notifier: QSocketNotifier | None = QSocketNotifier(session.fd, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._flush)
        self._tick = QTimer(self)
        self._tick.setInterval(int(sources.TICK_SECONDS * 1000))
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        if session.dirty:              # input from before the port was taken back for a request: flush it later
            left = session.last_byte + session.idle_flush - time.monotonic()
            self._idle.start(max(0, int(left * 1000)))

    def _readable(self, *_args) -> None:
        s = self.session
        if self.closed:
            return
        try:
            data = s.read()
        except SourceLost as e:
            self.close(lost=True, reason=str(e))
            return
        if not data:
            return
        self._idle.start(max(1, int(s.idle_flush * 1000)))
        self._run(s.decoder.feed, data)

    def _flush(self) -> None:
        s = self.session
        if self.closed or not s.dirty:
            return
        s.dirty = False
        flush = getattr(s.decoder, "flush", None)
        if flush is not None:
            self._run(flush)

    def _on_tick(self) -> None:
        tick = getattr(self.session.decoder, "tick", None)
        if tick is not None and not self.closed:
            self._run(tick)

    def _run(self, fn, *args) -> None:
        try:
            events = fn(*args)
        except Exception:  # a decoder fault must not stop the reading (the worker's loop guards the same way)
            logger.exception("caller-ID decoder failed")
            return
        if events:
            self._deliver(events)

    def close(self, lost: bool = False, reason: str = "") -> None:
        """Stop watching the port and give it back to the worker (lost: the worker reopens it)."""
        if self.closed:
            return
        self.closed = True
        if self._notifier is not None:
            self._notifier.setEnabled(False)          # no longer polled: the worker may close the descriptor
            self._notifier = None
        self._idle.stop()
        self._tick.stop()
        if lost:
            logger.info("caller-ID port lost while read on the GUI thread: %s", reason)
        self.session.end(lost=lost, reason=reason)
        self._on_closed(self)
        self.deleteLater()


class CallerIdListener(QObject):
    """Owns one source on a worker thread. Signals:

    - ``event_received(object)``: a CallerIdEvent (INCOMING, RING, ANSWERED, HANGUP, MISSED, OFFHOOK, DIGIT,
      OUTGOING, DEVICE), in the order the device reported them;
    - ``state_changed(str, str)``: state key (listening / no_device / reconnecting / error / stopped) and
      the Persian status-bar text;
    - ``dial_finished(bool, str)``: the outcome of ``dial()`` and its Persian message;
    - ``probe_finished(bool, str)``: the outcome of ``probe()`` (the modem's AT/ATI answers, or why not).
    """

    event_received = Signal(object)
    state_changed = Signal(str, str)
    dial_finished = Signal(bool, str)
    probe_finished = Signal(bool, str)
    _request_done = Signal(object, object, object)     # internal: a dial/probe Future, to the GUI thread

    def __init__(self, source: Source | None = None, fmt: str | None = None, parent: QObject | None = None, *,
                 idle_flush: float | None = None, backoff: Sequence[float] | None = None,
                 decoder_options: dict | None = None, problem: str | None = None, read_on_gui_thread: bool = True):
        super().__init__(parent)
        self._source = source
        # A port with a descriptor (a POSIX serial port or pty) is read on the GUI thread once open (_LentReader):
        # a record's event then reaches the popup without a hand-over between threads. Opening, a modem's init,
        # dialling and the back-off stay on the worker thread.
        self._read_on_gui = read_on_gui_thread
        self._reader: _LentReader | None = None
        self._pending: list = []                # events the lent reader delivers, in order (see _deliver_lent)
        self._delivering = False
        self._fmt = fmt
        self._idle_flush = idle_flush
        self._backoff = tuple(backoff) if backoff else sources.BACKOFF_SECONDS
        self._decoder_options = dict(decoder_options or {})
        self._problem = problem                 # why there is no source (settings incomplete / disabled)
        self._problem_state = sources.NO_DEVICE
        self._pump: Pump | None = None
        self._worker: _PumpWorker | None = None
        self._thread: QThread | None = None
        self._generation = 0                    # events of an earlier run (already queued) are dropped
        self._stop = threading.Event()
        self._picked_up = threading.Event()
        self._quit_hooked = False
        self.state = sources.STOPPED
        self.state_text = sources.state_text(sources.STOPPED)
        self._request_done.connect(self._deliver_request, Qt.ConnectionType.QueuedConnection)

    # -- construction ---------------------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, parent: QObject | None = None, **kw) -> CallerIdListener:
        """The listener the desk's settings describe. Never raises: incomplete settings become a state."""
        listener = cls(parent=parent, **kw)
        listener.reload_settings(start=False)
        return listener

    def reload_settings(self, start: bool | None = None) -> None:
        """Re-read the settings (after the settings page saved them); restarts if it was running."""
        from app import settings
        from app.callerid import settings_keys as sk

        was_running = self.is_running
        self.stop()
        self._source, self._problem = None, None
        self._fmt = None
        if not settings.get(sk.ENABLED):
            self._problem, self._problem_state = "در تنظیمات خاموش است", sources.STOPPED
        else:
            try:
                self._source = configured.source_from_settings()
                self._fmt = settings.get(sk.DEVICE)
            except SourceUnavailable as e:
                self._problem, self._problem_state = e.message, e.state
            except UserError as e:
                self._problem, self._problem_state = e.message, sources.ERROR
        if start or (start is None and was_running):
            self.start()

    # -- running --------------------------------------------------------------------------------------------
    @property
    def source(self) -> Source | None:
        return self._source

    @property
    def fmt(self) -> str | None:
        return self._fmt

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def _on_state(self, state: str, text: str) -> None:
        self.state, self.state_text = state, text
        self.state_changed.emit(state, text)

    @Slot(str, str, int)
    def _worker_state(self, state: str, text: str, generation: int) -> None:
        if generation == self._generation and self._thread is not None and not self._stop.is_set():
            self._on_state(state, text)

    @Slot(object, int)
    def _worker_event(self, event, generation: int) -> None:
        if generation == self._generation and self._thread is not None and not self._stop.is_set():
            self.event_received.emit(event)

    @Slot(object, int)
    def _worker_lend(self, session: ReadSession, generation: int) -> None:
        """The worker opened the port: read it here, on the GUI thread, until it is taken back or lost."""
        if generation != self._generation or self._thread is None or self._stop.is_set() or not session.begin():
            return
        self._close_reader()
        try:
            self._reader = _LentReader(session, self._deliver_lent, self._reader_closed, self)
        except Exception:  # the worker reads it itself then (see Pump._read_lent)
            logger.exception("caller ID: reading the port on the GUI thread failed")
            session.end()

    @Slot(object, int)
    def _worker_reclaim(self, session: ReadSession, generation: int) -> None:
        """The worker wants the port back (a dial or probe request): stop reading it here."""
        reader = self._reader
        if reader is not None and reader.session is session:
            self._close_reader()
        else:
            session.end()

    def _reader_closed(self, reader: _LentReader) -> None:
        if self._reader is reader:
            self._reader = None

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _deliver_lent(self, events) -> None:
        """The lent reader's events, emitted at once and in order (a slot that turns the event loop, e.g. a
        dialog, may let the reader deliver more before the first batch is through: those wait their turn)."""
        self._pending.extend(events)
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._pending:
                event = self._pending.pop(0)
                pump = self._pump
                if pump is not None:
                    pump.events_seen += 1
                if self._thread is not None and not self._stop.is_set():
                    self.event_received.emit(event)
        finally:
            self._delivering = False

    def _decoder_factory(self, fmt: str):
        from app.callerid.decoders import decoder_for

        return decoder_for(fmt, **self._decoder_options)

    def start(self) -> None:
        if self.is_running:
            return
        if self._source is None:
            self._on_state(self._problem_state, sources.state_text(self._problem_state, self._problem or ""))
            return
        shorten_switch_interval()
        self._stop = threading.Event()
        self._generation += 1
        self._pump = Pump(self._source, self._fmt, on_event=lambda e: None, on_state=None,
                          idle_flush=self._idle_flush, backoff=self._backoff,
                          decoder_factory=self._decoder_factory)
        self._pending = []
        thread = QThread()
        thread.setObjectName("callerid-listener")
        worker = _PumpWorker(self._pump, self._stop, self._generation, lend_reading=self._read_on_gui)
        worker.moveToThread(thread)
        queued = Qt.ConnectionType.QueuedConnection
        worker.event.connect(self._worker_event, queued)
        worker.state.connect(self._worker_state, queued)
        worker.lend.connect(self._worker_lend, queued)
        worker.reclaim.connect(self._worker_reclaim, queued)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread, self._worker = thread, worker
        thread.start()
        if not self._quit_hooked:
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.stop)      # never leave the thread running at exit
                self._quit_hooked = True

    def stop(self) -> bool:
        """Stop listening and release the port. Returns once the worker thread has ended (the loop notices
        the stop flag within about 50 ms; a device call in progress, e.g. dialling, is cancelled). Nothing
        is emitted by the worker after this; the "stopped" state is reported here, once. Returns True."""
        thread, worker = self._thread, self._worker
        if thread is None:
            return True
        self._close_reader()                    # the GUI thread lets go of the port before the worker closes it
        self._stop.set()
        self._picked_up.set()
        for sig, slot in ((worker.event, self._worker_event), (worker.state, self._worker_state),
                          (worker.lend, self._worker_lend), (worker.reclaim, self._worker_reclaim)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        thread.quit()
        waited = 0
        while not thread.wait(2000):
            waited += 2
            logger.warning("caller-ID worker still stopping after %d s", waited)
        self._thread = self._worker = None
        self._pump = None
        worker.deleteLater()
        thread.deleteLater()
        self._on_state(sources.STOPPED, sources.state_text(sources.STOPPED))
        return True

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- click to call and the port test, through the open port ----------------------------------------------
    def _can_dial(self) -> str | None:
        """None when dialling is possible, else the Persian reason."""
        if self._source is None or self._pump is None or not self.is_running:
            return "شنود شناسه تماس روشن نیست؛ ابتدا دستگاه را در تنظیمات انتخاب کنید."
        if not self._source.can_dial:
            from app.callerid import settings_keys as sk

            if self._fmt == "ami":
                return ("مرکز تلفن Asterisk / Issabel شماره را خودش می‌گیرد (Originate)، نه از راه درگاه شنود؛ "
                        "داخلی این میز را در تنظیمات › شناسه تماس بنویسید.")
            label = sk.DEVICE_LABELS.get(self._fmt or "", "")
            what = f"این دستگاه شناسه تماس ({label})" if label else "این دستگاه شناسه تماس"
            return f"{what} نمی‌تواند شماره بگیرد؛ شماره را با گوشی بگیرید."
        if (self._fmt or "auto") not in ("auto", "modem", "raw"):
            return "جعبه شناسه تماس چندخطی شماره‌گیری ندارد؛ شماره را با گوشی بگیرید."
        return None

    def dial(self, number: str, release_after: float | None = None) -> None:
        """Dial ``number`` on the modem (asynchronously); the result arrives as ``dial_finished``.
        Call ``picked_up()`` when the user lifts the handset, to release the modem at once."""
        reason = self._can_dial()
        if reason:
            self.dial_finished.emit(False, reason)
            return
        from app import settings
        from app.callerid import modem
        from app.callerid import settings_keys as sk

        if release_after is None:
            release_after = float(settings.get(sk.DIAL_RELEASE_AFTER))
        self._picked_up = threading.Event()
        picked, stop = self._picked_up, self._stop
        fut = self._pump.submit(lambda src: modem.dial(src, number, release_after=release_after,
                                                       picked_up=picked, cancel=stop.is_set))
        fut.add_done_callback(lambda f: self._request_done.emit(f, self.dial_finished, lambda r: r.message))

    def picked_up(self) -> None:
        self._picked_up.set()

    def probe(self) -> None:
        """AT / ATI on the open port; the answer arrives as ``probe_finished``."""
        if self._pump is None or not self.is_running or self._source is None:
            self.probe_finished.emit(False, "شنود شناسه تماس روشن نیست.")
            return
        from app.callerid import modem

        fut = self._pump.submit(lambda src: modem.probe(src))
        fut.add_done_callback(lambda f: self._request_done.emit(f, self.probe_finished, str))

    @Slot(object, object, object)
    def _deliver_request(self, fut, signal, describe) -> None:
        """On the GUI thread: the outcome of dial()/probe() as its signal."""
        self._finished(fut, signal, describe)

    @staticmethod
    def _finished(fut, signal, describe) -> None:
        try:
            result = fut.result()
        except UserError as e:
            signal.emit(False, e.message)
        except Exception as e:  # reported, not raised into the GUI
            logger.exception("caller-ID request failed")
            signal.emit(False, f"خطای پیش‌بینی‌نشده: {e}")
        else:
            signal.emit(True, describe(result))
