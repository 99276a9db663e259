"""«جستجوی خودکار»: an Asterisk AMI banner, a Panasonic SMDR login or records, an NCID greeting recognised on
real sockets and ptys (the simulators), and the "auto" decoder picking the AMI and SMDR decoders by itself."""
from __future__ import annotations

import datetime as dt
import socket
import threading
from pathlib import Path

import pytest

from app.callerid import autodetect
from app.callerid.decoders import decoder_for
from app.callerid.pbx_simulator import AmiServer, SmdrPty, SmdrTcpServer
from app.core.errors import UserError
from tests.callerid.test_sources_ncid import FakeNcidServer

PBX = Path(__file__).parent / "captures" / "pbx"


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("style", ["16", "11"])
def test_an_asterisk_manager_port_is_recognised_by_its_banner(style):
    with AmiServer(style=style) as ami:
        found = autodetect.search_network(ami.address)
    assert found.kind == "ami" and found.where == ami.address
    assert found.greeting.startswith("Asterisk Call Manager/")
    assert "Asterisk" in found.message and "پیدا شد" in found.message


def test_a_panasonic_lan_smdr_port_is_recognised_by_its_login_prompt():
    with SmdrTcpServer() as pbx:
        found = autodetect.search_network(pbx.address)
    assert found.kind == "smdr" and found.where == pbx.address
    assert "پاناسونیک" in found.message


def test_an_ncid_server_is_recognised_by_its_greeting():
    server = FakeNcidServer()
    try:
        found = autodetect.search_network(f"127.0.0.1:{server.port}")
    finally:
        server.close()
    assert found.kind == "ncid"


def test_without_a_port_the_usual_ports_are_tried_in_turn():
    with SmdrTcpServer() as pbx:
        closed = _free_port()
        found = autodetect.search_network("127.0.0.1", ports=(closed, pbx.port))
    assert found.kind == "smdr" and found.where == f"127.0.0.1:{pbx.port}"


def test_nothing_listening_and_a_silent_device_are_said_in_persian():
    found = autodetect.search_network(f"127.0.0.1:{_free_port()}")
    assert found.kind == "" and "هیچ مرکز تلفن" in found.message
    quiet = socket.socket()
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(1)
    held = []
    t = threading.Thread(target=lambda: held.append(quiet.accept()), daemon=True)
    t.start()
    try:
        found = autodetect.search_network(f"127.0.0.1:{quiet.getsockname()[1]}", wait=0.5)
    finally:
        quiet.close()
        for c, _ in held:
            c.close()
    assert found.kind == "" and "شناخته نشد" in found.message
    with pytest.raises(UserError):
        autodetect.search_network("")
    with pytest.raises(UserError):
        autodetect.search_network("127.0.0.1:99999")


def test_smdr_records_on_a_serial_port_are_recognised():
    with SmdrPty() as pty:
        threading.Timer(0.3, lambda: pty.record("103", 3, "09121234567", incoming=True, ring=5,
                                                duration=65)).start()
        found = autodetect.search_serial(pty.port, 9600, listen=3.0)
    assert found.kind == "smdr" and found.where == pty.port


def test_a_serial_port_that_cannot_be_opened_is_a_persian_error(tmp_path):
    with pytest.raises(UserError) as e:
        autodetect.search_serial(str(tmp_path / "no-such-port"), 9600, listen=0.2)
    assert e.value.message


@pytest.mark.parametrize("name, kind", [("ami_asterisk11.txt", "ami"), ("ami_asterisk16.txt", "ami"),
                                        ("smdr_panasonic.txt", "smdr")])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_the_auto_decoder_picks_the_pbx_decoders_and_decodes_the_same(name, kind, chunk):
    data = (PBX / name).read_bytes()

    def now():
        return dt.datetime(2026, 11, 24, 10, 0)

    auto = decoder_for("auto", now=now)
    got = []
    for i in range(0, len(data), chunk):
        got += auto.feed(data[i:i + chunk])
    got += auto.end()
    manual = decoder_for(kind, now=now)
    want = manual.feed(data) + manual.end()
    assert auto.protocol == kind
    assert [(e.kind, e.number, e.line, e.extra.get("extension")) for e in got] == \
        [(e.kind, e.number, e.line, e.extra.get("extension")) for e in want]
    assert got


