"""Scratch directories of test sessions under /tmp (PostgreSQL clusters of some 400 MB):
each says which session made it, and a session sweeps those whose maker is gone — killed
before its teardown — so killed runs do not fill the disk."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

OWNER = "owner.pid"  # the pid of the test session that made the directory
# A directory without an owner file (made before this file existed, or in the moment
# between mkdtemp and writing it) is swept only once it is this old and no postmaster
# runs in it.
UNOWNED_GRACE_S = 3600.0


def make(prefix: str, root: Path = Path("/tmp")) -> Path:
    """A new directory, world-readable (pgserver runs postgres as an unprivileged user when
    we are root, and its socket path must stay short), marked as this process's."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    path.chmod(0o755)
    (path / OWNER).write_text(str(os.getpid()))
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _in_use(path: Path, now: float) -> bool:
    owner = _pid_in(path / OWNER)
    if owner is not None and _alive(owner):
        return True
    for postmaster in path.glob("*/postmaster.pid"):
        pid = _pid_in(postmaster)
        if pid is not None and _alive(pid):
            return True
    if owner is None:
        try:
            return now - path.stat().st_mtime < UNOWNED_GRACE_S
        except OSError:
            return True
    return False


def sweep(prefix: str, root: Path = Path("/tmp"), now: float | None = None) -> list[Path]:
    """Remove the directories ``root/prefix*`` no live session or postmaster uses; the
    removed ones."""
    now = time.time() if now is None else now
    removed = []
    candidates: Iterable[Path] = sorted(root.glob(f"{prefix}*"))
    for path in candidates:
        if path.is_dir() and not path.is_symlink() and not _in_use(path, now):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
