"""Helpers for the support-desk tests: a desk on a SQLite file, mails in, expected texts out.

The expected texts are support.toml's ``vi`` templates (the policy's default language,
Vietnamese without diacritics) filled in by hand, not rendered by the code under test.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files

from carrier_rules import Language, SubscriberKind, SupportPolicy, parse_support_policy
from gateway.adapters.sqlite_store import SqliteStore
from gateway.domain.mail import InboundMail, OutgoingMail
from gateway.domain.model import (
    ChargeRecord,
    InboundSms,
    InvoiceLine,
    Outgoing,
    Subscriber,
    Subscription,
    Ticket,
)
from gateway.service.engine import Engine, SmsResult
from gateway.service.ports import Transaction
from gateway.service.tickets import TicketDesk, TicketResult
from tests.service.support import local

A = "84912345678"  # 0912***678 once masked: "0" + 912345678, first 4 and last 3 digits
A_MASKED = "0912***678"
A_MAIL = "an@example.com"
P = "84918000001"  # 0918***001
P_MASKED = "0918***001"
P_MAIL = "post@example.com"
STRANGER = "helper@example.org"
SUPPORT = "support@sms.local"
CODE = "123456"
CATEGORY = "Hỗ trợ kỹ thuật"
CLOSURE_TITLE = "Hủy tài khoản"

T0 = local(2026, 3, 10, 10, 0)
ASKED = local(2026, 3, 12, 9, 0)


def load_support() -> SupportPolicy:
    """The shipped policy, carrier_rules/catalogs/support.toml."""
    path = files("carrier_rules") / "catalogs" / "support.toml"
    return parse_support_policy(path.read_text(encoding="utf-8"), source="support.toml")


@dataclass
class Codes:
    """The one-time codes the desk draws: queued ones first, then ``CODE``."""

    queued: deque[str] = field(default_factory=deque)
    digits_asked: list[int] = field(default_factory=list)

    def __call__(self, digits: int) -> str:
        self.digits_asked.append(digits)
        return self.queued.popleft() if self.queued else CODE


@dataclass
class DeskHarness:
    """A ``TicketDesk`` and its ``Engine`` on a SQLite file, one transaction per call."""

    store: SqliteStore
    engine: Engine
    desk: TicketDesk
    codes: Codes

    async def provision(
        self,
        msisdn: str,
        *,
        at: datetime,
        email: str | None,
        kind: SubscriberKind = "prepaid",
        balance: int = 20_000,
        language: Language | None = None,
    ) -> Subscriber:
        subscriber, _ = await self.store.transaction(
            lambda tx: self.engine.provision(
                tx, msisdn, kind=kind, balance=balance, language=language, now=at, email=email
            )
        )
        return subscriber

    async def send(self, msisdn: str, text: str, *, at: datetime) -> SmsResult:
        message = sms_to_888(msisdn, text)
        return await self.store.transaction(lambda tx: self.engine.handle_sms(tx, message, at))

    async def receive(self, mail: InboundMail, *, at: datetime) -> TicketResult:
        return await self.store.transaction(lambda tx: self.desk.receive(tx, mail, at))

    async def verify(self, ticket_id: int, code: str, *, at: datetime) -> TicketResult:
        return await self.store.transaction(lambda tx: self.desk.verify(tx, ticket_id, code, at))

    async def close(self, ticket_id: int, resolution: str | None, *, at: datetime) -> TicketResult:
        return await self.store.transaction(
            lambda tx: self.desk.close(tx, ticket_id, resolution, at)
        )

    async def portal(
        self, msisdn: str, *, product: str, category: str, title: str, content: str, at: datetime
    ) -> TicketResult:
        def work(tx: Transaction) -> TicketResult:
            subscriber = tx.subscribers.get(msisdn)
            assert subscriber is not None
            return self.desk.open_portal(
                tx,
                subscriber=subscriber,
                product=product,
                category=category,
                title=title,
                content=content,
                now=at,
            )

        return await self.store.transaction(work)

    async def ticket(self, ticket_id: int) -> Ticket:
        found: Ticket | None = await self.store.query(lambda q: q.tickets.get(ticket_id))
        assert found is not None
        return found

    async def tickets(self) -> list[Ticket]:
        return await self.store.query(lambda q: q.tickets.all())

    async def events(self, ticket_id: int) -> list[tuple[str, str]]:
        events = await self.store.query(lambda q: q.tickets.events(ticket_id))
        return [(e.status, e.note) for e in events]

    async def mails(self, ticket_id: int) -> list[OutgoingMail]:
        """The ticket's mails, in the order they were recorded."""
        stored = await self.store.query(lambda q: q.tickets.mail(ticket_id))
        return [s.mail for s in stored]

    async def subjects(self, ticket_id: int) -> list[str]:
        return [m.subject for m in await self.mails(ticket_id)]

    async def subscriber(self, msisdn: str) -> Subscriber:
        found: Subscriber | None = await self.store.query(lambda q: q.subscribers.get(msisdn))
        assert found is not None
        return found

    async def subscriptions(self, msisdn: str) -> list[Subscription]:
        return await self.store.query(lambda q: q.subscriptions.all_of(msisdn))

    async def unpublished(self) -> list[Outgoing]:
        return await self.store.query(lambda q: q.outbox.unpublished(1000))

    async def charges(self, msisdn: str) -> list[ChargeRecord]:
        return await self.store.query(lambda q: q.billing.charges(msisdn))

    async def invoice(self, msisdn: str, month: str) -> list[InvoiceLine]:
        return await self.store.query(lambda q: q.billing.invoice_lines(msisdn, month))

    async def by_email(self, address: str) -> Subscriber | None:
        return await self.store.query(lambda q: q.subscribers.by_email(address))


