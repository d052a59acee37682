"""Benchmark 1: cases from report to close through the real stack, and the bare Temporal
case driven the same way on the same server in the same run; the ratio of their rates.

Driver: this process, one Temporal client, C coroutines taking cases off a shared list
(closed loop: a client starts its next case when its last one closed). Workers: separate
processes as in production (`python -m gridcase.cli worker …`, and `python -m
bench.bare_worker …` for the bare case). Temporal: dev server with a SQLite WAL file, as
`gridcase up` runs it. A few cases of each kind run first, untimed (warm-up).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client

from bench.bare import QUEUES, STEPS, BareCaseWorkflow
from bench.common import Options, Result
from bench.profile import profiled
from bench.stack import Reports, Stack, running_stack, wait_until_serving
from workflows import client as cases

TARGET_RATIO = 0.7


async def real_case(client: Client, reports: Reports, case_id: str) -> None:
    report, reporter, department = reports.report()
    await cases.report_case(client, case_id, report, datetime.now(UTC))
    for command in reports.main_line(reporter, department):
        await cases.act(client, case_id, command)


async def bare_case(client: Client, case_id: str) -> None:
    handle = await client.start_workflow(
        BareCaseWorkflow.run, case_id, id=f"bare-{case_id}", task_queue=QUEUES["cases"]
    )
    await handle.query(BareCaseWorkflow.report)
    for step in STEPS:
        await handle.execute_update(step, case_id, result_type=int)


async def drive(n: int, concurrency: int, one: Callable[[str], Awaitable[None]]) -> float:
    """Run ``n`` cases with ``concurrency`` clients; the elapsed seconds."""
    ids = [f"lc-{uuid.uuid4().hex[:12]}" for _ in range(n)]

    async def client_loop() -> None:
        while ids:
            await one(ids.pop())

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return time.perf_counter() - started


async def phase(
    stack: Stack,
    n: int,
    concurrency: int,
    one: Callable[[str], Awaitable[None]],
    profile: Path | None = None,
    notes: list[str] | None = None,
) -> tuple[float, dict[str, float]]:
    await drive(max(2, concurrency // 2), concurrency, one)  # warm-up, untimed
    before = stack.cpu_seconds()
    pids = {k: v for k, v in stack.python_pids().items() if not k.startswith("bare-")}
    with profiled(profile, pids, notes if notes is not None else []):
        seconds = await drive(n, concurrency, one)
    after = stack.cpu_seconds()
    # CPU ms per case of each process: where the time goes.
    cpu = {k: round(1000 * (after[k] - before.get(k, 0.0)) / n, 1) for k in after}
    return n / seconds, cpu


async def _run(root: Path, n: int, concurrency: int, options: Options) -> Result:
    profile_notes: list[str] = []
    with running_stack(root, bare_workers=True) as stack:
        client = await stack.client()
        await wait_until_serving(stack, client, datetime.now(UTC))
        reports = Reports(seed=1)
        # The bare case first, then the real one: same server, same machine minutes apart.
        load_before = os.getloadavg()
        bare_rate, bare_cpu = await phase(stack, n, concurrency, lambda i: bare_case(client, i))
        real_rate, real_cpu = await phase(
            stack,
            n,
            concurrency,
            lambda i: real_case(client, reports, i),
            options.profile / "lifecycle" if options.profile else None,
            profile_notes,
        )
        load_after = os.getloadavg()
        stack.procs.check_alive()
        ratio = real_rate / bare_rate
        passed = ratio >= TARGET_RATIO
        return Result(
            name="lifecycle",
            figures={
                "real_cases_per_s": round(real_rate, 2),
                "bare_cases_per_s": round(bare_rate, 2),
                "ratio": round(ratio, 3),
                "cases": n,
                "concurrency": concurrency,
                "load_average": [round(x, 2) for x in (*load_before, *load_after)],
            },
            unit="cases/s (report to close: 1 start + 6 updates + 7 activities)",
            target=f"real/bare >= {TARGET_RATIO}",
            passed=passed,
            miss="" if passed else f"ratio {ratio:.2f} is {TARGET_RATIO - ratio:.2f} short",
            notes=[
                f"N={n} cases per kind, C={concurrency} concurrent clients (closed loop) in "
                "the benchmark process; warm-up cases untimed",
                "real: workflows.client.report_case + 6 x act through the 3 production worker "
                "processes (gridcase.cli worker), PostgreSQL event store, search attributes",
                "bare: bench.bare.BareCaseWorkflow (no domain, no DB), same queue split and "
                "worker settings, its own 3 worker processes; run first, same dev server",
                "Temporal dev server with SQLite WAL file (as gridcase up); PostgreSQL "
                f"{stack.pg_version} (pgserver, default settings)",
                f"CPU ms per case, bare: {bare_cpu}",
                f"CPU ms per case, real: {real_cpu}",
                "py-spy findings of an earlier run: bench/README.md",
                *profile_notes,
            ],
        )


def run(root: Path, options: Options) -> Result:
    n, concurrency = (5, 5) if options.quick else (300, 20)
    return asyncio.run(_run(root, n, concurrency, options))
