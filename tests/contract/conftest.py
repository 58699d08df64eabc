"""Every contract test runs once per storage engine (``engines.ENGINES``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.service.ports import Store
from tests.contract.engines import ENGINES, Engine


@pytest.fixture(params=ENGINES, ids=lambda engine: engine.name)
def engine(request: pytest.FixtureRequest) -> Engine:
    chosen: Engine = request.param
    return chosen


@pytest.fixture
async def store(engine: Engine, tmp_path: Path) -> AsyncIterator[Store]:
    async with engine.open(tmp_path) as opened:
        yield opened
