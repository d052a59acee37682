"""Evaluation (综合评价) aggregated in SQL from the ``kpi_facts`` projection.

Each case's evaluation facts are kept, one row per case, with every append
(store/kpi_projection.py); a KPI table is a handful of GROUP BY queries over the rows whose
anchor falls in the window — one per kind of anchor (report, filing deadline, verify
task, check tasks, disposal deadline, supervision cards), each counting what
``domain.kpi`` counts for that anchor — and the rows are scored by the same
``domain.kpi.kpi_rows``. ``domain.kpi.evaluate_facts`` over the facts folded from the log
is the reference: tests/integration/test_kpi_projection.py holds the two equal on random
months of cases.

The facts are those of the log as it stands: with ``as_of``, anchors at or after it are
not yet due (a running period evaluated as far as it has run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, RowMapping, text

from domain.kpi import (
    COUNTS,
    DISPOSAL_RATES,
    RATES,
    REGION_PREFIX,
    KpiRow,
    ObjectKind,
    Period,
    PeriodKind,
    Tally,
    kpi_rows,
    periods_between,
)
from store.models import REDISPATCHED

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class KpiTable:
    period_kind: PeriodKind
    object_kind: ObjectKind
    periods: list[Period]
    rows: list[KpiRow]
    cases_read: int  # facts rows aggregated (a case counted under two anchors: twice)


def _moment(value: date | datetime, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone")
        return value
    return datetime.combine(value, time(), tzinfo=tz)


# -- the queries ----------------------------------------------------------------------------
# {p}: the period an anchor falls in (its number, from 1); {own}: the object a case's own
# rates go to; {units}: a grid worker's grids (missed_report). Only fixed SQL is
# interpolated.

_REPORTED = """
SELECT {p} AS period, {own} AS key, count(*) AS n, count(*) AS reported,
       count(*) FILTER (WHERE valid IS NOT NULL) AS valid_report_of,
       count(*) FILTER (WHERE valid) AS valid_report_hits,
       {units} AS units
FROM kpi_facts
WHERE reported_at >= :start AND reported_at < :until AND {own} <> ''
GROUP BY 1, 2
"""
_REPORTS_IN_GRIDS = """
SELECT {p} AS period, grid,
       CASE WHEN reporter_role = 'grid_worker' THEN reporter ELSE '' END AS who, count(*) AS n
FROM kpi_facts
WHERE reported_at >= :start AND reported_at < :until AND outcome <> 'merged'
GROUP BY 1, 2, 3
"""
_FILING = """
SELECT {p} AS period, {own} AS key, count(*) AS n, count(*) AS on_time_filing_of,
       count(*) FILTER (WHERE filed_on_time) AS on_time_filing_hits
FROM kpi_facts
WHERE due_to_file AND file_due_at >= :start AND file_due_at < :until AND {own} <> ''
GROUP BY 1, 2
"""
_VERIFY = """
SELECT {p} AS period, {who} AS key, count(*) AS n, count(*) AS on_time_verify_of,
       count(*) FILTER (WHERE verified_on_time) AS on_time_verify_hits,
       {units} AS units
FROM kpi_facts
WHERE verify_due_at >= :start AND verify_due_at < :until AND {who} <> ''
GROUP BY 1, 2
"""
_CHECKS = """
SELECT {p} AS period, {who} AS key, count(*) AS n, count(*) AS on_time_check_of,
       count(*) FILTER (WHERE c.on_time) AS on_time_check_hits,
       {units} AS units
FROM kpi_facts,
     unnest(check_due_at, check_on_time, checker, checker_unit) AS c(due, on_time, who, unit)
WHERE check_last_due >= :start AND c.due >= :start AND c.due < :until AND {who} <> ''
GROUP BY 1, 2
"""
# Disposal rates go to the department holding the case (final_department), dispatch
# accuracy and returns to every department it was dispatched to: the holder's in one
# pass grouped by holder, the few others' (cases returned and dispatched again) apart,
# through their own small index.
_DISPOSAL_BY_DEPARTMENT = """
SELECT {p} AS period, final_department AS key, count(*) AS n,
       count(*) AS due,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE disposal_on_time) AS on_time_disposal_hits,
       count(*) FILTER (WHERE disposed) AS disposal_hits,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closing_hits,
       count(*) FILTER (WHERE closed_on_time) AS on_time_closing_hits,
       count(*) FILTER (WHERE final_department = ANY(reworked_at)) AS rework_hits,
       count(*) FILTER (WHERE extensions > 0) AS extension_hits,
       count(*) AS dispatched,
       count(*) FILTER (
           WHERE NOT (final_department = ANY(returned_from) OR final_department = ANY(reworked_at))
       ) AS accurate_dispatch_hits,
       count(*) FILTER (WHERE final_department = ANY(returned_from)) AS return_hits
