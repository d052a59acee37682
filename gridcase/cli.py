"""The `gridcase` command: run the stack, act on cases, read the record."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import InterfaceError, OperationalError

from application.cases import NewReport
from application.logs import configure_logging
from application.read_models import LateFilters, late_cases
from application.steps import check_report_texts
from domain.events import Location
from domain.roles import Role
from domain.sources import stated_sources
from gridcase.cli_calendar import calendar_app
from gridcase.cli_case import case_app
from gridcase.cli_common import (
    AsOption,
    ReadAsOption,
    console,
    database_down,
    engine,
    err_console,
    fail,
    fresh,
    principal,
    refusals,
    run,
    run_with_client,
    service,
    settings,
)
from gridcase.cli_inbox import inbox_app
from gridcase.cli_kpi import kpi_app
from gridcase.cli_notify import notifications_app, webhooks_app
from gridcase.cli_reference import reference_app
from gridcase.cli_simulate import simulate
from gridcase.cli_users import users_app
from gridcase.render import print_case, print_overdue
from store.access import MissingRoles, render_sql
from store.db import migrate

T = TypeVar("T")

app = typer.Typer(
    help="gridcase: case handling for grid-based governance (网格化社会治理) on Temporal and "
    "PostgreSQL.\n\nStart the stack with `gridcase up`, then act on cases from another shell "
    "in the same directory (or with the same GRIDCASE_HOME / DATABASE_URL / TEMPORAL_ADDRESS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.add_typer(case_app, name="case")
reference_app.add_typer(calendar_app, name="calendar")
app.add_typer(inbox_app, name="inbox")
app.add_typer(reference_app, name="reference")
app.add_typer(kpi_app, name="kpi")
app.add_typer(notifications_app, name="notifications")
app.add_typer(webhooks_app, name="webhooks")
app.command("simulate")(simulate)
app.add_typer(users_app, name="users")


@app.callback()
def _logging() -> None:
    fresh()
    s = settings()
    configure_logging("WARNING" if s.log_level == "INFO" else s.log_level, s.log_format)


@app.command()
def up() -> None:
    """Run the whole stack until Ctrl-C: servers, migrations, workers, the HTTP API.

    Starts the embedded PostgreSQL and Temporal dev server under GRIDCASE_HOME (or uses
    DATABASE_URL and TEMPORAL_ADDRESS), migrates the database (creating the worker and API
    roles), runs one worker process per task queue and the API (the supervision and
    disposal workers and the API each as its database role), and says it is up once the
    API answers /readyz. Whatever dies is restarted (with backoff when it keeps dying).
    Cases in flight resume when it
    is started again.
    """
    from gridcase.stack import up as run_up

    s = settings()
    configure_logging(s.log_level, s.log_format)
    run_up(s, console)


@app.command()
def worker(
    kind: Annotated[
        str, typer.Argument(help="Task queue to serve: cases, supervision or disposal")
    ],
) -> None:
    """Run one worker process (graceful shutdown on SIGTERM/Ctrl-C)."""
    from workers.run import KINDS, serve

    if kind not in KINDS:
        fail(f"unknown worker kind {kind!r}; choose one of {', '.join(KINDS)}")
    s = settings()
    configure_logging(s.log_level, s.log_format)
    asyncio.run(serve(kind, s))


@app.command(name="migrate")
def migrate_cmd(
    print_grants: Annotated[
        bool,
        typer.Option(
            "--print-grants", help="Print the privileges migrate grants (SQL), change nothing"
        ),
    ] = False,
) -> None:
    """Bring the database schema up to date (DATABASE_URL or the embedded server), then the
    side of each event type and the privileges of the worker and API roles
    (GRIDCASE_DB_*_ROLE). Run it as the owner of the schema."""
    s = settings()
    if print_grants:
        typer.echo(render_sql(s.db_roles), nl=False)
        return
    try:
        migrate(s.db_url, s.db_roles)
    except MissingRoles as exc:
        fail(str(exc))
    console.print("database schema, event sides and role privileges are up to date")


@app.command()
def report(
    report_id: Annotated[
        str, typer.Option("--id", help="Client report id; the same id twice is one case")
    ],
    category: Annotated[str, typer.Option(help="Category code, e.g. E0101 (see `reference show`)")],
    description: Annotated[str, typer.Option(help="What is wrong, where")],
    as_: AsOption,
    grid: Annotated[
        str, typer.Option(help="15-digit unit grid code; located from --lon/--lat when omitted")
    ] = "",
    lon: Annotated[float | None, typer.Option(help="WGS84 longitude")] = None,
    lat: Annotated[float | None, typer.Option(help="WGS84 latitude")] = None,
    address: Annotated[str, typer.Option(help="Address text")] = "",
    photo: Annotated[
        list[str] | None,
        typer.Option(help="Photo id (sha256:…) uploaded through the API (repeatable)"),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Intake channel (default: grid_worker for a grid worker, hotline_12345 for "
            "an acceptor). A grid worker reports only as grid_worker; an acceptor from "
            + ", ".join(s.value for s in stated_sources(Role.ACCEPTOR))
        ),
    ] = None,
    self_handled: Annotated[
        str | None,
        typer.Option("--self-handled", help="Fixed on the spot (自行处置): what was done"),
    ] = None,
) -> None:
    """上报: file a report; it becomes a case waiting to be filed (立案). A grid worker
    reports in the grids he patrols (registered, or assigned by the loaded district)."""
    location = None
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            fail("give both --lon and --lat, or neither")
        location = Location(lon=lon, lat=lat, address=address)  # type: ignore[arg-type]
    what = NewReport(
        category=category,
        description=description,
        grid=grid,
        location=location,
        photos=photo or (),
        source=source,
        self_handled=self_handled,
    )
    with refusals():
        check_report_texts(what)  # at the edge: nothing is looked up or started
    who = principal(as_)
    reported = run(lambda: service().report(who, what, report_id))
    if reported.view is None:
        console.print(
            f"case {reported.case_id} is started but its record is not visible yet (is "
            f"`gridcase worker supervision` running?); see `gridcase case show {reported.case_id}`"
        )
        return
    verb = "reported" if reported.created else "already reported (same report, same case)"
    console.print(
        f"case {reported.case_id} {verb} in grid {reported.grid}, stage "
        f"{reported.view.row['stage']}; workflow {reported.workflow_id}"
    )


@app.command()
def overdue(
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_: ReadAsOption = None,
    street: Annotated[str, typer.Option(help="9-digit street code")] = "",
    community: Annotated[str, typer.Option(help="12-digit community code")] = "",
    grid: Annotated[str, typer.Option(help="15-digit unit grid code")] = "",
    department: str = "",
    category: str = "",
    stage: str = "",
    at_risk: Annotated[bool, typer.Option(help="Also yellow cases not yet due")] = False,
) -> None:
    """List open cases whose current stage is past its deadline, most late first (the
    same list as the API's /v1/cases/overdue)."""
    now = datetime.now(UTC)
    filters = LateFilters(
        street=street,
        community=community,
        grid=grid,
        department=department,
        category=category,
        stage=stage,
        at_risk=at_risk,
    )
    who = principal(as_)
    with refusals():
        rows, _ = late_cases(engine(), who, filters, now, limit, 0)
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False))
    else:
        print_overdue(console, rows, now)


