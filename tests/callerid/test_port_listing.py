"""The COM-port list of Settings → caller ID, from pyserial's list_ports faked at its documented interface:
``serial.tools.list_ports.comports()`` returning ``serial.tools.list_ports_common.ListPortInfo`` objects, here as
Windows reports them (COM names, «USB-SERIAL CH340 (COM7)» descriptions, ``USB VID:PID=…`` hardware ids)."""
from __future__ import annotations

import os

import pytest
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from app.callerid import sources


def win_port(device: str, description: str, usb: tuple[int, int, str] | None = None) -> ListPortInfo:
    """A port as list_ports_windows builds it: the description from the driver, the hwid from the USB ids."""
    p = ListPortInfo(device, skip_link_detection=True)
    p.description = description
    if usb:
        p.vid, p.pid, p.serial_number = usb
        p.location = "1-2"
        p.hwid = p.usb_info()
    else:
        p.hwid = "ACPI\\PNP0501\\1"
    return p


WINDOWS_PORTS = [
    win_port("COM10", "Conexant USB CX93010 ACF Modem (COM10)", (0x0572, 0x1329, "24680246")),
    win_port("COM3", "USB-SERIAL CH340 (COM3)", (0x1A86, 0x7523, "")),
    win_port("COM1", "Communications Port (COM1)"),
]


@pytest.fixture
def windows_ports(monkeypatch):
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: list(WINDOWS_PORTS))


def test_windows_ports_in_natural_order_with_their_descriptions(windows_ports):
    got = [p for p in sources.list_ports(extra=(), simulator_url="") if p.device.startswith("COM")]
    assert [p.device for p in got] == ["COM1", "COM3", "COM10"]
    assert got[1].description == "USB-SERIAL CH340 (COM3)"
    assert got[2].hwid.startswith("USB VID:PID=0572:1329 SER=24680246")
    assert got[0].hwid == "ACPI\\PNP0501\\1"


def test_a_port_without_a_description_shows_its_name(monkeypatch):
    bare = ListPortInfo("COM4", skip_link_detection=True)      # description and hwid left "n/a"
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: [bare, bare])
    got = [p for p in sources.list_ports(extra=(), simulator_url="") if p.device.startswith("COM")]
    assert got == [sources.PortInfo("COM4", "COM4", "")]        # once, however often the driver repeats it


def test_a_failing_port_listing_leaves_an_empty_list_not_an_error(monkeypatch):
    def broken(include_links=False):
        raise OSError("SetupDiGetClassDevs failed")

    monkeypatch.setattr(list_ports, "comports", broken)
    assert [p for p in sources.list_ports(extra=(), simulator_url="") if p.device.startswith("COM")] == []


def test_without_ptys_the_tcp_simulator_is_offered(windows_ports, monkeypatch):
    if hasattr(os, "openpty"):                                  # Linux, macOS: the pty link is the simulator's port
        assert sources.SIMULATOR_URL not in [p.device for p in sources.list_ports(extra=())]
    monkeypatch.delattr(os, "openpty", raising=False)           # as on Windows
    got = sources.list_ports(extra=())
    assert got[-1].device == sources.SIMULATOR_URL == "socket://127.0.0.1:7001"
    assert "شبیه‌ساز" in got[-1].description


@pytest.fixture
def panel(persian_app, db, qtbot, windows_ports, monkeypatch):
    from ui.context import AppContext
    from ui.settings.callerid_panel import CallerIdPanel

    monkeypatch.delattr(os, "openpty", raising=False)
    p = CallerIdPanel(AppContext())
    qtbot.addWidget(p)
    p.resize(720, 640)
    p.show()
    return p


def test_the_settings_port_chooser_lists_com_ports(panel, tmp_path):
    p = panel
    p.refresh_ports()
    items = [(p.port.itemText(i), p.port.itemData(i)) for i in range(p.port.count())]
    coms = [i for i in items if str(i[1]).startswith("COM")]
    assert coms == [("COM1 — Communications Port (COM1)", "COM1"), ("COM3 — USB-SERIAL CH340 (COM3)", "COM3"),
                    ("COM10 — Conexant USB CX93010 ACF Modem (COM10)", "COM10")]
    assert items[-1][1] == "socket://127.0.0.1:7001"
    # picking an entry stores the port's name, not its label; a typed name is taken as it is
    p.port.setCurrentIndex(p.port.findData("COM10"))
    assert p.chosen_port() == "COM10"
    p.port.setEditText("COM12")
    assert p.chosen_port() == "COM12"
    p.port.setCurrentIndex(p.port.findData("COM3"))
    assert p.grab().save(str(tmp_path / "ports.png"))
