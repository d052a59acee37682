"""Driving the pages in Chromium: a context that may not leave localhost, sign-in, axe-core,
screenshots, and a check that nothing on a page overlaps.

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored); look at them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from web import STATIC_URL

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_URL = f"{STATIC_URL}/vendor/axe-core/axe.min.js"
# Debian's Chromium as root in a container, quiet: no sandbox (root), no GPU, and none of
# the background traffic (updates, sync, metrics) a test must not depend on.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# What the browser logs for a 4xx/5xx answer is not a page error (tests cause those).
_EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status")


@dataclass(frozen=True)
class WebServer:
    url: str
    port: int
    max_failures: int  # GRIDCASE_SIGNIN_MAX_FAILURES of the served app


@dataclass
class Browsing:
    """One browser context (its own cookies) and page on the served app."""

    server: WebServer
    context: BrowserContext
    page: Page
    escaped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser: Browser, server: WebServer, **options: Any) -> Browsing:
        settings: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        settings.update(options)
        context = await browser.new_context(base_url=server.url, **settings)
        session = cls(server, context, await context.new_page())
        await context.route("**/*", session._only_localhost)
        context.on("console", session._on_console)
        context.on("weberror", lambda e: session.errors.append(f"page error: {e.error}"))
        return session

    async def _only_localhost(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        local = url.hostname in ("127.0.0.1", "localhost") and url.port == self.server.port
        if local or url.scheme in ("data", "blob"):
            await route.continue_()
        else:
            self.escaped.append(route.request.url)
            await route.abort()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _EXPECTED_CONSOLE.search(message.text):
            self.errors.append(f"console: {message.text}")

    async def close(self) -> None:
        await self.context.close()

    def assert_clean(self) -> None:
        assert not self.escaped, f"requests tried to leave localhost: {self.escaped}"
        assert not self.errors, f"the page logged errors: {self.errors}"

    # -- acting --------------------------------------------------------------------------
    async def goto(self, path: str) -> int:
        response = await self.page.goto(path)
        assert response is not None
        return response.status

    async def sign_in(self, user_id: str, password: str, *, path: str = "/signin") -> int:
        """Fill and send the sign-in form; the status of the page it ends on."""
        await self.goto(path)
        await self.page.get_by_label(re.compile("用户名|User id")).fill(user_id)
        await self.page.get_by_label(re.compile("密码|Password")).fill(password)
        async with self.page.expect_navigation() as navigation:
            await self.page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
        response = await navigation.value
        assert response is not None
        return response.status

    async def cookie(self, name: str) -> dict[str, Any] | None:
        for cookie in await self.context.cookies():
            if cookie.get("name") == name:
                return dict(cookie)
        return None

    # -- checking ------------------------------------------------------------------------
    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def axe(self) -> list[dict[str, Any]]:
        """axe-core (our vendored file) on the page: its serious and critical violations."""
        if not await self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            await self.page.add_script_tag(url=AXE_URL)
        result = await self.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]

    async def assert_accessible(self) -> None:
        bad = await self.axe()
        summary = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in bad
        ]
        assert not bad, f"axe-core on {self.page.url}:\n" + "\n".join(summary)

    async def overlaps(self) -> list[str]:
        """Pairs of visible text, control and image boxes that overlap, and any width wider
        than the viewport: what a person would see as a broken layout."""
        found: list[str] = await self.page.evaluate(_OVERLAP_JS)
        return found


_OVERLAP_JS = """
() => {
  const problems = [];
  const name = (el) => {
    const text = (el.textContent || el.value || el.alt || '').trim().slice(0, 30);
    return `${el.tagName.toLowerCase()} "${text}"`;
  };
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    const wide = document.documentElement.scrollWidth;
    problems.push(`page is ${wide}px wide in a ${width}px viewport`);
  }
  const selector = 'h1, h2, h3, p, label, input, button, a, img, dt, dd, legend, small, li > span';
  const boxes = [];
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (el.closest('.visually-hidden') || el.classList.contains('skip-link')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    if (r.right > width + 1) problems.push(`${name(el)} runs off the right edge`);
    boxes.push([el, r]);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 1) problems.push(`${name(a)} overlaps ${name(b)}`);
    }
  }
  return problems;
}
"""
