"""Supervisors and leaders (督查, 指挥长) — and center staff — watching what is late:
the overdue list with filters, and counts by department, area, category or stage.
Urge (催办) and supervise (督办) are the generic case steps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import gate
from api.export import CSV_RESPONSE, FormatQuery, wants_csv
from api.overdue_export import overdue_csv
from api.problems import PROBLEM_RESPONSES
from api.schemas import CountOut, LateCaseOut, Limit, Offset, Page, case_out
from application.authz import Use
from application.context import Services, services
from application.principals import Principal
from application.read_models import GroupBy, LateFilters, late_cases, late_counts

router = APIRouter(tags=["supervisors"], responses=PROBLEM_RESPONSES)

Svc = Annotated[Services, Depends(services)]
Supervision = Annotated[Principal, Depends(gate(Use.OVERDUE))]


def late_filters(
    street: Annotated[str, Query(description="9-digit street code")] = "",
    community: Annotated[str, Query(description="12-digit community code")] = "",
    grid: Annotated[str, Query(description="15-digit unit grid code")] = "",
    department: str = "",
    category: str = "",
    stage: str = "",
    source: str = "",
    light: Annotated[str, Query(description="green, yellow or red")] = "",
    reported_from: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    reported_to: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    at_risk: Annotated[bool, Query(description="Also yellow cases not yet due")] = False,
) -> LateFilters:
    return LateFilters(
        street=street,
        community=community,
        grid=grid,
        department=department,
        category=category,
        stage=stage,
        source=source,
        light=light,
        reported_from=_aware(reported_from),
        reported_to=_aware(reported_to),
        at_risk=at_risk,
    )


def _aware(value: datetime | None) -> datetime | None:
    # A time without an offset is read as UTC rather than refused: a day is a day.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


Filters = Annotated[LateFilters, Depends(late_filters)]


@router.get(
    "/v1/cases/overdue",
    response_model=Page[LateCaseOut],
    summary="Overdue cases",
    responses=CSV_RESPONSE,
)
def overdue(
    request: Request,
    svc: Svc,
    who: Supervision,
    filters: Filters,
    limit: Limit = 50,
    offset: Offset = 0,
    fmt: FormatQuery = None,
) -> dict[str, Any] | Response:
    """Open cases past their stage deadline (超期), the most late first, within my area.
    As CSV (``?format=csv`` or ``Accept: text/csv``): every such case, not one page."""
    now = datetime.now(UTC)
    if wants_csv(request, fmt):
        return overdue_csv(svc.engine, who, filters, now)
    rows, total = late_cases(svc.engine, who, filters, now, limit, offset)
    items = [case_out(r, late_by_seconds=r["late_by_seconds"]) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/v1/cases/overdue/counts", response_model=Page[CountOut], summary="Overdue cases counted"
)
def overdue_counts(
    svc: Svc,
    who: Supervision,
    filters: Filters,
    group_by: Annotated[
        GroupBy,
        Query(
            description="What to count by: department (the default), street, community, "
            "grid, category or stage"
        ),
    ] = GroupBy.DEPARTMENT,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """How many overdue cases per department, street, community, grid, category or stage
    (same filters as the list), the most first."""
    rows, total = late_counts(svc.engine, who, filters, group_by, datetime.now(UTC), limit, offset)
    items = [{"key": r["key"], "count": r["count"]} for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
