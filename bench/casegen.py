"""Realistic case histories made with the real decider, for the bulk loader.

Every case is reported in a grid of the synthetic demo district with a category of the
shipped taxonomy and the rules the center's default policy gives it, then walked down the
main line (with some rejects, reworks and extensions) with ``domain.case.decide`` and
``evolve``. The clock's ladder (``domain.timers.next_timer``: yellow light, overdue, cards)
is applied exactly as CaseWorkflow would, whenever its moment comes before the next step or
before ``now``. A step that would happen after ``now`` is not taken, so the case stays open
there: the mix of stages and of overdue cases comes out of the ages and the delays, not out
of a table of stages. The projection rows are ``store.projections.case_row_values`` of the
folded state and ``store.kpi_projection.kpi_row_values`` of the folded evaluation facts,
so what is loaded is what the live system would have written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import commands as c
from domain.case import CaseState, decide, evolve, initial_state
from domain.codec import encode, to_record
from domain.demo_district import generate_demo_district
from domain.errors import DomainError
from domain.events import CaseReported, Event, Location, payload_fields
from domain.kpi_facts import FactsFold
from domain.policy import CenterPolicy
from domain.roles import Actor, Role
from domain.routing import Router
from domain.steps.disposal import extension_refused_at
from domain.taxonomy import default_taxonomy
from domain.timers import next_timer
from store.calendar_sources import CASE_YEARS, shipped_calendar
from store.kpi_projection import kpi_row_values
from store.projections import case_row_values

LEADER = Actor(id="leader-01", role=Role.SHIFT_LEADER)
ACCEPTOR = Actor(id="acceptor-01", role=Role.ACCEPTOR)
DISPATCHER = Actor(id="dispatcher-01", role=Role.DISPATCHER)
# Everyday classes weigh more, as in a real center's intake (the demo batch's weights).
HEAVY = {"E0101": 12, "E0102": 8, "C0101": 3, "C0102": 3, "E0201": 5, "E0501": 5}
MAX_TIMERS = 6  # per wait: warning, overdue, two cards and a little slack


@dataclass(frozen=True)
class GeneratedCase:
    records: list[dict[str, Any]]  # domain.codec records, versions 1..n
    row: dict[str, Any]  # the cases projection row
    kpi: dict[str, Any]  # the kpi_facts projection row


class CaseGenerator:
    """Deterministic for a seed: the same seed gives the same cases."""

    def __init__(self, seed: int, now: datetime, *, history_days: float = 180.0) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.history = timedelta(days=history_days)
        taxonomy = default_taxonomy()
        self.district = generate_demo_district(0, taxonomy=taxonomy)
        router = Router(taxonomy)
        # Cases as intake records them: shipped notices, provisional years after them.
        first = (now - self.history).year
        policy, calendar = CenterPolicy(), shipped_calendar(first, now.year + CASE_YEARS - 1)
        self.categories = [cat.code for cat in taxonomy]
        self.weights = [HEAVY.get(code, 1) for code in self.categories]
        self.rules = {cat.code: policy.rules_for(cat, calendar) for cat in taxonomy}
        self.grids = []
        for grid in self.district.grids:
            assert grid.area is not None
            lon, lat = grid.area.centroid()
            self.grids.append((grid.code, lon, lat))
        self.route: Callable[[str, str], str] = lambda cat, g: router.route(cat, g).department
        self._routes: dict[tuple[str, str], str] = {}
        self._encoded_rules: dict[int, dict[str, Any]] = {}

    def record(self, event: Event) -> dict[str, Any]:
        """``domain.codec.to_record``, with each category's rules encoded once: they are
        most of a CaseReported record (the working calendar) and the same for every case
        of the category. The first record per category is checked against to_record."""
        if not isinstance(event, CaseReported):
            return to_record(event)
        encoded = self._encoded_rules.get(id(event.rules))
        if encoded is None:
            record = to_record(event)
            self._encoded_rules[id(event.rules)] = record["data"]["rules"]
            return record
        data = {k: encode(v) for k, v in payload_fields(event).items() if k != "rules"}
        data["rules"] = encoded
        return {
            "type": event.type,
            "schema_version": CaseReported.SCHEMA_VERSION,
            "case_id": event.case_id,
            "version": event.version,
            "occurred_at": encode(event.occurred_at),
            "actor": encode(event.actor),
            "data": data,
        }

    def department(self, category: str, grid: str) -> str:
        key = (category, grid)
        if key not in self._routes:
            self._routes[key] = self.route(category, grid)
        return self._routes[key]

    def case(self, case_id: str) -> GeneratedCase:
        rng = self.rng
        # Most cases are spread over the history (nearly all closed by now); a third are
        # recent, so the open stages and the overdue list are well populated.
        if rng.random() < 0.67:
            age = rng.uniform(0, self.history.total_seconds())
        else:
            age = rng.uniform(0, 10 * 86400)
        t = self.now - timedelta(seconds=age)
        code, lon, lat = rng.choice(self.grids)
        category = rng.choices(self.categories, weights=self.weights)[0]
        reporter = Actor(id=f"W{code}", role=Role.GRID_WORKER, unit=code)
        report = c.ReportCase(
            actor=reporter,
            category=category,
            grid=code,
            description=f"{category} seen in grid {code}",
            location=Location(
                lon=round(lon + rng.uniform(-0.002, 0.002), 6),
                lat=round(lat + rng.uniform(-0.002, 0.002), 6),
                address=f"near the centre of grid {code}",
            ),
            photos=(f"sha256:{rng.getrandbits(64):016x}",),
            rules=self.rules[category],
        )
        walk = _Walk(self, case_id, t)
        walk.apply(report, t)
        dept = self.department(category, code)
        handler = Actor(id=f"handler-{dept}-{rng.randrange(5)}", role=Role.HANDLER, unit=dept)
        if rng.random() < 0.05:
            walk.step(c.RejectCase(actor=ACCEPTOR, reason="not a matter for the center"))
            return walk.done()
        steps: list[c.Command] = [
            c.FileCase(actor=LEADER, note="meets the filing condition"),
            c.DispatchCase(actor=DISPATCHER, department=dept, suggested_department=dept),
            c.SignFor(actor=handler),
        ]
        if rng.random() < 0.05:
            steps.append(c.RequestExtension(actor=handler, reason="parts", amount="1 working_days"))
            steps.append(c.DecideExtension(actor=DISPATCHER, approve=True))
        steps.append(c.SubmitFeedback(actor=handler, result="fixed", photos=("sha256:after",)))
        if rng.random() < 0.06:
            steps.append(c.RecordClosureCheck(actor=reporter, passed=False, note="half done"))
            steps.append(c.SubmitFeedback(actor=handler, result="finished"))
        steps.append(c.RecordClosureCheck(actor=reporter, passed=True, note="clean"))
        steps.append(c.CloseCase(actor=LEADER))
        for command in steps:
            if not walk.step(command):
                break
        return walk.done()


class _Walk:
    """One case moving through time: steps after human-like delays, timers in between."""

    def __init__(self, gen: CaseGenerator, case_id: str, t: datetime) -> None:
        self.gen = gen
        self.state: CaseState = initial_state(case_id)
        self.facts = FactsFold()
        self.t = t
        self.records: list[dict[str, Any]] = []

    def apply(self, command: c.Command, at: datetime) -> None:
        for event in decide(self.state, command, at):
            self.state = evolve(self.state, event)
            self.facts.on(event)
            self.records.append(self.gen.record(event))

    def _delay(self) -> timedelta:
        """How long people take for the next step: mostly well inside the stage's limit,
        now and then past it (which is what fills the overdue list)."""
        rng, s = self.gen.rng, self.state
        limit = (
            (s.stage_due_at - s.stage_entered_at).total_seconds()
            if s.stage_due_at and s.stage_entered_at
            else 3600.0
        )
        share = rng.uniform(0.05, 0.7) if rng.random() < 0.85 else rng.uniform(0.8, 4.0)
        return timedelta(seconds=max(30.0, share * limit))

    def _timers_until(self, until: datetime) -> None:
        for _ in range(MAX_TIMERS):
            timer = next_timer(self.state)
            if timer is None or timer.at > until:
                return
            at = max(timer.at, self.t)
            try:
                self.apply(timer.command, at)
            except DomainError:
                return
            self.t = at

    def step(self, command: c.Command) -> bool:
        """Take ``command`` after a delay, or stop (the case stays open) if that is later
        than now. The ladder runs up to the moment of the step. A department asks for an
        extension only before its deadline, and a late answer to it is a denial (the
        default policy allows no late extensions)."""
        at = self.t + self._delay()
        if at > self.gen.now:
            return False
        self._timers_until(at)
        self.t = at
        if isinstance(command, c.RequestExtension) and extension_refused_at(self.state, at):
            return True  # too late to ask: the department goes on without one
        if isinstance(command, c.DecideExtension):
            if self.state.pending is None:
                return True
            if extension_refused_at(self.state, at):
                command = c.DecideExtension(actor=command.actor, approve=False, note="too late")
        self.apply(command, at)
        return True

    def done(self) -> GeneratedCase:
        self._timers_until(self.gen.now)
        facts = self.facts.facts()
        assert facts is not None
        kpi = kpi_row_values(facts, self.state.version)
        return GeneratedCase(self.records, case_row_values(self.state), kpi)
