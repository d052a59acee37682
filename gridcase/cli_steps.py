"""`gridcase case …` side-path steps: verification, self-handling review, cancel, merge,
return, extension, suspension, urge, supervise. Registered on the `case` sub-command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from domain import commands as c
from domain.roles import Actor
from domain.stages import SupervisionLevel

Act = Callable[[str, c.Command], None]
ParseActor = Callable[[str], Actor]

CaseId = Annotated[str, typer.Argument(help="Case id (the report id)")]
As = Annotated[str, typer.Option("--as", help="Who acts, as role:id\\[@unit]")]
Approve = Annotated[bool, typer.Option("--approve/--deny", help="Approve or deny the request")]
Note = Annotated[str, typer.Option(help="Note (required when denying)")]
Reason = Annotated[str, typer.Option(help="Why (required)")]
Message = Annotated[str, typer.Option(help="Message to the holder of the case")]


def register(case_app: typer.Typer, act: Act, actor: ParseActor) -> None:
    @case_app.command("request-verification")
    def request_verification(
        case_id: CaseId, as_: As, assignee: Annotated[str, typer.Option(help="Grid worker id")]
    ) -> None:
        """核实: send a grid worker to look on site (public reports)."""
        act(case_id, c.RequestVerification(actor=actor(as_), assignee=assignee))

    @case_app.command("verify")
    def verify(
        case_id: CaseId,
        as_: As,
        confirmed: Annotated[bool, typer.Option("--confirmed/--refuted")],
        note: Note = "",
    ) -> None:
        """核实 result, by the assigned grid worker."""
        act(case_id, c.RecordVerification(actor=actor(as_), confirmed=confirmed, note=note))

    @case_app.command("review-self-handling")
    def review_self_handling(case_id: CaseId, as_: As, approve: Approve, note: Note = "") -> None:
        """Accept or refuse a grid worker's self-handling (自行处置)."""
        act(case_id, c.ReviewSelfHandling(actor=actor(as_), approve=approve, note=note))

    @case_app.command()
    def cancel(case_id: CaseId, as_: As, reason: Reason) -> None:
        """作废: cancel a filed case (shift leader)."""
        act(case_id, c.CancelCase(actor=actor(as_), reason=reason))

    @case_app.command()
    def merge(
        case_id: CaseId,
        as_: As,
        into: Annotated[str, typer.Option(help="The open case to merge into")],
        note: Note = "",
    ) -> None:
        """合并: merge this duplicate into an open case."""
        act(case_id, c.MergeCase(actor=actor(as_), into=into, note=note))

    @case_app.command("request-return")
    def request_return(case_id: CaseId, as_: As, reason: Reason) -> None:
        """回退: the department says the case is not its remit."""
        act(case_id, c.RequestReturn(actor=actor(as_), reason=reason))

    @case_app.command("decide-return")
    def decide_return(case_id: CaseId, as_: As, approve: Approve, note: Note = "") -> None:
        """Approve (back to dispatch) or deny a return (dispatcher, shift leader)."""
        act(case_id, c.DecideReturn(actor=actor(as_), approve=approve, note=note))

    @case_app.command("request-extension")
    def request_extension(
        case_id: CaseId,
        as_: As,
        reason: Reason,
        amount: Annotated[str, typer.Option(help='e.g. "2 working_days", "4 working_hours"')],
    ) -> None:
        """延期: ask for more time (at most one for ordinary cases)."""
        act(case_id, c.RequestExtension(actor=actor(as_), reason=reason, amount=amount))

    @case_app.command("decide-extension")
    def decide_extension(case_id: CaseId, as_: As, approve: Approve, note: Note = "") -> None:
        """Approve (the deadline moves) or deny an extension (dispatcher, shift leader)."""
        act(case_id, c.DecideExtension(actor=actor(as_), approve=approve, note=note))

    @case_app.command("request-suspension")
    def request_suspension(case_id: CaseId, as_: As, reason: Reason) -> None:
        """挂账: the work cannot be done now (seasonal, engineering)."""
        act(case_id, c.RequestSuspension(actor=actor(as_), reason=reason))

    @case_app.command("decide-suspension")
    def decide_suspension(case_id: CaseId, as_: As, approve: Approve, note: Note = "") -> None:
        """Approve (the clock stops) or deny a suspension (dispatcher, leader)."""
        act(case_id, c.DecideSuspension(actor=actor(as_), approve=approve, note=note))

    @case_app.command()
    def resume(case_id: CaseId, as_: As, note: Note = "") -> None:
        """End a suspension: the clock runs again with the time that was left."""
        act(case_id, c.ResumeCase(actor=actor(as_), note=note))

    @case_app.command()
    def urge(case_id: CaseId, as_: As, message: Message) -> None:
        """催办: remind whoever holds the case (supervisor, leader)."""
        act(case_id, c.UrgeCase(actor=actor(as_), message=message))

    @case_app.command()
    def supervise(
        case_id: CaseId,
        as_: As,
        message: Message,
        level: Annotated[SupervisionLevel, typer.Option(help="ordinary, yellow or red")] = (
            SupervisionLevel.ORDINARY
        ),
    ) -> None:
        """督办: a formal order to the department, which must reply."""
        act(case_id, c.SuperviseCase(actor=actor(as_), level=level, message=message))

    @case_app.command("reply")
    def reply(case_id: CaseId, as_: As, text: Annotated[str, typer.Option("--text")]) -> None:
        """Reply to a 督办 (the department's handler)."""
        act(case_id, c.ReplyToSupervision(actor=actor(as_), reply=text))
