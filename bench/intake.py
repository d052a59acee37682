"""Benchmark 2: latency of filing a report at a fixed offered rate (open loop).

Driven by the Temporal client (workflows.client.report_case: the domain check, then one
update-with-start answered once the report is appended), not through the HTTP API; see
http_intake for the same through the API. Each report is sent at its
scheduled moment whether or not earlier ones have finished, and its latency is counted from
that moment (so a driver or server that falls behind shows up as latency, not as a lower
rate). Stack: PostgreSQL + dev server with a SQLite WAL file + the three production worker
processes. Cases are left open in verify with deadlines of 30 days (no timer fires).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import OpenLoop, Options, Result
from bench.profile import profiled
from bench.stack import Reports, running_stack, wait_until_serving
from workflows import client as cases

TARGET_P99_MS = 100.0


async def _run(root: Path, rate: float, seconds: float, options: Options) -> Result:
    profile_notes: list[str] = []
    with running_stack(root) as stack:
        client = await stack.client()
        await wait_until_serving(stack, client, datetime.now(UTC))
        reports = Reports(seed=2)
        for _ in range(5):  # warm-up, untimed
            report, _, _ = reports.report()
            await cases.report_case(client, f"w-{uuid.uuid4().hex[:12]}", report, datetime.now(UTC))
        n = int(rate * seconds)
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        lags: list[float] = []
        errors: list[str] = []

        async def send(at: float) -> None:
            await asyncio.sleep(max(0.0, at - loop.time()))
            lags.append(loop.time() - at)
            report, _, _ = reports.report()
            try:
                receipt = await cases.report_case(
                    client, f"in-{uuid.uuid4().hex[:12]}", report, datetime.now(UTC)
                )
            except Exception as exc:  # counted and reported, not fatal
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            # (A checkout from before the report waited for its record has no such field.)
            if not getattr(receipt, "recorded", True):
                errors.append(f"not recorded within {cases.RECORD_WAIT:g} s")
                return
            latencies.append(loop.time() - at)

        start = loop.time() + 0.5
        load_before = os.getloadavg()
        before = stack.cpu_seconds()
        wall = time.perf_counter()
        folder = options.profile / "intake" if options.profile else None
        with profiled(folder, stack.python_pids(), profile_notes):
            await asyncio.gather(*(send(start + i / rate) for i in range(n)))
        wall = time.perf_counter() - wall
        after = stack.cpu_seconds()
        load_after = os.getloadavg()
        cpu = {k: round(1000 * (after[k] - before.get(k, 0.0)) / n, 1) for k in after}
        stack.procs.check_alive()
    run = OpenLoop(latencies, lags, rate, n, wall, (*load_before, *load_after))
    misses = run.misses(TARGET_P99_MS, f"{len(errors)} reports failed" if errors else "")
    return Result(
        name="intake",
        figures=run.figures() | {"errors": len(errors)},
        unit="ms from scheduled send to receipt",
        target=f"p99 < {TARGET_P99_MS:.0f} ms at {rate:g}/s",
        passed=not misses,
        miss="; ".join(misses),
        notes=[
            f"open loop: {n} reports at {rate:g}/s for {seconds:g} s, latency from the "
            "scheduled send time to the answer with the appended report; driven by the "
            "Temporal client (report_case: one update-with-start); the HTTP API is not in "
            "this benchmark (http_intake)",
            "stack: pgserver PostgreSQL, dev server with SQLite WAL file, 3 production "
            "worker processes; cases stay open in verify (30-day deadlines)",
            f"CPU ms per report: {cpu}",
            *([f"first error: {errors[0]}"] if errors else []),
            *profile_notes,
        ],
    )


def run(root: Path, options: Options) -> Result:
    rate, seconds = (5.0, 2.0) if options.quick else (20.0, 30.0)
    rate = options.rate or rate
    return asyncio.run(_run(root, rate, seconds, options))
