"""`python -m bench`: run the benchmarks, print a table, write the figures as JSON.

    python -m bench                      # everything, full sizes (run on a quiet machine)
    python -m bench --only lifecycle     # one benchmark (repeat --only, or a,b)
    python -m bench --quick              # small sizes: a smoke run, figures meaningless
    python -m bench --only queries --scale 10k,100k
    python -m bench --only http_intake --profile /tmp/prof   # py-spy samples (pip install py-spy)

Each benchmark starts what it needs in its own temporary directory under /tmp and stops it
again. Results go to bench/results/<timestamp>.json and bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import append, console, http_intake, intake, lifecycle, live, memory, queries, rebuild
from bench.common import Options, Result, environment, workdir

BENCHMARKS: dict[str, Callable[[Path, Options], Result]] = {
    "lifecycle": lifecycle.run,
    "intake": intake.run,
    "http_intake": http_intake.run,
    "append": append.run,
    "queries": queries.run,
    "rebuild": rebuild.run,
    "memory": memory.run,
    "console": console.run,
    "live": live.run,
}
RESULTS = Path(__file__).resolve().parent / "results"


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def headline(r: Result) -> str:
    f = r.figures
    if "error" in f:
        return "error"
    if r.name == "lifecycle":
        return f"real {f['real_cases_per_s']}/s, bare {f['bare_cases_per_s']}/s, ratio {f['ratio']}"
    if r.name in ("intake", "http_intake"):
        return f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms ({f['achieved_per_s']}/s)"
    if r.name == "append":
        return (
            f"{f['appends_per_s']}/s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, CPU ms "
            f"{f['cpu_ms_per_append_python']} + PostgreSQL {f['cpu_ms_per_append_postgres']}"
        )
    if r.name == "queries":
        n = max(f["steps"])
        growth = f["overdue_growth_largest_over_smallest"]
        g = f", growth {growth:.2f}x" if growth is not None else ""
        return (
            f"@{n}: overdue {f[f'overdue_ms@{n}']} ms, by dept "
            f"{f[f'overdue_department_ms@{n}']} ms{g}; KPI {f[f'kpi_month_ms@{n}']} ms"
        )
    if r.name == "rebuild":
        return f"{f['events_per_s']:,} events/s over {f['events']:,} events, clean={f['clean']}"
    if r.name == "console":
        n = max(f["steps"])
        return f"@{n}: worst page p95 {f['worst_p95_ms']} ms"
    if r.name == "live":
        return (
            f"{f['screens_never_dropped']}/{f['screens']} screens held, heard p95 "
            f"{f['heard_p95_ms']} ms, {f['steps_per_s']} steps/s"
        )
    if r.name == "memory":
        return (
            f"{f['cases_worker_rss_mb']} MB with {f['open_cases']} open "
            f"({f['rss_per_open_case_kb']} KB/case, cache {f['max_cached_workflows']})"
        )
    return json.dumps(f)[:80]


def print_table(results: list[Result]) -> None:
    rows = [("benchmark", "figures", "target", "result")]
    for r in results:
        verdict = "—" if r.passed is None else ("PASS" if r.passed else "FAIL")
        if r.miss:
            verdict += f" ({r.miss})"
        rows.append((r.name, headline(r), r.target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3])
        if i == 0:
            print("-" * (sum(widths) + 6 + len("result")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], help="benchmark(s) to run")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--scale", default="", help="case counts of queries, e.g. 10k,100k")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output directory")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="offered reports/s of intake and http_intake (default 20, the target's rate)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="sample the stack's Python processes with py-spy into this folder (bench.profile)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    scale = tuple(parse_size(s) for s in args.scale.split(",") if s.strip())
    options = Options(quick=args.quick, scale=scale, profile=args.profile, rate=args.rate)
    env = environment()
    started = datetime.now(UTC)
    results: list[Result] = []
    failed = False
    for name in names or list(BENCHMARKS):
        print(f"== {name} …", flush=True)
        t = time.perf_counter()
        with workdir(f"gcb-{name}-") as root:
            try:
                result = BENCHMARKS[name](root, options)
            except Exception as exc:  # a broken benchmark is reported, the others still run
                traceback.print_exc()
                failed = True
                result = Result(name, {"error": repr(exc)}, "", "", False, f"error: {exc!r}")
        result.seconds = round(time.perf_counter() - t, 1)
        result.environment = env
        results.append(result)
        print(f"   {headline(result)} ({result.seconds} s)", flush=True)
    print()
    print_table(results)
    write(args.results, started, options, env, results)
    return 1 if failed else 0


def write(
    folder: Path, started: datetime, options: Options, env: dict[str, Any], results: list[Result]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "started": started.isoformat(),
        "options": {"quick": options.quick, "scale": list(options.scale)},
        "environment": env,
        "results": [r.to_json() for r in results],
    }
    text = json.dumps(document, indent=2, default=str)
    path = folder / f"{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(text)
    (folder / "latest.json").write_text(text)
    print(f"\nfigures written to {path} and {folder / 'latest.json'}")


if __name__ == "__main__":
    sys.exit(main())
