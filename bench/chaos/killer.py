"""Kills each kind of process of `gridcase up` with SIGKILL at seeded moments and times how
long the stack takes to recover.

Moments are counted in requests the drivers have sent (the n-th kill when the request
counter passes its mark, then a seeded pause of up to ``JITTER`` seconds, so a kill lands
inside a request rather than between two), which repeats better than wall-clock moments on
a machine whose speed varies. One kill at a time: the next waits until the stack has
recovered from the last one.

Recovered means: the kind runs again under a new pid (``back``), and the stack is ready
(``ready``): ``/readyz`` answers 200 and, for a killed worker, its replacement polls its
task queue (``/readyz`` counts a dead worker's poller for up to 90 s).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from dataclasses import dataclass

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from activities.types import TaskQueues
from bench.chaos.driver import Tally
from bench.upstack import UpStack, wait_for
from workflows.converter import connect

KINDS = ("postgres", "temporal", "worker-cases", "worker-supervision", "worker-disposal", "api")
# The task queue a worker kind polls, and for what.
QUEUES = {
    "worker-cases": (TaskQueues.CASES, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    "worker-supervision": (TaskQueues.SUPERVISION, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    "worker-disposal": (TaskQueues.DISPOSAL, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
}
JITTER = 3.0  # seconds
RECOVERY_TIMEOUT = 600.0  # seconds: generous, the machine is shared


@dataclass
class Kill:
    kind: str
    mark: int  # the request count that triggers it
    pause: float  # seconds after the mark
    pid: int = 0
    at: float = 0.0  # seconds since the drive started
    back_s: float | None = None
    ready_s: float | None = None
    error: str = ""

    @property
    def done(self) -> bool:
        return self.pid != 0


def schedule(
    rng: random.Random, kinds: tuple[str, ...], per_kind: int, requests: int
) -> list[Kill]:
    """``per_kind`` kills of each kind in a seeded order, at seeded marks between 3% and 90%
    of the ``requests`` the plans need without retries."""
    order = [kind for kind in kinds for _ in range(per_kind)]
    rng.shuffle(order)
    marks = sorted(rng.randint(int(requests * 0.03), int(requests * 0.9)) for _ in order)
    pairs = zip(order, marks, strict=True)
    return [Kill(kind, mark, round(rng.uniform(0, JITTER), 2)) for kind, mark in pairs]


def polls(stack: UpStack, kind: str, pid: int) -> bool:
    """Whether worker process ``pid`` polls its task queue (its identity is ``pid@host``)."""
    queue, kind_of_task = QUEUES[kind]

    async def check() -> bool:
        client = await connect(f"127.0.0.1:{stack.env['GRIDCASE_TEMPORAL_PORT']}")
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=queue),
                task_queue_type=kind_of_task,
            )
        )
        return any(p.identity.startswith(f"{pid}@") for p in described.pollers)

    return asyncio.run(check())


class Killer(threading.Thread):
    def __init__(self, stack: UpStack, kills: list[Kill], tally: Tally, began: float) -> None:
        super().__init__(name="chaos-killer", daemon=True)
        self.stack = stack
        self.kills = kills
        self.tally = tally
        self.began = began
        self.stop = threading.Event()

    def run(self) -> None:
        for kill in self.kills:
            while self.tally.requests < kill.mark:
                if self.stop.wait(0.2):
                    return
            if self.stop.wait(kill.pause):
                return
            self.one(kill)

    def one(self, kill: Kill) -> None:
        try:
            kill.pid = self.stack.pid(kill.kind)
            os.kill(kill.pid, signal.SIGKILL)
        except (OSError, ValueError) as exc:
            kill.error = f"could not kill: {exc}"
            kill.pid = kill.pid or -1
            return
        killed = time.monotonic()
        kill.at = round(killed - self.began, 1)
        try:
            new = self.stack.restarted(kill.kind, kill.pid, timeout=RECOVERY_TIMEOUT)
            kill.back_s = round(time.monotonic() - killed, 2)
            self.stack.ready(timeout=RECOVERY_TIMEOUT)
            if kill.kind in QUEUES:
                wait_for(
                    f"the new {kill.kind} polls",
                    lambda: polls(self.stack, kill.kind, new),
                    RECOVERY_TIMEOUT,
                    interval=0.5,
                )
            kill.ready_s = round(time.monotonic() - killed, 2)
        except Exception as exc:  # reported as a violation: the stack did not heal
            kill.error = f"no recovery: {exc}"
