"""SMS-SUBMIT PDUs for a GSM modem in PDU mode (AT+CMGF=0), per 3GPP TS 23.040 §9.2.2.2 and TS 23.038.

    SCA | first octet | TP-MR | TP-DA | TP-PID | TP-DCS | TP-VP | TP-UDL | TP-UD

- SCA ``00``: use the SMS centre stored on the SIM (not counted in AT+CMGS=<length>).
- First octet: 0x01 SMS-SUBMIT, +0x10 relative validity period, +0x20 status report request, +0x40 UDHI.
- TP-DA: number of digits, type 0x91 (international, E.164) or 0x81 (national/unknown), the digits as swapped
  semi-octets, padded with F.
- TP-DCS 0x00 GSM-7, 0x08 UCS-2. TP-VP relative 0xA7 = 24 hours.
- TP-UDL counts septets for GSM-7 (header included, with its fill bits) and octets for UCS-2.
- Concatenation header: ``05 00 03 <ref> <total> <seq>`` (IEI 00, 8-bit reference).
"""
from __future__ import annotations

from dataclasses import dataclass

from app.sms import encoding as enc

VP_24H = 0xA7


def swap_semi_octets(digits: str) -> str:
    if len(digits) % 2:
        digits += "F"
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def address(number: str) -> str:
    """TP-DA for a number: Iranian 09… becomes international 989…; +… is international; others national."""
    n = number.strip().replace(" ", "")
    if n.startswith("+"):
        digits, ton = n[1:], 0x91
    elif n.startswith("00"):
        digits, ton = n[2:], 0x91
    elif n.startswith("09") and len(n) == 11:
        digits, ton = "98" + n[1:], 0x91
    else:
        digits, ton = n, 0x81
    if not digits.isdigit():
        raise ValueError(f"not a phone number: {number!r}")
    return f"{len(digits):02X}{ton:02X}{swap_semi_octets(digits)}"


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack 7-bit values little-endian into octets, after `fill_bits` zero bits (alignment after a UDH)."""
    acc, nbits, out = 0, fill_bits, bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits > 0:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    acc = int.from_bytes(data, "little")
    return [(acc >> (fill_bits + 7 * i)) & 0x7F for i in range(count)]


@dataclass(frozen=True)
class Pdu:
    hex: str            # the whole PDU, SCA included, as sent after the "> " prompt
    tpdu_length: int    # octets after the SCA: the <length> of AT+CMGS

    @property
    def command(self) -> str:
        return f"AT+CMGS={self.tpdu_length}"


def submit_pdus(number: str, text: str, reference: int = 0, status_report: bool = False,
                validity: int = VP_24H) -> list[Pdu]:
    """Every PDU needed to send `text` to `number` (one, or a concatenated series sharing `reference`)."""
    encoding = enc.GSM7 if enc.is_gsm7(text) else enc.UCS2
    chunks = enc.split(text, encoding)
    total = len(chunks)
    out = []
    for seq, chunk in enumerate(chunks, start=1):
        udh = bytes([0x05, 0x00, 0x03, reference & 0xFF, total, seq]) if total > 1 else b""
        first = 0x01 | 0x10 | (0x20 if status_report else 0) | (0x40 if udh else 0)
        if encoding == enc.UCS2:
            body = chunk.encode("utf-16-be")
            ud, udl, dcs = udh + body, len(udh) + len(body), 0x08
        else:
            septets = enc.gsm7_septets(chunk)
            if udh:
                fill = (7 - (len(udh) * 8) % 7) % 7
                header_septets = (len(udh) * 8 + fill) // 7
                ud = udh + pack_septets(septets, fill)
                udl = header_septets + len(septets)
            else:
                ud, udl = pack_septets(septets), len(septets)
            dcs = 0x00
        tpdu = (f"{first:02X}00" + address(number) + f"00{dcs:02X}{validity:02X}{udl:02X}" + ud.hex().upper())
        out.append(Pdu("00" + tpdu, len(tpdu) // 2))
    return out


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT (what the modem simulator reads back)."""

    number: str
    text: str
    reference: int | None
    total: int
    seq: int
    status_report: bool


def decode_submit(pdu_hex: str) -> Submit:
    b = bytes.fromhex(pdu_hex)
    i = 1 + b[0]                     # skip the SCA
    first = b[i]
    i += 2                           # first octet, TP-MR
    ndigits, ton = b[i], b[i + 1]
    i += 2
    nbytes = (ndigits + 1) // 2
    sw = b[i:i + nbytes].hex().upper()
    digits = "".join(sw[k + 1] + sw[k] for k in range(0, len(sw), 2))[:ndigits]
    number = ("+" if ton == 0x91 else "") + digits
    i += nbytes
    i += 1                           # PID
    dcs = b[i]
    i += 1
    vpf = (first >> 3) & 0x03
    i += {0: 0, 2: 1}.get(vpf, 7)
    udl = b[i]
    i += 1
    ud = b[i:]
    ref, total, seq, hlen = None, 1, 1, 0
    if first & 0x40:
        hlen = ud[0] + 1
        j = 1
        while j < hlen:
            iei, ln = ud[j], ud[j + 1]
            if iei == 0x00:
                ref, total, seq = ud[j + 2], ud[j + 3], ud[j + 4]
            elif iei == 0x08:
                ref, total, seq = (ud[j + 2] << 8) | ud[j + 3], ud[j + 4], ud[j + 5]
            j += 2 + ln
    if dcs & 0x0C == 0x08:
        text = ud[hlen:udl].decode("utf-16-be")
    else:
        fill = (7 - (hlen * 8) % 7) % 7 if hlen else 0
        header_septets = (hlen * 8 + fill) // 7
        septets = unpack_septets(ud[hlen:], udl - header_septets, fill)
        text = _gsm7_text(septets)
    return Submit(number, text, ref, total, seq, bool(first & 0x20))


def _gsm7_text(septets: list[int]) -> str:
    ext = {v: k for k, v in enc.GSM7_EXT.items()}
    out, esc = [], False
    for s in septets:
        if esc:
            out.append(ext.get(s, " "))
            esc = False
        elif s == 0x1B:
            esc = True
        else:
            out.append(enc.GSM7_BASIC[s])
    return "".join(out)
