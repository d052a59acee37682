"""Evaluation (综合评价, docs/field-facts.md §7): rates and scores from the event log alone.

Each case's events are folded into one :class:`CaseFacts` (:func:`case_facts`); the facts
are then counted per period and per evaluated object (:func:`evaluate_facts`). Nothing
else is read, so the same log always gives the same tables. The store keeps the facts as
a projection and counts them in SQL (store/kpi.py), scoring with the same
:func:`kpi_rows`; this pure computation is the reference a property test holds it to.

When a case counts, and in which period ("each a count over the cases that were due in
the period"): every rate has one anchor time per case (or per task), and the case counts
in the period that anchor falls in, for the objects it is attributed to.

Rate (name in tables)      anchor: the case counts in the period this falls in
  numerator / denominator
- on_time_disposal 按期处置率  disposal deadline; disposed by the deadline / due
- disposal 处置率              disposal deadline; disposed (check passed) / due
- closing 结案率               disposal deadline; closed / due
- on_time_closing 按期结案率    disposal deadline; closed on time / due
- rework 返工率                disposal deadline; reworked / due
- extension 延期率             disposal deadline; extended / due
- accurate_dispatch 准确派遣率  disposal deadline; (dispatched − returned/reworked) / dispatched
- return 回退率                disposal deadline; returned / dispatched
- on_time_filing 按时立案率     verify-stage deadline; filed by it / due to be filed
- valid_report 有效上报率       CaseReported.occurred_at; valid / decided reports
- on_time_verify 按期核实率     VerificationRequested.verify_due_at; verified by it / tasks
- on_time_check 按期核查率      FeedbackSubmitted.due_at (one check task per feedback);
                              checked (passed or failed) by it / tasks
- missed_report 漏报得分        CaseReported.occurred_at; grid workers only, see below

Definitions:

- Disposal deadline: the deadline in force at the end of the log — the last
  ``disposal_due_at`` set by CaseDispatched, ExtensionGranted, CaseResumed or
  ReworkOrdered; none while the case is suspended (挂账 stops the clock) and none for a
  case never dispatched. The "due" population is the cases dispatched at least once,
  not cancelled (作废 cases are erroneous), whose disposal deadline is in the period.
- Disposed on time: the check passed (ClosureCheckPassed) and the disposal was not late
  by the one lateness rule (``domain.lateness``): no feedback of the disposal came after
  the disposal deadline in force when it was submitted, and no extension was granted
  after that deadline had passed. A re-dispatch after a return starts a new disposal.
  This is exactly the closing type: a closed case is on time iff it closed "normal".
- Closed on time: closed (CaseClosed), disposed on time, and closed at or before the
  close stage's deadline (ClosureCheckPassed.due_at).
- Reworked: at least one ReworkOrdered (for a department: ordered to that department).
  Extended: at least one ExtensionGranted.
- Accurate dispatch: over the cases dispatched to the object (for a department: to that
  department at least once), those neither returned (for a department: by it) nor
  reworked (for a department: at it). Return (回退率): over the same cases, those
  returned (for a department: by it).
- Filing: the deadline is the due_at of the event that last opened the verify stage
  (CaseReported, or SelfHandlingRejected); due to be filed are those cases except the
  ones that ended unfiled (rejected, merged, self-handling approved). Filed on time:
  CaseFiled.occurred_at <= that deadline; still unfiled counts as late.
- Valid report: filed, or self-handling approved, and not rejected, merged or
  cancelled. Reports still undecided (no filing, rejection or merge yet) are left out.
- Verify and check tasks not done count as late. The verify task is the case's last
  VerificationRequested.
- Supervision cards (黄牌/红牌 督办) are counted in the period SupervisionIssued occurred.

Attribution: regions (unit ``grid``, ``community`` = grid code[:12], ``street`` =
grid code[:9]) get every case by its grid. A ``department`` gets the disposal rates of
the cases it holds at the end of the log (the department of the last CaseDispatched; no
one after a return not yet re-dispatched), accurate dispatch of
every case dispatched to it, and the cards issued to it. A ``grid_worker`` gets the case
rates of the cases he reported (reporter role grid_worker), the verify tasks assigned to
him, the check tasks he did (an undone one: the reporter's), and:

- missed_report: his grids are the units (Actor.unit) he acted for in the reports and
  tasks counted for him in the period; over the cases reported in those grids in the
  period (merged duplicates left out), the share he reported himself, i.e.
  1 − share reported by others or by public channels.

Scores: a weighted mean of components on 0–100. A component is a rate's value, or
``no_rework`` (1 − rework rate), or ``count`` — the count score: the object's due cases
divided by the largest due count of any object of the same kind in the same period
(workload relative to the busiest). Components whose value is None are left out and the
remaining weights rescaled; the score is None when no component other than ``count`` has
a value. A rate with a zero denominator is None, never 0 or 100. Default weights:
department 10% count + 30% closing + 30% on_time_disposal + 30% no_rework; grid worker
40% valid_report + 20% missed_report + 20% on_time_verify + 20% on_time_check; regions
(grid, community, street; how well the area's problems were found, filed and fixed)
30% closing + 30% on_time_disposal + 20% on_time_filing + 20% valid_report. Grades:
A >= 90, B >= 75, C >= 60, D >= 40, else E.

Periods are local days, ISO weeks (Monday first) and calendar months in the given zone,
half-open: [start, next start). With ``as_of``, anchors at or after it are not yet due
(a running period is evaluated as far as it has run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum

from domain.kpi_facts import CaseFacts
from domain.periods import Period, PeriodKind, period_of, periods_between

__all__ = [  # the periods are re-exported: callers count and period from one module
    "COUNTS",
    "DEFAULT_WEIGHTS",
    "DISPOSAL_RATES",
    "GRADES",
    "RATES",
    "REGION_PREFIX",
    "KpiRow",
    "ObjectKind",
    "Period",
    "PeriodKind",
    "Ratio",
    "Tally",
    "check_weights",
    "evaluate_facts",
    "grade",
    "kpi_rows",
    "missed_report",
    "period_of",
    "periods_between",
    "score",
]
from domain.roles import Role
from domain.stages import SupervisionLevel


class ObjectKind(StrEnum):
    DEPARTMENT = "department"
    GRID = "grid"  # 单元网格
    COMMUNITY = "community"  # 社区: grid code[:12]
    STREET = "street"  # 街道: grid code[:9]
    GRID_WORKER = "grid_worker"  # 网格员, the reporter


REGION_PREFIX = {ObjectKind.GRID: 15, ObjectKind.COMMUNITY: 12, ObjectKind.STREET: 9}

RATES: dict[str, str] = {
    "on_time_disposal": "按期处置率",
    "disposal": "处置率",
    "closing": "结案率",
    "on_time_closing": "按期结案率",
    "rework": "返工率",
    "extension": "延期率",
    "accurate_dispatch": "准确派遣率",
    "return": "回退率",
    "on_time_filing": "按时立案率",
    "valid_report": "有效上报率",
    "on_time_verify": "按期核实率",
    "on_time_check": "按期核查率",
    "missed_report": "漏报得分",
}
COUNTS = ("reported", "due", "dispatched", "closed", "yellow_cards", "red_cards")
DISPOSAL_RATES = (
    "on_time_disposal",
    "disposal",
    "closing",
    "on_time_closing",
    "rework",
    "extension",
)

DEFAULT_WEIGHTS: dict[ObjectKind, dict[str, float]] = {
    ObjectKind.DEPARTMENT: {
        "count": 0.10,
        "closing": 0.30,
        "on_time_disposal": 0.30,
        "no_rework": 0.30,
    },
    ObjectKind.GRID_WORKER: {
        "valid_report": 0.40,
        "missed_report": 0.20,
        "on_time_verify": 0.20,
        "on_time_check": 0.20,
    },
}
# Regions: how well the problems of the area were found, filed and fixed.
REGION_WEIGHTS = {
    "closing": 0.30,
    "on_time_disposal": 0.30,
    "on_time_filing": 0.20,
    "valid_report": 0.20,
}
for _kind in REGION_PREFIX:
    DEFAULT_WEIGHTS[_kind] = dict(REGION_WEIGHTS)

COMPONENTS = frozenset({*RATES, "count", "no_rework"})
GRADES = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))


def grade(score: float | None) -> str:
    if score is None:
        return "-"
    return next((g for floor, g in GRADES if score >= floor), "E")


# Counting


@dataclass(frozen=True)
class Ratio:
    hits: int
    of: int

    @property
    def value(self) -> float | None:
        return self.hits / self.of if self.of else None

    def __str__(self) -> str:
        return "-" if self.value is None else f"{100 * self.value:.1f}%"


@dataclass(frozen=True)
class KpiRow:
    period: Period
    object_kind: ObjectKind
    key: str
    counts: dict[str, int]
    rates: dict[str, Ratio]
    components: dict[str, float | None]
    score: float | None
    grade: str


@dataclass
class Tally:
    """What is counted for one object in one period (from case facts, or from SQL)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATES, 0))
    of: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATES, 0))
    grids: set[str] = field(default_factory=set)  # a grid worker's grids (missed_report)

    def rate(self, name: str, hit: bool) -> None:
        self.of[name] += 1
        self.hits[name] += hit

    def add(self, name: str, hits: int, of: int) -> None:
        self.hits[name] += hits
        self.of[name] += of


