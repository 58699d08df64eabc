"""What the support desk reads from a mail or a ticket: the account, the thread, the code.

Small pure helpers of ``tickets.py`` (seed 003): recognising a phone number, the ticket a
reply belongs to, the account behind a ticket, and the one-time codes (only their hash
is stored; a number is shown masked).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from carrier_rules import Language, SupportPolicy
from gateway.domain.mail import InboundMail, OutgoingMail
from gateway.domain.model import Subscriber, Ticket
from gateway.domain.msisdn import canonical_msisdn
from gateway.errors import InvalidMsisdn
from gateway.service.ports import Transaction

__all__ = [
    "PHONE",
    "TICKET_TAG",
    "account_named_in",
    "account_of",
    "code_hash",
    "mask",
    "random_code",
    "thread_of",
    "ticket_mail",
]

#: a Vietnamese mobile number, digits possibly grouped: 0912345678, 0912 345 678, +84 912.345.678
PHONE = re.compile(r"(?<![0-9])(?:\+?84|0)[ .-]?[1-9](?:[ .-]?[0-9]){8}(?![0-9])")
TICKET_TAG = re.compile(r"\[#([0-9]{1,9})\]")
_MAX_CONTENT = 10_000


def random_code(digits: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def code_hash(ticket_id: int, code: str) -> str:
    return hashlib.sha256(f"{ticket_id}:{code}".encode()).hexdigest()


def mask(msisdn: str) -> str:
    """``84912345678`` -> ``0912***678``: enough to recognise, not to reuse."""
    local = "0" + msisdn[2:]
    return local[:4] + "*" * (len(local) - 7) + local[-3:]


def thread_of(tx: Transaction, mail: InboundMail) -> Ticket | None:
    """The ticket a mail answers: by its In-Reply-To/References, else by a ``[#N]`` tag
    in the subject when it comes from that ticket's requester."""
    ticket_id = tx.tickets.of_mail(mail.replies_to) if mail.replies_to else None
    if ticket_id is None:
        tag = TICKET_TAG.search(mail.subject)
        if tag is None:
            return None
        tagged = tx.tickets.get(int(tag.group(1)))
        if tagged is None or tagged.requester != mail.sender:
            return None
        return tagged
    return tx.tickets.get(ticket_id)


def account_of(tx: Transaction, ticket: Ticket) -> Subscriber | None:
    if ticket.msisdn is None:
        return None
    account = tx.subscribers.get(ticket.msisdn)
    return account if account is not None and account.status == "active" else None


def account_named_in(tx: Transaction, text: str) -> Subscriber | None:
    """A phone number in the mail that is an open account (seed 003, case 2: the
    requester cannot log in and sends the account's details)."""
    for match in PHONE.finditer(text):
        try:
            digits = re.sub(r"[ .-]", "", match.group(0))
            account = tx.subscribers.get(canonical_msisdn(digits))
        except InvalidMsisdn:
            continue
        if account is not None and account.status == "active":
            return account
    return None


def ticket_mail(
    policy: SupportPolicy,
    ticket: Ticket,
    key: str,
    now: datetime,
    *,
    lang: Language,
    address: str,
    mail_id: str,
    in_reply_to: str | None,
    **fields: Any,
) -> OutgoingMail:
    """The desk's mail ``key`` to the requester of ``ticket``, in their language."""
    assert ticket.requester is not None
    template = policy.emails[lang][key]
    values = {
        "ticket": ticket.id,
        "title": ticket.title,
        "resolution": ticket.resolution or "",
        "mailbox": address,
        **fields,
    }
    return OutgoingMail(
        id=mail_id,
        sender=address,
        sender_name=policy.name,
        to=(ticket.requester,),
        subject=template.subject.format(**values),
        body=template.body.format(**values),
        at=now,
        kind="ticket",
        msisdn=ticket.msisdn,
        ticket_id=ticket.id,
        in_reply_to=in_reply_to,
        references=() if in_reply_to is None else (in_reply_to,),
    )
