"""Rendering a page: the templates, what every template gets, and the response headers.

``page(request, "home.html", {...})`` renders a template that extends ``base.html`` with
the signed-in user (or none), the language and its ``t()``, the CSRF token for forms and
htmx, the navigation for the user's role, ``when()`` for times in the display zone and
``names`` for what codes mean (``web.names``). ``live`` True makes the page listen to
``/live`` and re-fetch its ``data-live-refresh`` parts when their cases change.
Blocking (it may look the session up): call it from sync routes or a thread.

Every page is sent with a Content-Security-Policy that allows scripts from this origin
only (no inline script, no eval: htmx's eval features are off), ``no-store`` (pages hold
personal data and CSRF tokens), and no framing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from application.authz import CENTER_STAFF
from application.context import services
from application.requests import new_idempotency_key
from store.calendar import calendar_readiness
from web import STATIC_URL, TEMPLATES_DIR
from web.auth import csrf_token, current_session, set_csrf_cookie, sign_in
from web.i18n import HTML_LANG, LANG_COOKIE, LANG_NAMES, LANGS, pick_lang, role_label, translator
from web.i18n import local_time as format_time
from web.names import Names
from web.nav import areas_for
from web.steps import step_titles

templates = Jinja2Templates(directory=TEMPLATES_DIR)
# Every rendering of a step's form carries a key of its own: a form sent twice (a double
# click, a resend after a lost answer) is one step (application.requests).
templates.env.globals["new_idempotency_key"] = new_idempotency_key


def content_policy(tiles: str = "") -> str:
    """The pages' Content-Security-Policy; a configured basemap's host may serve images."""
    images = "img-src 'self' data: blob:"
    if tiles:
        images += " " + urlsplit(tiles).scheme + "://" + urlsplit(tiles).netloc
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            # Leaflet, ECharts and htmx set inline styles; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            images,
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


SECURITY_HEADERS = {
    "Content-Security-Policy": content_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def static(path: str) -> str:
    return f"{STATIC_URL}/{path}"


def here(request: Request) -> str:
    """The request's path and query: where to come back to after a switch or sign-in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    session = current_session(request)
    user = session.principal if session else None
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    settings = sign_in(request).settings
    zone = settings.display_zone
    csrf, new_csrf = csrf_token(request)

    def when(value: datetime) -> str:
        return format_time(value, zone)

    values: dict[str, Any] = {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "langs": [(code, LANG_NAMES[code], HTML_LANG[code]) for code in LANGS],
        "t": translator(lang),
        "user": user,
        "session": session,
        "role_label": role_label,
        "nav": areas_for(user.role) if user else [],
        "csrf": csrf,
        "here": here(request),
        "when": when,
        "zone": zone.key,
        "now": datetime.now(zone),
        "static": static,
        "names": Names(services(request).intake, lang),
        # The center's staff are told when the official holiday data runs out.
        "calendar": calendar_readiness(services(request).intake.calendar)
        if user is not None and user.role in CENTER_STAFF
        else None,
        "step_titles": step_titles(lang),
        "live": False,  # True: the page takes live updates (static/js/live.js)
        "tiles": {"url": settings.map_tiles, "attribution": settings.map_tiles_attribution},
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    if settings.map_tiles:
        response.headers["Content-Security-Policy"] = content_policy(settings.map_tiles)
    if new_csrf:
        set_csrf_cookie(request, response, csrf)
    return response
