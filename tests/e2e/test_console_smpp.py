"""The console's live traffic shows handset changes and delivery receipts (a real
headless Chromium against the running program, an application bound with smpp34)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import smpp34
from playwright.async_api import expect

from tests.browser import ConsoleBrowser
from tests.e2e.test_console import wait_live
from tests.support import GatewayProcess


async def test_a_handset_change_and_an_expired_receipt_appear_in_the_traffic_view(
    gateway_factory: Callable[..., GatewayProcess],
    console_browser: ConsoleBrowser,
) -> None:
    """#/traffic is live. PUT the handset off: a `handset` row. A message from app9029
    with a one-hour validity, the clock moved an hour: a `dlr` row from 9029 saying
    EXPIRED (err 001), for that subscriber, at 11:00."""
    gateway = gateway_factory().start()
    page = await console_browser.open(f"{gateway.url}/#/traffic")
    await wait_live(page)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        put = await http.put("/api/handsets/0912345678", json={"state": "off"})
        assert put.status_code == 200
        await expect(
            page.locator('[data-testid="traffic-row"][data-kind="handset"]')
        ).to_have_count(1)
        app = await smpp34.Client(
            "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="TX"
        ).connect()
        sent = await app.submit_sm(
            "84912345678", b"later", source_addr="9029", validity_period="000000010000000R"
        )
        assert sent.command_status == 0
        moved = await http.post("/api/clock/advance", json={"seconds": 3600})
        assert moved.status_code == 200
    row = page.locator('[data-testid="traffic-row"][data-kind="dlr"]')
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("0912 345 678")
    await expect(row).to_contain_text("11:00:00 10/03/2026")
    await expect(row.locator("td").last).to_contain_text("9029: EXPIRED")
    await expect(row.locator("td").last).to_contain_text("001")
    await console_browser.screenshot(page, "traffic-dlr")
    await app.unbind()
