"""Domain events: facts about a case, named in the past tense, never changed once written.

Every event carries the case id, its version in the case's stream (1, 2, …), when it
happened, who did it, and the schema version of its type. Fields may be added to an event
type with a default; anything else bumps its SCHEMA_VERSION and gets an upcaster in
``domain.codec``.
"""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from domain.roles import Actor
from domain.stages import Stage


@dataclass(frozen=True, kw_only=True)
class Location:
    """A WGS84 point (longitude, latitude) and an optional address text."""

    lon: float
    lat: float
    address: str = ""


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
class CaseReported(Event):
    """上报: a grid worker (or an intake channel) reported an incident."""

    category: str
    grid: str
    description: str
    location: Location | None = None
    photos: tuple[str, ...] = ()
    source: str = "grid_worker"
    stage_limits: dict[str, float] = field(default_factory=dict)
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CaseFiled(Event):
    """立案: the supervision center verified the report and filed the case."""

    note: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CaseRejected(Event):
    """不予立案: the report does not meet any filing condition."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseDispatched(Event):
    """派遣: the command center sent the case to a department."""

    department: str
    note: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TaskSignedFor(Event):
    """签收: the department acknowledged the task."""

    department: str
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class FeedbackSubmitted(Event):
    """处理反馈: the department reported the result."""

    department: str
    result: str
    photos: tuple[str, ...] = ()
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ClosureCheckPassed(Event):
    """核查通过: the on-site re-check found the problem solved."""

    note: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ClosureCheckFailed(Event):
    """核查不通过: the on-site re-check found the problem not solved."""

    note: str


@dataclass(frozen=True, kw_only=True)
class ReworkOrdered(Event):
    """返工: the case goes back to the same department."""

    department: str
    cycle: int
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CaseClosed(Event):
    """结案: the shift leader closed the case."""

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class StageOverdue(Event):
    """超期: a stage passed its deadline while still open."""

    stage: Stage
    due_at: datetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        CaseReported,
        CaseFiled,
        CaseRejected,
        CaseDispatched,
        TaskSignedFor,
        FeedbackSubmitted,
        ClosureCheckPassed,
        ClosureCheckFailed,
        ReworkOrdered,
        CaseClosed,
        StageOverdue,
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
