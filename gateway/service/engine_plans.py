"""Plan steps the policy engine shares: replacing, ending, falling back, the facts rules read."""

from __future__ import annotations

from datetime import datetime

from carrier_rules import CancelDecision, Holding, Language
from gateway.domain.model import Subscriber, Subscription
from gateway.service.engine_base import _NEVER, _SERVING, EngineBase, _Product
from gateway.service.ports import Transaction

__all__ = ["PlanSteps"]


class PlanSteps(EngineBase):
    """A plan replaced by another, a plan that ends (its add-ons with it, the account to
    its free tier), and a subscription's facts as the pure rules want them."""

    def _replace(self, tx: Transaction, in_group: list[Subscription], now: datetime) -> None:
        """A new plan replaces a pack whose renewal failed, and a free tier, of its group."""
        for stale in in_group:
            self._end(stale, "expired", now)
            tx.put_subscription(stale)

    def _is_free(self, sub: Subscription) -> bool:
        product = self._products.get(sub.package)
        return product is not None and product.package.price == 0

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

    def _end_addons(
        self, tx: Transaction, subscriber: Subscriber, base: Subscription, at: datetime
    ) -> list[str]:
        """An add-on is sold on top of a paid base plan (seed 000): when the base ends and
        no other paid plan of its group serves, its add-ons end with it. Returns the texts."""
        open_subs = tx.open_subscriptions(subscriber.msisdn)
        if any(
            s.group == base.group
            and s.status in _SERVING
            and not self._is_free(s)
            and s.id != base.id
            for s in open_subs
        ):
            return []
        texts = []
        for other in open_subs:
            product = self._products.get(other.package)
            if product is None or product.package.requires != base.group:
                continue
            self._end(other, "cancelled", at)
            tx.put_subscription(other)
            lang = product.replies.language(subscriber.language)
            texts.append(product.replies.render(lang, "ended", package=other.package))
        return texts

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
