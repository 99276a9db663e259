"""Settings → caller ID with a telephone system: the fields saved, the secret stored but never shown again,
a missing address refused in Persian, and the connection test against the AMI simulator."""
from __future__ import annotations

import pytest

from app import settings
from app.callerid import settings_keys as sk
from app.callerid.pbx_simulator import AmiServer


@pytest.fixture
def panel(qapp, db, qtbot):
    from ui.context import AppContext
    from ui.settings.callerid_panel import CallerIdPanel

    p = CallerIdPanel(AppContext())
    qtbot.addWidget(p)
    p.show()
    return p


def test_ami_fields_saved_and_the_secret_never_shown_again(panel, qtbot):
    p = panel
    p.device.setCurrentIndex(p.device.findData("ami"))
    assert p.pbx_box.isVisible() and not p.smdr_note.isVisible() and not p.baud.isEnabled()
    p.pbx_address.setText("")
    assert not p.save() and "نشانی مرکز تلفن" in p.message.text()
    p.pbx_address.setText("192.168.1.10")
    p.pbx_user.setText("crm")
    p.pbx_secret.setText("s3cret")
    p.pbx_auth.setCurrentIndex(p.pbx_auth.findData("plain"))
    p.pbx_extension.setText("۱۰۱")
    p.pbx_tech.setCurrentIndex(p.pbx_tech.findData("SIP"))
    p.pbx_context.setText("from-internal-custom")
    p.pbx_extensions.setText("101=علی رضایی|102=مریم احمدی")
    assert p.save()
    settings.reset_cache()
    assert (settings.get(sk.DEVICE), settings.get(sk.PBX_ADDRESS), settings.get(sk.PBX_USER)) == \
        ("ami", "192.168.1.10", "crm")
    assert (settings.get(sk.PBX_SECRET), settings.get(sk.PBX_AUTH), settings.get(sk.PBX_EXTENSION)) == \
        ("s3cret", "plain", "101")
    assert (settings.get(sk.PBX_TECH), settings.get(sk.PBX_CONTEXT)) == ("SIP", "from-internal-custom")
    assert sk.user_for_extension("102") == "مریم احمدی"
    p.load()
    assert p.pbx_secret.text() == "" and "ذخیره شده" in p.pbx_secret.placeholderText()
    assert p.save()                                   # saved again with the field empty: the secret is kept
    settings.reset_cache()
    assert settings.get(sk.PBX_SECRET) == "s3cret"


def test_smdr_serial_uses_the_port_fields(panel):
    p = panel
    p.device.setCurrentIndex(p.device.findData("smdr"))
    assert p.smdr_note.isVisible()
    p.smdr_link.setCurrentIndex(p.smdr_link.findData("serial"))
    assert p.port.isEnabled() and p.baud.isEnabled() and not p.pbx_address.isEnabled()
    p.port.setEditText("/dev/ttyUSB1")
    assert p.save()
    settings.reset_cache()
    assert (settings.get(sk.DEVICE), settings.get(sk.SMDR_LINK), settings.get(sk.PORT)) == \
        ("smdr", "serial", "/dev/ttyUSB1")


def test_connection_test_button_against_the_simulator(panel, qtbot):
    p = panel
    with AmiServer() as ami:
        p.device.setCurrentIndex(p.device.findData("ami"))
        p.pbx_address.setText(ami.address)
        p.pbx_user.setText("crm")
        p.pbx_secret.setText("wrong")
        p.pbx_test_btn.click()
        qtbot.waitUntil(lambda: "پذیرفته نشد" in p.pbx_test_result.text(), timeout=10_000)
        p.pbx_secret.setText("s3cret")
        p.pbx_test_btn.click()
        qtbot.waitUntil(lambda: "ورود پذیرفته شد" in p.pbx_test_result.text(), timeout=10_000)
        assert p.pbx_test_btn.isEnabled()


def test_auto_search_finds_an_asterisk_and_fills_the_page(panel, qtbot, tmp_path):
    p = panel
    with AmiServer() as ami:
        p.search_address.setText(ami.address)
        p.search_btn.click()
        qtbot.waitUntil(lambda: p.search_btn.isEnabled() and "پیدا شد" in p.search_result.text(), timeout=10_000)
    assert p.device.currentData() == "ami" and p.pbx_address.text() == ami.address
    assert p.pbx_box.isVisible()
    p.resize(760, 900)
    import os
    import shutil

    out = tmp_path / "auto_search.png"
    assert p.grab().save(str(out))
    if os.environ.get("CRM_SCREENSHOTS"):
        shutil.copy(out, os.environ["CRM_SCREENSHOTS"])


def test_auto_search_finds_smdr_records_on_the_chosen_serial_port(panel, qtbot):
    import threading

    from app.callerid.pbx_simulator import SmdrPty

    p = panel
    with SmdrPty() as pty:
        p.search_address.clear()
        p.port.setEditText(pty.port)
        threading.Timer(0.5, lambda: pty.record("103", 3, "09121234567", incoming=True, ring=5,
                                                duration=65)).start()
        p.search_btn.click()
        qtbot.waitUntil(lambda: p.search_btn.isEnabled() and p.search_result.text() != "در حال جستجو…",
                        timeout=10_000)
    assert p.device.currentData() == "smdr" and p.smdr_link.currentData() == "serial"
    assert "پاناسونیک" in p.search_result.text()


def test_auto_search_with_nothing_to_search_says_so(panel):
    panel.search_address.clear()
    panel.port.setEditText("")
    panel.auto_search()
    assert "نشانی دستگاه" in panel.search_result.text()
