"""Departments (专业部门): the handler's inbox. Signing for, feeding back and requests are
the generic case steps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.auth import gate
from api.problems import PROBLEM_RESPONSES
from api.schemas import CaseOut, Limit, Offset, Page, case_out
from application.authz import Use
from application.context import Services, services
from application.principals import Principal
from application.read_models import DepartmentQueue, department_inbox

router = APIRouter(tags=["departments"], responses=PROBLEM_RESPONSES)


@router.get("/v1/inbox/department", response_model=Page[CaseOut], summary="My department's cases")
def department_queue(
    svc: Annotated[Services, Depends(services)],
    who: Annotated[Principal, Depends(gate(Use.DEPARTMENT_INBOX))],
    queue: Annotated[
        DepartmentQueue | None, Query(description="to_sign_for or in_hand; both if omitted")
    ] = None,
    department: Annotated[str, Query(description="Admins only: which department")] = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases with my department to sign for (待签收) and in hand (处置中, suspended ones
    included): overdue first, then by due time."""
    now = datetime.now(UTC)
    rows, total = department_inbox(svc.engine, who, department, queue, now, limit, offset)
    items = [case_out(r) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
