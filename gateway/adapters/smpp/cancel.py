"""cancel_sm (SMPP 3.4, 4.9), which smpplib has no class for: its body decoded here."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.adapters.smpp.codec import HEADER_SIZE, Header, MalformedPdu, Status

__all__ = ["CancelRequest", "parse_cancel"]

#: the C-octet strings of a cancel_sm body and their longest length (with the NUL)
_STRINGS = {"service_type": 6, "message_id": 65, "source_addr": 21, "destination_addr": 21}


@dataclass(frozen=True, slots=True)
class CancelRequest:
    service_type: str
    message_id: str
    source_addr: str
    destination_addr: str


def parse_cancel(frame: bytes) -> CancelRequest:
    """service_type, message_id, source_addr_ton, _npi, source_addr, dest_addr_ton,
    _npi, destination_addr; raises ``MalformedPdu`` (ESME_RINVCMDLEN) when it does not
    decode."""
    header = Header.unpack(frame)
    body, at, fields = frame[HEADER_SIZE:], 0, {}

    def string(name: str) -> str:
        nonlocal at
        end = body.find(b"\x00", at, at + _STRINGS[name])
        if end < 0:
            raise MalformedPdu(header, Status.RINVCMDLEN, f"cancel_sm: {name} not terminated")
        value, at = body[at:end].decode("latin-1"), end + 1
        return value

    fields["service_type"] = string("service_type")
    fields["message_id"] = string("message_id")
    at += 2  # source_addr_ton, source_addr_npi
    fields["source_addr"] = string("source_addr")
    at += 2  # dest_addr_ton, dest_addr_npi
    fields["destination_addr"] = string("destination_addr")
    if at != len(body):
        raise MalformedPdu(header, Status.RINVCMDLEN, "cancel_sm: body length")
    return CancelRequest(**fields)
