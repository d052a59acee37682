"""CLI read commands with PostgreSQL down: one line naming what is down and how to start
it, exit code 1, no traceback. The data directory is empty: nothing listens on its
socket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gridcase import cli

READS = [
    ["case", "show", "r-0001"],
    ["case", "candidates", "r-0001"],
    ["overdue"],
    ["kpi", "table", "--by", "department"],
    ["kpi", "ranking"],
    ["inbox", "tasks", "--as", "grid_worker:gw-001"],
    ["inbox", "department", "--as", "handler:h-07@sanitation"],
    ["notifications"],
    ["users", "list"],
    ["users", "token", "list", "gw-001"],
    ["webhooks", "list"],
    ["reference", "show"],
    ["reference", "calendar", "show"],
]


@pytest.fixture
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDCASE_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


@pytest.mark.parametrize("argv", READS, ids=lambda argv: " ".join(argv))
def test_a_read_with_postgres_down_says_so_in_one_line(
    argv: list[str],
    no_stack: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["gridcase", *argv])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "PostgreSQL" in err and "gridcase up" in err and str(no_stack) in err
    assert "Traceback" not in err


def test_an_external_database_down_names_database_url(
    no_stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://gridcase@127.0.0.1:1/gridcase")
    monkeypatch.setattr(sys, "argv", ["gridcase", "overdue"])
    with pytest.raises(SystemExit):
        cli.main()
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and len(err.strip().splitlines()) == 1


def test_the_installed_command_says_it_too(no_stack: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gridcase.cli", "case", "show", "r-0001"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"GRIDCASE_HOME": str(no_stack), "PATH": "/usr/bin:/bin", "COLUMNS": "400"},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: the embedded PostgreSQL in"), done.stderr
    assert "Traceback" not in done.stderr
