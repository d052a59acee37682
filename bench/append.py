"""Benchmark: the event store's append alone (`store.event_store.EventStore.append`), as the
activity workers call it: one step's events per append, each case's appends in order,
C threads (the activity workers' pool) appending for different cases at once.

Cases are the bulk loader's (bench.casegen: the real decider over the demo district, the
main line with its side paths), their notices as the activities derive them. Figures:
appends per second, latency per append, CPU ms per append of this process and of
PostgreSQL. No Temporal, no worker processes: the store's own cost, apart from the rest.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine

from activities.notices import notices_for
from bench.casegen import CaseGenerator
from bench.common import Options, Postgres, Result, percentile
from bench.profile import profiled
from store.db import make_engine
from store.event_store import EventStore

THREADS = 16  # as workers.run.ACTIVITY_THREADS


def _engine(url: str) -> Engine:
    """The engine as an activity worker makes it."""
    try:
        from workers.run import activity_engine
    except ImportError:  # a checkout from before it (the "before" of a comparison)
        return make_engine(url, pool_size=THREADS)
    return activity_engine(url)


def _cases(n: int) -> list[tuple[str, list[list[dict[str, Any]]]]]:
    """``n`` cases, each as its appends: one decision's records per append (the events of
    one decision share their time)."""
    generator = CaseGenerator(seed=4, now=datetime.now(UTC))
    out = []
    for i in range(n):
        case_id = f"ap-{i:06d}"
        steps: list[list[dict[str, Any]]] = []
        for record in generator.case(case_id).records:
            if steps and steps[-1][-1]["occurred_at"] == record["occurred_at"]:
                steps[-1].append(record)
            else:
                steps.append([record])
        out.append((case_id, steps))
    return out


def run(root: Path, options: Options) -> Result:
    n = 30 if options.quick else 400
    postgres = Postgres(root)
    notes: list[str] = []
    try:
        url = postgres.database("gridcase")
        engine = _engine(url)
        store = EventStore(engine)
        cases = _cases(n)
        appends = sum(len(steps) for _, steps in cases)
        latencies: list[float] = []
        lock = threading.Lock()

        def one_case(case: tuple[str, list[list[dict[str, Any]]]]) -> None:
            case_id, steps = case
            version = 0
            for records in steps:
                started = time.perf_counter()
                store.append(case_id, version, records, notices_for(case_id, records))
                elapsed = time.perf_counter() - started
                version += len(records)
                with lock:
                    latencies.append(elapsed)

        one_case(cases[0])  # warm-up: connections, statements
        latencies.clear()
        me = psutil.Process()
        pg = psutil.Process(int(postgres.server.get_pid()))

        def pg_cpu() -> float:
            procs = [pg, *pg.children(recursive=True)]
            total = 0.0
            for p in procs:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
            return total

        load = os.getloadavg()
        cpu_me, cpu_pg = sum(me.cpu_times()[:2]), pg_cpu()
        wall = time.perf_counter()
        folder = options.profile / "append" if options.profile else None
        with profiled(folder, {"bench": os.getpid()}, notes), ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one_case, cases[1:]))
        wall = time.perf_counter() - wall
        done = appends - len(cases[0][1])
        cpu_me = (sum(me.cpu_times()[:2]) - cpu_me) * 1000 / done
        cpu_pg = (pg_cpu() - cpu_pg) * 1000 / done
        version = postgres.version()
        engine.dispose()
    finally:
        postgres.stop()
    ms = [1000 * x for x in latencies]
    return Result(
        name="append",
        figures={
            "appends_per_s": round(done / wall, 1),
            "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2),
            "cpu_ms_per_append_python": round(cpu_me, 2),
            "cpu_ms_per_append_postgres": round(cpu_pg, 2),
            "appends": done,
            "cases": n - 1,
            "load_average": [round(x, 2) for x in load],
        },
        unit="appends/s; ms per append",
        target="reported only",
        passed=None,
        notes=[
            f"{n - 1} cases of bench.casegen, {done} appends (one step's events each, in "
            f"order per case), {THREADS} threads; with notices as the activities derive them",
            f"PostgreSQL {version} (pgserver, default settings), one engine as the activity "
            "workers make it (workers.run.activity_engine where it exists)",
            "cpu_ms_per_append_python: this process (decode, fold, statements, driver)",
            *notes,
        ],
    )
