"""Supervision and command center staff (受理员, 值班长, 派遣员): their work queues. Their
steps (file, reject, dispatch, decide requests, close …) are the generic case steps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.auth import gate
from api.problems import PROBLEM_RESPONSES
from api.schemas import CaseOut, Limit, Offset, Page, case_out
from application.authz import Use
from application.context import Services, services
from application.principals import Principal
from application.read_models import CenterQueue, center_inbox

router = APIRouter(tags=["center"], responses=PROBLEM_RESPONSES)

CenterReader = Annotated[Principal, Depends(gate(Use.CENTER_INBOX))]


@router.get("/v1/inbox/center", response_model=Page[CaseOut], summary="The center's queues")
def center_queue(
    svc: Annotated[Services, Depends(services)],
    who: CenterReader,
    queue: Annotated[
        CenterQueue,
        Query(description="to_file (the default), to_dispatch, requests or to_close"),
    ] = CenterQueue.TO_FILE,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """to_file: reports to verify and file (and self-handling to review); to_dispatch:
    filed cases to send to a department; requests: extension, return and suspension
    requests to decide. The soonest due first."""
    rows, total = center_inbox(svc.engine, who, queue, limit, offset)
    items = [case_out(r) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
