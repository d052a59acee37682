"""The chaos harness: cases through `gridcase up` while its processes are killed.

    python -m bench.chaos [--cases 200] [--seed 1] [--concurrency 6] [--kills-per-kind 3]

Starts `gridcase up` in a directory of its own under /tmp (free ports), seeds the demo
district and a user of every role, and drives ``--cases`` planned cases (``plans``: the
main line and every side path, a quarter urged on the way) through the HTTP API from
report to their end, retrying every request whose answer was lost (``driver``). Meanwhile
it kills PostgreSQL, the Temporal dev server, each worker and the API with SIGKILL at
seeded moments and lets `gridcase up` restart them (``killer``). Then it checks the log,
the projection and Temporal (``checks``), prints a summary and writes it to
``bench/results/chaos-<time>.json``. Exit status 1 on any violation.

On demand, not in CI: 200 cases take 15-40 minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog

from application.config import Settings
from bench.chaos import checks
from bench.chaos.driver import CaseRun, Driver, Log, Tally
from bench.chaos.killer import KINDS, Killer, schedule
from bench.chaos.plans import CasePlan, Planner, user_id
from bench.chaos.summary import summarize, write
from bench.common import ROOT, environment
from bench.upstack import UpStack, wait_for
from store.db import make_engine
from store.users import UserStore
from workflows.converter import connect

SETTLE_TIMEOUT = 600.0  # seconds for Temporal and the projection to agree after the drive


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="same seed: same plans and kills")
    parser.add_argument("--concurrency", type=int, default=6, help="cases driven at once")
    parser.add_argument("--kills-per-kind", type=int, default=3)
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"what to kill (default: {','.join(KINDS)})"
    )
    parser.add_argument(
        "--step-deadline", type=float, default=900.0,
        help="seconds a step may take, tries included, before it counts as hung",
    )  # fmt: skip
    parser.add_argument(
        "--drop-answers", type=float, default=0.05,
        help="share of steps whose first answer the harness drops (default 0.05)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    return args


def people(stack: UpStack, planner: Planner) -> dict[str, str]:
    """A user of every role the plans name; their tokens by actor key."""
    users = UserStore(make_engine(Settings.from_env(stack.env).db_url, pool_size=1))
    district = "410105"
    wanted: dict[str, tuple[str, list[str]]] = {
        "acceptor": ("acceptor", []),
        "lead": ("shift_leader", []),
        "disp": ("dispatcher", []),
        "supervisor": ("supervisor", [district]),
        "leader": ("leader", [district]),
    }
    wanted |= {f"gw:{grid}": ("grid_worker", [grid]) for grid in planner.grids}
    wanted |= {f"handler:{d}": ("handler", [d]) for d in planner.departments}
    tokens = {}
    for who, (role, units) in wanted.items():
        users.create_user(user_id(who), f"chaos {who}", role, units)
        tokens[who] = users.issue_token(user_id(who)).secret
    users.engine.dispose()
    return tokens


def district_known(stack: UpStack) -> None:
    """Wait until the API has reloaded its reference data (``IntakeSource`` looks every few
    seconds): Open311 refuses a foreign ``jurisdiction_id`` only once it knows the district."""

    def refused() -> bool:
        url = f"{stack.api}/open311/v2/services.json?jurisdiction_id=000000"
        return httpx.get(url, timeout=30).status_code == 404

    wait_for("the API knows the demo district", refused, 300, interval=0.5)


class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="chaos-load", daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(5.0):
            self.samples.append(os.getloadavg()[0])


def drive(
    stack: UpStack, args: argparse.Namespace, plans: list[CasePlan], tokens: dict[str, str]
) -> tuple[list[CaseRun], Killer, Tally, float]:
    engine = make_engine(Settings.from_env(stack.env).db_url, pool_size=2)
    tally = Tally()
    driver = Driver(
        stack.api,
        tokens,
        Log(engine),
        tally,
        step_deadline=args.step_deadline,
        drop=args.drop_answers,
        seed=args.seed,
    )
    requests = sum(len(p.steps) for p in plans)
    kills = schedule(random.Random(args.seed), args.kinds, args.kills_per_kind, requests)
    began = time.monotonic()
    killer = Killer(stack, kills, tally, began)
    killer.start()
    done = 0
    runs: list[CaseRun] = []
    with ThreadPoolExecutor(args.concurrency, thread_name_prefix="chaos-case") as pool:
        for run in pool.map(driver.run_case, plans):
            runs.append(run)
            done += 1
            if done % 20 == 0 or done == len(plans):
                print(
                    f"  {done}/{len(plans)} cases, {tally.requests} requests, "
                    f"{sum(k.done for k in kills)}/{len(kills)} kills, "
                    f"{time.monotonic() - began:.0f} s",
                    flush=True,
                )
    seconds = time.monotonic() - began
    killer.stop.set()
    killer.join(timeout=SETTLE_TIMEOUT)
    engine.dispose()
    return runs, killer, tally, seconds


def check(stack: UpStack, runs: list[CaseRun]) -> tuple[list[checks.Violation], dict[str, Any]]:
    """Every check, once Temporal and the projection have settled (polled, up to
    SETTLE_TIMEOUT: a step whose worker was killed last may still be finishing)."""
    stack.ready(timeout=SETTLE_TIMEOUT)
    engine = make_engine(Settings.from_env(stack.env).db_url, pool_size=2)
    target = f"127.0.0.1:{stack.env['GRIDCASE_TEMPORAL_PORT']}"

    async def settled() -> tuple[list[checks.Violation], float]:
        client = await connect(target)
        began = time.monotonic()
        while True:
            live = checks.rows(engine)
            found = await checks.temporal_agrees(client, live)
            found += checks.where_the_plans_left_them(runs, live)
            if not found or time.monotonic() - began > SETTLE_TIMEOUT:
                return found, time.monotonic() - began
            await asyncio.sleep(5.0)

    try:
        violations, settle_s = asyncio.run(settled())
        log = checks.read_log(engine)
        violations += checks.drive_violations(runs)
        violations += checks.steps_recorded(runs, log)
        violations += checks.version_gaps(log)
        folded, rebuild = checks.projection_is_fold(engine)
        violations += folded
    finally:
        engine.dispose()
    figures = {"settle_s": round(settle_s, 1), "rebuild": rebuild, "streams": len(log)}
    return violations, figures


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # The harness's own user set-up logs a line per user: keep its output to the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started_at = datetime.now(UTC)
    load_start = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="gc-chaos-", dir="/tmp"))
    root.chmod(0o755)  # pgserver's postgres user must reach its socket (bench.common.workdir)
    stack = UpStack.on_free_ports(root / "home")
    sampler = LoadSampler()
    sampler.start()
    try:
        print(f"chaos: gridcase up in {stack.home} (API {stack.api})", flush=True)
        up_s = stack.start()
        stack.cli("reference", "seed-demo", timeout=600)
        district_known(stack)
        planner = Planner(args.seed, f"c{args.seed}")
        plans = planner.plans(args.cases)
        tokens = people(stack, planner)
        print(f"chaos: up in {up_s:.0f} s; driving {len(plans)} cases", flush=True)
        runs, killer, tally, drive_s = drive(stack, args, plans, tokens)
        print("chaos: checking", flush=True)
        violations, check_figures = check(stack, runs)
        violations += [
            checks.Violation("-", "recovery", f"{k.kind} killed at {k.at} s: {k.error}")
            for k in killer.kills
            if k.error
        ]
        sampler.stop.set()
        result = summarize(
            args=vars(args) | {"results": str(args.results)},
            runs=runs,
            kills=killer.kills,
            tally=tally,
            drive_s=drive_s,
            violations=violations,
            checks=check_figures,
            load={"start": load_start, "samples": sampler.samples, "end": os.getloadavg()},
            up_log=stack.output.read_text(errors="replace"),
            environment=environment(),
            started_at=started_at,
        )
        path = write(result, args.results)
        print(f"chaos: figures in {path}", flush=True)
        if violations or result["server_errors"]:
            kept = path.with_suffix(".up.out")
            shutil.copyfile(stack.output, kept)
            print(f"chaos: gridcase up's log in {kept}", flush=True)
        return 1 if violations else 0
    finally:
        sampler.stop.set()
        stack.stop()
        if args.keep:
            print(f"chaos: kept {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
