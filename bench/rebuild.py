"""Benchmark 4: store.projections.rebuild_cases over at least a million events.

The log is bulk-loaded (bench.bulk, realistic histories from the real decider, COPY) into a
fresh database, with the live `cases` rows the loader writes; rebuild_cases then folds
every stream and compares it with them (as `gridcase rebuild-projections` does without
--apply). A clean comparison also shows that the loader's rows are what the fold gives.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bench.bulk import load
from bench.common import Options, Postgres, Result
from store.db import make_engine
from store.projections import rebuild_cases

TARGET = 20_000.0
EVENTS_PER_CASE = 8.5  # about what bench.casegen makes; the load is checked afterwards


def run(root: Path, options: Options) -> Result:
    min_events = 10_000 if options.quick else 1_000_000
    cases = int(min_events / EVENTS_PER_CASE * 1.05) + 1
    postgres = Postgres(root)
    try:
        url = postgres.database("rebuild")
        stats = load(url, cases, now=datetime.now(UTC), copies=1 if options.quick else 2)
        engine = make_engine(url, pool_size=2)
        processes = os.cpu_count() or 1
        report = rebuild_cases(engine, processes=processes)
        engine.dispose()
        pg_version = postgres.version()
    finally:
        postgres.stop()
    rate = report.events_per_second
    passed = rate >= TARGET and report.clean and report.events >= min_events
    miss = []
    if rate < TARGET:
        miss.append(f"{rate:.0f} events/s is {TARGET - rate:.0f} short ({rate / TARGET:.0%})")
    if not report.clean:
        miss.append(
            f"not clean: {len(report.missing)} missing, {len(report.extra)} extra, "
            f"{len(report.kpi_missing)} missing and {len(report.kpi_extra)} extra in kpi_facts, "
            f"{len(report.differences)} differences"
        )
    return Result(
        name="rebuild",
        figures={
            "events_per_s": round(rate),
            "events": report.events,
            "cases": report.cases,
            "seconds": round(report.seconds, 1),
            "clean": report.clean,
            "load_events_per_s": round(stats.events_per_s),
        },
        unit="events/s",
        target=f">= {TARGET:,.0f} events/s over >= {min_events:,} events",
        passed=passed,
        miss="; ".join(miss),
        notes=[
            f"rebuild_cases(engine, processes={processes}) (compare only, no --apply: the "
            f"`gridcase rebuild-projections` default), streams split by a case-id hash, over "
            f"{report.events} events of {report.cases} cases",
            f"bulk-loaded in {stats.seconds:.0f} s ({stats.generated} histories generated, "
            f"each loaded {stats.cases // max(1, stats.generated)}x under distinct ids)",
            f"PostgreSQL {pg_version} (pgserver, default settings)",
        ],
    )
