"""`gridcase inbox …`: the work queues, the same reads as the API's (``/v1/tasks``,
``/v1/inbox/center``, ``/v1/inbox/department``), as someone (`--as`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from application.read_models import (
    CenterQueue,
    DepartmentQueue,
    Row,
    center_inbox,
    department_inbox,
    tasks,
)
from gridcase.cli_common import AsOption, console, engine, principal, refusals
from gridcase.render import stage_label, when

inbox_app = typer.Typer(
    help="Work queues: a grid worker's tasks, the center's queues, a department's cases.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
Limit = Annotated[int, typer.Option(min=1, max=500, help="At most this many")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON rows")]


def _show(rows: list[Row], total: int, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False))
        return
    table = Table(title=f"{title}: {len(rows)} of {total}", title_justify="left")
    for column in ("case", "stage", "due", "light", "department", "grid", "category"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["case_id"],
            stage_label(r["stage"]) + (f" ({r['task']})" if "task" in r else ""),
            when(r["stage_due_at"]),
            r["light"],
            r["department"] or "-",
            r["grid"],
            r["category"],
        )
    console.print(table)


@inbox_app.command("tasks")
def my_tasks(as_: AsOption, limit: Limit = 50, as_json: Json = False) -> None:
    """A grid worker's verify (核实) and check (核查) tasks, the soonest due first."""
    who = principal(as_)
    with refusals():
        rows, total = tasks(engine(), who, limit, 0)
    _show(rows, total, as_json, f"tasks of {who.user_id}")


@inbox_app.command("center")
def center(
    as_: AsOption,
    queue: Annotated[CenterQueue, typer.Option(help="to_file, to_dispatch, requests or to_close")],
    limit: Limit = 50,
    as_json: Json = False,
) -> None:
    """The center's queues: to file (and self-handling to review), to dispatch, requests
    to decide; the soonest due first."""
    who = principal(as_)
    with refusals():
        rows, total = center_inbox(engine(), who, queue, limit, 0)
    _show(rows, total, as_json, f"center queue {queue.value}")


@inbox_app.command("department")
def department(
    as_: AsOption,
    queue: Annotated[
        DepartmentQueue | None, typer.Option(help="to_sign_for or in_hand; both if omitted")
    ] = None,
    limit: Limit = 50,
    as_json: Json = False,
) -> None:
    """A handler's department's cases to sign for (待签收) and in hand (处置中): overdue
    first, then by due time."""
    who = principal(as_)
    with refusals():
        rows, total = department_inbox(engine(), who, "", queue, datetime.now(UTC), limit, 0)
    _show(rows, total, as_json, f"department {who.units[0] if who.units else '-'}")
