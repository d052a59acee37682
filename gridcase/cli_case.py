"""`gridcase case …`: the steps of one case, its timeline, merge candidates."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from application.read_models import case_view, merge_candidates
from domain import commands as c
from gridcase.cli_common import (
    AsOption,
    ReadAsOption,
    actor,
    console,
    engine,
    principal,
    refusals,
    run,
    service,
)
from gridcase.cli_steps import register
from gridcase.render import print_case, when
from workflows.steps import STEP_OF

case_app = typer.Typer(
    help="Act on one case (each step is checked by role and stage).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _act(case_id: str, command: c.Command) -> None:
    """The step of ``command`` through the application service, as the principal its
    actor was parsed from (`--as`): jurisdiction, photos, routing and the domain's rules,
    exactly as for the API."""
    who = principal(str(command.actor))
    result = run(lambda: service().act(who, case_id, STEP_OF[type(command)], command))
    due = f", due {when(result.stage_due_at)}" if result.stage_due_at else ""
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
    case_id: CaseId,
    as_: AsOption,
    department: Annotated[
        str, typer.Option(help="Department code; routing's suggestion when omitted")
    ] = "",
    note: str = "",
) -> None:
    """派遣: send the case to a department (dispatcher); routing suggests one (and without
    --department, a case routing has no department for is refused)."""
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
def show(
    case_id: CaseId,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_: ReadAsOption = None,
) -> None:
    """Show a case and its timeline, read from the event log."""
    who = principal(as_)
    with refusals():
        view = case_view(engine(), who, case_id)
    if as_json:
        body = {"case": view.row, "events": view.records}
        print(json.dumps(body, default=str, ensure_ascii=False))
    else:
        print_case(console, view.row, view.records)


@case_app.command()
def candidates(
    case_id: CaseId,
    radius: Annotated[float, typer.Option(help="Metres around the case's point")] = 200.0,
    as_: ReadAsOption = None,
) -> None:
    """Open cases of the same category nearby: duplicates to merge (合并)."""
    who = principal(as_)
    with refusals():
        rows = merge_candidates(engine(), who, case_id, radius_m=radius)
    if not rows:
        console.print(f"no open {radius:.0f} m neighbours of the same category")
    for r in rows:
        console.print(
            f"{r['case_id']}  {r['distance_m']:>7.1f} m  stage {r['stage']}  {r['description']}"
        )


register(case_app, _act, actor)