FROM kpi_facts
WHERE due_for_disposal AND disposal_due_at >= :start AND disposal_due_at < :until
  AND final_department <> ''
GROUP BY 1, 2
"""
_DISPATCHED_BEFORE = """
SELECT {p} AS period, d.key AS key, count(*) AS n, count(*) AS dispatched,
       count(*) FILTER (
           WHERE NOT (d.key = ANY(returned_from) OR d.key = ANY(reworked_at))
       ) AS accurate_dispatch_hits,
       count(*) FILTER (WHERE d.key = ANY(returned_from)) AS return_hits
FROM kpi_facts, unnest(departments) AS d(key)
WHERE {redispatched} AND disposal_due_at >= :start AND disposal_due_at < :until
  AND d.key <> final_department AND d.key <> ''
GROUP BY 1, 2
"""
_DISPOSAL = """
SELECT {p} AS period, {own} AS key, count(*) AS n,
       count(*) AS due,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE disposal_on_time) AS on_time_disposal_hits,
       count(*) FILTER (WHERE disposed) AS disposal_hits,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closing_hits,
       count(*) FILTER (WHERE closed_on_time) AS on_time_closing_hits,
       count(*) FILTER (WHERE cardinality(reworked_at) > 0) AS rework_hits,
       count(*) FILTER (WHERE extensions > 0) AS extension_hits,
       count(*) AS dispatched,
       count(*) FILTER (
           WHERE cardinality(returned_from) = 0 AND cardinality(reworked_at) = 0
       ) AS accurate_dispatch_hits,
       count(*) FILTER (WHERE cardinality(returned_from) > 0) AS return_hits
FROM kpi_facts
WHERE due_for_disposal AND disposal_due_at >= :start AND disposal_due_at < :until
  AND {own} <> ''
GROUP BY 1, 2
"""
_CARDS = """
SELECT {p} AS period, {who} AS key, count(*) AS n,
       count(*) FILTER (WHERE c.level = 'yellow') AS yellow_cards,
       count(*) FILTER (WHERE c.level = 'red') AS red_cards
FROM kpi_facts, unnest(card_at, card_level, card_department) AS c(at, level, department)
WHERE card_last_at >= :start AND c.at >= :start AND c.at < :until AND {who} <> ''
GROUP BY 1, 2
"""
_GW_REPORTER = "CASE WHEN reporter_role = 'grid_worker' THEN reporter END"


def _queries(kind: ObjectKind) -> list[tuple[str, dict[str, str]]]:
    """The queries of one kind of object, with what they are keyed by."""
    if kind is ObjectKind.DEPARTMENT:
        card_to = "coalesce(nullif(c.department, ''), final_department)"
        return [
            (_DISPOSAL_BY_DEPARTMENT, {}),
            (_DISPATCHED_BEFORE, {"redispatched": REDISPATCHED}),
            (_CARDS, {"who": card_to}),
        ]
    if kind is ObjectKind.GRID_WORKER:
        checker = f"coalesce(nullif(c.who, ''), {_GW_REPORTER})"
        units = "array_agg(DISTINCT {unit})"
        return [
            (_REPORTED, {"own": _GW_REPORTER, "units": units.format(unit="reporter_unit")}),
            (_FILING, {"own": _GW_REPORTER}),
            (_VERIFY, {"who": "verifier", "units": units.format(unit="verifier_unit")}),
            (
                _CHECKS,
                {
                    "who": checker,
                    "units": units.format(unit="coalesce(nullif(c.unit, ''), reporter_unit)"),
                },
            ),
            (_DISPOSAL, {"own": _GW_REPORTER}),
        ]
    region = f"left(grid, {REGION_PREFIX[kind]})"
    no_units = "NULL::text[]"
    return [
        (_REPORTED, {"own": region, "units": no_units}),
        (_FILING, {"own": region}),
        (_VERIFY, {"who": region, "units": no_units}),
        (_CHECKS, {"who": region, "units": no_units}),
        (_DISPOSAL, {"own": region}),
        (_CARDS, {"who": region}),
    ]


def _tally(tallies: dict[tuple[Period, str], Tally], period: Period, row: RowMapping) -> None:
    """Add one aggregated row to its object's tally for the period."""
    t = tallies[(period, row["key"])]
    for name in COUNTS:
        if name in row:
            t.counts[name] += row[name]
    for name in RATES:
        hits = row.get(f"{name}_hits")
        if hits is None:
            continue
        # The disposal rates count over the cases due, dispatch accuracy and returns over
        # the cases dispatched; the others carry their own denominator.
        of_key = f"{name}_of" if f"{name}_of" in row else None
        of = row[of_key or ("due" if name in DISPOSAL_RATES else "dispatched")]
        t.add(name, hits, of)
    if row.get("units"):
        t.grids.update(row["units"])


