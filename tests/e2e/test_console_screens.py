"""The console on a phone, a tablet and a laptop screen, in the browser's language."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect

from tests.browser import ConsoleBrowser, layout_problems, watched_browser
from tests.support import GatewayProcess

LOCAL = "0912345678"
MSISDN = "84912345678"
#: a generous bound for each auto-waiting assertion (the machine is shared)
WAIT_MS = 15_000
PHONE = ViewportSize(width=390, height=844)
TABLET = ViewportSize(width=768, height=1024)
LAPTOP = ViewportSize(width=1280, height=800)
#: the one-line previews in the mail and ticket lists end in an ellipsis on purpose: the
#: whole message opens beside or below the list (the tour opens one of each)
PREVIEWS = ".list-row"
#: what each menu entry is called, and what shows once its view has loaded
VIEWS = ("phones", "traffic", "subscribers", "catalogs", "mail", "tickets", "charts")
NAV_LABELS = {
    "vi": ("Điện thoại", "Lưu lượng", "Thuê bao", "Danh mục gói", "Hộp thư", "Biểu đồ"),
    "en": ("Phones", "Traffic", "Subscribers", "Catalogs", "Mailbox", "Charts"),
}


def by_id(scope: Page | Locator, testid: str) -> Locator:
    return scope.get_by_test_id(testid)


async def fits(page: Page, step: str, browser: ConsoleBrowser) -> None:
    """The screen as it is now has nothing too wide, cut off or squeezed; a screenshot of
    it lands in test-artifacts/ either way."""
    await browser.screenshot(page, step)
    problems = await layout_problems(page, allowed=PREVIEWS)
    assert not problems, f"{step}:\n" + "\n".join(f"  {p}" for p in problems)


async def go(page: Page, view: str, *, menu: bool) -> None:
    """Open ``view`` the way a user would: from the menu drawer on a phone (which closes
    again), from the side navigation elsewhere."""
    link = by_id(page, f"nav-{view}")
    if menu:
        await expect(link).to_be_hidden()
        await by_id(page, "nav-toggle").click()
        await expect(link).to_be_visible()
        await link.click()
        await expect(page.locator("nav.sidenav")).to_be_hidden()
    else:
        await link.click()
    await expect(page).to_have_url(re.compile(rf"#/{view}$"))


async def loaded(page: Page, view: str) -> None:
    """Wait for what ``view`` shows with the data of ``seed``."""
    if view == "phones":
        # the first phone's thread: the registration, the renewal, the KTTK_ZL answer
        await expect(by_id(by_id(page, "phone").first, "bubble-mt").nth(2)).to_be_visible()
    elif view == "traffic":
        await expect(
            page.locator('[data-testid="traffic-row"][data-kind="mt"]').first
        ).to_be_visible()
    elif view == "subscribers":
        await by_id(page, "subscriber-search").fill("0912")
        await by_id(page, "subscriber-search-go").click()
        await expect(by_id(page, "subscriber-result")).to_have_count(1)
    elif view == "catalogs":
        await expect(by_id(page, "catalog-card").nth(3)).to_be_visible()
    elif view == "mail":
        await expect(by_id(page, "mail-row").first).to_be_visible()
        await by_id(page, "mail-row").first.click()
        await expect(page.locator(".detail-pane h2").first).to_be_visible()
    elif view == "tickets":
        await by_id(page, "ticket-row").first.click()
        await expect(page.locator(".detail-pane")).to_contain_text("Data does not work")
    elif view == "charts":
        for chart in (
            "chart-revenue-package",
            "chart-revenue-day",
            "chart-active",
            "chart-renewals",
        ):
            await expect(by_id(page, chart).locator("svg")).to_be_visible()
        await expect(by_id(page, "chart-revenue-package")).to_contain_text("ZL7")


async def tour(page: Page, browser: ConsoleBrowser, language: str, *, menu: bool) -> None:
    """Every view in turn, and one subscriber's page, each checked as it shows."""
    for view in VIEWS:
        await go(page, view, menu=menu)
        await loaded(page, view)
        await fits(page, f"{language}-{view}", browser)
        if view == "subscribers":
            await by_id(page, "subscriber-result").click()
            await expect(by_id(page, "subscriber-balance")).to_have_attribute("data-value", "40000")
            await expect(by_id(page, "subscriber-timeline")).to_contain_text("ZL7")
            await fits(page, f"{language}-subscriber", browser)


