"""Client side of CaseWorkflow: start a case from a report, act on it, read it.

Used by the CLI and the API. Refusals come back as the domain's own errors, so callers
handle ``WrongStage`` or ``WrongRole`` without knowing about Temporal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.types import StepRequest, TaskQueues
from domain import commands as c
from domain.case import decide, initial_state
from domain.errors import DomainError, InvalidCommand, WrongStage
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow
from workflows.steps import STEP_OF
from workflows.types import ActionResult, CaseInput, CaseView

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
RPC_TIMEOUT = timedelta(seconds=30)


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
    created: bool  # False when the same report was already filed (an idempotent repeat)


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
    client: Client, case_id: str, report: c.ReportCase, now: datetime
) -> ReportReceipt:
    """Start the case for ``report``; the same report sent twice is one case."""
    check_case_id(case_id)
    decide(initial_state(case_id), report, now)  # refuse a bad report before any workflow
    wid = workflow_id(case_id)
    created = True
    try:
        handle: WorkflowHandle[CaseWorkflow, object] = await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(case_id=case_id, report=report),
            id=wid,
            task_queue=TaskQueues.CASES,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(sa.initial_pairs(report.category, report.grid)),
            static_summary=f"{report.category} in grid {report.grid}",
            rpc_timeout=RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        created = False
        handle = client.get_workflow_handle_for(CaseWorkflow.run, wid)
        existing = await handle.query(CaseWorkflow.report, rpc_timeout=RPC_TIMEOUT)
        # What the reporter sent, not the rules resolved for it (policy may have changed).
        if replace(existing, rules=None) != replace(report, rules=None):
            raise DuplicateReport(
                f"report id {case_id!r} is already used by another report "
                f"({existing.category} in grid {existing.grid} by {existing.actor.id})"
            ) from None
        running = (await handle.describe()).run_id
        return ReportReceipt(case_id=case_id, workflow_id=wid, run_id=running, created=created)
    started = handle.first_execution_run_id or handle.result_run_id
    return ReportReceipt(case_id=case_id, workflow_id=wid, run_id=started, created=created)


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
