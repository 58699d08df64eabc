"""The engine: applies a catalog's rules to one message or one due renewal, inside a transaction.

Synchronous and free of I/O of its own: it reads and writes only through the
``Transaction`` port it is handed, and takes ``now`` as an argument. Everything it
does for one event (charge, subscription change, replies) lands in that transaction.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from carrier_rules import (
    CancelDecision,
    Catalog,
    Charge,
    Holding,
    Language,
    Offer,
    Package,
    SubscriberKind,
    can_reactivate,
    cancel_decision,
    cancellation_adjustment,
    list_price,
    month_key,
    next_retry,
    period_charge,
    period_from,
    retention_offers,
    trial_end,
)
from gateway.domain.encoding import layout
from gateway.domain.grammar import parse_command
from gateway.domain.mail import MailKind
from gateway.domain.model import (
    ChargeReason,
    ChargeRecord,
    Conversation,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
    UsageRecord,
)
from gateway.errors import AccountClosed, EmailInUse, GatewayError, UnknownShortcode
from gateway.service.mailer import CatalogMailer
from gateway.service.ports import Transaction
from gateway.service.replies import Replies

__all__ = ["KEEP", "DueResult", "Engine", "Keep", "SmsResult", "UsageResult"]


class Keep:
    """The type of ``KEEP``: "leave this field as it is" (None means "clear it")."""


#: pass as ``email=`` to ``provision`` to leave a subscriber's address unchanged
KEEP = Keep()


_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def _new_id() -> str:
    """32 hex digits: a random per-process prefix and a counter.

    Unique like a uuid4, but consecutive ids sort together, so the database appends
    to its indexes instead of writing all over them.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


#: states in which a plan serves its subscriber (an add-on's base must be in one)
_SERVING = frozenset({"trial", "active", "pending_cancel"})
#: a free tier has no end: it is where an account stands once its paid plan ended
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UsageResult:
    """What one usage event did: zero-rated by a pack, or charged out of bundle."""

    zero_rated: bool
    package: str | None
    charged: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class SmsResult:
    replies: list[Outgoing]
    duplicate: bool = False


@dataclass(slots=True)
class DueResult:
    outgoing: list[Outgoing] = field(default_factory=list)
    processed: int = 0
    last_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Product:
    catalog: Catalog
    package: Package
    replies: Replies


