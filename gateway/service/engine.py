"""The engine: applies a catalog's rules to one message or one due renewal, inside a transaction.

Synchronous and free of I/O of its own: it reads and writes only through the
``Transaction`` port it is handed, and takes ``now`` as an argument. Everything it
does for one event (charge, subscription change, replies) lands in that transaction.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from carrier_rules import (
    Catalog,
    Charge,
    Language,
    Package,
    SubscriberKind,
    cancellation_adjustment,
    month_key,
    next_retry,
    period_charge,
    period_from,
)
from gateway.domain.encoding import layout
from gateway.domain.grammar import parse_command
from gateway.domain.mail import MailKind
from gateway.domain.model import (
    ChargeReason,
    ChargeRecord,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
)
from gateway.errors import AccountClosed, EmailInUse, GatewayError, UnknownShortcode
from gateway.service.mailer import CatalogMailer
from gateway.service.ports import Transaction
from gateway.service.replies import Replies

__all__ = ["KEEP", "DueResult", "Engine", "Keep", "SmsResult"]


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
        if command.action == "subscribe" and command.target is not None:
            texts = self._subscribe(tx, subscriber, command.target, lang, now, sms.id)
        elif command.action == "cancel" and command.target is not None:
            texts = self._cancel(tx, subscriber, command.target, lang, now, sms.id)
        elif command.action == "status" and command.target is not None:
            texts = self._status(tx, subscriber, catalog, command.target, lang)
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
    ) -> list[str]:
        product = self._products[code]
        package, replies, tz = product.package, product.replies, product.catalog.zone
        in_group = [s for s in tx.open_subscriptions(subscriber.msisdn) if s.group == package.group]
        active = next((s for s in in_group if s.status == "active"), None)
        if active is not None:
            if active.package == code:
                return [
                    replies.render(
                        lang,
                        "already_registered",
                        package=code,
                        expires=replies.when(active.expires_at),
                    )
                ]
            return [
                replies.render(lang, "other_pack_active", current=active.package, requested=code)
            ]
        charge = period_charge(package, subscriber.kind, now, tz)
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
        for stale in in_group:  # a pack whose renewal failed is replaced by the new one
            self._end(stale, "expired", now)
            tx.put_subscription(stale)
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
        )
        self._start_period(tx, subscriber, sub, product, charge, "registration", now, message_id)
        text = self._confirmation(product, subscriber, sub, charge, lang, "registered")
        self._mail(tx, product, subscriber, "registered", text, now)
        return [text]

    def _cancel(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        code: str,
        lang: Language,
        now: datetime,
        message_id: str,
    ) -> list[str]:
        product = self._products[code]
        sub = next((s for s in tx.open_subscriptions(subscriber.msisdn) if s.package == code), None)
        if sub is None:
            return [product.replies.render(lang, "not_registered", package=code)]
        text = self._cancel_subscription(tx, subscriber, sub, product, lang, now, message_id)
        self._mail(tx, product, subscriber, "cancelled", text, now)
        return [text]

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
        catalog, replies = product.catalog, product.replies
        lang = replies.language(subscriber.language)
        charge = period_charge(product.package, subscriber.kind, at, catalog.zone)
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
        self._start_period(tx, subscriber, sub, product, charge, "renewal", at, None)
        text = self._confirmation(product, subscriber, sub, charge, lang, "renewed")
        self._mail(tx, product, subscriber, "renewed", text, at)
        return [self._emit(tx, catalog, subscriber.msisdn, text, None, at)]

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
        period = period_from(rule, at, product.catalog.zone)
        sub.status = "active"
        sub.period_start = at
        sub.expires_at = period.expires_at
        sub.next_action_at = period.renews_at
        sub.failed_since = None
        sub.usage_bytes = 0
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
    ) -> None:
        month = month_key(at, product.catalog.zone)
        postpaid = subscriber.kind == "postpaid"
        record = ChargeRecord(
            id=self._new_id(),
            msisdn=subscriber.msisdn,
            subscription_id=sub.id,
            package=sub.package,
            reason=reason,
            rule=charge.rule,
            amount=charge.amount,
            billing="invoice" if postpaid else "balance",
            invoice_month=month if postpaid else None,
            at=at,
            message_id=message_id,
        )
        tx.add_charge(record)
        if postpaid:
            tx.add_invoice_line(
                InvoiceLine(
                    record.id,
                    subscriber.msisdn,
                    month,
                    sub.package,
                    f"{sub.package} {reason}",
                    charge.amount,
                    at,
                )
            )
            if sub.charge_month == month:
                sub.charged_in_month += charge.amount
            else:
                sub.charge_month, sub.charged_in_month = month, charge.amount
        else:
            subscriber.balance -= charge.amount
            tx.put_subscriber(subscriber)
            tx.add_ledger_entry(
                LedgerEntry(
                    subscriber.msisdn, -charge.amount, subscriber.balance, "charge", at, record.id
                )
            )

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
