"""The engine: applies a catalog's rules to one message or one due renewal, inside a transaction.

Synchronous and free of I/O of its own: it reads and writes only through the
``Transaction`` port it is handed, and takes ``now`` as an argument. Everything it
does for one event (charge, subscription change, replies) lands in that transaction.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

from carrier_rules import (
    Announcement,
    Language,
    SubscriberKind,
    cancel_decision,
    cancellation_adjustment,
    list_price,
    month_key,
    next_retry,
    period_charge,
    retention_offers,
    trial_end,
)
from gateway.domain.grammar import parse_command
from gateway.domain.mail import MailKind
from gateway.domain.model import InboundSms, LedgerEntry, Outgoing, Subscriber, Subscription
from gateway.errors import AccountClosed, EmailInUse
from gateway.service.engine_base import _SERVING, DueResult, SmsResult, UsageResult, _Product
from gateway.service.engine_policy import PolicyEngine
from gateway.service.ports import Transaction
from gateway.service.price_notices import MetaReader, Notice, PriceNotices

__all__ = ["KEEP", "DueResult", "Engine", "Keep", "SmsResult", "UsageResult"]


class Keep:
    """The type of ``KEEP``: "leave this field as it is" (None means "clear it")."""


#: pass as ``email=`` to ``provision`` to leave a subscriber's address unchanged
KEEP = Keep()


class Engine(PolicyEngine):
    """Applies the catalogs' rules. One instance serves every short code it is given."""

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
        price = self._renewal_price(product, sub, at)
        charge = period_charge(
            product.package, subscriber.kind, at, product.catalog.zone, price=price
        )
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
        self._note(
            tx, "mo", now, id=sms.id, msisdn=sms.msisdn, shortcode=sms.shortcode, text=sms.text
        )
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

    def system_error(self, tx: Transaction, sms: InboundSms, now: datetime) -> SmsResult:
        """The reply to a message whose processing failed: nothing was charged."""
        self.catalog(sms.shortcode)  # an unknown short code is UnknownShortcode, not KeyError
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
        ends = trial_end(package, now)
        if ends is not None and any(s.package == code for s in tx.subscriptions(subscriber.msisdn)):
            ends = None  # one trial per plan: a subscriber who had this plan pays at once
        charge = period_charge(package, subscriber.kind, now, tz, price=price.amount)
        if ends is None and subscriber.kind == "prepaid" and subscriber.balance < charge.amount:
            # said before any question: a Y could not be honoured
            return [
                replies.render(
                    lang,
                    "insufficient_balance",
                    package=code,
                    balance=replies.money(lang, subscriber.balance),
                    price=replies.money(lang, charge.amount),
                )
            ]
        if catalog.double_opt_in and not confirmed and price.amount > 0:
            self._ask(tx, catalog, subscriber.msisdn, "opt_in", code, now, amount=price.amount)
            return [self._opt_in_question(product, price.amount, lang)]
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
            text += self._sign_up_notice(tx, subscriber, sub, product, lang, now)
            self._mail(tx, product, subscriber, "registered", text, now)
            return [text]
        self._replace(tx, in_group, now)
        self._start_period(
            tx,
            subscriber,
            sub,
            product,
            charge,
            "registration",
            now,
            message_id,
            {"price_rule": price.rule},
        )
        text = self._confirmation(product, subscriber, sub, charge, lang, "registered")
        text += self._sign_up_notice(tx, subscriber, sub, product, lang, now)
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
        *,
        confirmed: bool = False,
        offers_made: bool = False,
        waive_refund: bool = False,
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
        holding, price = self._holding(sub), self._held_price(product, sub)
        decision = cancel_decision(
            package,
            holding,
            subscriber.kind,
            now,
            catalog.zone,
            price=price,
            waive_refund=waive_refund,
        )
        if not decision.allowed:
            return [replies.render(lang, "contact_sales", package=code)]
        if decision.refund is not None and terms.confirm_refund and not confirmed:
            amount = -decision.refund.amount
            # seed 000: the refund may be asked for; cancelling without it runs to term end
            ends = cancel_decision(
                package, holding, subscriber.kind, now, catalog.zone, price=price, waive_refund=True
            ).ends_at
            self._ask(
                tx,
                catalog,
                subscriber.msisdn,
                "refund",
                code,
                now,
                amount=amount,
                ends=ends.isoformat(),
            )
            return [self._refund_question(product, amount, ends, lang)]
        return self._apply_cancel(tx, subscriber, sub, product, decision, lang, now, message_id)

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
        self._note(
            tx, "cancel", now, msisdn=subscriber.msisdn, package=sub.package, status="cancelled"
        )
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

    # -- renewals ---------------------------------------------------------------------

    def run_due(self, tx: Transaction, until: datetime, limit: int) -> DueResult:
        """Run, in time order and each at its own instant, up to ``limit`` due events.

        A renewal that schedules its next event inside the fetched window runs again
        in this same call, so events never run out of order across subscriptions. A price
        change announced on the way (seed 001) is sent at its own instant, after the
        renewals before it and before those at or after it, in a call of its own.
        """
        result = DueResult()
        while True:
            announcement = self._notices.next_due(tx, until)
            stop = until if announcement is None else announcement.at - timedelta(microseconds=1)
            self._run_renewals(tx, stop, limit - result.processed, result)
            if announcement is None or result.processed >= limit:
                return result
            self._announce(tx, announcement, result)

    def next_announcement(self, reader: MetaReader) -> datetime | None:
        """When the next price change not yet sent is announced (the scheduler waits for it)."""
        announcement = self._notices.next_due(reader)
        return None if announcement is None else announcement.at

    def _announce(self, tx: Transaction, announcement: Announcement, result: DueResult) -> None:
        """Tell every open subscription that the new price will reach (seed 001: "chúng
        tôi sẽ luôn thông báo cho bạn trước"), once each, at the announcement's instant."""
        at = announcement.at
        result.announced += 1
        result.last_due = at
        product = self._products[announcement.package.code]
        for sub in tx.open_subscriptions_of(announcement.package.code):
            subscriber = tx.get_subscriber(sub.msisdn)
            if subscriber is None or subscriber.status == "closed":
                continue
            held = self._held_price(product, sub)
            notice = self._notices.owed(announcement, sub, subscriber.kind, product.catalog, held)
            if notice is None:
                continue
            lang = product.replies.language(subscriber.language)
            text = self._tell_price(tx, subscriber, sub, product, notice, lang, at)
            result.outgoing.append(self._emit(tx, product.catalog, sub.msisdn, text, None, at))
            result.notices += 1
        self._notices.mark_done(tx, announcement, at)

    def _tell_price(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        notice: Notice,
        lang: Language,
        at: datetime,
    ) -> str:
        """Record that ``sub`` is told of ``notice`` (once: the subscription remembers it),
        mail it, note it on the timeline; returns the SMS text."""
        sub.price_notice = notice.announcement.key
        tx.put_subscription(sub)
        text = PriceNotices.text(product.replies, lang, notice, self._held_price(product, sub))
        self._note(
            tx,
            "price_notice",
            at,
            msisdn=subscriber.msisdn,
            package=sub.package,
            amount=notice.amount,
            status=notice.first_renewal.isoformat(),
        )
        self._mail(tx, product, subscriber, "price_notice", text, at)
        return text

    def _sign_up_notice(
        self,
        tx: Transaction,
        subscriber: Subscriber,
        sub: Subscription,
        product: _Product,
        lang: Language,
        now: datetime,
    ) -> str:
        """A sign-up after a price change was announced hears of it at once (appended to
        its confirmation, " " first), or nothing when no announced price will reach it."""
        held = self._held_price(product, sub)
        notice = self._notices.at_sign_up(
            product.package, sub, subscriber.kind, product.catalog, held, now
        )
        if notice is None:
            return ""
        sub.price_notice = notice.announcement.key
        tx.put_subscription(sub)
        text = PriceNotices.text(product.replies, lang, notice, held)
        self._note(
            tx,
            "price_notice",
            now,
            msisdn=subscriber.msisdn,
            package=sub.package,
            amount=notice.amount,
            status=notice.first_renewal.isoformat(),
        )
        return " " + text

    def _run_renewals(
        self, tx: Transaction, until: datetime, limit: int, result: DueResult
    ) -> None:
        """Renewals and expiries due by ``until``, in time order (see ``run_due``)."""
        due = tx.due_subscriptions(until, limit)
        if not due:
            return
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
        list_price_used = self._renewal_list_price(product, sub, at)
        price = list_price_used.amount
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
            if key == "renewal_gave_up":
                self._note(tx, "expiry", at, msisdn=subscriber.msisdn, package=sub.package)
            elif notify:
                self._note(
                    tx,
                    "renewal_failed",
                    at,
                    msisdn=subscriber.msisdn,
                    package=sub.package,
                    amount=charge.amount,
                )
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
            texts = [text]
            if key == "renewal_gave_up":
                texts.extend(self._end_addons(tx, subscriber, sub, at))
            return [self._emit(tx, catalog, subscriber.msisdn, t, None, at) for t in texts]
        inputs: dict[str, object] = {
            "price_rule": list_price_used.rule,
            "period": sub.periods_paid + 1,
        }
        if sub.status == "trial":
            inputs["trial_conversion"] = True
        sub.price = price
        self._start_period(tx, subscriber, sub, product, charge, "renewal", at, None, inputs)
        if self._recording:
            self._note(
                tx,
                "renewal",
                at,
                msisdn=subscriber.msisdn,
                package=sub.package,
                amount=charge.amount,
            )
        else:
            self._tally["renewal"] += 1
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
        self._note(tx, "expiry", at, msisdn=subscriber.msisdn, package=sub.package)
        texts = self._fall_back(tx, subscriber, sub, product, lang, at) or [
            replies.render(lang, "ended", package=sub.package)
        ]
        texts.extend(self._end_addons(tx, subscriber, sub, at))
        return [self._emit(tx, product.catalog, subscriber.msisdn, t, None, at) for t in texts]
