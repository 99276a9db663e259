"""The caller-ID source this desk's settings describe: serial modem or box, NCID server, or the office's
telephone system (AMI / SMDR). Kept apart from sources.py so that the sources never import the kinds built
on them."""
from __future__ import annotations

from app import settings
from app.callerid import settings_keys as sk
from app.callerid.ami import pbx_source_from_settings
from app.callerid.autodetect import AutoNetworkSource, is_network_address
from app.callerid.sources import DEFAULT_NCID_PORT, NcidSource, SerialSource, Source


def source_from_settings() -> Source:
    """The source the desk's settings describe (raises SourceUnavailable when they are incomplete)."""
    kind = settings.get(sk.DEVICE)
    if kind in sk.PBX_KINDS:
        return pbx_source_from_settings(kind)
    if kind == "ncid":
        host, port = sk.parse_host_port(settings.get(sk.NCID_ADDRESS), DEFAULT_NCID_PORT)
        return NcidSource(host, port)
    if kind == "auto" and is_network_address(settings.get(sk.PORT)):
        # a network address where the serial port goes: whatever answers there is recognised on connecting
        return AutoNetworkSource(settings.get(sk.PORT), settings.get(sk.PBX_USER),
                                 settings.get(sk.PBX_SECRET), settings.get(sk.PBX_AUTH))
    init: str | None = None
    if settings.get(sk.INIT):
        init = {"modem": "modem", "auto": "auto"}.get(kind)
    return SerialSource(settings.get(sk.PORT), settings.get(sk.BAUD), fmt=kind, init=init,
                        init_commands=sk.init_commands())
