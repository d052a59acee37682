"""What is late (超期): open cases past their stage deadline (or on yellow), with filters,
listed most late first or counted by department, area, category or stage. The one
implementation behind the API's ``/v1/cases/overdue`` and the CLI's ``gridcase overdue``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, or_, select

from application.authz import Use, require, scope
from application.read_models.rows import C, Page, cases, page, plain_page
from store.users import Principal


class LateOrder(StrEnum):
    """How the overdue list is sorted; the most late first within equal keys."""

    LATE = "late"  # the most late first
    REPORTED = "reported"  # the newest report first
    DEPARTMENT = "department"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    CATEGORY = "category"
    STAGE = "stage"

    def keys(self) -> list[Any]:
        most_late = [C.stage_due_at.asc().nulls_last(), C.case_id]
        if self is LateOrder.LATE:
            return most_late
        if self is LateOrder.REPORTED:
            return [C.reported_at.desc(), C.case_id]
        return [getattr(C, self.value), *most_late]


class GroupBy(StrEnum):
    DEPARTMENT = "department"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    CATEGORY = "category"
    STAGE = "stage"


@dataclass(frozen=True)
class LateFilters:
    """Filters of the overdue list (all optional, combined with AND)."""

    street: str = ""
    community: str = ""
    grid: str = ""
    department: str = ""
    category: str = ""
    stage: str = ""
    source: str = ""
    light: str = ""
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    at_risk: bool = False  # also open cases on yellow that are not due yet

    def conditions(self, now: datetime) -> list[ColumnElement[bool]]:
        late: ColumnElement[bool] = C.stage_due_at < now
        if self.at_risk:
            late = or_(late, C.light == "yellow")
        found = [C.status == "open", late]
        for column, value in (
            (C.street, self.street),
            (C.community, self.community),
            (C.grid, self.grid),
            (C.department, self.department),
            (C.category, self.category),
            (C.stage, self.stage),
            (C.source, self.source),
            (C.light, self.light),
        ):
            if value:
                found.append(column == value)
        if self.reported_from is not None:
            found.append(C.reported_at >= self.reported_from)
        if self.reported_to is not None:
            found.append(C.reported_at < self.reported_to)
        return found


def late_cases(
    engine: Engine,
    who: Principal,
    filters: LateFilters,
    now: datetime,
    limit: int,
    offset: int,
    order: LateOrder = LateOrder.LATE,
) -> Page:
    """Open cases past their stage deadline (or on yellow), the most late first (or in
    ``order``); each row has ``late_by_seconds`` (negative: not due yet, at risk)."""
    require(who, Use.OVERDUE)
    query = cases().where(*filters.conditions(now), scope(who)).order_by(*order.keys())
    rows, total = page(engine, who, query, limit, offset)
    for row in rows:
        due = row["stage_due_at"]
        row["late_by_seconds"] = (now - due).total_seconds() if due is not None else 0.0
    return rows, total


def late_counts(
    engine: Engine,
    who: Principal,
    filters: LateFilters,
    group_by: GroupBy,
    now: datetime,
    limit: int,
    offset: int,
) -> Page:
    """How many such cases per department, area, category or stage (rows ``key`` and
    ``count``); the most first."""
    require(who, Use.OVERDUE)
    column = getattr(C, group_by.value)
    count = func.count().label("count")
    query = (
        select(column.label("key"), count)
        .where(*filters.conditions(now), scope(who))
        .group_by(column)
        .order_by(count.desc(), column)
    )
    return plain_page(engine, query, limit, offset)
