"""The overdue list (超期案件) as a CSV file: every case the filters select, most late first,
one row each with its deadlines flattened into columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import Response
from sqlalchemy import Engine

from api.export import csv_response
from api.schemas import case_out
from application.principals import Principal
from application.read_models import LateFilters, late_cases

# A file for a spreadsheet, not a dump of the database: past this, narrow the filters.
EXPORT_MAX = 10_000

COLUMNS = (
    "case_id",
    "late_by_seconds",
    "stage",
    "stage_label_zh",
    "light",
    "stage_due_at",
    "disposal_due_at",
    "department",
    "category",
    "street",
    "community",
    "grid",
    "source",
    "reporter_id",
    "reported_at",
    "supervision_level",
    "extension_count",
    "rework_count",
    "description",
)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    record = case_out(row, late_by_seconds=round(row["late_by_seconds"]))
    for key in ("reported_at", "stage_due_at", "disposal_due_at"):
        value = row[key]
        record[key] = value.isoformat() if value is not None else None
    return record


def overdue_csv(engine: Engine, who: Principal, filters: LateFilters, now: datetime) -> Response:
    rows, total = late_cases(engine, who, filters, now, EXPORT_MAX, 0)
    return csv_response(
        (_record(r) for r in rows),
        COLUMNS,
        f"overdue-{now:%Y%m%dT%H%M%SZ}.csv",
        headers={"X-Total-Count": str(total)},
    )
