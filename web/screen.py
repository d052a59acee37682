"""The command center's big screen (大屏), 1920×1080: today's intake and closures, open
and overdue cases by street, the lights, the map, the latest events; updated live.

The page is drawn in the browser from one JSON answer (``/screen/data.json``), fetched
again when the live stream names a change. A wall of screens asks the same question
at the same moment, so one answer per jurisdiction and language is computed by one
request at a time and shared by every request that came before it began (less
``FRESH`` seconds), and by all while no change has been heard since: fifty screens cost
one set of queries.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from application.authz import MAY, Use, scope_key
from application.context import services
from application.read_models import MapFilters, grid_counts, screen
from application.read_models.district import open_markers
from store.users import Principal
from web.auth import csrf_protect, page_for
from web.district_map import JSON_HEADERS
from web.i18n import LANG_COOKIE, Lang, local_time, pick_lang, role_label
from web.names import Names
from web.pages import page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Wall = Depends(page_for(*MAY[Use.SCREEN]))

FRESH = 0.25  # seconds an answer may have begun before the request came
MAX_AGE = 30.0  # and at most this old (today's counts roll over at midnight)
_cache: dict[Hashable, tuple[float, bytes]] = {}  # key -> (computed at, answer)
_locks: dict[Hashable, asyncio.Lock] = {}  # one computation at a time per key


def screen_data(request: Request, who: Principal, lang: Lang) -> dict[str, Any]:
    svc = services(request)
    zone = svc.settings.display_zone
    now = datetime.now(UTC)
    names = Names(svc.intake, lang)
    found = screen(svc.engine, who, now, zone)
    counts = grid_counts(svc.engine, who, MapFilters(), now) if who.role != "admin" else {}
    markers = open_markers(svc.engine, who, MapFilters()) if who.role != "admin" else []
    return {
        "at": local_time(now, zone),
        "tiles": {
            "reported_today": found.reported_today,
            "closed_today": found.closed_today,
            "open": found.open,
            "overdue": found.overdue,
            "suspended": found.suspended,
        },
        "lights": found.lights,
        "by_street": [
            {"code": s, "name": names.unit(s) or s or "—", "open": n, "overdue": late}
            for s, n, late in found.by_street
        ],
        "latest": [
            {
                "case": e["case_id"],
                "label": names.event(e["type"]),
                "when": local_time(e["occurred_at"], zone),
                "who": role_label(e["actor_role"], lang),
            }
            for e in found.latest
        ],
        "grids": {grid: [n, late] for grid, (n, late) in counts.items()},
        "markers": [[m["case_id"], m["lon"], m["lat"], m["light"]] for m in markers],
        "markers_total": sum(n for n, _ in counts.values()),
    }


@router.get("/screen", response_class=HTMLResponse)
def screen_page(request: Request, user: Principal = Wall) -> HTMLResponse:
    district = services(request).intake.district
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    title = ""
    if district is not None:
        title = district.name_zh if lang == "zh" else district.name_en or district.name_zh
    return page(request, "screen.html", {"district_name": title, "live": True})


@router.get("/screen/data.json")
async def screen_json(request: Request, user: Principal = Wall) -> Response:
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    key = (scope_key(user), user.role == "admin", lang)
    hub = services(request).live
    asked = time.monotonic()
    # Async, so a screen whose answer is ready takes no thread: only the computation does.
    async with _locks.setdefault(key, asyncio.Lock()):
        computed, body = _cache.get(key, (-MAX_AGE, b""))
        # Good enough: begun after this request came (less FRESH), or no change since.
        current = computed >= asked - FRESH or computed >= hub.last_change
        if time.monotonic() - computed > MAX_AGE or not current:
            computed = time.monotonic()
            data = await run_in_threadpool(screen_data, request, user, lang)
            body = json.dumps(data, ensure_ascii=False).encode()
            _cache[key] = (computed, body)
    return Response(body, media_type="application/json", headers=JSON_HEADERS)
