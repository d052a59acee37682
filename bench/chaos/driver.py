"""Drives planned cases through the HTTP API, retrying every request whose answer was lost.

A try's answer is *lost* when the connection broke after the request went out, the client
timed out, or the API answered 5xx (PostgreSQL or Temporal down: 503 with Retry-After; the
API killed: a broken connection). Every such request is sent again, with the same body, the
same report id and the same ``Idempotency-Key``, until it gets a definite answer: a 2xx
(the step is *acknowledged*) or a 4xx. A 4xx after a lost answer may mean that the lost
try was recorded (the retry then finds the case moved on): the log is read, and a step
found there counts as *found*, not acknowledged. A 4xx the log does not explain is an
unexpected refusal, and a step that gets no definite answer within ``step_deadline`` has
*hung*: both are violations. 429 is waited out (``Retry-After``) and is no lost answer.

Besides the answers lost to kills, a seeded share of steps (``drop``) has the answer to its
first try dropped by the harness itself: the request goes out whole and the client stops
listening, as a phone losing its network does. That exercises every step's retry, not only
those a kill happens to hit.

``POST /v1/reports`` answered 404 (the case's record not visible yet, before the API
learnt to answer 202) is counted as a lost answer and retried; a 202 is acknowledged and
the case's page is then waited for.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, text

from bench.chaos.plans import CasePlan, Step

REQUEST_TIMEOUT = 90.0  # seconds; an update waits up to 30 s in the API, a report 10 s more
# A dropped answer: the request is sent whole, then the client stops waiting for the answer.
DROPPED = httpx.Timeout(REQUEST_TIMEOUT, read=0.01)
BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # then 4 s between tries
FOUND_WAIT = 60.0  # seconds to look for a lost try in the log (it may still be appending)


class Tally:
    """Counters shared by every driver thread (and read by the killer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.requests = 0

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def sent(self) -> None:
        with self._lock:
            self.requests += 1


@dataclass
class StepResult:
    step: Step
    outcome: str  # acked | found | refused | hung
    status: int | None = None
    tries: int = 0
    lost: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)  # 500s: the API's own failures
    detail: str = ""
    seconds: float = 0.0


@dataclass
class CaseRun:
    plan: CasePlan
    results: list[StepResult] = field(default_factory=list)

    @property
    def taken(self) -> list[StepResult]:
        return [r for r in self.results if r.outcome in ("acked", "found")]


class Log:
    """Reads a case's events straight from PostgreSQL (retried while it is down)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def events(self, case_id: str, timeout: float = 600.0) -> list[tuple[int, str, str, str]]:
        """(version, type, actor role, data as text) of the case, in order."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(
                        text(
                            "SELECT version, type, actor_role, data::text FROM events "
                            "WHERE case_id = :c ORDER BY version"
                        ),
                        {"c": case_id},
                    )
                    return [(r[0], r[1], r[2], r[3]) for r in rows]
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)


def recorded(events: list[tuple[int, str, str, str]], step: Step, earlier: int) -> int:
    """How many times ``step`` is in ``events``: by its marker, or (a step without text)
    by its event type beyond the ``earlier`` such steps already taken."""
    if step.marker:
        return sum(1 for _, kind, _, data in events if kind == step.event and step.marker in data)
    same = sum(1 for _, kind, role, _ in events if kind == step.event and role != "system")
    return max(0, same - earlier)


