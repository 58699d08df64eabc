"""The SMSC: accepts binds, turns handsets' submit_sm into MOs and applications' submit_sm
into MTs, delivers MOs and receipts to applications and replies to handsets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import uuid
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import structlog

from gateway.adapters.smpp.accounts import Account
from gateway.adapters.smpp.billing import NOT_CHARGED
from gateway.adapters.smpp.cancel import CancelRequest
from gateway.adapters.smpp.codec import Pdu, Status, text_field
from gateway.adapters.smpp.commits import GroupCommit
from gateway.adapters.smpp.delivery import ApplicationQueue, send_receipt, send_text
from gateway.adapters.smpp.faults import Faults
from gateway.adapters.smpp.inbound import Reassembly, TextError
from gateway.adapters.smpp.outcomes import Final, parse_outcomes, parse_validity
from gateway.adapters.smpp.pending import (
    DlrSink,
    OutcomeSettings,
    PendingMessages,
    Submission,
)
from gateway.adapters.smpp.receipts import (
    MESSAGE_STATE,
    absolute_time,
    receipt_text,
    wants_receipt,
)
from gateway.adapters.smpp.session import RequestFailed, Session
from gateway.domain.model import InboundSms, Outgoing
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import GatewayError, InvalidMsisdn, RateLimited
from gateway.service.ports import Store

if TYPE_CHECKING:
    from datetime import datetime

    from gateway.service.gateway import GatewayService

__all__ = ["SmppServer"]

log = structlog.get_logger("gateway.smpp")


class SmppServer:
    """An async context manager: listens on ``sock`` while entered.

    Also a ``MessagePublisher`` for the MTs the outbox publishes: an MT to an MSISDN
    that a handsets session submitted from goes to that session as deliver_sm (queued,
    never blocking the outbox; MQTT stays the durable path)."""

    def __init__(
        self,
        *,
        accounts: Mapping[str, Account],
        service: GatewayService,
        store: Store,
        sock: socket.socket,
        tz: tzinfo,
        system_id: str = "scgw",
        outcomes: OutcomeSettings | None = None,
        dlr: DlrSink | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._accounts = accounts
        self._service = service
        self._store = store  # the gateway's: the SMSC's records are in its transactions
        self._stored = GroupCommit(store)  # MOs stored before they are acknowledged
        self._sock = sock
        self._tz = tz
        self._system_id = system_id
        self._tls = tls  # SMPP over TLS on the same port when given
        self._sessions: set[Session] = set()
        self._handsets: dict[str, Session] = {}
        self._owners = {code: a for a in accounts.values() for code in a.short_codes}
        self._queues = {
            a.system_id: ApplicationQueue(
                account=a,
                store=store,
                sessions=lambda a=a: self._bound(a.system_id),  # type: ignore[misc]
                now=self._now,
            )
            for a in accounts.values()
            if a.role == "application"
        }
        self._faults = {a.system_id: Faults(a) for a in accounts.values()}
        self._reassembly = Reassembly()
        self._pending = PendingMessages(
            store=store,
            clock=service.clock,
            events=service.events,
            tz=tz,
            settings=outcomes or OutcomeSettings(),
            account_shares={
                a.system_id: parse_outcomes(a.outcomes) for a in accounts.values() if a.outcomes
            },
            on_receipt=lambda account: self._queues[account].wake(),
            dlr=dlr,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def shortcodes(self) -> frozenset[str]:
        """The short codes that applications own."""
        return frozenset(self._owners)

    def _now(self) -> datetime:
        return self._service.clock.now().replace(microsecond=0)

    def _bound(self, system_id: str) -> list[Session]:
        return [s for s in self._sessions if s.account == system_id and s.state != "closed"]

    def _spawn(self, work: Any, name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, sock=self._sock, ssl=self._tls)
        for name, queue in self._queues.items():
            self._spawn(queue.run(), f"scgw-smpp-queue-{name}")
        self._spawn(self._pending.run(), "scgw-smpp-outcomes")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
        await asyncio.gather(*(s.unbind() for s in list(self._sessions)), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader=reader, writer=writer, handler=self, system_id=self._system_id)
        self._sessions.add(session)
        await session.serve()

    # -- SessionHandler -------------------------------------------------------------------

    async def bind(self, session: Session, bind_type: str, system_id: str, password: str) -> int:
        account = self._accounts.get(system_id)
        if account is None:
            return Status.RINVSYSID
        if password != account.password:
            return Status.RINVPASWD
        if bind_type not in account.bind_types:
            return Status.RBINDFAIL
        if len(self._bound(system_id)) >= account.max_binds:
            return Status.RALYBND
        if account.system_id in self._queues and bind_type != "transmitter":
            # bound once the response is sent: then whatever waited is delivered
            asyncio.get_running_loop().call_soon(self._queues[account.system_id].wake)
        return Status.ROK

    def closed(self, session: Session) -> None:
        self._sessions.discard(session)
        for msisdn in [m for m, s in self._handsets.items() if s is session]:
            del self._handsets[msisdn]

    async def submit(self, session: Session, pdu: Pdu) -> tuple[int, str]:
        account = self._accounts[session.account or ""]
        refused = await self._faults[account.system_id].before_submit(session)
        if refused is not None:
            return refused, ""
        source = text_field(pdu, "source_addr")
        destination = text_field(pdu, "destination_addr")
        try:
            text = self._reassembly.text((account.system_id, source, destination), pdu)
        except TextError as exc:
            log.info("smpp_submit_refused", account=account.system_id, reason=str(exc))
            return Status.RINVMSGLEN, ""
        if text is None:  # a part of a long message: the rest is still to come
            return Status.ROK, uuid.uuid4().hex
        registered = int(pdu.registered_delivery or 0)
        if account.role == "handsets":
            return await self._mo(session, source, destination, text, registered)
        validity = text_field(pdu, "validity_period")
        return await self._mt(account, source, destination, text, registered, validity)

    async def query(self, session: Session, pdu: Pdu) -> tuple[int, dict[str, Any]]:
        message_id = text_field(pdu, "message_id")
        message = await self._store.query(lambda q: q.smsc.message(message_id))
        if message is None or message.account != session.account:
            return Status.RQUERYFAIL, {}
        done = message.done_at
        return Status.ROK, {
            "message_id": message_id,
            "final_date": "" if done is None else absolute_time(done, self._tz),
            "message_state": MESSAGE_STATE.get(message.state, 7),
            "error_code": message.error,
        }

    async def cancel(self, session: Session, request: CancelRequest) -> int:
        """cancel_sm of the session's account's pending messages (SMPP 3.4, 4.9)."""
        try:
            msisdn = canonical_msisdn(request.destination_addr) if request.destination_addr else ""
        except InvalidMsisdn:
            return Status.RINVDSTADR
        if not request.message_id and not msisdn:
            return Status.RCANCELFAIL  # neither an id nor the destination: nothing named
        cancelled = await self._pending.cancel(
            account=session.account or "",
            message_id=request.message_id,
            shortcode=request.source_addr,
            msisdn=msisdn,
        )
        return Status.ROK if cancelled else Status.RCANCELFAIL

    # -- handsets: submit_sm is an MO -----------------------------------------------------

    async def _mo(
        self, session: Session, source: str, destination: str, text: str, registered: int
    ) -> tuple[int, str]:
        try:
            msisdn = canonical_msisdn(source)
        except InvalidMsisdn:
            return Status.RINVSRCADR, ""
        self._handsets[msisdn] = session
        sms = InboundSms(uuid.uuid4().hex, msisdn, destination, text, client_id=False)
        if destination in self._owners:
            await self.deliver_mo(sms)
        elif destination in self._service.shortcodes:
            try:
                await self._service.submit(sms)
            except RateLimited:
                return Status.RTHROTTLED, ""
            except GatewayError as exc:
                log.info("smpp_mo_refused", msisdn=msisdn, reason=str(exc))
                return Status.RSUBMITFAIL, ""
        else:
            return Status.RINVDSTADR, ""
        if wants_receipt(registered, "DELIVRD") and session.can_receive:
            now = self._now()
            receipt = receipt_text(
                message_id=sms.id, state="DELIVRD", submitted=now, done=now, text=text, tz=self._tz
            )
            self._spawn(
                self._quietly(
                    send_receipt(
                        session,
                        subscriber=destination,
                        shortcode=msisdn,
                        text=receipt,
                        receipted_id=sms.id,
                        message_state=MESSAGE_STATE["DELIVRD"],
                    )
                ),
                "scgw-smpp-receipt",
            )
        return Status.ROK, sms.id

    async def deliver_mo(self, sms: InboundSms) -> None:
        """An MO to an application's short code: stored (durably) before this returns,
        then delivered to the application's sessions."""
        account = self._owners[sms.shortcode]
        at = self._now()
        await self._stored.write(
            lambda tx: tx.smsc.enqueue(
                # a client's id is unique per sender only: two senders' "1" are two MOs,
                # and a redelivery of the same one (after a crash) is kept once
                id=f"{sms.msisdn}/{sms.id}" if sms.client_id else sms.id,
                account=account.system_id,
                kind="mo",
                source=sms.msisdn,
                destination=sms.shortcode,
                text=sms.text,
                at=at,
            )
        )
        log.info("smpp_mo_stored", account=account.system_id, id=sms.id, msisdn=sms.msisdn)
        self._queues[account.system_id].wake()

    # -- applications: submit_sm is an MT -------------------------------------------------

    async def _mt(
        self,
        account: Account,
        source: str,
        destination: str,
        text: str,
        registered: int,
        validity: str = "",
    ) -> tuple[int, str]:
        if source not in account.short_codes:
            return Status.RINVSRCADR, ""
        try:
            msisdn = canonical_msisdn(destination)
        except InvalidMsisdn:
            return Status.RINVDSTADR, ""
        now = self._now()
        try:
            expires_at = self._pending.expiry(now, parse_validity(validity, now))
        except ValueError as exc:
            log.info("smpp_submit_refused", account=account.system_id, reason=str(exc))
            return Status.RINVEXPIRY, ""
        if expires_at <= now:
            return Status.RINVEXPIRY, ""
        asked = Submission(
            account=account.system_id,
            shortcode=source,
            msisdn=msisdn,
            text=text,
            registered=registered,
            expires_at=expires_at,
        )
        try:  # the MT, its charge and its record: one transaction
            out = await self._service.send_mt(
                source,
                msisdn,
                text,
                price=account.mt_price,
                track=lambda tx, mt: self._pending.record(tx, asked, id=mt.id, at=mt.at),
            )
            message_id = out.id
            self._pending.accepted()
        except tuple(NOT_CHARGED) as exc:  # accepted, then UNDELIV: nothing sent or charged
            message_id = uuid.uuid4().hex
            log.info(
                "smpp_mt_not_charged",
                account=account.system_id,
                id=message_id,
                msisdn=msisdn,
                reason=str(exc),
            )
            failed = Final("UNDELIV", NOT_CHARGED[type(exc)])
            await self._pending.fail(asked, id=message_id, at=now, failed=failed)
        log.info("smpp_mt_accepted", account=account.system_id, id=message_id, msisdn=msisdn)
        return Status.ROK, message_id

    # -- MessagePublisher: replies to handsets --------------------------------------------

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Queue each MT for the handsets session its MSISDN last submitted from."""
        for message in messages:
            session = self._handsets.get(message.msisdn)
            if session is None or not session.can_receive:
                continue
            self._spawn(
                self._quietly(
                    send_text(
                        session,
                        source=message.shortcode,
                        destination=message.msisdn,
                        text=message.text,
                        source_ton=0,
                    )
                ),
                "scgw-smpp-mt",
            )

    async def publish_error(self, event: dict[str, Any]) -> None:
        return None

    @staticmethod
    async def _quietly(work: Any) -> None:
        with contextlib.suppress(RequestFailed):
            await work
