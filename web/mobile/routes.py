"""The mobile app's pages and its few reads of its own.

- ``GET /m/`` the app's shell (no personal data: the service worker caches it);
  ``/m/sw.js`` the service worker, served from ``/m/`` so its scope covers the app;
  ``/m/manifest.webmanifest`` what makes it installable.
- ``POST /m/api/token`` signs in with user id and password (the console's password, its
  throttle and lock-out) and answers a bearer token for the API; grid workers only.
- ``POST /m/api/signout`` revokes that token.
- ``GET /m/api/data`` his grids (GeoJSON), the categories with their filing conditions,
  the photo kinds and the center's warning distance; ``GET /m/api/cases`` his grids' open
  cases with their lights.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from application.authz import scope
from application.context import Services, services
from application.principals import Principal
from application.read_models.rows import OPEN, C, seen_by
from domain.photo_kinds import CHECK_KINDS, PHOTO_KINDS, REPORT_KINDS
from store.users import TokenExpired
from web import STATIC_DIR
from web.auth import client_address, sign_in
from web.pages import page

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
APP_ROLE = "grid_worker"
MAP_CASES = 500  # open cases on his map at most, the soonest due first
STATIC_M = STATIC_DIR / "m"


@router.get("/m", response_class=HTMLResponse)
@router.get("/m/", response_class=HTMLResponse)
def shell(request: Request) -> HTMLResponse:
    response = page(request, "m/app.html")
    # The shell names nobody; the service worker keeps a copy to open offline.
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/m/sw.js")
def service_worker() -> FileResponse:
    return FileResponse(
        STATIC_M / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/m/"},
    )


@router.get("/m/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": "网格员移动采集终端 · gridcase",
        "short_name": "网格采集",
        "description": "上报、核实、核查，离线也能保存 (report, verify and check, also offline)",
        "lang": "zh-CN",
        "start_url": "/m/",
        "scope": "/m/",
        "id": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [
            {"src": "/static/m/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/m/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": "/static/m/icon-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


def bearer(request: Request, svc: Svc) -> Principal:
    """The grid worker behind ``Authorization: Bearer``, as the API authenticates him
    (``UserStore.authenticate``); 401 otherwise (the app asks him to sign in again), 403
    for another role."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        found = svc.users.authenticate(token) if scheme.lower() == "bearer" and token else None
    except TokenExpired:
        found = None
    if found is None:
        raise HTTPException(401, "sign in again", headers={"WWW-Authenticate": "Bearer"})
    if found.role != APP_ROLE:
        raise HTTPException(403, "the mobile app is for grid workers (网格员)")
    return found


Caller = Annotated[Principal, Depends(bearer)]


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem, as the API answers."""
    body = {"type": "about:blank", "title": detail, "status": status, "code": code}
    return JSONResponse(
        {**body, "detail": detail, **extra},
        status_code=status,
        media_type="application/problem+json",
        headers={"Cache-Control": "no-store"},
    )


class TokenIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


@router.post("/m/api/token")
def issue_token(body: TokenIn, request: Request, svc: Svc) -> JSONResponse:
    """Sign in on the phone: the same password check, throttle and lock-out as the
    console's sign-in page; the token lives as long as API tokens do."""
    signing = sign_in(request)
    user_id, address = body.user_id.strip(), client_address(request)
    locked = signing.throttle.locked_until(user_id, address)
    if locked is not None:
        return problem(429, "locked", "too many failed sign-ins", until=locked.isoformat())
    principal = signing.passwords.check(user_id, body.password)
    if principal is None:
        failure = signing.throttle.record_failure(user_id, address)
        if failure.locked_until is not None:
            return problem(
                429, "locked", "too many failed sign-ins", until=failure.locked_until.isoformat()
            )
        return problem(
            401,
            "wrong_credentials",
            "wrong user id or password",
            remaining=failure.remaining,
        )
    signing.throttle.clear_user(user_id)
    if principal.role != APP_ROLE:
        return problem(403, "not_a_grid_worker", "the mobile app is for grid workers (网格员)")
    ttl = timedelta(days=svc.settings.token_ttl_days)
    issued = svc.users.issue_token(user_id, "mobile app", ttl=ttl)
    log.info("mobile_signed_in", user_id=user_id, token_id=issued.id, address=address)
    user = svc.users.get_user(user_id)
    return JSONResponse(
        {
            "token": issued.secret,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
            "user": {"id": user.id, "name": user.name, "role": user.role, "units": user.units},
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/m/api/signout", status_code=204)
def sign_out(who: Caller, svc: Svc) -> Response:
    if who.token_id:
        svc.users.revoke_token(who.token_id)
    log.info("mobile_signed_out", user_id=who.user_id, token_id=who.token_id)
    return Response(status_code=204)


@router.get("/m/api/data")
def app_data(who: Caller, svc: Svc) -> JSONResponse:
    """What the app needs to work with no network: his grids, the categories, the kinds
    of photo and the center's warning distance. The service worker keeps the last copy."""
    intake = svc.intake
    grids: list[dict[str, Any]] = []
    if intake.district is not None:
        for code in who.units:
            try:
                grid = intake.district.grid(code)
            except LookupError:
                continue
            if grid.area is None:
                continue
            grids.append(
                {
                    "type": "Feature",
                    "properties": {"code": grid.code, "name": grid.name or grid.code},
                    "geometry": grid.area.to_geojson(),
                }
            )
    categories = [
        {
            "code": cat.code,
            "name_zh": cat.name_zh,
            "name_en": cat.name_en,
            "conditions": [
                {"id": f.id, "zh": f.description_zh, "limit": str(f.limit)} for f in cat.conditions
            ],
        }
        for cat in intake.taxonomy
    ]
    return JSONResponse(
        {
            "user": {"id": who.user_id, "name": who.name, "units": list(who.units)},
            "grids": {"type": "FeatureCollection", "features": grids},
            "categories": categories,
            "photo_kinds": {k: {"zh": v[0], "en": v[1]} for k, v in PHOTO_KINDS.items()},
            "report_kinds": list(REPORT_KINDS),
            "check_kinds": list(CHECK_KINDS),
            "site_distance_warning_m": intake.policy.site_distance_warning_m,
        },
        headers={"Cache-Control": "private, no-cache"},
    )


@router.get("/m/api/cases")
def open_cases(who: Caller, svc: Svc) -> JSONResponse:
    """His grids' open cases (the soonest due first) for the map."""
    query = (
        select(C.__table__)
        .where(C.status.in_(OPEN), scope(who))
        .order_by(C.stage_due_at.asc().nulls_last())
        .limit(MAP_CASES)
    )
    with svc.engine.connect() as conn:
        rows = [seen_by(who, dict(r._mapping)) for r in conn.execute(query)]
    items = [
        {
            "case_id": r["case_id"],
            "category": r["category"],
            "stage": r["stage"],
            "light": r["light"],
            "lon": r["lon"],
            "lat": r["lat"],
            "grid": r["grid"],
            "stage_due_at": r["stage_due_at"].isoformat() if r["stage_due_at"] else None,
        }
        for r in rows
    ]
    return JSONResponse({"items": items}, headers={"Cache-Control": "private, no-cache"})
