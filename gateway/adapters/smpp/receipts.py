"""Delivery receipts: the final states, their message_state values and the receipt text."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

__all__ = [
    "ERRORS",
    "MESSAGE_STATE",
    "RECEIPT_ESM_CLASS",
    "absolute_time",
    "receipt_text",
    "wants_receipt",
]

#: esm_class of a deliver_sm that carries a delivery receipt (SMPP 3.4, 5.2.12)
RECEIPT_ESM_CLASS = 0x04

#: stat value -> message_state TLV value (SMPP 3.4, 5.2.28)
MESSAGE_STATE = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}

#: stat -> the err value of the receipt text (documented in docs/smpp.md)
ERRORS = {"DELIVRD": 0, "EXPIRED": 1, "UNDELIV": 2, "REJECTD": 3, "DELETED": 4}


def wants_receipt(registered_delivery: int, state: str) -> bool:
    """registered_delivery bits 0-1: 1 asks for every final state, 2 for failures only."""
    asked = registered_delivery & 0x03
    return asked == 1 or (asked == 2 and state != "DELIVRD")


def _printable(text: str) -> str:
    """The text field of a receipt: printable ASCII, anything else as ``?``."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)


def absolute_time(at: datetime, tz: tzinfo) -> str:
    """SMPP 3.4's absolute time (7.1.1) in ``tz``: ``YYMMDDhhmmsstnnp``, ``nn`` the
    offset from UTC in quarter hours, ``p`` ``+`` ahead or ``-`` behind."""
    local = at.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    sign = "-" if offset < timedelta(0) else "+"
    return f"{local:%y%m%d%H%M%S}{local.microsecond // 100_000}{quarters:02d}{sign}"


def _stamp(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%y%m%d%H%M")


def receipt_text(
    *,
    message_id: str,
    state: str,
    submitted: datetime,
    done: datetime,
    text: str,
    tz: tzinfo,
    error: int | None = None,
) -> str:
    """The de-facto standard receipt (SMPP 3.4, appendix B)."""
    delivered = 1 if state == "DELIVRD" else 0
    err = ERRORS.get(state, 0) if error is None else error
    return (
        f"id:{message_id} sub:001 dlvr:{delivered:03d}"
        f" submit date:{_stamp(submitted, tz)} done date:{_stamp(done, tz)}"
        f" stat:{state} err:{err:03d} text:{_printable(text[:20])}"
    )
