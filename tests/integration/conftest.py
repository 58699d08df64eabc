"""Fixtures for the integration tests: the support desk on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.adapters.sqlite_store import SqliteStore
from gateway.service.engine import Engine
from gateway.service.tickets import TicketDesk
from tests.integration.desk_support import Codes, DeskHarness, load_support
from tests.service.support import counter_ids, load_zalo


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[DeskHarness]:
    """The shipped Zalo catalog and support policy on this test's SQLite file, with fixed
    codes (``Codes``) and ids ``m0001``, ``m0002``..."""
    store = await SqliteStore(str(tmp_path / "scgw.db")).open()
    engine = Engine(
        catalogs={"888": load_zalo()},
        auto_provision=False,
        default_balance=0,
        new_id=counter_ids("m"),
    )
    codes = Codes()
    desk = TicketDesk(engine=engine, policy=load_support(), new_code=codes)
    yield DeskHarness(store, engine, desk, codes)
    await store.close()
