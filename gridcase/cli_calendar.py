"""`gridcase reference calendar …`: the working calendar's holiday notices (节假日安排).

Each year is official (a State Council notice: shipped, in GRIDCASE_CALENDAR, or imported
here) or provisional (the statutory holidays estimated by the `holidays` library, with no
swapped workdays). New cases record the calendar in force when they are reported; an import
never moves the deadlines of cases already running.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from application.config import ConfigError
from domain.calendar import describe_years
from domain.holiday_notices import (
    HolidayYear,
    InvalidNotice,
    YearStatus,
    official_data_warning,
    parse_notice,
)
from gridcase.cli_common import settings
from gridcase.cli_reference import console, database, fail, read_json
from store.calendar import calendar_sources, import_notice, today
from store.calendar_sources import CASE_YEARS, FIRST_YEAR, LAST_YEAR, CalendarSources

calendar_app = typer.Typer(
    help="The working calendar (工作日历): holidays (放假) and swapped workdays (调休上班) per "
    "year. Official years come from State Council notices (shipped, GRIDCASE_CALENDAR, or "
    "imported here); every other year is provisional, estimated by the `holidays` library. "
    "The file format is in docs/calendar.md.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

STATUS_LABELS = {YearStatus.OFFICIAL: "official 正式", YearStatus.PROVISIONAL: "provisional 暂定"}


@calendar_app.command("import")
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            show_default=False,
            help='Notice JSON: {"years": {"2027": {"source", "holidays": [{"name", "first", '
            '"last", "workdays"}]}}} (docs/calendar.md)',
        ),
    ],
) -> None:
    """Import an official holiday notice (one or more years) as a new calendar version.

    Its years replace what was in force for them (provisional or an older notice) for
    cases reported from now on; cases already running keep the calendar they were
    reported with. The same notice twice changes nothing.
    """
    try:
        years = parse_notice(read_json(file))
    except InvalidNotice as exc:
        fail(f"{file}: notice refused: {exc}")
    base = _base()
    with database() as engine:
        before = calendar_sources(engine, base)
        result = import_notice(engine, years, source=str(file))
    if not result.changed:
        console.print(
            f"calendar 工作日历: unchanged, these years already stand as given "
            f"(version {result.version})"
        )
        return
    console.print(f"calendar 工作日历: imported as version {result.version}", highlight=False)
    for entry in years:
        was = before.year(entry.year)
        console.print(
            f"  {entry.year}: official 正式, {len(entry.holidays)} rest periods, "
            f"{len(entry.workdays)} swapped workdays; replaces {_describe(was)}",
            highlight=False,
        )
    console.print(
        "cases reported from now on use it; running cases keep the calendar they were reported with"
    )


@calendar_app.command()
def show(
    year: Annotated[
        int | None,
        typer.Option(
            min=FIRST_YEAR, max=LAST_YEAR, help="Only this year [default: every known year]"
        ),
    ] = None,
) -> None:
    """What is known per year: official or provisional, rest periods (放假), swapped
    workdays (调休上班), calendar version and source; and a warning when the official
    data ends within 60 days."""
    base = _base()
    with database() as engine:
        sources = calendar_sources(engine, base)
    on = today()
    if year is None:
        wanted = sorted(set(sources.official) | set(range(on.year, on.year + CASE_YEARS)))
    else:
        wanted = [year]
    table = Table(
        "year 年度",
        "status 状态",
        "rest periods 放假",
        "swapped workdays 调休上班",
        "version 版本",
        "source 来源",
        title="working calendar 工作日历",
    )
    for y in wanted:
        entry = sources.year(y)
        table.add_row(
            str(y),
            STATUS_LABELS[entry.status],
            "\n".join(_period(h.name, h.first, h.last) for h in entry.holidays),
            ", ".join(f"{d:%m-%d} ({d:%a})" for d in sorted(entry.workdays)) or "none 无",
            _version(entry),
            entry.source,
        )
    console.print(table)
    _status(sources, on)


def _status(sources: CalendarSources, on: date) -> None:
    window = sources.for_cases(on)
    console.print(
        f"new cases record {describe_years(window.years)}: official "
        f"{describe_years(window.official_years) or 'none'}, provisional "
        f"{describe_years(window.provisional_years) or 'none'}",
        highlight=False,
    )
    warning = official_data_warning(window, on)
    if warning is not None:
        console.print(f"[yellow]warning:[/yellow] {warning.message}", highlight=False)


def _base() -> tuple[HolidayYear, ...]:
    try:
        return settings().calendar_notices()
    except ConfigError as exc:
        fail(str(exc))
        raise


def _period(name: str, first: date, last: date) -> str:
    return f"{name} {first:%m-%d}" if first == last else f"{name} {first:%m-%d}–{last:%m-%d}"


def _version(entry: HolidayYear) -> str:
    if entry.status is YearStatus.PROVISIONAL:
        return "—"
    return str(entry.version) if entry.version else "base 基础"


def _describe(entry: HolidayYear) -> str:
    if entry.status is YearStatus.PROVISIONAL:
        return "provisional data"
    return f"the notice of version {entry.version}" if entry.version else "the base notice"
