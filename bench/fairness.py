"""How much one flooding Open311 client slows everyone else, with and without rate limits.

    python -m bench.fairness [--posts 500] [--limits both|on|off]

Starts `gridcase up` in a directory of its own (free ports), seeds the demo district,
adds an Open311 client and a shift leader, then: the leader reads his inbox
(`GET /v1/inbox/center?queue=to_file`) 40 times alone (quiet), and again continuously
while the client sends N `POST /open311/v2/requests.json` from 20 threads (flood). Prints
the read latencies (median, p95) quiet and under the flood, and what the posts got. With
`--limits on` the stack runs with the default limits, with `off` without any
(GRIDCASE_RATE_*=off); `both` runs one after the other.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.common import percentile
from bench.upstack import Person, UpStack, up_stack

POINT = {"lat": "34.8180", "long": "113.6355"}
QUIET_READS = 40


def read_ms(stack: UpStack, reader: Person, http: httpx.Client) -> float:
    began = time.perf_counter()
    r = http.get(
        f"{stack.api}/v1/inbox/center", params={"queue": "to_file"}, headers=reader.headers
    )
    took = (time.perf_counter() - began) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"the reader got {r.status_code}: {r.text[:200]}")
    return took


def flood(stack: UpStack, key: str, posts: int) -> tuple[Counter[int], float]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    local = threading.local()

    def post(n: int) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=120)
        form = {"api_key": key, "service_code": "E0101", "description": f"flood {n}", **POINT}
        try:
            status = local.http.post(f"{stack.api}/open311/v2/requests.json", data=form).status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            statuses[status] += 1

    began = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(post, range(posts)))
    return statuses, time.monotonic() - began


def measure(limits: str, posts: int) -> dict[str, Any]:
    env = {} if limits == "on" else {f"GRIDCASE_RATE_{k}": "off" for k in ("USER", "CLIENT")}
    env |= {"GRIDCASE_RATE_ANONYMOUS": "off"} if limits == "off" else {}
    with up_stack(f"gc-fair-{limits}-", **env) as stack:
        stack.ready()
        stack.cli("reference", "seed-demo")
        key = stack.cli("users", "client", "add", "flooding-app").strip()
        reader = stack.person("shift_leader")
        with httpx.Client(timeout=120) as http:
            read_ms(stack, reader, http)  # warm up
            quiet = [read_ms(stack, reader, http) for _ in range(QUIET_READS)]
            done = threading.Event()
            loaded: list[float] = []

            def keep_reading() -> None:
                while not done.is_set():
                    loaded.append(read_ms(stack, reader, http))
                    time.sleep(0.15)  # a person clicking fast; under his own limit

            reading = threading.Thread(target=keep_reading)
            reading.start()
            statuses, seconds = flood(stack, key, posts)
            done.set()
            reading.join()
    return {
        "limits": limits,
        "quiet_ms": (round(statistics.median(quiet), 1), round(percentile(quiet, 95), 1)),
        "flood_ms": (round(statistics.median(loaded), 1), round(percentile(loaded, 95), 1)),
        "reads_under_flood": len(loaded),
        "posts": dict(sorted(statuses.items())),
        "flood_s": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--limits", choices=("both", "on", "off"), default="both")
    args = parser.parse_args()
    for limits in ("off", "on") if args.limits == "both" else (args.limits,):
        found = measure(limits, args.posts)
        print(
            f"limits {found['limits']}: reads quiet median/p95 {found['quiet_ms']} ms, "
            f"under the flood {found['flood_ms']} ms ({found['reads_under_flood']} reads); "
            f"{args.posts} posts in {found['flood_s']} s got {found['posts']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
