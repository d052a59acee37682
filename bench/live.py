"""Benchmark: the big screen's live stream with 50 screens connected while cases flow
(issue 11).

The embedded stack as ``gridcase up`` runs it, each part its own process: PostgreSQL
(pgserver), the Temporal dev server (SQLite file, WAL), the three worker processes and
the API (uvicorn, one process, so one listener). 50 screens, each an HTTP client as the
page's script behaves: one ``GET /live`` stream, and on each ``change`` message (after
gathering for 0.4 s) one ``GET /screen/data.json``. Meanwhile a driver reports cases
through the HTTP API as a grid worker and takes each one through 立案 and 派遣 as the
shift leader and the dispatcher, at a fixed rate.

Reported: whether every screen stayed connected; for every step and screen, how long
after the API answered the step the screen heard of its case (p50/p95/max, and steps a
screen never heard of); the screens' data fetches (count, p50/p95, errors); the API
process's CPU; the rate of steps.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Options,
    Postgres,
    Processes,
    Result,
    Temporal,
    free_port,
    gridcase_workers,
    percentile,
    stack_env,
)
from domain.demo_district import generate_demo_district
from store.db import make_engine
from store.reference import import_district
from store.sessions import SessionStore, SignInPolicy
from store.users import UserStore, load_principal
from web.auth import SESSION_COOKIE

GATHER = 0.4  # s: live.js gathers a burst before it fetches
DRAIN = 8.0  # s after the last step for the last changes to arrive
TARGET_SCREENS = 50


@dataclass
class Screen:
    index: int
    cookie: str
    heard: list[tuple[float, list[str]]] = field(default_factory=list)
    fetches: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    streams: int = 0  # /live connections opened (1 when it never dropped)
    connected: bool = False


@dataclass
class Step:
    case_id: str
    name: str
    sent: float
    answered: float = 0.0
    status: int = 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks


async def _screen(client: httpx.AsyncClient, screen: Screen, stop: asyncio.Event) -> None:
    cookies = {SESSION_COOKIE: screen.cookie}
    pending: list[str] = []
    timer: asyncio.Task[None] | None = None

    async def fetch() -> None:
        await asyncio.sleep(GATHER)
        pending.clear()
        t = time.perf_counter()
        try:
            r = await client.get("/screen/data.json", cookies=cookies)
            if r.status_code != 200:
                screen.errors.append(f"data {r.status_code}")
            else:
                r.json()
                screen.fetches.append(1000 * (time.perf_counter() - t))
        except httpx.HTTPError as exc:
            screen.errors.append(f"data {exc!r}")

    while not stop.is_set():
        try:
            async with client.stream("GET", "/live", cookies=cookies, timeout=None) as r:
                screen.streams += 1
                screen.connected = r.status_code == 200
                event = ""
                async for line in r.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "change":
                        ids = json.loads(line[5:])["cases"]
                        screen.heard.append((time.perf_counter(), ids))
                        pending.extend(ids)
                        if timer is None or timer.done():
                            timer = asyncio.create_task(fetch())
                    elif not line:
                        event = ""
                    if stop.is_set():
                        break
        except httpx.HTTPError as exc:
            if not stop.is_set():
                screen.errors.append(f"stream {exc!r}")
        screen.connected = False
        if not stop.is_set():
            await asyncio.sleep(1)


async def _drive(
    api: str, tokens: dict[str, str], grids: list[tuple[float, float]], rate: float, seconds: float
) -> list[Step]:
    steps: list[Step] = []
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: a POST sent on
    # a connection the server is closing fails without being read.
    limits = httpx.Limits(keepalive_expiry=3.0)
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=limits) as http:

        async def one(n: int) -> None:
            lon, lat = grids[n % len(grids)]
            case_id = f"live-{uuid.uuid4().hex[:10]}"
            plan = [
                (
                    "report",
                    "worker",
                    "/v1/reports",
                    {
                        "report_id": case_id,
                        "category": "E0101",
                        "description": "bench: exposed garbage",
                        "location": {"lon": lon, "lat": lat},
                    },
                ),
                ("file", "leader", f"/v1/cases/{case_id}/file", {}),
                ("dispatch", "dispatcher", f"/v1/cases/{case_id}/dispatch", {}),
            ]
            for name, who, path, body in plan:
                step = Step(case_id, name, time.perf_counter())
                r = await http.post(
                    path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
                )
                step.answered, step.status = time.perf_counter(), r.status_code
                steps.append(step)
                if r.status_code >= 300:
                    return

        started = time.perf_counter()
        running = []
        n = 0
        while time.perf_counter() - started < seconds:
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            running.append(asyncio.create_task(one(n)))
            n += 1
        await asyncio.gather(*running)
    return steps


def _latencies(steps: list[Step], screens: list[Screen]) -> tuple[list[float], int]:
    """Per (answered step, screen): seconds from the API's answer until the screen heard
    of the case (0 when it heard before the answer); and how many pairs it never heard."""
    found: list[float] = []
    missed = 0
    for screen in screens:
        by_case: dict[str, list[float]] = defaultdict(list)
        for t, ids in screen.heard:
            for case_id in ids:
                by_case[case_id].append(t)
        for step in steps:
            if step.status >= 300:
                continue
            after = [t for t in by_case.get(step.case_id, []) if t >= step.sent]
            if not after:
                missed += 1
                continue
            found.append(max(0.0, min(after) - step.answered))
    return found, missed


async def _session(
    api: str,
    screens: list[Screen],
    tokens: dict[str, str],
    grids: list[tuple[float, float]],
    rate: float,
    seconds: float,
) -> list[Step]:
    limits = httpx.Limits(
        max_connections=len(screens) * 2 + 10, max_keepalive_connections=len(screens) * 2
    )
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=api, limits=limits, timeout=30) as client:
        tasks = [asyncio.create_task(_screen(client, s, stop)) for s in screens]
        deadline = time.monotonic() + 30
        while not all(s.connected for s in screens) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        steps = await _drive(api, tokens, grids, rate, seconds)
        await asyncio.sleep(DRAIN)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return steps


def run(root: Path, options: Options) -> Result:
    n_screens = 5 if options.quick else TARGET_SCREENS
    seconds = 10.0 if options.quick else 90.0
    rate = 1.0 if options.quick else 2.0  # cases/s, each reported, filed and dispatched
    postgres = Postgres(root)
    temporal = Temporal(root)
    procs: Processes | None = None
    try:
        url = postgres.database("live")
        engine = make_engine(url, pool_size=2)
        district = generate_demo_district(0)
        import_district(engine, district, source="bench")
        users = UserStore(engine)
        grid_codes = [g.code for g in district.grids]
        users.create_user("b-gw", "网格员", "grid_worker", grid_codes)
        users.create_user("b-lead", "值班长", "shift_leader", [])
        users.create_user("b-disp", "派遣员", "dispatcher", [])
        users.create_user("b-wall", "大屏", "acceptor", [])
        tokens = {
            who: users.issue_token(uid, "bench").secret
            for who, uid in (("worker", "b-gw"), ("leader", "b-lead"), ("dispatcher", "b-disp"))
        }
        with engine.connect() as conn:
            wall = load_principal(conn, "b-wall", "大屏", "acceptor")
        sessions = SessionStore(engine, SignInPolicy())
        screens = [Screen(i, sessions.start(wall, "bench")[0]) for i in range(n_screens)]
        points = []
        for g in district.grids:
            assert g.area is not None
            points.append(g.area.centroid())
        engine.dispose()

        target = temporal.start()
        port = free_port()
        procs = Processes(root, stack_env(url, target, root))
        gridcase_workers(procs, ("cases", "supervision", "disposal"))
        api_proc = procs.start(
            "api",
            [
                "-m",
                "uvicorn",
                "--factory",
                "api.app:create_app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
        )
        api = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            procs.check_alive()
            try:
                if httpx.get(f"{api}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not come up")
            time.sleep(0.3)
        cpu_before, t0 = _cpu_seconds(api_proc.pid), time.perf_counter()
        steps = asyncio.run(_session(api, screens, tokens, points, rate, seconds))
        cpu = _cpu_seconds(api_proc.pid) - cpu_before
        wall_s = time.perf_counter() - t0
        procs.check_alive()
        pg_version = postgres.version()
    finally:
        if procs is not None:
            procs.stop()
        temporal.stop()
        postgres.stop()

    ok_steps = [s for s in steps if s.status < 300]
    lat, missed = _latencies(steps, screens)
    fetches = [f for s in screens for f in s.fetches]
    errors = [e for s in screens for e in s.errors]
    dropped = sum(1 for s in screens if s.streams != 1)
    step_ms = [1000 * (s.answered - s.sent) for s in ok_steps]
    figures: dict[str, Any] = {
        "screens": n_screens,
        "screens_never_dropped": n_screens - dropped,
        "steps": len(ok_steps),
        "steps_failed": len(steps) - len(ok_steps),
        "steps_per_s": round(len(ok_steps) / seconds, 2),
        "heard_p50_ms": round(1000 * percentile(lat, 50), 0) if lat else None,
        "heard_p95_ms": round(1000 * percentile(lat, 95), 0) if lat else None,
        "heard_max_ms": round(1000 * max(lat), 0) if lat else None,
        "never_heard": missed,
        "fetches": len(fetches),
        "fetch_p50_ms": round(percentile(fetches, 50), 1) if fetches else None,
        "fetch_p95_ms": round(percentile(fetches, 95), 1) if fetches else None,
        "screen_errors": len(errors),
        "api_cpu_share": round(cpu / wall_s, 2),
        "step_p95_ms": round(percentile(step_ms, 95), 0) if step_ms else None,
    }
    misses = []
    if dropped:
        misses.append(f"{dropped} screen(s) dropped")
    if missed:
        misses.append(f"{missed} (step, screen) pairs never heard")
    if errors:
        misses.append(f"{len(errors)} errors: {errors[:3]}")
    if figures["steps_failed"]:
        misses.append(f"{figures['steps_failed']} steps failed")
    return Result(
        name="live",
        figures=figures,
        unit="screens, ms",
        target=f"{TARGET_SCREENS} screens stay connected and hear every step",
        passed=not misses,
        miss="; ".join(misses),
        notes=[
            f"{n_screens} screens (one acceptor, a session each) for {seconds:g} s of driving "
            f"at {rate:g} cases/s (report, file, dispatch: {len(ok_steps)} steps) + {DRAIN:g} s",
            "heard: from the API's answer to a step until a screen's /live names its case "
            "(0 when before the answer; NOTIFY at commit, the hub, 0.25 s gathering)",
            "fetch: a screen's GET /screen/data.json after a change (0.4 s gathering, one "
            "answer shared per jurisdiction while nothing changed)",
            f"api_cpu_share: CPU seconds of the API process per second of the run "
            f"({cpu:.1f} s over {wall_s:.0f} s), on a shared 2-core machine",
            f"PostgreSQL {pg_version} (pgserver); Temporal dev server with a SQLite file (WAL)",
        ],
    )
