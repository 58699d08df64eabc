"""The terms of a paid renewal, worked out once for every renewal of a burst that shares them.

A renewal's list price (seed 001), its charge (proration, seed 004), its next period and
its confirmation text depend on a few facts of the plan, the subscriber and the instant,
not on who the subscriber is. A burst of due renewals (a chunk: 2,000 postpaid packs due
at 00:00 on the 1st) repeats the same few sets of facts, so each set is worked out once,
by the same rules, and the rest of the burst reuses the result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from carrier_rules import Charge, Language, Period, period_charge, period_from
from gateway.domain.model import Subscriber, Subscription
from gateway.service import billing, plans
from gateway.service.catalogue import Product

__all__ = ["RenewalTerms", "Terms"]


@dataclass(frozen=True, slots=True)
class Terms:
    """What a paid renewal at one instant costs and starts."""

    #: what the facts are (a renewal with the same key gets the same terms)
    key: Hashable
    #: the list price and the rule that set it (``plans.renewal_list_price``)
    list_price: Charge
    #: what the period costs (``period_charge``: the list price, prorated)
    charge: Charge
    #: the period it starts (``period_from``, on the subscription's billing day)
    period: Period


class RenewalTerms:
    """Terms and confirmation texts by the facts they depend on, for one transaction.

    The key holds every fact the rules read: the plan (its code names its catalog, price
    versions, commitment, proration and validity), the subscriber's kind, whether a trial
    converts, the price held, the periods paid (read only within a commitment), the
    sign-up instant (read only to pick a price version), the billing day (monthly
    periods keep it) and the instant.
    """

    __slots__ = ("_terms", "_texts")

    def __init__(self) -> None:
        self._terms: dict[Hashable, Terms] = {}
        self._texts: dict[tuple[Hashable, Language], str] = {}

    def of(
        self, product: Product, subscriber: Subscriber, sub: Subscription, at: datetime
    ) -> Terms:
        """The terms of renewing ``sub`` (on ``product``) at ``at``."""
        package, zone = product.package, product.catalog.zone
        key = (
            package.code,
            subscriber.kind,
            sub.status == "trial",
            product.held_price(sub),
            sub.periods_paid if package.commitment is not None else None,
            sub.started_at if package.price_versions else None,
            billing.billing_day(sub, zone),
            at,
        )
        terms = self._terms.get(key)
        if terms is None:
            list_price = plans.renewal_list_price(product, sub, at)
            charge = period_charge(package, subscriber.kind, at, zone, price=list_price.amount)
            rule = package.validity.for_kind(subscriber.kind)
            period = period_from(rule, at, zone, billing.billing_day(sub, zone))
            terms = self._terms[key] = Terms(key, list_price, charge, period)
        return terms

    def text(self, terms: Terms, lang: Language, render: Callable[[], str]) -> str:
        """The confirmation of a renewal on ``terms`` in ``lang``: ``render()`` once, then
        the same text (it reads the plan, the charge, the period and the language only)."""
        text = self._texts.get((terms.key, lang))
        if text is None:
            text = self._texts[(terms.key, lang)] = render()
        return text
