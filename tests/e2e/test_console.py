"""The operator console in a real headless Chromium, against the running program."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.async_api import Locator, Page, expect

from tests.browser import ConsoleBrowser
from tests.support import GatewayProcess

MSISDN = "84912345678"
LOCAL = "0912345678"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "console.png"


def by_id(scope: Page | Locator, testid: str) -> Locator:
    return scope.get_by_test_id(testid)


async def send(phone: Locator, text: str) -> None:
    """Type ``text`` in a phone and press its send button."""
    await by_id(phone, "phone-text").fill(text)
    await by_id(phone, "phone-send").click()


async def wait_live(page: Page) -> None:
    """The shared event stream is connected (the header's indicator says so), so events
    caused from now on reach the page."""
    await expect(page.locator(".stream-state")).to_have_attribute("data-state", "live")


async def test_a_phone_texts_a_short_code_and_shows_the_reply(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """#/phones: the first phone, 0912345678, texts DK ZL7 to 888; its thread shows the MO
    and one reply (the registration: ZL7, 5.000d) whose meta says GSM7, 1 SMS."""
    gateway = gateway_factory().start()
    page = await console_browser.open(f"{gateway.url}/")
    await expect(page).to_have_url(re.compile(r"#/phones$"))
    phone = by_id(page, "phone").first
    await by_id(phone, "phone-msisdn").fill(LOCAL)
    await expect(by_id(phone, "phone-shortcode")).to_have_value("888")
    await send(phone, "DK ZL7")

    mo = by_id(phone, "bubble-mo")
    await expect(mo).to_have_count(1)
    await expect(mo).to_contain_text("DK ZL7")
    mt = by_id(phone, "bubble-mt")
    await expect(mt).to_have_count(1)
    await expect(mt).to_contain_text("Dang ky thanh cong goi ZL7")
    await expect(mt).to_contain_text("5.000d")
    meta = by_id(mt, "bubble-meta")
    await expect(meta).to_contain_text("GSM7")
    await expect(meta).to_contain_text(re.compile(r"\b1 SMS\b"))
    await console_browser.screenshot(page, "phones")

    # the MO and the reply also come on the live stream (the traffic view shows them, so
    # the page has them): each is still shown once
    await by_id(page, "nav-traffic").click()
    await expect(page.locator('[data-testid="traffic-row"][data-kind="mt"]')).to_have_count(1)
    await expect(page.locator('[data-testid="traffic-row"][data-kind="mo"]')).to_have_count(1)
    await by_id(page, "nav-phones").click()
    phone = by_id(page, "phone").first
    await expect(by_id(phone, "bubble-mt")).to_have_count(1)
    await expect(by_id(phone, "bubble-mo")).to_have_count(1)


async def test_a_week_on_the_clock_renews_live_and_the_balance_follows(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """After DK ZL7 (10:00 10/03, balance 50.000đ - 5.000đ), the subscriber page shows
    45.000đ; on #/traffic the header's "1 week" button moves the clock to 10:00 17/03, and
    the ZL7 renewal and its charge arrive live; the subscriber page then shows 40.000đ."""
    gateway = gateway_factory().start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        sent = await http.post("/api/sms", json={"from": LOCAL, "to": "888", "text": "DK ZL7"})
    assert sent.status_code == 200, sent.text

    page = await console_browser.open(f"{gateway.url}/#/subscribers/{MSISDN}")
    balance = by_id(page, "subscriber-balance")
    await expect(balance).to_contain_text("45.000đ")
    await expect(by_id(page, "subscriber-packs")).to_contain_text("ZL7")
    await console_browser.screenshot(page, "subscriber-before")

    await by_id(page, "nav-traffic").click()
    await expect(page).to_have_url(re.compile(r"#/traffic$"))
    await expect(by_id(page, "traffic-list")).to_be_attached()
    await wait_live(page)
    await expect(by_id(page, "clock-now")).to_contain_text("10/03/2026")
    await by_id(page, "clock-1w").click()
    # the day only: the time of day is the subject of the clock test below
    await expect(by_id(page, "clock-now")).to_contain_text("17/03/2026")
    renewal = page.locator('[data-testid="traffic-row"][data-kind="renewal"]')
    await expect(renewal).to_have_count(1)
    await expect(renewal).to_contain_text("ZL7")
    charge = page.locator('[data-testid="traffic-row"][data-kind="charge"]')
    await expect(charge).to_have_count(1)
    await expect(charge).to_contain_text("5.000đ")
    await expect(page.locator('[data-testid="traffic-row"][data-kind="mt"]')).to_have_count(1)
    await console_browser.screenshot(page, "traffic")

    await page.goto(f"{gateway.url}/#/subscribers/{MSISDN}")
    await expect(balance).to_contain_text("40.000đ")
    await expect(balance).to_have_attribute("data-value", "40000")
    await expect(by_id(page, "subscriber-charges")).to_contain_text("ZL7")
    await expect(by_id(page, "subscriber-timeline")).to_contain_text("ZL7")
    await console_browser.screenshot(page, "subscriber-after")


async def test_every_view_renders_without_errors_in_both_languages(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """With a few events behind it (a subscriber with an email texts DK ZL7 from a phone,
    another DK ZL1, a week passes, a ticket is opened), each view in turn shows them:
    phones, traffic (rows and counters), subscribers (search), catalogs (a card per
    catalog), mail, tickets, charts (all four, with data); then the language switches to
    English. No view logs an error."""
    gateway = gateway_factory().start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        provisioned = await http.put(
            f"/api/subscribers/{LOCAL}", json={"email": "an@example.com", "balance": 50_000}
        )
        assert provisioned.status_code == 201, provisioned.text

        page = await console_browser.open(f"{gateway.url}/")
        await wait_live(page)
        first, second = by_id(page, "phone").nth(0), by_id(page, "phone").nth(1)
        await by_id(first, "phone-msisdn").fill(LOCAL)
        await send(first, "DK ZL7")
        await expect(by_id(first, "bubble-mt")).to_contain_text("ZL7")
        await by_id(second, "phone-msisdn").fill("0911000001")
        await send(second, "DK ZL1")
        await expect(by_id(second, "bubble-mt")).to_contain_text("ZL1")
        await by_id(page, "clock-1w").click()
        await expect(by_id(page, "clock-now")).to_contain_text("17/03/2026")
        # the renewal's MT reaches the first phone through the live stream, and each
        # phone's balance follows: 50,000 - 2 x 5,000; 50,000 - 8 x 1,000
        await expect(by_id(first, "bubble-mt")).to_have_count(2)
        await expect(first).to_contain_text("40.000đ")
        await expect(second).to_contain_text("42.000đ")
        opened = await http.post(
            "/api/tickets",
            json={
                "msisdn": LOCAL,
                "category": "Technical support",
                "title": "Data does not work",
                "content": "Zalo says there is no connection.",
            },
        )
        assert opened.status_code == 201, opened.text
    await console_browser.screenshot(page, "phones")

    await by_id(page, "nav-traffic").click()
    await expect(page.locator('[data-testid="traffic-row"][data-kind="renewal"]')).to_have_count(8)
    await expect(by_id(page, "counter-mo")).to_have_attribute("data-value", "2")
    await expect(by_id(page, "counter-errors")).to_have_attribute("data-value", "0")
    for counter in ("counter-mt", "counter-rate"):
        await expect(by_id(page, counter)).to_be_visible()
    await console_browser.screenshot(page, "traffic")

    await by_id(page, "nav-subscribers").click()
    await by_id(page, "subscriber-search").fill("0912")
    await by_id(page, "subscriber-search-go").click()
    result = by_id(page, "subscriber-result")
    await expect(result).to_have_count(1)
    await expect(result).to_have_attribute("data-msisdn", MSISDN)
    await console_browser.screenshot(page, "subscribers")

    await by_id(page, "nav-catalogs").click()
    cards = by_id(page, "catalog-card")
    await expect(cards.nth(3)).to_be_visible()
    assert await cards.count() >= 4
    await console_browser.screenshot(page, "catalogs")

    await by_id(page, "nav-mail").click()
    await expect(by_id(page, "mail-list")).to_be_visible()
    await expect(by_id(page, "mail-row").first).to_be_visible()
    await console_browser.screenshot(page, "mail")

    await by_id(page, "nav-tickets").click()
    await expect(by_id(page, "ticket-row")).to_have_count(1)
    await expect(by_id(page, "ticket-list")).to_contain_text("Data does not work")
    await console_browser.screenshot(page, "tickets")

    await by_id(page, "nav-charts").click()
    charts = {
        # revenue by plan: a bar per plan, labelled with its code
        "chart-revenue-package": ["ZL7", "ZL1"],
        # by day (short dates): registrations on 10/03, the last renewals on 17/03
        "chart-revenue-day": ["10/03", "17/03"],
        "chart-active": ["17/03"],
        "chart-renewals": ["17/03"],
    }
    for testid, labels in charts.items():
        chart = by_id(page, testid)
        await expect(chart).to_be_visible()
        await expect(chart.locator("svg")).to_be_visible()
        for label in labels:
            await expect(chart).to_contain_text(label)
    await console_browser.screenshot(page, "charts")

    await expect(by_id(page, "nav-charts")).to_contain_text("Biểu đồ")
    await by_id(page, "lang-toggle").click()
    await expect(by_id(page, "nav-charts")).to_contain_text("Charts")
    await expect(by_id(page, "chart-revenue-package")).to_contain_text("Revenue by plan")
    await console_browser.screenshot(page, "charts-en")
    await page.goto(f"{gateway.url}/#/subscribers/{MSISDN}")
    await expect(by_id(page, "subscriber-balance")).to_contain_text("40,000 VND")
    await console_browser.screenshot(page, "subscriber-en")

    # the phones keep their conversations across views and languages
    await by_id(page, "nav-phones").click()
    await expect(by_id(page, "phone").first).to_contain_text("40,000 VND")
    await expect(by_id(by_id(page, "phone").first, "bubble-mt")).to_have_count(2)
    await expect(by_id(page, "notice")).to_have_count(0)  # "clock advanced" has faded
    phones_en = await console_browser.screenshot(page, "phones-en")

    if os.environ.get("SCGW_UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(phones_en, DOCS_SCREENSHOT)


async def test_a_double_opt_in_conversation_in_the_phone(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """Short code 8300 asks before it charges: DK PSTD is answered with the price and
    "tra loi Y"; Y registers PSTD (220.000d, from a balance of 300,000). The thread shows
    the four bubbles in order: MO, MT, MO, MT."""
    gateway = gateway_factory().start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        given = await http.put(f"/api/subscribers/{LOCAL}", json={"balance": 300_000})
        assert given.status_code == 201, given.text

        page = await console_browser.open(f"{gateway.url}/#/phones")
        phone = by_id(page, "phone").first
        await by_id(phone, "phone-msisdn").fill(LOCAL)
        await by_id(phone, "phone-shortcode").select_option("8300")
        await send(phone, "DK PSTD")
        await expect(by_id(phone, "bubble-mt")).to_have_count(1)
        await expect(by_id(phone, "bubble-mt")).to_contain_text("tra loi Y gui 8300")
        await send(phone, "Y")
        await expect(by_id(phone, "bubble-mt")).to_have_count(2)
        await expect(by_id(phone, "bubble-mt").nth(1)).to_contain_text(
            "Dang ky thanh cong goi PSTD"
        )
        bubbles = phone.locator('[data-testid="bubble-mo"], [data-testid="bubble-mt"]')
        await expect(bubbles).to_have_count(4)
        kinds = [await bubbles.nth(i).get_attribute("data-testid") for i in range(4)]
        assert kinds == ["bubble-mo", "bubble-mt", "bubble-mo", "bubble-mt"]
        await expect(bubbles.nth(0)).to_contain_text("DK PSTD")
        await expect(bubbles.nth(1)).to_contain_text("220.000d/thang")
        await expect(bubbles.nth(2).locator(".bubble-text")).to_have_text("Y")
        await expect(by_id(bubbles.nth(3), "bubble-meta")).to_contain_text("2 SMS")
        await expect(phone).to_contain_text("80.000đ")  # 300,000 - 220,000
        await console_browser.screenshot(page, "conversation")
        subscriber = (await http.get(f"/api/subscribers/{MSISDN}")).json()
    assert subscriber["balance"] == 80_000


async def test_off_loopback_the_console_carries_its_token(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """SCGW_HTTP_HOST=0.0.0.0 with SCGW_API_TOKEN: the console opened at /?token=... loads,
    drops the token from the address bar, streams, and a phone's DK ZL7 is answered. Opened
    without the token, the page itself is a 401 (the gateway guards every path but
    /api/health), and no script runs to fail."""
    token = "s3cret-t0ken-0123456"  # noqa: S105 - a test token (16+ characters)
    gateway = gateway_factory(SCGW_HTTP_HOST="0.0.0.0", SCGW_API_TOKEN=token).start()

    page = await console_browser.open(f"{gateway.url}/?token={token}")
    await expect(page).to_have_url(re.compile(r"^[^?]*#/phones$"))
    await wait_live(page)
    phone = by_id(page, "phone").first
    await by_id(phone, "phone-msisdn").fill(LOCAL)
    await send(phone, "DK ZL7")
    await expect(by_id(phone, "bubble-mt")).to_contain_text("Dang ky thanh cong goi ZL7")
    await by_id(page, "nav-catalogs").click()
    await expect(by_id(page, "catalog-card").first).to_be_visible()
    await console_browser.screenshot(page, "with-token")

    stranger = await console_browser.new_page()
    response = await stranger.goto(f"{gateway.url}/")
    assert response is not None
    assert response.status == 401
    await expect(stranger.locator("body")).to_contain_text("a token is required")
    await console_browser.screenshot(stranger, "without-token")

    # Chromium logs the refused document, and the favicon it then asks for, as "Failed
    # to load resource: ... 401": the answer this test expects, and the only problems
    # of that page (the tokened page must have none)
    refused = console_browser.accept(
        lambda p: p.page is stranger and p.kind == "console" and "status of 401" in p.text
    )
    assert {p.url for p in refused} <= {f"{gateway.url}/", f"{gateway.url}/favicon.ico"}


async def test_a_clock_moved_elsewhere_shows_in_the_gateways_time(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """Another client (a script, the CLI) moves the clock a week: the header follows live
    and, like the clock row in #/traffic, shows the gateway's time, 10:00 17/03/2026."""
    gateway = gateway_factory().start()
    page = await console_browser.open(f"{gateway.url}/#/traffic")
    await wait_live(page)
    await expect(by_id(page, "clock-now")).to_contain_text("10:00:00 10/03/2026")
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        moved = await http.post("/api/clock/advance", json={"seconds": 7 * 86_400})
    assert moved.json()["now"] == "2026-03-17T10:00:00+07:00"
    row = page.locator('[data-testid="traffic-row"][data-kind="clock"]')
    await expect(row).to_have_count(1)
    await console_browser.screenshot(page, "traffic")
    # both are drawn from the same event: no need to wait long (the header polls the
    # clock every 10 s, which would hide the fault)
    summary = row.locator("td").last  # "Đồng hồ tới <time>"; the first cell is `at`
    await expect(summary).to_contain_text("10:00 17/03/2026", timeout=2_000)
    await expect(by_id(page, "clock-now")).to_contain_text("10:00:00 17/03/2026", timeout=2_000)


async def test_the_balance_is_never_cut_off(
    gateway_factory: Callable[..., GatewayProcess], console_browser: ConsoleBrowser
) -> None:
    """The subscriber page shows the whole balance, however long: 12.500.000đ in
    Vietnamese, 12,500,000 VND in English, on a 1440x900 screen."""
    gateway = gateway_factory().start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        given = await http.put(f"/api/subscribers/{LOCAL}", json={"balance": 12_500_000})
    assert given.status_code == 201, given.text
    page = await console_browser.open(f"{gateway.url}/#/subscribers/{MSISDN}")
    balance = by_id(page, "subscriber-balance")
    fits = "el => [el, ...el.querySelectorAll('*')].every(e => e.scrollWidth <= e.clientWidth)"
    for shown, language in (("12.500.000đ", "vi"), ("12,500,000 VND", "en")):
        if language == "en":
            await by_id(page, "lang-toggle").click()
        await expect(balance).to_contain_text(shown)
        await console_browser.screenshot(page, language)
        assert await balance.evaluate(fits), f"{shown} is cut off ({language})"