class Engine:
    """Applies the catalogs' rules. One instance serves every short code it is given."""

    def __init__(
        self,
        *,
        catalogs: Mapping[str, Catalog],
        auto_provision: bool,
        default_balance: int,
        mail_domain: str = "sms.local",
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self._catalogs = dict(catalogs)
        self._replies = {code: Replies(c) for code, c in self._catalogs.items()}
        self._products: dict[str, _Product] = {}
        for shortcode, catalog in self._catalogs.items():
            for package in catalog.packages:
                if package.code in self._products:
                    raise GatewayError(f"package code {package.code} is in two catalogs")
                self._products[package.code] = _Product(catalog, package, self._replies[shortcode])
        self._auto_provision = auto_provision
        self._default_balance = default_balance
        self._mail_domain = mail_domain
        self._new_id = new_id
        self._mailers = {
            code: CatalogMailer(
                catalog=c, replies=self._replies[code], domain=mail_domain, new_id=new_id
            )
            for code, c in self._catalogs.items()
        }

    @property
    def shortcodes(self) -> frozenset[str]:
        return frozenset(self._catalogs)

    @property
    def mail_domain(self) -> str:
        return self._mail_domain

    def new_id(self) -> str:
        return self._new_id()

    def catalog(self, shortcode: str) -> Catalog:
        try:
            return self._catalogs[shortcode]
        except KeyError:
            raise UnknownShortcode(shortcode) from None

    # -- subscribers -----------------------------------------------------------------

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
    ) -> tuple[Subscriber, bool]:
        """Create or update a subscriber; returns it and whether it was created.

        ``email`` is an already normalised address, None to remove it, or ``KEEP``.
        """
        subscriber = tx.get_subscriber(msisdn)
        if subscriber is not None and subscriber.status == "closed":
            raise AccountClosed(msisdn)
        if isinstance(email, str):
            owner = tx.subscriber_by_email(email)
            if owner is not None and owner.msisdn != msisdn:
                raise EmailInUse(email, owner.msisdn)
        if subscriber is None:
            subscriber = Subscriber(
                msisdn=msisdn,
                kind=kind or "prepaid",
                balance=self._default_balance if balance is None else balance,
                language=language,
                created_at=now,
                email=None if isinstance(email, Keep) else email,
            )
            tx.put_subscriber(subscriber)
            tx.add_ledger_entry(
                LedgerEntry(msisdn, subscriber.balance, subscriber.balance, "provision", now)
            )
            return subscriber, True
        if kind is not None:
            subscriber.kind = kind
        if language is not None:
            subscriber.language = language
        if not isinstance(email, Keep):
            subscriber.email = email
        if balance is not None and balance != subscriber.balance:
            delta = balance - subscriber.balance
            subscriber.balance = balance
            tx.add_ledger_entry(LedgerEntry(msisdn, delta, balance, "adjustment", now))
        tx.put_subscriber(subscriber)
        return subscriber, False

    def topup(
        self, tx: Transaction, subscriber: Subscriber, amount: int, now: datetime
    ) -> list[Outgoing]:
        """Add to the main balance, then renew at once what failed for lack of it."""
        if subscriber.status == "closed":
            raise AccountClosed(subscriber.msisdn)
        subscriber.balance += amount
        tx.put_subscriber(subscriber)
        tx.add_ledger_entry(
            LedgerEntry(subscriber.msisdn, amount, subscriber.balance, "topup", now)
        )
        out: list[Outgoing] = []
        for sub in tx.open_subscriptions(subscriber.msisdn):
            if sub.status == "renewal_failed" and self._affordable(subscriber, sub, now):
                out.extend(self._renew(tx, subscriber, sub, now))
        return out

    def _affordable(self, subscriber: Subscriber, sub: Subscription, at: datetime) -> bool:
        """Whether a renewal at ``at`` can be paid (a top-up too small changes nothing else)."""
        product = self._products.get(sub.package)
        if product is None or subscriber.kind == "postpaid":
            return True
        charge = period_charge(product.package, subscriber.kind, at, product.catalog.zone)
        return subscriber.balance >= charge.amount

    # -- inbound SMS ------------------------------------------------------------------

    def handle_sms(self, tx: Transaction, sms: InboundSms, now: datetime) -> SmsResult:
        """Process one MO: exactly once per (sender, client id)."""
        catalog = self.catalog(sms.shortcode)
        replies = self._replies[sms.shortcode]
        if sms.client_id:
            previous = tx.replies_to(sms.msisdn, sms.id)
            if previous is not None:
                return SmsResult(previous, duplicate=True)
        tx.record_inbound(sms, now)
        subscriber = tx.get_subscriber(sms.msisdn)
        if subscriber is None:
            if not self._auto_provision:
                lang = replies.language(None)
                text = replies.render(lang, "not_a_subscriber", msisdn=sms.msisdn)
                return SmsResult([self._emit(tx, catalog, sms.msisdn, text, sms.id, now)])
            subscriber, _ = self.provision(
                tx, sms.msisdn, kind=None, balance=None, language=None, now=now
            )
        lang = replies.language(subscriber.language)
        if subscriber.status == "closed":
            text = replies.render(lang, "account_closed", msisdn=sms.msisdn)
            return SmsResult([self._emit(tx, catalog, sms.msisdn, text, sms.id, now)])
        command = parse_command(sms.text, catalog)
        target = command.target
        if command.action == "subscribe" and target is not None:
            texts = self._subscribe(tx, subscriber, target, lang, now, sms.id)
        elif command.action == "cancel" and target is not None:
            texts = self._cancel(tx, subscriber, target, lang, now, sms.id)
        elif command.action == "status" and target is not None:
            texts = self._status(tx, subscriber, catalog, target, lang)
        elif command.action == "reactivate" and target is not None:
            texts = self._reactivate(tx, subscriber, target, lang, now)
        elif command.action == "check" and target is not None:
            texts = self._check(tx, subscriber, target, lang)
        elif command.action == "list":
            texts = self._list(tx, subscriber, catalog, lang)
        elif command.action == "answer" and target is not None:
            texts = self._answer(tx, subscriber, catalog, target, lang, now, sms.id)
        else:
            texts = [replies.help(lang)]
        if sms.email is not None:
            self._reply_by_email(tx, catalog, subscriber, sms, texts, lang, now)
        return SmsResult([self._emit(tx, catalog, sms.msisdn, t, sms.id, now) for t in texts])

    def _reply_by_email(
        self,
        tx: Transaction,
        catalog: Catalog,
        subscriber: Subscriber,
        sms: InboundSms,
        texts: list[str],
        lang: Language,
        now: datetime,
    ) -> None:
        """A command that came by email is answered by email too, in its thread."""
        origin = sms.email
        assert origin is not None
        self._mailers[catalog.shortcode].send(
            tx,
            to=origin.address,
            lang=lang,
            key="reply",
            at=now,
            msisdn=subscriber.msisdn,
            in_reply_to=origin.message_id,
            text="\n\n".join(texts),
            command=sms.text,
        )

    def system_error(self, tx: Transaction, sms: InboundSms, now: datetime) -> SmsResult:
        """The reply to a message whose processing failed: nothing was charged."""
        replies = self._replies[sms.shortcode]
        subscriber = tx.get_subscriber(sms.msisdn)
        lang = replies.language(subscriber.language if subscriber else None)
        text = replies.render(lang, "system_error")
        return SmsResult(
            [
                self._emit(
                    tx, self.catalog(sms.shortcode), sms.msisdn, text, sms.id, now, answer=False
                )
            ]
        )

    def _subscribe(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        code: str,
        lang: Language,
        now: datetime,
        message_id: str,
        *,
        confirmed: bool = False,
    ) -> list[str]:
        product = self._products[code]
        package, replies, catalog = product.package, product.replies, product.catalog
        tz = catalog.zone
        open_subs = tx.open_subscriptions(subscriber.msisdn)
        in_group = [s for s in open_subs if s.group == package.group]
        current = next((s for s in in_group if s.status != "renewal_failed"), None)
        if current is not None and not self._is_free(current):
            if current.package == code:
                return [
                    replies.render(
                        lang,
                        "already_registered",
                        package=code,
                        expires=replies.when(current.expires_at),
                    )
                ]
            return [
                replies.render(lang, "other_pack_active", current=current.package, requested=code)
            ]
        if package.requires is not None and not any(
            s.group == package.requires and s.status in _SERVING and not self._is_free(s)
            for s in open_subs
        ):
            return [replies.render(lang, "addon_needs_base", package=code, group=package.requires)]
        price = list_price(package, signed_up_at=now, at=now, tz=tz, renewal=False)
        if catalog.double_opt_in and not confirmed and price.amount > 0:
            self._ask(tx, catalog, subscriber.msisdn, "opt_in", code, now)
            return [
                replies.render(
                    lang,
                    "confirm_subscribe",
                    package=code,
                    price=replies.money(lang, price.amount),
                    period=package.period[lang],
                    minutes=catalog.conversation_minutes,
                )
            ]
        sub = Subscription(
            id=self._new_id(),
            msisdn=subscriber.msisdn,
            package=code,
            group=package.group,
            status="active",
            started_at=now,
            period_start=now,
            expires_at=now,
            auto_renew=True,
            next_action_at=None,
            price=price.amount,
        )
        ends = trial_end(package, now)
        if ends is not None:  # seed 001: the trial starts now, the first payment at its end
            self._replace(tx, in_group, now)
            sub.status, sub.expires_at, sub.next_action_at = "trial", ends, ends
            tx.put_subscription(sub)
            text = replies.render(
                lang,
                "trial_started",
                package=code,
                benefit=package.benefit[lang],
                expires=replies.when(ends),
                price=replies.money(lang, price.amount),
                period=package.period[lang],
            )
            self._mail(tx, product, subscriber, "registered", text, now)
            return [text]
        charge = period_charge(package, subscriber.kind, now, tz, price=price.amount)
        if subscriber.kind == "prepaid" and subscriber.balance < charge.amount:
            return [
                replies.render(
                    lang,
                    "insufficient_balance",
                    package=code,
                    balance=replies.money(lang, subscriber.balance),
                    price=replies.money(lang, charge.amount),
                )
            ]
        self._replace(tx, in_group, now)
        self._start_period(tx, subscriber, sub, product, charge, "registration", now, message_id)
        text = self._confirmation(product, subscriber, sub, charge, lang, "registered")
        self._mail(tx, product, subscriber, "registered", text, now)
        return [text]

    def _replace(self, tx: Transaction, in_group: list[Subscription], now: datetime) -> None:
        """A new plan replaces a pack whose renewal failed, and a free tier, of its group."""
        for stale in in_group:
            self._end(stale, "expired", now)
            tx.put_subscription(stale)

    def _is_free(self, sub: Subscription) -> bool:
        product = self._products.get(sub.package)
        return product is not None and product.package.price == 0

    def _cancel(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        code: str,
        lang: Language,
        now: datetime,
        message_id: str,
        *,
        confirmed: bool = False,
        offers_made: bool = False,
    ) -> list[str]:
        product = self._products[code]
        package, replies, catalog = product.package, product.replies, product.catalog
        terms = package.cancellation
        sub = next((s for s in tx.open_subscriptions(subscriber.msisdn) if s.package == code), None)
        if sub is None:
            return [replies.render(lang, "not_registered", package=code)]
        if sub.status == "pending_cancel":
            ends = sub.next_action_at or sub.expires_at
            return [
                replies.render(lang, "pending_cancel", package=code, expires=replies.when(ends))
            ]
        if not terms.self_service:
            return [replies.render(lang, "contact_sales", package=code)]
        if terms.effective == "immediate" and not terms.refunds and terms.fee is None:
            # the Zalo packs: ended now, with the postpaid correction of seed 004
            text = self._cancel_subscription(tx, subscriber, sub, product, lang, now, message_id)
            self._mail(tx, product, subscriber, "cancelled", text, now)
            return [text]
        offers = retention_offers(catalog, package)
        if offers and not offers_made and not confirmed:
            self._ask(
                tx,
                catalog,
                subscriber.msisdn,
                "retention",
                code,
                now,
                offers=[o.kind for o in offers] + ["cancel"],
            )
            return [self._offers_text(product, offers, lang)]
        decision = cancel_decision(
            package,
            self._holding(sub),
            subscriber.kind,
            now,
            catalog.zone,
            price=self._held_price(product, sub),
        )
        if not decision.allowed:
            return [replies.render(lang, "contact_sales", package=code)]
        if decision.refund is not None and terms.confirm_refund and not confirmed:
            amount = -decision.refund.amount
            self._ask(tx, catalog, subscriber.msisdn, "refund", code, now, amount=amount)
            return [
                replies.render(
                    lang,
                    "confirm_refund",
                    package=code,
                    amount=replies.money(lang, amount),
                    minutes=catalog.conversation_minutes,
                )
            ]
        return self._apply_cancel(tx, subscriber, sub, product, decision, lang, now, message_id)

    def _apply_cancel(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        decision: CancelDecision,
        lang: Language,
        now: datetime,
        message_id: str | None,
    ) -> list[str]:
        """Carry out a cancellation decision: now (a refund, a trial) or at term end."""
        replies, code = product.replies, sub.package
        inputs = self._holding_inputs(sub, decision)
        texts: list[str] = []
        if decision.status == "cancelled":
            self._end(sub, "cancelled", now)
            if decision.refund is not None:
                self._charge(
                    tx, subscriber, sub, product, decision.refund, "refund", now, message_id, inputs
                )
                text = replies.render(
                    lang,
                    "cancel_refunded",
                    package=code,
                    amount=replies.money(lang, -decision.refund.amount),
                )
            else:
                text = replies.render(lang, "cancelled", package=code, at=replies.when(now))
            tx.put_subscription(sub)
            texts.append(text)
        else:
            sub.status, sub.auto_renew = "pending_cancel", False
            sub.cancelled_at, sub.next_action_at = now, decision.ends_at
            tx.put_subscription(sub)
            texts.append(
                replies.render(
                    lang, "pending_cancel", package=code, expires=replies.when(decision.ends_at)
                )
            )
        if decision.fee is not None:
            fee = decision.fee
            if subscriber.kind == "prepaid" and subscriber.balance < fee.amount:
                # a balance never goes below zero: what it cannot pay is recorded as owed
                inputs = {**inputs, "fee": fee.amount, "owed": fee.amount - subscriber.balance}
                fee = Charge(subscriber.balance, fee.rule)
            if fee.amount > 0:
                self._charge(tx, subscriber, sub, product, fee, "fee", now, message_id, inputs)
            texts[0] += " " + replies.render(
                lang, "cancel_fee", amount=replies.money(lang, decision.fee.amount)
            )
        if decision.status == "cancelled":
            texts.extend(self._fall_back(tx, subscriber, sub, product, lang, now))
        self._mail(tx, product, subscriber, "cancelled", texts[0], now)
        return texts

    def _cancel_subscription(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        lang: Language,
        now: datetime,
        message_id: str | None,
    ) -> str:
        """End a subscription now, with the cancellation correction the rules ask for."""
        replies, tz, code = product.replies, product.catalog.zone, sub.package
        month = month_key(now, tz)
        self._end(sub, "cancelled", now)
        text = replies.render(lang, "cancelled", package=code, at=replies.when(now))
        adjustment = cancellation_adjustment(
            product.package,
            subscriber.kind,
            now,
            tz,
            charged_this_month=sub.charged_in_month if sub.charge_month == month else 0,
        )
        if adjustment is not None:
            self._charge(tx, subscriber, sub, product, adjustment, "cancellation", now, message_id)
            text += " " + replies.render(
                lang,
                "cancel_adjusted",
                package=code,
                month=replies.month(month),
                amount=replies.money(lang, sub.charged_in_month),
            )
        tx.put_subscription(sub)
        return text

    def close_account(
        self, tx: Transaction, subscriber: Subscriber, now: datetime
    ) -> list[tuple[str, str]]:
        """Close an account (a verified support request): every open pack is cancelled by
        the normal cancellation rules, the account is kept, ``closed``. Returns each pack
        cancelled with its cancellation text (a correction included). The support desk
        tells the subscriber (one SMS, one email)."""
        if subscriber.status == "closed":
            raise AccountClosed(subscriber.msisdn)
        cancelled: list[tuple[str, str]] = []
        for sub in tx.open_subscriptions(subscriber.msisdn):
            product = self._products.get(sub.package)
            if product is None:
                self._end(sub, "cancelled", now)
                tx.put_subscription(sub)
                cancelled.append((sub.package, ""))
            else:
                lang = product.replies.language(subscriber.language)
                text = self._cancel_subscription(tx, subscriber, sub, product, lang, now, None)
                cancelled.append((sub.package, text))
        subscriber.status = "closed"
        subscriber.closed_at = now
        tx.put_subscriber(subscriber)
        return cancelled

    def _status(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        catalog: Catalog,
        group: str,
        lang: Language,
    ) -> list[str]:
        replies = self._replies[catalog.shortcode]
        for sub in tx.open_subscriptions(subscriber.msisdn):
            if sub.group != group:
                continue
            if sub.status == "renewal_failed":
                price = period_charge(
                    self._products[sub.package].package,
                    subscriber.kind,
                    sub.expires_at,
                    catalog.zone,
                )
                return [
                    replies.render(
                        lang,
                        "renewal_failed",
                        package=sub.package,
                        balance=replies.money(lang, subscriber.balance),
                        price=replies.money(lang, price.amount),
                    )
                ]
            return [
                replies.render(
                    lang,
                    "status",
                    package=sub.package,
                    expires=replies.when(sub.expires_at),
                    auto_renew=replies.render(
                        lang, "auto_renew_on" if sub.auto_renew else "auto_renew_off"
                    ),
                    used=replies.data(sub.usage_bytes),
                )
            ]
        return [replies.render(lang, "status_none", commands=replies.commands(lang))]

    # -- the policy engine's commands ------------------------------------------------

    def _ask(
        self,
        tx: Transaction,
        catalog: Catalog,
        msisdn: str,
        kind: str,
        code: str,
        now: datetime,
        **data: object,
    ) -> None:
        """Open a question (one per sender and short code; a new one replaces the old)."""
        tx.put_conversation(
            Conversation(
                msisdn=msisdn,
                shortcode=catalog.shortcode,
                kind=kind,  # type: ignore[arg-type]
                package=code,
                started_at=now,
                expires_at=now + timedelta(minutes=catalog.conversation_minutes),
                data=dict(data),
            )
        )

    def _offers_text(self, product: _Product, offers: list[Offer], lang: Language) -> str:
        replies = product.replies
        options = []
        for n, offer in enumerate(offers, start=1):
            if offer.kind == "pause":
                options.append(replies.render(lang, "offer_pause", n=n, cycles=offer.cycles))
            elif offer.plan is not None:
                price = replies.money(lang, offer.plan.price)
                options.append(
                    replies.render(lang, "offer_switch", n=n, plan=offer.plan.code, price=price)
                )
        options.append(replies.render(lang, "offer_cancel", n=len(offers) + 1))
        return replies.render(
            lang, "retention_offer", package=product.package.code, options=", ".join(options)
        )

    def _answer(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        catalog: Catalog,
        answer: str,
        lang: Language,
        now: datetime,
        message_id: str,
    ) -> list[str]:
        """``Y``, ``N`` or a number, answering the open question of this short code."""
        replies = self._replies[catalog.shortcode]
        conversation = tx.get_conversation(subscriber.msisdn, catalog.shortcode)
        if conversation is None:
            return [replies.render(lang, "no_conversation", commands=replies.commands(lang))]
        tx.delete_conversation(subscriber.msisdn, catalog.shortcode)
        if now > conversation.expires_at:
            return [replies.render(lang, "conversation_expired")]
        code = conversation.package
        if answer == "N":
            return [replies.render(lang, "declined")]
        if conversation.kind == "opt_in":
            if answer != "Y":
                tx.put_conversation(conversation)
                return [replies.render(lang, "no_conversation", commands=replies.commands(lang))]
            return self._subscribe(tx, subscriber, code, lang, now, message_id, confirmed=True)
        if conversation.kind == "refund":
            if answer != "Y":
                tx.put_conversation(conversation)
                return [replies.render(lang, "declined")]
            return self._cancel(
                tx, subscriber, code, lang, now, message_id, confirmed=True, offers_made=True
            )
        offered = conversation.data.get("offers", [])
        choices = [str(c) for c in offered] if isinstance(offered, list) else []
        index = int(answer) - 1 if answer.isdigit() else -1
        if not 0 <= index < len(choices):
            tx.put_conversation(conversation)  # still open: ask again
            offers = retention_offers(catalog, self._products[code].package)
            return [self._offers_text(self._products[code], offers, lang)]
        choice = choices[index]
        if choice == "cancel":
            return self._cancel(tx, subscriber, code, lang, now, message_id, offers_made=True)
        sub = next((s for s in tx.open_subscriptions(subscriber.msisdn) if s.package == code), None)
        if sub is None:
            return [replies.render(lang, "not_registered", package=code)]
        product = self._products[code]
        retention = product.package.retention
        assert retention is not None
        if choice == "pause" and retention.pause_cycles is not None:
            return [self._pause(tx, subscriber, sub, product, retention.pause_cycles, lang)]
        target = self._products[retention.switch_to or code]
        sub.next_package = target.package.code
        tx.put_subscription(sub)
        switch_at = sub.next_action_at or sub.expires_at
        return [
            replies.render(
                lang,
                "switched",
                plan=target.package.code,
                price=replies.money(lang, target.package.price),
                at=replies.when(switch_at),
            )
        ]

    def _pause(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        cycles: int,
        lang: Language,
    ) -> str:
        """Seed 002's pause: the paid period runs out, then ``cycles`` periods are skipped
        (nothing charged); the plan renews at the end of the pause."""
        rule = product.package.validity.for_kind(subscriber.kind)
        zone = product.catalog.zone
        resume = sub.next_action_at or sub.expires_at
        for _ in range(cycles):
            resume = period_from(rule, resume, zone, self._billing_day(sub, zone)).renews_at
        sub.status, sub.next_action_at = "paused", resume
        tx.put_subscription(sub)
        replies = product.replies
        return replies.render(lang, "paused", package=sub.package, until=replies.when(resume))

    def _reactivate(
        self, tx: Transaction, subscriber: Subscriber, code: str, lang: Language, now: datetime
    ) -> list[str]:
        """Seed 000: a plan cancelled to the end of its term comes back before then."""
        product = self._products[code]
        replies = product.replies
        sub = next((s for s in tx.open_subscriptions(subscriber.msisdn) if s.package == code), None)
        ends = None if sub is None else (sub.next_action_at or sub.expires_at)
        if (
            sub is None
            or ends is None
            or not can_reactivate(product.package, status=sub.status, ends_at=ends, at=now)
        ):
            return [replies.render(lang, "cannot_reactivate", package=code)]
        sub.status, sub.auto_renew, sub.cancelled_at = "active", True, None
        tx.put_subscription(sub)
        return [replies.render(lang, "reactivated", package=code, expires=replies.when(ends))]

    def _item(self, sub: Subscription, lang: Language) -> str:
        replies = self._products[sub.package].replies
        state = replies.render(lang, f"state_{sub.status}")
        ends = sub.next_action_at if sub.status in ("trial", "pending_cancel", "paused") else None
        return replies.render(
            lang,
            "list_item",
            package=sub.package,
            state=state,
            expires=replies.when(ends or sub.expires_at),
        )

    def _check(
        self, tx: Transaction, subscriber: Subscriber, code: str, lang: Language
    ) -> list[str]:
        """``KT <CODE>``: the state of one service."""
        sub = next((s for s in tx.open_subscriptions(subscriber.msisdn) if s.package == code), None)
        if sub is None:
            return [self._products[code].replies.render(lang, "not_registered", package=code)]
        return [self._item(sub, lang)]

    def _list(
        self, tx: Transaction, subscriber: Subscriber, catalog: Catalog, lang: Language
    ) -> list[str]:
        """``TC``: what the subscriber has on this short code."""
        replies = self._replies[catalog.shortcode]
        items = [
            self._item(s, lang)
            for s in tx.open_subscriptions(subscriber.msisdn)
            if s.package in catalog.by_code
        ]
        if not items:
            return [replies.render(lang, "list_none", commands=replies.commands(lang))]
        return [replies.render(lang, "list", items="; ".join(items))]

    # -- usage -------------------------------------------------------------------------

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
    ) -> UsageResult:
        """Data used in ``app``: zero-rated and counted by a pack that covers the app, else
        charged per started MB at the out-of-bundle rate (prepaid balance, down to zero;
        postpaid invoice)."""
        if event_id is not None and tx.usage_seen(subscriber.msisdn, event_id):
            return UsageResult(False, None, 0, duplicate=True)
        for sub in tx.open_subscriptions(subscriber.msisdn):
            product = self._products.get(sub.package)
            if product is None or product.package.app != app or sub.status not in _SERVING:
                continue
            sub.usage_bytes += n_bytes
            sub.used_since_paid += n_bytes
            tx.put_subscription(sub)
            tx.add_usage(UsageRecord(subscriber.msisdn, app, n_bytes, now, sub.id, None, event_id))
            return UsageResult(True, sub.package, 0)
        rate, catalog = default_rate_per_mb, None
        for candidate in self._catalogs.values():
            if any(p.app == app for p in candidate.packages):
                rate, catalog = candidate.out_of_bundle_per_mb, candidate
                break
        megabytes = math.ceil(n_bytes / 1_000_000)
        amount = megabytes * rate
        inputs: dict[str, object] = {
            "app": app,
            "bytes": n_bytes,
            "megabytes_started": megabytes,
            "rate_per_mb": rate,
            "subscriber_kind": subscriber.kind,
        }
        if subscriber.kind == "prepaid" and amount > subscriber.balance:
            inputs["owed"] = amount - subscriber.balance
            amount = subscriber.balance
        charge_id = None
        if amount > 0:
            zone = (catalog or next(iter(self._catalogs.values()))).zone
            charge_id = self._book(
                tx,
                subscriber,
                None,
                "DATA",
                Charge(amount, "out_of_bundle_per_mb"),
                "usage",
                now,
                zone,
                None,
                inputs,
            )
        tx.add_usage(UsageRecord(subscriber.msisdn, app, n_bytes, now, None, charge_id, event_id))
        return UsageResult(False, None, amount)

    # -- policy facts ------------------------------------------------------------------

    @staticmethod
    def _holding(sub: Subscription) -> Holding:
        return Holding(
            signed_up_at=sub.started_at,
            first_paid_at=sub.first_paid_at,
            last_paid_at=sub.last_paid_at,
            last_paid_amount=sub.last_paid_amount,
            periods_paid=sub.periods_paid,
            period_start=sub.period_start,
            period_end=(sub.next_action_at or sub.expires_at)
            if sub.status == "trial"
            else sub.expires_at,
            in_trial=sub.status == "trial",
            used_since_last_payment=sub.used_since_paid > 0,
        )

    @staticmethod
    def _holding_inputs(sub: Subscription, decision: CancelDecision) -> dict[str, object]:
        return {
            "decision": decision.rule,
            "first_paid_at": None if sub.first_paid_at is None else sub.first_paid_at.isoformat(),
            "last_paid_amount": sub.last_paid_amount,
            "periods_paid": sub.periods_paid,
            "used_since_last_payment_bytes": sub.used_since_paid,
            "ends_at": decision.ends_at.isoformat(),
        }

    @staticmethod
    def _billing_day(sub: Subscription, zone: ZoneInfo) -> int | None:
        """The local day of the first payment: monthly periods keep it (31st, 28/02, 31st)."""
        return None if sub.first_paid_at is None else sub.first_paid_at.astimezone(zone).day

    @staticmethod
    def _held_price(product: _Product, sub: Subscription) -> int:
        return product.package.price if sub.price is None else sub.price

    def _renewal_price(self, product: _Product, sub: Subscription, at: datetime) -> int:
        """Seed 001: a trial converts at the price shown at sign-up; the price is fixed for
        a commitment's term; otherwise a renewal pays the version in force (with notice)."""
        package = product.package
        held = self._held_price(product, sub)
        if sub.status == "trial":
            return held
        commitment = package.commitment
        if (
            commitment is not None
            and commitment.billing == "per_period"
            and sub.periods_paid % commitment.periods != 0
        ):
            return held
        return list_price(
            package, signed_up_at=sub.started_at, at=at, tz=product.catalog.zone, renewal=True
        ).amount

    def _fall_back(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        lang: Language,
        at: datetime,
    ) -> list[str]:
        """When a plan ends, the account drops to its free tier (seeds 001, 002)."""
        fallback = product.package.fallback
        replies = product.replies
        if fallback is None:
            return []
        free = self._products[fallback].package
        tx.put_subscription(
            Subscription(
                id=self._new_id(),
                msisdn=subscriber.msisdn,
                package=free.code,
                group=free.group,
                status="active",
                started_at=at,
                period_start=at,
                expires_at=_NEVER,
                auto_renew=False,
                next_action_at=None,
                price=0,
            )
        )
        return [replies.render(lang, "ended_fallback", package=sub.package, fallback=free.code)]

    # -- renewals ---------------------------------------------------------------------

    def run_due(self, tx: Transaction, until: datetime, limit: int) -> DueResult:
        """Run, in time order and each at its own instant, up to ``limit`` due events.

        A renewal that schedules its next event inside the fetched window runs again
        in this same call, so events never run out of order across subscriptions.
        """
        result = DueResult()
        due = tx.due_subscriptions(until, limit)
        if not due:
            return result
        horizon = until if len(due) < limit else min(until, due[-1].next_action_at or until)
        subscribers: dict[str, Subscriber] = {}
        heap: list[tuple[datetime, int, Subscription]] = []
        for seq, sub in enumerate(due):
            assert sub.next_action_at is not None
            heap.append((sub.next_action_at, seq, sub))
        heapq.heapify(heap)
        seq = len(heap)
        while heap:
            at, _, sub = heapq.heappop(heap)
            subscriber = subscribers.get(sub.msisdn) or tx.get_subscriber(sub.msisdn)
            if subscriber is None:  # cannot happen with foreign keys; never loop on it
                self._end(sub, "expired", at)
                tx.put_subscription(sub)
                continue
            subscribers[sub.msisdn] = subscriber
            result.outgoing.extend(self._renew(tx, subscriber, sub, at))
            result.processed += 1
            result.last_due = at
            if sub.next_action_at is not None and sub.next_action_at <= horizon:
                heapq.heappush(heap, (sub.next_action_at, seq, sub))
                seq += 1
        return result

    def _renew(
        self, tx: Transaction, subscriber: Subscriber, sub: Subscription, at: datetime
    ) -> list[Outgoing]:
        product = self._products.get(sub.package)
        if product is None:  # the catalog no longer sells it
            self._end(sub, "expired", at)
            tx.put_subscription(sub)
            return []
        if sub.status == "pending_cancel":  # it ran to the end of its term
            return self._end_term(tx, subscriber, sub, product, at)
        if sub.next_package is not None and sub.next_package in self._products:
            product = self._products[sub.next_package]  # a switch accepted for this period
            sub.package, sub.group = product.package.code, product.package.group
            sub.next_package, sub.price = None, None
            sub.periods_paid = 0
        catalog, replies = product.catalog, product.replies
        lang = replies.language(subscriber.language)
        price = self._renewal_price(product, sub, at)
        charge = period_charge(product.package, subscriber.kind, at, catalog.zone, price=price)
        if subscriber.kind == "prepaid" and subscriber.balance < charge.amount:
            first_failure = sub.failed_since or at
            retry_at = next_retry(catalog.renewal, first_failed_at=first_failure, now=at)
            notify = sub.status == "active"
            key: MailKind
            if retry_at is None:
                self._end(sub, "expired", at)
                key = "renewal_gave_up"
            else:
                sub.status, sub.failed_since, sub.next_action_at = (
                    "renewal_failed",
                    first_failure,
                    retry_at,
                )
                key = "renewal_failed"
            tx.put_subscription(sub)
            if not notify and key == "renewal_failed":
                return []  # retries are silent; the subscriber was told at the first failure
            text = replies.render(
                lang,
                key,
                package=sub.package,
                balance=replies.money(lang, subscriber.balance),
                price=replies.money(lang, charge.amount),
            )
            self._mail(tx, product, subscriber, key, text, at)
            return [self._emit(tx, catalog, subscriber.msisdn, text, None, at)]
        sub.price = price
        self._start_period(tx, subscriber, sub, product, charge, "renewal", at, None)
        text = self._confirmation(product, subscriber, sub, charge, lang, "renewed")
        self._mail(tx, product, subscriber, "renewed", text, at)
        return [self._emit(tx, catalog, subscriber.msisdn, text, None, at)]

    def _end_term(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        at: datetime,
    ) -> list[Outgoing]:
        """A plan cancelled to the end of its term ends; the account drops to its free tier."""
        replies = product.replies
        lang = replies.language(subscriber.language)
        sub.status, sub.auto_renew, sub.next_action_at = "cancelled", False, None
        sub.expires_at = min(sub.expires_at, at)
        tx.put_subscription(sub)
        texts = self._fall_back(tx, subscriber, sub, product, lang, at) or [
            replies.render(lang, "ended", package=sub.package)
        ]
        return [self._emit(tx, product.catalog, subscriber.msisdn, t, None, at) for t in texts]

    # -- shared steps -----------------------------------------------------------------

    def _start_period(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        charge: Charge,
        reason: ChargeReason,
        at: datetime,
        message_id: str | None,
    ) -> None:
        rule = product.package.validity.for_kind(subscriber.kind)
        zone = product.catalog.zone
        sub.first_paid_at = sub.first_paid_at or at
        period = period_from(rule, at, zone, self._billing_day(sub, zone))
        sub.status = "active"
        sub.period_start = at
        sub.expires_at = period.expires_at
        sub.next_action_at = period.renews_at
        if product.package.price == 0 and charge.amount == 0:
            # a free tier has no period to renew: it stays until a paid plan replaces it
            sub.expires_at, sub.next_action_at, sub.auto_renew = _NEVER, None, False
        sub.failed_since = None
        sub.usage_bytes = 0
        # the facts the cancellation and refund rules read
        sub.last_paid_at, sub.last_paid_amount = at, charge.amount
        sub.periods_paid += 1
        sub.used_since_paid = 0
        if charge.amount > 0:
            self._charge(tx, subscriber, sub, product, charge, reason, at, message_id)
        tx.put_subscription(sub)

    def _charge(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        charge: Charge,
        reason: ChargeReason,
        at: datetime,
        message_id: str | None,
        inputs: dict[str, object] | None = None,
    ) -> None:
        """Book a charge of ``sub`` with the inputs of its rule (explainability)."""
        zone = product.catalog.zone
        explained: dict[str, object] = {
            "list_price": self._held_price(product, sub),
            "subscriber_kind": subscriber.kind,
            "local_time": at.astimezone(zone).isoformat(),
            **(inputs or {}),
        }
        self._book(
            tx, subscriber, sub, sub.package, charge, reason, at, zone, message_id, explained
        )
        if subscriber.kind == "postpaid":
            month = month_key(at, zone)
            if sub.charge_month == month:
                sub.charged_in_month += charge.amount
            else:
                sub.charge_month, sub.charged_in_month = month, charge.amount

    def _book(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription | None,
        package: str,
        charge: Charge,
        reason: ChargeReason,
        at: datetime,
        zone: ZoneInfo,
        message_id: str | None,
        inputs: dict[str, object],
    ) -> str:
        """Record a charge: on the postpaid invoice of its month, or on the prepaid
        balance with its ledger entry. Returns the charge id."""
        month = month_key(at, zone)
        postpaid = subscriber.kind == "postpaid"
        record = ChargeRecord(
            id=self._new_id(),
            msisdn=subscriber.msisdn,
            subscription_id=None if sub is None else sub.id,
            package=package,
            reason=reason,
            rule=charge.rule,
            amount=charge.amount,
            billing="invoice" if postpaid else "balance",
            invoice_month=month if postpaid else None,
            at=at,
            message_id=message_id,
            inputs=inputs,
        )
        tx.add_charge(record)
        if postpaid:
            tx.add_invoice_line(
                InvoiceLine(
                    record.id,
                    subscriber.msisdn,
                    month,
                    package,
                    f"{package} {reason}",
                    charge.amount,
                    at,
                )
            )
        else:
            subscriber.balance -= charge.amount
            tx.put_subscriber(subscriber)
            tx.add_ledger_entry(
                LedgerEntry(
                    subscriber.msisdn,
                    -charge.amount,
                    subscriber.balance,
                    "refund" if reason == "refund" else "charge",
                    at,
                    record.id,
                )
            )
        return record.id

    def _confirmation(
        self,
        product: _Product,
        subscriber: Subscriber,
        sub: Subscription,
        charge: Charge,
        lang: Language,
        key: str,
    ) -> str:
        replies = product.replies
        amount = replies.money(lang, charge.amount)
        if subscriber.kind == "postpaid":
            month = replies.month(month_key(sub.period_start, product.catalog.zone))
            charge_text = replies.render(lang, "charge_postpaid", amount=amount, month=month)
        else:
            charge_text = replies.render(lang, "charge_prepaid", amount=amount)
        return replies.render(
            lang,
            key,
            package=sub.package,
            benefit=product.package.benefit[lang],
            charge=charge_text,
            expires=replies.when(sub.expires_at),
        )

    @staticmethod
    def _end(sub: Subscription, status: str, at: datetime) -> None:
        if status == "cancelled":
            sub.status = "cancelled"
            sub.cancelled_at = at
            sub.expires_at = min(sub.expires_at, at)
        else:
            sub.status = "expired"
        sub.auto_renew = False
        sub.next_action_at = None

    def _mail(
        self,
        tx: Transaction,
        product: _Product,
        subscriber: Subscriber,
        key: MailKind,
        text: str,
        at: datetime,
    ) -> None:
        """The confirmation email of an event, to subscribers that have an address."""
        if subscriber.email is None:
            return
        self._mailers[product.catalog.shortcode].send(
            tx,
            to=subscriber.email,
            lang=product.replies.language(subscriber.language),
            key=key,
            at=at,
            msisdn=subscriber.msisdn,
            text=text,
            package=product.package.code,
        )

    def _emit(
        self,
        tx: Transaction,
        catalog: Catalog,
        msisdn: str,
        text: str,
        in_reply_to: str | None,
        at: datetime,
        *,
        answer: bool = True,
    ) -> Outgoing:
        return self.emit_sms(
            tx, catalog.shortcode, msisdn, text, in_reply_to=in_reply_to, at=at, answer=answer
        )

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
    ) -> Outgoing:
        """Queue an MT from ``sender`` (a short code or sender id) in this transaction."""
        shape = layout(text)
        message = Outgoing(
            id=self._new_id(),
            shortcode=sender,
            msisdn=msisdn,
            text=text,
            in_reply_to=in_reply_to,
            encoding=shape.encoding,
            segments=shape.segments,
            at=at,
        )
        tx.add_outgoing(message, answer=answer)
        return message
