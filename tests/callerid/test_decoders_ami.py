"""Asterisk AMI events → caller-ID events: Asterisk 12+ and 11 transcripts (captures/pbx), ring groups,
transfers, missed, outgoing and internal calls, the line slots, and splitting the stream anywhere."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.callerid import events as ev
from app.callerid.decoders import decoder_for
from app.callerid.decoders.ami import AmiDecoder, Packet, PacketReader, dialled_from_dialstring, parse_channel

PBX = Path(__file__).parent / "captures" / "pbx"
NOW = dt.datetime(2025, 11, 24, 12, 0)


def now():
    return NOW


def decode(data: bytes, cuts=(), fmt="ami"):
    d = decoder_for(fmt, now=now)
    out, prev = [], 0
    for c in [*sorted(set(cuts)), len(data)]:
        out += d.feed(data[prev:c])
        prev = c
    return out + d.end()


def key(e):
    x = e.extra
    return (e.kind, e.number, e.name, e.status, e.line, e.duration, e.rings, x.get("extension"),
            tuple(x.get("extensions") or ()), x.get("answered_by"), x.get("transferred_from"), x.get("pbx_call_id"))


def brief(events):
    return [(e.kind, e.number, e.line, e.extra.get("extension"), e.extra.get("answered_by"), e.duration)
            for e in events if e.kind != ev.DEVICE]


def test_asterisk16_transcript():
    events = decode((PBX / "ami_asterisk16.txt").read_bytes())
    assert events[0].kind == ev.DEVICE and events[0].name == "Asterisk Call Manager/7.0.3"
    assert brief(events) == [
        # ring group 101 + 102: one call; 102 answers
        (ev.INCOMING, "09121234567", 1, "101", None, None),
        (ev.RING, "09121234567", 1, "101", None, None),
        (ev.ANSWERED, "09121234567", 1, "102", "102", None),
        # a second caller while the first talks: another line; nobody answers
        (ev.INCOMING, "02122514321", 2, "101", None, None),
        (ev.MISSED, "02122514321", 2, "101", None, None),
        # the first call is transferred to 103: still line 1, the same call
        (ev.ANSWERED, "09121234567", 1, "103", "103", None),
        (ev.HANGUP, "09121234567", 1, "103", "103", 120),          # talk time from the Timestamp fields
        # 101 calls out (line 1 is free again)
        (ev.OUTGOING, "09351112233", 1, "101", None, None),
        (ev.HANGUP, "09351112233", 1, "101", None, 45),
        # (101 → 102 is internal: nothing) — a Cdr of a call whose legs were never seen: the whole call
        (ev.INCOMING, "09187654321", 1, "102", None, None),
        (ev.ANSWERED, "09187654321", 1, "102", "102", None),
        (ev.HANGUP, "09187654321", 1, "102", "102", 30),
        # a withheld caller who hung up in the IVR before any phone rang
        (ev.INCOMING, "", 1, None, None, None),
        (ev.MISSED, "", 1, None, None, None),
    ]
    ring = events[2]
    assert ring.extra["extensions"] == ["101", "102"] and ring.rings == 2
    first = events[1]
    assert first.extra["pbx_call_id"] == "1763971200.1" and first.extra["did"] == "02188776655"
    assert first.status == ev.OK and first.name is None                  # CallerIDName "<unknown>"
    transfer = events[6]
    assert transfer.extra["transferred_from"] == "102" and transfer.extra["transfer"] is True
    assert transfer.extra["extensions"] == ["101", "102", "103"]
    assert events[4].name == "Rezaei Co" and events[4].line == 2
    out_end = events[9]
    assert out_end.extra["direction"] == "out" and out_end.extra["answered"] is True
    withheld = events[-2:]
    assert withheld[0].status == ev.PRIVATE and withheld[1].extra["reason"] == "no_extension_rang"
    # every event of one call has the same id and line
    call1 = [e for e in events if e.extra.get("pbx_call_id") == "1763971200.1"]
    assert len(call1) == 5 and {e.line for e in call1} == {1}


def test_asterisk11_transcript_links_legs_without_linkedid():
    events = decode((PBX / "ami_asterisk11.txt").read_bytes())
    assert events[0].name == "Asterisk Call Manager/1.3"
    assert brief(events) == [
        (ev.INCOMING, "09121234567", 1, "101", None, None),       # ring group through Local/600 ;1/;2
        (ev.RING, "09121234567", 1, "101", None, None),
        (ev.ANSWERED, "09121234567", 1, "101", "101", None),      # Newstate Up of SIP/101
        (ev.HANGUP, "09121234567", 1, "101", "101", 0),           # no Timestamp fields: the clock (fixed)
        (ev.INCOMING, "02122514321", 1, "103", None, None),
        (ev.MISSED, "02122514321", 1, "103", None, None),
        (ev.OUTGOING, "09351112233", 1, "102", None, None),       # Dialstring tci_trunk/0935…
        (ev.HANGUP, "09351112233", 1, "102", None, 0),
    ]
    assert events[2].extra["extensions"] == ["101", "102"]


@pytest.mark.parametrize("name, prefix", [("ami_asterisk11.txt", 3200), ("ami_asterisk16.txt", 2600)])
def test_split_at_every_byte_position(name, prefix):
    """The first call's packets (banner, login response, ring group) cut at every byte: same events."""
    data = (PBX / name).read_bytes()[:prefix]
    whole = [key(e) for e in decode(data)]
    assert any(k[0] == ev.INCOMING for k in whole)
    for i in range(1, len(data)):
        assert [key(e) for e in decode(data, [i])] == whole, f"split at byte {i}"


