"""Evaluation tables (综合评价) for the API: ``store.kpi.evaluate`` for one period, cut to
what the caller may see, in the shapes the API answers (JSON, and the CSV columns of
``gridcase kpi table --csv``).

Who sees which rows: the centers' staff and admins every row. A supervisor or leader sees
the region rows (grid, community, street) inside his areas, and the grid workers who
patrol a grid there; departments work for the whole district, so every department row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, or_, select

from api.schemas import Timestamp
from domain.kpi import RATES, REGION_PREFIX, KpiRow, ObjectKind, PeriodKind
from store.auth_models import UserUnitRow
from store.kpi import DEFAULT_TZ, KpiTable, evaluate
from store.users import CENTER_ROLES, Principal

# Dates the calendar and the periods are defined for; others are refused, not guessed.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class RateOut(BaseModel):
    value: float | None  # hits / of; None when nothing was due (never 0 or 100)
    hits: int
    of: int
    label_zh: str


class KpiRowOut(BaseModel):
    rank: int
    period: str
    object_kind: str
    object: str
    score: float | None
    grade: str
    counts: dict[str, int]
    rates: dict[str, RateOut]


class KpiTableOut(BaseModel):
    period_kind: str
    period: str
    start: Timestamp
    end: Timestamp
    as_of: Timestamp
    object_kind: str
    items: list[KpiRowOut]
    total: int


def rate_names(kind: ObjectKind) -> list[str]:
    """The rates a table of ``kind`` has (漏报 only for grid workers)."""
    return [n for n in RATES if n != "missed_report" or kind is ObjectKind.GRID_WORKER]


def _inside(engine: Engine, who: Principal, kind: ObjectKind, keys: list[str]) -> set[str]:
    if who.role in CENTER_ROLES or who.role == "admin" or kind is ObjectKind.DEPARTMENT:
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


def kpi_table(
    engine: Engine, who: Principal, period: PeriodKind, day: date, by: ObjectKind, now: datetime
) -> tuple[KpiTable, list[KpiRow]]:
    """The table of the period holding ``day`` as far as it has run at ``now``, and the
    rows ``who`` may see, best score first."""
    table = evaluate(engine, period, day, None, by, tz=DEFAULT_TZ, as_of=now)
    inside = _inside(engine, who, by, [r.key for r in table.rows])
    return table, by_score([r for r in table.rows if r.key in inside])


def row_out(row: KpiRow, rank: int) -> KpiRowOut:
    return KpiRowOut(
        rank=rank,
        period=row.period.label,
        object_kind=row.object_kind.value,
        object=row.key,
        score=None if row.score is None else round(row.score, 2),
        grade=row.grade,
        counts=dict(row.counts),
        rates={
            name: RateOut(
                value=None if (r := row.rates[name]).value is None else round(r.value, 4),
                hits=r.hits,
                of=r.of,
                label_zh=RATES[name],
            )
            for name in rate_names(row.object_kind)
        },
    )


def table_out(table: KpiTable, rows: list[KpiRow], ranks: list[int], now: datetime) -> KpiTableOut:
    period = table.periods[0]
    return KpiTableOut(
        period_kind=period.kind.value,
        period=period.label,
        start=period.start,
        end=period.end,
        as_of=now,
        object_kind=table.object_kind.value,
        items=[row_out(r, n) for r, n in zip(rows, ranks, strict=True)],
        total=len(rows),
    )


def csv_columns(kind: ObjectKind, counts: Sequence[str]) -> list[str]:
    """The columns of ``gridcase kpi table --csv``: each rate with its hits and count."""
    rates = [c for n in rate_names(kind) for c in (n, f"{n}_hits", f"{n}_of")]
    return ["rank", "period", "object_kind", "object", "score", "grade", *counts, *rates]


def csv_record(row: KpiRowOut) -> dict[str, Any]:
    record: dict[str, Any] = {
        "rank": row.rank,
        "period": row.period,
        "object_kind": row.object_kind,
        "object": row.object,
        "score": row.score,
        "grade": row.grade,
        **row.counts,
    }
    for name, rate in row.rates.items():
        record[name], record[f"{name}_hits"], record[f"{name}_of"] = rate.value, rate.hits, rate.of
    return record
