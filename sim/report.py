"""What a run gives: KPI tables computed by ``domain.kpi`` from the simulated event
streams (per department and per street, per day and over the whole run), overdue rates,
backlog and a JSON-ready summary whose bytes depend only on the seed and the config.

The whole-run table adds up the daily tables: every case counts in exactly one day (the
day its anchor falls in, as ``domain.kpi`` defines), so hits and denominators add up, and
scores are recomputed from the summed rates with kpi's own weights.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import events as e
from domain.kpi import (
    COUNTS,
    DEFAULT_WEIGHTS,
    RATES,
    KpiRow,
    ObjectKind,
    PeriodKind,
    Ratio,
    evaluate_facts,
    grade,
    score,
)
from domain.kpi_facts import CaseFacts, case_facts
from domain.stages import DEPARTMENT_STAGES
from sim.engine import CENTER, SimResult

TABLE_RATES = (
    "on_time_disposal",
    "closing",
    "on_time_closing",
    "rework",
    "extension",
    "accurate_dispatch",
    "on_time_filing",
    "valid_report",
    "on_time_check",
)


@dataclass(frozen=True)
class TotalRow:
    """One object's figures over the whole run."""

    key: str
    counts: dict[str, int]
    rates: dict[str, Ratio]
    score: float | None
    grade: str


@dataclass(frozen=True)
class Report:
    facts: list[CaseFacts]
    daily: dict[ObjectKind, list[KpiRow]]
    totals: dict[ObjectKind, list[TotalRow]]
    overdue: dict[str, Ratio]  # department -> due cases whose disposal stage went red


def evaluate(result: SimResult) -> Report:
    facts = [f for f in (case_facts(case.events) for case in result.cases) if f is not None]
    daily: dict[ObjectKind, list[KpiRow]] = {}
    totals: dict[ObjectKind, list[TotalRow]] = {}
    for kind in (ObjectKind.DEPARTMENT, ObjectKind.STREET):
        rows = evaluate_facts(
            facts,
            period_kind=PeriodKind.DAY,
            start=result.start.astimezone(result.tz),
            end=result.end.astimezone(result.tz),
            object_kind=kind,
            tz=result.tz,
            as_of=result.end,
        )
        daily[kind] = rows
        totals[kind] = total_rows(rows, kind)
    return Report(facts, daily, totals, overdue_rates(result))


def total_rows(rows: list[KpiRow], kind: ObjectKind) -> list[TotalRow]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    hits: dict[str, dict[str, list[int]]] = defaultdict(lambda: {n: [0, 0] for n in RATES})
    for row in rows:
        for name, value in row.counts.items():
            counts[row.key][name] += value
        for name, ratio in row.rates.items():
            hits[row.key][name][0] += ratio.hits
            hits[row.key][name][1] += ratio.of
    busiest = max((c["due"] for c in counts.values()), default=0)
    out = []
    for key in sorted(counts):
        rates = {n: Ratio(h, o) for n, (h, o) in hits[key].items()}
        components: dict[str, float | None] = {n: r.value for n, r in rates.items()}
        rework = rates["rework"].value
        components["no_rework"] = None if rework is None else 1 - rework
        components["count"] = counts[key]["due"] / busiest if busiest else None
        # kpi's own weighted mean, so run totals score exactly as `gridcase kpi` would.
        total = score(components, DEFAULT_WEIGHTS[kind])
        out.append(TotalRow(key, counts[key], rates, total, grade(total)))
    out.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.key))
    return out


