"""Published caller-ID material (NCID's test data, mgetty's and MisterHouse's modem notes, an Iranian box's
parser) fed through our decoders, by name and by auto-detection. Sources: captures/real/README.md."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from cli.callerid_decode import event_json

REAL = Path(__file__).parent / "captures" / "real"
NOW = dt.datetime(2026, 11, 24, 20, 0)


def decode(name: str, fmt: str, chunk: int = 7) -> list[ev.CallerIdEvent]:
    data = (REAL / name).read_bytes()
    d = decoder_for(fmt, now=lambda: NOW)
    out = []
    for i in range(0, len(data), chunk):
        out += d.feed(data[i:i + chunk])
    return out + d.end()


def calls(name: str, fmt: str) -> list[tuple]:
    """(number, name, time, line, status) of each incoming call, from the JSON `crm callerid decode` prints."""
    out = []
    for e in decode(name, fmt):
        if e.kind == ev.INCOMING:
            j = event_json(e, False)
            out.append((j["number"], j["name"], j["time"], j["line"], j["status"]))
    return out


EXPECTED = {
    # NCID test/test-modem-calls.data, as its script sends it to ncidd. ncidd's own result for the same calls is
    # test/testclient.data: TIME = 12541 / 17471 are read as 1254 / 1747 there too; hour 24 is no time.
    ("ncid_test_modem_calls.txt", "modem"): [
        ("", None, "2026-04-21T09:34:00", None, "private"),
        ("9415557218", "SARASOTA,FL", "2026-01-03T12:54:00", None, "ok"),
        ("", "PrivDirOff", "2026-01-07T15:18:00", None, "unavailable"),
        ("9085555002", "Vähälä", "2026-01-28T15:09:00", None, "ok"),
        ("4075552120", "TIME WARNER COM", "2026-03-19T12:29:00", None, "ok"),
        ("", "PrivDirOff", "2026-03-10T17:10:00", None, "unavailable"),
        ("6305551500", "ELMHURST, IL", "2026-03-12T12:54:00", None, "ok"),
        ("8175558399", "EULESS, TX", "2026-03-12T17:47:00", None, "ok"),
        ("14075552120", None, "2026-04-07T12:00:00", None, "ok"),
        ("14075552120", "eleven digits", None, None, "ok"),
        ("4075552120", "ten digits", None, None, "ok"),
        ("075552120", "nine digits", None, None, "ok"),
        ("95552120", "eight digits", None, None, "ok"),
        ("5552120", "seven digits", None, None, "ok"),
        ("2120", "four digits", None, None, "ok"),
        ("", None, "2026-09-26T19:33:00", None, "private"),
    ],
    # NCID test/testclient.data: what an NCID server sends its clients (CIDLOG history is not a live call).
    ("ncid_testclient.txt", "ncid"): [
        ("9415557218", "SARASOTA, FL", "2003-01-03T12:54:00", None, "ok"),
        ("", "PrivDirOff", "2003-01-07T15:18:00", None, "unavailable"),
        ("9085555002", "Vähälä", "2003-01-28T15:09:00", None, "ok"),
        ("4075552120", "TIME WARNER COM", "2003-03-19T12:29:00", 1000, "ok"),      # LINE*1000*: a number
        ("", "PrivDirOff", "2003-03-10T17:10:00", None, "unavailable"),
        ("6305551500", "ELMHURST, IL", "2003-03-12T12:54:00", 1234, "ok"),
        ("8175558399", "EULESS, TX", "2003-03-12T17:47:00", 1010, "ok"),
        ("14075552120", None, "2003-04-07T12:00:00", None, "ok"),
        ("14075552120", "eleven digits", None, None, "ok"),
        ("", None, "2009-09-26T19:33:00", None, "private"),
    ],
    # NCID test/test-gw-calls.data (NetCallerID-style ### lines): CALLINFO ###BYE/###CANCEL/###CALLED end a call
    # already reported, and CALLOUT is a call placed from the line; neither is a new caller.
    ("ncid_gateway_calls.txt", "modem"): [
        ("14075557777", None, "2025-12-04T15:26:00", None, "ok"),
        ("14075551212", "incoming", "2025-12-04T15:29:00", None, "ok"),
        ("17025551145", "CARD SERVICES", "2026-05-22T15:34:00", None, "ok"),
        ("12125551070", None, "2026-05-22T17:34:00", None, "ok"),
        ("19995551212", "1-999-555-1212", "2026-05-22T18:31:00", None, "ok"),
    ],
    ("misterhouse_caller_id_pm.txt", "modem"): [
        ("5071234567", "KLIER BRIAN J", "1999-03-05T13:51:00", None, "ok"),
        ("5071234567", "ARCHER L", "2026-01-19T22:15:00", None, "ok"),
        ("5072884388", None, None, None, "ok"),
        ("9932562", None, "2026-09-10T01:37:00", None, "ok"),
        ("07656283", None, None, None, "ok"),
        ("5072881030", "WINTER BRUCE LA", "2026-03-18T22:05:00", None, "ok"),
    ],
    ("screendoor_ddn_nmbr.txt", "modem"): [
        ("9196278340", None, "2026-11-24T18:06:00", None, "ok"),
    ],
    # mgetty cnd.c's labels: ELSA "RING;<caller>;<called>" on every ring (one call), USR "CallerID: ",
    # ZyXEL "REASON FOR NO CALLER NUMBER: P", Bell Canada's "MESG = 030735353531323132" (its comment's example).
    ("mgetty_cnd_variants.txt", "modem"): [
        ("08912345", None, None, None, "ok"),
        ("4951234567", None, None, None, "ok"),
        ("", None, "2026-11-24T18:06:00", None, "private"),
        ("5551212", None, None, None, "ok"),          # Bell Canada via Rockwell: the number only inside MESG
    ],
    # callattendant's modem.py TEST_DATA (CR LF lines as its readline() gets them): NAME last or absent.
    ("callattendant_test_data.txt", "modem"): [
        ("8055554567", "Test1 - Permitted", "2026-08-01T18:01:00", None, "ok"),
        ("5551234567", "Test2 - Spammer", "2026-08-02T18:02:00", None, "ok"),
        ("3605554567", "Test3 - Blocked", "2026-08-03T18:03:00", None, "ok"),
        ("8005554567", "V123456789012345", "2026-08-04T18:04:00", None, "ok"),
        ("8055554567", "Test5 - Permitted", "2026-08-05T18:05:00", None, "ok"),
        ("1234567890", None, None, None, "ok"),
    ],
    # GSM modem +CLIP (3GPP TS 27.007), repeated after every RING: one call each, withheld → private.
    ("gsm_clip.txt", "modem"): [
        ("09121234567", None, None, None, "ok"),
        ("", None, None, None, "private"),
        ("+989121234567", "Ali", None, None, "ok"),
    ],
    # The same with AT+CRC=1: "+CRING: VOICE" instead of RING (3GPP TS 27.007).
    ("gsm_crc_clip.txt", "modem"): [
        ("09121234567", None, None, None, "ok"),
    ],
    # NCID lines quoted in public code and in NCID's docs: a Fritz!Box cidcall.log excerpt (internal numbers
    # "**622" arrive as NMBR***622*), the Home Assistant NCID component's OUT/CIDINFO/END lines, NCID-API's
    # OUT/END duration example, and a forwarding gateway's "+CID:" line.
    ("ncid_published_lines.txt", "ncid"): [
        ("**622", "iPhone von StefanRic", "2014-06-06T12:22:00", None, "ok"),
        ("**610", "Mobilteil 1", "2014-06-06T12:22:00", None, "ok"),
        ("4185558765", "WIRELESS CALLER", "2022-03-03T09:40:00", None, "ok"),
    ],
    # YasnaSDK OjSegalSampleData.txt: a recorded session from an Oj Segal box (one incoming call, then four
    # lifts of the handset to dial out).
    ("yasnasdk_ojsegal_sample.txt", "segal"): [
        ("09191714505", None, None, 1, "ok"),
    ],
    # The two Techno records quoted in YasnaSDK's CallerIdTechno comments, glued as the HID reader delivers them.
    ("yasnasdk_techno_comments.txt", "techno"): [
        ("02166595961", None, None, 1, "ok"),
    ],
    # '@' records as the Arya/Segal box parser in Mirzaei81/vb6_old reads them: NUL/control bytes before a
    # record, "L1 CallerID:<number>@", a space before "L2".
    ("arya_at_records.txt", "segal"): [
        ("09121234567", None, None, 1, "ok"),
        ("02188776655", None, None, 1, "ok"),
        ("09351112233", None, None, 2, "ok"),
        ("", None, None, 1, "private"),
    ],
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=[k[0] for k in EXPECTED])
def test_published_capture_decodes_as_its_source_says(key):
    name, fmt = key
    assert calls(name, fmt) == EXPECTED[key]


@pytest.mark.parametrize("key", list(EXPECTED), ids=[k[0] for k in EXPECTED])
def test_auto_detection_picks_the_same_protocol(key):
    name, fmt = key
    events = decode(name, "auto")
    assert {e.source for e in events if e.kind == ev.INCOMING} == {fmt}
    assert calls(name, "auto") == EXPECTED[key]


@pytest.mark.parametrize("chunk", [1, 3, 64, 100000])
def test_results_do_not_depend_on_how_the_bytes_arrive(chunk):
    for (name, _fmt), expected in EXPECTED.items():
        got = [(e.number, e.status) for e in decode(name, "auto", chunk) if e.kind == ev.INCOMING]
        assert got == [(n, s) for n, _name, _t, _line, s in expected], (name, chunk)


def test_gateway_callout_is_an_outgoing_call_and_call_info_lines_are_not_calls():
    events = decode("ncid_gateway_calls.txt", "modem")
    out = [e for e in events if e.kind == ev.OUTGOING]
    assert [(e.number, e.time) for e in out] == [("14075557711", dt.datetime(2025, 12, 4, 16, 16))]
    assert not [e for e in events if "CALLINFO" in e.raw]


def test_ncid_client_stream_keeps_ring_and_outcome_events():
    kinds = [e.kind for e in decode("ncid_testclient.txt", "ncid")]
    assert kinds[0] == ev.DEVICE
    assert kinds.count(ev.MISSED) == 3 and kinds.count(ev.ANSWERED) == 4 and kinds.count(ev.HANGUP) == 1
    assert kinds.count(ev.RING) == 9


def test_ojsegal_recorded_session_outcomes():
    events = [e for e in decode("yasnasdk_ojsegal_sample.txt", "segal") if e.kind != ev.DIGIT]
    kinds = [e.kind for e in events]
    assert kinds[:7] == [ev.INCOMING, ev.RING, ev.RING, ev.RING, ev.RING, ev.ANSWERED, ev.HANGUP]
    # The incoming call ends with "HND:091219913344 T0257": digits pressed during the call, not a new call.
    assert (events[6].number, events[6].duration) == ("09191714505", 177)
    out = [(e.number, e.duration) for e in events if e.kind == ev.OUTGOING]
    assert out == [("09122259679", 65), ("09121991334", 21), ("0912199133455", 274)]
    assert kinds[-2:] == [ev.OFFHOOK, ev.HANGUP]        # "L1HF@" then "L1HND: T0000@": nothing dialled


def test_ncid_hup_cancel_and_end_from_published_lines():
    events = decode("ncid_published_lines.txt", "ncid")
    got = [(e.kind, e.number, e.duration) for e in events]
    # END with HTYPE CANCEL: the caller gave up while it rang; 6 s of ringing is not a 6 s conversation.
    assert got[1] == (ev.MISSED, "**622", None)
    # HUP: is the CID line of a caller the server hung up on (NCID-API): the caller, then the hang-up.
    assert got[2:4] == [(ev.INCOMING, "**610", None), (ev.HANGUP, "**610", None)]
    assert events[2].extra["hung_up_by_server"] is True
    # END with HTYPE BYE: SCALL → ECALL is the call's length.
    assert (ev.HANGUP, "0123456", 14) in got and (ev.HANGUP, "4185558765", 159) in got
    assert [e.number for e in events if e.kind == ev.OUTGOING] == ["012345611", "4185558765"]
