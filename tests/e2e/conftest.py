"""Fixtures shared by the end-to-end tests: Chromium watching the console; the storage
engine a gateway runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from playwright.async_api import expect

from tests.browser import ConsoleBrowser, watched_browser
from tests.postgres_support import fresh_database
from tests.support import GatewayProcess

#: a generous bound for each auto-waiting assertion: the gateway and the browser share
#: the machine with other test runs
WAIT_MS = 15_000


@pytest.fixture
async def console_browser(
    request: pytest.FixtureRequest, gateway_factory: Callable[..., GatewayProcess]
) -> AsyncIterator[ConsoleBrowser]:
    """Chromium for one test; the test fails if any page logged a console error, threw,
    left a promise rejected, or showed an error toast that the test did not expect.

    It asks for ``gateway_factory`` so that it closes its pages before the gateways stop
    (a stream cut by a stopping gateway is not the console's fault)."""
    expect.set_options(timeout=WAIT_MS)
    async with watched_browser(request.node.name.removeprefix("test_")) as browser:
        yield browser


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The gateway's database: the test's SQLite file, or a fresh PostgreSQL database
    (the environment to start the gateway with)."""
    if request.param == "sqlite":
        yield {}
        return
    with fresh_database() as url:
        yield {"SCGW_DATABASE_URL": url}
