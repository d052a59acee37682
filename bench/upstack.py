"""`gridcase up` as an outsider runs it: a subprocess on free ports with a data directory
of its own, driven through the CLI and the HTTP API. The recovery and fairness
measurements and the self-healing integration test share it.

Readiness is waited for by polling, never by fixed sleeps: a loaded 2-core machine may
take a minute to start the stack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.common import free_port, workdir

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240.0  # seconds: a first start runs initdb and the migrations


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns something other than None (or False)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception as exc:  # the thing is not there yet: keep polling
            last = exc
        else:
            if found is not None and found is not False:
                return found
        time.sleep(interval)
    because = f" (last error: {last})" if last else ""
    raise TimeoutError(f"{what}: not after {timeout:.0f}s{because}")


@dataclass
class Person:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class UpStack:
    """One `gridcase up` in ``home``; ``env`` is what its CLI commands run with."""

    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = self.home / "up.out"

    @classmethod
    def on_free_ports(cls, home: Path, **extra_env: str) -> UpStack:
        env = dict(os.environ)
        env.update(
            GRIDCASE_HOME=str(home),
            GRIDCASE_TEMPORAL_PORT=str(free_port()),
            GRIDCASE_TEMPORAL_UI_PORT=str(free_port()),
            GRIDCASE_API_PORT=str(free_port()),
            GRIDCASE_LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            env.pop(name, None)
        env.update(extra_env)
        return cls(home, env)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['GRIDCASE_API_PORT']}"

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Start `gridcase up`; return the seconds until it said it is up."""
        self.home.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with self.output.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gridcase.cli", "up"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for("gridcase up says it is up", self._said_up, timeout, interval=0.1)
        return time.monotonic() - began

    def _said_up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"gridcase up exited with {self.proc.returncode}:\n{self.tail()}")
        return "gridcase is up" in self.output.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, lines: int = 40) -> str:
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # -- processes -----------------------------------------------------------------------
    def pid(self, kind: str) -> int:
        """The pid of a child: worker-cases|worker-supervision|worker-disposal|api|
        temporal (from `up`'s pid files), or postgres (the postmaster)."""
        if kind == "postgres":
            path = self.home / "pg" / "postmaster.pid"
        else:
            path = self.home / "run" / f"{kind}.pid"
        return int(path.read_text().split()[0])

    def restarted(self, kind: str, old_pid: int, timeout: float = 180) -> int:
        """Wait until ``kind`` runs again under another pid; return it."""

        def new_pid() -> int | None:
            pid = self.pid(kind)
            return pid if pid != old_pid and _alive(pid) else None

        return wait_for(f"{kind} restarted", new_pid, timeout)

    # -- CLI and HTTP --------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gridcase.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"gridcase {' '.join(args)}: {done.stderr}{done.stdout}")
        return done.stdout

    def ready(self, timeout: float = 180) -> dict[str, Any]:
        """Wait until /readyz answers 200; its body."""

        def answer() -> dict[str, Any] | None:
            found = httpx.get(f"{self.api}/readyz", timeout=10)
            return found.json() if found.status_code == 200 else None

        return wait_for("/readyz answers 200", answer, timeout, interval=0.25)

    def person(self, role: str, *units: str) -> Person:
        user_id = f"{role.replace('_', '')}-{uuid.uuid4().hex[:6]}"
        unit_args = [arg for unit in units for arg in ("--unit", unit)]
        self.cli("users", "add", user_id, "--name", user_id, "--role", role, *unit_args)
        return Person(user_id, self.cli("users", "token", "issue", user_id).strip())


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return status != "Z"


@contextlib.contextmanager
def up_stack(prefix: str = "gc-up-", **extra_env: str) -> Iterator[UpStack]:
    """A started `gridcase up` in a fresh directory under /tmp, stopped and removed after."""
    with workdir(prefix) as root:
        stack = UpStack.on_free_ports(root / "home", **extra_env)
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()
