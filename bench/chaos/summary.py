"""The chaos run's figures: printed as a summary and written as JSON."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.chaos.checks import Violation
from bench.chaos.driver import CaseRun, Tally
from bench.chaos.killer import Kill

SHOWN_VIOLATIONS = 40


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "max": None}
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}


def _restarts(up_log: str) -> Counter[str]:
    """`gridcase up`'s own count of the children it restarted (its JSON log lines)."""
    found: Counter[str] = Counter()
    for line in up_log.splitlines():
        if '"child_restarted"' in line:
            try:
                found[json.loads(line).get("child", "?")] += 1
            except ValueError:
                continue
    return found


def summarize(
    *,
    args: dict[str, Any],
    runs: list[CaseRun],
    kills: list[Kill],
    tally: Tally,
    drive_s: float,
    violations: list[Violation],
    checks: dict[str, Any],
    load: dict[str, Any],
    up_log: str,
    environment: dict[str, Any],
    started_at: datetime,
) -> dict[str, Any]:
    results = [r for run in runs for r in run.results]
    outcomes = Counter(r.outcome for r in results)
    taken = outcomes["acked"] + outcomes["found"]
    finished = sum(1 for run in runs if len(run.taken) == len(run.plan.steps))
    clean = [r.seconds for r in results if r.outcome == "acked" and r.tries == 1]
    retried = [r.seconds for r in results if r.tries > 1 and r.outcome in ("acked", "found")]
    per_kind: dict[str, Any] = {}
    for kind in sorted({k.kind for k in kills}):
        mine = [k for k in kills if k.kind == kind]
        per_kind[kind] = {
            "kills": sum(k.done for k in mine),
            "planned": len(mine),
            "back_s": _spread([k.back_s for k in mine if k.back_s is not None]),
            "ready_s": _spread([k.ready_s for k in mine if k.ready_s is not None]),
        }
    samples = load["samples"] or [load["end"][0]]
    by_check = Counter(v.check for v in violations)
    return {
        "name": "chaos",
        "started_at": started_at.isoformat(),
        "args": args,
        "cases": {
            "planned": len(runs),
            "finished": finished,
            "scenarios": dict(Counter(run.plan.scenario for run in runs)),
        },
        "steps": {
            "planned": sum(len(run.plan.steps) for run in runs),
            **{k: outcomes[k] for k in ("acked", "found", "refused", "hung")},
            "retried": sum(1 for r in results if r.tries > 1),
            "seconds_without_retry": _spread(clean),
            "seconds_with_retries": _spread(retried),
        },
        "requests": {"sent": tally.requests, **dict(sorted(tally.counts.items()))},
        "kills": {
            "per_kind": per_kind,
            "each": [
                {
                    "kind": k.kind,
                    "at_s": k.at,
                    "back_s": k.back_s,
                    "ready_s": k.ready_s,
                    "error": k.error,
                }
                for k in kills
                if k.done
            ],
            "up_restarted": dict(_restarts(up_log)),
        },
        "drive_s": round(drive_s, 1),
        "throughput": {
            "steps_per_s": round(taken / drive_s, 2) if drive_s else None,
            "cases_per_min": round(finished / drive_s * 60, 1) if drive_s else None,
        },
        "load": {
            "start": [round(x, 2) for x in load["start"]],
            "during_mean": round(statistics.fmean(samples), 2),
            "during_max": round(max(samples), 2),
            "end": [round(x, 2) for x in load["end"]],
        },
        "checks": checks | {"violations": dict(by_check)},
        "violations": [str(v) for v in violations],
        "server_errors": [
            f"{run.plan.case_id} {r.step.name}: {text}"
            for run in runs
            for r in run.results
            for text in r.unexpected
        ],
        "environment": environment,
    }


def print_summary(result: dict[str, Any]) -> None:
    c, s, r, k = result["cases"], result["steps"], result["requests"], result["kills"]
    t, load = result["throughput"], result["load"]
    print()
    print(f"chaos seed {result['args']['seed']}: {c['planned']} cases ({c['finished']} finished)")
    print(f"  scenarios   {c['scenarios']}")
    print(
        f"  steps       {s['planned']} planned, {s['acked']} acknowledged, {s['found']} found "
        f"after a lost answer, {s['refused']} refused, {s['hung']} hung; {s['retried']} retried"
    )
    print(
        f"  step time   {s['seconds_without_retry']} s at the first try, "
        f"{s['seconds_with_retries']} s with retries"
    )
    others = {name: n for name, n in r.items() if name != "sent"}
    print(f"  requests    {r['sent']} sent; {others}")
    for kind, fig in k["per_kind"].items():
        print(
            f"  kill {kind:<19} {fig['kills']}/{fig['planned']}: back {fig['back_s']} s, "
            f"ready {fig['ready_s']} s"
        )
    print(f"  up restarted {k['up_restarted']}")
    print(
        f"  drive       {result['drive_s']} s: {t['steps_per_s']} steps/s, "
        f"{t['cases_per_min']} cases/min"
    )
    print(
        f"  load avg    start {load['start']}, during mean {load['during_mean']} "
        f"max {load['during_max']}, end {load['end']} "
        f"({result['environment'].get('cpus', '?')} CPUs)"
    )
    for line in result["server_errors"]:
        print(f"  500         {line}")
    checks = result["checks"]
    print(f"  checks      settled in {checks['settle_s']} s; rebuild {checks['rebuild']}")
    violations = result["violations"]
    if not violations:
        print("  violations  none")
        return
    print(f"  violations  {len(violations)}: {checks['violations']}")
    for line in violations[:SHOWN_VIOLATIONS]:
        print(f"    {line}")
    if len(violations) > SHOWN_VIOLATIONS:
        print(f"    … {len(violations) - SHOWN_VIOLATIONS} more in the JSON")


def write(result: dict[str, Any], folder: Path) -> Path:
    print_summary(result)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"chaos-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    return path
