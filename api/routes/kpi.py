"""Evaluation (综合评价) for supervision: the KPI table of a day, week or month per
department, region or grid worker, and its ranking; JSON or CSV. Aggregated on every call
from each case's evaluation facts (``store.kpi`` over the ``kpi_facts`` projection of the
event log); definitions in ``domain/kpi.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import gate
from api.export import CSV_RESPONSE, FormatQuery, csv_response, wants_csv
from api.kpi import KpiTableOut, csv_columns, csv_record, table_out
from api.problems import PROBLEM_RESPONSES
from application.authz import Use
from application.context import Services, services
from application.principals import Principal
from application.read_models import kpi_table, ranking
from application.read_models.kpi import FIRST_DAY, LAST_DAY
from domain.kpi import COUNTS, ObjectKind, PeriodKind

router = APIRouter(tags=["evaluation"], responses=PROBLEM_RESPONSES)

Svc = Annotated[Services, Depends(services)]
Evaluator = Annotated[Principal, Depends(gate(Use.KPI))]
Period = Annotated[PeriodKind, Query(description="day, week (Monday first) or month")]
Day = Annotated[
    date | None,
    Query(
        alias="date",
        description=f"A day inside the period, YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY} "
        "(default: today)",
        # The years FIRST_DAY..LAST_DAY, in the schema (format "date" has no bounds).
        json_schema_extra={"pattern": "^20[0-9]{2}-"},
    ),
]
By = Annotated[ObjectKind, Query(description="department, grid, community, street or grid_worker")]


def _answer(
    request: Request, fmt: FormatQuery, out: KpiTableOut, name: str
) -> KpiTableOut | Response:
    if not wants_csv(request, fmt):
        return out
    kind = ObjectKind(out.object_kind)
    filename = f"kpi-{name}-{kind.value}-{out.period}.csv"
    records = (csv_record(r) for r in out.items)
    return csv_response(records, csv_columns(kind, COUNTS), filename, missing="-")


@router.get(
    "/v1/kpi",
    response_model=KpiTableOut,
    summary="Evaluation table (综合评价)",
    responses=CSV_RESPONSE,
)
def kpi(
    request: Request,
    svc: Svc,
    who: Evaluator,
    period: Period = PeriodKind.MONTH,
    day: Day = None,
    by: By = ObjectKind.DEPARTMENT,
    fmt: FormatQuery = None,
) -> KpiTableOut | Response:
    """Every object of the period with anything due, best score first: score, grade,
    counts and each rate with its numerator and denominator (value null when nothing was
    due). A running period is evaluated as far as it has run. Supervisors and leaders see
    the regions and grid workers of their areas (and every department)."""
    now = datetime.now(UTC)
    table, rows = kpi_table(svc.engine, who, period, day, by, now)
    out = table_out(table, rows, list(range(1, len(rows) + 1)), now)
    return _answer(request, fmt, out, "table")


@router.get(
    "/v1/kpi/ranking",
    response_model=KpiTableOut,
    summary="Evaluation ranking: the best and the worst",
    responses=CSV_RESPONSE,
)
def kpi_ranking(
    request: Request,
    svc: Svc,
    who: Evaluator,
    period: Period = PeriodKind.MONTH,
    day: Day = None,
    by: By = ObjectKind.DEPARTMENT,
    top: Annotated[int, Query(ge=0, le=500, description="How many from the top")] = 10,
    bottom: Annotated[int, Query(ge=0, le=500, description="How many from the bottom")] = 0,
    fmt: FormatQuery = None,
) -> KpiTableOut | Response:
    """The ``top`` best and ``bottom`` worst scored objects (unscored ones left out), each
    with its rank among the scored objects I may see."""
    now = datetime.now(UTC)
    table, rows = kpi_table(svc.engine, who, period, day, by, now)
    kept = ranking(rows, top, bottom)
    out = table_out(table, [r for _, r in kept], [rank for rank, _ in kept], now)
    out.total = sum(1 for r in rows if r.score is not None)
    return _answer(request, fmt, out, "ranking")