def test_the_auto_serial_source_recognises_smdr_records_from_the_pty():
    """The listener's "auto" device on a serial port: SMDR records arrive, the SMDR decoder is chosen."""
    from app.callerid import events as ev
    from app.callerid.sources import Pump, SerialSource

    got, done = [], threading.Event()
    stop = threading.Event()
    with SmdrPty() as pty:
        pump = Pump(SerialSource(pty.port, 9600, fmt="auto", init=None),
                    on_event=lambda e: (got.append(e), done.set() if e.kind == ev.HANGUP else None),
                    idle_flush=0.2)
        t = threading.Thread(target=pump.run, args=(stop,), daemon=True)
        t.start()
        try:
            for _ in range(50):
                if pump.state == "listening":
                    break
                threading.Event().wait(0.1)
            pty.record("103", 3, "09121234567", incoming=True, ring=5, duration=65)
            assert done.wait(5)
        finally:
            stop.set()
            t.join(5)
    assert pump.decoder.protocol == "smdr"
    incoming = [e for e in got if e.kind == ev.INCOMING]
    assert incoming and incoming[0].number == "09121234567" and incoming[0].extra["extension"] == "103"


# --- the "auto" device on a network address (the listener's source) -------------------------------------------

@pytest.mark.parametrize("text, network", [
    ("192.168.1.10", True), ("192.168.1.10:5038", True), ("pbx.office.local", True), ("pbx:2300", True),
    ("tcp://10.0.0.2:2300", True), ("۱۹۲.۱۶۸.۱.۱۰", True), ("COM3", False), ("/dev/ttyUSB0", False),
    ("/dev/ttyACM0", False), ("", False), ("sim://callerid", False)])
def test_a_network_address_in_the_port_field_is_told_from_a_serial_port(text, network):
    assert autodetect.is_network_address(text) is network


def _run(source):
    from tests.callerid.test_pbx_sources import Run

    return Run(source)


def test_the_auto_device_on_an_asterisk_address_logs_in_and_decodes_ami():
    from app.callerid import events as ev
    from app.callerid import sources

    with AmiServer(style="16") as ami:
        src = autodetect.AutoNetworkSource(ami.address, "crm", "s3cret", "md5")
        run = _run(src)
        try:
            assert run.wait(lambda: run.states and run.states[-1][0] == sources.LISTENING)
            assert src.detected_format == "ami" and "Asterisk" in run.states[-1][1]
            assert ami.wait_for_clients(1)
            ami.incoming("09121234567", ["101", "102"], answer_by="102", talk=0.1, wait=True)
            assert run.wait(lambda: ev.HANGUP in run.kinds())
            assert run.pump.decoder.source == "ami"
            first = next(e for e in run.events if e.kind == ev.INCOMING)
            assert first.number == "09121234567" and first.extra["extension"] == "101"
        finally:
            run.close()


def test_the_auto_device_on_a_lan_smdr_port_logs_in_and_decodes_records():
    from app.callerid import events as ev
    from app.callerid import sources

    with SmdrTcpServer() as pbx:
        src = autodetect.AutoNetworkSource("127.0.0.1", ports=(_free_port(), pbx.port))
        run = _run(src)
        try:
            assert run.wait(lambda: run.states and run.states[-1][0] == sources.LISTENING)
            assert src.detected_format == "smdr"
            assert pbx.wait_for_clients(1)
            pbx.record("102", 4, "09351112233", incoming=True, ring=3, duration=12)
            assert run.wait(lambda: ev.HANGUP in run.kinds())
            assert [(e.kind, e.number) for e in run.events if e.kind != ev.DEVICE] == [
                (ev.INCOMING, "09351112233"), (ev.ANSWERED, "09351112233"), (ev.HANGUP, "09351112233")]
        finally:
            run.close()


def test_nothing_at_the_address_is_no_device_in_persian():
    from app.callerid import sources

    src = autodetect.AutoNetworkSource(f"127.0.0.1:{_free_port()}")
    with pytest.raises(sources.SourceUnavailable) as e:
        src.open()
    assert e.value.state == sources.NO_DEVICE and "پاسخ نداد" in e.value.message


def test_settings_with_auto_and_an_address_build_the_network_source(db):
    from app import settings
    from app.callerid import settings_keys as sk
    from app.callerid.configured import source_from_settings
    from app.callerid.sources import SerialSource

    settings.set(sk.DEVICE, "auto")
    settings.set(sk.PORT, "192.168.1.10")
    src = source_from_settings()
    assert isinstance(src, autodetect.AutoNetworkSource) and src.address == "192.168.1.10"
    settings.set(sk.PORT, "/dev/ttyUSB0")
    assert isinstance(source_from_settings(), SerialSource)
