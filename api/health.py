"""Liveness and readiness, for `gridcase up`, load balancers and Kubernetes probes.

``GET /healthz``: the process serves HTTP (no I/O; restart the process if it fails).
``GET /readyz``: the process can do its work now: PostgreSQL answers, Temporal answers,
and a worker polls each task queue (Temporal's DescribeTaskQueue lists its pollers).
200 when every check passes, 503 otherwise, with one entry per check::

    {"status": "ready" | "not_ready",
     "checks": {"postgres": {"ok": true, "detail": "answered in 2 ms"}, ...},
     "warnings": [{"code": "...", "detail": "..."}]}

Warnings say what an operator should fix without making the process unready; they
come from the functions in ``READINESS_WARNINGS``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.types import TaskQueues
from application.context import Services, services
from store.calendar import calendar_readiness

CHECK_TIMEOUT = 3.0  # seconds per check: a probe must answer even when a server hangs
# A live worker's long polls renew its entry at least every minute or so; Temporal keeps
# a poller listed for minutes after its last poll (and forgets all of them on a restart).
POLLER_FRESH = timedelta(seconds=90)
# What polls each queue: workflow tasks on the cases queue, activities on the others.
POLLED = (
    (TaskQueues.CASES, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "workflow tasks"),
    (TaskQueues.SUPERVISION, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, "activities"),
    (TaskQueues.DISPOSAL, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, "activities"),
)

Check = dict[str, Any]  # {"ok": bool, "detail": str}
# A source of readiness warnings: (services) -> [{"code": ..., "detail": ...}]. Plug new
# ones in here (e.g. the working calendar's coverage of the coming months).
WarningSource = Callable[[Services], Awaitable[list[dict[str, str]]]]


async def calendar_warning(svc: Services) -> list[dict[str, str]]:
    """The official holiday data ends within 60 days (docs/calendar.md)."""
    found = calendar_readiness(svc.intake.calendar)
    if found["status"] != "warning":
        return []
    return [{"code": "calendar_official_data_ending", "detail": found["message"]}]


READINESS_WARNINGS: list[WarningSource] = [calendar_warning]

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process serves HTTP. No I/O, so a slow database cannot fail it."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    checks: dict[str, Check] = {"postgres": await _timed(_postgres(svc))}
    client = None
    try:
        client = await asyncio.wait_for(svc.cases.temporal.get(), CHECK_TIMEOUT)
    except Exception as exc:
        checks["temporal"] = {"ok": False, "detail": _reason(exc)}
    if client is not None:
        checks["temporal"] = await _timed(_temporal(client))
    for queue, kind, what in POLLED:
        name = f"pollers:{queue}"
        if client is None or not checks["temporal"]["ok"]:
            checks[name] = {"ok": False, "detail": "Temporal does not answer"}
        else:
            checks[name] = await _timed(_pollers(client, svc, queue, kind, what))
    warnings = [w for source in READINESS_WARNINGS for w in await source(svc)]
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks, "warnings": warnings}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _timed(check: Awaitable[str]) -> Check:
    began = time.monotonic()
    try:
        detail = await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "detail": _reason(exc)}
    took = (time.monotonic() - began) * 1000
    return {"ok": True, "detail": f"{detail} ({took:.0f} ms)"}


def _reason(exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:.0f} s"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


async def _postgres(svc: Services) -> str:
    def ping() -> None:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    await run_in_threadpool(ping)
    return "answered"


async def _temporal(client: Client) -> str:
    if not await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT)):
        raise RuntimeError("the workflow service is not serving")
    return f"{client.service_client.config.target_host} answered"


async def _pollers(
    client: Client, svc: Services, queue: str, kind: TaskQueueType.ValueType, what: str
) -> str:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=svc.settings.temporal_namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=kind,
        ),
        timeout=timedelta(seconds=CHECK_TIMEOUT),
    )
    now = datetime.now(UTC)
    fresh = [
        p.identity
        for p in described.pollers
        if now - p.last_access_time.ToDatetime(UTC) <= POLLER_FRESH
    ]
    if not fresh:
        raise RuntimeError(f"no worker polls {queue} for {what}; is `gridcase worker` running?")
    return f"{len(fresh)} worker(s) polling {what}"
