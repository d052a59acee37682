"""The embedded stack as `gridcase up` runs it, for the benchmarks that need workflows:
pgserver PostgreSQL (migrated), `temporal server start-dev` with a SQLite WAL file and our
search attributes, and the three production worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import psutil
from temporalio.client import Client

from bench.common import Postgres, Processes, Temporal, gridcase_workers, stack_env
from domain import commands as c
from domain.calendar import TimeLimit, TimeUnit
from domain.demo_district import generate_demo_district
from domain.events import Location
from domain.holiday_notices import shipped_notices
from domain.policy import CenterPolicy
from domain.roles import Actor, Role
from domain.routing import Router
from domain.taxonomy import default_taxonomy
from store.calendar import today
from store.calendar_sources import CalendarSources
from workers.run import KINDS
from workflows.converter import connect

LEADER = Actor(id="leader-01", role=Role.SHIFT_LEADER)
DISPATCHER = Actor(id="dispatcher-01", role=Role.DISPATCHER)
LONG = TimeLimit(30, TimeUnit.CALENDAR_DAYS)  # deadlines no timer reaches while a benchmark runs


@dataclass
class Stack:
    root: Path
    postgres: Postgres
    temporal: Temporal
    procs: Processes
    db_url: str
    pg_version: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    async def client(self) -> Client:
        return await connect(self.temporal.target)

    def pids(self) -> dict[str, int]:
        found = {name: p.pid for name, p in self.procs.procs.items()}
        found["temporal-server"] = self.temporal.pid()
        found["postgres"] = int(self.postgres.server.get_pid())
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU used so far per process (postgres: postmaster and its backends)."""
        used: dict[str, float] = {}
        for name, pid in self.pids().items():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                group = [proc, *proc.children(recursive=True)] if name == "postgres" else [proc]
                total = 0.0
                for p in group:
                    with contextlib.suppress(psutil.Error):
                        t = p.cpu_times()
                        total += t.user + t.system
                used[name] = total
        return used


@contextlib.contextmanager
def running_stack(root: Path, *, bare_workers: bool = False) -> Iterator[Stack]:
    postgres = Postgres(root)
    temporal = Temporal(root / "temporal", persistent=True)
    procs: Processes | None = None
    try:
        db_url = postgres.database("gridcase")
        target = temporal.start()
        procs = Processes(root, stack_env(db_url, target, root))
        gridcase_workers(procs, KINDS)
        if bare_workers:
            for kind in KINDS:
                procs.start(f"bare-{kind}", ["-m", "bench.bare_worker", kind])
        yield Stack(root, postgres, temporal, procs, db_url, postgres.version())
    finally:
        if procs is not None:
            procs.stop()
        temporal.stop()
        postgres.stop()


class Reports:
    """Realistic reports over the demo district: a grid worker's point in his grid, a
    category of the shipped taxonomy, its rules from a policy with long deadlines."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        taxonomy = default_taxonomy()
        self.district = generate_demo_district(0, taxonomy=taxonomy)
        self.router = Router(taxonomy)
        default = CenterPolicy()
        policy = CenterPolicy(
            base=replace(default.base, stage_limits=dict.fromkeys(default.base.stage_limits, LONG)),
            urgent_stage_limits=dict.fromkeys(default.urgent_stage_limits, LONG),
        )
        calendar = CalendarSources.of(shipped_notices()).for_cases(today())
        self.rules = {cat.code: policy.rules_for(cat, calendar) for cat in taxonomy}
        self.categories = [cat.code for cat in taxonomy]

    def report(self) -> tuple[c.ReportCase, Actor, str]:
        grid = self.rng.choice(self.district.grids)
        assert grid.area is not None
        lon, lat = grid.area.centroid()
        category = self.rng.choice(self.categories)
        reporter = Actor(id=f"W{grid.code}", role=Role.GRID_WORKER, unit=grid.code)
        command = c.ReportCase(
            actor=reporter,
            category=category,
            grid=grid.code,
            description=f"benchmark case in grid {grid.code}",
            location=Location(lon=lon, lat=lat, address=f"grid {grid.code}"),
            photos=("sha256:bench",),
            rules=self.rules[category],
        )
        return command, reporter, self.router.route(category, grid.code).department

    def main_line(self, reporter: Actor, department: str) -> list[c.Command]:
        handler = Actor(id=f"handler-{department}", role=Role.HANDLER, unit=department)
        return [
            c.FileCase(actor=LEADER, note="meets the filing condition"),
            c.DispatchCase(actor=DISPATCHER, department=department),
            c.SignFor(actor=handler),
            c.SubmitFeedback(actor=handler, result="fixed", photos=("sha256:after",)),
            c.RecordClosureCheck(actor=reporter, passed=True, note="clean"),
            c.CloseCase(actor=LEADER),
        ]


async def wait_until_serving(
    stack: Stack, client: Client, now: datetime, timeout: float = 90.0
) -> None:
    """Poll with a throwaway case until the workers answer (they start in parallel)."""
    from workflows import client as cases

    reports = Reports(seed=99)
    deadline = asyncio.get_running_loop().time() + timeout
    report, _, _ = reports.report()
    case_id = f"ready-{random.getrandbits(40):x}"
    task = asyncio.ensure_future(cases.report_case(client, case_id, report, now))
    while not task.done():
        stack.procs.check_alive()
        if asyncio.get_running_loop().time() > deadline:
            task.cancel()
            raise TimeoutError("the workers did not serve a case in time")
        await asyncio.sleep(0.2)
    task.result()
