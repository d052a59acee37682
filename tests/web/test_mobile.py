"""The grid worker's mobile app (/m/) on a phone in Chromium: installable, opens offline,
keeps what is made offline and sends each item exactly once, also when the network fails
part-way; a refused report shows the server's reason and goes again once corrected; a
check done offline with before/after photos reaches the case with the phone's distance.

Screenshots: test-artifacts/screenshots/mobile-*.png.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from typing import Any

import httpx
from PIL import Image
from playwright.async_api import Browser, Page, Route, expect
from sqlalchemy import Engine, func, select

from domain.demo_district import generate_demo_district
from store.models import CaseRow
from store.users import UserStore
from tests.web.browser import PHONE, Browsing, WebServer
from tests.web.conftest import MakeUser, WebUser

DISTRICT = generate_demo_district(0)
GRID, OTHER = DISTRICT.grids[0], DISTRICT.grids[1]
HERE = GRID.area.centroid()  # type: ignore[union-attr]
ELSEWHERE = OTHER.area.centroid()  # type: ignore[union-attr]
REPORTS = 20
# What Chromium logs for a request made while the test has cut the network on purpose.
NETWORK_CUT = re.compile(r"net::ERR_(INTERNET_DISCONNECTED|CONNECTION_RESET|FAILED)")


def assert_clean(session: Browsing) -> None:
    session.errors[:] = [e for e in session.errors if not NETWORK_CUT.search(e)]
    session.assert_clean()


def geolocation(point: tuple[float, float]) -> dict[str, float]:
    return {"longitude": point[0], "latitude": point[1], "accuracy": 12}


async def phone(browser: Browser, server: WebServer, **options: Any) -> Browsing:
    settings: dict[str, Any] = {
        **PHONE,
        "geolocation": geolocation(HERE),
        "permissions": ["geolocation"],
    }
    settings.update(options)
    return await Browsing.open(browser, server, **settings)


async def sign_in(page: Page, user: WebUser) -> None:
    await page.goto("/m/")
    await page.get_by_label("用户名").fill(user.id)
    await page.get_by_label("密码").fill(user.password)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="上报问题")).to_be_visible()
    # The service worker controls the page before anything is cut.
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")


async def file_report(page: Page, description: str, *, gps: bool = True) -> None:
    await page.goto("/m/#report") if page.url.endswith("#outbox") else None
    await page.evaluate("location.hash = '#report'")
    if gps:
        await page.get_by_role("button", name="用 GPS 定位").click()
        await expect(page.locator("#grid-found")).not_to_be_empty()
    await page.get_by_label("问题类别（按名称或编码搜索）").fill("暴露垃圾")
    await page.locator("#category").select_option("E0101")
    await page.get_by_label("问题描述").fill(description)
    await page.get_by_role("button", name="保存并发送").click()
    await expect(page.get_by_role("heading", name="发送记录")).to_be_visible()


async def statuses(page: Page) -> list[str]:
    found: list[str] = await page.locator("#outbox-list > li").evaluate_all(
        "items => items.map(i => i.dataset.status)"
    )
    return found


def cases_of(engine: Engine, user: WebUser) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(CaseRow.case_id).where(CaseRow.reporter_id == user.id)))


async def all_sent(page: Page, n: int) -> None:
    await page.evaluate("location.hash = '#outbox'")
    await expect(page.locator("#outbox-list > li[data-status=sent]")).to_have_count(
        n, timeout=90_000
    )


async def test_twenty_reports_offline_reload_then_exactly_twenty_cases(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine
) -> None:
    worker = web_users("grid_worker", GRID.code, name="王网格")
    session = await phone(browser, web_server)
    page = session.page
    try:
        await sign_in(page, worker)
        await expect(page.locator("#grid-found")).to_be_empty()
        await session.screenshot("mobile-report-empty")
        await session.context.set_offline(True)
        for i in range(REPORTS):
            await file_report(page, f"离线上报 {i + 1}：公交站旁暴露垃圾")
        await expect(page.locator("#outbox-list > li")).to_have_count(REPORTS)
        await page.reload()  # offline: the service worker's shell, the outbox from IndexedDB
        await page.evaluate("location.hash = '#outbox'")
        await expect(page.locator("#outbox-list > li")).to_have_count(REPORTS)
        assert set(await statuses(page)) == {"waiting"}
        await expect(page.locator("#net")).to_contain_text("离线")
        await session.screenshot("mobile-outbox-offline")
        assert cases_of(web_engine, worker) == []

        await session.context.set_offline(False)
        await all_sent(page, REPORTS)
        await expect(page.locator("#outbox-list")).to_contain_text("案件编号")
        await session.screenshot("mobile-outbox-sent")
        assert len(cases_of(web_engine, worker)) == REPORTS
        assert await session.overlaps() == []
    finally:
        await session.close()
    assert_clean(session)


async def test_the_network_failing_part_way_still_makes_each_case_once(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine
) -> None:
    worker = web_users("grid_worker", GRID.code, name="李网格")
    session = await phone(browser, web_server)
    page = session.page
    try:
        await sign_in(page, worker)
        await session.context.set_offline(True)
        for i in range(REPORTS):
            await file_report(page, f"断续网络 {i + 1}")
        counter = itertools.count()
        lost: list[str] = []

        async def flaky(route: Route) -> None:
            n = next(counter)
            if n % 4 == 0:  # the server takes it, the answer is lost on the way back
                await route.fetch()
                lost.append(route.request.post_data_json["report_id"])
                await route.abort("connectionreset")
            elif n % 4 == 1 and n < 16:  # lost on the way there
                await route.abort("internetdisconnected")
            else:
                await route.continue_()

        await page.route("**/v1/reports", flaky)
        await session.context.set_offline(False)
        await page.evaluate("window.dispatchEvent(new Event('online'))")
        await all_sent(page, REPORTS)
        made = cases_of(web_engine, worker)
        assert len(made) == REPORTS and len(set(made)) == REPORTS
        assert set(lost) <= set(made) and len(lost) >= 5
        with web_engine.connect() as conn:
            reported = conn.scalar(
                select(func.count()).select_from(CaseRow).where(CaseRow.reporter_id == worker.id)
            )
        assert reported == REPORTS
    finally:
        await session.close()
    assert_clean(session)


async def test_a_refused_report_shows_why_and_goes_again_once_corrected(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine
) -> None:
    worker = web_users("grid_worker", GRID.code, name="赵网格")
    session = await phone(browser, web_server, geolocation=geolocation(ELSEWHERE))
    page = session.page
    try:
        await sign_in(page, worker)
        await page.get_by_role("button", name="用 GPS 定位").click()
        await expect(page.locator("#fix")).to_contain_text("精度约 12 米")
        await expect(page.locator("#grid-found")).to_contain_text("不在您负责的网格内")
        await file_report(page, "在别人的网格里", gps=False)
        refused = page.locator("#outbox-list > li[data-status=refused]")
        await expect(refused).to_have_count(1, timeout=30_000)
        await expect(refused).to_contain_text(f"grid {OTHER.code} is not one you patrol")
        await session.screenshot("mobile-refused")
        await refused.get_by_role("button", name="修改后重发").click()
        await expect(page.locator("#report-error")).to_contain_text("上次被退回")
        await expect(page.get_by_label("问题描述")).to_have_value("在别人的网格里")
        await session.context.set_geolocation(geolocation(HERE))
        await page.get_by_role("button", name="用 GPS 定位").click()
        await expect(page.locator("#grid-found")).to_contain_text(GRID.code)
        await page.get_by_role("button", name="保存并发送").click()
        await all_sent(page, 1)
        assert len(cases_of(web_engine, worker)) == 1
    finally:
        await session.close()
    assert_clean(session)


async def test_location_refused_the_map_of_his_grids_takes_a_tap(
    browser: Browser, web_server: WebServer, web_users: MakeUser
) -> None:
    worker = web_users("grid_worker", GRID.code, OTHER.code, name="孙网格")
    session = await phone(browser, web_server, permissions=[])
    page = session.page
    try:
        await sign_in(page, worker)
        await page.get_by_role("button", name="用 GPS 定位").click()
        await expect(page.locator("#fix")).to_contain_text("未获得定位权限")
        await expect(page.locator("#report-map path.gc-grid")).to_have_count(2)
        box = await page.locator("#report-map").bounding_box()
        assert box is not None
        await page.locator("#report-map").click(position={"x": 5, "y": 5})  # a corner: outside
        await expect(page.locator("#grid-found")).to_contain_text("不在您负责的网格内")
        path = page.locator("#report-map path.gc-grid").first
        await path.click()
        await expect(page.locator("#grid-found")).to_contain_text("所在网格")
        await page.get_by_label("问题类别（按名称或编码搜索）").fill("违法")
        await expect(page.locator("#category option")).not_to_have_count(0)
        await page.locator("#category").select_option("E0103")
        await expect(page.locator("#conditions")).to_contain_text("立案条件（违法建设）")
        await session.screenshot("mobile-report-map")
        assert await session.overlaps() == []
        await session.assert_accessible()
    finally:
        await session.close()
    assert_clean(session)


def jpeg(colour: str, size: tuple[int, int] = (3000, 2000)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def token_for(engine: Engine, user: WebUser) -> dict[str, str]:
    issued = UserStore(engine).issue_token(user.id, "test")
    return {"Authorization": f"Bearer {issued.secret}"}


async def test_a_check_done_offline_with_before_and_after_photos_reaches_the_case(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine
) -> None:
    worker = web_users("grid_worker", GRID.code, name="周网格")
    lead = web_users("shift_leader")
    disp = web_users("dispatcher")
    crew = web_users("handler", "sanitation")
    case_id = f"chk-{worker.id}"
    async with httpx.AsyncClient(base_url=web_server.url, timeout=30) as http:
        gw = token_for(web_engine, worker)
        body = {
            "report_id": case_id,
            "category": "E0101",
            "description": "垃圾堆放待清理",
            "location": {"lon": HERE[0], "lat": HERE[1]},
        }
        assert (await http.post("/v1/reports", json=body, headers=gw)).status_code == 201
        for user, step, data in (
            (lead, "file", {}),
            (disp, "dispatch", {}),
            (crew, "sign_for", {}),
            (crew, "feedback", {"result": "已清理"}),
        ):
            r = await http.post(
                f"/v1/cases/{case_id}/{step}", json=data, headers=token_for(web_engine, user)
            )
            assert r.status_code == 200, r.text

        session = await phone(browser, web_server)
        page = session.page
        try:
            await sign_in(page, worker)
            await page.get_by_role("link", name="任务").click()
            task = page.locator("#task-list > li", has_text=case_id)
            await expect(task).to_contain_text("核查")
            await session.screenshot("mobile-tasks")
            await session.context.set_offline(True)
            await task.get_by_role("button", name="现场核查").click()
            await expect(page.locator("#step-distance")).to_contain_text("距案件位置约 0 米")
            await page.get_by_label("处置前照片").set_input_files(
                files=[{"name": "before.jpg", "mimeType": "image/jpeg", "buffer": jpeg("gray")}]
            )
            await page.get_by_label("处置后照片").set_input_files(
                files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg("white")}]
            )
            await expect(page.locator("#step-thumbs li")).to_have_count(2)
            await expect(page.locator("#step-thumbs")).to_contain_text("1600×1067")
            await page.get_by_label("说明").fill("现场已清理干净")
            await session.screenshot("mobile-check-form")
            await page.get_by_role("button", name="保存并发送").click()
            await expect(page.locator("#outbox-list > li[data-status=waiting]")).to_have_count(1)
            await session.context.set_offline(False)
            await all_sent(page, 1)
        finally:
            await session.close()
        assert_clean(session)

        detail = (await http.get(f"/v1/cases/{case_id}", headers=gw)).json()
        assert detail["stage"] == "close"
        [check] = [e for e in detail["timeline"] if e["type"] == "ClosureCheckPassed"]
        photos = check["details"]["photos"]
        assert len(photos) == 2
        assert sorted(detail["photo_kinds"][p] for p in photos) == ["after", "before"]
        site = check["details"]["site"]
        assert site["accuracy_m"] == 12 and site["distance_m"] < 1 and site["far"] is False
        for photo in photos:
            image = Image.open(
                io.BytesIO((await http.get(f"/v1/photos/{photo}", headers=gw)).content)
            )
            assert image.format == "JPEG" and max(image.size) == 1600


async def test_manifest_and_service_worker_make_it_installable_and_open_offline(
    browser: Browser, web_server: WebServer, web_users: MakeUser
) -> None:
    async with httpx.AsyncClient(base_url=web_server.url) as http:
        r = await http.get("/m/manifest.webmanifest")
        assert r.headers["content-type"].startswith("application/manifest+json")
        manifest = r.json()
        assert manifest["start_url"] == "/m/" and manifest["scope"] == "/m/"
        assert manifest["display"] == "standalone" and manifest["name"] and manifest["short_name"]
        sizes = set()
        for icon in manifest["icons"]:
            image = Image.open(io.BytesIO((await http.get(icon["src"])).content))
            assert f"{image.size[0]}x{image.size[1]}" == icon["sizes"]
            sizes.add(icon["sizes"])
        assert {"192x192", "512x512"} <= sizes
        sw = await http.get("/m/sw.js")
        assert sw.headers["content-type"].startswith("text/javascript")
        shell = await http.get("/m/")
        assert 'rel="manifest"' in shell.text

    worker = web_users("grid_worker", GRID.code, name="吴网格")
    session = await phone(browser, web_server)
    page = session.page
    try:
        await sign_in(page, worker)
        scope = await page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
        assert scope == f"{web_server.url}/m/"
        await page.get_by_role("link", name="地图").click()
        await expect(page.locator("#cases-map path.gc-grid")).to_have_count(1)
        await expect(page.locator("#cases-note")).to_contain_text("在办案件")
        await session.screenshot("mobile-cases-map")
        await page.get_by_role("link", name="任务").click()
        await expect(page.locator("#tasks-note")).to_have_text("暂无任务。")
        # The service worker keeps his task list and data for when the network is gone.
        kept = await page.evaluate(
            """caches.open('gridcase-data').then(c => Promise.all(
                 ['/v1/tasks?limit=200', '/m/api/data'].map(u => c.match(u).then(r => !!r))))"""
        )
        assert kept == [True, True]
        await session.context.set_offline(True)
        await page.goto("/m/#tasks")  # a fresh load with no network
        await expect(
            page.get_by_role("heading", name="我的任务 核实与核查，近的在前")
        ).to_be_visible()
        await page.evaluate("location.hash = '#report'")
        await expect(page.locator("#report-map path.gc-grid")).to_have_count(1)
        assert json.loads(await page.evaluate("JSON.stringify(localStorage)"))
    finally:
        await session.close()
    assert_clean(session)
