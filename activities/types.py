"""Payloads crossing the workflow/activity boundary, and the task queue names.

Kept out of workflow modules on purpose: the workflow imports them passed-through.
"""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field
from typing import Any, ClassVar


class TaskQueues:
    """One queue per kind of work: workflows, supervision activities, disposal activities."""

    CASES = "gridcase-cases"
    SUPERVISION = "gridcase-supervision"
    DISPOSAL = "gridcase-disposal"

    ALL: ClassVar[tuple[str, ...]] = (CASES, SUPERVISION, DISPOSAL)
    BY_NAME: ClassVar[dict[str, str]] = {
        "cases": CASES,
        "supervision": SUPERVISION,
        "disposal": DISPOSAL,
    }


@dataclass
class StepRequest:
    """The request a person's step answers: its idempotency key (scoped to the caller),
    the step, and a fingerprint of what was asked. Recorded with the step's events, so the
    same key is answered from the log whatever Temporal still remembers."""

    key: str
    step: str
    fingerprint: str


@dataclass
class AppendInput:
    """Events (``domain.codec`` records) to append to a case's stream after ``expected_version``,
    and the request they answer, if a person's step."""

    case_id: str
    expected_version: int
    events: list[dict[str, Any]] = field(default_factory=list)
    request: StepRequest | None = None


@dataclass
class AppendResult:
    version: int
    appended: int


@dataclass
class MergeTargetInput:
    into: str
