"""Price change announcements (seed 001): which is due, whom it reaches, what they read.

The engine sends what this decides: at an announcement's instant, one SMS (and a mail)
to every open subscription the new price will reach; at a sign-up after it, the same
words appended to the confirmation. ``Subscription.price_notice`` remembers the last
announcement a subscription was told of, and a ``meta`` row marks an announcement done,
so a restart, a clock jump or a re-run of due work never tells anyone twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from carrier_rules import (
    Announcement,
    Catalog,
    Language,
    Package,
    SubscriberKind,
    announcements,
    first_renewal_at_version,
)
from gateway.domain.model import Subscription
from gateway.service.ports import Transaction
from gateway.service.read_models import MetaReads
from gateway.service.replies import Replies

__all__ = ["DONE_PREFIX", "Notice", "PriceNotices"]

#: ``meta`` key prefix of an announcement already sent: ``price_notice:CAPM@2026-07-01``
DONE_PREFIX = "price_notice:"
#: states whose renewals are still to come (a plan ending at term end never renews)
_RENEWING = frozenset({"trial", "active", "renewal_failed", "paused"})


class MetaReader(Protocol):
    """What finding the next announcement reads: a transaction or the read-only queries."""

    @property
    def meta(self) -> MetaReads: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """What one subscription is told: the announcement and the renewal that first pays it."""

    announcement: Announcement
    first_renewal: datetime

    @property
    def amount(self) -> int:
        return self.announcement.version.amount


class PriceNotices:
    """The announcements of every catalog, and the notice each subscription is owed."""

    def __init__(self, catalogs: Mapping[str, Catalog]) -> None:
        found: list[Announcement] = []
        self._by_package: dict[str, list[Announcement]] = {}
        for catalog in catalogs.values():
            for a in announcements(catalog.packages, catalog.zone):
                found.append(a)
                self._by_package.setdefault(a.package.code, []).append(a)
        self._pending = sorted(found, key=lambda a: (a.at, a.key))
        #: announcements read back as done from storage, to skip the read next time;
        #: never one this process marked, whose transaction might still roll back
        self._done: set[str] = set()
        self._marked: set[str] = set()

    def next_due(self, tx: MetaReader, until: datetime | None = None) -> Announcement | None:
        """The earliest announcement (at or before ``until``) not yet sent, if any."""
        for a in self._pending:
            if until is not None and a.at > until:
                return None
            if a.key in self._done:
                continue
            if tx.meta.get(DONE_PREFIX + a.key) is not None:
                if a.key not in self._marked:
                    self._done.add(a.key)
                continue
            return a
        return None

    def mark_done(self, tx: Transaction, announcement: Announcement, at: datetime) -> None:
        self._marked.add(announcement.key)
        tx.meta.set(DONE_PREFIX + announcement.key, at.isoformat())

    @staticmethod
    def owed(
        announcement: Announcement,
        sub: Subscription,
        kind: SubscriberKind,
        catalog: Catalog,
        held: int,
    ) -> Notice | None:
        """The notice ``sub`` is owed for ``announcement``: None if it was told already,
        will not renew, or no renewal of it will pay the new price."""
        if sub.price_notice == announcement.key or sub.status not in _RENEWING:
            return None
        if sub.next_action_at is None or sub.package != announcement.package.code:
            return None
        tz = catalog.zone
        first = first_renewal_at_version(
            announcement.package,
            announcement.version,
            kind,
            tz,
            held=held,
            in_trial=sub.status == "trial",
            periods_paid=sub.periods_paid,
            signed_up_at=sub.started_at,
            next_renewal=sub.next_action_at,
            billing_day=None if sub.first_paid_at is None else sub.first_paid_at.astimezone(tz).day,
        )
        return None if first is None else Notice(announcement, first)

    def at_sign_up(
        self,
        package: Package,
        sub: Subscription,
        kind: SubscriberKind,
        catalog: Catalog,
        held: int,
        now: datetime,
    ) -> Notice | None:
        """A sign-up after an announcement is told at once: the earliest new price that
        will reach it, among the versions already announced."""
        owed = [
            n
            for a in self._by_package.get(package.code, [])
            if a.at <= now and (n := self.owed(a, sub, kind, catalog, held)) is not None
        ]
        return min(owed, key=lambda n: n.first_renewal, default=None)

    @staticmethod
    def text(replies: Replies, lang: Language, notice: Notice, current: int) -> str:
        package = notice.announcement.package
        return replies.render(
            lang,
            "price_notice",
            package=package.code,
            price=replies.money(lang, notice.amount),
            current=replies.money(lang, current),
            period=package.period[lang],
            at=replies.when(notice.first_renewal),
        )
