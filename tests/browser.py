"""A headless Chromium for the console's end-to-end tests: pages that report their errors."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    ViewportSize,
    async_playwright,
)

__all__ = [
    "CHROMIUM",
    "SCREENSHOTS",
    "ConsoleBrowser",
    "Problem",
    "layout_problems",
    "watched_browser",
]

#: Debian's Chromium; the tests never download a browser
CHROMIUM = "/usr/bin/chromium"
#: git-ignored, so screenshots never change the tree
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

# The console turns whatever escapes its code into an error toast and calls
# preventDefault() on `error` and `unhandledrejection`, which also hides the exception
# from Playwright's `pageerror`. So every page reports, before any of its own scripts
# run: uncaught errors and rejections (listened to first, in the capture phase), and
# every error toast it shows.
_WATCH = """
(() => {
  const report = (kind, text) => {
    try {
      Promise.resolve(window.__scgwProblem(kind, String(text))).catch(() => {});
    } catch (_) { /* the page is closing */ }
  };
  window.addEventListener("error", (event) => {
    if (event instanceof ErrorEvent) report("pageerror", event.error?.stack ?? event.message);
  }, true);
  window.addEventListener("unhandledrejection", (event) => {
    report("unhandledrejection", event.reason?.stack ?? event.reason);
  }, true);
  const seen = new WeakSet();
  const scan = (node) => {
    if (!(node instanceof Element)) return;
    const toasts = node.matches('[data-testid="toast"]')
      ? [node] : node.querySelectorAll('[data-testid="toast"]');
    for (const toast of toasts) {
      if (seen.has(toast)) continue;
      seen.add(toast);
      report("toast", toast.textContent);
    }
  };
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach(scan);
  }).observe(document, { childList: true, subtree: true });
})();
"""


# What a screen shows badly, checked in the page: it scrolls sideways; something sticks
# out past the window (outside any box that scrolls or clips it); a box scrolls sideways
# or clips its content; a text is cut off (an ellipsis, a placeholder or a select's choice
# wider than its box); a text is squeezed so narrow that its words break over lines.
# Boxes that match `allowed` (a CSS selector: say why in the test) are left out.
_LAYOUT = r"""
(allowed) => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const skip = (el) => Boolean(allowed) && Boolean(el.closest(allowed));
  const shown = (el) => el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true });
  const name = (el) => el.tagName.toLowerCase()
    + (el.dataset.testid ? `[data-testid="${el.dataset.testid}"]` : "")
    + [...el.classList].map((c) => `.${c}`).join("");
  const text = (el) => (el.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 60);
  const px = (v) => Math.round(v);

  const wide = document.documentElement.scrollWidth;
  if (wide > vw) problems.push(`the page scrolls sideways: ${wide} px wide in a ${vw} px window`);

  const elements = [...document.body.querySelectorAll("*")].filter((el) => !skip(el) && shown(el));
  const boxed = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of elements) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || boxed(el)) continue;
    if (r.right > vw + 0.5 || r.left < -0.5) {
      problems.push(`${name(el)} spans ${px(r.left)}..${px(r.right)} px of a ${vw} px window`);
    }
  }
  for (const el of elements) {
    if (el.classList.contains("sr-only") || el instanceof SVGElement) continue;
    const style = getComputedStyle(el);
    if (style.overflowX === "visible" || el.scrollWidth <= el.clientWidth + 1) continue;
    const how = style.textOverflow === "ellipsis" ? "is cut off" : style.overflowX === "hidden" || style.overflowX === "clip" ? "clips its content" : "scrolls sideways";
    problems.push(`${name(el)} ${how} (${el.scrollWidth} px in ${el.clientWidth}): "${text(el)}"`);
  }

  const measure = document.createElement("canvas").getContext("2d");
  for (const el of elements) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) continue;
    const select = el instanceof HTMLSelectElement;
    const shows = select ? el.selectedOptions[0]?.textContent ?? "" : el.value ? "" : el.placeholder;
    if (!shows) continue;
    const style = getComputedStyle(el);
    measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - (select ? 20 : 0);
    const needs = measure.measureText(shows).width;
    if (needs > room + 1) problems.push(`${name(el)} shows "${shows}" cut off (${px(needs)} px in ${px(room)})`);
  }

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const words = node.textContent.trim().split(/\s+/).filter(Boolean);
    const parent = node.parentElement;
    if (!words.length || !parent || skip(parent) || !shown(parent) || parent.closest("svg, .sr-only")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
    if (lines > words.length + 2) {
      problems.push(`${name(parent)} squeezes "${node.textContent.trim().slice(0, 40)}" onto ${lines} lines`);
    }
  }
  return problems;
}
"""


async def layout_problems(page: Page, *, allowed: str = "") -> list[str]:
    """What the page's current screen shows badly (see ``_LAYOUT``); boxes inside
    ``allowed`` (a CSS selector) are not checked."""
    problems: list[str] = await page.evaluate(_LAYOUT, allowed)
    return problems


@dataclass(frozen=True)
class Problem:
    """Something a page said went wrong: a console error, an uncaught error, an error toast."""

    kind: str
    text: str
    #: the script or resource it is about, else the page's address
    url: str
    page: Page | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text} ({self.url})"


@dataclass
class ConsoleBrowser:
    """Chromium with one fresh context (cookies, sessionStorage) per opened page.

    Every console error, uncaught error or rejection and error toast lands in
    ``problems``; the test fixture fails the test if any is left at the end. A test that
    expects one takes it out with ``accept``, which fails if nothing matched.
    """

    test_name: str
    viewport: ViewportSize = field(default_factory=lambda: ViewportSize(width=1440, height=900))
    #: the browser's language (``navigator.language``), which the console speaks until
    #: its toggle says otherwise; Vietnamese, the console's first language, unless told
    locale: str = "vi-VN"
    problems: list[Problem] = field(default_factory=list)
    _playwright: Playwright | None = None
    _browser: Browser | None = None
    _contexts: list[BrowserContext] = field(default_factory=list)

    async def __aenter__(self) -> Self:
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
        except BaseException:
            await self._playwright.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            for context in self._contexts:
                await context.close()
            if self._browser is not None:
                await self._browser.close()
        finally:
            if self._playwright is not None:
                await self._playwright.stop()

    async def new_page(self, *, locale: str | None = None) -> Page:
        """A blank page in a context of its own, watched for problems; ``locale`` sets
        the browser's language for this page only."""
        if self._browser is None:
            raise RuntimeError("use ConsoleBrowser as an async context manager")
        context = await self._browser.new_context(
            viewport=self.viewport, locale=locale or self.locale
        )
        self._contexts.append(context)

        def record(source: dict[str, Any], kind: str, text: str) -> None:
            page = source.get("page")
            url = page.url if page is not None else "?"
            self.problems.append(Problem(kind, text, url, page))

        await context.expose_binding("__scgwProblem", record)
        await context.add_init_script(_WATCH)
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                # where it was said: for a failed request, that request's URL
                where = message.location.get("url") or page.url
                self.problems.append(Problem("console", message.text, where, page))

        def on_pageerror(error: Error) -> None:
            self.problems.append(Problem("pageerror", error.stack or error.message, page.url, page))

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        return page

    async def open(self, url: str, *, locale: str | None = None) -> Page:
        """A new page at ``url``, once it has loaded."""
        page = await self.new_page(locale=locale)
        response = await page.goto(url)
        assert response is not None, f"GET {url}: no response"
        assert response.ok, f"GET {url}: {response.status} {await response.text()}"
        return page

    async def screenshot(self, page: Page, step: str) -> Path:
        """``test-artifacts/screenshots/<test>-<step>.png``, the whole page."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}-{step}")
        path = SCREENSHOTS / f"{name}.png"
        await page.screenshot(path=path, full_page=True)
        return path

    def accept(self, matches: Callable[[Problem], bool]) -> list[Problem]:
        """Take the expected problems out of ``problems``; at least one must match."""
        taken = [p for p in self.problems if matches(p)]
        assert taken, f"expected a problem, saw only {[str(p) for p in self.problems]}"
        self.problems = [p for p in self.problems if p not in taken]
        return taken


@contextlib.asynccontextmanager
async def watched_browser(
    test_name: str, *, viewport: ViewportSize | None = None, locale: str = "vi-VN"
) -> AsyncIterator[ConsoleBrowser]:
    """A ``ConsoleBrowser`` for one test; once it is closed, the test fails if any page
    logged a console error, threw, left a promise rejected, or showed an error toast that
    the test did not ``accept``."""
    browser = ConsoleBrowser(test_name=test_name, locale=locale)
    if viewport is not None:
        browser.viewport = viewport
    async with browser:
        yield browser
    if browser.problems:
        pytest.fail(
            "the console reported problems:\n" + "\n".join(f"  {p}" for p in browser.problems)
        )
