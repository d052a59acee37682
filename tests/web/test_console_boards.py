"""The boards in Chromium: the overdue board and the big screen change by themselves when
a deadline passes (a center policy with deadlines of seconds, GRIDCASE_POLICY); the CSV of
the board downloads; the map has the district's 108 grids and one marker per open case;
the evaluation pages show their figures, formulas and cases; the requests page. axe-core
and a screenshot on each."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine, func, select
from temporalio.client import Client

from application.cases import CaseService, NewReport
from application.config import Settings
from application.intake import IntakeSource
from application.temporal import TemporalGateway
from domain.events import Location
from store.models import CaseRow
from store.users import Principal, UserStore
from tests.web.browser import Browsing, WebServer
from tests.web.conftest import MakeUser
from tests.web.console_helpers import (
    LIVE_TIMEOUT,
    api_step,
    grid_point,
    report_as,
    signed_in,
)

pytestmark = pytest.mark.browser

SCREEN = {"viewport": {"width": 1920, "height": 1080}}


async def report_with_policy(
    engine: Engine, client: Client, policy: Path, worker_id: str, grid_index: int
) -> str:
    """A report whose rules come from the policy file, as an API started with
    GRIDCASE_POLICY=<file> would record them."""
    settings = Settings.from_env({**os.environ, "GRIDCASE_POLICY": str(policy)})
    service = CaseService(engine, IntakeSource(settings, engine), TemporalGateway(settings, client))
    _, lon, lat = grid_point(grid_index)
    who = UserStore(engine).get_user(worker_id)
    principal = Principal(who.id, who.role, tuple(who.units), who.name)
    case_id = f"late-{uuid.uuid4().hex[:10]}"
    await service.report(
        principal,
        NewReport(
            category="E0101",
            description="drill: overdue in seconds",
            location=Location(lon=lon, lat=lat),
        ),
        case_id,
    )
    return case_id


async def test_the_board_and_the_big_screen_change_when_a_deadline_passes(
    browser: Browser,
    web_server: WebServer,
    web_users: MakeUser,
    web_engine: Engine,
    web_temporal: Client,
    tmp_path: Path,
) -> None:
    supervisor = web_users("supervisor", "410105", name="督查老周")
    commander = web_users("leader", "410105", name="指挥长")
    grid, _, _ = grid_point(10)
    worker = web_users("grid_worker", grid)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"stage_limits": {"verify": "0.3 minutes"}}))

    board = await signed_in(browser, web_server, supervisor)
    wall = await signed_in(browser, web_server, commander, **SCREEN)
    try:
        await board.goto("/overdue")
        await wall.goto("/screen")
        await expect(wall.page.locator("body[data-ready]")).to_have_count(1, timeout=LIVE_TIMEOUT)
        overdue_tile = wall.page.locator("[data-tile='overdue']")
        before = int(await overdue_tile.inner_text())

        case_id = await report_with_policy(web_engine, web_temporal, policy, worker.id, 10)
        row = board.page.locator(f"#overdue-table tr[data-case='{case_id}']")
        await expect(row).to_have_count(0)
        # 18 s later the case is overdue: the clock's mark is an event, the pages hear it.
        await expect(row).to_be_visible(timeout=60_000)
        await expect(row).to_contain_text("红灯")
        await expect(row).to_contain_text("待立案")
        await expect(overdue_tile).not_to_have_text(str(before), timeout=LIVE_TIMEOUT)
        assert int(await overdue_tile.inner_text()) >= before + 1
        await expect(wall.page.locator("[data-latest]")).to_contain_text(case_id)
        await expect(wall.page.locator("[data-latest]")).to_contain_text("超期")
        await board.screenshot("overdue")
        await board.assert_accessible()
        await wall.screenshot("screen")
        await wall.assert_accessible()
        assert await wall.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        ) == [1920, 1080]

        # Urge (催办) from the board.
        urge = row.locator("details.row-step").filter(has_text="催办")
        await urge.locator("summary").click()
        await urge.locator("textarea[name='message']").fill("请尽快立案")
        async with board.page.expect_navigation():
            await urge.get_by_role("button", name="催办").click()
        await expect(board.page.get_by_role("status").filter(has_text="已完成")).to_be_visible()

        # The CSV of the selection.
        async with board.page.expect_download() as download:
            await board.page.get_by_role("link", name="下载 CSV").click()
        path = await (await download.value).path()
        text = Path(path).read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        assert table[0][:3] == ["案件编号", "超期分钟数", "环节"]
        assert case_id in {r[0] for r in table[1:]}
    finally:
        await board.close()
        await wall.close()
    board.assert_clean()
    wall.assert_clean()


async def test_the_map_has_108_grids_and_a_marker_per_open_case(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine
) -> None:
    worker = web_users("grid_worker", grid_point(20)[0])
    await report_as(web_server, web_engine, worker, 20, "路灯不亮")
    acceptor = web_users("acceptor", name="张受理")
    viewer = await signed_in(browser, web_server, acceptor)
    try:
        page = viewer.page
        await viewer.goto("/map")
        await expect(page.locator("#district-map[data-ready]")).to_have_count(
            1, timeout=LIVE_TIMEOUT
        )
        with web_engine.connect() as conn:
            open_cases = conn.execute(
                select(func.count()).where(
                    CaseRow.status.in_(("open", "suspended")), CaseRow.lon.is_not(None)
                )
            ).scalar_one()
        assert open_cases >= 1
        await expect(page.locator("path.gc-grid")).to_have_count(108)
        await expect(page.locator("path.gc-marker")).to_have_count(open_cases)
        await expect(page.locator("[data-map-summary]")).to_contain_text("108 个网格")
        await viewer.screenshot("map")
        await viewer.assert_accessible()
        # A marker opens its case.
        async with page.expect_navigation():
            await page.locator("path.gc-marker").first.click(force=True)
        await expect(page).to_have_url(re.compile(r"/cases/"))
        # A filter narrows the markers.
        await viewer.goto("/map?light=red&street=410105999")
        await expect(page.locator("#district-map[data-ready]")).to_have_count(
            1, timeout=LIVE_TIMEOUT
        )
        await expect(page.locator("path.gc-marker")).to_have_count(0)
        await expect(page.locator("path.gc-grid")).to_have_count(108)
    finally:
        await viewer.close()
    viewer.assert_clean()


async def test_evaluation_requests_and_english(
    browsing: Browsing, web_users: MakeUser, web_server: WebServer, web_engine: Engine
) -> None:
    # A department asks for more time: the request waits on the requests page.
    worker = web_users("grid_worker", grid_point(30)[0])
    case = await report_as(web_server, web_engine, worker, 30, "道路不洁")
    handler = web_users("handler", "sanitation")
    for who, step, body in (
        (web_users("shift_leader"), "file", {}),
        (web_users("dispatcher"), "dispatch", {"department": "sanitation"}),
        (handler, "sign_for", {}),
        (handler, "request_extension", {"reason": "需要调配车辆", "amount": "1 working_days"}),
    ):
        await api_step(web_server, web_engine, who, case.case_id, step, body)
    leader = web_users("leader", "410105", name="指挥长")
    page = browsing.page
    await browsing.sign_in(leader.id, leader.password)
    today = datetime.now(UTC).date().isoformat()
    await browsing.goto(f"/evaluation?by=department&period=month&date={today}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("综合评价")
    await expect(page.locator("p.formula")).to_contain_text("综合得分 = 10% × 数量得分")
    await expect(page.locator("ul.formulas")).to_contain_text(
        "结案率 = 已结案的案件 ÷ 应处置的案件"
    )
    await browsing.screenshot("evaluation")
    await browsing.assert_accessible()
    # Streets: the reports made today already count (有效上报率 anchors at the report).
    await browsing.goto(f"/evaluation?by=street&period=month&date={today}")
    await expect(page.locator("#kpi-chart svg")).to_have_count(1)
    valid = page.locator("table.kpi a[href*='rate=valid_report']").first
    await expect(valid).to_be_visible()
    await valid.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("有效上报率")
    await expect(page.locator("p.formula")).to_contain_text("有效上报 ÷ 已判定的上报")
    await expect(page.locator("table.cases a.case-link").first).to_be_visible()
    await browsing.screenshot("evaluation-cases")
    await browsing.assert_accessible()
    for kind in ("community", "grid_worker"):
        assert await browsing.goto(f"/evaluation?by={kind}&period=week") == 200
        await browsing.assert_accessible()
    await browsing.goto("/requests")
    await expect(page.get_by_role("heading", level=1)).to_have_text("申请审批")
    row = page.locator(f"#rows-requests tr[data-case='{case.case_id}']")
    await expect(row).to_contain_text("延期申请")
    await expect(row).to_contain_text("需要调配车辆")
    # An extension is decided by a dispatcher or a shift leader, not a leader: no form.
    await expect(row.locator("form")).to_have_count(0)
    await browsing.screenshot("requests")
    await browsing.assert_accessible()
    dispatcher = web_users("dispatcher", name="李调度")
    await page.get_by_role("button", name="退出登录").click()
    await browsing.sign_in(dispatcher.id, dispatcher.password)
    await browsing.goto("/requests")
    decide = row.locator("form[data-step='decide_extension']")
    await decide.get_by_label("批准", exact=True).check()
    await browsing.screenshot("requests-dispatcher")
    await browsing.assert_accessible()
    async with page.expect_navigation():
        await decide.get_by_role("button", name="延期审批").click()
    await expect(page.get_by_role("status").filter(has_text="已完成")).to_be_visible()
    await expect(row).to_have_count(0)
    await page.get_by_role("button", name="退出登录").click()
    await browsing.sign_in(leader.id, leader.password)
    await browsing.goto("/requests")
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Requests")
    await browsing.goto("/overdue")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Overdue cases")
    await browsing.screenshot("overdue-en")
    await browsing.assert_accessible()
    await page.get_by_role("button", name="中文").click()
