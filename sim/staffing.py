"""`--target`: the fewest office handlers a department needs for on-time disposal ≥ T%.

Each candidate count is simulated with the same seeds, so the candidates see the same
cases with the same work (``sim.plan``) and differ only in queueing; with several seeds the
rate is pooled (hits over due cases of all seeds). Only the cases routing sends to the
department are simulated: the center, the grid workers and the other departments have no
capacity limit in the model, so other departments' cases cannot change its figures.

The search assumes more handlers never make the rate worse (true of a FIFO queue fed the
same jobs; close to true with EDF and reworks): double until the target is met, then
bisect between the last miss and the first hit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from domain.calendar import WorkingCalendar
from domain.kpi import ObjectKind, Ratio
from sim.config import SimConfig
from sim.engine import simulate
from sim.report import evaluate

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    handlers: int
    on_time: Ratio  # pooled over the seeds
    overdue: Ratio

    @property
    def on_time_pct(self) -> float | None:
        return None if self.on_time.value is None else 100 * self.on_time.value


@dataclass(frozen=True)
class StaffingAnswer:
    department: str
    target_pct: float
    seeds: tuple[int, ...]
    handlers: int | None  # None: not reached within max_handlers
    tried: tuple[Candidate, ...]  # every count simulated, ascending

    def figure(self, handlers: int) -> Candidate | None:
        return next((c for c in self.tried if c.handlers == handlers), None)

    def to_dict(self) -> dict[str, object]:
        def pct(r: Ratio) -> float | None:
            return None if r.value is None else round(100 * r.value, 2)

        return {
            "department": self.department,
            "target_pct": self.target_pct,
            "seeds": list(self.seeds),
            "handlers_needed": self.handlers,
            "tried": [
                {
                    "handlers": c.handlers,
                    "on_time_disposal_pct": pct(c.on_time),
                    "due": c.on_time.of,
                    "overdue_pct": pct(c.overdue),
                }
                for c in self.tried
            ],
        }


def evaluate_staffing(
    config: SimConfig,
    department: str,
    handlers: int,
    seeds: tuple[int, ...],
    calendar: WorkingCalendar | None = None,
) -> Candidate:
    on_time, overdue = [0, 0], [0, 0]
    for seed in seeds:
        run = replace(config.with_handlers({department: handlers}), seed=seed)
        result = simulate(run, only_departments=frozenset({department}), calendar=calendar)
        report = evaluate(result)
        for row in report.totals[ObjectKind.DEPARTMENT]:
            if row.key == department:
                on_time[0] += row.rates["on_time_disposal"].hits
                on_time[1] += row.rates["on_time_disposal"].of
        late = report.overdue.get(department, Ratio(0, 0))
        overdue[0] += late.hits
        overdue[1] += late.of
    return Candidate(handlers, Ratio(*on_time), Ratio(*overdue))


def find_staffing(
    config: SimConfig,
    department: str,
    target_pct: float,
    *,
    seeds: tuple[int, ...] | None = None,
    max_handlers: int = 64,
    progress: Progress | None = None,
    calendar: WorkingCalendar | None = None,
) -> StaffingAnswer:
    if not 0 < target_pct <= 100:
        raise ValueError(f"target must be a percentage in (0, 100], got {target_pct}")
    seeds = seeds or (config.seed,)
    tried: dict[int, Candidate] = {}

    def meets(n: int) -> bool:
        if n not in tried:
            if progress is not None:
                progress(f"{department}: simulating {n} handler(s)")
            tried[n] = evaluate_staffing(config, department, n, seeds, calendar)
        pct = tried[n].on_time_pct
        return pct is None or pct >= target_pct  # nothing due: any staff will do

    answer: int | None = None
    # Invariant: ``low`` misses the target (0 handlers leave office work undone), ``high``
    # meets it. Start from the configured count and double up if it misses.
    low, high = 0, max(1, config.handlers_for(department))
    reached = meets(high)
    while not reached and high < max_handlers:
        low, high = high, min(max_handlers, high * 2)
        reached = meets(high)
    if reached:
        while high - low > 1:
            mid = (low + high) // 2
            if meets(mid):
                high = mid
            else:
                low = mid
        answer = high
        for neighbour in (answer - 1, answer + 1):
            if 1 <= neighbour <= max_handlers:
                meets(neighbour)  # the figures either side, for the report
    ordered = tuple(tried[n] for n in sorted(tried))
    return StaffingAnswer(department, target_pct, tuple(seeds), answer, ordered)
