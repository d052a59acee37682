"""The `gridcase` command: run the stack, act on cases, read the record."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from temporalio.client import Client
from temporalio.service import RPCError

from domain import commands as c
from domain.errors import DomainError
from domain.events import Location
from domain.roles import Actor
from gridcase.config import ConfigError, Settings
from gridcase.logs import configure_logging
from gridcase.render import print_case, print_overdue
from store.db import make_engine, migrate
from store.errors import CaseNotFound as StoreCaseNotFound
from store.event_store import EventStore
from workflows import client as cases

T = TypeVar("T")

app = typer.Typer(
    help="gridcase: case handling for grid-based governance (网格化社会治理) on Temporal and "
    "PostgreSQL.\n\nStart the stack with `gridcase up`, then act on cases from another shell "
    "in the same directory (or with the same GRIDCASE_HOME / DATABASE_URL / TEMPORAL_ADDRESS).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
case_app = typer.Typer(
    help="Act on one case (each step is checked by role and stage).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(case_app, name="case")

# Wide enough for a timeline when the output is a pipe or a file; no wrapping of paths.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

AsOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who acts, as role:id\\[@unit], e.g. shift_leader:lead-01 or handler:h-07@sanitation. "
        "Roles: grid_worker, acceptor, shift_leader, dispatcher, handler, supervisor.",
    ),
]


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
        raise


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def actor(text: str) -> Actor:
    try:
        return Actor.parse(text)
    except ValueError as exc:
        fail(str(exc))
        raise


async def connect(s: Settings) -> Client:
    try:
        return await Client.connect(s.temporal_target, namespace=s.temporal_namespace)
    except RuntimeError as exc:
        fail(f"cannot reach Temporal at {s.temporal_target} ({exc}); is `gridcase up` running?")
        raise


def run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect to Temporal, run ``work``, and turn refusals into clear one-line errors."""

    async def main() -> T:
        return await work(await connect(settings()))

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(f"refused ({exc.code}): {exc.message}")
    except (cases.CaseNotFound, cases.DuplicateReport) as exc:
        fail(str(exc))
    except RPCError as exc:
        fail(f"Temporal refused the call: {exc.message}")
    raise AssertionError("unreachable")


def store() -> EventStore:
    return EventStore(make_engine(settings().db_url, pool_size=2))


@app.callback()
def _logging() -> None:
    s = settings()
    configure_logging("WARNING" if s.log_level == "INFO" else s.log_level, s.log_format)


