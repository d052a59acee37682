"""Workflow inputs and results (their own module: the SDK decodes datetimes in dataclasses
defined inside a workflow module wrongly, see TEMPORAL.md)."""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.commands import ReportCase


@dataclass
class CaseInput:
    case_id: str
    report: ReportCase
    # The id of the ``reported`` update sent together with the start (update-with-start):
    # the request that created the case. Empty in cases started by a plain start.
    report_update_id: str = ""


@dataclass
class ReportResult:
    """The answer to a report (the ``reported`` update), once its events are appended."""

    case_id: str
    created: bool  # this request started the case (False: the same report again)
    records: list[dict[str, Any]]  # the report's events as appended (domain.codec records)
    version: int  # the case's version now: past the records' when it has moved on


@dataclass
class CaseView:
    """What the workflow knows of its case right now (no personal data)."""

    case_id: str
    version: int
    status: str
    stage: str
    category: str
    grid: str
    department: str
    stage_due_at: datetime | None
    stage_overdue: bool
    rework_count: int
    light: str = "green"
    pending_request: str = ""
    supervision_level: str = ""


@dataclass
class ActionResult:
    case_id: str
    version: int
    status: str
    stage: str
    stage_due_at: datetime | None
    events: list[str] = field(default_factory=list)
    # The request it answers (activities.types.StepRequest): a repeated key is told from a
    # reused one by the fingerprint. Empty for steps sent without one (older clients).
    request_key: str = ""
    fingerprint: str = ""


@dataclass
class CaseResult:
    case_id: str
    status: str
    version: int
