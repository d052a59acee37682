"""`gridcase case …`: the steps of one case (one command per step, derived from its
declaration: ``gridcase.cli_steps``), its timeline, merge candidates."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from application.errors import Unavailable
from application.read_models import case_view, merge_candidates
from application.requests import new_idempotency_key
from application.steps import command_for
from domain.steps import Step
from gridcase.cli_common import (
    ReadAsOption,
    console,
    engine,
    principal,
    refusals,
    run,
    service,
)
from gridcase.cli_steps import register
from gridcase.render import print_case, when
from workflows.types import ActionResult

case_app = typer.Typer(
    help="Act on one case (each step is checked by role and stage).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _act(case_id: str, as_: str, step: Step, values: dict[str, Any], key: str | None) -> None:
    """``step`` with ``values`` through the application service, as the principal behind
    `--as`: jurisdiction, photos, routing and the domain's rules, exactly as for the API.
    The idempotency key makes a retry safe; when the step could not be sent, the line
    says which key to retry with."""
    who = principal(as_)
    with refusals():
        command = command_for(step, values)
    key = key or new_idempotency_key()

    async def take() -> ActionResult:
        try:
            return await service().act(who, case_id, step.name, command, idempotency_key=key)
        except Unavailable as exc:
            hint = f"{exc.message}; retry with --idempotency-key {key} (taken at most once)"
            raise Unavailable(hint, code=exc.code) from None

    result = run(take)
    due = f", due {when(result.stage_due_at)}" if result.stage_due_at else ""
    console.print(
        f"case {case_id}: {', '.join(result.events)} -> stage {result.stage} "
        f"(v{result.version}{due})"
    )


CaseId = Annotated[str, typer.Argument(help="Case id (the report id)")]


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


register(case_app, _act)
