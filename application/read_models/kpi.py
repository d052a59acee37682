"""Evaluation tables (综合评价) for a caller: ``store.kpi.evaluate`` for one period, cut to
what he may see, best score first. The API and ``gridcase kpi`` both read them here.

Who sees which rows: the centers' staff and admins every row. A supervisor or leader sees
the region rows (grid, community, street) inside his areas, and the grid workers who
patrol a grid there; departments work for the whole district, so every department row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Engine, or_, select

from application.authz import CENTER_STAFF, Use, require
from application.errors import Invalid
from domain.kpi import REGION_PREFIX, KpiRow, ObjectKind, PeriodKind
from store.auth_models import UserUnitRow
from store.kpi import DEFAULT_TZ, KpiTable, evaluate
from store.users import Principal

# Dates the calendar and the periods are defined for; others are refused, not guessed.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _inside(engine: Engine, who: Principal, kind: ObjectKind, keys: list[str]) -> set[str]:
    if who.role in CENTER_STAFF or who.unbounded or kind is ObjectKind.DEPARTMENT:
        return set(keys)
    if who.role not in ("supervisor", "leader") or not who.units:
        return set()
    if kind in REGION_PREFIX:
        return {k for k in keys if k.startswith(who.units)}
    in_area = or_(*(UserUnitRow.unit.startswith(u, autoescape=True) for u in who.units))
    with engine.connect() as conn:
        found = conn.execute(
            select(UserUnitRow.user_id).where(UserUnitRow.user_id.in_(keys), in_area).distinct()
        )
        return set(found.scalars())


def by_score(rows: Sequence[KpiRow]) -> list[KpiRow]:
    return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), r.key))


def kpi_day(day: date | None, now: datetime) -> date:
    """The day whose period is evaluated: ``day``, or today in the center's zone."""
    found = day or now.astimezone(DEFAULT_TZ).date()
    if not FIRST_DAY <= found <= LAST_DAY:
        raise Invalid(f"date must lie between {FIRST_DAY} and {LAST_DAY}", code="date_out_of_range")
    return found


def kpi_table(
    engine: Engine,
    who: Principal,
    period: PeriodKind,
    day: date | None,
    by: ObjectKind,
    now: datetime,
    weights: Mapping[str, float] | None = None,
) -> tuple[KpiTable, list[KpiRow]]:
    """The table of the period holding ``day`` (default: today) as far as it has run at
    ``now``, and the rows ``who`` may see, best score first."""
    require(who, Use.KPI)
    try:
        table = evaluate(
            engine, period, kpi_day(day, now), None, by, weights, tz=DEFAULT_TZ, as_of=now
        )
    except ValueError as exc:  # e.g. a weight for a component that does not exist
        raise Invalid(str(exc), code="invalid_kpi_request") from None
    inside = _inside(engine, who, by, [r.key for r in table.rows])
    return table, by_score([r for r in table.rows if r.key in inside])


def ranking(rows: Sequence[KpiRow], top: int, bottom: int) -> list[tuple[int, KpiRow]]:
    """The ``top`` best and ``bottom`` worst scored rows (unscored ones left out), each with
    its rank among the scored rows given."""
    scored = [r for r in rows if r.score is not None]
    n = len(scored)
    keep = sorted({*range(min(top, n)), *range(max(n - bottom, 0), n)})
    return [(i + 1, scored[i]) for i in keep]
