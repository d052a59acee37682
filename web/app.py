"""Wire the web front ends into the API's FastAPI app (called by ``api.app.create_app``).

The API keeps ``/v1``, ``/open311``, ``/openapi.json`` and ``/healthz`` with its problem
answers; every other path belongs to the pages: their errors are pages too (404 for an
unknown page or one the user's role may not open).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from web import (
    STATIC_DIR,
    STATIC_URL,
    case_page,
    district_map,
    docs,
    evaluation,
    home,
    live,
    overdue,
    screen,
    signin,
    step_routes,
    work,
)
from web.auth import CsrfRefused, SignInRequired, clear_session_cookie
from web.i18n import LANG_COOKIE, pick_lang, translator
from web.mobile import routes as mobile
from web.pages import here, page

ProblemHandler = Callable[[Request, Exception], Awaitable[Response]]
API_PREFIXES = ("/v1/", "/open311/", "/openapi.json", "/healthz", "/m/api/")


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/v1", "/open311")


def error_page(request: Request, status: int) -> HTMLResponse:
    if status == 404:
        return page(request, "not_found.html", status=404)
    t = translator(pick_lang(request.cookies.get(LANG_COOKIE)))
    context = {"title": "error_title", "message": t("error_text", status=status)}
    return page(request, "error.html", context, status=status)


def install(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        docs,
        signin,
        home,
        live,
        case_page,
        step_routes,
        work,
        overdue,
        district_map,
        screen,
        evaluation,
    ):
        app.include_router(module.router)
    app.include_router(mobile.router)

    api_http_handler = cast(ProblemHandler, app.exception_handlers[StarletteHTTPException])

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_api(request.url.path):
            return await api_http_handler(request, exc)
        return await run_in_threadpool(error_page, request, exc.status_code)

    async def on_sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        notice = "&notice=expired" if exc.expired else ""
        target = f"/signin?next={quote(here(request))}{notice}"
        response: Response
        if request.headers.get("HX-Request"):
            # htmx would swap a redirect's page into a fragment; make it load the page.
            response = Response(status_code=401, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        if exc.expired:
            clear_session_cookie(request, response)
        return response

    async def on_csrf(request: Request, exc: Exception) -> Response:
        t = translator(pick_lang(request.cookies.get(LANG_COOKIE)))
        context = {"title": "forbidden_title", "message": t("form_expired")}
        return await run_in_threadpool(page, request, "error.html", context, status=403)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(CsrfRefused, on_csrf)
