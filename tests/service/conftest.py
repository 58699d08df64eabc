"""Fixtures of the service tests: the shipped Zalo catalog and an engine on a FakeStore."""

from __future__ import annotations

import pytest

from carrier_rules import Catalog
from tests.service.support import EngineHarness, load_zalo, make_engine


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_zalo()


@pytest.fixture
def harness(catalog: Catalog) -> EngineHarness:
    """Auto-provisioning engine whose default balance is 0 (tests provision explicitly)."""
    return EngineHarness(make_engine(catalog, auto_provision=True, default_balance=0))
