"""`gridcase up`: the embedded servers, migrations, one worker process per task queue and
the HTTP API, all supervised (``gridcase.supervisor``); "gridcase is up" is printed once
the API answers /readyz."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import structlog
from rich.console import Console
from rich.status import Status
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)

from application.config import Settings
from application.temporal import connect
from gridcase.supervisor import Child, Supervisor
from store.db import migrate
from workers.embedded import ChildProcess, EmbeddedPostgres, EmbeddedTemporal, running_up
from workers.run import KINDS
from workflows.notifications import ensure_drain_running
from workflows.search_attributes import ALL_KEYS

log = structlog.get_logger(__name__)


async def ensure_search_attributes(settings: Settings) -> None:
    """Register our search attributes on an external Temporal (the embedded one gets them
    at start)."""
    client = await connect(settings)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=settings.temporal_namespace)
    )
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in ALL_KEYS
        if key.name not in listed.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=settings.temporal_namespace, search_attributes=missing
            )
        )
        log.info("search_attributes_registered", names=sorted(missing))


async def start_notification_drain(settings: Settings) -> None:
    """The one workflow that delivers the notification outbox; a no-op when it runs."""
    client = await connect(settings)
    handle = await ensure_drain_running(client)
    log.info("notification_drain_running", workflow_id=handle.id, run_id=handle.result_run_id)


def app_processes(settings: Settings, env: dict[str, str]) -> list[ChildProcess]:
    """One worker process per task queue, and the HTTP API."""
    workers = [
        ChildProcess(
            f"worker-{kind}", [sys.executable, "-m", "gridcase.cli", "worker", kind], settings, env
        )
        for kind in KINDS
    ]
    api = ChildProcess(
        "api",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app_from_env",
            "--host",
            settings.api_host,
            "--port",
            str(settings.api_port),
            "--no-access-log",
        ],
        settings,
        env,
    )
    return [*workers, api]


def readiness_url(settings: Settings) -> str:
    host = settings.api_host
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: ask over loopback
        host = "127.0.0.1"
    return f"http://{host}:{settings.api_port}/readyz"


def readiness(url: str) -> tuple[bool, str]:
    """Whether the API answers /readyz with 200, and which checks fail if not."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200, ""
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
            failing = [name for name, check in body["checks"].items() if not check["ok"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            failing = [f"HTTP {exc.code}"]
        return False, ", ".join(failing)
    except (OSError, ValueError):
        return False, "the API does not answer yet"


def wait_until_ready(
    settings: Settings, supervisor: Supervisor, stopping: Callable[[], bool], status: Status
) -> bool:
    """Supervise while waiting for the API's /readyz; False if asked to stop first."""
    url = readiness_url(settings)
    began = time.monotonic()
    while not stopping():
        ready, failing = readiness(url)
        if ready:
            log.info("stack_ready", seconds=round(time.monotonic() - began, 1))
            return True
        status.update(f"waiting for the API to be ready ({failing})…")
        supervisor.check()
        time.sleep(0.25)
    return False


def up(settings: Settings, console: Console) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(exist_ok=True)
    settings.run_dir.mkdir(exist_ok=True)
    up_pidfile = settings.run_dir / "up.pid"
    other = running_up(up_pidfile)
    if other is not None:
        raise SystemExit(
            f"gridcase up is already running for {settings.home} (pid {other}); stop it "
            "first, or set GRIDCASE_HOME to another data directory"
        )
    up_pidfile.write_text(str(os.getpid()))
    postgres = None if settings.database_url else EmbeddedPostgres(settings)
    temporal = None if settings.temporal_address else EmbeddedTemporal(settings)
    servers: list[Child] = [server for server in (postgres, temporal) if server is not None]
    supervisor: Supervisor | None = None
    stop = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        with console.status("starting PostgreSQL…"):
            if postgres:
                postgres.start()
            migrate(settings.db_url)
        with console.status("starting Temporal…"):
            if temporal:
                temporal.start()
            asyncio.run(ensure_search_attributes(settings))
        env = dict(os.environ)
        env.update(
            DATABASE_URL=settings.db_url,
            TEMPORAL_ADDRESS=settings.temporal_target,
            TEMPORAL_NAMESPACE=settings.temporal_namespace,
            GRIDCASE_HOME=str(settings.home),
            GRIDCASE_LOG_FORMAT="json",
        )
        supervisor = Supervisor([*servers, *app_processes(settings, env)])
        with console.status("starting the workers and the API…") as status:
            supervisor.start_all()
            asyncio.run(start_notification_drain(settings))
            ready = wait_until_ready(settings, supervisor, lambda: stop, status)
        if ready:
            print_where(console, settings)
        while not stop:
            time.sleep(0.5)
            supervisor.check()
    finally:
        console.print("stopping…")
        if supervisor is not None:
            supervisor.stop_all()
        else:
            for server in reversed(servers):
                server.stop()
        up_pidfile.unlink(missing_ok=True)
        console.print("stopped.")


def print_where(console: Console, settings: Settings) -> None:
    console.print("[bold green]gridcase is up[/bold green]")
    console.print(f"  data directory   {settings.home}")
    console.print(f"  PostgreSQL       {settings.db_url}")
    console.print(
        f"  Temporal         {settings.temporal_target} (namespace {settings.temporal_namespace})"
    )
    if settings.temporal_ui_url:
        console.print(f"  Temporal web UI  {settings.temporal_ui_url}")
    console.print(f"  workers          {', '.join(KINDS)} (logs in {settings.logs_dir})")
    api = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"  HTTP API         {api} (docs {api}/docs, Open311 {api}/open311/v2/)")
    console.print(f"  web pages        {api}/ (sign in: `gridcase users password set ID`)")
    console.print(f"  readiness        {readiness_url(settings)}")
    console.print(
        "Every part is restarted if it dies. Try `gridcase demo` in another shell; "
        "Ctrl-C stops everything."
    )
