"""Fixtures shared by the end-to-end tests: Chromium watching the console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import expect

from tests.browser import ConsoleBrowser, watched_browser
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
