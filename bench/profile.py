"""`--profile DIR`: py-spy samples of the stack's Python processes while a benchmark's timed
phase runs, written to DIR as collapsed stacks (one file per process, flamegraph input),
and summed up in the result's notes as the frames that hold most of the samples.

py-spy is not a dependency of gridcase: `pip install py-spy` (0.4.x) to use it. It samples
CPU only (idle threads are left out), from outside the process, so the figures of the same
run are barely touched by it.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

RATE = 97  # samples per second, off the beat of periodic work
ROOT = str(Path(__file__).resolve().parent.parent) + "/"
# Besides our own code, the libraries whose frames are worth naming in a summary.
LIBRARIES = ("sqlalchemy", "psycopg", "temporalio", "fastapi", "starlette", "pydantic", "uvicorn")


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    beside = Path(sys.executable).parent / "py-spy"
    return found or (str(beside) if beside.exists() else None)


@contextlib.contextmanager
def profiled(folder: Path | None, pids: Mapping[str, int], notes: list[str]) -> Iterator[None]:
    """Sample ``pids`` (name -> pid of a Python process) while the block runs; add a
    summary per process to ``notes``. Does nothing when ``folder`` is None."""
    if folder is None:
        yield
        return
    binary = py_spy()
    if binary is None:
        notes.append("profile: py-spy not found (pip install py-spy); nothing sampled")
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, pid in pids.items():
        out = folder / f"{name}.txt"
        command = [binary, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw"]
        procs[name] = subprocess.Popen(
            [*command, "--nonblocking", "--full-filenames", "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        yield
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for name in procs:
        path = folder / f"{name}.txt"
        if path.exists():
            notes.append(f"profile {name}: {summary(path)}")


def summary(path: Path, top: int = 8) -> str:
    """Where the samples are: the share of each package the sampled (innermost) frame is
    in, then our own frames with the largest share counted inclusively (callees count)."""
    total = 0
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf[_package(frames[-1])] += n
        for name in {_named(f) for f in frames}:
            if name and not name.startswith(tuple(LIBRARIES)):
                inclusive[name] += n
    if not total:
        return "no samples"
    where = ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in leaf.most_common(6))
    # Entry points hold every sample of their process: they say nothing.
    ours = [(k, n) for k, n in inclusive.most_common() if n < 0.95 * total][:top]
    hot = ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in ours)
    return f"{total} samples; innermost frame in: {where}; our frames: {hot}"


def _package(frame: str) -> str:
    name = _named(frame)
    if not name:
        return "other"
    head = name.split(".", 1)[0]
    return head if head in LIBRARIES else "gridcase"


def _named(frame: str) -> str:
    """``function (path/to/module.py:12)`` as ``package.module.function`` for our code and
    the libraries worth naming; empty for anything else."""
    function, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    if "/site-packages/" in file:
        inside = file.split("/site-packages/", 1)[1]
        if inside.split("/", 1)[0] not in LIBRARIES:
            return ""
        module = inside
    elif file.startswith(ROOT):
        module = file[len(ROOT) :]
    else:
        return ""
    return module.removesuffix(".py").replace("/", ".") + "." + function
