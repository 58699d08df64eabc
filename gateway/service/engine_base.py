"""The engine's state and the low-level steps its flows share: charges, periods, replies."""

from __future__ import annotations

import functools
import itertools
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from carrier_rules import (
    Catalog,
    Charge,
    Language,
    Package,
    month_key,
    period_from,
)
from gateway.domain.encoding import layout
from gateway.domain.events import ACTIVITY_KINDS, EventKind, LiveEvent
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
from gateway.errors import GatewayError, UnknownShortcode
from gateway.service.mailer import CatalogMailer
from gateway.service.ports import Transaction
from gateway.service.price_notices import PriceNotices
from gateway.service.replies import Replies

__all__ = ["DueResult", "EngineBase", "SmsResult", "UsageResult"]


_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def _new_id() -> str:
    """32 hex digits: a random per-process prefix and a counter.

    Unique like a uuid4, but consecutive ids sort together, so the database appends
    to its indexes instead of writing all over them.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


@functools.lru_cache(maxsize=4096)
def _local_iso(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


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
    """What one chunk of due work did: renewals and expiries (``processed``), and price
    change announcements sent (``announced``, each with its ``notices``)."""

    outgoing: list[Outgoing] = field(default_factory=list)
    processed: int = 0
    last_due: datetime | None = None
    announced: int = 0
    notices: int = 0


@dataclass(frozen=True, slots=True)
class _Product:
    catalog: Catalog
    package: Package
    replies: Replies


class EngineBase:
    """The catalogs, their replies and mailers, and the steps every flow of the engine
    shares (charge, book, start a period, end, fall back, reply by SMS and email)."""

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
        self._notices = PriceNotices(self._catalogs)
        # the live events of the transaction in progress (built only when someone listens)
        self._recording = False
        self._events: list[LiveEvent] = []
        self._tally: Counter[str] = Counter()

    # -- live events -----------------------------------------------------------------

    def begin_events(self, *, record: bool) -> None:
        """Start a transaction's events; ``record=False`` only counts them (nobody listens)."""
        self._recording, self._events, self._tally = record, [], Counter()

    def take_events(self) -> tuple[list[LiveEvent], Counter[str]]:
        """The transaction's events and counts by kind, for publishing once it commits."""
        taken = self._events, self._tally
        self._events, self._tally = [], Counter()
        return taken

    def _note(self, tx: Transaction, kind: EventKind, at: datetime, **fields: object) -> None:
        self._tally[kind] += 1
        if kind in ACTIVITY_KINDS:
            event = LiveEvent(kind, at, fields)
            tx.add_activity(event)
            if self._recording:
                self._events.append(event)
        elif self._recording:
            self._events.append(LiveEvent(kind, at, fields))

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
        inputs: dict[str, object] | None = None,
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
            self._charge(tx, subscriber, sub, product, charge, reason, at, message_id, inputs)
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
            "local_time": _local_iso(at, zone),
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
        self._tally[f"charge_{reason}"] += 1  # the metrics count charges by reason
        if self._recording:
            self._note(
                tx,
                "charge",
                at,
                id=record.id,
                msisdn=subscriber.msisdn,
                package=package,
                amount=charge.amount,
                reason=reason,
                rule=charge.rule,
                billing=record.billing,
            )
        else:
            self._tally["charge"] += 1
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
        if not self._recording:  # the hot path of bulk renewals: count only
            self._tally["mt"] += 1
            return message
        self._note(
            tx,
            "mt",
            at,
            id=message.id,
            msisdn=msisdn,
            shortcode=sender,
            text=text,
            in_reply_to=in_reply_to,
            encoding=shape.encoding,
            segments=shape.segments,
        )
        return message

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

    @staticmethod
    def _billing_day(sub: Subscription, zone: ZoneInfo) -> int | None:
        """The local day of the first payment: monthly periods keep it (31st, 28/02, 31st)."""
        return None if sub.first_paid_at is None else sub.first_paid_at.astimezone(zone).day

    @staticmethod
    def _held_price(product: _Product, sub: Subscription) -> int:
        return product.package.price if sub.price is None else sub.price
