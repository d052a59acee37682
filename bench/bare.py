"""A bare Temporal case: no domain, no database. The yardstick of the lifecycle benchmark.

Shaped like CaseWorkflow's main line and driven identically: started, asked one query,
then six steps as (dynamic) updates; the start and each update run one no-op activity on
the supervision or the disposal task queue, the same split as the real steps (report, file,
check, close on supervision; dispatch, sign for, feedback on disposal): 7 activities and 6
updates per workflow. What it leaves out is what the real one adds: the decider, the event
store (an append and a fold per activity), search attribute upserts, a timer per stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RawValue

QUEUES = {
    "cases": "bench-bare-cases",
    "supervision": "bench-bare-supervision",
    "disposal": "bench-bare-disposal",
}
_S, _D = QUEUES["supervision"], QUEUES["disposal"]
STEP_QUEUE = {
    "report": _S,
    "file": _S,
    "dispatch": _D,
    "sign_for": _D,
    "feedback": _D,
    "check": _S,
    "close": _S,
}
STEPS = ("file", "dispatch", "sign_for", "feedback", "check", "close")


@activity.defn(name="bare_noop")
def noop(step: str) -> int:
    """Sync, like the real activities (they run in the worker's thread pool)."""
    return len(step)


@workflow.defn
class BareCaseWorkflow:
    @workflow.init
    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.done = 0
        self.closed = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, case_id: str) -> int:
        await self._do("report")
        await workflow.wait_condition(lambda: self.closed)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    async def _do(self, step: str) -> None:
        async with self._lock:  # one step at a time, as CaseWorkflow._apply
            await workflow.execute_activity(
                noop,
                step,
                task_queue=STEP_QUEUE[step],
                start_to_close_timeout=timedelta(seconds=30),
            )
            self.done += 1

    @workflow.update(dynamic=True)
    async def step(self, name: str, args: Sequence[RawValue]) -> int:
        await self._do(name)
        if name == "close":
            self.closed = True
        return self.done

    @step.validator
    def _validate(self, name: str, args: Sequence[RawValue]) -> None:
        if name not in STEP_QUEUE:
            raise ValueError(f"no step {name}")

    @workflow.query
    def report(self) -> str:
        return self.case_id
