"""`gridcase simulate`: a district over N days through the real domain rules, no stack.

A composition root like the rest of the CLI: it reads the options, runs ``sim`` and writes
what it gives (tables on the terminal; JSON, CSV and PNG in the output directory).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.calendar import WorkingCalendar
from domain.taxonomy import default_taxonomy
from sim.config import QUEUES, SimConfig
from sim.engine import SimResult
from sim.engine import simulate as run_simulation
from sim.report import dumps, evaluate, summarize
from sim.staffing import StaffingAnswer, find_staffing
from store.calendar_sources import shipped_calendar

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _counts(items: list[str] | None, option: str) -> dict[str, int]:
    """``a=1,b=2`` (repeatable) as {a: 1, b: 2}, departments checked against the taxonomy."""
    known = {d.code for d in default_taxonomy().departments} | {"*"}
    out: dict[str, int] = {}
    for item in items or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not value.strip().isdigit():
                _fail(f"{option} {part!r} is not department=count, e.g. sanitation=6")
            if name.strip() not in known:
                names = ", ".join(sorted(known))
                _fail(f"{option}: unknown department {name.strip()!r}; known: {names}")
            out[name.strip()] = int(value)
    return out


def _target(text: str) -> tuple[str, float]:
    department, sep, pct = text.partition(":")
    try:
        value = float(pct)
    except ValueError:
        sep = ""
    if not sep or department not in {d.code for d in default_taxonomy().departments}:
        _fail(f"--target {text!r} is not department:percent, e.g. sanitation:95")
    return department, value


def _config(
    config_file: Path | None, overrides: dict[str, Any], handlers: dict[str, int]
) -> SimConfig:
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            _fail(f"cannot read --config {config_file}: {exc}")
        if not isinstance(data, dict):
            _fail(f"--config {config_file} must hold a JSON object")
    data.update({k: v for k, v in overrides.items() if v is not None})
    if handlers:
        data["handlers"] = {**data.get("handlers", {}), **handlers}
    try:
        return SimConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        _fail(f"bad simulation settings: {exc}")
        raise


def _calendar(config: SimConfig) -> WorkingCalendar:
    """The shipped notices, and provisional years from the holidays library after them."""
    first = date.fromisoformat(config.start)
    last = first + timedelta(days=config.days + 30)
    return shipped_calendar(first.year, last.year + 1)


def _run(config: SimConfig) -> SimResult:
    columns = (
        TextColumn("simulating {task.description}"),
        BarColumn(),
        TextColumn("day {task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(f"{config.days} days", total=config.days)
        return run_simulation(
            config,
            lambda done, _: progress.update(task, completed=done),
            calendar=_calendar(config),
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _department_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Departments over the run (domain/kpi.py from the simulated events)")
    headings = [
        "department",
        "handlers",
        "on call",
        "due",
        "按期处置率\non time",
        "overdue",
        "结案率\nclosing",
        "返工率\nrework",
        "延期率\nextension",
        "准确派遣率\naccurate dispatch",
        "cards\nyellow/red",
        "score",
        "grade",
        "utilization",
        "open at end",
    ]
    for h in headings:
        table.add_column(h, justify="left" if h == "department" else "right")
    for d in summary["departments"]:
        table.add_row(
            d["department"],
            str(d["handlers"]),
            str(d["on_call"]),
            str(d["due"]),
            _pct(d["on_time_disposal_pct"]),
            _pct(d["overdue_pct"]),
            _pct(d["closing_pct"]),
            _pct(d["rework_pct"]),
            _pct(d["extension_pct"]),
            _pct(d["accurate_dispatch_pct"]),
            f"{d['yellow_cards']}/{d['red_cards']}",
            "-" if d["score"] is None else f"{d['score']:.1f}",
            d["grade"],
            _pct(d["handler_utilization_pct"]),
            str(d["open_at_end"]),
        )
    return table


def _street_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Streets (街道) over the run")
    for h in [
        "street",
        "reported",
        "due",
        "按期处置率\non time",
        "结案率\nclosing",
        "按时立案率\non-time filing",
        "有效上报率\nvalid reports",
        "按期核查率\non-time check",
        "score",
        "grade",
    ]:
        table.add_column(h, justify="left" if h == "street" else "right")
    for s in summary["streets"]:
        table.add_row(
            s["street"],
            str(s["reported"]),
            str(s["due"]),
            _pct(s["on_time_disposal_pct"]),
            _pct(s["closing_pct"]),
            _pct(s["on_time_filing_pct"]),
            _pct(s["valid_report_pct"]),
            _pct(s["on_time_check_pct"]),
            "-" if s["score"] is None else f"{s['score']:.1f}",
            s["grade"],
        )
    return table


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["empty"])
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)


def _print_target(answer: StaffingAnswer) -> None:
    seeds = ", ".join(map(str, answer.seeds))
    if answer.handlers is None:
        best = max(answer.tried, key=lambda c: c.on_time_pct or 0.0)
        console.print(
            f"[bold]{answer.department}[/bold] does not reach {answer.target_pct:g}% on-time "
            f"disposal with up to {best.handlers if answer.tried else 0}+ handlers "
            f"(best {_pct(best.on_time_pct)}); wall-clock cases or weekends may set the limit."
        )
    else:
        console.print(
            f"[bold]{answer.department}[/bold] needs [bold]{answer.handlers}[/bold] office "
            f"handler(s) for on-time disposal ≥ {answer.target_pct:g}% (seed(s) {seeds}):"
        )
    table = Table()
    for h in ("handlers", "on-time disposal", "due cases", "overdue"):
        table.add_column(h, justify="right")
    for cand in answer.tried:
        mark = " ←" if cand.handlers == answer.handlers else ""
        table.add_row(
            f"{cand.handlers}{mark}",
            _pct(cand.on_time_pct),
            str(cand.on_time.of),
            str(cand.overdue),
        )
    console.print(table)


DaysOption = Annotated[
    int | None, typer.Option(min=1, max=366, help="Days to simulate [default: 30]")
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        help="Seed of the district and of every random draw [default: 1]; "
        "the same seed and settings give the same results, byte for byte"
    ),
]
OutOption = Annotated[
    Path, typer.Option(help="Directory for summary.json, the CSV tables and the PNG charts")
]
ReportsOption = Annotated[
    float | None,
    typer.Option(
        min=1, help="Mean reports on a working day [default: 400]; weekends and holidays get fewer"
    ),
]
HandlersOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Office handlers per department, e.g. sanitation=6,urban_law_enforcement=4 "
        "(repeatable; '*=2' sets the default for the others)"
    ),
]
OnCallOption = Annotated[
    list[str] | None,
    typer.Option(
        "--on-call",
        help="24x7 crew per department for cases with wall-clock limits, e.g. drainage=2",
    ),
]
QueueOption = Annotated[
    str | None,
    typer.Option(
        help="Order of a department's queue: fifo (first come, first served) or edf "
        "(earliest disposal deadline first) [default: fifo]"
    ),
]
StartOption = Annotated[
    str | None,
    typer.Option(help="First day, YYYY-MM-DD, in the calendar's zone [default: 2025-03-03]"),
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        help="Staffing question DEPARTMENT:PERCENT, e.g. sanitation:95: the fewest office "
        "handlers that keep the department's on-time disposal at or above PERCENT"
    ),
]
TargetSeedsOption = Annotated[
    int,
    typer.Option(min=1, max=20, help="Seeds pooled for each --target candidate: seed, seed+1, ..."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        exists=True,
        dir_okay=False,
        help="JSON file of settings (the keys of summary.json's config); options win over it",
    ),
]


def simulate(
    days: DaysOption = None,
    seed: SeedOption = None,
    out: OutOption = Path("sim-out"),
    reports_per_day: ReportsOption = None,
    handlers: HandlersOption = None,
    on_call: OnCallOption = None,
    queue: QueueOption = None,
    start: StartOption = None,
    target: TargetOption = None,
    target_seeds: TargetSeedsOption = 1,
    config_file: ConfigOption = None,
) -> None:
    """Simulate the demo district (108 grids) for N days through the real case rules.

    Reports arrive by category and grid with a daily and weekly rhythm; the center, the grid
    workers and each department's handlers (office hours, or on call for wall-clock limits)
    move them through the real decider, deadlines and escalation ladder. Prints KPI tables
    per department and street and writes summary.json, kpi_departments.csv, kpi_streets.csv,
    backlog.png and on_time_daily.png to --out. No database or Temporal needed.
    """
    if queue is not None and queue not in QUEUES:
        _fail(f"--queue must be one of {', '.join(QUEUES)}")
    goal = _target(target) if target else None
    overrides = {
        "days": days,
        "seed": seed,
        "reports_per_day": reports_per_day,
        "queue": queue,
        "start": start,
    }
    config = _config(config_file, overrides, _counts(handlers, "--handlers"))
    if on_call:
        config = SimConfig.from_dict({"on_call": _counts(on_call, "--on-call")}, base=config)
    began = time.perf_counter()
    result = _run(config)
    summary = summarize(result, evaluate(result))
    if goal is not None:
        department, pct = goal
        seeds = tuple(config.seed + i for i in range(target_seeds))
        with err_console.status("searching staffing") as status:
            answer = find_staffing(
                config,
                department,
                pct,
                seeds=seeds,
                progress=lambda m: status.update(m),
                calendar=_calendar(config),
            )
        summary["target"] = answer.to_dict()
    from sim.charts import backlog_chart, on_time_chart  # matplotlib only when writing

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(dumps(summary), encoding="utf-8")
    _write_csv(out / "kpi_departments.csv", summary["departments"])
    _write_csv(out / "kpi_streets.csv", summary["streets"])
    backlog_chart(result, out / "backlog.png")
    on_time_chart(result, summary["daily"], out / "on_time_daily.png")
    run = summary["run"]
    console.print(_department_table(summary))
    console.print(_street_table(summary))
    outcomes = ", ".join(f"{n} {k}" for k, n in run["outcomes"].items())
    console.print(
        f"{run['cases']} cases ({outcomes}), {run['events']} events, {config.days} days from "
        f"{config.start}, seed {config.seed}; {time.perf_counter() - began:.1f}s"
    )
    if goal is not None:
        _print_target(answer)
    files = "summary.json, kpi_departments.csv, kpi_streets.csv, backlog.png, on_time_daily.png"
    console.print(f"written to {out}/: {files}")