async def seed(gateway: GatewayProcess) -> None:
    """Two subscribers: 0912345678 (with an email, 50.000đ) and 0911000001 on ZL1, and a
    ticket; 0912345678 registers ZL7 from the console's phone, in the test."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        given = await http.put(
            f"/api/subscribers/{LOCAL}", json={"email": "an@example.com", "balance": 50_000}
        )
        assert given.status_code == 201, given.text
        sent = await http.post(
            "/api/sms", json={"from": "0911000001", "to": "888", "text": "DK ZL1"}
        )
        assert sent.status_code == 200, sent.text
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


async def test_every_view_fits_a_phone_screen_in_both_languages(
    request: pytest.FixtureRequest, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """At 390 x 844 every control is reachable (the views from the menu drawer, the clock
    from the header) and every view fits: no sideways scrolling, nothing cut off or
    squeezed, no console error. From the phone, 0912345678 texts DK ZL7 (50.000đ -
    5.000đ = 45.000đ); "+1 day" moves the clock to 10:00 11/03; "To…" then 17/03 10:00
    renews ZL7 on the phone (45.000đ - 5.000đ = 40.000đ). The tour runs in Vietnamese,
    the browser's language, then in English from the toggle."""
    expect.set_options(timeout=WAIT_MS)
    gateway = gateway_factory().start()
    await seed(gateway)
    name = request.node.name.removeprefix("test_")
    async with watched_browser(name, viewport=PHONE, locale="vi-VN") as browser:
        page = await browser.open(f"{gateway.url}/")
        await expect(page.locator("html")).to_have_attribute("lang", "vi")
        await expect(page.locator(".stream-state")).to_have_attribute("data-state", "live")
        await fits(page, "vi-start", browser)

        phone = by_id(page, "phone").first
        await phone.get_by_test_id("phone-msisdn").fill(LOCAL)
        await phone.get_by_test_id("phone-text").fill("DK ZL7")
        await phone.get_by_test_id("phone-send").click()
        await expect(phone.get_by_test_id("bubble-mt")).to_contain_text(
            "Dang ky thanh cong goi ZL7"
        )
        await expect(phone).to_contain_text("45.000đ")

        await by_id(page, "clock-1d").click()
        await expect(by_id(page, "clock-now")).to_contain_text("10:00:00 11/03/2026")
        await expect(by_id(page, "clock-to-input")).to_be_hidden()
        await by_id(page, "clock-to-toggle").click()
        await by_id(page, "clock-to-input").fill("2026-03-17 10:00")
        await fits(page, "vi-clock-to", browser)
        await by_id(page, "clock-to-go").click()
        await expect(by_id(page, "clock-now")).to_contain_text("10:00:00 17/03/2026")
        await expect(by_id(page, "clock-to-input")).to_be_hidden()  # folded away again
        await expect(phone.get_by_test_id("bubble-mt")).to_have_count(2)
        await expect(phone).to_contain_text("40.000đ")
        await phone.get_by_test_id("phone-text").fill("KTTK_ZL")
        await phone.get_by_test_id("phone-send").click()
        await expect(phone.get_by_test_id("bubble-mt")).to_have_count(3)

        await tour(page, browser, "vi", menu=True)

        await by_id(page, "lang-toggle").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await by_id(page, "nav-toggle").click()
        for label in NAV_LABELS["en"]:
            await expect(page.locator("nav.sidenav")).to_contain_text(label)
        await page.keyboard.press("Escape")
        await expect(page.locator("nav.sidenav")).to_be_hidden()
        await tour(page, browser, "en", menu=True)


