"""Who is signed in to the web pages, and the CSRF check on every form.

A page route asks for the signed-in user with ``SignedIn`` (any role) or
``Depends(page_for(...roles))``; both give the same ``store.users.Principal`` the API
builds from a bearer token (``store.users.load_principal``), so the API's jurisdiction
checks (``application.authz``) apply to pages unchanged. Without a live session a page
redirects to the sign-in page (an htmx request gets ``HX-Redirect``); a role a page is
not for gets the 404 page, as the API answers 404 outside one's jurisdiction.

CSRF: every unsafe request to a web route (``csrf_protect``, installed on each web
router) carries the session's token in the form field ``csrf_token`` or the header
``X-CSRF-Token`` (htmx sends it from the base layout). Before sign-in the token is a
random value in the ``gc_csrf`` cookie (SameSite=Strict) that the form repeats.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from application.config import Settings
from application.context import services
from store.passwords import Passwords
from store.sessions import SessionStore, SignInPolicy, SignInThrottle, WebSession
from store.users import Principal

SESSION_COOKIE = "gc_session"
CSRF_COOKIE = "gc_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SignIn:
    """What signing in needs, built once per app from the API's services."""

    settings: Settings
    policy: SignInPolicy
    passwords: Passwords
    sessions: SessionStore
    throttle: SignInThrottle


def sign_in_policy(settings: Settings) -> SignInPolicy:
    return SignInPolicy(
        max_failures=settings.sign_in_max_failures,
        max_failures_per_address=settings.sign_in_max_failures_per_address,
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_age=timedelta(hours=settings.session_max_hours),
    )


def sign_in(request: Request) -> SignIn:
    found: SignIn | None = getattr(request.app.state, "sign_in", None)
    if found is None:
        svc = services(request)
        policy = sign_in_policy(svc.settings)
        found = SignIn(
            svc.settings,
            policy,
            Passwords(svc.engine),
            SessionStore(svc.engine, policy),
            SignInThrottle(svc.engine, policy),
        )
        request.app.state.sign_in = found
    return found


class SignInRequired(Exception):
    """No live session: the handler sends the browser to the sign-in page."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign in required")
        self.expired = expired


class CsrfRefused(Exception):
    """An unsafe request without the right CSRF token: refused with 403."""


_NO_LOOKUP = object()


def current_session(request: Request) -> WebSession | None:
    """The live session behind the request's cookie, looked up once per request.
    Blocking (PostgreSQL): call it from sync code or through ``run_in_threadpool``."""
    cached = getattr(request.state, "web_session", _NO_LOOKUP)
    if cached is not _NO_LOOKUP:
        return cached  # type: ignore[return-value]
    secret = request.cookies.get(SESSION_COOKIE)
    found = sign_in(request).sessions.resume(secret) if secret else None
    request.state.web_session = found
    return found


def signed_in(request: Request) -> Principal:
    session = current_session(request)
    if session is None:
        raise SignInRequired(expired=SESSION_COOKIE in request.cookies)
    return session.principal


SignedIn = Annotated[Principal, Depends(signed_in)]


def page_for(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A page only these roles may open; for any other role it does not exist (404)."""
    allowed = frozenset(roles)

    async def check(who: SignedIn) -> Principal:  # async: no thread for a comparison
        if who.role not in allowed:
            raise HTTPException(404, "no such page")
        return who

    return check


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether X-Forwarded-For is believed)."""
    return request.client.host if request.client else ""


def csrf_token(request: Request) -> tuple[str, bool]:
    """The token a page's forms carry, and whether it is new (a cookie to set)."""
    session = current_session(request)
    if session is not None:
        return session.csrf_token, False
    known = request.cookies.get(CSRF_COOKIE)
    if known and 20 <= len(known) <= 100:
        return known, False
    return secrets.token_urlsafe(32), True


async def csrf_protect(request: Request) -> None:
    """Router dependency: refuse an unsafe request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    session = await run_in_threadpool(current_session, request)
    expected = session.csrf_token if session else request.cookies.get(CSRF_COOKIE)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    # No Max-Age: the cookie dies with the browser (shared command-center workstations);
    # the server ends the session itself after the idle and absolute limits.
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
