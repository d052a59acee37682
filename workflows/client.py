"""Client side of CaseWorkflow: start a case from a report, act on it, read it.

Used by the CLI and the API. Refusals come back as the domain's own errors, so callers
handle ``WrongStage`` or ``WrongRole`` without knowing about Temporal.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.types import StepRequest, TaskQueues
from domain import commands as c
from domain.case import decide, initial_state
from domain.errors import DomainError, InvalidCommand, WrongStage
from workflows import search_attributes as sa
from workflows.case import DUPLICATE_REPORT, CaseWorkflow
from workflows.steps import REPORT_UPDATE, STEP_OF
from workflows.types import ActionResult, CaseInput, CaseView, ReportResult

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
RPC_TIMEOUT = timedelta(seconds=30)
RECORD_WAIT = 10.0  # seconds a report waits for its events to be appended
LOOKUP_TIMEOUT = timedelta(seconds=5)  # reading how an existing case started


class CaseNotFound(LookupError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"no case {case_id!r}")
        self.case_id = case_id


class DuplicateReport(Exception):
    """The report id is taken by a different report."""


@dataclass
class ReportReceipt:
    case_id: str
    workflow_id: str
    run_id: str | None
    created: bool  # this call started the case (False: the same report again, or unknown)
    # The report's events are appended: False when they were not within the wait (the
    # worker may be down); the case exists and will record them when it runs.
    recorded: bool = True
    # The report's records as appended, and the case's version now, when the running case
    # answered; empty for a case that has finished (read it from the store).
    records: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0


def workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


def check_case_id(case_id: str) -> str:
    if not CASE_ID.match(case_id or ""):
        raise InvalidCommand(
            f"report id {case_id!r} must be 1-64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    return case_id


# Refusals of the activities, as the domain's errors: data the store refused is bad input.
_ACTIVITY_REFUSALS: dict[str, type[DomainError]] = {"DataRefused": InvalidCommand}


def domain_error(err: ApplicationError) -> DomainError:
    """The domain's own error for a refusal that crossed Temporal as an ApplicationError."""
    found: type[DomainError] = _ACTIVITY_REFUSALS.get(err.type or "", DomainError)
    pending: list[type[DomainError]] = [DomainError]
    while pending:  # every subclass, also those defined in other domain modules
        cls = pending.pop()
        if cls.__name__ == err.type:
            found = cls
            break
        pending.extend(cls.__subclasses__())
    error = found.__new__(found)
    DomainError.__init__(error, err.message)
    return error


async def report_case(
    client: Client, case_id: str, report: c.ReportCase, now: datetime, *, wait: float = RECORD_WAIT
) -> ReportReceipt:
    """Start the case for ``report`` and answer once its events are appended, in one call
    (update-with-start: the start, and the ``reported`` update the case answers when the
    report is recorded). The same report sent twice is one case; the same id with another
    report is ``DuplicateReport``. When nothing answers within ``wait`` seconds but the case
    exists, the receipt says it is not recorded yet."""
    check_case_id(case_id)
    decide(initial_state(case_id), report, now)  # refuse a bad report before any workflow
    wid = workflow_id(case_id)
    update_id = f"report-{uuid.uuid4().hex}"
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseInput(case_id=case_id, report=report, report_update_id=update_id),
        id=wid,
        task_queue=TaskQueues.CASES,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A finished case is never started again under its id.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(sa.initial_pairs(report.category, report.grid)),
        static_summary=f"{report.category} in grid {report.grid}",
    )
    try:
        try:
            async with asyncio.timeout(wait):
                result: ReportResult = await client.execute_update_with_start_workflow(
                    REPORT_UPDATE,
                    report.as_sent(),  # what is compared; the rules travel once, in the start
                    start_workflow_operation=start,
                    id=update_id,
                    result_type=ReportResult,
                    rpc_timeout=timedelta(seconds=wait),
                )
        except BaseException:
            # The start's own outcome holds the same failure: take it, or asyncio logs it
            # as never retrieved.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(start.workflow_handle(), timeout=1)
            raise
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == DUPLICATE_REPORT:
            raise DuplicateReport(cause.message) from None
        raise
    except WorkflowAlreadyStartedError:
        # The case has finished (closed, rejected, merged): compare with what started it.
        return await _earlier_report(client, case_id, report)
    except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
        # Nothing answered in time (no worker?): a case that exists records it later.
        try:
            receipt = await _earlier_report(client, case_id, report)
        except CaseNotFound:  # not started: nothing happened, the caller may send it again
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from None
        except RPCError as exc:  # the lookup timed out as well: Temporal is overloaded
            if exc.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                raise WorkflowUpdateRPCTimeoutOrCancelledError() from None
            raise
        return replace(receipt, recorded=False)
    handle = await start.workflow_handle()
    return ReportReceipt(
        case_id=case_id,
        workflow_id=wid,
        run_id=handle.first_execution_run_id or handle.result_run_id,
        created=result.created,
        records=result.records,
        version=result.version,
    )


async def _earlier_report(client: Client, case_id: str, report: c.ReportCase) -> ReportReceipt:
    """The receipt of a case that exists, after comparing ``report`` with the report that
    started it (read from the start of its history: no worker needed, also when the case
    has finished); ``CaseNotFound`` when there is no such case."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    started = None
    try:
        async for event in handle.fetch_history_events(page_size=1, rpc_timeout=LOOKUP_TIMEOUT):
            started = event.workflow_execution_started_event_attributes
            break
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(case_id) from None
        raise
    if started is None:
        raise CaseNotFound(case_id)
    (inp,) = await client.data_converter.decode(started.input.payloads, [CaseInput])
    existing: c.ReportCase = inp.report
    if not existing.same_as(report):
        raise DuplicateReport(
            f"report id {case_id!r} is already used by another report "
            f"({existing.category} in grid {existing.grid} by {existing.actor.id})"
        )
    run_id = started.original_execution_run_id or None
    return ReportReceipt(case_id=case_id, workflow_id=handle.id, run_id=run_id, created=False)


async def act(
    client: Client, case_id: str, command: c.Command, request: StepRequest | None = None
) -> ActionResult:
    """Perform one human step on a case; a refusal raises the domain's error.

    With a ``request``, its key is the update's id: Temporal answers the same id again
    with the first outcome, without running the step twice (also after the workflow
    completed, and across worker and server restarts; docs/architecture.md)."""
    update = STEP_OF.get(type(command))
    if update is None:
        raise InvalidCommand(f"{type(command).__name__} is not a human step")
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        result: ActionResult = await handle.execute_update(
            update,
            args=[command] if request is None else [command, request],
            id=request.key if request is not None else None,
            result_type=ActionResult,
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowUpdateFailedError as exc:
        if isinstance(exc.cause, ApplicationError):
            raise domain_error(exc.cause) from None
        raise
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise await _not_running(client, case_id) from None
        raise
    return result


async def view(client: Client, case_id: str) -> CaseView:
    handle = client.get_workflow_handle(workflow_id(case_id))
    try:
        return await handle.query(CaseWorkflow.view, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(case_id) from None
        raise


async def _not_running(client: Client, case_id: str) -> Exception:
    try:
        desc = await client.get_workflow_handle(workflow_id(case_id)).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return CaseNotFound(case_id)
        raise
    if desc.status is WorkflowExecutionStatus.COMPLETED:
        return WrongStage(f"case {case_id} is finished (closed or rejected); nothing more to do")
    status = desc.status.name.lower() if desc.status else "unknown"
    return WrongStage(f"case {case_id} is not running (workflow {status})")
