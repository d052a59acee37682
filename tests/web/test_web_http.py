"""The pages over HTTP without a browser: cookies and their flags, CSRF, redirects that stay
on the site, expiry, error pages beside the API's problems, and role gates."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine, select, update

from store.auth_models import SignInThrottleRow, WebSessionRow
from store.users import Principal
from tests.web.conftest import MakeUser, WebUser
from web.auth import CSRF_COOKIE, SESSION_COOKIE, page_for
from web.i18n import MESSAGES
from web.signin import safe_next


def hidden_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, user: WebUser, **form: str) -> httpx.Response:
    page = await client.get("/signin")
    body = {"csrf_token": hidden_csrf(page.text), "user_id": user.id, "password": user.password}
    return await client.post("/signin", data={**body, **form})


def set_cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie {name} in {response.headers.get_list('set-cookie')}")


def test_every_message_has_both_languages() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{\w+}", zh)) == set(re.findall(r"{\w+}", en)), key


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/cases/1?tab=timeline", "/cases/1?tab=timeline"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_next_stays_on_the_site(given: str, expected: str) -> None:
    assert safe_next(given) == expected


async def test_sign_in_sets_strict_cookies_and_goes_on(
    web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    r = await web_client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/"
    page = await web_client.get("/signin")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text and "登录" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    pre = set_cookie(page, CSRF_COOKIE).lower()
    assert "httponly" in pre and "samesite=strict" in pre
    assert hidden_csrf(page.text) == web_client.cookies[CSRF_COOKIE]

    user = web_users("dispatcher", name="李调度")
    r = await sign_in(web_client, user, next="/?from=test")
    assert r.status_code == 303 and r.headers["location"] == "/?from=test"
    cookie = set_cookie(r, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie and "max-age" not in cookie  # http; dies with the browser
    home = await web_client.get("/")
    assert home.status_code == 200 and "李调度" in home.text and "派遣员" in home.text
    assert hidden_csrf(home.text) != hidden_csrf(page.text)  # the session's own token
    assert web_client.cookies[SESSION_COOKIE] not in home.text


async def test_cookies_are_secure_over_https(web_app: FastAPI, web_users: MakeUser) -> None:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        r = await sign_in(client, web_users("leader", "410105"))
        assert r.status_code == 303
        assert "secure" in set_cookie(r, SESSION_COOKIE).lower()


async def test_csrf_is_checked_on_every_unsafe_request(
    web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    user = web_users("acceptor")
    page = await web_client.get("/signin")
    without = await web_client.post("/signin", data={"user_id": user.id, "password": user.password})
    assert without.status_code == 403 and "页面已过期" in without.text
    forged = await web_client.post(
        "/signin", data={"user_id": user.id, "password": user.password, "csrf_token": "x" * 40}
    )
    assert forged.status_code == 403
    assert SESSION_COOKIE not in web_client.cookies
    assert (await sign_in(web_client, user)).status_code == 303
    token = hidden_csrf((await web_client.get("/")).text)
    assert (await web_client.post("/lang", data={"lang": "en"})).status_code == 403
    assert (await web_client.post("/signout")).status_code == 403
    assert (await web_client.get("/")).status_code == 200  # still signed in
    # htmx sends the token as a header; the pre-sign-in token is not the session's.
    r = await web_client.post("/lang", data={"lang": "en"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 303
    stale = hidden_csrf(page.text)
    assert (await web_client.post("/signout", data={"csrf_token": stale})).status_code == 403


async def test_sign_out_and_expiry_end_the_session(
    web_client: httpx.AsyncClient, web_users: MakeUser, web_engine: Engine
) -> None:
    user = web_users("supervisor", "410105001")
    await sign_in(web_client, user)
    secret = web_client.cookies[SESSION_COOKIE]
    token = hidden_csrf((await web_client.get("/")).text)
    r = await web_client.post("/signout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/signin?notice=signed_out"
    assert SESSION_COOKIE not in web_client.cookies
    web_client.cookies.set(SESSION_COOKIE, secret)  # the old cookie, replayed
    r = await web_client.get("/")
    assert r.status_code == 303 and "notice=expired" in r.headers["location"]

    web_client.cookies.clear()
    await sign_in(web_client, user)
    with web_engine.begin() as conn:
        conn.execute(
            update(WebSessionRow)
            .where(WebSessionRow.user_id == user.id)
            .values(last_seen_at=WebSessionRow.last_seen_at - timedelta(hours=1))
        )
    r = await web_client.get("/", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/signin?next=/")
    signed_in_page = await web_client.get("/signin?notice=expired")
    assert "会话已过期" in signed_in_page.text


async def test_wrong_passwords_are_counted_then_locked(
    web_client: httpx.AsyncClient, web_users: MakeUser, web_engine: Engine
) -> None:
    user = web_users("shift_leader")
    wrong = WebUser(user.id, user.name, user.role, password="not the password")
    r = await sign_in(web_client, wrong)
    assert r.status_code == 401 and "再失败 4 次" in r.text
    assert 'value="' + user.id + '"' in r.text  # the id stays filled in
    for _ in range(3):
        r = await sign_in(web_client, wrong)
    r = await sign_in(web_client, wrong)
    assert r.status_code == 429 and "已暂时锁定" in r.text and "UTC+08:00" in r.text
    assert 15 * 60 - 5 <= int(r.headers["retry-after"]) <= 15 * 60
    r = await sign_in(web_client, user)  # the right password, but locked
    assert r.status_code == 429 and SESSION_COOKIE not in web_client.cookies
    with web_engine.connect() as conn:
        row = conn.execute(
            select(SignInThrottleRow).where(
                SignInThrottleRow.scope == "user", SignInThrottleRow.key == user.id
            )
        ).one()
    assert row.locked_until is not None
    r = await sign_in(web_client, WebUser("nobody-" + user.id, "", "acceptor", "whatever pw"))
    assert r.status_code == 401 and "再失败 4 次" in r.text  # unknown ids look the same
    r = await web_client.post("/signin", data={"csrf_token": web_client.cookies[CSRF_COOKIE]})
    assert r.status_code == 400 and "请输入用户名和密码" in r.text


async def test_error_pages_beside_api_problems(
    web_client: httpx.AsyncClient, web_users: MakeUser
) -> None:
    r = await web_client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text
    r = await web_client.get("/v1/no/such")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")
    r = await web_client.get("/signout")
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    # The API takes bearer tokens only: a session cookie is no credential there (no CSRF).
    await sign_in(web_client, web_users("acceptor"))
    r = await web_client.get("/v1/inbox/center", params={"queue": "to_file"})
    assert r.status_code == 401


async def test_a_page_for_other_roles_is_a_404(web_app: FastAPI, web_users: MakeUser) -> None:
    router = APIRouter()

    @router.get("/test-only/center-page")
    def center_page(user: Annotated[Principal, Depends(page_for("acceptor"))]) -> HTMLResponse:
        return HTMLResponse(f"<p>{user.user_id}</p>")

    app = FastAPI()
    app.router.routes.extend(web_app.router.routes)
    app.state.services = web_app.state.services
    app.exception_handlers.update(web_app.exception_handlers)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    for role, status in (("acceptor", 200), ("handler", 404)):
        units = ("sanitation",) if role == "handler" else ()
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await sign_in(client, web_users(role, *units))
            r = await client.get("/test-only/center-page")
            assert r.status_code == status, r.text
            if status == 404:
                assert "页面不存在" in r.text
