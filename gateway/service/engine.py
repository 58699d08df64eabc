"""The engine: a parsed command goes to its use case, inside the caller's transaction.

Synchronous and free of I/O of its own: it reads and writes only through the
``Transaction`` port it is handed, and takes ``now`` as an argument. What one call
sends (MTs, mails, live events) is collected in the ``Effects`` it is given (or a
throwaway one), for the caller to publish once the transaction committed.

Following an MO: ``handle_sms`` -> ``HANDLERS[command.action]`` -> the use case module
(``subscribe``, ``cancel``, ``answer``, ``status``) -> ``billing`` for money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from carrier_rules import Catalog, Language, SubscriberKind
from gateway.domain.grammar import Command, parse_command
from gateway.domain.model import InboundSms, Outgoing, Subscriber
from gateway.service import (
    cancel,
    mt_billing,
    renewals,
    status,
    subscribe,
    subscribers,
    usage,
)
from gateway.service.announcements import MetaReader, PriceNotices
from gateway.service.answer import answer
from gateway.service.catalogue import Catalogue, new_id
from gateway.service.context import Context, Policy
from gateway.service.effects import Effects
from gateway.service.ports import Transaction
from gateway.service.renewals import DueResult
from gateway.service.subscribers import KEEP, Keep
from gateway.service.usage import UsageResult

__all__ = ["HANDLERS", "KEEP", "DueResult", "Engine", "Keep", "SmsResult", "UsageResult"]


@dataclass(frozen=True, slots=True)
class SmsResult:
    replies: list[Outgoing]
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class _Mo:
    """One MO's facts, as every command handler reads them."""

    subscriber: Subscriber
    catalog: Catalog
    command: Command
    lang: Language
    now: datetime
    message_id: str


Handler = Callable[[Context, _Mo], list[str]]


def _target(mo: _Mo) -> str:
    assert mo.command.target is not None
    return mo.command.target


#: parsed command -> use case
HANDLERS: dict[str, Handler] = {
    "subscribe": lambda ctx, mo: subscribe.subscribe(
        ctx, mo.subscriber, _target(mo), mo.lang, mo.now, mo.message_id
    ),
    "cancel": lambda ctx, mo: cancel.cancel(
        ctx, mo.subscriber, _target(mo), mo.lang, mo.now, mo.message_id
    ),
    "status": lambda ctx, mo: status.status(ctx, mo.subscriber, mo.catalog, _target(mo), mo.lang),
    "reactivate": lambda ctx, mo: cancel.reactivate(
        ctx, mo.subscriber, _target(mo), mo.lang, mo.now
    ),
    "check": lambda ctx, mo: status.check(ctx, mo.subscriber, _target(mo), mo.lang),
    "list": lambda ctx, mo: status.list_all(ctx, mo.subscriber, mo.catalog, mo.lang),
    "answer": lambda ctx, mo: answer(
        ctx, mo.subscriber, mo.catalog, _target(mo), mo.lang, mo.now, mo.message_id
    ),
}


