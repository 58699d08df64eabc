"""The email channel's use cases: commands by email, support tickets and the mailbox."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.events import LiveEvent
from gateway.domain.mail import InboundMail, StoredMail
from gateway.domain.mail_inbound import command_text
from gateway.domain.model import (
    EmailOrigin,
    InboundSms,
    Outgoing,
    Subscriber,
    Ticket,
    TicketEvent,
)
from gateway.errors import AccountClosed, InvalidMessage, UnknownSubscriber, UnknownTicket
from gateway.service.engine import SmsResult
from gateway.service.gateway import GatewayService
from gateway.service.ports import Queries, Transaction
from gateway.service.tickets import TicketDesk, TicketResult

__all__ = ["SEARCH_WINDOW", "SupportService", "TicketView"]

#: how many of the newest mails a mailbox search looks through
SEARCH_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket: Ticket
    events: list[TicketEvent]
    mails: list[StoredMail]


def _inbound_id(message_id: str) -> str:
    """The de-duplication id of a command mail: a resent mail (same Message-ID) is
    processed once, like an SMS resent with the same id."""
    return "mail-" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


class SupportService:
    """What the SMTP server and the HTTP API call for the email channel."""

    def __init__(self, *, gateway: GatewayService, desk: TicketDesk) -> None:
        self._gateway = gateway
        self._desk = desk

    @property
    def support_address(self) -> str:
        return self._desk.address

    @property
    def mail_domain(self) -> str:
        return self._gateway.engine.mail_domain

    def shortcodes(self) -> frozenset[str]:
        return self._gateway.engine.shortcodes

    async def account_for(self, address: str) -> Subscriber | None:
        """The open account whose email this is (the SMTP server checks senders with it)."""
        return await self._gateway.reads.read(lambda q: q.subscribers.by_email(address))

    # -- commands by email ------------------------------------------------------------------

    async def email_command(
        self, mail: InboundMail, *, shortcode: str, envelope_sender: str
    ) -> SmsResult:
        """Mail from a subscriber's address to ``<shortcode>@<domain>``: the subject (or the
        first line of the body) goes through the SMS pipeline; replies go by SMS and mail."""
        text = command_text(mail)
        if text is None:
            raise InvalidMessage("no command: the subject and the body are empty")
        account = await self.account_for(envelope_sender)
        if account is None:
            raise UnknownSubscriber(envelope_sender)
        message_id = mail.message_id
        sms = InboundSms(
            id=_inbound_id(message_id) if message_id else uuid.uuid4().hex,
            msisdn=account.msisdn,
            shortcode=shortcode,
            text=text[:1600],
            client_id=message_id is not None,
            email=EmailOrigin(address=envelope_sender, subject=mail.subject, message_id=message_id),
        )
        return await self._gateway.handle_sms(sms)

    # -- tickets ----------------------------------------------------------------------------

    async def support_mail(self, mail: InboundMail) -> TicketResult:
        def work(tx: Transaction, now: datetime) -> tuple[TicketResult, list[Outgoing]]:
            result = self._desk.receive(tx, mail, now)
            return result, result.outgoing

        return self._told(await self._gateway.apply(work))

    def _told(self, result: TicketResult) -> TicketResult:
        """Show a ticket's new state on the live stream."""
        ticket = result.ticket
        self._gateway.events.publish(
            [
                LiveEvent(
                    "ticket",
                    ticket.updated_at,
                    {"id": ticket.id, "status": ticket.status, "msisdn": ticket.msisdn},
                )
            ]
        )
        return result

    async def open_ticket(
        self, *, msisdn: str, product: str, category: str, title: str, content: str
    ) -> TicketResult:
        def work(tx: Transaction, now: datetime) -> tuple[TicketResult, list[Outgoing]]:
            subscriber = tx.subscribers.get(msisdn)
            if subscriber is None:
                raise UnknownSubscriber(msisdn)
            if subscriber.status == "closed":
                raise AccountClosed(msisdn)
            result = self._desk.open_portal(
                tx,
                subscriber=subscriber,
                product=product,
                category=category,
                title=title,
                content=content,
                now=now,
            )
            return result, result.outgoing

        return self._told(await self._gateway.apply(work))

    async def verify(self, ticket_id: int, code: str) -> TicketResult:
        def work(tx: Transaction, now: datetime) -> tuple[TicketResult, list[Outgoing]]:
            result = self._desk.verify(tx, ticket_id, code, now)
            return result, result.outgoing

        return self._told(await self._gateway.apply(work))

    async def close(self, ticket_id: int, resolution: str | None) -> TicketResult:
        def work(tx: Transaction, now: datetime) -> tuple[TicketResult, list[Outgoing]]:
            result = self._desk.close(tx, ticket_id, resolution, now)
            return result, result.outgoing

        return self._told(await self._gateway.apply(work))

    async def tickets(self) -> list[Ticket]:
        return await self._gateway.reads.read(lambda q: q.tickets.all())

    async def ticket(self, ticket_id: int) -> TicketView:
        def work(q: Queries) -> TicketView:
            ticket = q.tickets.get(ticket_id)
            if ticket is None:
                raise UnknownTicket(ticket_id)
            return TicketView(ticket, q.tickets.events(ticket_id), q.tickets.mail(ticket_id))

        return await self._gateway.reads.read(work)

    # -- mailbox ----------------------------------------------------------------------------

    async def mails(self, *, start: int, limit: int) -> tuple[list[StoredMail], int, int]:
        return await self._gateway.reads.read(lambda q: q.mailbox.page(start=start, limit=limit))

    async def recent_mail(self) -> list[StoredMail]:
        return await self._gateway.reads.read(lambda q: q.mailbox.newest(SEARCH_WINDOW))

    async def mail(self, mail_id: str, *, mark_read: bool) -> StoredMail | None:
        """One mail; ``latest`` names the newest. Reading it marks it read, as in Mailpit."""

        def find(q: Queries) -> StoredMail | None:
            if mail_id != "latest":
                return q.mailbox.get(mail_id)
            newest = q.mailbox.newest(1)
            return newest[0] if newest else None

        stored = await self._gateway.reads.read(find)
        if stored is not None and mark_read and not stored.read:
            found = stored.mail.id

            def mark(tx: Transaction, now: datetime) -> tuple[None, list[Outgoing]]:
                tx.mail.mark_read(found)
                return None, []

            await self._gateway.apply(mark)
        return stored

    async def delete_mail(self, ids: Sequence[str] | None) -> int:
        def work(tx: Transaction, now: datetime) -> tuple[int, list[Outgoing]]:
            return tx.mail.delete(ids), []

        return await self._gateway.apply(work)