def overdue_rates(result: SimResult) -> dict[str, Ratio]:
    """Per department: of the cases it held whose disposal deadline fell inside the run,
    how many had a department stage (sign for, handle) go red."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in result.cases:
        state = case.state
        due = state.disposal_due_at
        if not state.department or due is None or due >= result.end or state.stage is None:
            continue
        if state.stage.value == "cancelled":
            continue
        late = any(
            isinstance(ev, e.StageOverdue) and ev.stage in DEPARTMENT_STAGES for ev in case.events
        )
        tally[state.department][0] += late
        tally[state.department][1] += 1
    return {d: Ratio(h, o) for d, (h, o) in sorted(tally.items())}


def _pct(ratio: Ratio) -> float | None:
    return None if ratio.value is None else round(100 * ratio.value, 2)


def summarize(result: SimResult, report: Report | None = None) -> dict[str, Any]:
    """The JSON summary: same seed and config, same dict (and same bytes from :func:`dumps`)."""
    report = report or evaluate(result)
    config = result.config
    outcomes: dict[str, int] = defaultdict(int)
    for f in report.facts:
        outcomes[f.outcome] += 1
    routed: dict[str, int] = defaultdict(int)
    for case in result.cases:
        routed[case.department] += 1
    open_at_end = result.backlog[-1][1] if result.backlog else {}
    departments = []
    for row in sorted(report.totals[ObjectKind.DEPARTMENT], key=lambda r: r.key):
        office, on_call = result.pools[f"{row.key}/office"], result.pools[f"{row.key}/on_call"]
        departments.append(
            {
                "department": row.key,
                "handlers": office.size,
                "on_call": on_call.size,
                "cases_routed": routed.get(row.key, 0),
                **{k: row.counts[k] for k in ("due", "closed", "yellow_cards", "red_cards")},
                **{f"{n}_pct": _pct(row.rates[n]) for n in TABLE_RATES},
                "overdue_pct": _pct(report.overdue.get(row.key, Ratio(0, 0))),
                "score": None if row.score is None else round(row.score, 2),
                "grade": row.grade,
                "handler_utilization_pct": utilization(result, office),
                "open_at_end": open_at_end.get(row.key, 0),
            }
        )
    streets = [
        {
            "street": row.key,
            **{k: row.counts[k] for k in ("reported", "due", "closed")},
            **{f"{n}_pct": _pct(row.rates[n]) for n in TABLE_RATES},
            "score": None if row.score is None else round(row.score, 2),
            "grade": row.grade,
        }
        for row in sorted(report.totals[ObjectKind.STREET], key=lambda r: r.key)
    ]
    return {
        "config": config.to_dict(),
        "run": {
            "start": result.start.astimezone(result.tz).isoformat(),
            "end": result.end.astimezone(result.tz).isoformat(),
            "cases": len(result.cases),
            "events": sum(len(c.events) for c in result.cases),
            "decisions": result.decisions,
            "outcomes": dict(sorted(outcomes.items())),
            "open_at_end": open_at_end,
        },
        "departments": departments,
        "streets": streets,
        "daily": daily_series(result, report),
    }


def utilization(result: SimResult, pool: Any) -> float | None:
    """Share of the handlers' office time spent on work started in the run."""
    if pool.size == 0 or pool.clock is None:
        return None
    start, end = int(result.start.timestamp()), int(result.end.timestamp())
    open_seconds = pool.clock.work_between(start, end)
    return round(100 * pool.busy_seconds / (pool.size * open_seconds), 2) if open_seconds else None


def daily_series(result: SimResult, report: Report) -> dict[str, Any]:
    """Per day: on-time disposal per department, and open cases per holder at day's end."""
    tz = result.tz
    days: list[date] = []
    day = result.start.astimezone(tz).date()
    while len(days) < result.config.days:
        days.append(day)
        day = date.fromordinal(day.toordinal() + 1)
    index = {d.isoformat(): i for i, d in enumerate(days)}
    on_time: dict[str, list[float | None]] = {d: [None] * len(days) for d in result.departments}
    due: dict[str, list[int]] = {d: [0] * len(days) for d in result.departments}
    for row in report.daily[ObjectKind.DEPARTMENT]:
        i = index.get(row.period.label)
        if i is not None and row.key in on_time:
            on_time[row.key][i] = _pct(row.rates["on_time_disposal"])
            due[row.key][i] = row.counts["due"]
    # The sample at each local midnight (after the first) is the previous day's end.
    ends = [
        counts for ts, counts in result.backlog if (ts - int(result.start.timestamp())) % 86400 == 0
    ][1:]
    backlog = {h: [c.get(h, 0) for c in ends] for h in [CENTER, *result.departments]}
    return {
        "dates": [d.isoformat() for d in days],
        "on_time_disposal_pct": on_time,
        "due": due,
        "open_at_day_end": backlog,
    }


def dumps(summary: dict[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
