"""The support desk (seed 003): tickets by email or portal, account closure verified by SMS.

Synchronous and free of I/O, like the engine: every step runs inside the
``Transaction`` it is handed and takes ``now``. A ticket moves
``open -> verifying -> closed``; every status change mails the requester.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from carrier_rules import Language, SupportPolicy
from gateway.domain.grammar import fold
from gateway.domain.mail import InboundMail
from gateway.domain.mail_inbound import reply_text
from gateway.domain.model import Outgoing, Subscriber, Ticket, TicketEvent, TicketStatus
from gateway.errors import InvalidMessage, TicketError, UnknownTicket
from gateway.service import cancel
from gateway.service.engine import Engine
from gateway.service.ports import Transaction
from gateway.service.ticket_facts import (
    account_named_in,
    account_of,
    code_hash,
    mask,
    random_code,
    thread_of,
    ticket_mail,
)

__all__ = ["TicketDesk", "TicketResult", "VerifyOutcome"]

_MAX_CONTENT = 10_000

VerifyOutcome = Literal["closed", "wrong_code", "expired"]


@dataclass(slots=True)
class TicketResult:
    ticket: Ticket
    #: SMS to publish once committed (a verification code, an account-closed notice)
    outgoing: list[Outgoing] = field(default_factory=list)
    created: bool = False
    #: the mail was already received (same Message-ID): nothing changed
    duplicate: bool = False
    verify: VerifyOutcome | None = None


class TicketDesk:
    """Opens, follows and closes support tickets; closes accounts once verified."""

    def __init__(
        self,
        *,
        engine: Engine,
        policy: SupportPolicy,
        new_code: Callable[[int], str] = random_code,
    ) -> None:
        # the desk runs use cases (effects, cancellation) in the engine's context; it
        # needs nothing else of the engine
        self._context = engine.context
        self._mail_domain = engine.mail_domain
        self._new_id = engine.new_id
        self._policy = policy
        self._new_code = new_code
        self._phrases = tuple(policy.closure_phrases)

    @property
    def address(self) -> str:
        return f"{self._policy.mailbox}@{self._mail_domain}"

    @property
    def policy(self) -> SupportPolicy:
        return self._policy

    # -- intake ---------------------------------------------------------------------------

    def receive(self, tx: Transaction, mail: InboundMail, now: datetime) -> TicketResult:
        """A mail to the support address: a new ticket, or a reply to an open one."""
        if mail.message_id is not None:
            seen = tx.tickets.support_mail_seen(mail.message_id)
            if seen is not None:
                ticket = tx.tickets.get(seen)
                assert ticket is not None
                return TicketResult(ticket, duplicate=True)
        ticket = thread_of(tx, mail)
        if ticket is not None and ticket.status != "closed":
            result = self._follow_up(tx, ticket, mail, now)
        else:
            result = self._open(
                tx,
                source="email",
                requester=mail.sender,
                account=tx.subscribers.by_email(mail.sender)
                or account_named_in(tx, f"{mail.subject}\n{mail.text}"),
                product="Other",
                category=self._policy.categories[0],
                title=mail.subject or "(no subject)",
                content=mail.text,
                now=now,
                in_reply_to=mail.message_id,
            )
        message_id = mail.message_id or f"received-{self._new_id()}"
        tx.tickets.record_support_mail(
            message_id=message_id,
            ticket_id=result.ticket.id,
            sender=mail.sender,
            subject=mail.subject,
            at=now,
        )
        return result

    def open_portal(
        self,
        tx: Transaction,
        *,
        subscriber: Subscriber,
        product: str,
        category: str,
        title: str,
        content: str,
        now: datetime,
    ) -> TicketResult:
        """The logged-in path (seed 003, case 1): the portal's ticket form."""
        if product not in self._policy.products:
            raise InvalidMessage(
                f"unknown product {product!r}: one of {', '.join(self._policy.products)}"
            )
        if category not in self._policy.categories:
            raise InvalidMessage(
                f"unknown category {category!r}: one of {', '.join(self._policy.categories)}"
            )
        return self._open(
            tx,
            source="portal",
            requester=subscriber.email,
            account=subscriber,
            product=product,
            category=category,
            title=title,
            content=content,
            now=now,
            in_reply_to=None,
        )

    def _open(
        self,
        tx: Transaction,
        *,
        source: Literal["email", "portal"],
        requester: str | None,
        account: Subscriber | None,
        product: str,
        category: str,
        title: str,
        content: str,
        now: datetime,
        in_reply_to: str | None,
    ) -> TicketResult:
        closure = self._is_closure(f"{title}\n{content}")
        ticket = Ticket(
            id=tx.tickets.next_id(),
            source=source,
            kind="account_closure" if closure else "general",
            status="open",
            requester=requester,
            msisdn=None if account is None else account.msisdn,
            product=product,
            category=category,
            title=title[:200],
            content=content[:_MAX_CONTENT],
            created_at=now,
            updated_at=now,
        )
        tx.tickets.put(ticket)
        result = TicketResult(ticket, created=True)
        via = f"by email from {requester}" if source == "email" else "from the portal"
        self._event(tx, ticket, now, f"opened {via}")
        self._mail(tx, ticket, "ticket_opened", now, in_reply_to=in_reply_to)
        if closure:
            if account is None:
                self._mail(tx, ticket, "ticket_need_account", now, in_reply_to=in_reply_to)
            else:
                self._start_verification(tx, ticket, account, now, result, in_reply_to)
        return result

    def _follow_up(
        self, tx: Transaction, ticket: Ticket, mail: InboundMail, now: datetime
    ) -> TicketResult:
        result = TicketResult(ticket)
        said = reply_text(mail.text) or mail.subject
        if mail.sender != ticket.requester:
            # a thread's Message-IDs can leak: only the requester can answer codes
            self._event(tx, ticket, now, f"reply from {mail.sender} ignored: not the requester")
            return result
        self._event(tx, ticket, now, f"reply from {mail.sender}")
        if ticket.kind != "account_closure":
            return result
        if ticket.status == "verifying":
            code = self._code_in(said)
            if code is None:
                self._mail(
                    tx,
                    ticket,
                    "ticket_wrong_code",
                    now,
                    in_reply_to=mail.message_id,
                    attempts_left=self._attempts_left(ticket),
                )
                return result
            result.verify = self._check(tx, ticket, code, now, result, mail.message_id)
            return result
        account = account_of(tx, ticket) or account_named_in(tx, said)
        if account is None:
            self._mail(tx, ticket, "ticket_need_account", now, in_reply_to=mail.message_id)
            return result
        self._start_verification(tx, ticket, account, now, result, mail.message_id)
        return result

    # -- verification ---------------------------------------------------------------------

    def verify(self, tx: Transaction, ticket_id: int, code: str, now: datetime) -> TicketResult:
        """An operator enters the code the requester read out (``POST .../verify``)."""
        ticket = self._get(tx, ticket_id)
        if ticket.kind != "account_closure" or ticket.status != "verifying":
            raise TicketError(
                ticket_id,
                f"nothing to verify: it is a {ticket.kind.replace('_', ' ')} ticket,"
                f" status {ticket.status}",
            )
        result = TicketResult(ticket)
        self._event(tx, ticket, now, "code entered by an operator")
        result.verify = self._check(tx, ticket, code.strip(), now, result, None)
        return result

    def _start_verification(
        self,
        tx: Transaction,
        ticket: Ticket,
        account: Subscriber,
        now: datetime,
        result: TicketResult,
        in_reply_to: str | None,
    ) -> None:
        rules = self._policy.verification
        if ticket.codes_sent >= rules.max_codes:
            ticket.otp_hash, ticket.otp_expires_at = None, None
            ticket.resolution = (
                f"not verified: {ticket.codes_sent} codes sent without a match;"
                " write again to open a new request"
            )
            self._finish(tx, ticket, now, "verification abandoned: too many codes")
            self._mail(tx, ticket, "ticket_closed", now, in_reply_to=in_reply_to)
            return
        code = self._new_code(rules.code_digits)
        ticket.codes_sent += 1
        ticket.msisdn = account.msisdn
        ticket.otp_hash = code_hash(ticket.id, code)
        ticket.otp_expires_at = now + timedelta(minutes=rules.valid_minutes)
        ticket.otp_attempts = 0
        self._set_status(
            tx, ticket, "verifying", now, f"code sent by SMS to {mask(account.msisdn)}"
        )
        lang = self._language(account)
        text = self._policy.sms[lang]["verification_code"].format(
            ticket=ticket.id, code=code, minutes=rules.valid_minutes
        )
        result.outgoing.append(
            self._context(tx).fx.sms(
                self._policy.sms_sender, account.msisdn, text, in_reply_to=None, at=now
            )
        )
        self._mail(
            tx,
            ticket,
            "ticket_verifying",
            now,
            in_reply_to=in_reply_to,
            phone=mask(account.msisdn),
            minutes=rules.valid_minutes,
        )

    def _check(
        self,
        tx: Transaction,
        ticket: Ticket,
        code: str,
        now: datetime,
        result: TicketResult,
        in_reply_to: str | None,
    ) -> VerifyOutcome:
        expired = ticket.otp_expires_at is None or now > ticket.otp_expires_at
        if not expired and hmac.compare_digest(ticket.otp_hash or "", code_hash(ticket.id, code)):
            self._close_account(tx, ticket, now, result, in_reply_to)
            return "closed"
        if not expired:
            ticket.otp_attempts += 1
            if ticket.otp_attempts < self._policy.verification.max_attempts:
                ticket.updated_at = now
                tx.tickets.put(ticket)
                self._event(tx, ticket, now, f"wrong code ({ticket.otp_attempts} so far)")
                self._mail(
                    tx,
                    ticket,
                    "ticket_wrong_code",
                    now,
                    in_reply_to=in_reply_to,
                    attempts_left=self._attempts_left(ticket),
                )
                return "wrong_code"
        reason = "code expired" if expired else "too many wrong codes"
        ticket.otp_hash, ticket.otp_expires_at = None, None
        self._set_status(tx, ticket, "open", now, reason)
        self._mail(tx, ticket, "ticket_code_expired", now, in_reply_to=in_reply_to)
        return "expired"

    def _close_account(
        self,
        tx: Transaction,
        ticket: Ticket,
        now: datetime,
        result: TicketResult,
        in_reply_to: str | None,
    ) -> None:
        account = account_of(tx, ticket)
        ticket.otp_hash, ticket.otp_expires_at = None, None
        if account is None:  # closed meanwhile by another ticket
            ticket.resolution = "the account was already closed"
            self._finish(tx, ticket, now, "verified; the account was already closed")
            self._mail(tx, ticket, "ticket_closed", now, in_reply_to=in_reply_to)
            return
        cancelled = cancel.close_account(self._context(tx), account, now)
        listed = ", ".join(package for package, _ in cancelled) or "-"
        details = "\n".join(text for _, text in cancelled if text)
        ticket.resolution = f"account closed; packs cancelled: {listed}"
        self._finish(tx, ticket, now, f"verified; account {account.msisdn} closed")
        lang = self._language(account)
        text = self._policy.sms[lang]["account_closed"].format(
            ticket=ticket.id, msisdn=mask(account.msisdn), packages=listed
        )
        result.outgoing.append(
            self._context(tx).fx.sms(
                self._policy.sms_sender, account.msisdn, text, in_reply_to=None, at=now
            )
        )
        self._mail(
            tx,
            ticket,
            "account_closed",
            now,
            in_reply_to=in_reply_to,
            msisdn=mask(account.msisdn),
            packages=listed,
            details=details,
        )

    # -- closing --------------------------------------------------------------------------

    def close(
        self, tx: Transaction, ticket_id: int, resolution: str | None, now: datetime
    ) -> TicketResult:
        """An operator closes a ticket (the account, if any, stays as it is)."""
        ticket = self._get(tx, ticket_id)
        if ticket.status == "closed":
            raise TicketError(ticket_id, "already closed")
        ticket.otp_hash, ticket.otp_expires_at = None, None
        ticket.resolution = resolution or "resolved by support"
        self._finish(tx, ticket, now, f"closed by an operator: {ticket.resolution}")
        self._mail(tx, ticket, "ticket_closed", now, in_reply_to=None)
        return TicketResult(ticket)

    def _finish(self, tx: Transaction, ticket: Ticket, now: datetime, note: str) -> None:
        ticket.closed_at = now
        self._set_status(tx, ticket, "closed", now, note)

    # -- helpers --------------------------------------------------------------------------

    def _get(self, tx: Transaction, ticket_id: int) -> Ticket:
        ticket = tx.tickets.get(ticket_id)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        return ticket

    def _is_closure(self, text: str) -> bool:
        folded = fold(text)
        return any(phrase in folded for phrase in self._phrases)

    def _code_in(self, text: str) -> str | None:
        digits = self._policy.verification.code_digits
        match = re.search(rf"(?<![0-9]){'[0-9]' * digits}(?![0-9])", text)
        return None if match is None else match.group(0)

    def _attempts_left(self, ticket: Ticket) -> int:
        return max(self._policy.verification.max_attempts - ticket.otp_attempts, 0)

    def _language(self, account: Subscriber | None) -> Language:
        if account is not None and account.language is not None:
            return account.language
        return self._policy.default_language

    def _set_status(
        self, tx: Transaction, ticket: Ticket, status: TicketStatus, now: datetime, note: str
    ) -> None:
        ticket.status = status
        ticket.updated_at = now
        tx.tickets.put(ticket)
        self._event(tx, ticket, now, note)

    @staticmethod
    def _event(tx: Transaction, ticket: Ticket, now: datetime, note: str) -> None:
        tx.tickets.add_event(TicketEvent(ticket.id, now, ticket.status, note))

    def _mail(
        self,
        tx: Transaction,
        ticket: Ticket,
        key: str,
        now: datetime,
        *,
        in_reply_to: str | None,
        **fields: Any,
    ) -> None:
        """Mail the requester (a portal ticket of an account without an address: no mail)."""
        if ticket.requester is None:
            return
        account = None if ticket.msisdn is None else tx.subscribers.get(ticket.msisdn)
        tx.mail.add(
            ticket_mail(
                self._policy,
                ticket,
                key,
                now,
                lang=self._language(account),
                address=self.address,
                mail_id=self._new_id(),
                in_reply_to=in_reply_to,
                **fields,
            )
        )
