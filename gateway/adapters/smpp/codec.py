"""SMPP 3.4 PDUs on the wire: framing and status codes here, the fields by ``smpplib``."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from smpplib import command as _command
from smpplib import command_codes as _codes
from smpplib import exceptions as _exceptions

__all__ = [
    "HEADER_SIZE",
    "MAX_PDU",
    "Header",
    "MalformedPdu",
    "Pdu",
    "Status",
    "build",
    "command_name",
    "parse",
    "text_field",
]

HEADER = struct.Struct(">LLLL")
HEADER_SIZE = HEADER.size
#: the largest PDU accepted; a longer command_length is answered and the session closed
MAX_PDU = 64 * 1024

#: a parsed PDU (an ``smpplib`` command: fields as attributes, strings as bytes)
Pdu = Any


class Status:
    """The command_status values this server sends (SMPP 3.4, 5.1.3)."""

    ROK = 0x00
    RINVMSGLEN = 0x01
    RINVCMDLEN = 0x02
    RINVCMDID = 0x03
    RINVBNDSTS = 0x04
    RALYBND = 0x05
    RSYSERR = 0x08
    RINVSRCADR = 0x0A
    RINVDSTADR = 0x0B
    RINVMSGID = 0x0C
    RBINDFAIL = 0x0D
    RINVPASWD = 0x0E
    RINVSYSID = 0x0F
    RCANCELFAIL = 0x11
    RSUBMITFAIL = 0x45
    RTHROTTLED = 0x58
    RINVEXPIRY = 0x62
    RQUERYFAIL = 0x67
    RINVOPTPARAMVAL = 0xC4
    RUNKNOWNERR = 0xFF


@dataclass(frozen=True, slots=True)
class Header:
    length: int
    command_id: int
    status: int
    sequence: int

    @classmethod
    def unpack(cls, data: bytes) -> Header:
        return cls(*HEADER.unpack(data[:HEADER_SIZE]))

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & 0x80000000)


class MalformedPdu(Exception):
    """A PDU that cannot be decoded: answered with generic_nack and ``status``."""

    def __init__(self, header: Header, status: int, reason: str) -> None:
        super().__init__(reason)
        self.header = header
        self.status = status
        self.reason = reason


def command_name(command_id: int) -> str | None:
    try:
        return str(_codes.get_command_name(command_id))
    except _exceptions.UnknownCommandError:
        return None


#: requests and responses whose fields smpplib knows
_PARSED = frozenset(
    {
        "bind_transmitter",
        "bind_receiver",
        "bind_transceiver",
        "submit_sm",
        "deliver_sm_resp",
        "query_sm",
        "unbind",
        "unbind_resp",
        "enquire_link",
        "enquire_link_resp",
        "generic_nack",
    }
)


def parse(frame: bytes) -> tuple[Header, str, Pdu]:
    """Decode one complete PDU (``frame`` is ``command_length`` octets).

    Raises ``MalformedPdu`` for an unknown command_id (ESME_RINVCMDID) or a body that
    does not decode (ESME_RINVCMDLEN); a known command that this server does not
    implement comes back with a ``None`` PDU.
    """
    header = Header.unpack(frame)
    name = command_name(header.command_id)
    if name is None:
        raise MalformedPdu(
            header, Status.RINVCMDID, f"unknown command_id 0x{header.command_id:08X}"
        )
    if name not in _PARSED:
        return header, name, None
    try:
        pdu = _command.factory(name, sequence=header.sequence, allow_unknown_opt_params=True)
        pdu.parse(frame)
    except Exception as exc:  # smpplib raises whatever struct or indexing raises
        raise MalformedPdu(header, Status.RINVCMDLEN, f"{name}: {exc}") from exc
    if name == "submit_sm":
        message = pdu.short_message or b""
        if len(message) != (pdu.sm_length or 0):
            raise MalformedPdu(
                header, Status.RINVMSGLEN, f"sm_length {pdu.sm_length} but {len(message)} octets"
            )
    return header, name, pdu


def text_field(pdu: Pdu, field: str) -> str:
    """A C-octet string field as text (smpplib leaves them as bytes)."""
    value = getattr(pdu, field, None)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def build(name: str, sequence: int, status: int = Status.ROK, **fields: Any) -> bytes:
    """Encode a PDU; a response with an error status carries no body (SMPP 3.4, 4.1),
    except a bind's, which keeps its system_id (clients such as smpp34 wait for it)."""
    bodyless = status != Status.ROK and name.endswith("_resp") and not name.startswith("bind_")
    if bodyless or name in ("generic_nack", "cancel_sm_resp"):  # cancel_sm_resp: no body
        return HEADER.pack(HEADER_SIZE, _codes.get_command_code(name), status, sequence)
    pdu = _command.factory(name, sequence=sequence, status=status, **fields)
    pdu.sequence = sequence  # smpplib keeps a shared client's number unless told
    return bytes(pdu.generate())
