"""Evaluation tables (综合评价) for a caller: ``store.kpi.evaluate`` for one period, cut to
what he may see, best score first. The API and ``gridcase kpi`` both read them here.

Who sees which rows: the centers' staff and admins every row. A supervisor or leader sees
the region rows (grid, community, street) inside his areas, and the grid workers who
patrol a grid there; departments work for the whole district, so every department row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time

from sqlalchemy import Engine, or_, select

from application.authz import CENTER_STAFF, Use, require, scope
from application.errors import Invalid
from domain.kpi import (
    RATES,
    REGION_PREFIX,
    KpiRow,
    ObjectKind,
    PeriodKind,
    evaluate_facts,
    periods_between,
)
from store.auth_models import UserUnitRow
from store.kpi import DEFAULT_TZ, KpiTable, evaluate
from store.kpi_log import case_facts_in
from store.models import CaseRow
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


def kpi_cases(
    engine: Engine,
    who: Principal,
    period: PeriodKind,
    day: date | None,
    by: ObjectKind,
    key: str,
    rate: str,
    now: datetime,
) -> list[tuple[str, bool]]:
    """The cases behind one figure of ``kpi_table``: those counted in the denominator of
    ``rate`` for object ``key`` in the period, each with whether it counted as a hit, that
    ``who`` may see. Each case is put through the same evaluation alone
    (``domain.kpi.evaluate_facts``), so the list is the table's own definition, not a
    second one. ``missed_report`` is a share of other people's reports and has no cases
    of its own to list."""
    require(who, Use.KPI)
    if rate not in RATES or rate == "missed_report":
        raise Invalid(f"no cases are listed behind {rate!r}", code="invalid_kpi_request")
    first = _start(kpi_day(day, now))
    [span] = periods_between(period, first, first, DEFAULT_TZ)
    start, end = span.start, span.end
    if key not in _inside(engine, who, by, [key]):
        return []
    found: list[tuple[str, bool]] = []
    for facts in case_facts_in(engine, start, end, as_of=now):
        for row in evaluate_facts(
            [facts],
            period_kind=period,
            start=start,
            end=end,
            object_kind=by,
            tz=DEFAULT_TZ,
            as_of=now,
        ):
            ratio = row.rates[rate]
            if row.key == key and ratio.of:
                found.append((facts.case_id, ratio.hits > 0))
    visible = _visible(engine, who, [case_id for case_id, _ in found])
    return sorted((c, hit) for c, hit in found if c in visible)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=DEFAULT_TZ)


def _visible(engine: Engine, who: Principal, case_ids: list[str]) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(CaseRow.case_id).where(CaseRow.case_id.in_(case_ids), scope(who))
            ).scalars()
        )
