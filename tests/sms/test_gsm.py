"""GSM modem sending in PDU mode against the simulator on a real pty; the PDU checked against a worked example.

Worked example, derived by hand from 3GPP TS 23.040 §9.2.2.2 / §9.2.3 and TS 23.038 (not copied from a tool):
«سلام» to +98 912 123 4567, no status report, 24-hour validity.
    00            SCA length 0: use the SMS centre stored on the SIM
    11            first octet: TP-MTI 01 (SMS-SUBMIT) | TP-VPF 10 (relative) → 0b0001_0001
    00            TP-MR: 0, the modem assigns the reference
    0C            TP-DA length: 12 digits (989121234567)
    91            type of address: international, ISDN numbering plan
    891912325476  digits in swapped semi-octets: 98 91 21 23 45 67 → 89 19 12 32 54 76
    00            TP-PID: plain SMS
    08            TP-DCS: UCS-2 (any Persian letter forces it)
    A7            TP-VP: 167 → (167−143)×30 min + 12 h = 24 h
    08            TP-UDL: 4 characters × 2 octets
    0633 0644 0627 0645   UTF-16BE of س ل ا م
TPDU length after the SCA: 1+1+1+1+6+1+1+1+1+8 = 22, hence AT+CMGS=22.
A 2-part message: first octet 0x51 (UDHI 0x40 added), UDH 05 00 03 <ref> 02 <seq>, and a full UCS-2 part holds
67 characters: UDL = 6 + 134 = 140, TPDU = 14 + 140 = 154 octets (the reference note says AT+CMGS=153; counting
the 14 header octets above gives 154).
"""
from __future__ import annotations

import pytest

from app.sms import encoding, pdu
from app.sms.gsm_simulator import GsmSimulator
from app.sms.providers import Outgoing, ProviderError, make
from app.sms.providers import base as b


def test_worked_example_persian_single_part():
    [p] = pdu.submit_pdus("09121234567", "سلام")
    assert p.hex == "0011000C918919123254760008A7080633064406270645"
    assert p.command == "AT+CMGS=22"


def test_two_part_persian_header_and_lengths():
    text = "س" * 100
    parts = pdu.submit_pdus("09121234567", text, reference=0x2A)
    assert len(parts) == 2
    assert parts[0].hex.startswith("0051000C91891912325476" + "0008A7" + "8C" + "0500032A0201")
    assert parts[0].tpdu_length == 154
    assert parts[1].hex[28:42] == "48" + "0500032A0202"   # UDL 6 + 33×2 = 72
    decoded = [pdu.decode_submit(p.hex) for p in parts]
    assert "".join(d.text for d in decoded) == text and [d.seq for d in decoded] == [1, 2]


def test_gsm7_packing_with_and_without_header():
    # "hellohello" packed septets: the classic 23.038 example
    [p] = pdu.submit_pdus("09121234567", "hellohello")
    assert p.hex.endswith("0AE8329BFD4697D9EC37")
    long = "Peyvand CRM " * 20
    parts = pdu.submit_pdus("09121234567", long, reference=7)
    assert len(parts) == encoding.info(long).parts == 2
    assert "".join(pdu.decode_submit(x.hex).text for x in parts) == long


@pytest.mark.parametrize("text,enc,length,parts", [
    ("a" * 160, "gsm7", 160, 1), ("a" * 161, "gsm7", 161, 2), ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3), ("س" * 70, "ucs2", 70, 1), ("س" * 71, "ucs2", 71, 2), ("س" * 134, "ucs2", 134, 2),
    ("س" * 135, "ucs2", 135, 3), ("{" * 80, "gsm7", 160, 1), ("a€", "gsm7", 3, 1), ("hello سلام", "ucs2", 10, 1),
])
def test_lengths_and_parts(text, enc, length, parts):
    i = encoding.info(text)
    assert (i.encoding, i.length, i.parts) == (enc, length, parts)


@pytest.fixture
def sim():
    s = GsmSimulator().start()
    yield s
    s.stop()


def modem(sim):
    return make("gsm", base_url=sim.port)


def test_modem_sends_persian_in_pdu_mode(sim):
    res = modem(sim).send([Outgoing(1, "09121234567", "سلام، فاکتور شما صادر شد.")])
    assert res[0].ok and res[0].provider_id == "mr:1"
    assert "AT+CMGF=0" in sim.commands
    assert sim.messages() == [("+989121234567", "سلام، فاکتور شما صادر شد.")]


def test_modem_sends_a_long_message_in_concatenated_parts(sim):
    text = "مشتری گرامی، " * 15
    res = modem(sim).send([Outgoing(1, "09121234567", text)])
    assert res[0].ok and len(sim.received) == encoding.info(text).parts == 3
    assert len({r.reference for r in sim.received}) == 1
    assert sim.messages() == [("+989121234567", text)]


def test_cms_error_is_mapped_to_persian(sim):
    sim.cms_error = 330
    with pytest.raises(ProviderError) as e:
        modem(sim).send([Outgoing(1, "09121234567", "سلام")])
    assert "مرکز پیام" in e.value.message and e.value.code == "CMS 330"


def test_cms_error_for_one_number_fails_only_that_one(sim):
    sim.cms_error_for["+989350000000"] = 28
    res = modem(sim).send([Outgoing(1, "09121234567", "الف"), Outgoing(2, "09350000000", "ب"),
                           Outgoing(3, "09121234568", "پ")])
    assert [r.ok for r in res] == [True, False, True]
    assert res[1].kind == b.NUMBER and "نامعتبر" in res[1].error
    assert [m[1] for m in sim.messages()] == ["الف", "پ"]


def test_missing_port_is_a_persian_error():
    with pytest.raises(ProviderError) as e:
        make("gsm", base_url="/dev/no-such-modem").send([Outgoing(1, "09121234567", "سلام")])
    assert "درگاه" in e.value.message
