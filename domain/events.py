"""Domain events: facts about a case, named in the past tense, never changed once written.

Every event carries the case id, its version in the case's stream (1, 2, …), when it
happened, who did it, and the schema version of its type. Fields may be added to an event
type with a default; anything else bumps its SCHEMA_VERSION and gets an upcaster in
``domain.codec``. An event that opens a stage carries that stage's deadline (``due_at``)
and the time its light turns yellow (``warn_at``).
"""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from domain.inputs import texts
from domain.roles import Actor
from domain.rules import DEFAULT_RULES, CaseRules
from domain.stages import Stage, SupervisionLevel
from domain.text import LINE


@dataclass(frozen=True, kw_only=True)
class Location:
    """A WGS84 point (longitude, latitude) and an optional address text."""

    lon: float
    lat: float
    address: str = field(default="", metadata=texts(LINE))


@dataclass(frozen=True)
class SiteFix:
    """Where the grid worker's phone was when he recorded a step on site (核实, 核查): its
    GPS point and the accuracy the phone reported, and its distance to the case's point
    (None when the case has no point). ``far``: that distance is more than the center's
    policy allows (``CenterPolicy.site_distance_warning_m``); a warning, never a refusal,
    as GPS under trees and between blocks can be off by a street."""

    lon: float
    lat: float
    accuracy_m: float | None = None
    distance_m: float | None = None
    far: bool = False


