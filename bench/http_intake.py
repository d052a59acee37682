"""Benchmark: `POST /v1/reports` through the real HTTP API at a fixed offered rate (open
loop), as a grid worker's app sends it; latency from the scheduled send time to the answer.

Stack as `gridcase up` runs it, each part its own process: pgserver PostgreSQL, the dev
server with a SQLite WAL file, the three production workers and the API (uvicorn). The
demo district is loaded (the API locates each report's grid from its point) and one grid
worker per grid used is registered with a bearer token. Each report is sent at its
scheduled moment whether or not earlier ones have answered. An answer counts when it is
201 (a new case, with its record); a 202 (accepted, the record not visible in time) or
anything else is counted apart and fails the target. Reports use the default center
policy: no deadline falls due while the benchmark runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from bench.common import OpenLoop, Options, Result
from bench.profile import profiled
from bench.stack import running_stack
from domain.demo_district import generate_demo_district
from domain.routing import Router
from domain.taxonomy import default_taxonomy
from store.reference import import_district, import_routing, import_taxonomy
from store.users import UserStore

TARGET_P99_MS = 100.0
GRID_WORKERS = 20  # one per grid, the grids taken in order from the demo district
# Everyday categories (the shipped taxonomy's most common street problems).
CATEGORIES = ("E0101", "E0102", "E0103", "E0201", "C0101", "C0102", "C0201", "C0301")


def _prepare(db_url: str) -> list[dict[str, Any]]:
    """Load the demo district and register grid workers; their tokens and points."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        taxonomy = default_taxonomy()
        district = generate_demo_district(0, taxonomy=taxonomy)
        # Routing, district, taxonomy: the order of `gridcase reference seed-demo`.
        import_routing(engine, Router(taxonomy), source="bench")
        import_district(engine, district, source="bench (synthetic)")
        import_taxonomy(engine, taxonomy, source="bench")
        categories = [taxonomy.category(code).code for code in CATEGORIES]
        users = UserStore(engine)
        reporters = []
        for i, grid in enumerate(district.grids[:GRID_WORKERS]):
            assert grid.area is not None
            lon, lat = grid.area.centroid()
            user_id = f"bench-gw-{i:03d}"
            users.create_user(user_id, f"Grid worker {i}", "grid_worker", [grid.code])
            reporters.append(
                {
                    "token": users.issue_token(user_id).secret,
                    "lon": lon,
                    "lat": lat,
                    "categories": categories,
                }
            )
        return reporters
    finally:
        engine.dispose()


class Sender:
    def __init__(self, http: httpx.AsyncClient, reporters: list[dict[str, Any]]) -> None:
        self.http = http
        self.reporters = reporters
        self.rng = random.Random(3)

    async def post(self, prefix: str) -> httpx.Response:
        who = self.rng.choice(self.reporters)
        body = {
            "report_id": f"{prefix}-{uuid.uuid4().hex[:12]}",
            "category": self.rng.choice(who["categories"]),
            "description": "benchmark report: garbage by the bus stop",
            "location": {"lon": who["lon"], "lat": who["lat"], "address": "bus stop"},
        }
        return await self.http.post(
            "/v1/reports", json=body, headers={"Authorization": f"Bearer {who['token']}"}
        )


async def _warm_up(sender: Sender, timeout: float = 120.0) -> None:
    """Until a report answers 201 (the workers start in parallel), then a few more."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = await sender.post("warm")
            if answer.status_code == 201:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the API did not record a report in time")
        await asyncio.sleep(0.5)
    for _ in range(5):
        await sender.post("warm")


async def _run(root: Path, rate: float, seconds: float, options: Options) -> Result:
    notes: list[str] = []
    with running_stack(root, api=True) as stack:
        reporters = await asyncio.to_thread(_prepare, stack.db_url)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60.0, limits=limits) as http:
            sender = Sender(http, reporters)
            await _warm_up(sender)
            n = int(rate * seconds)
            loop = asyncio.get_running_loop()
            latencies: list[float] = []
            lags: list[float] = []
            statuses: Counter[str] = Counter()
            first_failure: list[str] = []

            async def send(at: float) -> None:
                await asyncio.sleep(max(0.0, at - loop.time()))
                lags.append(loop.time() - at)
                try:
                    answer = await sender.post("http")
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    first_failure.append(f"{type(exc).__name__}: {exc}")
                    return
                statuses[str(answer.status_code)] += 1
                if answer.status_code == 201:
                    latencies.append(loop.time() - at)
                else:
                    first_failure.append(f"{answer.status_code}: {answer.text[:300]}")

            load_before = os.getloadavg()
            start = loop.time() + 0.5
            before = stack.cpu_seconds()
            wall = time.perf_counter()
            folder = options.profile / "http_intake" if options.profile else None
            with profiled(folder, stack.python_pids(), notes):
                await asyncio.gather(*(send(start + i / rate) for i in range(n)))
            wall = time.perf_counter() - wall
            after = stack.cpu_seconds()
            load_after = os.getloadavg()
        cpu = {k: round(1000 * (after[k] - before.get(k, 0.0)) / n, 1) for k in after}
        stack.procs.check_alive()
    run = OpenLoop(latencies, lags, rate, n, wall, (*load_before, *load_after))
    failed = n - len(latencies)
    misses = run.misses(TARGET_P99_MS, f"{failed} reports not answered 201" if failed else "")
    return Result(
        name="http_intake",
        figures=run.figures() | {"statuses": dict(statuses)},
        unit="ms from scheduled send to the 201 answer",
        target=f"p99 < {TARGET_P99_MS:.0f} ms at {rate:g}/s",
        passed=not misses,
        miss="; ".join(misses),
        notes=[
            f"open loop: {n} POST /v1/reports at {rate:g}/s for {seconds:g} s from "
            f"{len(reporters)} grid workers (bearer tokens), latency from the scheduled send "
            "time to a 201 with the case; anything else counted in statuses",
            "stack as gridcase up runs it: pgserver PostgreSQL, dev server with SQLite WAL "
            "file, 3 production worker processes, the API (uvicorn, one process); demo "
            "district loaded, default center policy",
            "load_average: 1, 5, 15 min before the timed phase, then after it",
            f"CPU ms per report: {cpu}",
            *([f"first failure: {first_failure[0]}"] if first_failure else []),
            *notes,
        ],
    )


def run(root: Path, options: Options) -> Result:
    rate, seconds = (5.0, 2.0) if options.quick else (20.0, 30.0)
    rate = options.rate or rate
    return asyncio.run(_run(root, rate, seconds, options))
