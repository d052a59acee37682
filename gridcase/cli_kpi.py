"""`gridcase kpi`: evaluation tables (综合评价) computed from the event log."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from application.read_models import kpi_table as read_kpi_table
from application.read_models import ranking
from domain.kpi import RATES, KpiRow, ObjectKind, PeriodKind
from gridcase.cli_common import ReadAsOption, engine, principal, refusals
from store.kpi import KpiTable

kpi_app = typer.Typer(
    help="Evaluation (综合评价): rates, scores and grades per department, region or grid "
    "worker, recomputed from the event log on every call. Definitions: domain/kpi.py.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)

PeriodOption = Annotated[PeriodKind, typer.Option("--period", help="day, week or month")]
DateOption = Annotated[
    str | None,
    typer.Option("--date", help="A date inside the period, YYYY-MM-DD (default: today)"),
]
ByOption = Annotated[
    ObjectKind,
    typer.Option("--by", help="department, grid, community, street or grid_worker"),
]
WeightOption = Annotated[
    list[str] | None,
    typer.Option(
        "--weight",
        help="Score weight as component=weight, repeatable; replaces the defaults, e.g. "
        "--weight closing=0.5 --weight on_time_disposal=0.5",
    ),
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to FILE")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


# Why a table of cases just run (e.g. by `gridcase demo --batch --drill`) has no figures.
NOTHING_DUE_YET = (
    "no rate yet (-): a case counts once the deadline a rate is anchored on has passed "
    "(the disposal deadline for most, the filing deadline for on-time filing), and none "
    "has in this period so far. Cases reported a moment ago count when their deadlines "
    "pass; run this again then (with --drill, a minute or two)."
)


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _weights(items: list[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    weights: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            _fail(f"--weight {item!r} is not component=number")
    return weights


def _table(
    period: PeriodKind,
    day: str | None,
    by: ObjectKind,
    weights: list[str] | None,
    as_: str | None,
) -> tuple[KpiTable, list[KpiRow]]:
    """The table and the rows the caller may see, best score first (the API's read)."""
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        _fail(f"--date {day!r} is not a date YYYY-MM-DD")
        raise
    who = principal(as_)
    with refusals():
        return read_kpi_table(engine(), who, period, when, by, datetime.now(UTC), _weights(weights))
    raise AssertionError("unreachable")


def _rate_names(by: ObjectKind) -> list[str]:
    return [n for n in RATES if n != "missed_report" or by is ObjectKind.GRID_WORKER]


def row_record(row: KpiRow, rank: int) -> dict[str, Any]:
    """One row as plain JSON-ready values: rates as fractions with their counts."""
    record: dict[str, Any] = {
        "rank": rank,
        "period": row.period.label,
        "object_kind": row.object_kind.value,
        "object": row.key,
        "score": None if row.score is None else round(row.score, 2),
        "grade": row.grade,
        **row.counts,
    }
    for name in _rate_names(row.object_kind):
        ratio = row.rates[name]
        record[name] = None if ratio.value is None else round(ratio.value, 4)
        record[f"{name}_hits"], record[f"{name}_of"] = ratio.hits, ratio.of
    return record


def _show(
    table: KpiTable, rows: list[KpiRow], ranks: list[int], csv_file: Path | None, as_json: bool
) -> None:
    records = [row_record(r, n) for r, n in zip(rows, ranks, strict=True)]
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as stream:
            names = list(records[0]) if records else ["rank", "object", "score", "grade"]
            writer = csv.DictWriter(stream, fieldnames=names)
            writer.writeheader()
            writer.writerows({k: "-" if v is None else v for k, v in r.items()} for r in records)
    if as_json:
        print(json.dumps(records, ensure_ascii=False))
        return
    period = table.periods[0]
    title = (
        f"{table.object_kind.value} · {period.kind.value} {period.label} · "
        f"{table.cases_read} cases read"
    )
    out = Table(title=title)
    for heading in ("#", table.object_kind.value, "score", "grade", "due", "cards"):
        out.add_column(heading, justify="left" if heading == table.object_kind.value else "right")
    # Rates nothing was counted for (e.g. intake rates of departments) get no column.
    names = [n for n in _rate_names(table.object_kind) if any(r.rates[n].of for r in rows)]
    for name in names:
        out.add_column(f"{RATES[name]}\n{name}", justify="right")
    for row, rank in zip(rows, ranks, strict=True):
        score = "-" if row.score is None else f"{row.score:.1f}"
        cards = f"{row.counts['yellow_cards']}/{row.counts['red_cards']}"
        cells = [str(rank), row.key, score, row.grade, str(row.counts["due"]), cards]
        out.add_row(*cells, *(str(row.rates[n]) for n in names))
    console.print(out)
    if not rows:
        console.print("nothing to evaluate in this period", markup=False)
    elif all(row.score is None for row in rows):
        console.print(NOTHING_DUE_YET, markup=False)


@kpi_app.command("table")
def kpi_table(
    period: PeriodOption = PeriodKind.MONTH,
    day: DateOption = None,
    by: ByOption = ObjectKind.DEPARTMENT,
    weight: WeightOption = None,
    csv_file: CsvOption = None,
    as_json: JsonOption = False,
    as_: ReadAsOption = None,
) -> None:
    """Every object of the period, best score first, with grade and every rate (- when
    nothing was due)."""
    table, rows = _table(period, day, by, weight, as_)
    _show(table, rows, list(range(1, len(rows) + 1)), csv_file, as_json)


@kpi_app.command("ranking")
def kpi_ranking(
    period: PeriodOption = PeriodKind.MONTH,
    day: DateOption = None,
    by: ByOption = ObjectKind.DEPARTMENT,
    top: Annotated[int, typer.Option("--top", help="How many from the top")] = 5,
    bottom: Annotated[int, typer.Option("--bottom", help="How many from the bottom")] = 5,
    weight: WeightOption = None,
    csv_file: CsvOption = None,
    as_json: JsonOption = False,
    as_: ReadAsOption = None,
) -> None:
    """The best and the worst scored objects of the period (unscored ones left out)."""
    table, rows = _table(period, day, by, weight, as_)
    kept = ranking(rows, top, bottom)
    _show(table, [r for _, r in kept], [rank for rank, _ in kept], csv_file, as_json)
