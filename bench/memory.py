"""Benchmark 5: resident memory of the `cases` worker process with many open cases.

Cases are reported through the real stack (report_case, C at a time) and left in stage
verify with 30-day deadlines, so each workflow waits on a timer. VmRSS of the production
`gridcase.cli worker cases` process is read from /proc at checkpoints while they start and
after all are started (and a short settle). The worker's sticky cache holds at most
``max_cached_workflows`` of them (build_worker leaves the SDK default); beyond that the
least recently used are evicted and replayed from history when their timer fires or a step
arrives, so the RSS flattens at the cache size.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio.worker import Worker

from bench.common import Options, Result, rss_bytes
from bench.stack import Reports, running_stack, wait_until_serving
from workers import run as worker_run
from workflows import client as cases

MB = 1024 * 1024


def cache_setting() -> tuple[int, bool]:
    """The SDK default of max_cached_workflows and whether build_worker overrides it."""
    default = inspect.signature(Worker.__init__).parameters["max_cached_workflows"].default
    overridden = "max_cached_workflows" in inspect.getsource(worker_run.build_worker)
    return int(default), overridden


async def _run(root: Path, n: int, concurrency: int) -> Result:
    default, overridden = cache_setting()
    with running_stack(root) as stack:
        client = await stack.client()
        await wait_until_serving(stack, client, datetime.now(UTC))
        pid = stack.procs.procs["worker-cases"].pid
        await asyncio.sleep(1.0)
        baseline = rss_bytes(pid)
        reports = Reports(seed=5)
        todo = list(range(n))
        checkpoints: list[tuple[int, float]] = []
        every = max(1, n // 10)
        started = 0

        async def client_loop() -> None:
            nonlocal started
            while todo:
                todo.pop()
                report, _, _ = reports.report()
                case_id = f"mem-{uuid.uuid4().hex[:12]}"
                await cases.report_case(client, case_id, report, datetime.now(UTC))
                started += 1
                if started % every == 0:
                    checkpoints.append((started, round(rss_bytes(pid) / MB, 1)))

        loop = asyncio.get_running_loop()
        t = loop.time()
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        start_s = loop.time() - t
        await asyncio.sleep(3.0)  # let the last workflow tasks finish
        final = rss_bytes(pid)
        others = {name: round(rss_bytes(p) / MB, 1) for name, p in stack.pids().items()}
        stack.procs.check_alive()
    cached = min(n, default) if not overridden else None
    per_case_kb = (final - baseline) / n / 1024
    return Result(
        name="memory",
        figures={
            "cases_worker_rss_mb": round(final / MB, 1),
            "baseline_rss_mb": round(baseline / MB, 1),
            "rss_per_open_case_kb": round(per_case_kb, 1),
            "open_cases": n,
            "max_cached_workflows": default if not overridden else "set in build_worker",
            "cached_at_most": cached,
        },
        unit="MB (VmRSS)",
        target="report only",
        passed=None,
        notes=[
            f"{n} cases reported ({concurrency} at a time, {start_s:.0f} s) and left in "
            "verify waiting on 30-day timers; RSS of `gridcase.cli worker cases` from "
            "/proc/<pid>/status after all started + 3 s",
            f"sticky cache: max_cached_workflows={default} (SDK default; build_worker "
            f"{'sets it' if overridden else 'does not set it'}): at most {cached} of "
            f"the {n} workflows stay cached, the rest are evicted and replayed when woken",
            f"per-case figure = (final - baseline) / open cases; RSS at checkpoints "
            f"(cases, MB): {checkpoints}",
            f"RSS of every process at the end (MB): {others}",
        ],
    )


def run(root: Path, options: Options) -> Result:
    n, concurrency = (30, 10) if options.quick else (10_000, 20)
    return asyncio.run(_run(root, n, concurrency))
