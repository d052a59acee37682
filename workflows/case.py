"""CaseWorkflow: one durable workflow per case, the single writer of the case's stream.

Human steps arrive as updates (one dynamic handler; ``workflows.steps`` names them). Each
update's validator runs the pure domain decider, so a refused step writes nothing to
history and the caller gets the domain's reason. An accepted step is decided again under a
lock (commands are applied one at a time), appended through a supervision or disposal
activity, folded into the state, and published as search attributes. Between steps the
workflow waits for the next one or for the next moment of the escalation ladder
(``domain.timers.next_timer``), whichever comes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import legacy
    from activities.types import (
        AppendInput,
        AppendResult,
        MergeTargetInput,
        StepRequest,
        TaskQueues,
    )
    from domain import commands as c
    from domain.case import CaseState, decide, evolve, initial_state
    from domain.codec import to_record
    from domain.errors import DeadlineNotReached, DomainError, InvalidCommand, WrongStage
    from domain.events import Event
    from domain.roles import SYSTEM_ACTOR
    from domain.steps import Side, step_of
    from domain.timers import Timer, next_timer
    from workflows import search_attributes as sa
    from workflows.steps import DUPLICATE_SIGNAL, HUMAN_STEPS, REPORT_UPDATE
    from workflows.types import ActionResult, CaseInput, CaseResult, CaseView, ReportResult

# An activity appends a few events in one transaction: milliseconds. When its worker dies
# mid-task, Temporal learns it only when this timeout expires, so it bounds how long a step
# waits for a restarted worker; a slow attempt cut short is retried, and appends are
# idempotent. No schedule-to-start timeout: a task waiting in the queue for a restarting
# worker is what should happen, and that timeout is not retried (the step would fail).
ACTIVITY_TIMEOUT = timedelta(seconds=5)
# Short backoff, capped low: once PostgreSQL or a worker is back, steps resume within seconds.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
)
# Cases started before the escalation ladder only mark overdue stages.
LADDER_PATCH = "escalation-ladder"
# Cases started before it append each step's events through the activity that
# activities.legacy names; since, through their side's one append.
SIDE_PATCH = "append-by-side"
# Cases started before it accepted input the rules of domain.inputs now refuse: their
# history replays as decided then. Validators (never replayed) always check.
INPUT_RULES_PATCH = "input-rules"

APPEND_OF_SIDE: dict[Side, tuple[str, str]] = {
    Side.SUPERVISION: ("append_supervision", TaskQueues.SUPERVISION),
    Side.DISPOSAL: ("append_disposal", TaskQueues.DISPOSAL),
}


def append_activity(command: type[c.Command], patched: bool) -> tuple[str, str]:
    """The activity (and its task queue) that appends the events of ``command``: its side's
    append, or in a case started before SIDE_PATCH the old per-step activity. Total over
    every declared command: a missing entry must never wedge a case in flight."""
    name, queue = APPEND_OF_SIDE[step_of(command).side]
    if not patched:
        name = legacy.ACTIVITY_OF_COMMAND.get(command.__name__, name)
    return name, queue


def overdue_only_timer(state: CaseState) -> Timer | None:
    """The clock of cases started before LADDER_PATCH: the stage deadline, then nothing."""
    if state.stage is None or state.stage_due_at is None or state.stage_overdue:
        return None
    return Timer(state.stage_due_at, c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=state.stage))


# The failure type of a report id already taken by another report.
DUPLICATE_REPORT = "DuplicateReport"


def refusal(err: DomainError) -> ApplicationError:
    return ApplicationError(err.message, err.code, type=type(err).__name__, non_retryable=True)


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._state: CaseState = initial_state(inp.case_id)
        self._report = inp.report
        self._report_update_id = inp.report_update_id
        # The report's records as appended (the answer to ``reported``), once they are.
        self._report_records: list[dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        await self._apply(inp.report)
        while not self._state.is_terminal:
            ladder = workflow.patched(LADDER_PATCH)
            await self._wait_for_step_or(next_timer if ladder else overdue_only_timer)
        # Let an update that is finishing return its result before the run completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        status = self._state.status.value if self._state.status else ""
        return CaseResult(case_id=self._state.case_id, status=status, version=self._state.version)

    async def _wait_for_step_or(self, timer_of: Callable[[CaseState], Timer | None]) -> None:
        """Until the next step changes the case, or the clock's next moment comes."""
        state = self._state
        timer = timer_of(state)
        if timer is None:
            await workflow.wait_condition(lambda: self._state.version != state.version)
            return
        remaining = (timer.at - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._state.version != state.version,
                    timeout=timedelta(seconds=remaining),
                    timeout_summary=type(timer.command).__name__,
                )
                return
            except TimeoutError:
                pass
        await self._apply_timer(timer.command)

    async def _apply_timer(self, command: c.Command) -> None:
        try:
            await self._apply(command)
        except ApplicationError as err:
            # A step won the race for the lock and moved the case on: nothing is due.
            if err.type not in (WrongStage.__name__, DeadlineNotReached.__name__):
                raise

    async def _apply(self, command: c.Command, request: StepRequest | None = None) -> list[Event]:
        async with self._lock:
            checked = workflow.patched(INPUT_RULES_PATCH)
            try:
                events = decide(self._state, command, workflow.now(), check_inputs=checked)
            except DomainError as err:
                raise refusal(err) from None
            if isinstance(command, c.MergeCase):
                await self._run(
                    "check_merge_target", MergeTargetInput(command.into), TaskQueues.SUPERVISION
                )
            activity, queue = append_activity(type(command), workflow.patched(SIDE_PATCH))
            records = [to_record(ev) for ev in events]
            result: AppendResult = await self._run(
                activity,
                AppendInput(self._state.case_id, self._state.version, records, request),
                queue,
                AppendResult,
            )
            for event in events:
                self._state = evolve(self._state, event)
            if isinstance(command, c.ReportCase):
                self._report_records = records
            workflow.upsert_search_attributes(sa.updates_for(self._state))
            workflow.logger.info(
                "case %s: %s -> stage %s (v%s, appended %s)",
                self._state.case_id,
                ", ".join(ev.type for ev in events),
                self._state.stage,
                self._state.version,
                result.appended,
            )
        if isinstance(command, c.MergeCase):
            await self._tell_merge_target(command.into)
        return events

    async def _run(self, activity: str, arg: Any, queue: str, result_type: Any = None) -> Any:
        try:
            return await workflow.execute_activity(
                activity,
                arg,
                task_queue=queue,
                result_type=result_type,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from err
            raise

    async def _tell_merge_target(self, into: str) -> None:
        target = workflow.get_external_workflow_handle(f"case-{into}")
        try:
            await target.signal(DUPLICATE_SIGNAL, self._state.case_id)
        except Exception as exc:  # the target closed between the check and the signal
            workflow.logger.warning(
                "case %s: merge target %s not told: %s", self._state.case_id, into, exc
            )

    @workflow.signal(name=DUPLICATE_SIGNAL)
    async def record_duplicate(self, duplicate: str) -> None:
        await workflow.wait_condition(lambda: self._state.reported)
        try:
            await self._apply(c.RecordDuplicate(actor=SYSTEM_ACTOR, duplicate=duplicate))
        except ApplicationError as err:
            workflow.logger.warning(
                "case %s: duplicate %s not recorded: %s", self._state.case_id, duplicate, err
            )

    # The report itself, sent with the start (update-with-start) and again by a client that
    # repeats it: answered once its events are appended. Adds no command to a run.

    @workflow.update(name=REPORT_UPDATE)
    async def reported(self, report: c.ReportCase) -> ReportResult:
        """``report`` as sent (``ReportCase.as_sent``): compared, never decided again."""
        await workflow.wait_condition(lambda: self._report_records is not None)
        update = workflow.current_update_info()
        # Only the request that started the case sent its update id with the start.
        created = update is not None and update.id == self._report_update_id != ""
        return ReportResult(
            case_id=self._state.case_id,
            created=created,
            records=self._report_records or [],
            version=self._state.version,
        )

    @reported.validator
    def _validate_reported(self, report: c.ReportCase) -> None:
        if not report.same_as(self._report):
            raise ApplicationError(
                f"report id {self._state.case_id!r} is already used by another report "
                f"({self._report.category} in grid {self._report.grid} by "
                f"{self._report.actor.id})",
                type=DUPLICATE_REPORT,
                non_retryable=True,
            )

    # Human steps: one dynamic update, named after the step, validated by the decider.

    # Each takes the command and, from clients that send one, the StepRequest (its
    # idempotency key; the update's id is made of the same key).

    @workflow.update(dynamic=True)
    async def step(self, name: str, args: Sequence[RawValue]) -> ActionResult:
        command, request = self._command(name, args)
        await workflow.wait_condition(lambda: self._state.reported)
        events = await self._apply(command, request)
        return self._result(events, request)

    @step.validator
    def _validate_step(self, name: str, args: Sequence[RawValue]) -> None:
        command, _ = self._command(name, args)
        if not self._state.reported:
            return  # the handler waits for the report and decides then
        try:
            decide(self._state, command, workflow.now())
        except DomainError as err:
            raise refusal(err) from None

    def _command(self, name: str, args: Sequence[RawValue]) -> tuple[c.Command, StepRequest | None]:
        kind = HUMAN_STEPS.get(name)
        if kind is None:
            raise refusal(InvalidCommand(f"{name!r} is not a step of a case"))
        if len(args) not in (1, 2):
            raise refusal(InvalidCommand(f"step {name} takes one {kind.__name__}"))
        converter = workflow.payload_converter()
        try:
            command = converter.from_payload(args[0].payload, kind)
            request = converter.from_payload(args[1].payload, StepRequest) if args[1:] else None
        except Exception as exc:
            raise refusal(
                InvalidCommand(f"step {name}: malformed {kind.__name__}: {exc}")
            ) from None
        if not isinstance(command, kind):
            raise refusal(InvalidCommand(f"step {name} takes a {kind.__name__}"))
        if request is not None and request.step != name:
            raise refusal(InvalidCommand(f"step {name} sent with a request of {request.step}"))
        return command, request

    def _result(self, events: list[Event], request: StepRequest | None) -> ActionResult:
        s = self._state
        return ActionResult(
            case_id=s.case_id,
            version=s.version,
            status=s.status.value if s.status else "",
            stage=s.stage.value if s.stage else "",
            stage_due_at=s.stage_due_at,
            events=[ev.type for ev in events],
            request_key=request.key if request else "",
            fingerprint=request.fingerprint if request else "",
        )

    @workflow.query
    def view(self) -> CaseView:
        s = self._state
        return CaseView(
            case_id=s.case_id,
            version=s.version,
            status=s.status.value if s.status else "",
            stage=s.stage.value if s.stage else "",
            category=s.category,
            grid=s.grid,
            department=s.department,
            stage_due_at=s.stage_due_at,
            stage_overdue=s.stage_overdue,
            rework_count=s.rework_count,
            light=s.light.value,
            pending_request=s.pending.kind if s.pending else "",
            supervision_level=s.supervision_level.value if s.supervision_level else "",
        )

    @workflow.query
    def report(self) -> c.ReportCase:
        """The report this case was started from (to recognise a repeated submission)."""
        return self._report
