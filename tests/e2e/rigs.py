"""What the caller-ID end-to-end tests share: a controller listening to a simulated device as the program runs
one (a real pty or TCP port, the real listener thread, decoder, service and popups)."""
from __future__ import annotations

from app.callerid import service as svc
from app.callerid.listener import CallerIdListener
from app.callerid.simulator import Simulator
from app.callerid.sources import SerialSource


def listening_controller(qtbot, sim: Simulator, device: str, ring_timeout: float, **listener_options):
    """A CallerIdController on a listener of `sim`'s port, started, once it says it is listening: (controller,
    the caller-ID states it reported). Stopped again if it never listens."""
    from ui.calls.controller import CallerIdController
    from ui.context import AppContext

    listener = CallerIdListener(SerialSource(sim.port, 57600, fmt=device, init=None), device, backoff=(0.1, 0.2),
                                **listener_options)
    ctx = AppContext()
    ctrl = CallerIdController(ctx)
    ctrl.service = svc.CallerIdService(ring_timeout=ring_timeout)
    states: list[str] = []
    ctx.bus.callerid_state.connect(lambda k, _t: states.append(k))
    ctrl.attach_listener(listener)
    ctrl.start()
    try:
        qtbot.waitUntil(lambda: "listening" in states, timeout=5000)
    except BaseException:
        ctrl.stop()
        raise
    return ctrl, states


def popup_named(ctrl, text: str):
    """The open popup whose heading is `text`, or None."""
    return next((p for p in ctrl.popups() if p.name_label.text() == text), None)
