"""The district map (区域地图): the unit grids with their names and codes, shaded by the
open and overdue cases in each, and a marker per open case coloured by its light; filters;
a click opens the case. Everything within the viewer's jurisdiction
(``application.read_models.district``); the grids are reference data
(``store.reference``, as imported). No basemap unless one is configured (docs/web.md).

- ``/map`` the page, ``/map/grids.geojson`` the grids, ``/map/data.json`` the counts and
  markers for the filters (re-fetched when cases change).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from application.authz import MAY, Use
from application.context import services
from application.read_models import MapFilters, grid_counts, open_markers
from store.users import Principal
from web.auth import csrf_protect, page_for
from web.i18n import LANG_COOKIE, pick_lang
from web.names import Names
from web.pages import SECURITY_HEADERS, page

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Viewer = Depends(page_for(*MAY[Use.MAP]))

FILTERS = ("street", "community", "department", "category", "stage", "light")
OPEN_STAGES = ("verify", "review", "dispatch", "sign_for", "handle", "check", "close")
JSON_HEADERS = {k: v for k, v in SECURITY_HEADERS.items() if k != "Content-Security-Policy"}


def map_filters(request: Request) -> tuple[MapFilters, dict[str, str]]:
    chosen = {k: request.query_params.get(k, "").strip()[:40] for k in FILTERS}
    return MapFilters(**chosen), {k: v for k, v in chosen.items() if v}


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, user: Principal = Viewer) -> HTMLResponse:
    _, chosen = map_filters(request)
    names = Names(services(request).intake, pick_lang(request.cookies.get(LANG_COOKIE)))
    return page(
        request,
        "map.html",
        {
            "chosen": chosen,
            "query": request.url.query,
            "stage_choices": [(s, names.stage(s)) for s in OPEN_STAGES],
            "light_choices": [(c, names.light(c)) for c in ("green", "yellow", "red")],
            "live": True,
        },
    )


@router.get("/map/grids.geojson")
def grids(request: Request, user: Principal = Viewer) -> JSONResponse:
    """The unit grids as GeoJSON, each with its code, name, community and street."""
    intake = services(request).intake
    names = Names(intake, pick_lang(request.cookies.get(LANG_COOKIE)))
    district = intake.district
    features: list[dict[str, Any]] = []
    if district is not None:
        for g in district.grids:
            if g.area is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "id": g.code,
                    "geometry": g.area.to_geojson(),
                    "properties": {
                        "code": g.code,
                        "name": g.name,
                        "community": names.unit(g.community_code),
                        "street": names.unit(g.street_code),
                    },
                }
            )
    body = {"type": "FeatureCollection", "features": features}
    return JSONResponse(body, headers=JSON_HEADERS, media_type="application/geo+json")


@router.get("/map/data.json")
def map_data(request: Request, user: Principal = Viewer) -> JSONResponse:
    """Open and overdue cases per grid, and the open cases as markers
    ``[id, lon, lat, light, stage]`` (the soonest due first, at most ``MAX_MARKERS``)."""
    svc = services(request)
    filters, _ = map_filters(request)
    now = datetime.now(UTC)
    counts = grid_counts(svc.engine, user, filters, now)
    markers = open_markers(svc.engine, user, filters)
    total = sum(n for n, _ in counts.values())
    body = {
        "grids": {grid: [n, late] for grid, (n, late) in counts.items()},
        "markers": [
            [m["case_id"], m["lon"], m["lat"], m["light"], m["stage"], m["status"]] for m in markers
        ],
        "total": total,
        "at": now.isoformat(),
    }
    return JSONResponse(body, headers=JSON_HEADERS)