@dataclass(frozen=True, kw_only=True)
class Event:
    SCHEMA_VERSION: ClassVar[int] = 1

    case_id: str
    version: int
    occurred_at: datetime
    actor: Actor

    @property
    def type(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class StageOpened(Event):
    """Base of the events that open a stage (with its deadline and yellow-light time)."""

    due_at: datetime | None = None
    warn_at: datetime | None = None


# Intake and verification (受理, 核实, 立案)


@dataclass(frozen=True, kw_only=True)
class CaseReported(StageOpened):
    """上报: a grid worker (or an intake channel) reported an incident.

    Schema 2 records the case's rules (schema 1 had plain per-stage seconds); schema 3
    rules say how yellow is placed and whether late extensions are allowed (schema-2
    records are read with what they meant then: ``domain.rules.LEGACY_RULES``).
    """

    SCHEMA_VERSION: ClassVar[int] = 3

    category: str
    grid: str
    description: str
    location: Location | None = None
    photos: tuple[str, ...] = ()
    source: str = "grid_worker"
    rules: CaseRules = DEFAULT_RULES  # shared default: building rules is not free


@dataclass(frozen=True, kw_only=True)
class CaseSelfHandled(StageOpened):
    """自行处置: the reporting grid worker fixed it on the spot; the center reviews."""

    result: str
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SelfHandlingApproved(Event):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SelfHandlingRejected(StageOpened):
    """The center did not accept the self-handling; the case goes the normal way."""

    note: str


@dataclass(frozen=True, kw_only=True)
class VerificationRequested(Event):
    """核实任务: a grid worker is asked to look on site (public reports)."""

    assignee: str
    verify_due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CaseVerified(Event):
    """核实: the grid worker's finding on site."""

    confirmed: bool
    note: str = ""
    photos: tuple[str, ...] = ()
    site: SiteFix | None = None


@dataclass(frozen=True, kw_only=True)
class CaseFiled(StageOpened):
    """立案: the supervision center filed the case under one filing condition."""

    note: str = ""
    condition: str = ""
    disposal_limit: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseRejected(Event):
    """不予受理 (kind not_accepted) or 不予立案 (kind not_filed)."""

    reason: str
    kind: str = "not_filed"


@dataclass(frozen=True, kw_only=True)
class CaseCancelled(Event):
    """作废: a filed case found erroneous, cancelled by the shift leader."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseMerged(Event):
    """合并: this case is a duplicate of ``into``, which carries on."""

    into: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DuplicateMerged(Event):
    """A duplicate report was merged into this case."""

    duplicate: str


# Dispatch and disposal (派遣, 签收, 处置)


@dataclass(frozen=True, kw_only=True)
class CaseDispatched(StageOpened):
    """派遣: the command center sent the case to a department; the disposal clock runs."""

    department: str
    note: str = ""
    suggested_department: str = ""
    disposal_due_at: datetime | None = None
    # The time the disposal is allowed in all (处置时限, plus extensions), e.g. "1
    # working_days": where its yellow light goes. Empty in cases before it was recorded.
    disposal_allowed: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskSignedFor(StageOpened):
    """签收: the department acknowledged the task."""

    department: str


@dataclass(frozen=True, kw_only=True)
class ExtensionRequested(Event):
    """延期申请."""

    department: str
    reason: str
    amount: str
    decision_due_at: datetime | None = None  # the center's answer is due (approval_limit)


@dataclass(frozen=True, kw_only=True)
class ExtensionGranted(StageOpened):
    """延期批准: the disposal deadline moves by ``amount``."""

    amount: str
    note: str = ""
    disposal_due_at: datetime | None = None
    disposal_allowed: str = ""  # the time allowed, now with the extension


@dataclass(frozen=True, kw_only=True)
class ExtensionDenied(Event):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReturnRequested(Event):
    """回退申请: the department says the case is not its remit."""

    department: str
    reason: str
    decision_due_at: datetime | None = None  # the center's answer is due (approval_limit)


@dataclass(frozen=True, kw_only=True)
class CaseReturned(StageOpened):
    """回退: back to dispatch; counts as a wrong dispatch."""

    department: str
    reason: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReturnDenied(Event):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SuspensionRequested(Event):
    """挂账申请: the work cannot be done now (seasonal, engineering)."""

    department: str
    reason: str
    decision_due_at: datetime | None = None  # the center's answer is due (approval_limit)


@dataclass(frozen=True, kw_only=True)
class CaseSuspended(Event):
    """挂账: the clock stops with ``remaining`` disposal time left."""

    note: str = ""
    remaining: str = ""
    backlog_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SuspensionDenied(Event):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseResumed(StageOpened):
    """The clock runs again with the time that was left."""

    note: str = ""
    disposal_due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CaseBacklogged(Event):
    """积存: suspended for longer than the rules allow."""

    suspended_since: datetime


@dataclass(frozen=True, kw_only=True)
class FeedbackSubmitted(StageOpened):
    """处理反馈: the department reported the result."""

    department: str
    result: str
    photos: tuple[str, ...] = ()


# Check and close (核查, 结案)


@dataclass(frozen=True, kw_only=True)
class ClosureCheckPassed(StageOpened):
    """核查通过: the on-site re-check found the problem solved."""

    note: str = ""
    photos: tuple[str, ...] = ()
    site: SiteFix | None = None


@dataclass(frozen=True, kw_only=True)
class ClosureCheckFailed(Event):
    """核查不通过: the on-site re-check found the problem not solved."""

    note: str
    photos: tuple[str, ...] = ()
    site: SiteFix | None = None


@dataclass(frozen=True, kw_only=True)
class ReworkOrdered(StageOpened):
    """返工: the case goes back to the same department."""

    department: str
    cycle: int
    disposal_due_at: datetime | None = None
    disposal_allowed: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseClosed(Event):
    """结案. closing_type: normal, overdue (disposal was late), self_handled."""

    note: str = ""
    closing_type: str = "normal"


# Time and supervision (超期, 催办, 督办)


@dataclass(frozen=True, kw_only=True)
class StageWarned(Event):
    """黄灯: a stage used up the warn share of its limit."""

    stage: Stage
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class StageOverdue(Event):
    """超期 (红灯): a stage passed its deadline while still open."""

    stage: Stage
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CaseUrged(Event):
    """催办: a reminder to whoever holds the case."""

    message: str
    stage: Stage
    department: str = ""


@dataclass(frozen=True, kw_only=True)
class SupervisionIssued(Event):
    """督办: a formal order that counts against the department and expects a reply."""

    level: SupervisionLevel
    message: str
    stage: Stage
    department: str = ""
    reply_due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SupervisionReplied(Event):
    department: str
    reply: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        CaseReported,
        CaseSelfHandled,
        SelfHandlingApproved,
        SelfHandlingRejected,
        VerificationRequested,
        CaseVerified,
        CaseFiled,
        CaseRejected,
        CaseCancelled,
        CaseMerged,
        DuplicateMerged,
        CaseDispatched,
        TaskSignedFor,
        ExtensionRequested,
        ExtensionGranted,
        ExtensionDenied,
        ReturnRequested,
        CaseReturned,
        ReturnDenied,
        SuspensionRequested,
        CaseSuspended,
        SuspensionDenied,
        CaseResumed,
        CaseBacklogged,
        FeedbackSubmitted,
        ClosureCheckPassed,
        ClosureCheckFailed,
        ReworkOrdered,
        CaseClosed,
        StageWarned,
        StageOverdue,
        CaseUrged,
        SupervisionIssued,
        SupervisionReplied,
    )
}


def event_class(type_name: str) -> type[Event]:
    try:
        return EVENT_TYPES[type_name]
    except KeyError:
        raise LookupError(f"unknown event type {type_name!r}") from None


def payload_fields(event: Event) -> dict[str, Any]:
    """The event's own fields, without the envelope (case id, version, time, actor)."""
    envelope = {"case_id", "version", "occurred_at", "actor"}
    return {f.name: getattr(event, f.name) for f in fields(event) if f.name not in envelope}
