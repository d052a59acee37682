"""`gridcase demo`: cases through the running stack — one down the main line, or a mixed
batch over the (synthetic) demo district through the side paths."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine
from temporalio.client import Client

from application.config import Settings
from application.intake import Intake
from domain import commands as c
from domain.calendar import TimeLimit, TimeUnit
from domain.demo_district import generate_demo_district
from domain.errors import DomainError
from domain.events import Location
from domain.roles import Actor, Role
from domain.routing import Router
from domain.stages import SupervisionLevel
from domain.taxonomy import default_taxonomy
from store.db import make_engine
from store.event_store import EventStore
from store.reference import (
    NoDistrictLoaded,
    import_district,
    import_routing,
    import_taxonomy,
    load_district,
)
from workflows import client as cases

LEADER = Actor(id="leader-01", role=Role.SHIFT_LEADER)
ACCEPTOR = Actor(id="acceptor-01", role=Role.ACCEPTOR)
DISPATCHER = Actor(id="dispatcher-01", role=Role.DISPATCHER)
SUPERVISOR = Actor(id="supervisor-01", role=Role.SUPERVISOR)
COMMANDER = Actor(id="commander-01", role=Role.LEADER)

# Everyday classes of the shipped taxonomy and the weight of each in the batch.
CATEGORIES = {"E0101": 5, "E0102": 3, "C0101": 1, "C0102": 1, "E0201": 2, "E0501": 2}
# Scenario -> weight: mostly the main line, every side path represented.
SCENARIOS = {
    "main_line": 30,
    "rework": 8,
    "return": 8,
    "extension": 8,
    "suspension": 5,
    "reject": 5,
    "public_verified": 6,
    "self_handled": 5,
    "merge": 5,
    "supervised": 6,
    "left_open": 14,
}


def ensure_reference_data(engine: Engine, seed: int = 0) -> bool:
    """Seed the synthetic demo district when no district is loaded; True if it seeded."""
    try:
        load_district(engine)
        return False
    except NoDistrictLoaded:
        taxonomy = default_taxonomy()
        import_routing(engine, Router(taxonomy), source="demo")
        import_district(
            engine, generate_demo_district(seed, taxonomy=taxonomy), source="demo (synthetic)"
        )
        import_taxonomy(engine, taxonomy, source="shipped")
        return True


def _drill(intake: Intake) -> Intake:
    """Deadlines of seconds, so the escalation ladder visibly runs during the demo."""
    quarter, half = TimeLimit(0.25, TimeUnit.MINUTES), TimeLimit(0.5, TimeUnit.MINUTES)
    fast = dict.fromkeys(intake.policy.base.stage_limits, quarter)
    base = replace(
        intake.policy.base, stage_limits=fast, yellow_card_after=quarter, red_card_after=half
    )
    policy = replace(intake.policy, base=base, urgent_stage_limits=fast)
    return replace(intake, policy=policy)


class Batch:
    def __init__(self, client: Client, intake: Intake, rng: random.Random, drill: bool) -> None:
        self.client = client
        self.intake = intake
        self.rng = rng
        self.drill = drill
        assert intake.district is not None
        self.district = intake.district
        self.open_targets: list[str] = []

    def report(self, scenario: str) -> tuple[c.ReportCase, Actor, str]:
        grid = self.rng.choice(self.district.grids)
        worker = self.district.worker_for_grid(grid.code)
        worker_id = worker.id if worker else "gw-demo"
        reporter = Actor(id=worker_id, role=Role.GRID_WORKER, unit=grid.code)
        assert grid.area is not None
        lon, lat = grid.area.centroid()
        category = self.rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
        if scenario == "self_handled":
            category = next(
                (cat.code for cat in self.intake.taxonomy if cat.self_handling), category
            )
        public = scenario in ("public_verified", "reject")
        command = self.intake.report(
            actor=ACCEPTOR if public else reporter,
            category=category,
            description=f"demo {scenario} case in grid {grid.code}",
            location=Location(lon=lon, lat=lat, address=f"near the centre of grid {grid.code}"),
            source="hotline_12345" if public else "grid_worker",
            self_handled=scenario == "self_handled",
            self_handling_result="fixed on the spot" if scenario == "self_handled" else "",
        )
        if self.drill and command.rules is not None:
            rules = command.rules
            fast = dict.fromkeys(rules.conditions, TimeLimit(0.5, TimeUnit.MINUTES))
            command = replace(command, rules=replace(rules, conditions=fast))
        return command, reporter, grid.code

    async def run_case(self, scenario: str) -> str:
        case_id = f"demo-{uuid.uuid4().hex[:10]}"
        report, reporter, grid = self.report(scenario)
        now = datetime.now(UTC)
        await cases.report_case(self.client, case_id, report, now)
        department = self.intake.suggest_department(report.category, grid)
        handler = Actor(id=f"handler-{department}", role=Role.HANDLER, unit=department)

        async def act(command: c.Command) -> None:
            await cases.act(self.client, case_id, command)

        if scenario == "self_handled":
            await act(c.ReviewSelfHandling(actor=ACCEPTOR, approve=True))
            return scenario
        if scenario in ("public_verified", "reject"):
            if scenario == "reject":
                await act(c.RejectCase(actor=ACCEPTOR, reason="no such problem at the address"))
                return scenario
            await act(c.RequestVerification(actor=ACCEPTOR, assignee=reporter.id))
            await act(c.RecordVerification(actor=reporter, confirmed=True, note="seen on site"))
        if scenario == "merge" and self.open_targets:
            await act(c.MergeCase(actor=ACCEPTOR, into=self.rng.choice(self.open_targets)))
            return scenario
        await act(c.FileCase(actor=LEADER))
        dispatch = c.DispatchCase(
            actor=DISPATCHER, department=department, suggested_department=department
        )
        if scenario == "return":
            wrong = "municipal_roads" if department != "municipal_roads" else "sanitation"
            await act(replace(dispatch, department=wrong))
            wrong_handler = Actor(id=f"handler-{wrong}", role=Role.HANDLER, unit=wrong)
            await act(c.RequestReturn(actor=wrong_handler, reason="not our remit"))
            await act(c.DecideReturn(actor=DISPATCHER, approve=True))
        await act(dispatch)
        if scenario == "left_open":
            self.open_targets.append(case_id)
            return scenario
        await act(c.SignFor(actor=handler))
        if scenario == "extension":
            ask = c.RequestExtension(actor=handler, reason="parts", amount="1 working_days")
            await act(ask)
            await act(c.DecideExtension(actor=DISPATCHER, approve=True))
        if scenario == "suspension":
            await act(c.RequestSuspension(actor=handler, reason="needs a road permit"))
            await act(c.DecideSuspension(actor=COMMANDER, approve=True))
            await act(c.ResumeCase(actor=DISPATCHER, note="permit granted"))
        if scenario == "supervised":
            await act(c.UrgeCase(actor=SUPERVISOR, message="citizens are waiting"))
            level = SupervisionLevel.ORDINARY
            await act(c.SuperviseCase(actor=SUPERVISOR, level=level, message="report today"))
            await act(c.ReplyToSupervision(actor=handler, reply="crew on site"))
        await act(c.SubmitFeedback(actor=handler, result="done, photos attached"))
        if scenario == "rework":
            await act(c.RecordClosureCheck(actor=reporter, passed=False, note="half done"))
            await act(c.SubmitFeedback(actor=handler, result="finished"))
        await act(c.RecordClosureCheck(actor=reporter, passed=True, note="clean"))
        await act(c.CloseCase(actor=LEADER))
        return scenario


async def run_batch(
    client: Client,
    console: Console,
    *,
    size: int,
    seed: int,
    drill: bool,
    concurrency: int = 8,
) -> Counter[str]:
    settings = Settings.from_env()
    engine = make_engine(settings.db_url, pool_size=2)
    try:
        if await asyncio.to_thread(ensure_reference_data, engine):
            console.print("seeded the synthetic demo district (410105, 108 grids)")
        intake = await asyncio.to_thread(Intake.load, settings, engine)
    finally:
        engine.dispose()
    if drill:
        intake = _drill(intake)
    rng = random.Random(seed)
    batch = Batch(client, intake, rng, drill)
    plan = rng.choices(list(SCENARIOS), weights=list(SCENARIOS.values()), k=size)
    # Cases left open come first, so merges have something to merge into.
    plan.sort(key=lambda s: (s != "left_open", s == "merge"))
    done: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("cases", total=size)

        async def one(scenario: str) -> None:
            async with gate:
                try:
                    done[await batch.run_case(scenario)] += 1
                except DomainError as exc:
                    failed[f"{scenario}: {exc.code}"] += 1
                progress.advance(task)

        await asyncio.gather(*(one(s) for s in plan))
    for reason, n in failed.items():
        console.print(f"[red]refused[/red] {n} × {reason}")
    return done


async def run_demo(client: Client, console: Console) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One case from report to close; returns its projection row and its event records."""
    settings = Settings.from_env()
    engine = make_engine(settings.db_url, pool_size=2)
    try:
        if await asyncio.to_thread(ensure_reference_data, engine):
            console.print("seeded the synthetic demo district (410105, 108 grids)")
        intake = await asyncio.to_thread(Intake.load, settings, engine)
        batch = Batch(client, intake, random.Random(), drill=False)
        case_id = f"demo-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        report, reporter, grid = batch.report("main_line")
        await cases.report_case(client, case_id, report, datetime.now(UTC))
        console.print(f"reported case {case_id} ({report.category}) in grid {grid}")
        department = intake.suggest_department(report.category, grid)
        handler = Actor(id=f"handler-{department}", role=Role.HANDLER, unit=department)
        for label, command in [
            ("立案 file", c.FileCase(actor=LEADER, note="meets the filing condition")),
            ("派遣 dispatch", c.DispatchCase(actor=DISPATCHER, department=department)),
            ("签收 sign for", c.SignFor(actor=handler)),
            ("处理反馈 feedback", c.SubmitFeedback(actor=handler, result="problem fixed")),
            ("核查 check", c.RecordClosureCheck(actor=reporter, passed=True, note="site is fine")),
            ("结案 close", c.CloseCase(actor=LEADER)),
        ]:
            result = await cases.act(client, case_id, command)
            console.print(f"  {label:<18} -> stage {result.stage} (v{result.version})")
        store = EventStore(engine)
        # The projection is written in the same transaction as the last event, so it is there.
        return await asyncio.to_thread(lambda: (store.case(case_id), store.records(case_id)))
    finally:
        engine.dispose()
