"""The console's recorder in a real headless Chromium: Record, text and move the clock on
#/phones, Save; the downloaded file replays green with ``scgw scenario run``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect

from tests.browser import ConsoleBrowser, layout_problems, watched_browser
from tests.support import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]
PHONE = ViewportSize(width=390, height=844)


def by_id(scope: Page | Locator, testid: str) -> Locator:
    return scope.get_by_test_id(testid)


async def send(phone: Locator, text: str) -> None:
    await by_id(phone, "phone-text").fill(text)
    await by_id(phone, "phone-send").click()


def replay(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "scenario", "run", str(path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip


async def test_a_recorded_console_demo_downloads_and_replays_green(
    gateway_factory: Callable[..., GatewayProcess],
    console_browser: ConsoleBrowser,
    tmp_path: Path,
) -> None:
    """Record at 10:00 on 10/03/2026; 0912345678 (new: 50.000d) texts DK ZL7 (45.000d),
    0911000001 texts KTTK_ZL; +1 week renews ZL7 (40.000d); Save. The file has both
    numbers at 50.000d, the two sends with their replies, the clock to 17/03 10:00 and
    the balances 40.000d and 50.000d; it replays green, and with 40.000d edited to
    41.000d it fails. After Stop the button says Record again."""
    gateway = gateway_factory().start()
    page = await console_browser.open(f"{gateway.url}/#/phones")
    await expect(by_id(page, "clock-now")).to_contain_text("10/03/2026")
    await by_id(page, "record-start").click()
    await expect(by_id(page, "record-since")).to_contain_text("10:00")
    await console_browser.screenshot(page, "recording")

    first, second = by_id(page, "phone").nth(0), by_id(page, "phone").nth(1)
    await by_id(first, "phone-msisdn").fill("0912345678")
    await send(first, "DK ZL7")
    await expect(by_id(first, "bubble-mt")).to_contain_text("Dang ky thanh cong goi ZL7")
    await by_id(second, "phone-msisdn").fill("0911000001")
    await send(second, "KTTK_ZL")
    await expect(by_id(second, "bubble-mt")).to_have_count(1)
    await by_id(page, "clock-1w").click()
    await expect(by_id(page, "clock-now")).to_contain_text("17/03/2026")
    await expect(by_id(first, "bubble-mt").filter(has_text="da duoc gia han")).to_have_count(1)

    async with page.expect_download() as downloading:
        await by_id(page, "record-save").click()
    download = await downloading.value
    assert download.suggested_filename == "recording-20260310T100000.toml"
    recorded = tmp_path / download.suggested_filename
    await download.save_as(recorded)

    data = tomllib.loads(recorded.read_text(encoding="utf-8"))
    assert [(s["msisdn"], s["balance"]) for s in data["subscribers"]] == [
        ("84911000001", 50_000),
        ("84912345678", 50_000),
    ]
    sends = [s["send"]["text"] for s in data["steps"] if "send" in s]
    assert sends == ["DK ZL7", "KTTK_ZL"]
    assert {"advance_to": "2026-03-17T10:00:00+07:00"} in data["steps"]
    assert data["steps"][-1]["expect_balance"] == [
        {"msisdn": "84911000001", "equals": 50_000},
        {"msisdn": "84912345678", "equals": 40_000},
    ]
    green = replay(recorded)
    assert green.returncode == 0, green.stdout + green.stderr

    edited = tmp_path / "edited.toml"
    edited.write_text(
        recorded.read_text(encoding="utf-8").replace("equals = 40000", "equals = 41000"),
        encoding="utf-8",
    )
    red = replay(edited)
    assert red.returncode == 1
    assert re.search(r"expect_balance 84912345678: expected 41000, saw 40000", red.stdout)

    await by_id(page, "record-stop").click()
    await expect(by_id(page, "record-start")).to_be_visible()


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
async def test_the_recorder_fits_a_phone_screen(
    gateway_factory: Callable[..., GatewayProcess], locale: str
) -> None:
    """390 px wide, in both languages: Record, then "Recording since 10:00 ..." with Save
    and Stop, nothing too wide, cut off or squeezed."""
    gateway = gateway_factory().start()
    name = f"recorder-phone-{locale}"
    async with watched_browser(name, viewport=PHONE, locale=locale) as browser:
        page = await browser.open(f"{gateway.url}/#/phones")
        await expect(by_id(page, "record-start")).to_be_visible()
        for step in ("idle", "recording"):
            if step == "recording":
                await by_id(page, "record-start").click()
                await expect(by_id(page, "record-save")).to_be_visible()
                await expect(by_id(page, "notice")).to_have_count(0)  # the notice has faded
            await browser.screenshot(page, step)
            problems = await layout_problems(page)
            assert not problems, f"{step}:\n" + "\n".join(f"  {p}" for p in problems)
