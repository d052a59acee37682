"""Worker processes, one per task queue: `gridcase worker cases|supervision|disposal`."""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import structlog
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.disposal import DisposalActivities
from activities.notify import NotificationActivities
from activities.supervision import SupervisionActivities
from activities.types import TaskQueues
from application.config import Settings
from application.temporal import connect
from domain.steps import Side
from store.access import connection_access
from store.calendar import calendar_sources, log_calendar, today
from store.db import make_engine
from store.event_store import EventStore
from store.outbox import Outbox
from workflows.case import CaseWorkflow
from workflows.notifications import NotificationDrainWorkflow

log = structlog.get_logger(__name__)

KINDS = ("cases", "supervision", "disposal")
GRACEFUL_SHUTDOWN = timedelta(seconds=20)
ACTIVITY_THREADS = 16


def sandbox_runner() -> SandboxedWorkflowRunner:
    # A module the workflow imports without imports_passed_through() is an error at start,
    # not a slow re-import on every workflow task.
    restrictions = SandboxRestrictions.default.with_import_notification_policy(
        workflow.SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    kind: str,
    client: Client,
    store: EventStore | None = None,
    executor: ThreadPoolExecutor | None = None,
    notifications: NotificationActivities | None = None,
) -> Worker:
    """The worker for one task queue. Activity workers need an event store; supervision
    also delivers the notification outbox (by default from the event store's database)."""
    if kind == "cases":
        return Worker(
            client,
            task_queue=TaskQueues.CASES,
            workflows=[CaseWorkflow, NotificationDrainWorkflow],
            workflow_runner=sandbox_runner(),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
    if store is None:
        raise ValueError(f"the {kind} worker needs an event store")
    executor = executor or ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix=kind)
    if kind == "supervision":
        notifications = notifications or NotificationActivities(Outbox(store.engine))
        activities = SupervisionActivities(store).all() + notifications.all()
    elif kind == "disposal":
        activities = DisposalActivities(store).all()
    else:
        raise ValueError(f"unknown worker kind {kind!r}; choose one of {', '.join(KINDS)}")
    return Worker(
        client,
        task_queue=TaskQueues.BY_NAME[kind],
        activities=activities,
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def check_database_role(kind: str, engine: Engine) -> None:
    """Say which role the worker appends as, and refuse to start with one whose appends
    would all be refused (the other side's credentials, or a database not migrated to
    this release's event types): its tasks then wait in the queue for a right worker."""
    access = connection_access(engine)
    log.info(
        "worker_database_role",
        kind=kind,
        role=access.role,
        appends=sorted(access.sides),
        bypasses_row_security=access.bypasses,
    )
    problem = access.problem_for(Side(kind))
    if problem is not None:
        log.error("worker_cannot_append", kind=kind, role=access.role, problem=problem)
        raise SystemExit(f"the {kind} worker cannot append: {problem}")
    if access.bypasses or len(access.sides) > 1:
        log.warning(
            "sides_not_enforced_by_database",
            kind=kind,
            role=access.role,
            hint=f"connect as the {kind} role (GRIDCASE_DB_{kind.upper()}_ROLE, store/access.py)",
        )


def activity_engine(url: str, kind: str = "activity") -> Engine:
    """The database engine of an activity worker: a connection per activity thread, and
    no ping per checkout (it was a third of an append's round trips; see store.db)."""
    return make_engine(
        url,
        pool_size=ACTIVITY_THREADS,
        pre_ping=False,
        application_name=f"gridcase-worker-{kind}",
    )


async def serve(kind: str, settings: Settings) -> None:
    """Run one worker until SIGINT/SIGTERM, then let running tasks finish (graceful)."""
    if kind not in KINDS:
        raise ValueError(f"unknown worker kind {kind!r}; choose one of {', '.join(KINDS)}")
    client = await connect(settings)
    engine = None
    store = None
    if kind != "cases":
        engine = activity_engine(settings.db_url, kind)
        check_database_role(kind, engine)
        store = EventStore(engine)
    worker = build_worker(kind, client, store)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker_started", kind=kind, task_queue=worker.task_queue)
    # The workflow worker has no database: it reports the base notices only.
    calendar = calendar_sources(engine, settings.calendar_notices()).for_cases(today())
    log_calendar(log, calendar, kind=kind, imported_notices_read=engine is not None)
    async with worker:
        await stop.wait()
        log.info("worker_stopping", kind=kind)
    if engine is not None:
        engine.dispose()
    log.info("worker_stopped", kind=kind)
