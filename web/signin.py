"""Sign-in, sign-out and the language switch.

POST /signin, in this order: the CSRF check (router dependency); both fields present;
a lock-out on the user id or the client address refuses without checking the password;
the password (argon2, the same time whether the user exists or not); a failure is counted
for both and the page says how many attempts are left; a success clears the user id's
failures, starts a new session (a new id, so a planted cookie is worthless) and goes on to
``next`` (a path on this site only).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
    csrf_protect,
    current_session,
    set_session_cookie,
    sign_in,
)
from web.i18n import LANG_COOKIE, pick_lang, translator
from web.i18n import local_time as format_time
from web.pages import page

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

FieldText = Annotated[str, Form()]
LANG_MAX_AGE = 365 * 24 * 3600


def safe_next(value: str | None) -> str:
    """A local path to go to, never another site (``//host``, ``/\\host``, ``https:``)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or len(value) > 2000
        or any(c in value for c in "\r\n\t")
    ):
        return "/"
    return value


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.get("/signin")
def sign_in_page(request: Request, next: str = "/", notice: str = "") -> Response:
    if current_session(request) is not None:
        return _see_other(safe_next(next))
    messages = {"signed_out": "signed_out", "expired": "session_ended"}
    return page(
        request,
        "signin.html",
        {"next": safe_next(next), "notice": messages.get(notice, ""), "user_id": ""},
    )


@router.post("/signin")
def sign_in_submit(
    request: Request,
    user_id: FieldText = "",
    password: FieldText = "",
    next: FieldText = "/",
) -> Response:
    services = sign_in(request)
    t = translator(pick_lang(request.cookies.get(LANG_COOKIE)))
    user_id = user_id.strip()[:64]
    address = client_address(request)
    target = safe_next(next)

    def again(error: str, status: int) -> HTMLResponse:
        context = {"next": target, "error": error, "user_id": user_id, "notice": ""}
        return page(request, "signin.html", context, status=status)

    if not user_id or not password:
        return again(t("missing_fields"), 400)
    zone = services.settings.display_zone

    def locked_out(until: datetime) -> HTMLResponse:
        response = again(t("locked", until=format_time(until, zone)), 429)
        wait = math.ceil((until - datetime.now(UTC)).total_seconds())
        response.headers["Retry-After"] = str(max(wait, 1))
        return response

    locked = services.throttle.locked_until(user_id, address)
    if locked is not None:
        log.info("sign_in_refused_locked", user_id=user_id, address=address)
        return locked_out(locked)
    principal = services.passwords.check(user_id, password)
    if principal is None:
        failure = services.throttle.record_failure(user_id, address)
        if failure.locked_until is not None:
            return locked_out(failure.locked_until)
        minutes = int(services.policy.lockout.total_seconds()) // 60
        return again(t("wrong_credentials", remaining=failure.remaining, minutes=minutes), 401)
    services.throttle.clear_user(user_id)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        services.sessions.end(old)
    secret, _ = services.sessions.start(principal, address)
    log.info("signed_in", user_id=user_id, role=principal.role, address=address)
    redirect = _see_other(target)
    set_session_cookie(request, redirect, secret)
    return redirect


@router.post("/signout")
def sign_out(request: Request) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    session = current_session(request)
    if secret:
        sign_in(request).sessions.end(secret)
    if session is not None:
        log.info("signed_out", user_id=session.principal.user_id)
    response = _see_other("/signin?notice=signed_out")
    clear_session_cookie(request, response)
    return response


@router.post("/lang")
def switch_language(
    request: Request,
    lang: FieldText = "zh",
    next: FieldText = "/",
) -> Response:
    response = _see_other(safe_next(next))
    response.set_cookie(
        LANG_COOKIE,
        pick_lang(lang),
        max_age=LANG_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response
