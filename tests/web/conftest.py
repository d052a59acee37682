"""Fixtures for the web pages: a database with the demo district, users with passwords,
the app served over HTTP by uvicorn, and a real browser (Debian's Chromium through
Playwright) that may not leave localhost.

- ``web_db_url`` / ``web_engine``: a database of the web tests' own, migrated, with the
  synthetic demo district (108 grids) imported, so reports are located in its grids and
  the map has its polygons. Its cases run in the Temporal namespace ``WEB_NAMESPACE``
  (``web_temporal``) on in-process workers of their own (``web_workers``); the API tests'
  session database, whose areas are not the demo district's, stays as it is.
- ``web_users`` makes users with a password (``WebUser``), ids unique to the run.
- ``web_server`` runs ``uvicorn --factory api.app:create_app_from_env`` in a subprocess on
  a free port, against that database and namespace, for the whole session.
- ``browser`` is one Chromium for the session; ``browsing`` gives a test a fresh context
  (zh-CN, its own cookies) and page on ``web_server`` with the guards of ``Browsing``.
- ``web_app`` is the same app in-process; ``web_client`` an httpx client on it, without
  the browser.

The browser tests are async (Playwright's async API) so the session's event loop, and with
it the in-process workers, keep running while a page is driven.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from application.config import Settings
from domain.demo_district import generate_demo_district
from store.db import make_engine
from store.event_store import EventStore
from store.passwords import Passwords
from store.reference import import_district
from store.users import UserStore
from tests.conftest import ROLES, WEB_NAMESPACE, as_role, new_database
from tests.web.browser import CHROMIUM_ARGS, Browsing, WebServer
from workers.run import build_worker
from workflows import converter

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "测试 password 2027"
# The browser tests lock an account on purpose; a small limit keeps them short, and a
# large one per address keeps every test (all from 127.0.0.1) from locking the others.
SERVER_ENV = {
    "GRIDCASE_SIGNIN_MAX_FAILURES": "3",
    "GRIDCASE_SIGNIN_MAX_FAILURES_PER_ADDRESS": "1000",
    "GRIDCASE_SIGNIN_LOCKOUT_MINUTES": "15",
}


@dataclass(frozen=True)
class WebUser:
    id: str
    name: str
    role: str
    password: str = PASSWORD


MakeUser = Callable[..., WebUser]


@pytest.fixture(scope="session")
def web_db_url(pg_server: object) -> str:
    url = new_database(pg_server, "gridcase_web")
    engine = make_engine(url, pool_size=1)
    try:
        import_district(engine, generate_demo_district(0), source="web tests")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def web_engine(web_db_url: str) -> Iterator[Engine]:
    engine = make_engine(web_db_url, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
async def web_temporal(temporal_env: WorkflowEnvironment) -> Client:
    target = temporal_env.client.service_client.config.target_host
    return await converter.connect(target, namespace=WEB_NAMESPACE)


@pytest.fixture(scope="session")
async def web_workers(web_temporal: Client, web_engine: Engine) -> AsyncIterator[None]:
    """Workers on the three task queues of the web tests' namespace and database."""
    executor = ThreadPoolExecutor(16)
    store = EventStore(web_engine)
    running = [
        build_worker(k, web_temporal, store, executor) for k in ("cases", "supervision", "disposal")
    ]
    for w in running:
        await w.__aenter__()
    yield
    for w in running:
        await w.__aexit__(None, None, None)
    executor.shutdown()


@pytest.fixture(scope="session")
async def web_app(
    web_temporal: Client, web_engine: Engine, web_workers: None
) -> AsyncIterator[FastAPI]:
    app = create_app(Settings.from_env(), temporal_client=web_temporal, engine=web_engine)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def web_users(web_engine: Engine) -> MakeUser:
    users, passwords = UserStore(web_engine), Passwords(web_engine)

    def make(role: str, *units: str, name: str = "") -> WebUser:
        user_id = f"{role.replace('_', '')}-{uuid.uuid4().hex[:8]}"
        users.create_user(user_id, name or user_id, role, list(units))
        passwords.set(user_id, PASSWORD)
        return WebUser(user_id, name or user_id, role)

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def web_server(
    web_db_url: str,
    temporal_env: WorkflowEnvironment,
    web_workers: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WebServer]:
    home = tmp_path_factory.mktemp("web-home")
    port = _free_port()
    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": as_role(web_db_url, ROLES.api),  # as `gridcase up` runs the API
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": WEB_NAMESPACE,
        "GRIDCASE_HOME": str(home),
        "GRIDCASE_LOG_FORMAT": "json",
        "GRIDCASE_LOG_LEVEL": "INFO",
    }
    log_path = home / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.app:create_app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = WebServer(
        f"http://127.0.0.1:{port}", port, int(SERVER_ENV["GRIDCASE_SIGNIN_MAX_FAILURES"])
    )
    try:
        _wait_until_up(server, process, log_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: WebServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:  # a browser test that skips is a test that did not run
        pytest.fail(
            "chromium is not on PATH: scripts/test installs it "
            "(apt-get install -y chromium fonts-noto-cjk)"
        )
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def browsing(browser: Browser, web_server: WebServer) -> AsyncIterator[Browsing]:
    """A fresh browser context and page on the served app; fails the test if a request
    tried to leave localhost or the page logged a script or CSP error."""
    session = await Browsing.open(browser, web_server)
    try:
        yield session
    finally:
        await session.close()
    session.assert_clean()


@pytest.fixture
async def web_client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # An address of its own, so the per-address sign-in limit of one test's failures
    # does not lock another test out.
    address = f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"
    transport = httpx.ASGITransport(app=web_app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
