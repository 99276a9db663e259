"""Settings → caller ID: values saved to the declared keys, bad input refused, the port test on a real pty."""
from __future__ import annotations

import pytest

from app import settings
from app.callerid import service as svc
from app.callerid import settings_keys as sk
from app.callerid.simulator import Simulator, SimulatorOptions

pytestmark = pytest.mark.usefixtures("persian_app")


@pytest.fixture
def panel(qapp, db, qtbot):
    from ui.context import AppContext
    from ui.settings.callerid_panel import CallerIdPanel

    p = CallerIdPanel(AppContext())
    qtbot.addWidget(p)
    p.show()
    return p


def test_save_everything(panel):
    p = panel
    p.device.setCurrentIndex(p.device.findData("segal"))
    p.port.setEditText("/dev/ttyUSB0")
    p.baud.setCurrentIndex(p.baud.findData(9600))
    p.lines.setValue(4)
    assert len(p.label_edits) == 4
    p.label_edits[0].setText("خط فروش")
    p.label_edits[2].setText("خط | انبار")
    p.area_code.setText("۰۳۱")
    p.popup_enabled.setChecked(False)
    p.on_hangup.setCurrentIndex(p.on_hangup.findData("close"))
    p.close_after.setValue(30)
    p.ring_timeout.setValue(10)
    assert p.save()
    settings.reset_cache()
    assert settings.get(sk.DEVICE) == "segal" and settings.get(sk.PORT) == "/dev/ttyUSB0"
    assert settings.get(sk.BAUD) == 9600 and settings.get(sk.LINES) == 4
    assert sk.line_labels() == {1: "خط فروش", 3: "خط / انبار"}
    assert sk.line_label(2) == "خط ۲"
    assert settings.area_code() == "031"
    assert settings.get(svc.POPUP_ENABLED) is False and settings.get(sk.POPUP_ON_HANGUP) == "close"
    assert settings.get(svc.POPUP_CLOSE_AFTER) == 30 and settings.get(svc.RING_TIMEOUT) == 10.0
    assert not p.ncid.isEnabled() and p.port.isEnabled()


def test_bad_area_code_and_ncid_address_are_refused(panel):
    p = panel
    p.area_code.setText("۰۹۹")
    assert not p.save()
    assert "کد شهر" in p.message.text()
    assert settings.area_code() == "021"
    p.area_code.setText("021")
    p.device.setCurrentIndex(p.device.findData("ncid"))
    p.ncid.setText("host:99999")
    assert not p.save()
    assert settings.get(sk.DEVICE) == "auto"       # nothing half-saved


def test_port_test_answers_from_a_simulated_modem(panel, qtbot):
    p = panel
    with Simulator(SimulatorOptions(device="modem")) as sim:
        p.port.setEditText(sim.port)
        p.test_port()
        qtbot.waitUntil(lambda: p.test_btn.isEnabled(), timeout=8000)
    assert "درگاه پاسخ داد" in p.test_result.text() and "OK" in p.test_result.text()


def test_port_test_on_a_missing_port(panel, qtbot):
    p = panel
    p.port.setEditText("/dev/does-not-exist")
    p.test_port()
    qtbot.waitUntil(lambda: p.test_btn.isEnabled(), timeout=8000)
    assert "پیدا نشد" in p.test_result.text()
