"""What the console's browser tests share: a case reported through the HTTP API as a grid
worker (the mobile app does not exist yet), a photo to upload, signing in in a context of
one's own."""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from dataclasses import dataclass

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy import Engine

from domain.demo_district import generate_demo_district
from store.users import UserStore
from tests.web.browser import Browsing, WebServer
from tests.web.conftest import WebUser

DISTRICT = generate_demo_district(0)
LIVE_TIMEOUT = 30_000  # ms: a change reaches a page through NOTIFY, SSE and a re-fetch


def grid_point(index: int) -> tuple[str, float, float]:
    grid = DISTRICT.grids[index]
    assert grid.area is not None
    lon, lat = grid.area.centroid()
    return grid.code, lon, lat


def png(width: int = 400, height: int = 300) -> bytes:
    """A real PNG of noise (so it does not compress: about 360 KB, more than any form
    without photos may send), made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + os.urandom(3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Reported:
    case_id: str
    grid: str


async def report_as(
    server: WebServer, engine: Engine, worker: WebUser, grid_index: int, description: str
) -> Reported:
    """A grid worker's report through the API (bearer token), as his phone will send it."""
    token = UserStore(engine).issue_token(worker.id, "test").secret
    grid, lon, lat = grid_point(grid_index)
    case_id = f"web-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            "/v1/reports",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "report_id": case_id,
                "category": "E0101",
                "description": description,
                "location": {"lon": lon, "lat": lat, "address": "文化路 1 号"},
            },
        )
    assert r.status_code == 201, r.text
    return Reported(case_id, grid)


async def api_step(
    server: WebServer,
    engine: Engine,
    user: WebUser,
    case_id: str,
    step: str,
    body: dict[str, object],
) -> None:
    """A step through the HTTP API, as the user (setting a case up for a page)."""
    token = UserStore(engine).issue_token(user.id, "test").secret
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            f"/v1/cases/{case_id}/{step}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 200, r.text


async def signed_in(
    browser: Browser, server: WebServer, user: WebUser, **options: object
) -> Browsing:
    session = await Browsing.open(browser, server, **options)
    assert await session.sign_in(user.id, user.password) == 200
    return session


async def take_step(page: Page, form: str, button: str) -> None:
    """Send a step's form and wait for the page it leads to (the notice says done)."""
    async with page.expect_navigation():
        await page.locator(form).get_by_role("button", name=button).click()
    await expect(page.get_by_role("status").filter(has_text="已完成")).to_be_visible()
