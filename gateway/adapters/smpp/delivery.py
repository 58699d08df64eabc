"""deliver_sm out: a text as one or more PDUs, and the queue loop that delivers an
application's MOs and receipts to its bound sessions, retrying until acknowledged."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime
from functools import partial

import structlog

from gateway.adapters.smpp.accounts import Account
from gateway.adapters.smpp.receipts import RECEIPT_ESM_CLASS
from gateway.adapters.smpp.session import RequestFailed, Session
from gateway.adapters.smpp.text import UDHI, encode_parts, gsm_encode
from gateway.domain.smsc import QueuedDelivery
from gateway.service.ports import Store, Transaction

__all__ = ["ApplicationQueue", "send_receipt", "send_text"]

log = structlog.get_logger("gateway.smpp")

_refs = itertools.count(1)
#: deliveries read from the queue at a time
_BATCH = 100


#: deliveries sent at once before their answers are marked. One: in the bench (smpp34 as
#: the application) 4 or 10 in flight delivered MOs 2-5 times slower than one at a time
#: (docs/performance.md), so the window stays a knob, at 1
_WINDOW = 1


def _answered(tx: Transaction, *, delivered: list[int], refused: list[int], at: datetime) -> None:
    for seq in delivered:
        tx.smsc.delivered(seq, at)
    for seq in refused:
        tx.smsc.attempted(seq)


async def send_text(
    session: Session,
    *,
    source: str,
    destination: str,
    text: str,
    long_messages: str = "udh",
    source_ton: int = 1,
    dest_ton: int = 1,
) -> None:
    """A text as deliver_sm: one PDU, UDH-concatenated parts, or one message_payload."""
    encoded = encode_parts(text, next(_refs) & 0xFF)
    common = {
        "source_addr_ton": source_ton,
        "source_addr_npi": 1,
        "source_addr": source,
        "dest_addr_ton": dest_ton,
        "dest_addr_npi": 1,
        "destination_addr": destination,
        "data_coding": encoded.data_coding,
    }
    if encoded.esm_udhi and long_messages == "payload":
        await session.request("deliver_sm", esm_class=0, message_payload=encoded.whole, **common)
        return
    esm_class = UDHI if encoded.esm_udhi else 0
    for part in encoded.parts:
        await session.request("deliver_sm", esm_class=esm_class, short_message=part, **common)


async def send_receipt(
    session: Session,
    *,
    subscriber: str,
    shortcode: str,
    text: str,
    receipted_id: str,
    message_state: int,
) -> None:
    """A delivery receipt: from the subscriber to the short code that sent the MT."""
    await session.request(
        "deliver_sm",
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=subscriber,
        dest_addr_ton=0,
        dest_addr_npi=1,
        destination_addr=shortcode,
        esm_class=RECEIPT_ESM_CLASS,
        data_coding=0,
        short_message=gsm_encode(text),
        receipted_message_id=receipted_id,
        message_state=message_state,
    )


class ApplicationQueue:
    """Delivers one application's stored MOs and receipts, oldest first, round-robin over
    its receiving sessions; a refusal or a timeout is retried with backoff, and while no
    session is bound everything waits (nothing is dropped)."""

    def __init__(
        self,
        *,
        account: Account,
        store: Store,
        sessions: Callable[[], list[Session]],
        now: Callable[[], datetime],
        retry_first: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self.account = account
        self._store = store
        self._sessions = sessions
        self._now = now
        self._wake = asyncio.Event()
        self._turn = 0
        self._retry_first = retry_first
        self._retry_max = retry_max

    def wake(self) -> None:
        self._wake.set()

    def _next_session(self) -> Session | None:
        receivers = [s for s in self._sessions() if s.can_receive]
        if not receivers:
            return None
        self._turn = (self._turn + 1) % len(receivers)
        return receivers[self._turn]

    async def run(self) -> None:
        delay = self._retry_first
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                rows = await self._store.query(
                    lambda q: q.smsc.queued(self.account.system_id, _BATCH)
                )
                if not rows:
                    break
                failed = await self._deliver(rows)
                if failed is None:
                    delay = self._retry_first
                    continue
                if failed == "unbound":
                    break  # the next bind wakes us
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    async def _deliver(self, rows: list[QueuedDelivery]) -> str | None:
        """Send ``rows`` in windows of ``_WINDOW`` at once, in order, round-robin; mark
        each window's answers in one transaction (acknowledged: delivered; refused or
        unanswered: one more attempt). A refusal stops the run: backoff, then again."""
        for start in range(0, len(rows), _WINDOW):
            window = rows[start : start + _WINDOW]
            sends: list[tuple[QueuedDelivery, asyncio.Task[None]]] = []
            for row in window:
                session = self._next_session()
                if session is None:
                    break
                sends.append((row, asyncio.ensure_future(self._send(session, row))))
            if not sends:
                return "unbound"
            await asyncio.wait([task for _, task in sends])
            failed: list[tuple[QueuedDelivery, RequestFailed]] = []
            delivered: list[int] = []
            for row, task in sends:
                exc = task.exception()
                if exc is None:
                    delivered.append(row.seq)
                elif isinstance(exc, RequestFailed):
                    failed.append((row, exc))
                else:
                    raise exc
            await self._store.transaction(
                partial(
                    _answered,
                    delivered=delivered,
                    refused=[row.seq for row, _ in failed],
                    at=self._now(),
                ),
                durable=False,  # a mark lost on a power cut: delivered once more
            )
            for row, _ in sends:
                if row.seq in delivered:
                    log.info(
                        "smpp_delivered",
                        account=self.account.system_id,
                        id=row.id,
                        kind=row.kind,
                    )
            for row, exc in failed:
                log.info(
                    "smpp_delivery_retried",
                    account=self.account.system_id,
                    id=row.id,
                    kind=row.kind,
                    reason=str(exc),
                )
            if failed:
                return "failed"
            if len(sends) < len(window):
                return "unbound"
        return None

    async def _send(self, session: Session, row: QueuedDelivery) -> None:
        if row.kind == "receipt" and row.receipted_id and row.message_state is not None:
            await send_receipt(
                session,
                subscriber=row.source,
                shortcode=row.destination,
                text=row.text,
                receipted_id=row.receipted_id,
                message_state=row.message_state,
            )
        else:
            await send_text(
                session,
                source=row.source,
                destination=row.destination,
                text=row.text,
                long_messages=self.account.long_messages,
                dest_ton=0,
            )