@pytest.mark.parametrize("name", ["ami_asterisk11.txt", "ami_asterisk16.txt"])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1000])
def test_whole_transcripts_in_small_reads(name, chunk):
    data = (PBX / name).read_bytes()
    whole = [key(e) for e in decode(data)]
    assert [key(e) for e in decode(data, range(chunk, len(data), chunk))] == whole


def test_lf_only_line_ends_and_packet_parsing():
    data = (PBX / "ami_asterisk16.txt").read_bytes()
    assert [key(e) for e in decode(data.replace(b"\r\n", b"\n"))] == [key(e) for e in decode(data)]
    r = PacketReader()
    packets = r.push(b"Asterisk Call Manager/2.10.4\r\nResponse: Success\r\nmessage: Authentication accepted\r\n\r\n"
                     b"Event: VarSet\r\nVariable: A\r\nVariable: B\r\nValue: x: y\r\n\r\nEvent: Partial\r\n")
    assert packets[0].get("Banner") == "Asterisk Call Manager/2.10.4"
    assert packets[1].response == "Success" and packets[1].get("MESSAGE") == "Authentication accepted"
    assert packets[2].all("variable") == ["A", "B"] and packets[2].get("Value") == "x: y"
    assert [p.event for p in r.end()] == ["Partial"]                      # end of input: the last packet
    assert isinstance(packets[0], Packet)


def test_channel_names_and_dial_strings():
    assert parse_channel("PJSIP/101-0000001b").peer == "101"
    assert parse_channel("SIP/velantro245-new-00007795").peer == "velantro245-new"
    c = parse_channel("Local/102@from-queue-00000003;1")
    assert (c.peer, c.local) == ("102", True)
    assert parse_channel("SIP/tci-00000001<ZOMBIE>").zombie
    assert parse_channel("DAHDI/1-1").peer == "1"
    assert dialled_from_dialstring("tci/09121234567") == "09121234567"
    assert dialled_from_dialstring("09121234567@tci") == "09121234567"
    assert dialled_from_dialstring("101/sip:101@192.168.1.20") == ""
    d = AmiDecoder(now=now, extensions=["2001"])
    assert d.is_extension("PJSIP/101-01") == "101" and d.is_extension("PJSIP/2001-01") == "2001"
    assert d.is_extension("DAHDI/1-1") is None and d.is_extension("PJSIP/tci-01") is None
    assert d.is_extension("Local/101@from-internal-01;1") is None


def test_a_ringing_call_rings_again_every_few_seconds_until_answered():
    """The call-life model ends a ringing call that stops ringing: the decoder repeats RING while it rings."""
    clock = [NOW]
    d = AmiDecoder(now=lambda: clock[0])
    data = (PBX / "ami_asterisk16.txt").read_bytes()
    cut = data.index(b"Event: Newstate\r\nPrivilege: call,all\r\nTimestamp: 1763971209")
    first = d.feed(data[:cut])
    assert [e.kind for e in first if e.kind != ev.DEVICE] == [ev.INCOMING, ev.RING]
    clock[0] += dt.timedelta(seconds=2)
    assert d.tick() == []
    clock[0] += dt.timedelta(seconds=2.5)
    again = d.tick()
    assert [(e.kind, e.line, e.rings) for e in again] == [(ev.RING, 1, 3)]
    rest = d.feed(data[cut:])
    clock[0] += dt.timedelta(seconds=60)
    assert d.tick() == []                                             # answered / over: no more rings
    assert ev.ANSWERED in [e.kind for e in rest]


def test_unknown_caller_and_garbage_never_raise():
    d = AmiDecoder(now=now)
    junk = b"\x00\xff garbage\r\nno colon here\r\n\r\nEvent: Hangup\r\nUniqueid: nope\r\n\r\n" \
           b"Event: DialBegin\r\n\r\nEvent: Bridge\r\nBridgestate: Link\r\n\r\n"
    assert d.feed(junk) == []
    events = d.feed(b"Event: Newchannel\r\nChannel: SIP/tci-1\r\nCallerIDNum: <unknown>\r\nExten: 88776655\r\n"
                    b"Uniqueid: 9.1\r\nLinkedid: 9.1\r\n\r\n"
                    b"Event: DialBegin\r\nChannel: SIP/tci-1\r\nUniqueid: 9.1\r\nLinkedid: 9.1\r\n"
                    b"DestChannel: SIP/101-2\r\nDestUniqueid: 9.2\r\nDestLinkedid: 9.1\r\n\r\n")
    assert [(e.kind, e.number, e.status, e.extra["extension"]) for e in events] == [
        (ev.INCOMING, "", ev.UNAVAILABLE, "101")]
