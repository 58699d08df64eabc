"""Short message text: data_coding 0 (GSM 03.38), 3 (Latin-1), 8 (UCS-2), and UDH concatenation."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.encoding import layout

__all__ = [
    "DC_GSM",
    "DC_LATIN1",
    "DC_UCS2",
    "UDHI",
    "Concat",
    "Encoded",
    "TextError",
    "decode_text",
    "encode_parts",
    "split_udh",
]

DC_GSM, DC_ASCII, DC_LATIN1, DC_UCS2 = 0, 1, 3, 8
#: esm_class bit: the short message starts with a user data header
UDHI = 0x40
#: the largest short_message (SMPP 3.4, 5.2.22)
MAX_SHORT_MESSAGE = 254

# GSM 03.38 default alphabet, by septet value (0x1B is the escape to the extension table)
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_TO_SEPTET = {ch: code for code, ch in enumerate(_BASIC) if code != 0x1B}
_TO_ESCAPED = {ch: code for code, ch in _EXTENSION.items()}


class TextError(ValueError):
    """A short message that cannot be decoded with its data_coding."""


def gsm_decode(data: bytes) -> str:
    """Unpacked GSM 03.38 (one septet per octet, as SMPP carries it)."""
    out: list[str] = []
    escaped = False
    for octet in data:
        if octet > 0x7F:
            raise TextError(f"octet 0x{octet:02X} is not a GSM 03.38 septet")
        if escaped:
            out.append(_EXTENSION.get(octet, " "))
            escaped = False
        elif octet == 0x1B:
            escaped = True
        else:
            out.append(_BASIC[octet])
    return "".join(out)


def gsm_encode(text: str) -> bytes:
    out = bytearray()
    for ch in text:
        if ch in _TO_SEPTET:
            out.append(_TO_SEPTET[ch])
        elif ch in _TO_ESCAPED:
            out += bytes((0x1B, _TO_ESCAPED[ch]))
        else:
            raise TextError(f"{ch!r} is not in the GSM 03.38 alphabet")
    return bytes(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short message (without its UDH) in the given data_coding."""
    try:
        if data_coding == DC_GSM:
            return gsm_decode(data)
        if data_coding == DC_ASCII:
            return data.decode("ascii")
        if data_coding == DC_LATIN1:
            return data.decode("latin-1")
        if data_coding == DC_UCS2:
            if len(data) % 2:
                raise TextError("UCS-2 text of an odd number of octets")
            return data.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise TextError(f"not valid for data_coding {data_coding}: {exc.reason}") from exc
    raise TextError(f"data_coding {data_coding} is not supported (0, 1, 3 or 8)")


@dataclass(frozen=True, slots=True)
class Concat:
    """The concatenation information element of a UDH."""

    ref: int
    total: int
    seq: int


def split_udh(data: bytes) -> tuple[Concat | None, bytes]:
    """A short message with UDHI set: its concatenation element (if any) and its payload."""
    if not data:
        raise TextError("UDHI set but the short message is empty")
    length = data[0]
    if length + 1 > len(data):
        raise TextError("the UDH is longer than the short message")
    header, payload = data[1 : length + 1], data[length + 1 :]
    concat: Concat | None = None
    pos = 0
    while pos + 2 <= len(header):
        iei, size = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + size]
        if iei == 0x00 and size == 3:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            concat = Concat((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + size
    if concat is not None and not 1 <= concat.seq <= concat.total:
        raise TextError(f"segment {concat.seq} of {concat.total}")
    return concat, payload


@dataclass(frozen=True, slots=True)
class Encoded:
    """A text as one or more short messages (each with its UDH when ``esm_udhi``)."""

    data_coding: int
    parts: list[bytes]
    #: the whole text in one octet string, for message_payload
    whole: bytes

    @property
    def esm_udhi(self) -> bool:
        return len(self.parts) > 1


def _chunks_gsm(text: str, size: int) -> list[bytes]:
    parts: list[bytes] = []
    current = bytearray()
    for ch in text:
        septets = gsm_encode(ch)
        if len(current) + len(septets) > size:  # an escape pair is never split
            parts.append(bytes(current))
            current = bytearray()
        current += septets
    parts.append(bytes(current))
    return parts


def _chunks_ucs2(text: str, size: int) -> list[bytes]:
    parts: list[bytes] = []
    current = bytearray()
    for ch in text:
        units = ch.encode("utf-16-be")
        if len(current) + len(units) > size * 2:  # a surrogate pair is never split
            parts.append(bytes(current))
            current = bytearray()
        current += units
    parts.append(bytes(current))
    return parts


def encode_parts(text: str, ref: int) -> Encoded:
    """GSM 03.38 when the text fits the alphabet, else UCS-2; split into concatenated
    parts with an 8-bit reference the way MQTT counts segments (160/153, 70/67)."""
    shape = layout(text)
    if shape.encoding == "GSM7":
        whole, dc = gsm_encode(text), DC_GSM
        chunks = [whole] if shape.segments == 1 else _chunks_gsm(text, 153)
    else:
        whole, dc = text.encode("utf-16-be"), DC_UCS2
        chunks = [whole] if shape.segments == 1 else _chunks_ucs2(text, 67)
    if len(chunks) == 1:
        return Encoded(dc, chunks, whole)
    total = len(chunks)
    parts = [
        bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq)) + chunk
        for seq, chunk in enumerate(chunks, start=1)
    ]
    return Encoded(dc, parts, whole)
