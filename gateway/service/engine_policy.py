"""The policy engine's commands: questions and answers, retention, pause, lists, usage."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carrier_rules import (
    CancelDecision,
    Catalog,
    Charge,
    Language,
    Offer,
    can_reactivate,
    period_charge,
    period_from,
    renewal_price,
    retention_offers,
)
from gateway.domain.model import (
    Conversation,
    ConversationKind,
    Subscriber,
    Subscription,
    UsageRecord,
)
from gateway.service.engine_base import _NEVER, _SERVING, UsageResult, _Product
from gateway.service.engine_plans import PlanSteps
from gateway.service.ports import Transaction

#: the zone of a data charge for an app no catalog sells (the invoice month is local)
_DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

__all__ = ["PolicyEngine"]

#: answers to the refund question (seed 000): the refund and the end now; no refund and
#: the plan to the end of its term; keep the plan
_REFUND_CHOICES = {
    "1": "refund",
    "Y": "refund",
    "2": "no_refund",
    "N": "no_refund",
    "3": "keep",
}


class PolicyEngine(PlanSteps):
    """The policy engine's commands and flows, on the engine's shared steps."""

    # -- defined by the engine -------------------------------------------------------

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
        """Sign up for ``code`` (``Engine`` does it; a confirmed opt-in calls it)."""
        raise NotImplementedError

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
        """Cancel ``code`` (``Engine`` does it; an answer to a question calls it)."""
        raise NotImplementedError

    # -- the policy engine's commands ------------------------------------------------

    def _ask(
        self,
        tx: Transaction,
        catalog: Catalog,
        msisdn: str,
        kind: ConversationKind,
        code: str,
        now: datetime,
        **data: object,
    ) -> None:
        """Open a question (one per sender and short code; a new one replaces the old)."""
        tx.put_conversation(
            Conversation(
                msisdn=msisdn,
                shortcode=catalog.shortcode,
                kind=kind,
                package=code,
                started_at=now,
                expires_at=now + timedelta(minutes=catalog.conversation_minutes),
                data=dict(data),
            )
        )

    def _opt_in_question(self, product: _Product, amount: int, lang: Language) -> str:
        replies, package = product.replies, product.package
        return replies.render(
            lang,
            "confirm_subscribe",
            package=package.code,
            price=replies.money(lang, amount),
            period=package.period[lang],
            minutes=product.catalog.conversation_minutes,
        )

    def _refund_question(
        self, product: _Product, amount: int, ends: datetime, lang: Language
    ) -> str:
        """Seed 000's choice: 1 (or Y) cancel now with the refund; 2 (or N) cancel without
        it, the plan running to ``ends``; 3 keep the plan."""
        replies = product.replies
        return replies.render(
            lang,
            "confirm_refund",
            package=product.package.code,
            amount=replies.money(lang, amount),
            expires=replies.when(ends),
            minutes=product.catalog.conversation_minutes,
        )

    @staticmethod
    def _asked_end(tx: Transaction, conversation: Conversation) -> datetime:
        """The end of term a refund question named (a question asked by an older version
        kept none: the plan's current period end)."""
        stored = conversation.data.get("ends")
        if isinstance(stored, str):
            return datetime.fromisoformat(stored)
        for sub in tx.open_subscriptions(conversation.msisdn):
            if sub.package == conversation.package:
                return sub.next_action_at or sub.expires_at
        return conversation.started_at

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
        product = self._products.get(code)
        if product is None:  # the catalog stopped selling it meanwhile
            return [replies.render(lang, "conversation_expired")]
        if conversation.kind == "refund":
            choice = _REFUND_CHOICES.get(answer)
            if choice is None:  # not one of the three: ask again, still open
                tx.put_conversation(conversation)
                asked = int(str(conversation.data.get("amount", 0)))
                return [
                    self._refund_question(product, asked, self._asked_end(tx, conversation), lang)
                ]
            if choice == "keep":
                return [replies.render(lang, "declined")]
            return self._cancel(
                tx,
                subscriber,
                code,
                lang,
                now,
                message_id,
                confirmed=True,
                offers_made=True,
                waive_refund=choice == "no_refund",
            )
        if answer == "N":
            return [replies.render(lang, "declined")]
        if conversation.kind == "opt_in":
            if answer != "Y":  # a digit is no answer to a yes/no question: ask again
                tx.put_conversation(conversation)
                amount = conversation.data.get("amount", product.package.price)
                return [self._opt_in_question(product, int(str(amount)), lang)]
            return self._subscribe(tx, subscriber, code, lang, now, message_id, confirmed=True)
        offered = conversation.data.get("offers", [])
        choices = [str(c) for c in offered] if isinstance(offered, list) else []
        index = int(answer) - 1 if answer.isdigit() else -1
        if not 0 <= index < len(choices):
            tx.put_conversation(conversation)  # still open: ask again
            return [self._offers_text(product, retention_offers(catalog, product.package), lang)]
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
        if sub.expires_at == _NEVER:  # a free tier: no end to show
            return replies.render(lang, "list_item_free", package=sub.package, state=state)
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
            product = self._products.get(sub.package)
            if sub.status == "renewal_failed" and product is not None:
                # what the retry will charge: the held price, at the renewal's instant
                price = period_charge(
                    product.package,
                    subscriber.kind,
                    sub.expires_at,
                    catalog.zone,
                    price=self._renewal_price(product, sub, sub.expires_at),
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
            if sub.expires_at == _NEVER:
                return [self._item(sub, lang)]
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

    # -- cancellation and renewal policy -----------------------------------------------

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
        self._note(
            tx, "cancel", now, msisdn=subscriber.msisdn, package=code, status=decision.status
        )
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
            terms = product.package.cancellation.fee
            commitment = product.package.commitment
            if terms is not None and commitment is not None:
                inputs = {
                    **inputs,
                    "commitment_periods": commitment.periods,
                    "periods_remaining": max(commitment.periods - sub.periods_paid, 0),
                    "price": self._held_price(product, sub),
                    "fee_percent": terms.percent,
                }
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
            texts.extend(self._end_addons(tx, subscriber, sub, now))
            texts.extend(self._fall_back(tx, subscriber, sub, product, lang, now))
        self._mail(tx, product, subscriber, "cancelled", texts[0], now)
        return texts

    def _renewal_price(self, product: _Product, sub: Subscription, at: datetime) -> int:
        return self._renewal_list_price(product, sub, at).amount

    def _renewal_list_price(self, product: _Product, sub: Subscription, at: datetime) -> Charge:
        """Seed 001: a trial converts at the price shown at sign-up; the price is fixed for
        a commitment's term; otherwise a renewal pays the version in force (with notice).
        The charge's rule names which of these set the price."""
        return renewal_price(
            product.package,
            held=self._held_price(product, sub),
            in_trial=sub.status == "trial",
            periods_paid=sub.periods_paid,
            signed_up_at=sub.started_at,
            at=at,
            tz=product.catalog.zone,
        )

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
            # a plan paused by a retention offer still serves the month already paid
            serving = sub.status in _SERVING or (sub.status == "paused" and now <= sub.expires_at)
            if product is None or product.package.app != app or not serving:
                continue
            sub.usage_bytes += n_bytes
            sub.used_since_paid += n_bytes
            tx.put_subscription(sub)
            tx.add_usage(UsageRecord(subscriber.msisdn, app, n_bytes, now, sub.id, None, event_id))
            return UsageResult(True, sub.package, 0)
        rate, catalog = default_rate_per_mb, None
        for candidate in self._catalogs.values():
            if any(p.app == app for p in candidate.packages):
                catalog = candidate
                if candidate.out_of_bundle_per_mb is not None:
                    rate = candidate.out_of_bundle_per_mb
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
            zone = ZoneInfo(catalog.timezone if catalog else _DEFAULT_ZONE)
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
