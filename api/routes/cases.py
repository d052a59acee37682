"""One case for anyone whose jurisdiction covers it: its state and timeline, and every
human step (``POST /v1/cases/{case_id}/{step}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api.auth import Caller
from api.problems import PROBLEM_RESPONSES
from api.routes.actions import add_step_route
from api.schemas import CaseDetail
from api.timeline import case_detail
from application.context import Services, services
from application.photos import photo_kinds, photos_named
from application.principals import Principal
from application.read_models import case_view
from domain.steps import UPDATE_STEPS

router = APIRouter(tags=["cases"], responses=PROBLEM_RESPONSES)


def read_case(svc: Services, who: Principal, case_id: str) -> CaseDetail:
    detail = case_detail(case_view(svc.engine, who, case_id))
    named = [p for entry in detail.timeline for p in photos_named(entry.details)]
    detail.photo_kinds = photo_kinds(svc.engine, named)
    return detail


@router.get("/v1/cases/{case_id}", response_model=CaseDetail, summary="A case and its timeline")
async def get_case(
    case_id: str, who: Caller, svc: Annotated[Services, Depends(services)]
) -> CaseDetail:
    """Current state (projection), deadlines, light, and the full timeline from the event
    log. Personal data (the reporter, grid workers' ids) only for supervision staff."""
    return await run_in_threadpool(read_case, svc, who, case_id)


for _step in UPDATE_STEPS.values():
    add_step_route(router, _step)