Tallies = Mapping[tuple[Period, str], Tally]
# (period, grid) -> how many cases each reporter reported there ("" for public channels).
Reports = Mapping[tuple[Period, str], Mapping[str, int]]


def missed_report(reports: Reports, period: Period, worker: str, grids: Iterable[str]) -> Ratio:
    """漏报得分 of ``worker``: over the cases reported in his grids in the period (merged
    duplicates left out), the share he reported himself."""
    found = [reports.get((period, g), {}) for g in sorted(set(grids)) if g]
    return Ratio(sum(n.get(worker, 0) for n in found), sum(sum(n.values()) for n in found))


class _Counter:
    def __init__(
        self, kind: ObjectKind, periods: list[Period], tz: tzinfo, as_of: datetime | None
    ) -> None:
        self.kind, self.periods, self.tz = kind, periods, tz
        self.end = periods[-1].end if as_of is None else min(periods[-1].end, as_of)
        self.tallies: dict[tuple[Period, str], Tally] = defaultdict(Tally)
        # (period, grid) -> reporters of the cases reported there (for missed_report).
        self.reports: dict[tuple[Period, str], dict[str, int]] = defaultdict(dict)

    def period(self, at: datetime | None) -> Period | None:
        if at is None or at < self.periods[0].start or at >= self.end:
            return None
        return period_of(self.periods[0].kind, at.astimezone(self.tz).date(), self.tz)

    def tallies_for(self, at: datetime | None, keys: Iterable[str]) -> Iterator[Tally]:
        period = self.period(at)
        if period is not None:
            for key in dict.fromkeys(k for k in keys if k):
                yield self.tallies[(period, key)]

    def region(self, facts: CaseFacts) -> tuple[str, ...]:
        return (facts.grid[: REGION_PREFIX[self.kind]],) if self.kind in REGION_PREFIX else ()

    def add(self, f: CaseFacts) -> None:
        dept = self.kind is ObjectKind.DEPARTMENT
        worker = self.kind is ObjectKind.GRID_WORKER
        region = self.region(f)
        reporter = (f.reporter,) if f.reporter_role == Role.GRID_WORKER.value else ()
        # The objects the case's own rates go to (a department's: see disposal below).
        own = reporter if worker else region
        # Intake: reported, valid, filed, verified.
        for t in self.tallies_for(f.reported_at, own):
            t.counts["reported"] += 1
            if f.valid is not None:
                t.rate("valid_report", f.valid)
            t.grids.add(f.reporter_unit)
        period = self.period(f.reported_at)
        if worker and period is not None and f.outcome != "merged":
            counts = self.reports[(period, f.grid)]
            who = f.reporter if reporter else ""
            counts[who] = counts.get(who, 0) + 1
        if f.due_to_file:
            for t in self.tallies_for(f.file_due_at, own):
                t.rate("on_time_filing", f.filed_on_time)
        if f.verify_due_at is not None:
            for t in self.tallies_for(f.verify_due_at, (f.verifier,) if worker else region):
                t.rate("on_time_verify", f.verified_on_time)
                t.grids.add(f.verifier_unit)
        for task in f.checks:
            checker = (task.checker,) if task.checker else reporter
            for t in self.tallies_for(task.due_at, checker if worker else region):
                t.rate("on_time_check", task.on_time)
                t.grids.add(task.checker_unit or f.reporter_unit)
        if f.due_for_disposal:
            self._disposal(f, own)
        for at, level, to in f.supervisions:
            for t in self.tallies_for(at, (to or f.final_department,) if dept else region):
                t.counts["yellow_cards"] += level is SupervisionLevel.YELLOW
                t.counts["red_cards"] += level is SupervisionLevel.RED

    def _disposal(self, f: CaseFacts, own: tuple[str, ...]) -> None:
        dept = self.kind is ObjectKind.DEPARTMENT
        for t in self.tallies_for(f.disposal_due_at, (f.final_department,) if dept else own):
            t.counts["due"] += 1
            t.counts["closed"] += f.closed_at is not None
            t.rate("on_time_disposal", f.disposal_on_time)
            t.rate("disposal", f.disposed)
            t.rate("closing", f.closed_at is not None)
            t.rate("on_time_closing", f.closed_on_time)
            t.rate("rework", f.final_department in f.reworked_at if dept else f.reworked)
            t.rate("extension", f.extensions > 0)
        for key in f.departments if dept else own:
            if dept:
                wrong = key in f.returned_from or key in f.reworked_at
            else:
                wrong = bool(f.returned_from or f.reworked_at)
            returned = key in f.returned_from if dept else bool(f.returned_from)
            for t in self.tallies_for(f.disposal_due_at, (key,)):
                t.counts["dispatched"] += 1
                t.rate("accurate_dispatch", not wrong)
                t.rate("return", returned)


