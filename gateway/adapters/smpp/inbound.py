"""The text of a submit_sm: short_message or message_payload, in its data_coding, and long
messages put back together from their UDH or sar_* parts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway.adapters.smpp.codec import Pdu
from gateway.adapters.smpp.text import UDHI, Concat, TextError, decode_text, split_udh

__all__ = ["Reassembly", "TextError"]

#: parts of a long message not completed within this many seconds are forgotten
_PART_TTL = 300.0


@dataclass
class _Partial:
    total: int
    parts: dict[int, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class Reassembly:
    """Long messages being received, keyed by sender, recipient and reference."""

    def __init__(self) -> None:
        self._partial: dict[tuple[str, str, str, int], _Partial] = {}

    def text(self, key: tuple[str, str, str], pdu: Pdu) -> str | None:
        """The whole text once complete; None while parts are missing.

        Raises ``TextError`` for a text that does not decode."""
        payload = getattr(pdu, "message_payload", None)
        data_coding = int(pdu.data_coding or 0)
        esm_class = int(pdu.esm_class or 0)
        raw: bytes = payload if payload else (pdu.short_message or b"")
        concat: Concat | None = None
        if esm_class & UDHI:
            concat, raw = split_udh(raw)
        elif getattr(pdu, "sar_total_segments", None):
            concat = Concat(
                int(pdu.sar_msg_ref_num or 0),
                int(pdu.sar_total_segments),
                int(pdu.sar_segment_seqnum or 0),
            )
            if not 1 <= concat.seq <= concat.total:
                raise TextError(f"segment {concat.seq} of {concat.total}")
        text = decode_text(raw, data_coding)
        if concat is None or concat.total == 1:
            return text
        self._forget_stale()
        slot = (*key, concat.ref)
        partial = self._partial.setdefault(slot, _Partial(concat.total))
        partial.parts[concat.seq] = text
        if len(partial.parts) < partial.total:
            return None
        del self._partial[slot]
        return "".join(partial.parts[i] for i in sorted(partial.parts))

    def _forget_stale(self) -> None:
        limit = time.monotonic() - _PART_TTL
        for slot in [s for s, p in self._partial.items() if p.started < limit]:
            del self._partial[slot]
