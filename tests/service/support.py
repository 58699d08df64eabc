"""Helpers for the service tests: the Zalo catalog, local times and an engine harness."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

from carrier_rules import Catalog, Language, SubscriberKind, parse_catalog
from gateway.adapters.clock import VirtualClock
from gateway.domain.model import InboundSms, Outgoing, Subscriber, Subscription
from gateway.service.engine import DueResult, Engine, SmsResult
from gateway.service.gateway import GatewayService
from gateway.service.ports import Transaction
from tests.service.fakes import FakePublisher, FakeStore
from tests.service.stores import StoreUnderTest

__all__ = [
    "HCM",
    "HELP_EN",
    "HELP_VI",
    "HELP_VI_DIACRITICS",
    "SHORTCODE",
    "EngineHarness",
    "counter_ids",
    "load_zalo",
    "local",
    "make_engine",
    "make_service",
    "sms",
]

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SHORTCODE = "888"


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """An instant given as Asia/Ho_Chi_Minh wall-clock time (UTC+7)."""
    return datetime(y, mo, d, h, mi, s, tzinfo=HCM)


def load_zalo() -> Catalog:
    """The shipped catalog, carrier_rules/catalogs/zalo.toml."""
    path = files("carrier_rules") / "catalogs" / "zalo.toml"
    return parse_catalog(path.read_text(encoding="utf-8"), source="zalo.toml")


def counter_ids(prefix: str = "id") -> Callable[[], str]:
    """Deterministic ids: ``id0001``, ``id0002``... (sortable, like uuid hex is not)."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers):04d}"


def make_engine(
    catalog: Catalog, *, auto_provision: bool = True, default_balance: int = 0
) -> Engine:
    return Engine(
        catalogs={catalog.shortcode: catalog},
        auto_provision=auto_provision,
        default_balance=default_balance,
        new_id=counter_ids(),
    )


_message_ids = itertools.count(1)


def sms(msisdn: str, text: str, *, id: str | None = None, client_id: bool = True) -> InboundSms:
    """An MO to 888; a fresh id unless one is given."""
    return InboundSms(
        id=id if id is not None else f"mo{next(_message_ids):05d}",
        msisdn=msisdn,
        shortcode=SHORTCODE,
        text=text,
        client_id=client_id,
    )


@dataclass
class EngineHarness:
    """Runs each engine call in its own store transaction, like the service does."""

    engine: Engine
    store: StoreUnderTest = field(default_factory=FakeStore)

    async def provision(
        self,
        msisdn: str,
        *,
        at: datetime,
        kind: SubscriberKind | None = None,
        balance: int | None = None,
        language: Language | None = None,
    ) -> tuple[Subscriber, bool]:
        return await self.store.transaction(
            lambda tx: self.engine.provision(
                tx, msisdn, kind=kind, balance=balance, language=language, now=at
            )
        )

    async def send(
        self, msisdn: str, text: str, *, at: datetime, id: str | None = None
    ) -> SmsResult:
        message = sms(msisdn, text, id=id)
        return await self.store.transaction(lambda tx: self.engine.handle_sms(tx, message, at))

    async def reply(self, msisdn: str, text: str, *, at: datetime) -> str:
        """The one reply text to an MO."""
        result = await self.send(msisdn, text, at=at)
        assert len(result.replies) == 1, result.replies
        return result.replies[0].text

    async def run_due(self, until: datetime, *, limit: int = 10_000) -> DueResult:
        return await self.store.transaction(lambda tx: self.engine.run_due(tx, until, limit))

    async def run_all_due(self, until: datetime, *, limit: int = 10_000) -> list[Outgoing]:
        """Like ``GatewayService.run_due``: chunks of ``limit`` until nothing is due."""
        out: list[Outgoing] = []
        while True:
            result = await self.run_due(until, limit=limit)
            out.extend(result.outgoing)
            if not result.processed and not result.announced:
                return out

    async def topup(self, msisdn: str, amount: int, *, at: datetime) -> list[Outgoing]:
        def work(tx: Transaction) -> list[Outgoing]:
            subscriber = tx.subscribers.get(msisdn)
            assert subscriber is not None, f"no subscriber {msisdn}"
            return self.engine.topup(tx, subscriber, amount, at)

        return await self.store.transaction(work)

    def subscriber(self, msisdn: str) -> Subscriber:
        found = self.store.view().subscribers.get(msisdn)
        assert found is not None, f"no subscriber {msisdn}"
        return found

    def subscriptions(self, msisdn: str) -> list[Subscription]:
        return self.store.view().subscriptions.all_of(msisdn)

    def only_subscription(self, msisdn: str) -> Subscription:
        subs = self.subscriptions(msisdn)
        assert len(subs) == 1, subs
        return subs[0]


def make_service(
    catalog: Catalog,
    *,
    start: datetime,
    store: FakeStore | None = None,
    publisher: FakePublisher | None = None,
    auto_provision: bool = True,
    default_balance: int = 0,
    max_batch: int = 256,
    due_chunk: int = 2000,
) -> GatewayService:
    """A service on fakes and a virtual clock at ``start``; enter it with ``async with``."""
    return GatewayService(
        engine=make_engine(catalog, auto_provision=auto_provision, default_balance=default_balance),
        store=store if store is not None else FakeStore(),
        clock=VirtualClock(start),
        publisher=publisher if publisher is not None else FakePublisher(),
        max_batch=max_batch,
        due_chunk=due_chunk,
    )


# The help reply, written out by hand from zalo.toml ``help``/``help_line`` and the prices.
HELP_VI = (
    "Dich vu Zalo cua Vinaphone: DK ZL1 (1.000d/ngay); DK ZL7 (5.000d/7 ngay);"
    " DK ZL30 (15.000d/thang). Huy goi: HUY <ten goi>. Tra cuu: KTTK_ZL. Soan tin gui 888."
)
HELP_VI_DIACRITICS = (
    "Dịch vụ Zalo của Vinaphone: DK ZL1 (1.000đ/ngày); DK ZL7 (5.000đ/7 ngày);"
    " DK ZL30 (15.000đ/tháng). Hủy gói: HUY <tên gói>. Tra cứu: KTTK_ZL. Soạn tin gửi 888."
)
HELP_EN = (
    "Vinaphone Zalo packs: DK ZL1 (1,000 VND/day); DK ZL7 (5,000 VND/7 days);"
    " DK ZL30 (15,000 VND/month). To cancel: HUY <pack>. Usage: KTTK_ZL. Text to 888."
)