async def start_verifying(h: DeskHarness) -> OutgoingMail:
    """A with ZL7 asks to close the account at 09:00 on 12/03: ticket #1 is verifying, its
    code (``CODE`` unless one is queued) valid until 09:10. Returns the "verifying" mail."""
    await h.provision(A, at=T0, email=A_MAIL)
    await h.send(A, "DK ZL7", at=T0)
    await h.receive(closure_request(A_MAIL, message_id="req-1@example.com"), at=ASKED)
    return by_subject(await h.mails(1), verifying_subject(1, CLOSURE_TITLE))


_mo_ids = itertools.count(1)


def sms_to_888(msisdn: str, text: str) -> InboundSms:
    return InboundSms(id=f"mo{next(_mo_ids):05d}", msisdn=msisdn, shortcode="888", text=text)


def inbound(
    sender: str,
    subject: str,
    text: str,
    *,
    message_id: str | None,
    replies_to: tuple[str, ...] = (),
) -> InboundMail:
    """A mail to the support address, as the SMTP server hands it over (already parsed)."""
    return InboundMail(
        message_id=message_id,
        sender=sender,
        subject=subject,
        text=text,
        html_only=False,
        replies_to=replies_to,
    )


def answer(ours: OutgoingMail, sender: str, text: str, *, message_id: str) -> InboundMail:
    """A reply to one of our mails: ``Re:`` its subject, In-Reply-To its Message-ID, and the
    quoted original below the new text (as mail clients do)."""
    quoted = "\n".join(f"> {line}" for line in ours.body.splitlines())
    return inbound(
        sender,
        f"Re: {ours.subject}",
        f"{text}\n\nVào 09:00 12/03/2026, {ours.sender} đã viết:\n{quoted}",
        message_id=message_id,
        replies_to=(ours.message_id,),
    )


def closure_request(sender: str, *, message_id: str, body: str = "") -> InboundMail:
    return inbound(
        sender,
        CLOSURE_TITLE,
        body or "Xin chào, tôi muốn hủy tài khoản của tôi. Cảm ơn.",
        message_id=message_id,
    )


def by_subject(mails: list[OutgoingMail], subject: str) -> OutgoingMail:
    (found,) = [m for m in mails if m.subject == subject]
    return found


# --- support.toml [sms.vi] and [emails.vi.*], filled in by hand ------------------------------


def verification_sms(ticket_id: int, code: str) -> str:
    """``[sms.vi].verification_code``."""
    return (
        f"Ma xac nhan yeu cau dong tai khoan (phieu #{ticket_id}) la {code}, hieu luc 10 phut."
        " Tra loi email phieu ho tro bang ma nay. Khong chia se ma cho nguoi khac."
    )


def account_closed_sms(ticket_id: int, masked: str, packages: str) -> str:
    """``[sms.vi].account_closed``."""
    return f"Tai khoan {masked} da duoc dong theo yeu cau #{ticket_id}. Cac goi da huy: {packages}."


def opened_subject(ticket_id: int, title: str) -> str:
    return f"[#{ticket_id}] Da tiep nhan yeu cau: {title}"


def need_account_subject(ticket_id: int, title: str) -> str:
    return f"[#{ticket_id}] Can thong tin tai khoan: {title}"


def verifying_subject(ticket_id: int, title: str) -> str:
    return f"[#{ticket_id}] Xac minh tai khoan: {title}"


def wrong_code_subject(ticket_id: int) -> str:
    return f"[#{ticket_id}] Ma xac nhan khong dung"


def expired_subject(ticket_id: int) -> str:
    return f"[#{ticket_id}] Ma xac nhan het hieu luc"


def closed_subject(ticket_id: int, title: str) -> str:
    return f"[#{ticket_id}] Yeu cau da xu ly xong: {title}"


def account_closed_subject(ticket_id: int, title: str) -> str:
    return f"[#{ticket_id}] Tai khoan da duoc huy: {title}"


def wrong_code_body(ticket_id: int, attempts_left: int) -> str:
    return (
        f"Ma xac nhan cho yeu cau #{ticket_id} khong dung."
        f" Quy khach con {attempts_left} lan thu.\nTrang thai: Verifying."
    )


def expired_body(ticket_id: int) -> str:
    return (
        f"Ma xac nhan cho yeu cau #{ticket_id} da het hieu luc hoac nhap sai qua so lan"
        " cho phep.\nTra loi email nay de nhan ma moi. Trang thai: Open."
    )


def closed_body(ticket_id: int, resolution: str) -> str:
    return f"Yeu cau #{ticket_id} da duoc xu ly xong. {resolution}\nTrang thai: Closed."
