"""Modem initialisation, the port test and click-to-call, against the simulated modem on a real pty."""
from __future__ import annotations

import os
import threading
import time

import pytest
import serial

from app.callerid import modem
from app.callerid.simulator import Simulator, SimulatorOptions
from app.callerid.sources import SerialSource, SourceUnavailable
from app.core.errors import UserError


@pytest.fixture
def make_sim():
    sims = []

    def make(**kw):
        kw.setdefault("device", "modem")
        s = Simulator(SimulatorOptions(**kw)).start()
        sims.append(s)
        return s

    yield make
    for s in sims:
        s.close()


def test_conexant_accepts_the_first_command(make_sim):
    sim = make_sim(chipset="conexant")
    result = modem.init_port(sim.path)
    assert result.ok and result.command == "AT+VCID=1"
    assert "AT+VCID=1" in result.message and "فعال شد" in result.message
    assert sim.at.history[:2] == ["AT Z S0=0 E1 V1 Q0", "AT+VCID=1"]
    assert sim.at.cid_mode == 1


def test_a_chipset_that_refuses_vcid_falls_back_to_the_next_command(make_sim):
    sim = make_sim(chipset="usr")
    result = modem.init_port(sim.path)
    assert result.ok and result.command == "AT#CID=1"
    assert [(a.command, a.code) for a in result.tried] == [
        ("AT Z S0=0 E1 V1 Q0", "OK"), ("AT+VCID=1", "ERROR"), ("AT#CID=1", "OK")]
    assert sim.at.cid_mode == 1


@pytest.mark.parametrize("chipset, expected", [("motorola", "AT*ID1"), ("pp", "AT%CCID=1")])
def test_other_chipsets_find_their_command(make_sim, chipset, expected):
    assert modem.init_port(make_sim(chipset=chipset).path).command == expected


def test_the_command_list_is_configurable(make_sim):
    sim = make_sim(chipset="motorola")
    result = modem.init_port(sim.path, commands=["AT#CC1", "AT*ID1"])
    assert result.command == "AT#CC1"


def test_a_modem_without_caller_id_is_reported_in_persian(make_sim):
    sim = make_sim(chipset="nocid")
    result = modem.init_port(sim.path)
    assert not result.ok and result.modem_found
    assert "هیچ‌یک از فرمان‌ها" in result.message
    assert len(result.tried) == 1 + 8                 # the reset and every default command, each refused


def test_a_silent_port_is_not_a_modem(make_sim):
    sim = make_sim(device="segal")                   # a box: it never answers AT
    src = SerialSource(sim.path)
    src.open()
    try:
        t0 = time.monotonic()
        result = modem.initialise(src, require_modem=False)
        assert time.monotonic() - t0 < 1.5            # one short AT, nothing more sent to the box
        assert not result.modem_found and not result.ok
        assert "جعبه شناسه تماس" in result.message
        assert sim.received == b"AT\r"
    finally:
        src.close()


def test_init_on_open_puts_the_outcome_in_the_status_note(make_sim):
    sim = make_sim(chipset="usr")
    src = SerialSource(sim.path, init="modem")
    note = src.open()
    src.close()
    assert note == "مودم: AT#CID=1"


def test_echo_off_and_noise_between_answers_are_handled(make_sim):
    sim = make_sim(chipset="conexant")
    with SerialSource(sim.path) as src:
        assert modem.command(src, "ATE0").ok
        sim.write(b"\r\nRING\r\n")                    # a call rings in the middle of the conversation
        a = modem.command(src, "ATI")
        assert a.ok and a.lines == ["CX93001-EIS_V0.2002-V92"]


def test_probe_returns_the_modems_answers(make_sim):
    sim = make_sim(chipset="usr")
    text = modem.probe(sim.path)
    assert "AT → OK" in text
    assert "U.S. Robotics" in text


def test_probe_of_a_silent_port_says_so_in_persian(make_sim):
    sim = make_sim(device="techno")
    with pytest.raises(UserError) as exc:
        modem.probe(sim.path, timeout=0.3)
    assert "پاسخ نداد" in exc.value.message


def test_probe_of_a_busy_port_is_a_persian_user_error(make_sim):
    sim = make_sim()
    other = serial.Serial(sim.path, exclusive=True)
    try:
        with pytest.raises(SourceUnavailable) as exc:
            modem.probe(sim.path)
        assert "برنامه دیگری" in exc.value.message
    finally:
        other.close()


def test_probe_of_a_missing_port(tmp_path):
    with pytest.raises(UserError) as exc:
        modem.probe(str(tmp_path / "ttyUSB7"))
    assert "پیدا نشد" in exc.value.message


# --- click to call -------------------------------------------------------------------------------------
def test_dial_then_release_after_the_delay(make_sim):
    sim = make_sim()
    t0 = time.monotonic()
    result = modem.dial(sim.path, "+98 912 123 4567", release_after=0.3, area_code="021")
    assert time.monotonic() - t0 >= 0.3
    assert result.number == "09121234567" and result.released == "timeout"
    assert "گرفته شد" in result.message
    assert sim.at.history[-2:] == ["ATDT09121234567;", "ATH"]


def test_dial_releases_as_soon_as_the_handset_is_picked_up(make_sim):
    sim = make_sim()
    picked = threading.Event()
    threading.Timer(0.2, picked.set).start()
    t0 = time.monotonic()
    result = modem.dial(sim.path, "02122514321", release_after=10, picked_up=picked, area_code="021")
    assert time.monotonic() - t0 < 2
    assert result.released == "handset"
    assert result.number == "22514321"                # a landline in the office's own city: no area code
    assert sim.at.history[-1] == "ATH"


@pytest.mark.parametrize("answer, needle", [
    ("NO DIALTONE", "بوق آزاد"), ("BUSY", "اشغال"), ("ERROR", "نپذیرفت")])
def test_dial_failures_are_clear_persian_messages(make_sim, answer, needle):
    sim = make_sim(dial_result=answer)
    with pytest.raises(UserError) as exc:
        modem.dial(sim.path, "09121234567", release_after=0.1)
    assert needle in exc.value.message


def test_dial_without_a_modem(make_sim):
    sim = make_sim(device="segal")
    with pytest.raises(UserError) as exc:
        modem.dial(sim.path, "09121234567", release_after=0.1)
    assert "مودمی" in exc.value.message


def test_dial_rejects_a_number_with_no_digits():
    with pytest.raises(UserError):
        modem.dialable("تماس", "021")


def test_dialable_forms():
    assert modem.dialable("00989121234567", "021") == "09121234567"
    assert modem.dialable("۰۲۱-۲۲۵۱۴۳۲۱", "021") == "22514321"
    assert modem.dialable("03132223344", "021") == "03132223344"


def test_the_pty_master_sees_exactly_the_commands(make_sim):
    # a sanity check of the plumbing the other tests rely on: nothing but our bytes reach the modem
    sim = make_sim()
    with SerialSource(sim.path) as src:
        modem.command(src, "AT")
    assert bytes(sim.received) == b"AT\r"
    assert os.path.exists(sim.path)
