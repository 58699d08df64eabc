"""An engine harness for the policy tests: the four shipped catalogs on one engine.

The meetings (8100, seed 000), creative (8200, seed 001) and streaming (8300, seed 002)
services and the Zalo packs (888, seed 004) are served by one ``Engine``, as the
gateway runs them by default. Each call runs in its own store transaction,
like the service does; the views read the store afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files

from carrier_rules import Catalog, parse_catalog
from gateway.domain.model import (
    ChargeRecord,
    Conversation,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    Subscription,
    UsageRecord,
)
from gateway.service.engine import Engine, UsageResult
from gateway.service.ports import Transaction
from tests.service.stores import StoreUnderTest
from tests.service.support import EngineHarness, counter_ids

__all__ = [
    "CATALOG_NAMES",
    "CREATIVE",
    "MEETINGS",
    "STREAMING",
    "ZALO",
    "PolicyHarness",
    "load_shipped",
    "make_policy_harness",
    "shipped_catalogs",
]

ZALO = "888"
MEETINGS = "8100"
CREATIVE = "8200"
STREAMING = "8300"

#: the shipped catalog files, ``carrier_rules/catalogs/<name>.toml``
CATALOG_NAMES = ("zalo", "meetings", "creative", "streaming")


def load_shipped(name: str, *, extra: str = "") -> Catalog:
    """The shipped catalog ``<name>.toml``; ``extra`` TOML lines go before its first
    table (a top-level key a test needs, e.g. ``out_of_bundle_per_mb = 200``)."""
    source = f"carrier_rules/catalogs/{name}.toml"
    text = (files("carrier_rules") / "catalogs" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_catalog(f"{extra}\n{text}" if extra else text, source=source)


def shipped_catalogs() -> dict[str, Catalog]:
    """The four shipped catalogs keyed by short code (888, 8100, 8200, 8300)."""
    catalogs = [load_shipped(name) for name in CATALOG_NAMES]
    return {c.shortcode: c for c in catalogs}


@dataclass
class PolicyHarness(EngineHarness):
    """``EngineHarness`` with MOs to any short code, usage events and policy views."""

    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def texts(self, shortcode: str, msisdn: str, text: str, *, at: datetime) -> list[str]:
        """Send ``text`` from ``msisdn`` to ``shortcode`` at ``at``; the reply texts."""
        message = InboundSms(
            id=f"mo{shortcode}-{next(self._message_ids):05d}",
            msisdn=msisdn,
            shortcode=shortcode,
            text=text,
        )
        result = await self.store.transaction(lambda tx: self.engine.handle_sms(tx, message, at))
        return [reply.text for reply in result.replies]

    async def due_texts(self, until: datetime) -> list[str]:
        """Run everything due up to ``until``; the texts it sent, in time order."""
        return [message.text for message in await self.run_all_due(until)]

    async def use(
        self,
        msisdn: str,
        app: str,
        n_bytes: int,
        *,
        at: datetime,
        event_id: str | None = None,
        default_rate_per_mb: int = 1000,
    ) -> UsageResult:
        """Report ``n_bytes`` used in ``app`` (as ``GatewayService.record_usage`` does)."""

        def work(tx: Transaction) -> UsageResult:
            subscriber = tx.subscribers.get(msisdn)
            assert subscriber is not None, f"no subscriber {msisdn}"
            return self.engine.record_usage(
                tx,
                subscriber,
                app=app,
                n_bytes=n_bytes,
                now=at,
                event_id=event_id,
                default_rate_per_mb=default_rate_per_mb,
            )

        return await self.store.transaction(work)

    def balance(self, msisdn: str) -> int:
        return self.subscriber(msisdn).balance

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        return self.store.view().billing.charges(msisdn)

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        return self.store.view().billing.ledger(msisdn)

    def invoice(self, msisdn: str, month: str) -> list[InvoiceLine]:
        return self.store.view().billing.invoice_lines(msisdn, month)

    def usage(self, msisdn: str) -> list[UsageRecord]:
        return self.store.view().usage.all_of(msisdn)

    def conversation(self, msisdn: str, shortcode: str) -> Conversation | None:
        return self.store.view().conversations.get(msisdn, shortcode)

    def latest(self, msisdn: str, code: str) -> Subscription:
        """The most recent subscription of ``msisdn`` to the package ``code``."""
        subs = [s for s in self.subscriptions(msisdn) if s.package == code]
        assert subs, f"{msisdn} has no subscription to {code}"
        return subs[-1]

    def states(self, msisdn: str) -> list[tuple[str, str]]:
        """(package, status) of every subscription, oldest first."""
        return [(s.package, s.status) for s in self.subscriptions(msisdn)]


def make_policy_harness(
    catalogs: Mapping[str, Catalog] | None = None, *, store: StoreUnderTest | None = None
) -> PolicyHarness:
    """An auto-provisioning engine (default balance 0) serving ``catalogs``, the four
    shipped ones unless told; tests provision their subscribers explicitly."""
    engine = Engine(
        catalogs=shipped_catalogs() if catalogs is None else catalogs,
        auto_provision=True,
        default_balance=0,
        new_id=counter_ids(),
    )
    return PolicyHarness(engine) if store is None else PolicyHarness(engine, store=store)
