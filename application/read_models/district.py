"""The district at a glance: open and overdue cases per grid and a marker per open case
(the district map), and the command center's big screen (大屏): today's intake, open and
overdue cases per street, the lights, the latest events. All within the caller's
jurisdiction.

"Overdue" is the overdue board's rule (``overdue.LateFilters``): open and past the stage
deadline. A suspended case (挂账) is open but its clock is stopped: it counts as open,
never as overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, and_, func, select

from application.authz import Use, require, scope, scope_key
from application.read_models.rows import LIVE, C, Row
from store.models import EventRow
from store.users import Principal

MAX_MARKERS = 3000  # past this, the map says how many it left out: narrow the filters


@dataclass(frozen=True)
class MapFilters:
    """What the map shows (all optional, combined with AND)."""

    street: str = ""
    community: str = ""
    department: str = ""
    category: str = ""
    stage: str = ""
    light: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [LIVE]
        for column, value in (
            (C.street, self.street),
            (C.community, self.community),
            (C.department, self.department),
            (C.category, self.category),
            (C.stage, self.stage),
            (C.light, self.light),
        ):
            if value:
                found.append(column == value)
        return found


def _late(now: datetime) -> ColumnElement[bool]:
    return and_(C.status == "open", C.stage_due_at < now)


def grid_counts(
    engine: Engine, who: Principal, filters: MapFilters, now: datetime
) -> dict[str, tuple[int, int]]:
    """Per grid with any: (open cases, overdue cases)."""
    require(who, Use.MAP)
    query = (
        select(C.grid, func.count(), func.count().filter(_late(now)))
        .where(*filters.conditions(), scope(who))
        .group_by(C.grid)
    )
    with engine.connect() as conn:
        return {grid: (n, late) for grid, n, late in conn.execute(query)}


def open_markers(
    engine: Engine, who: Principal, filters: MapFilters, limit: int = MAX_MARKERS
) -> list[Row]:
    """Open cases with a point, the soonest due first, at most ``limit`` (how many there
    are in all: ``grid_counts``)."""
    require(who, Use.MAP)
    where = [*filters.conditions(), C.lon.is_not(None), C.lat.is_not(None), scope(who)]
    query = (
        select(C.case_id, C.lon, C.lat, C.light, C.stage, C.status, C.category, C.department)
        .where(*where)
        .order_by(C.stage_due_at.asc(), C.case_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


@dataclass(frozen=True)
class Screen:
    """What the big screen shows."""

    reported_today: int
    closed_today: int
    open: int
    overdue: int
    lights: dict[str, int]  # open cases (not suspended) per light
    suspended: int
    by_street: list[tuple[str, int, int]]  # street, open, overdue; the most open first
    latest: list[Row]  # the newest events: position, case_id, type, occurred_at, actor_role


def screen(
    engine: Engine, who: Principal, now: datetime, zone: ZoneInfo, latest: int = 12
) -> Screen:
    require(who, Use.SCREEN)
    mine = scope(who)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    newest = select(
        EventRow.position,
        EventRow.case_id,
        EventRow.type,
        EventRow.occurred_at,
        EventRow.actor_role,
    )
    if scope_key(who) != "all":  # (for everyone, the log's own index answers at once)
        newest = newest.join(C, C.case_id == EventRow.case_id).where(mine)
    with engine.connect() as conn:
        reported = conn.execute(
            select(func.count()).where(C.reported_at >= midnight, mine)
        ).scalar_one()
        closed = conn.execute(
            select(func.count()).where(C.closed_at >= midnight, mine)
        ).scalar_one()
        per_street = conn.execute(
            select(C.street, func.count(), func.count().filter(_late(now)))
            .where(LIVE, mine)
            .group_by(C.street)
            .order_by(func.count().desc(), C.street)
        ).all()
        per_light = conn.execute(
            select(C.status, C.light, func.count()).where(LIVE, mine).group_by(C.status, C.light)
        ).all()
        events = conn.execute(newest.order_by(EventRow.position.desc()).limit(latest))
        latest_events = [dict(r) for r in events.mappings()]
    lights = {"green": 0, "yellow": 0, "red": 0}
    suspended = 0
    for status, light, n in per_light:
        if status == "suspended":
            suspended += n
        else:
            lights[light] = lights.get(light, 0) + n
    by_street = [(street, n, late) for street, n, late in per_street]
    return Screen(
        reported_today=reported,
        closed_today=closed,
        open=sum(n for _, n, _ in by_street),
        overdue=sum(late for _, _, late in by_street),
        lights=lights,
        suspended=suspended,
        by_street=by_street,
        latest=latest_events,
    )
