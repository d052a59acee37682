"""The event loop: a heap of timed steps, the departments' work pools, the escalation clock.

Every change to a case goes through :meth:`Engine.act`, which asks the real decider; a
refusal there is a bug of the simulation (it tried something the domain forbids), never
something to paper over, so it stops the run with the decider's own message.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from domain import commands as c
from domain import events as e
from domain.calendar import WorkingCalendar
from domain.case import decide, evolve
from domain.demo_district import generate_demo_district
from domain.errors import DomainError
from domain.holiday_notices import default_calendar
from domain.org import District
from domain.policy import CenterPolicy
from domain.routing import Router
from domain.rules import CaseRules
from domain.stages import Stage
from domain.state import CaseState
from domain.taxonomy import Taxonomy, default_taxonomy
from domain.timers import next_timer
from sim.arrivals import Arrival, generate_arrivals
from sim.clock import FAR, WorkClock, to_datetime, to_ts
from sim.config import SimConfig
from sim.plan import CasePlan

Step = Callable[["Engine", "SimCase", int], None]
Progress = Callable[[int, int], None]  # (days done, days in all)

# Stages in which a department answers for the case (it is "its" backlog until closed).
HELD_BY_DEPARTMENT = frozenset({Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE})
CENTER = "(center)"


class SimulationError(RuntimeError):
    """The simulation asked the decider for something it refused: a bug in ``sim``."""


@dataclass
class SimCase:
    case_id: str
    arrival: Arrival
    plan: CasePlan
    department: str  # where routing sends it
    rules: CaseRules
    state: CaseState
    events: list[e.Event] = field(default_factory=list)
    commands: list[tuple[c.Command, datetime]] | None = None
    cycle: int = 0  # 0: first handling, n: n-th rework
    returned: bool = False
    wall_clock: bool = False  # its disposal limit runs 24x7: the on-call crew handles it
    work_done: bool = False  # handled, feedback waits for a pending request's answer
    handler: str = ""
    holder: str | None = None
    # One entry per job a handler did: (queued at, started at, done at, handler).
    jobs: list[tuple[int, int, int, str]] = field(default_factory=list)
    queued_at: int = 0


class Pool:
    """Handlers of one department sharing one queue; ``clock`` None means 24x7 (on call)."""

    def __init__(
        self, engine: Engine, department: str, kind: str, size: int, clock: WorkClock | None
    ) -> None:
        self.engine, self.department, self.kind, self.size = engine, department, kind, size
        self.clock = clock
        self.edf = engine.config.queue == "edf"
        self.fifo: deque[SimCase] = deque()
        self.heap: list[tuple[int, int, SimCase]] = []
        self.idle = list(range(1, size + 1))  # a heap: the lowest free handler id works
        self.busy_seconds = 0
        self.jobs = 0

    def __len__(self) -> int:
        return len(self.heap) if self.edf else len(self.fifo)

    def enqueue(self, case: SimCase, ts: int) -> None:
        case.queued_at = ts
        if self.edf:
            due = case.state.disposal_due_at
            key = to_ts(due) if due is not None else FAR
            heapq.heappush(self.heap, (key, self.engine.next_seq(), case))
        else:
            self.fifo.append(case)
        self.try_start(ts)

    def try_start(self, ts: int) -> None:
        if self.clock is not None and not self.clock.is_open(ts):
            return  # the next window opening calls again
        while self.idle and len(self):
            case = heapq.heappop(self.heap)[2] if self.edf else self.fifo.popleft()
            number = heapq.heappop(self.idle)
            self.jobs += 1
            self.engine.start_work(self.engine, case, self, number, ts)

    def finish_time(self, ts: int, seconds: int) -> int:
        end = self.engine.end_ts  # utilization counts only the work done inside the run
        if self.clock is None:
            self.busy_seconds += max(0, min(seconds, end - ts))
            return ts + seconds
        self.busy_seconds += min(seconds, self.clock.work_between(ts, end))
        return self.clock.add_work(ts, seconds)

    def release(self, number: int, ts: int) -> None:
        heapq.heappush(self.idle, number)
        self.try_start(ts)


@dataclass
class SimResult:
    config: SimConfig
    start: datetime
    end: datetime
    tz: tzinfo  # the calendar's zone: days and periods are local days
    departments: list[str]
    cases: list[SimCase]
    backlog: list[tuple[int, dict[str, int]]]  # hourly: (ts, open cases per holder)
    pools: dict[str, Pool]
    decisions: int

    def streams(self) -> list[list[e.Event]]:
        return [case.events for case in self.cases]


class Engine:
    def __init__(
        self,
        config: SimConfig,
        *,
        district: District | None = None,
        taxonomy: Taxonomy | None = None,
        calendar: WorkingCalendar | None = None,
        policy: CenterPolicy | None = None,
        only_departments: frozenset[str] | None = None,
        record_commands: bool = False,
    ) -> None:
        from sim import flow  # the steps call back into the engine

        self.config = config
        self.taxonomy = taxonomy or default_taxonomy()
        first = date.fromisoformat(config.start)
        last = first + timedelta(days=config.days)
        # The shipped notices only; the CLI passes one with provisional years after them.
        self.calendar = calendar or default_calendar()
        self.district = district or generate_demo_district(config.seed, taxonomy=self.taxonomy)
        self.policy = policy or CenterPolicy()
        self.router = Router(self.taxonomy)
        self.only = only_departments
        self.record = record_commands
        self.start_work = flow.start_work
        self.flow = flow
        tz = self.calendar.tz
        self.start_ts = int(datetime.combine(first, time(), tzinfo=tz).timestamp())
        self.end_ts = int(datetime.combine(last, time(), tzinfo=tz).timestamp())
        self.clock = WorkClock(self.calendar, first, last + timedelta(days=30))
        # Rules are resolved once per category, as intake resolves them per report.
        self.rules = {cat.code: self.policy.rules_for(cat, self.calendar) for cat in self.taxonomy}
        self.departments = sorted(d.code for d in self.district.departments)
        self.pools: dict[tuple[str, str], Pool] = {}
        for dept in self.departments:
            self.pools[(dept, "office")] = Pool(
                self, dept, "office", config.handlers_for(dept), self.clock
            )
            self.pools[(dept, "on_call")] = Pool(
                self, dept, "on_call", config.on_call_for(dept), None
            )
        self.heap: list[tuple[int, int, Step, SimCase | None]] = []
        self.seq = 0
        self.cases: list[SimCase] = []
        self.open_by_holder: dict[str, int] = dict.fromkeys([CENTER, *self.departments], 0)
        self.backlog: list[tuple[int, dict[str, int]]] = []
        self.decisions = 0

    # Scheduling -------------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def at(self, ts: int, step: Step, case: SimCase | None) -> None:
        # seq breaks ties in scheduling order, so equal times replay identically.
        heapq.heappush(self.heap, (ts, self.next_seq(), step, case))

    def pool_for(self, case: SimCase, department: str) -> Pool:
        on_call = self.pools[(department, "on_call")]
        if case.wall_clock and on_call.size > 0:
            return on_call
        return self.pools[(department, "office")]

    def desk_time(self, case: SimCase, ts: int, seconds: int) -> int:
        """A department desk's step: 24x7 for wall-clock cases with a crew on call."""
        pool = self.pool_for(case, case.state.department or case.department)
        return ts + seconds if pool.clock is None else self.clock.add_work(ts, seconds)

    # Deciding ---------------------------------------------------------------------------

    def act(self, case: SimCase, command: c.Command, ts: int) -> list[e.Event]:
        now = to_datetime(ts)
        try:
            events = decide(case.state, command, now)
        except DomainError as exc:
            raise SimulationError(
                f"the decider refused {type(command).__name__} on {case.case_id} at "
                f"{now.isoformat()}: {exc}"
            ) from exc
        self.decisions += 1
        if case.commands is not None:
            case.commands.append((command, now))
        state = case.state
        for event in events:
            state = evolve(state, event)
        case.state = state
        case.events.extend(events)
        self._hold(case)
        self._arm_timer(case, ts)
        if any(isinstance(ev, e.SupervisionIssued) for ev in events):
            self.at(self.desk_time(case, ts, case.plan.reply), self.flow.reply, case)
        return events

    def _hold(self, case: SimCase) -> None:
        state = case.state
        holder = None
        if not state.is_terminal:
            holder = state.department if state.stage in HELD_BY_DEPARTMENT else CENTER
        if holder != case.holder:
            if case.holder is not None:
                self.open_by_holder[case.holder] -= 1
            if holder is not None:
                self.open_by_holder[holder] += 1
            case.holder = holder

    def _arm_timer(self, case: SimCase, ts: int) -> None:
        timer = next_timer(case.state)
        if timer is not None:
            version = case.state.version
            due = max(to_ts(timer.at), ts)

            def fire(engine: Engine, case: SimCase, now: int) -> None:
                if case.state.version == version:  # nothing happened since: the ladder steps
                    engine.act(case, timer.command, now)

            self.at(due, fire, case)

    # Running ----------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> SimResult:
        rng = random.Random(self.config.seed)
        for arrival in generate_arrivals(
            self.config, self.calendar, self.district, self.taxonomy, rng
        ):
            self.at(arrival.ts, self._arrive(arrival), None)
        for opening in self.clock.opens:
            if opening < self.end_ts:
                self.at(opening, _open_office, None)
        for hour in range(self.start_ts, self.end_ts + 1, 3600):
            self.at(hour, _sample, None)
        days = self.config.days
        while self.heap and self.heap[0][0] <= self.end_ts:
            ts, _, step, case = heapq.heappop(self.heap)
            step(self, case, ts)  # type: ignore[arg-type]
            if progress is not None and step is _sample and (ts - self.start_ts) % 86400 == 0:
                progress((ts - self.start_ts) // 86400, days)
        return SimResult(
            config=self.config,
            start=to_datetime(self.start_ts),
            end=to_datetime(self.end_ts),
            tz=self.calendar.tz,
            departments=self.departments,
            cases=self.cases,
            backlog=self.backlog,
            pools={f"{d}/{k}": p for (d, k), p in self.pools.items()},
            decisions=self.decisions,
        )

    def _arrive(self, arrival: Arrival) -> Step:
        def step(engine: Engine, _: SimCase | None, ts: int) -> None:
            engine.flow.arrive(engine, arrival, ts)

        return step


def _open_office(engine: Engine, _: SimCase | None, ts: int) -> None:
    for pool in engine.pools.values():
        if pool.clock is not None:
            pool.try_start(ts)


def _sample(engine: Engine, _: SimCase | None, ts: int) -> None:
    engine.backlog.append((ts, dict(engine.open_by_holder)))


def simulate(
    config: SimConfig,
    progress: Progress | None = None,
    *,
    only_departments: frozenset[str] | None = None,
    record_commands: bool = False,
    calendar: WorkingCalendar | None = None,
) -> SimResult:
    """Run ``config`` from its start for ``config.days`` days.

    ``only_departments``: simulate only the cases routing sends there (the staffing search;
    the others would not change their figures, see ``sim.staffing``). ``record_commands``
    keeps every command with its time on its case, to re-decide the streams in tests.
    """
    engine = Engine(
        config,
        calendar=calendar,
        only_departments=only_departments,
        record_commands=record_commands,
    )
    return engine.run(progress)