class Engine:
    """Applies the catalogs' rules. One instance serves every short code it is given."""

    def __init__(
        self,
        *,
        catalogs: Mapping[str, Catalog],
        auto_provision: bool,
        default_balance: int,
        mail_domain: str = "sms.local",
        new_id: Callable[[], str] = new_id,
    ) -> None:
        self.catalogue = Catalogue(catalogs, mail_domain=mail_domain, new_id=new_id)
        self.notices = PriceNotices(self.catalogue.catalogs)
        self.policy = Policy(auto_provision=auto_provision, default_balance=default_balance)

    # -- what the adapters and the service read -----------------------------------------

    @property
    def shortcodes(self) -> frozenset[str]:
        return self.catalogue.shortcodes

    @property
    def mail_domain(self) -> str:
        return self.catalogue.mail_domain

    def new_id(self) -> str:
        return self.catalogue.new_id()

    def catalog(self, shortcode: str) -> Catalog:
        return self.catalogue.catalog(shortcode)

    def effects(self, tx: Transaction, *, record: bool) -> Effects:
        """The effects of one transaction (``record``: build live events, not only counts)."""
        return Effects(tx, self.catalogue, record=record)

    def context(self, tx: Transaction, fx: Effects | None = None) -> Context:
        """The world a use case works in, for this transaction (a fresh ``Effects`` unless
        given one)."""
        effects = fx if fx is not None else Effects(tx, self.catalogue)
        return Context(tx, effects, self.catalogue, self.notices, self.policy)

    _ctx = context

    # -- inbound SMS ----------------------------------------------------------------------

    def handle_sms(
        self, tx: Transaction, sms: InboundSms, now: datetime, *, fx: Effects | None = None
    ) -> SmsResult:
        """Process one MO: exactly once per (sender, client id)."""
        ctx = self._ctx(tx, fx)
        catalog = self.catalogue.catalog(sms.shortcode)
        replies = self.catalogue.replies[sms.shortcode]
        if sms.client_id:
            previous = tx.outbox.replies_to(sms.msisdn, sms.id)
            if previous is not None:
                return SmsResult(previous, duplicate=True)
        tx.outbox.record_inbound(sms, now)
        ctx.fx.note("mo", now, id=sms.id, msisdn=sms.msisdn, shortcode=sms.shortcode, text=sms.text)
        subscriber = tx.subscribers.get(sms.msisdn)
        if subscriber is None:
            if not self.policy.auto_provision:
                lang = replies.language(None)
                text = replies.render(lang, "not_a_subscriber", msisdn=sms.msisdn)
                return SmsResult([ctx.fx.reply(catalog, sms.msisdn, text, sms.id, now)])
            subscriber, _ = subscribers.provision(
                ctx, sms.msisdn, kind=None, balance=None, language=None, now=now
            )
        lang = replies.language(subscriber.language)
        if subscriber.status == "closed":
            text = replies.render(lang, "account_closed", msisdn=sms.msisdn)
            return SmsResult([ctx.fx.reply(catalog, sms.msisdn, text, sms.id, now)])
        command = parse_command(sms.text, catalog)
        handler = (
            HANDLERS.get(command.action) if command.target or command.action == "list" else None
        )
        if handler is None:
            texts = [replies.help(lang)]
        else:
            texts = handler(ctx, _Mo(subscriber, catalog, command, lang, now, sms.id))
        if sms.email is not None:
            ctx.fx.mail_reply(catalog, subscriber, sms, texts, lang, now)
        return SmsResult([ctx.fx.reply(catalog, sms.msisdn, t, sms.id, now) for t in texts])

    def system_error(
        self, tx: Transaction, sms: InboundSms, now: datetime, *, fx: Effects | None = None
    ) -> SmsResult:
        """The reply to a message whose processing failed: nothing was charged."""
        ctx = self._ctx(tx, fx)
        catalog = self.catalogue.catalog(sms.shortcode)  # an unknown one: UnknownShortcode
        replies = self.catalogue.replies[sms.shortcode]
        subscriber = tx.subscribers.get(sms.msisdn)
        lang = replies.language(subscriber.language if subscriber else None)
        text = replies.render(lang, "system_error")
        return SmsResult([ctx.fx.reply(catalog, sms.msisdn, text, sms.id, now, answer=False)])

    def emit_sms(
        self,
        tx: Transaction,
        sender: str,
        msisdn: str,
        text: str,
        *,
        in_reply_to: str | None,
        at: datetime,
        answer: bool = True,
        fx: Effects | None = None,
    ) -> Outgoing:
        """Queue an MT from ``sender`` (a short code or sender id) in this transaction."""
        effects = fx if fx is not None else Effects(tx, self.catalogue)
        return effects.sms(sender, msisdn, text, in_reply_to=in_reply_to, at=at, answer=answer)

    def charge_mt(
        self, tx: Transaction, mt: Outgoing, *, price: int, fx: Effects | None = None
    ) -> str:
        """Charge the receiver of ``mt`` its price (``mt_billing.charge_mt``)."""
        return mt_billing.charge_mt(self._ctx(tx, fx), mt, price)

    # -- subscribers, usage, due work -----------------------------------------------------

    def provision(
        self,
        tx: Transaction,
        msisdn: str,
        *,
        kind: SubscriberKind | None,
        balance: int | None,
        language: Language | None,
        now: datetime,
        email: str | Keep | None = KEEP,
        fx: Effects | None = None,
    ) -> tuple[Subscriber, bool]:
        """Create or update a subscriber; returns it and whether it was created."""
        return subscribers.provision(
            self._ctx(tx, fx),
            msisdn,
            kind=kind,
            balance=balance,
            language=language,
            now=now,
            email=email,
        )

    def topup(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        amount: int,
        now: datetime,
        *,
        fx: Effects | None = None,
    ) -> list[Outgoing]:
        """Add to the main balance, then renew at once what failed for lack of it."""
        return subscribers.topup(self._ctx(tx, fx), subscriber, amount, now)

    def record_usage(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        *,
        app: str,
        n_bytes: int,
        now: datetime,
        event_id: str | None,
        default_rate_per_mb: int,
        fx: Effects | None = None,
    ) -> UsageResult:
        """Data used in ``app`` (``usage.record_usage``)."""
        return usage.record_usage(
            self._ctx(tx, fx),
            subscriber,
            app=app,
            n_bytes=n_bytes,
            now=now,
            event_id=event_id,
            default_rate_per_mb=default_rate_per_mb,
        )

    def close_account(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        now: datetime,
        *,
        fx: Effects | None = None,
    ) -> list[tuple[str, str]]:
        """Close an account (``cancel.close_account``)."""
        return cancel.close_account(self._ctx(tx, fx), subscriber, now)

    def run_due(
        self, tx: Transaction, until: datetime, limit: int, *, fx: Effects | None = None
    ) -> DueResult:
        """Up to ``limit`` due events up to ``until``, in time order (``renewals.run_due``)."""
        return renewals.run_due(self._ctx(tx, fx), until, limit)

    def next_announcement(self, reader: MetaReader) -> datetime | None:
        """When the next price change not yet sent is announced (the scheduler waits for it)."""
        announcement = self.notices.next_due(reader)
        return None if announcement is None else announcement.at
