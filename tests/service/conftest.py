"""Fixtures of the service tests: the shipped Zalo catalog, a store of each engine, and an
engine harness on it.

``service_store`` is parametrised: every test that takes it (through ``harness`` or a
policy harness) runs on the in-memory fake and on a SQLite file, and, in the modules
that set ``ON_POSTGRES = True`` (the money and time stories: prepaid charges and the
ledger, postpaid invoices, renewals in order, price notices across a restart), on a
PostgreSQL database of its own too. A copy of a database costs more than the rest of
such a test (``tests/postgres_support``), so the other modules (reply texts, mail,
catalog policy, usage) stay on the fake and SQLite; the storage contract suite covers
their repositories on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from carrier_rules import Catalog
from tests.service.stores import STORE_ENGINES, StoreUnderTest, open_store
from tests.service.support import EngineHarness, load_zalo, make_engine


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_zalo()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "service_store" in metafunc.fixturenames:
        on_postgres = getattr(metafunc.module, "ON_POSTGRES", False)
        engines = [e for e in STORE_ENGINES if on_postgres or e != "postgres"]
        metafunc.parametrize("service_store", engines, indirect=True)


@pytest.fixture
async def service_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreUnderTest]:
    engine: str = request.param
    async with open_store(engine, tmp_path) as store:
        yield store


@pytest.fixture
def harness(catalog: Catalog, service_store: StoreUnderTest) -> EngineHarness:
    """Auto-provisioning engine whose default balance is 0 (tests provision explicitly)."""
    return EngineHarness(
        make_engine(catalog, auto_provision=True, default_balance=0), store=service_store
    )
