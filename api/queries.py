"""Read-side queries of the API on the ``cases`` projection, always within the caller's
jurisdiction (``api.jurisdiction.scope``). Each returns a page of rows and the total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, case, func, or_, select

from api.jurisdiction import assigned_verifications, scope
from store.models import CaseRow
from store.users import Principal

Rows = list[dict[str, Any]]
C = CaseRow
_OPEN = ("open", "suspended")


class CenterQueue(StrEnum):
    TO_FILE = "to_file"  # 待立案 (and self-handling to review)
    TO_DISPATCH = "to_dispatch"  # 待派遣
    REQUESTS = "requests"  # a department's extension, return or suspension to decide


class DepartmentQueue(StrEnum):
    TO_SIGN_FOR = "to_sign_for"  # 待签收
    IN_HAND = "in_hand"  # 处置中 (suspended ones included)


class GroupBy(StrEnum):
    DEPARTMENT = "department"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    CATEGORY = "category"
    STAGE = "stage"


@dataclass(frozen=True)
class LateFilters:
    """Filters of the supervisors' overdue list (all optional, combined with AND)."""

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


def _page(engine: Engine, query: Select[Any], limit: int, offset: int) -> tuple[Rows, int]:
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [dict(r) for r in rows], int(total.scalar_one())


def _cases() -> Select[Any]:
    return select(C.__table__)


def tasks(engine: Engine, who: Principal, limit: int, offset: int) -> tuple[Rows, int]:
    """A grid worker's verify (核实) and check (核查) tasks, the soonest due first."""
    verify = and_(
        C.stage == "verify",
        C.verification == "requested",
        C.case_id.in_(assigned_verifications(who.user_id)),
    )
    check = and_(C.stage == "check", C.grid.in_(who.units))
    task = case((C.stage == "verify", "verify"), else_="check").label("task")
    query = (
        select(C.__table__, task)
        .where(or_(verify, check), scope(who))
        .order_by(C.stage_due_at.asc().nulls_last(), C.case_id)
    )
    return _page(engine, query, limit, offset)


def center_inbox(
    engine: Engine, who: Principal, queue: CenterQueue, limit: int, offset: int
) -> tuple[Rows, int]:
    """The centers' work queues, the soonest due first."""
    if queue is CenterQueue.TO_FILE:
        where = and_(C.status == "open", C.stage.in_(("verify", "review")))
    elif queue is CenterQueue.TO_DISPATCH:
        where = and_(C.status == "open", C.stage == "dispatch")
    else:
        where = and_(C.status.in_(_OPEN), C.pending_request != "")
    query = (
        _cases()
        .where(where, scope(who))
        .order_by(C.stage_due_at.asc().nulls_last(), C.reported_at, C.case_id)
    )
    return _page(engine, query, limit, offset)


def department_inbox(
    engine: Engine,
    who: Principal,
    department: str,
    queue: DepartmentQueue | None,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[Rows, int]:
    """A department's cases to sign for and in hand: overdue first, then by due time."""
    stages: Sequence[str] = ("sign_for", "handle")
    if queue is DepartmentQueue.TO_SIGN_FOR:
        stages = ("sign_for",)
    elif queue is DepartmentQueue.IN_HAND:
        stages = ("handle",)
    overdue_first = case((C.stage_due_at < now, 0), else_=1)
    query = (
        _cases()
        .where(
            C.department == department,
            C.status.in_(_OPEN),
            C.stage.in_(stages),
            scope(who),
        )
        .order_by(overdue_first, C.stage_due_at.asc().nulls_last(), C.case_id)
    )
    return _page(engine, query, limit, offset)


def late_cases(
    engine: Engine, who: Principal, filters: LateFilters, now: datetime, limit: int, offset: int
) -> tuple[Rows, int]:
    """Open cases past their stage deadline (or on yellow), the most late first."""
    query = (
        _cases()
        .where(*filters.conditions(now), scope(who))
        .order_by(C.stage_due_at.asc().nulls_last(), C.case_id)
    )
    return _page(engine, query, limit, offset)


def late_counts(
    engine: Engine,
    who: Principal,
    filters: LateFilters,
    group_by: GroupBy,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[Rows, int]:
    """How many such cases per department, area, category or stage; the most first."""
    column = getattr(C, group_by.value)
    count = func.count().label("count")
    query = (
        select(column.label("key"), count)
        .where(*filters.conditions(now), scope(who))
        .group_by(column)
        .order_by(count.desc(), column)
    )
    return _page(engine, query, limit, offset)
