"""A test session sweeps the scratch clusters of sessions killed before their teardown,
and only those: not a live session's, not one a postmaster still runs in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests import scratch


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def made(root: Path, name: str, owner: int | None, postmaster: int | None = None) -> Path:
    path = root / f"gc-pg-{name}"
    (path / "d").mkdir(parents=True)
    if owner is not None:
        (path / scratch.OWNER).write_text(str(owner))
    if postmaster is not None:
        (path / "d" / "postmaster.pid").write_text(f"{postmaster}\n/tmp/x\n")
    return path


def test_only_what_no_live_session_or_postmaster_uses_is_removed(tmp_path: Path) -> None:
    gone = dead_pid()
    mine = made(tmp_path, "mine", os.getpid())
    killed = made(tmp_path, "killed", gone)
    still_served = made(tmp_path, "served", gone, postmaster=os.getpid())
    server_gone = made(tmp_path, "stopped", gone, postmaster=gone)
    unowned_new = made(tmp_path, "new", None)
    unowned_old = made(tmp_path, "old", None)
    old = time.time() - scratch.UNOWNED_GRACE_S - 60
    os.utime(unowned_old, (old, old))
    other = tmp_path / "gc-up-x"
    other.mkdir()

    removed = scratch.sweep("gc-pg-", tmp_path)

    assert sorted(removed) == sorted([killed, server_gone, unowned_old])
    assert all(not p.exists() for p in removed)
    assert all(p.exists() for p in (mine, still_served, unowned_new, other))


def test_a_new_directory_is_marked_as_this_sessions(tmp_path: Path) -> None:
    path = scratch.make("gc-pg-", tmp_path)
    assert (path / scratch.OWNER).read_text() == str(os.getpid())
    assert path.stat().st_mode & 0o777 == 0o755
    assert scratch.sweep("gc-pg-", tmp_path) == []
