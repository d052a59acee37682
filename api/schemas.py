"""Response shapes of the API (pydantic), and the query parameters every list shares.

Times are ISO 8601 with an explicit offset (``+00:00``), never naive; every list is a page
``{items, total, limit, offset}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field, PlainSerializer

from domain.stages import STAGE_LABELS_ZH, Stage

T = TypeVar("T")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # the database stores timestamptz; this is a programming error
        raise ValueError(f"naive datetime {value!r} in an API response")
    return value.isoformat()


Timestamp = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1-500)")]
# Bounded: PostgreSQL's OFFSET is a bigint, and no list is anywhere near this long.
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Deadlines(BaseModel):
    """The clocks of the case (时限): the open stage's, the disposal deadline, the
    department's reply to a 督办, and the center's answer to the department's request."""

    stage_due_at: Timestamp | None = None
    stage_warn_at: Timestamp | None = None
    disposal_due_at: Timestamp | None = None
    reply_due_at: Timestamp | None = None
    pending_request_due_at: Timestamp | None = Field(
        None,
        description="When the center must decide the department's waiting request "
        "(extension, return, suspension: see pending_request), from the policy's "
        "approval_limit; null when no request waits (or one recorded before it existed)",
    )


class CaseOut(BaseModel):
    """A case's current state, from the ``cases`` projection."""

    case_id: str
    version: int
    status: str
    stage: str
    stage_label_zh: str
    category: str
    grid: str
    street: str
    community: str
    department: str
    source: str
    description: str
    reporter_id: str | None  # None when redacted (personal data)
    reported_at: Timestamp
    stage_entered_at: Timestamp
    light: str
    stage_overdue: bool
    deadlines: Deadlines
    lon: float | None = None
    lat: float | None = None
    condition: str = ""
    verification: str = ""
    pending_request: str = ""
    supervision_level: str = ""
    supervision_pending: bool = False
    rework_count: int = 0
    return_count: int = 0
    extension_count: int = 0
    urge_count: int = 0
    closed_at: Timestamp | None = None
    closing_type: str = ""
    # The disposal is late by the one lateness rule (domain.lateness): a feedback after the
    # deadline in force, or an extension granted after it had passed. The closing type and
    # the KPIs give the same verdict.
    disposal_late: bool = False
    merged_into: str = ""
    redacted: bool = False


class TaskOut(CaseOut):
    task: str  # "verify" (核实) or "check" (核查)


class LateCaseOut(CaseOut):
    late_by_seconds: float  # negative: not due yet (at risk, yellow)


class ActorOut(BaseModel):
    id: str | None  # None when redacted
    role: str
    role_label_zh: str
    unit: str = ""


class TimelineEntry(BaseModel):
    version: int
    type: str
    label_zh: str
    actor: ActorOut
    time: Timestamp
    details: dict[str, Any]


class CaseDetail(CaseOut):
    address: str = ""
    photos: list[str] = []
    # What each photo of the case (report and steps) shows, where its uploader said:
    # near 近景, far 远景, before 处置前, after 处置后.
    photo_kinds: dict[str, str] = {}
    timeline: list[TimelineEntry]


class ReportAccepted(BaseModel):
    """A report whose case is started but whose record is not visible yet (202)."""

    case_id: str
    status: str = "accepted"
    detail: str


class ActionOut(BaseModel):
    """What a step did: the events it appended and where the case is now."""

    case_id: str
    version: int
    status: str
    stage: str
    stage_due_at: Timestamp | None
    events: list[str]


class CountOut(BaseModel):
    key: str
    count: int


def case_out(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The CaseOut fields of a read model's row (a dict, so subclasses can add theirs);
    the row's ``reporter_id`` is already None where the caller may not see it."""
    try:
        stage_zh = STAGE_LABELS_ZH[Stage(row["stage"])]
    except ValueError:
        stage_zh = row["stage"]
    return {
        **{k: row[k] for k in CaseOut.model_fields if k in row},
        "stage_label_zh": stage_zh,
        "deadlines": Deadlines(
            stage_due_at=row["stage_due_at"],
            stage_warn_at=row["stage_warn_at"],
            disposal_due_at=row["disposal_due_at"],
            reply_due_at=row["reply_due_at"],
            pending_request_due_at=row.get("pending_request_due_at"),
        ),
        **extra,
    }
