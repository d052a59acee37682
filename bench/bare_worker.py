"""`python -m bench.bare_worker cases|supervision|disposal`: a worker of the bare case,
configured as workers.run.build_worker configures the real ones (sandbox, thread pool of
16, max_concurrent_activities 16), so the two differ only in what the work is."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from bench.bare import QUEUES, BareCaseWorkflow, noop
from workers.run import ACTIVITY_THREADS, GRACEFUL_SHUTDOWN, sandbox_runner
from workflows.converter import connect


async def serve(kind: str) -> None:
    client = await connect(os.environ["TEMPORAL_ADDRESS"])
    if kind == "cases":
        worker = Worker(
            client,
            task_queue=QUEUES["cases"],
            workflows=[BareCaseWorkflow],
            workflow_runner=sandbox_runner(),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
    else:
        worker = Worker(
            client,
            task_queue=QUEUES[kind],
            activities=[noop],
            activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
            max_concurrent_activities=ACTIVITY_THREADS,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
