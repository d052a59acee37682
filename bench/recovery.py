"""How long a step waits when the worker that took its activity is killed.

    python -m bench.recovery [--rounds 3]

Starts `gridcase up` in a directory of its own (free ports), reports a case through the
HTTP API and files it; then, per round, freezes the disposal worker (SIGSTOP), sends the
dispatch step (派遣, recorded by a disposal activity), waits until Temporal shows that
activity started on the frozen worker, kills the worker with SIGKILL, and times from the
kill until the worker's replacement polls, until the API answers the step and until the
case shows it. `gridcase up` restarts
the worker; the activity is retried once its start-to-close timeout has passed.
Prints one line per round and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import threading
import time
import uuid
from typing import Any

import httpx
from temporalio.api.enums.v1 import PendingActivityState, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.types import TaskQueues
from bench.upstack import Person, UpStack, up_stack, wait_for
from workflows.converter import connect

GRID = "410105001001001"
POINT = {"lon": 113.6355, "lat": 34.8180}


async def _client(stack: UpStack) -> Client:
    return await connect(f"127.0.0.1:{stack.env['GRIDCASE_TEMPORAL_PORT']}")


def activity_started(stack: UpStack, case_id: str) -> bool:
    async def check() -> bool:
        client = await _client(stack)
        described = await client.get_workflow_handle(f"case-{case_id}").describe()
        return any(
            a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            for a in described.raw_description.pending_activities
        )

    return asyncio.run(check())


def polling(stack: UpStack, pid: int) -> bool:
    """Whether the worker process ``pid`` polls the disposal queue (its identity is
    ``pid@host``)."""

    async def check() -> bool:
        client = await _client(stack)
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=TaskQueues.DISPOSAL),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
        return any(p.identity.startswith(f"{pid}@") for p in described.pollers)

    return asyncio.run(check())


def new_filed_case(stack: UpStack, gw: Person, lead: Person) -> str:
    case_id = f"rec-{uuid.uuid4().hex[:8]}"
    body = {
        "report_id": case_id,
        "category": "E0101",
        "description": "Exposed garbage at the bus stop",
        "location": POINT,
    }
    created = httpx.post(f"{stack.api}/v1/reports", json=body, headers=gw.headers, timeout=60)
    created.raise_for_status()
    filed = httpx.post(
        f"{stack.api}/v1/cases/{case_id}/file", json={}, headers=lead.headers, timeout=60
    )
    filed.raise_for_status()
    return case_id


def one_round(stack: UpStack, gw: Person, lead: Person, disp: Person) -> dict[str, Any]:
    case_id = new_filed_case(stack, gw, lead)
    worker = stack.pid("worker-disposal")
    os.kill(worker, signal.SIGSTOP)
    answer: dict[str, Any] = {}

    def dispatch() -> None:
        try:
            found = httpx.post(
                f"{stack.api}/v1/cases/{case_id}/dispatch",
                json={},
                headers=disp.headers,
                timeout=120,
            )
            answer["status"] = found.status_code
        except httpx.HTTPError as exc:
            answer["status"] = repr(exc)
        answer["at"] = time.monotonic()

    thread = threading.Thread(target=dispatch)
    thread.start()
    wait_for("the dispatch activity started", lambda: activity_started(stack, case_id), 60)
    killed = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    new_worker = stack.restarted("worker-disposal", worker)
    restarted = time.monotonic()
    wait_for("the new worker polls", lambda: polling(stack, new_worker), 120, interval=0.1)
    polls = time.monotonic()

    def dispatched() -> bool:
        found = httpx.get(f"{stack.api}/v1/cases/{case_id}", headers=lead.headers, timeout=30)
        return found.status_code == 200 and found.json()["stage"] != "dispatch"

    wait_for("the case shows the dispatch", dispatched, 180, interval=0.1)
    recorded = time.monotonic()
    thread.join(timeout=180)
    return {
        "case": case_id,
        "worker_back_s": round(restarted - killed, 2),
        "worker_polling_s": round(polls - killed, 2),
        "api_status": answer.get("status"),
        "api_answer_s": round(answer["at"] - killed, 2) if "at" in answer else None,
        "recorded_s": round(recorded - killed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with up_stack("gc-recovery-") as stack:
        stack.ready()
        stack.cli("reference", "seed-demo")
        gw = stack.person("grid_worker", GRID)
        lead, disp = stack.person("shift_leader"), stack.person("dispatcher")
        rounds = []
        for n in range(args.rounds):
            result = one_round(stack, gw, lead, disp)
            rounds.append(result)
            print(f"round {n + 1}: {result}", flush=True)
            stack.ready()
        answers = [r["api_answer_s"] for r in rounds if r["api_answer_s"] is not None]
        print(
            f"median: worker back {statistics.median(r['worker_back_s'] for r in rounds)} s, "
            f"polling {statistics.median(r['worker_polling_s'] for r in rounds)} s, "
            f"API answered {statistics.median(answers) if answers else '-'} s, "
            f"recorded {statistics.median(r['recorded_s'] for r in rounds)} s after the kill"
        )


if __name__ == "__main__":
    main()
