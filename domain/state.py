"""The state of a case, as folded from its events (``domain.evolution``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import events as e
from domain.calendar import TimeLimit
from domain.rules import DEFAULT_RULES, CaseRules
from domain.stages import Light, Stage, Status, SupervisionLevel, status_of


@dataclass(frozen=True, kw_only=True)
class PendingRequest:
    """A department's request waiting for the center: extension, return or suspension."""

    kind: str
    department: str
    reason: str
    amount: TimeLimit | None = None  # of an extension
    due_at: datetime | None = None  # the center's answer is due (recorded since approval_limit)


@dataclass(frozen=True, kw_only=True)
class CaseState:
    case_id: str
    version: int = 0
    stage: Stage | None = None  # None until reported
    category: str = ""
    grid: str = ""
    description: str = ""
    location: e.Location | None = None
    source: str = ""
    reporter_id: str = ""
    reported_at: datetime | None = None
    rules: CaseRules = DEFAULT_RULES  # shared: parsing rules is not free
    # The open stage's clock.
    stage_entered_at: datetime | None = None
    stage_due_at: datetime | None = None
    stage_warn_at: datetime | None = None
    light: Light = Light.GREEN
    overdue_count: int = 0
    disposal_late: bool = False  # a department stage ever went overdue
    # Intake.
    needs_verification: bool = False
    verification: str = ""  # "", requested, confirmed, refuted
    verifier: str = ""
    self_handled: bool = False
    condition: str = ""
    # Disposal.
    department: str = ""
    disposal_due_at: datetime | None = None
    dispatch_count: int = 0
    return_count: int = 0
    rework_count: int = 0
    extension_count: int = 0
    pending: PendingRequest | None = None
    suspended: bool = False
    suspended_at: datetime | None = None
    remaining: TimeLimit | None = None  # disposal time left when suspended
    backlog_at: datetime | None = None
    backlog: bool = False
    # Supervision.
    urge_count: int = 0
    supervision_level: SupervisionLevel | None = None
    supervision_pending: bool = False
    reply_due_at: datetime | None = None
    # Merging and the end.
    merged_into: str = ""
    duplicates: tuple[str, ...] = ()
    closed_at: datetime | None = None
    closing_type: str = ""

    @property
    def reported(self) -> bool:
        return self.stage is not None

    @property
    def status(self) -> Status | None:
        return None if self.stage is None else status_of(self.stage, self.suspended)

    @property
    def is_terminal(self) -> bool:
        return self.stage is not None and not self.stage.is_open

    @property
    def stage_overdue(self) -> bool:
        return self.light is Light.RED


def initial_state(case_id: str) -> CaseState:
    return CaseState(case_id=case_id)


def updated(state: CaseState, **changes: object) -> CaseState:
    """``dataclasses.replace`` without re-running ``__init__``: the fold calls this for every
    event, and CaseState has dozens of fields (a rebuild folds millions of events)."""
    new = object.__new__(CaseState)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new