def _aggregate(
    conn: Connection, kind: ObjectKind, periods: list[Period], params: dict[str, Any]
) -> tuple[dict[tuple[Period, str], Tally], dict[tuple[Period, str], dict[str, int]], int]:
    """Run the queries of ``kind`` and tally their rows per period and object."""
    if len(periods) == 1:
        # One period (what the API and the CLI ask for): nothing to compute per row.
        def period(anchor: str) -> str:
            return "1"
    else:
        # Which period an anchor falls in, by the periods' starts (the rows are already
        # inside the window); a grouping the planner misjudges: room to sort in memory.
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
        params = params | {"bounds": [p.start for p in periods]}

        def period(anchor: str) -> str:
            return f"width_bucket({anchor}, CAST(:bounds AS timestamptz[]))"

    anchors = {
        _REPORTED: "reported_at",
        _REPORTS_IN_GRIDS: "reported_at",
        _FILING: "file_due_at",
        _VERIFY: "verify_due_at",
        _CHECKS: "c.due",
        _DISPOSAL: "disposal_due_at",
        _DISPOSAL_BY_DEPARTMENT: "disposal_due_at",
        _DISPATCHED_BEFORE: "disposal_due_at",
        _CARDS: "c.at",
    }
    tallies: dict[tuple[Period, str], Tally] = defaultdict(Tally)
    read = 0
    for sql, keys in _queries(kind):
        statement = text(sql.format(p=period(anchors[sql]), **keys))
        for row in conn.execute(statement, params).mappings():
            _tally(tallies, periods[row["period"] - 1], row)
            read += row["n"]
    reports: dict[tuple[Period, str], dict[str, int]] = defaultdict(dict)
    if kind is ObjectKind.GRID_WORKER:
        statement = text(_REPORTS_IN_GRIDS.format(p=period("reported_at")))
        for row in conn.execute(statement, params).mappings():
            reports[(periods[row["period"] - 1], row["grid"])][row["who"]] = row["n"]
    return tallies, reports, read


def evaluate(
    engine: Engine,
    period_kind: PeriodKind | str,
    start: date | datetime,
    end: date | datetime | None,
    object_kind: ObjectKind | str,
    weights: Mapping[str, float] | None = None,
    *,
    tz: tzinfo = DEFAULT_TZ,
    as_of: datetime | None = None,
) -> KpiTable:
    """The KPI table of ``object_kind`` for each period of ``period_kind`` overlapping
    [start, end) (dates are local midnights in ``tz``; ``end`` None: the one period
    holding ``start``). Rates, scores and definitions: ``domain.kpi``."""
    kind, objects = PeriodKind(period_kind), ObjectKind(object_kind)
    first = _moment(start, tz)
    last = _moment(end, tz) if end is not None else first
    periods = periods_between(kind, first, max(last, first), tz)
    window_start, window_end = periods[0].start, periods[-1].end
    until = window_end if as_of is None else min(window_end, as_of)
    params = {"start": window_start, "until": until}
    with engine.connect() as conn:
        tallies, reports, read = _aggregate(conn, objects, periods, params)
    return KpiTable(kind, objects, periods, kpi_rows(objects, tallies, reports, weights), read)