def score(components: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    present = {k: w for k, w in weights.items() if w and components.get(k) is not None}
    total = sum(present.values())
    if total <= 0 or not set(present) - {"count"}:
        return None
    return 100 * sum(w * (components[k] or 0.0) for k, w in present.items()) / total


def check_weights(weights: Mapping[str, float]) -> None:
    unknown = set(weights) - COMPONENTS
    if unknown:
        known = ", ".join(sorted(COMPONENTS))
        raise ValueError(f"unknown score component(s) {', '.join(sorted(unknown))}; known: {known}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("score weights must be non-negative and not all zero")


def evaluate_facts(
    facts: Iterable[CaseFacts],
    *,
    period_kind: PeriodKind,
    start: datetime,
    end: datetime,
    object_kind: ObjectKind,
    tz: tzinfo,
    weights: Mapping[str, float] | None = None,
    as_of: datetime | None = None,
) -> list[KpiRow]:
    """Rates and scores of every object with anything to count, per period of ``period_kind``
    overlapping [start, end). With ``as_of``, anchors at or after it are not yet due.

    Rows come ordered by period, then score (highest first, None last), then key.
    """
    weights = dict(DEFAULT_WEIGHTS[object_kind] if weights is None else weights)
    check_weights(weights)
    counter = _Counter(object_kind, periods_between(period_kind, start, end, tz), tz, as_of)
    for f in facts:
        counter.add(f)
    return kpi_rows(object_kind, counter.tallies, counter.reports, weights)


def kpi_rows(
    object_kind: ObjectKind,
    tallies: Tallies,
    reports: Reports,
    weights: Mapping[str, float] | None = None,
) -> list[KpiRow]:
    """The rows of counted ``tallies``: rates, components, score and grade per object and
    period (``reports`` for grid workers' missed_report). Shared by the fold here and the
    SQL aggregation of the projection (store.kpi), so both score alike.

    Rows come ordered by period, then score (highest first, None last), then key.
    """
    weights = dict(DEFAULT_WEIGHTS[object_kind] if weights is None else weights)
    check_weights(weights)
    busiest: dict[Period, int] = defaultdict(int)
    for (period, _), tally in tallies.items():
        busiest[period] = max(busiest[period], tally.counts["due"])
    rows = []
    for (period, key), tally in tallies.items():
        rates = {n: Ratio(tally.hits[n], tally.of[n]) for n in RATES}
        if object_kind is ObjectKind.GRID_WORKER:
            rates["missed_report"] = missed_report(reports, period, key, tally.grids)
        components: dict[str, float | None] = {n: r.value for n, r in rates.items()}
        rework = rates["rework"].value
        components["no_rework"] = None if rework is None else 1 - rework
        top = busiest[period]
        components["count"] = tally.counts["due"] / top if top else None
        value = score(components, weights)
        rows.append(
            KpiRow(
                period, object_kind, key, dict(tally.counts), rates, components, value, grade(value)
            )
        )
    rows.sort(key=lambda r: (r.period, r.score is None, -(r.score or 0.0), r.key))
    return rows