@app.command()
def up() -> None:
    """Run the whole stack until Ctrl-C: servers, migrations, workers.

    Starts the embedded PostgreSQL and Temporal dev server under GRIDCASE_HOME (or uses
    DATABASE_URL and TEMPORAL_ADDRESS), migrates the database and runs one worker process
    per task queue. Cases in flight resume when it is started again.
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
def migrate_cmd() -> None:
    """Bring the database schema up to date (DATABASE_URL or the embedded server)."""
    migrate(settings().db_url)
    console.print("database schema is up to date")


@app.command()
def report(
    report_id: Annotated[
        str, typer.Option("--id", help="Client report id; the same id twice is one case")
    ],
    category: Annotated[str, typer.Option(help="Category code, e.g. E0101")],
    grid: Annotated[str, typer.Option(help="15-digit unit grid code")],
    description: Annotated[str, typer.Option(help="What is wrong, where")],
    as_: AsOption,
    lon: Annotated[float | None, typer.Option(help="WGS84 longitude")] = None,
    lat: Annotated[float | None, typer.Option(help="WGS84 latitude")] = None,
    address: Annotated[str, typer.Option(help="Address text")] = "",
    photo: Annotated[list[str] | None, typer.Option(help="Photo reference (repeatable)")] = None,
    source: Annotated[str, typer.Option(help="Intake channel")] = "grid_worker",
) -> None:
    """上报: file a report; it becomes a case waiting to be filed (立案)."""
    location = None
    if lon is not None or lat is not None:
        if lon is None or lat is None:
            fail("give both --lon and --lat, or neither")
        location = Location(lon=lon, lat=lat, address=address)  # type: ignore[arg-type]
    command = c.ReportCase(
        actor=actor(as_),
        category=category,
        grid=grid,
        description=description,
        location=location,
        photos=tuple(photo or ()),
        source=source,
    )
    receipt = run(lambda cl: cases.report_case(cl, report_id, command, datetime.now(UTC)))
    verb = "reported" if receipt.created else "already reported (same report, same case)"
    console.print(f"case {receipt.case_id} {verb}; workflow {receipt.workflow_id}")


def _act(case_id: str, command: c.Command) -> None:
    result = run(lambda cl: cases.act(cl, case_id, command))
    due = f", due {result.stage_due_at.astimezone():%Y-%m-%d %H:%M}" if result.stage_due_at else ""
    console.print(
        f"case {case_id}: {', '.join(result.events)} -> stage {result.stage} "
        f"(v{result.version}{due})"
    )


CaseId = Annotated[str, typer.Argument(help="Case id (the report id)")]


@case_app.command("file")
def file_(case_id: CaseId, as_: AsOption, note: str = "") -> None:
    """立案: file the case (acceptor or shift leader)."""
    _act(case_id, c.FileCase(actor=actor(as_), note=note))


@case_app.command()
def reject(case_id: CaseId, as_: AsOption, reason: Annotated[str, typer.Option()]) -> None:
    """不予立案: reject the report with a reason (acceptor or shift leader)."""
    _act(case_id, c.RejectCase(actor=actor(as_), reason=reason))


@case_app.command()
def dispatch(
    case_id: CaseId, as_: AsOption, department: Annotated[str, typer.Option()], note: str = ""
) -> None:
    """派遣: send the case to a department (dispatcher)."""
    _act(case_id, c.DispatchCase(actor=actor(as_), department=department, note=note))


@case_app.command("sign-for")
def sign_for(case_id: CaseId, as_: AsOption) -> None:
    """签收: the department acknowledges the task (its handler)."""
    _act(case_id, c.SignFor(actor=actor(as_)))


@case_app.command()
def feedback(
    case_id: CaseId,
    as_: AsOption,
    result: Annotated[str, typer.Option(help="What was done")],
    photo: Annotated[list[str] | None, typer.Option(help="Photo reference (repeatable)")] = None,
) -> None:
    """处理反馈: report the result (the department's handler)."""
    _act(case_id, c.SubmitFeedback(actor=actor(as_), result=result, photos=tuple(photo or ())))


@case_app.command()
def check(
    case_id: CaseId,
    as_: AsOption,
    passed: Annotated[bool, typer.Option("--pass/--fail", help="Did the re-check find it solved?")],
    note: str = "",
) -> None:
    """核查: re-check on site (grid worker); --fail sends it back for rework (返工)."""
    _act(case_id, c.RecordClosureCheck(actor=actor(as_), passed=passed, note=note))


@case_app.command()
def close(case_id: CaseId, as_: AsOption, note: str = "") -> None:
    """结案: close the case (shift leader)."""
    _act(case_id, c.CloseCase(actor=actor(as_), note=note))


@case_app.command()
def show(case_id: CaseId, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a case and its timeline, read from the event log."""
    st = store()
    try:
        row = st.case(case_id)
    except StoreCaseNotFound as exc:
        fail(str(exc))
        raise
    records = st.records(case_id)
    if as_json:
        print(json.dumps({"case": row, "events": records}, default=str, ensure_ascii=False))
    else:
        print_case(console, row, records)


@app.command()
def overdue(
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List open cases whose current stage is past its deadline, most late first."""
    now = datetime.now(UTC)
    rows = store().overdue(now, limit=limit)
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False))
    else:
        print_overdue(console, rows, now)


@app.command()
def notifications(case_id: Annotated[str | None, typer.Option("--case")] = None) -> None:
    """Notices left for supervision (e.g. overdue stages)."""
    for n in store().notifications(case_id):
        console.print(f"{n['created_at']:%Y-%m-%d %H:%M:%S} [{n['kind']}] {n['message']}")


@app.command("rebuild-projections")
def rebuild_projections(
    apply: Annotated[bool, typer.Option(help="Replace the live tables with the rebuild")] = False,
) -> None:
    """Fold every case's events again and report any difference from the live projection."""
    from rich.progress import Progress

    from store.projections import rebuild_cases

    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("rebuilding", total=None)
        result = rebuild_cases(
            store().engine, apply=apply, progress=lambda n: progress.advance(task, n)
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
    if result.clean:
        console.print("live projection equals the rebuild")
    elif result.applied:
        console.print("live projection replaced by the rebuild")
    else:
        console.print("differences found; run with --apply to replace the live projection")
        raise typer.Exit(1)


@app.command()
def demo() -> None:
    """Drive one case from report to close through the running stack; print its timeline."""
    from gridcase.demo import run_demo

    row, records = run(lambda cl: run_demo(cl, console))
    print_case(console, row, records)


def main() -> Any:
    return app()


if __name__ == "__main__":
    sys.exit(main())