class Driver:
    def __init__(
        self,
        api: str,
        tokens: dict[str, str],
        log: Log,
        tally: Tally,
        *,
        step_deadline: float,
        drop: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.api = api
        self.tokens = tokens
        self.log = log
        self.tally = tally
        self.step_deadline = step_deadline
        self.drop = drop
        self.seed = seed
        self.reported: dict[str, threading.Event] = {}
        self._local = threading.local()

    @property
    def http(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "http", None)
        if client is None:
            client = httpx.Client(timeout=REQUEST_TIMEOUT)
            self._local.http = client
        return client

    def run_case(self, plan: CasePlan) -> CaseRun:
        run = CaseRun(plan)
        reported = self.reported.setdefault(plan.case_id, threading.Event())
        for step in plan.steps:
            if step.name == "merge":
                target = self.reported.setdefault(plan.merge_into, threading.Event())
                if not target.wait(self.step_deadline):
                    run.results.append(
                        StepResult(step, "hung", detail=f"{plan.merge_into} never reported")
                    )
                    break
            result = self.send(run, step)
            run.results.append(result)
            if result.outcome not in ("acked", "found"):
                break
            if step.name == "report":
                reported.set()
        return run

    def send(self, run: CaseRun, step: Step) -> StepResult:
        case_id = run.plan.case_id
        url = (
            f"{self.api}/v1/reports"
            if step.name == "report"
            else (f"{self.api}/v1/cases/{case_id}/{step.name}")
        )
        headers = {"Authorization": f"Bearer {self.tokens[step.who]}", "Idempotency-Key": step.key}
        result = StepResult(step, "hung")
        dropped = random.Random(f"{self.seed}:{step.key}").random() < self.drop
        began = time.monotonic()
        while time.monotonic() - began < self.step_deadline:
            if result.tries:
                pause = BACKOFF[min(result.tries - 1, len(BACKOFF) - 1)]
                time.sleep(max(pause, result.answer.pop("_retry_after", 0.0)))
            result.tries += 1
            self.tally.sent()
            timeout = DROPPED if dropped and result.tries == 1 else REQUEST_TIMEOUT
            try:
                answer = self.http.post(url, json=step.body, headers=headers, timeout=timeout)
            except httpx.ReadTimeout as exc:
                self._lost(result, "dropped" if timeout is DROPPED else type(exc).__name__)
                continue
            except httpx.ConnectError:  # nothing was sent: the API is down
                self.tally.add("connection_refused")
                continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._lost(result, type(exc).__name__)
                continue
            result.status = answer.status_code
            if answer.status_code == 429:
                self.tally.add("rate_limited")
                result.answer["_retry_after"] = _retry_after(answer)
                continue
            if answer.status_code >= 500 or (step.name == "report" and answer.status_code == 404):
                self._lost(result, f"http_{answer.status_code}")
                if answer.status_code == 500:
                    result.unexpected.append(f"{time.strftime('%H:%M:%S')} {answer.text[:300]}")
                result.answer["_retry_after"] = _retry_after(answer)
                continue
            if answer.is_success:
                result.outcome, result.answer = "acked", answer.json()
                if answer.status_code == 202:
                    self._wait_visible(case_id, headers)
                break
            result.detail = answer.text[:500]
            earlier = sum(1 for r in run.taken if r.step.event == step.event)
            if result.lost and self._found(case_id, step, earlier):
                result.outcome = "found"
            else:
                result.outcome = "refused"
            break
        result.seconds = time.monotonic() - began
        self.tally.add(f"step_{result.outcome}")
        return result

    def _lost(self, result: StepResult, why: str) -> None:
        result.lost += 1
        self.tally.add("answers_lost")
        self.tally.add(f"lost_{why}")

    def _found(self, case_id: str, step: Step, earlier: int) -> bool:
        """Whether a try whose answer was lost is in the log (it may still be appending)."""
        deadline = time.monotonic() + FOUND_WAIT
        while True:
            if recorded(self.log.events(case_id), step, earlier):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(1.0)

    def _wait_visible(self, case_id: str, headers: dict[str, str]) -> None:
        deadline = time.monotonic() + self.step_deadline
        while time.monotonic() < deadline:
            try:
                shown = self.http.get(f"{self.api}/v1/cases/{case_id}", headers=headers)
                if shown.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)


def _retry_after(answer: httpx.Response) -> float:
    try:
        return min(float(answer.headers.get("Retry-After", "0")), 10.0)
    except ValueError:
        return 1.0
