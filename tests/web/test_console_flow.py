"""One case from report to close by clicks, as four people in four browsers: the shift
leader files it, the dispatcher (whose board shows it without a reload) dispatches it
to routing's suggestion, the handler signs for it and feeds back with a photo uploaded
from the page, the grid worker checks it on the case page, the shift leader closes it.
A handler of another department neither sees it nor opens its URL. axe-core and a
screenshot on every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine

from domain.rules import CaseRules
from store.calendar import calendar_readiness
from store.event_store import EventStore
from tests.web.browser import Browsing, WebServer
from tests.web.conftest import MakeUser
from tests.web.console_helpers import LIVE_TIMEOUT, png, report_as, signed_in, take_step

pytestmark = pytest.mark.browser


async def test_a_case_from_report_to_close_by_clicks(
    browser: Browser, web_server: WebServer, web_users: MakeUser, web_engine: Engine, tmp_path
) -> None:
    leader = web_users("shift_leader", name="王值班")
    dispatcher = web_users("dispatcher", name="李调度")
    handler = web_users("handler", "sanitation", name="环卫小赵")
    other = web_users("handler", "municipal_roads", name="市政老钱")
    grid_code = "410105001001004"
    worker = web_users("grid_worker", grid_code, name="网格员小刘")

    # The dispatcher's board is open before the case exists: it must appear by itself.
    board = await signed_in(browser, web_server, dispatcher)
    lead = await signed_in(browser, web_server, leader)
    try:
        await board.goto("/dispatch")
        await expect(board.page.get_by_role("heading", level=1)).to_have_text("派遣")
        await expect(board.page.locator("[data-live-status]")).to_have_text(
            re.compile("实时更新中")
        )

        case = await report_as(web_server, web_engine, worker, 3, "公交站旁暴露垃圾")
        assert case.grid == grid_code

        # 立案: from the intake queue to the case page; the file form has the category's
        # filing conditions.
        page = lead.page
        await lead.goto("/intake")
        row = page.locator(f"#rows-to_file tr[data-case='{case.case_id}']")
        await expect(row).to_be_visible(timeout=LIVE_TIMEOUT)
        # The center's staff see when the official holiday data runs out.
        warning = page.locator("[data-calendar-warning]")
        ending = calendar_readiness(CaseRules().working_calendar)["status"] == "warning"
        await expect(warning).to_have_count(1 if ending else 0)
        await lead.screenshot("intake")
        await lead.assert_accessible()
        await row.get_by_role("link", name=case.case_id).click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(case.case_id)
        await expect(page.locator("[data-deadline]")).to_contain_text("UTC+08:00")
        await expect(page.locator("form[data-step='file'] select[name='condition']")).to_have_value(
            "E0101-01"
        )
        await expect(page.locator("form[data-step='dispatch']")).to_have_count(0)  # not his
        await lead.screenshot("case-verify-shift-leader")
        await lead.assert_accessible()
        await take_step(page, "form[data-step='file']", "立案")
        await expect(page.locator("#case-live")).to_contain_text("待派遣")

        # 派遣: the row came to the open board by itself, with routing's suggestion.
        bpage = board.page
        brow = bpage.locator(f"#rows-to_dispatch tr[data-case='{case.case_id}']")
        await expect(brow).to_be_visible(timeout=LIVE_TIMEOUT)
        await expect(brow).to_contain_text("环卫")
        select = brow.locator("select[name='department']")
        await expect(select).to_have_value("sanitation")
        await board.screenshot("dispatch")
        await board.assert_accessible()
        # Another department needs a reason: the form says so, and the server refuses one
        # sent without it (here with the browser's own check taken out).
        await select.select_option("municipal_roads")
        await expect(brow.locator("[data-override-hint]")).to_be_visible()
        await brow.locator("textarea[name='note']").evaluate("t => t.removeAttribute('required')")
        async with bpage.expect_navigation():
            await brow.get_by_role("button", name="派遣").click()
        await expect(bpage.get_by_role("alert")).to_contain_text("必须填写理由")
        await expect(bpage.locator("#case-live")).to_contain_text("待派遣")
        await board.goto("/dispatch")
        await expect(select).to_have_value("sanitation")
        await take_step(bpage, f"#rows-to_dispatch tr[data-case='{case.case_id}'] form", "派遣")
        await expect(bpage.locator(f"tr[data-case='{case.case_id}']")).to_have_count(0)
    finally:
        await board.close()
        await lead.close()
    board.assert_clean()

    # 签收, then 处理反馈 with a photo uploaded from the page.
    crew = await signed_in(browser, web_server, handler)
    try:
        page = crew.page
        await crew.goto("/department")
        row = page.locator(f"#rows-to_sign_for tr[data-case='{case.case_id}']")
        await expect(row).to_be_visible(timeout=LIVE_TIMEOUT)
        await crew.screenshot("department")
        await crew.assert_accessible()
        await take_step(page, f"#rows-to_sign_for tr[data-case='{case.case_id}'] form", "签收")
        in_hand = page.locator(f"#rows-in_hand tr[data-case='{case.case_id}']")
        await expect(in_hand).to_be_visible(timeout=LIVE_TIMEOUT)
        await in_hand.get_by_role("link", name=case.case_id).click()
        photo = tmp_path / "after.png"
        photo.write_bytes(png())
        form = page.locator("form[data-step='feedback']")
        await form.locator("textarea[name='result']").fill("已清运，站台已冲洗")
        await form.locator("input[type='file']").set_input_files(str(photo))
        await crew.screenshot("case-handle-handler")
        await crew.assert_accessible()
        await take_step(page, "form[data-step='feedback']", "处理反馈")
        shown = page.locator("ul.photos img")
        await expect(shown).to_have_count(1)
        assert await shown.evaluate("img => img.complete && img.naturalWidth") == 400
        await expect(page.locator("#case-live")).to_contain_text("待核查")
    finally:
        await crew.close()
    crew.assert_clean()

    # Another department neither sees the case nor opens it.
    roads = await signed_in(browser, web_server, other)
    try:
        await roads.goto("/department")
        await expect(roads.page.locator(f"tr[data-case='{case.case_id}']")).to_have_count(0)
        assert await roads.goto(f"/cases/{case.case_id}") == 404
        await expect(roads.page.get_by_role("heading", level=1)).to_have_text("页面不存在")
        await roads.screenshot("case-other-department-404")
        await roads.assert_accessible()
    finally:
        await roads.close()

    # 核查 on the case page, by the grid worker of its grid.
    patrol = await signed_in(browser, web_server, worker)
    try:
        await patrol.goto(f"/cases/{case.case_id}")
        page = patrol.page
        await page.locator("form[data-step='check']").get_by_label("通过", exact=True).check()
        await patrol.screenshot("case-check-grid-worker")
        await patrol.assert_accessible()
        await take_step(page, "form[data-step='check']", "核查")
    finally:
        await patrol.close()

    # 结案 from the intake page's queue of passed checks.
    lead = await signed_in(browser, web_server, leader)
    try:
        page = lead.page
        await lead.goto("/intake")
        row = page.locator(f"#rows-to_close tr[data-case='{case.case_id}']")
        await expect(row).to_be_visible(timeout=LIVE_TIMEOUT)
        await take_step(page, f"#rows-to_close tr[data-case='{case.case_id}'] form", "结案")
        await lead.goto(f"/cases/{case.case_id}")
        timeline = page.locator("ol.timeline")
        for label in ("上报", "立案", "派遣", "签收", "处理反馈", "核查通过", "结案"):
            await expect(timeline).to_contain_text(label)
        await expect(page.locator("#case-live")).to_contain_text("已结案")
        await expect(page.locator("section.actions")).to_contain_text("没有可办理的操作")
        await lead.screenshot("case-closed")
        await lead.assert_accessible()
    finally:
        await lead.close()
    lead.assert_clean()

    types = [e.type for e in EventStore(web_engine).events(case.case_id)]
    for kind in (
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
        "FeedbackSubmitted",
        "ClosureCheckPassed",
        "CaseClosed",
    ):
        assert kind in types
    actors = {
        e.actor.id for e in EventStore(web_engine).events(case.case_id) if e.actor.role != "system"
    }
    assert {leader.id, dispatcher.id, handler.id, worker.id} <= actors


async def test_a_step_refused_says_why_and_keeps_the_form(
    browsing: Browsing, web_users: MakeUser, web_engine: Engine, web_server: WebServer
) -> None:
    worker = web_users("grid_worker", "410105001001005")
    case = await report_as(web_server, web_engine, worker, 4, "井盖缺失")
    leader = web_users("shift_leader")
    await browsing.sign_in(leader.id, leader.password)
    page = browsing.page
    await browsing.goto(f"/cases/{case.case_id}")
    reject = page.locator("form[data-step='reject']")
    # The browser would not send an empty required field; a blank one reaches the server.
    await reject.locator("textarea[name='reason']").fill("   ")
    async with page.expect_navigation():
        await reject.get_by_role("button", name="不予立案").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("未能完成")
    await expect(alert).to_contain_text("理由")
    await browsing.screenshot("case-step-refused")
    await browsing.assert_accessible()
    await expect(page.locator("#case-live")).to_contain_text("待立案")
