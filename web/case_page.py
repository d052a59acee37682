"""The case page (``/cases/{id}``) for everyone who may see the case: its state, the
current deadline with the working time left on the case's own calendar, the light, the
timeline from the event log, the photos, the point on the map, and the steps the viewer
may take now. A case outside the viewer's jurisdiction is the 404 page, as on the API.

``/cases/{id}/live`` is the part that refreshes itself when the case changes;
``/photos/{id}`` serves a photo to whoever may see it (``application.photos``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse, HTMLResponse

from application.context import services
from application.errors import NotFound
from application.photos import photo_kinds, photos_named, visible_photo
from application.read_models import case_view, merge_candidates, time_left
from domain.stages import Stage
from domain.steps import UPDATE_STEPS
from store.photos import PhotoStore
from store.users import Principal
from web.auth import SignedIn, csrf_protect
from web.case_view import Presenter
from web.i18n import LANG_COOKIE, pick_lang, translator
from web.names import Names
from web.pages import page
from web.steps import CaseChoices, forms_for, step_title

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MERGE_RADIUS_M = 200.0
MERGING = frozenset({"acceptor", "shift_leader"})
CaseId = Path(min_length=1, max_length=200)


@dataclass(frozen=True)
class Message:
    text: str
    error: bool = False


def case_context(
    request: Request,
    who: Principal,
    case_id: str,
    *,
    message: Message | None = None,
    sent: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """What the case page shows ``who``; a 404 outside his jurisdiction. ``message``: the
    outcome of a step just taken; ``sent``: what a refused step's form held."""
    svc = services(request)
    lang = pick_lang(request.cookies.get(LANG_COOKIE))
    names = Names(svc.intake, lang)
    try:
        view = case_view(svc.engine, who, case_id)
    except NotFound:
        raise HTTPException(404, "no such case") from None
    assert view.state is not None
    presenter = Presenter(names, translator(lang))
    row = view.row
    location = view.reported.get("location") or {}
    grid_shape = None
    district = svc.intake.district
    if district is not None:
        try:
            area = district.grid(row["grid"]).area
            grid_shape = area.to_geojson() if area is not None else None
        except LookupError:
            grid_shape = None
    candidates: list[dict[str, Any]] = []
    show_merge = who.role in MERGING and view.state.stage in (Stage.VERIFY, Stage.DISPATCH)
    if show_merge:
        candidates = merge_candidates(svc.engine, who, case_id, radius_m=MERGE_RADIUS_M)
    geo = {
        "case": {"id": row["case_id"], "lon": row["lon"], "lat": row["lat"]},
        "grid": grid_shape,
        "candidates": [
            {"id": c["case_id"], "lon": c["lon"], "lat": c["lat"], "distance_m": c["distance_m"]}
            for c in candidates
        ],
    }
    choices = CaseChoices(
        names,
        svc.intake,
        row["category"],
        row["grid"],
        [(c["case_id"], f"{c['case_id']} · {round(c['distance_m'])} m") for c in candidates],
    )
    t = translator(lang)
    done = request.query_params.get("done", "")
    if message is None and done in UPDATE_STEPS:
        message = Message(t("done", step=step_title(UPDATE_STEPS[done], lang)))
    return {
        "message": message,
        "forms": forms_for(view.state, who, choices, sent=sent),
        "view": view,
        "row": row,
        "state": view.state,
        "left": time_left(view.state, datetime.now(UTC)),
        "timeline": presenter.timeline(view),
        "photos": presenter.photos(
            view,
            photo_kinds(svc.engine, [p for r in view.records for p in photos_named(r["data"])]),
        ),
        "location": location if isinstance(location, dict) else {},
        "geo_json": json.dumps(geo, ensure_ascii=False),
        "candidates": candidates,
        "show_merge": show_merge,
        "radius": int(MERGE_RADIUS_M),
        "live": True,
    }


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, user: SignedIn, case_id: str = CaseId) -> HTMLResponse:
    return page(request, "case.html", case_context(request, user, case_id))


@router.get("/cases/{case_id}/live", response_class=HTMLResponse)
def case_live(request: Request, user: SignedIn, case_id: str = CaseId) -> HTMLResponse:
    return page(request, "case_live.html", case_context(request, user, case_id))


@router.get("/photos/{photo_id}")
def photo(
    request: Request,
    user: SignedIn,
    photo_id: str = Path(pattern=r"^sha256:[0-9a-f]{64}$"),
) -> FileResponse:
    svc = services(request)
    store = PhotoStore(svc.engine, svc.settings.photos_path)
    try:
        found = visible_photo(store, user, photo_id)
    except NotFound:
        raise HTTPException(404, "no such photo") from None
    path = store.path(found.hash)
    if not path.is_file():
        raise HTTPException(404, "no such photo")
    return FileResponse(
        path,
        media_type=found.content_type,
        headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        content_disposition_type="inline",
    )
