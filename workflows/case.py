"""CaseWorkflow: one durable workflow per case, the single writer of the case's stream.

Human steps arrive as updates. Each update's validator runs the pure domain decider, so a
refused action writes nothing to history and the caller gets the domain's reason. An
accepted action is decided again under a lock (commands are applied one at a time),
appended through a supervision or disposal activity, folded into the state, and published
as search attributes. Between actions the workflow waits for the next one or for the
current stage's deadline, whichever comes first.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disposal import DisposalActivities
    from activities.supervision import SupervisionActivities
    from activities.types import AppendInput, AppendResult, TaskQueues
    from domain import commands as c
    from domain.case import CaseState, decide, evolve, initial_state
    from domain.codec import to_record
    from domain.errors import DeadlineNotReached, DomainError, WrongStage
    from domain.events import Event
    from domain.roles import SYSTEM_ACTOR
    from workflows import search_attributes as sa
    from workflows.types import ActionResult, CaseInput, CaseResult, CaseView

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)

# Which activity records the events of each command, and so on which task queue.
RECORDED_BY: dict[type[c.Command], tuple[Any, str]] = {
    c.ReportCase: (SupervisionActivities.record_report, TaskQueues.SUPERVISION),
    c.FileCase: (SupervisionActivities.record_verification, TaskQueues.SUPERVISION),
    c.RejectCase: (SupervisionActivities.record_verification, TaskQueues.SUPERVISION),
    c.RecordClosureCheck: (SupervisionActivities.record_closure_check, TaskQueues.SUPERVISION),
    c.CloseCase: (SupervisionActivities.record_closure, TaskQueues.SUPERVISION),
    c.MarkStageOverdue: (SupervisionActivities.notify_overdue, TaskQueues.SUPERVISION),
    c.DispatchCase: (DisposalActivities.assign_to_department, TaskQueues.DISPOSAL),
    c.SignFor: (DisposalActivities.record_sign_for, TaskQueues.DISPOSAL),
    c.SubmitFeedback: (DisposalActivities.record_feedback, TaskQueues.DISPOSAL),
}


def refusal(err: DomainError) -> ApplicationError:
    return ApplicationError(err.message, err.code, type=type(err).__name__, non_retryable=True)


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._state: CaseState = initial_state(inp.case_id)
        self._report = inp.report
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        await self._apply(inp.report)
        while not self._state.is_terminal:
            await self._wait_for_action_or_deadline()
        # Let an update that is finishing return its result before the run completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        status = self._state.status.value if self._state.status else ""
        return CaseResult(case_id=self._state.case_id, status=status, version=self._state.version)

    async def _wait_for_action_or_deadline(self) -> None:
        state = self._state
        due = state.stage_due_at
        if due is None or state.stage_overdue or state.stage is None:
            await workflow.wait_condition(lambda: self._state.version != state.version)
            return
        remaining = (due - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._state.version != state.version,
                    timeout=timedelta(seconds=remaining),
                    timeout_summary=f"{state.stage.value} deadline",
                )
                return
            except TimeoutError:
                pass
        try:
            await self._apply(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=state.stage))
        except ApplicationError as err:
            # An action won the race for the lock and moved the case on: nothing is late.
            if err.type not in (WrongStage.__name__, DeadlineNotReached.__name__):
                raise

    async def _apply(self, command: c.Command) -> list[Event]:
        async with self._lock:
            try:
                events = decide(self._state, command, workflow.now())
            except DomainError as err:
                raise refusal(err) from None
            activity_method, queue = RECORDED_BY[type(command)]
            records = [to_record(ev) for ev in events]
            try:
                result: AppendResult = await workflow.execute_activity_method(
                    activity_method,
                    AppendInput(self._state.case_id, self._state.version, records),
                    task_queue=queue,
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                )
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError):
                    raise ApplicationError(
                        f"recording {events[0].type} failed: {cause.message}",
                        type=cause.type,
                        non_retryable=True,
                    ) from err
                raise
            for event in events:
                self._state = evolve(self._state, event)
            workflow.upsert_search_attributes(sa.updates_for(self._state))
            workflow.logger.info(
                "case %s: %s -> stage %s (v%s, appended %s)",
                self._state.case_id,
                ", ".join(ev.type for ev in events),
                self._state.stage,
                self._state.version,
                result.appended,
            )
            return events

    async def _act(self, command: c.Command) -> ActionResult:
        # An update can arrive before run() recorded the report.
        await workflow.wait_condition(lambda: self._state.reported)
        events = await self._apply(command)
        return self._result(events)

    def _validate(self, command: c.Command) -> None:
        if not self._state.reported:
            return  # the handler waits for the report and decides then
        try:
            decide(self._state, command, workflow.now())
        except DomainError as err:
            raise refusal(err) from None

    def _result(self, events: list[Event]) -> ActionResult:
        s = self._state
        return ActionResult(
            case_id=s.case_id,
            version=s.version,
            status=s.status.value if s.status else "",
            stage=s.stage.value if s.stage else "",
            stage_due_at=s.stage_due_at,
            events=[ev.type for ev in events],
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
        )

    @workflow.query
    def report(self) -> c.ReportCase:
        """The report this case was started from (to recognise a repeated submission)."""
        return self._report

    # Human steps. Each update has a validator running the decider (read-only).

    @workflow.update(name="file")
    async def file(self, cmd: c.FileCase) -> ActionResult:
        return await self._act(cmd)

    @file.validator
    def _validate_file(self, cmd: c.FileCase) -> None:
        self._validate(cmd)

    @workflow.update(name="reject")
    async def reject(self, cmd: c.RejectCase) -> ActionResult:
        return await self._act(cmd)

    @reject.validator
    def _validate_reject(self, cmd: c.RejectCase) -> None:
        self._validate(cmd)

    @workflow.update(name="dispatch")
    async def dispatch(self, cmd: c.DispatchCase) -> ActionResult:
        return await self._act(cmd)

    @dispatch.validator
    def _validate_dispatch(self, cmd: c.DispatchCase) -> None:
        self._validate(cmd)

    @workflow.update(name="sign_for")
    async def sign_for(self, cmd: c.SignFor) -> ActionResult:
        return await self._act(cmd)

    @sign_for.validator
    def _validate_sign_for(self, cmd: c.SignFor) -> None:
        self._validate(cmd)

    @workflow.update(name="feedback")
    async def feedback(self, cmd: c.SubmitFeedback) -> ActionResult:
        return await self._act(cmd)

    @feedback.validator
    def _validate_feedback(self, cmd: c.SubmitFeedback) -> None:
        self._validate(cmd)

    @workflow.update(name="check")
    async def check(self, cmd: c.RecordClosureCheck) -> ActionResult:
        return await self._act(cmd)

    @check.validator
    def _validate_check(self, cmd: c.RecordClosureCheck) -> None:
        self._validate(cmd)

    @workflow.update(name="close")
    async def close(self, cmd: c.CloseCase) -> ActionResult:
        return await self._act(cmd)

    @close.validator
    def _validate_close(self, cmd: c.CloseCase) -> None:
        self._validate(cmd)
