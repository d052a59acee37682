"""Evaluation tables (综合评价) in the shapes the API answers: JSON, and the CSV columns of
``gridcase kpi table --csv``. What the caller may see of a table is the application's
read model (``application.read_models.kpi``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.schemas import Timestamp
from domain.kpi import RATES, KpiRow, ObjectKind
from store.kpi import KpiTable


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