async def test_a_tablet_and_a_laptop_screen_show_every_view_whole(
    request: pytest.FixtureRequest, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """At 1280 x 800 in English nothing is cut off: the phone's service reads "888 ·
    Vinaphone Zalo" in full beside the balance, its placeholder "Type a message, Enter
    sends" fits the field, and every view passes the same checks as on a phone. At 768 x
    1024 (a tablet, a small projector) in Vietnamese, every view fits as well."""
    expect.set_options(timeout=WAIT_MS)
    gateway = gateway_factory().start()
    await seed(gateway)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        sent = await http.post("/api/sms", json={"from": LOCAL, "to": "888", "text": "DK ZL7"})
        assert sent.status_code == 200, sent.text
        sent = await http.post("/api/sms", json={"from": LOCAL, "to": "888", "text": "KTTK_ZL"})
        assert sent.status_code == 200, sent.text
        moved = await http.post("/api/clock/advance", json={"seconds": 7 * 86_400})
        assert moved.status_code == 200, moved.text
    name = request.node.name.removeprefix("test_")
    for viewport, language in ((LAPTOP, "en"), (TABLET, "vi")):
        async with watched_browser(name, viewport=viewport, locale=language) as browser:
            page = await browser.open(f"{gateway.url}/#/phones")
            phone = by_id(page, "phone").first
            await phone.get_by_test_id("phone-msisdn").fill(LOCAL)
            await expect(phone.get_by_test_id("bubble-mt").nth(2)).to_be_visible()
            # traffic shows what happens once the page is open: a TC and its answer
            await expect(page.locator(".stream-state")).to_have_attribute("data-state", "live")
            async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
                sent = await http.post("/api/sms", json={"from": LOCAL, "to": "888", "text": "TC"})
                assert sent.status_code == 200, sent.text
            if language == "en":
                service = phone.locator(".phone-service")
                await expect(service).to_have_text("888 · Vinaphone Zalo")
                whole = "el => el.scrollWidth <= el.clientWidth"
                assert await service.evaluate(whole), "the phone's service is cut off"
                text = phone.get_by_test_id("phone-text")
                await expect(text).to_have_attribute("placeholder", "Type a message, Enter sends")
                await fits(page, "laptop-en-phones", browser)
            await tour(page, browser, f"{viewport['width']}-{language}", menu=False)


async def test_the_console_speaks_the_browsers_language(
    request: pytest.FixtureRequest, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """navigator.language vi-VN or vi opens the console in Vietnamese; en-US, en-GB and
    fr-FR in English. The default is not stored, so the console follows the browser
    until the toggle is used."""
    expect.set_options(timeout=WAIT_MS)
    gateway = gateway_factory().start()
    name = request.node.name.removeprefix("test_")
    cases = [("vi-VN", "vi"), ("vi", "vi"), ("en-US", "en"), ("en-GB", "en"), ("fr-FR", "en")]
    async with watched_browser(name) as browser:
        for locale, language in cases:
            page = await browser.open(f"{gateway.url}/", locale=locale)
            assert await page.evaluate("navigator.language") == locale
            await expect(page.locator("html")).to_have_attribute("lang", language)
            phones = "Điện thoại" if language == "vi" else "Phones"
            await expect(by_id(page, "nav-phones")).to_have_text(phones)
            stored = await page.evaluate("localStorage.getItem('scgw.console.lang')")
            assert stored is None, f"{locale}: {stored!r} stored without the toggle"
            await page.close()


async def test_the_toggle_outlasts_the_browsers_language(
    request: pytest.FixtureRequest, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """In an English browser the toggle switches to Vietnamese and the choice is kept: a
    reload still shows Vietnamese. Toggled back, English is the stored choice."""
    expect.set_options(timeout=WAIT_MS)
    gateway = gateway_factory().start()
    name = request.node.name.removeprefix("test_")
    async with watched_browser(name, locale="en-US") as browser:
        page = await browser.open(f"{gateway.url}/#/catalogs")
        await expect(by_id(page, "nav-catalogs")).to_have_text("Catalogs")
        await by_id(page, "lang-toggle").click()
        await expect(by_id(page, "nav-catalogs")).to_have_text("Danh mục gói")
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("lang", "vi")
        await expect(by_id(page, "nav-catalogs")).to_have_text("Danh mục gói")
        assert await page.evaluate("localStorage.getItem('scgw.console.lang')") == "vi"
        await by_id(page, "lang-toggle").click()
        await page.reload()
        await expect(by_id(page, "nav-catalogs")).to_have_text("Catalogs")
        assert await page.evaluate("localStorage.getItem('scgw.console.lang')") == "en"
