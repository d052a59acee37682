"""Grid workers (网格员): report (上报), see their verify and check tasks, answer them.

A report is idempotent by its id (``report_id`` in the body, else the ``Idempotency-Key``
header): the same report sent again answers 200 with the same case, the same id with a
different report 409. A new case answers 201 with the case as recorded, straight from the
call that started it (no read of the projection); when its record is not visible in time
(its worker is down) 202 with the case's URL, never 404. A grid worker reports only in the
grids he patrols.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import gate
from api.problems import BODY_RESPONSES, PROBLEM_RESPONSES, Problem
from api.routes.actions import add_step_route
from api.schemas import CaseDetail, Limit, Offset, Page, ReportAccepted, TaskOut, case_out
from api.steps import text_type, texts_type
from api.timeline import case_detail
from application.authz import Use
from application.cases import NewReport
from application.context import Services, services
from application.principals import Principal
from application.read_models import tasks
from domain import commands as c
from domain.events import Location
from domain.inputs import rule_of
from domain.sources import FRONT_END_SOURCES, Source
from domain.steps import UPDATE_STEPS
from domain.text import TextRule

router = APIRouter(tags=["grid workers"], responses=PROBLEM_RESPONSES)
Svc = Annotated[Services, Depends(services)]


def _rule(name: str) -> TextRule:
    """The rule of a text of the report, as its field of ReportCase declares it."""
    return rule_of(c.ReportCase, name)


# Sources a report may name (domain.sources); open311 is set by the Open311 front end.
StatedSource = Enum(  # type: ignore[misc]
    "StatedSource",
    {s.name: s.value for s in Source if s not in FRONT_END_SOURCES},
    type=str,
)


class LocationIn(BaseModel):
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude")
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude")
    address: text_type(rule_of(Location, "address")) = ""  # type: ignore[valid-type]


class SelfHandledIn(BaseModel):
    """自行处置: fixed on the spot; the center reviews it."""

    model_config = ConfigDict(extra="forbid")
    result: text_type(_rule("self_handling_result"), required=True) = Field(  # type: ignore[valid-type]
        description="What was done"
    )
    photos: texts_type(_rule("result_photos")) = []  # type: ignore[valid-type]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: str | None = Field(
        None, description="Client report id; else the Idempotency-Key header"
    )
    category: text_type(_rule("category"), required=True) = Field(  # type: ignore[valid-type]
        examples=["E0101"]
    )
    description: text_type(_rule("description"), required=True)  # type: ignore[valid-type]
    location: LocationIn | None = None
    grid: text_type(_rule("grid")) = Field(  # type: ignore[valid-type]
        "", description="15-digit unit grid; located from the point if omitted"
    )
    photos: texts_type(_rule("photos")) = []  # type: ignore[valid-type]
    source: StatedSource | None = Field(
        None,
        description="Intake channel: a grid worker's is grid_worker (the default for him); "
        "an acceptor's one of the public channels (default hotline_12345)",
    )
    self_handled: SelfHandledIn | None = None


def _report_id(body: ReportIn, key: str | None) -> str:
    if body.report_id and key and body.report_id != key:
        raise Problem(422, "report_id_mismatch", "report_id and the Idempotency-Key header differ")
    found = body.report_id or key
    if not found:
        raise Problem(
            422, "report_id_required", "give report_id in the body or an Idempotency-Key header"
        )
    return found


@router.post(
    "/v1/reports",
    status_code=201,
    response_model=CaseDetail,
    summary="上报: report an incident",
    responses={
        **BODY_RESPONSES,
        200: {"model": CaseDetail, "description": "the same report again: same case"},
        202: {
            "model": ReportAccepted,
            "description": "the case is started but its record is not visible yet (its "
            "worker is down or slow): see Location later",
        },
    },
)
async def report(
    body: ReportIn,
    response: Response,
    svc: Svc,
    who: Annotated[Principal, Depends(gate(Use.REPORT))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> CaseDetail | JSONResponse:
    report_id = _report_id(body, idempotency_key)
    location = None
    if body.location is not None:
        location = Location(
            lon=body.location.lon, lat=body.location.lat, address=body.location.address
        )
    handled = body.self_handled
    what = NewReport(
        category=body.category,
        description=body.description,
        grid=body.grid,
        location=location,
        photos=body.photos,
        source=body.source.value if body.source else None,
        self_handled=handled.result if handled else None,
        result_photos=handled.photos if handled else (),
    )
    reported = await svc.cases.report(who, what, report_id)
    url = f"/v1/cases/{report_id}"
    if reported.view is None:
        accepted = ReportAccepted(
            case_id=report_id,
            detail="the case is started; its record is not visible yet: GET it later",
        )
        return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": url})
    response.status_code = 201 if reported.created else 200
    response.headers["Location"] = url
    return case_detail(reported.view)


@router.get("/v1/tasks", response_model=Page[TaskOut], summary="My verify and check tasks")
def my_tasks(
    svc: Svc,
    who: Annotated[Principal, Depends(gate(Use.TASKS))],
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases waiting for my on-site verification (核实) and cases in my grids waiting for
    the re-check (核查), the soonest due first."""
    rows, total = tasks(svc.engine, who, limit, offset)
    items = [case_out(r, task=r["task"]) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# 核实 under the name a grid worker's app uses; 核查 is the generic `check` step
# (api.routes.cases), with the same jurisdiction and rules.
add_step_route(router, UPDATE_STEPS["record_verification"], path="verification")