@app.command("rebuild-projections")
def rebuild_projections(
    apply: Annotated[
        bool, typer.Option(help="Replace the live tables (cases, kpi_facts) with the rebuild")
    ] = False,
    processes: Annotated[
        int, typer.Option(min=1, help="Fold in this many processes (default: one per core)")
    ] = os.cpu_count() or 1,
) -> None:
    """Fold every case's events again and report any difference from the live projections
    (the cases table and the evaluation facts, kpi_facts)."""
    from rich.progress import Progress

    from store.projections import rebuild_cases

    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task(f"rebuilding in {processes} process(es)", total=None)
        result = rebuild_cases(
            engine(),
            apply=apply,
            progress=lambda n: progress.advance(task, n),
            processes=processes,
        )
    console.print(
        f"{result.cases} cases, {result.events} events in {result.seconds:.2f}s "
        f"({result.events_per_second:,.0f} events/s)"
    )
    for d in result.differences[:50]:
        console.print(f"  differs: {d.case_id}.{d.column}: live {d.live!r}, rebuilt {d.rebuilt!r}")
    for case_id in result.missing[:50]:
        console.print(f"  missing in the live table: {case_id}")
    for case_id in result.extra[:50]:
        console.print(f"  live row with no events: {case_id}")
    for case_id in result.kpi_missing[:50]:
        console.print(f"  missing in kpi_facts: {case_id}")
    for case_id in result.kpi_extra[:50]:
        console.print(f"  kpi_facts row with no events: {case_id}")
    if result.clean:
        console.print("live projection equals the rebuild")
    elif result.applied:
        console.print("live projection replaced by the rebuild")
    else:
        console.print("differences found; run with --apply to replace the live projection")
        raise typer.Exit(1)


@app.command()
def demo(
    batch: Annotated[
        int, typer.Option(help="Run this many cases through a mix of side paths instead")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the batch's random choices")] = 0,
    drill: Annotated[
        bool, typer.Option(help="Deadlines of seconds, so yellow/red/cards happen during the run")
    ] = False,
) -> None:
    """Drive one case from report to close through the running stack and print its timeline;
    with --batch N, a mixed batch over the demo district (seeded when none is loaded)."""
    from gridcase.demo import run_batch, run_demo

    if batch > 0:
        done = run_with_client(
            lambda cl: run_batch(cl, console, size=batch, seed=seed, drill=drill)
        )
        console.print(f"{sum(done.values())} cases run through the stack:")
        for scenario, n in sorted(done.items()):
            console.print(f"  {n:>4} × {scenario}")
        console.print(
            "See `gridcase overdue`, `gridcase kpi table --by department` and the Temporal UI."
        )
        return
    row, records = run_with_client(lambda cl: run_demo(cl, console))
    print_case(console, row, records)


def main() -> Any:
    try:
        return app()
    except (OperationalError, InterfaceError) as exc:
        # A read (case show, overdue, kpi, notifications, users …) found PostgreSQL down:
        # say which and how to start it, not a traceback.
        err_console.print(f"[red]error:[/red] {database_down(exc)}")
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
