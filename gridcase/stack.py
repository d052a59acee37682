"""`gridcase up`: the embedded servers, migrations and one worker process per task queue."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import structlog
from rich.console import Console
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)

from application.config import Settings
from application.temporal import connect
from store.access import MissingRoles
from store.db import migrate
from workers.embedded import (
    EmbeddedPostgres,
    EmbeddedTemporal,
    die_with_parent,
    running_up,
    stop_stale,
)
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


class ChildProcesses:
    """The worker processes (one per task queue) and the API, restarted if one dies,
    stopped gracefully on exit."""

    def __init__(
        self, settings: Settings, env: dict[str, str], database_urls: dict[str, str | None]
    ) -> None:
        self.settings = settings
        self.env = env
        self.database_urls = database_urls
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.not_before: dict[str, float] = {}
        self.commands = {
            f"worker-{kind}": [sys.executable, "-m", "gridcase.cli", "worker", kind]
            for kind in KINDS
        }
        self.commands["api"] = [
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
        ]

    def pidfile(self, kind: str) -> Path:
        return self.settings.run_dir / f"{kind}.pid"

    def start(self, kind: str) -> None:
        stop_stale(self.pidfile(kind))
        logfile = (self.settings.logs_dir / f"{kind}.log").open("ab")
        env = dict(self.env)
        env.pop("DATABASE_URL", None)
        if (url := self.database_urls.get(kind)) is not None:
            env["DATABASE_URL"] = url
        proc = subprocess.Popen(
            self.commands[kind],
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self.pidfile(kind).write_text(str(proc.pid))
        self.procs[kind] = proc
        self.started[kind] = time.monotonic()

    def start_all(self) -> None:
        for kind in self.commands:
            self.start(kind)

    def restart_dead(self) -> None:
        """Restart what died; one that keeps dying at start waits longer each time."""
        now = time.monotonic()
        for kind, proc in list(self.procs.items()):
            if proc.poll() is None or now < self.not_before.get(kind, 0.0):
                continue
            quick = now - self.started.get(kind, 0.0) < 10
            self.failures[kind] = self.failures.get(kind, 0) + 1 if quick else 0
            delay = min(60.0, 2.0 ** self.failures[kind]) if quick else 0.0
            log.warning(
                "process_died_restarting",
                kind=kind,
                returncode=proc.returncode,
                delay_s=delay,
                log=str(self.settings.logs_dir / f"{kind}.log"),
            )
            if delay:
                self.not_before[kind] = now + delay
                self.started[kind] = now + delay  # counted from the delayed start
                continue
            self.start(kind)

    def start_delayed(self) -> None:
        now = time.monotonic()
        for kind, at in list(self.not_before.items()):
            if now >= at:
                del self.not_before[kind]
                self.start(kind)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for kind, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.pidfile(kind).unlink(missing_ok=True)


def database_urls(settings: Settings, owner_url: str) -> dict[str, str | None]:
    """The database each child connects as. Embedded: the activity workers and the API
    each as its own role (created at migrate), so PostgreSQL holds each to its grants and
    each side to its events. With DATABASE_URL every child uses that one URL (the workers
    warn that the database does not separate the sides); deploy/ gives each its own.
    The cases worker runs workflows only and gets none."""
    roles = settings.db_roles
    if settings.database_url:
        urls: dict[str, str | None] = {kind: owner_url for kind in ("supervision", "disposal")}
        api: str | None = owner_url
    else:
        urls = {
            "supervision": settings.embedded_url(roles.supervision),
            "disposal": settings.embedded_url(roles.disposal),
        }
        api = settings.embedded_url(roles.api)
    return {
        "worker-cases": None,
        "worker-supervision": urls["supervision"],
        "worker-disposal": urls["disposal"],
        "api": api,
    }


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
    workers: ChildProcesses | None = None
    stop = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        with console.status("starting PostgreSQL…"):
            db_url = postgres.start() if postgres else settings.db_url
            try:
                migrate(db_url, settings.db_roles)
            except MissingRoles as exc:
                raise SystemExit(str(exc)) from None
        with console.status("starting Temporal…"):
            target = temporal.start() if temporal else settings.temporal_target
            asyncio.run(ensure_search_attributes(settings))
        env = dict(os.environ)
        env.update(
            TEMPORAL_ADDRESS=target,
            TEMPORAL_NAMESPACE=settings.temporal_namespace,
            GRIDCASE_HOME=str(settings.home),
            GRIDCASE_LOG_FORMAT="json",
        )
        workers = ChildProcesses(settings, env, database_urls(settings, db_url))
        workers.start_all()
        asyncio.run(start_notification_drain(settings))
        print_where(console, settings, db_url, target)
        while not stop:
            time.sleep(0.5)
            workers.restart_dead()
            workers.start_delayed()
    finally:
        console.print("stopping…")
        if workers:
            workers.stop_all()
        if temporal:
            temporal.stop()
        if postgres:
            postgres.stop()
        up_pidfile.unlink(missing_ok=True)
        console.print("stopped.")


def print_where(console: Console, settings: Settings, db_url: str, target: str) -> None:
    console.print("[bold green]gridcase is up[/bold green]")
    console.print(f"  data directory   {settings.home}")
    console.print(f"  PostgreSQL       {db_url}")
    roles = settings.db_roles
    if settings.database_url:
        console.print("  database roles   every process on DATABASE_URL (sides not separated)")
    else:
        console.print(
            f"  database roles   {roles.supervision}, {roles.disposal} (workers), {roles.api} (API)"
        )
    console.print(f"  Temporal         {target} (namespace {settings.temporal_namespace})")
    if settings.temporal_ui_url:
        console.print(f"  Temporal web UI  {settings.temporal_ui_url}")
    console.print(f"  workers          {', '.join(KINDS)} (logs in {settings.logs_dir})")
    api = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"  HTTP API         {api} (docs {api}/docs, Open311 {api}/open311/v2/)")
    console.print(f"  web pages        {api}/ (sign in: `gridcase users password set ID`)")
    console.print("Try `gridcase demo` in another shell. Ctrl-C stops everything.")
