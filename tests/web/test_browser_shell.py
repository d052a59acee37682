"""The page shell in Chromium: sign-in and lock-out, each role's landing page in Chinese
and English, sign-out, CSRF, the API docs offline, a phone, axe-core on every page, and a
screenshot of every page (test-artifacts/screenshots/)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine, select

from store.auth_models import SignInThrottleRow
from store.sessions import SignInPolicy, SignInThrottle
from tests.web.browser import PHONE, Browsing, WebServer
from tests.web.conftest import MakeUser
from web.auth import SESSION_COOKIE

pytestmark = pytest.mark.browser

ROLES = {
    # role: (units, Chinese label, one of its work areas in Chinese)
    "grid_worker": (("410105001001001",), "网格员", "核实与核查任务"),
    "acceptor": ((), "受理员", "受理立案"),
    "shift_leader": ((), "值班长", "受理立案"),
    "dispatcher": ((), "派遣员", "派遣"),
    "handler": (("sanitation",), "处置人员", "部门待办"),
    "supervisor": (("410105001",), "督查员", "超期督办"),
    "leader": (("410105",), "指挥长", "指挥大屏"),
    "admin": ((), "系统管理员", "用户管理"),
}
SWAGGER_UI_OWN_VIOLATIONS = {"nested-interactive", "color-contrast"}


def failures(engine: Engine, user_id: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(SignInThrottleRow.failures).where(
                SignInThrottleRow.scope == "user", SignInThrottleRow.key == user_id
            )
        ).scalar()
    return int(found or 0)


async def test_wrong_password_is_counted_then_the_account_locks(
    browsing: Browsing, web_users: MakeUser, web_engine: Engine
) -> None:
    user = web_users("acceptor", name="张受理")
    page, limit = browsing.page, browsing.server.max_failures
    await browsing.goto("/signin")
    await expect(page).to_have_title(re.compile("登录"))
    await browsing.screenshot("signin")
    await browsing.assert_accessible()

    status = await browsing.sign_in(user.id, "wrong password!")
    assert status == 401
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text(f"用户名或密码不正确。再失败 {limit - 1} 次")
    assert failures(web_engine, user.id) == 1
    await expect(page.get_by_label("用户名")).to_have_value(user.id)
    await browsing.screenshot("signin-wrong-password")
    await browsing.assert_accessible()

    for _ in range(limit - 1):
        status = await browsing.sign_in(user.id, "wrong password!")
    assert status == 429
    await expect(alert).to_contain_text("登录失败次数过多，已暂时锁定")
    await expect(alert).to_contain_text("UTC+08:00")
    await browsing.screenshot("signin-locked")
    await browsing.assert_accessible()
    # Locked: even the right password does not get in, and is not checked.
    assert await browsing.sign_in(user.id, user.password) == 429
    assert await browsing.cookie(SESSION_COOKIE) is None

    SignInThrottle(web_engine, SignInPolicy()).clear_user(user.id)  # `gridcase users unlock`
    assert await browsing.sign_in(user.id, user.password) == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text("您好，张受理")


async def test_sign_in_landing_english_and_sign_out(
    browsing: Browsing, browser: Browser, web_server: WebServer, web_users: MakeUser
) -> None:
    user = web_users("dispatcher", name="李调度")
    page = browsing.page
    await browsing.goto("/")  # not signed in: to the sign-in page, then back
    await expect(page).to_have_url(re.compile(r"/signin\?next=/$"))
    assert await browsing.sign_in(user.id, user.password, path=page.url) == 200
    await expect(page).to_have_url(f"{web_server.url}/")
    header = page.get_by_role("banner")
    await expect(header).to_contain_text("李调度")
    await expect(header).to_contain_text("派遣员")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    nav = page.get_by_role("navigation", name="主导航")
    await expect(nav.get_by_role("link", name="工作台")).to_have_attribute("aria-current", "page")
    await expect(nav).to_contain_text("派遣")
    await expect(page.get_by_role("main").get_by_role("link", name="派遣")).to_be_visible()
    await expect(page.get_by_role("contentinfo")).to_contain_text("Asia/Shanghai")
    await expect(page.locator("main time").first).to_contain_text("UTC+08:00")
    cookie = await browsing.cookie(SESSION_COOKIE)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, 李调度")
    await expect(header).to_contain_text("Dispatcher")
    await expect(page.get_by_role("button", name="English")).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.reload()  # the choice is kept in a cookie
    await expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    await browsing.screenshot("home-dispatcher-en")
    await browsing.assert_accessible()
    await page.get_by_role("button", name="中文").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    stolen = await browsing.context.cookies()
    await page.get_by_role("button", name="退出登录").click()
    await expect(page).to_have_url(re.compile(r"/signin\?notice=signed_out$"))
    await expect(page.get_by_role("status")).to_have_text("您已退出登录。")
    assert await browsing.cookie(SESSION_COOKIE) is None
    await browsing.screenshot("signin-signed-out")

    # The old cookie, replayed in another browser, no longer opens anything.
    other = await Browsing.open(browser, web_server)
    try:
        await other.context.add_cookies(stolen)  # type: ignore[arg-type]
        await other.goto("/")
        await expect(other.page).to_have_url(re.compile(r"/signin\?next=/&notice=expired$"))
        await expect(other.page.get_by_role("status")).to_contain_text("会话已过期")
    finally:
        await other.close()
    other.assert_clean()


async def test_every_role_has_its_landing_page(browsing: Browsing, web_users: MakeUser) -> None:
    page = browsing.page
    for role, (units, label, area) in ROLES.items():
        user = web_users(role, *units, name=f"测试{label}")
        assert await browsing.sign_in(user.id, user.password) == 200
        await expect(page.get_by_role("banner")).to_contain_text(label)
        work = page.get_by_role("region", name="您的工作")
        await expect(work.get_by_role("heading", name=re.compile(area))).to_be_visible()
        if role == "admin":  # the user pages come later
            await expect(work).to_contain_text("即将推出")
        else:  # a grid worker's goes to the mobile app (/m/)
            await expect(work.get_by_role("link", name=re.compile(area))).to_be_visible()
        if role == "handler":
            await expect(page.get_by_role("main")).to_contain_text("sanitation")
        await browsing.screenshot(f"home-{role}")
        await browsing.assert_accessible()
        await page.get_by_role("button", name="退出登录").click()
        await expect(page).to_have_url(re.compile("/signin"))


async def test_a_form_without_the_csrf_token_is_refused(
    browsing: Browsing, web_users: MakeUser
) -> None:
    user = web_users("leader", "410105", name="王指挥")
    page = browsing.page
    await browsing.goto("/signin")
    refused = await page.evaluate(
        """async (id) => (await fetch('/signin', {method: 'POST',
             body: new URLSearchParams({user_id: id, password: 'whatever password'})})).status""",
        user.id,
    )
    assert refused == 403
    assert await browsing.sign_in(user.id, user.password) == 200
    statuses = await page.evaluate(
        """async () => {
          const post = (headers) => fetch('/signout', {method: 'POST', redirect: 'manual',
            headers: {'Content-Type': 'application/x-www-form-urlencoded', ...headers},
            body: 'x=1'});
          const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
          const without = (await post({})).status;
          const wrong = (await post({'X-CSRF-Token': 'A'.repeat(43)})).status;
          const still = (await fetch('/', {redirect: 'manual'})).status;
          const right = (await post({'X-CSRF-Token': token})).type;
          return [without, wrong, still, right];
        }"""
    )
    assert statuses == [403, 403, 200, "opaqueredirect"]
    await browsing.goto("/signin")
    await page.evaluate(
        """() => { const f = document.querySelector('form.lang-switch');
                   f.querySelector('[name=csrf_token]').remove();
                   f.querySelector('button[value=en]').click(); }"""
    )
    await expect(page.get_by_role("alert")).to_contain_text("页面已过期")
    await browsing.screenshot("csrf-refused")
    await browsing.assert_accessible()


async def test_unknown_pages_are_404_pages(browsing: Browsing, web_users: MakeUser) -> None:
    page = browsing.page
    assert await browsing.goto("/no/such/page") == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    await browsing.assert_accessible()
    user = web_users("handler", "sanitation", name="赵处置")
    await browsing.sign_in(user.id, user.password)
    assert await browsing.goto("/intake") == 404  # not a handler's page
    await expect(page.get_by_role("banner")).to_contain_text("赵处置")
    await browsing.screenshot("not-found")
    await browsing.assert_accessible()


async def test_api_docs_render_offline(browsing: Browsing) -> None:
    page = browsing.page
    assert await browsing.goto("/docs") == 200
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("gridcase API")
    await expect(page.locator(".opblock").first).to_be_visible()
    assert await page.locator(".opblock").count() > 20
    await browsing.screenshot("docs")
    assert not browsing.escaped  # also checked after the test, with any page error
    # Swagger UI's own markup nests a button in each operation's summary button, and its
    # stock theme has low-contrast badges: third-party, left as they are. Anything else
    # (e.g. the page's language, which we add) must pass.
    found = {v["id"] for v in await browsing.axe()}
    assert found <= SWAGGER_UI_OWN_VIOLATIONS, found - SWAGGER_UI_OWN_VIOLATIONS


async def test_phone_sign_in_page_fits(
    browser: Browser, web_server: WebServer, web_users: MakeUser
) -> None:
    phone = await Browsing.open(browser, web_server, **PHONE)
    try:
        await phone.goto("/signin")
        assert await phone.overlaps() == []
        await phone.screenshot("signin-phone")
        await phone.assert_accessible()
        user = web_users("grid_worker", "410105001001001", name="网格员小刘")
        assert await phone.sign_in(user.id, user.password) == 200
        assert await phone.overlaps() == []
        await phone.screenshot("home-grid_worker-phone")
        await phone.assert_accessible()
    finally:
        await phone.close()
    phone.assert_clean()
