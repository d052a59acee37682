"""`gridcase simulate` end to end through the CLI (no database or Temporal needed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridcase.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_simulate_writes_tables_charts_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "sim-out"
    args = ["simulate", "--days", "3", "--seed", "2", "--reports-per-day", "150"]
    args += ["--handlers", "sanitation=3,urban_law_enforcement=4", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Departments over the run" in result.output
    assert "Streets" in result.output
    assert "sanitation" in result.output
    for chart in ("backlog.png", "on_time_daily.png"):
        data = (out / chart).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["days"] == 3
    handlers = {d["department"]: d["handlers"] for d in summary["departments"]}
    assert handlers["sanitation"] == 3 and handlers["urban_law_enforcement"] == 4
    assert summary["run"]["cases"] > 200
    header = (out / "kpi_departments.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "on_time_disposal_pct" in header


def test_simulate_answers_a_staffing_target_and_reads_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"reports_per_day": 120, "queue": "edf"}), encoding="utf-8")
    out = tmp_path / "out"
    args = ["simulate", "--days", "2", "--config", str(config), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--target", "sanitation:90"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["queue"] == "edf" and summary["config"]["reports_per_day"] == 120
    target = summary["target"]
    assert target["department"] == "sanitation"
    assert target["handlers_needed"] is not None
    assert "needs" in result.output


def test_simulate_refuses_a_bad_handlers_option(tmp_path: Path) -> None:
    args = ["simulate", "--days", "1", "--handlers", "sanitaton=3", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "unknown department" in result.output
