"""The facts of one case that evaluation counts (综合评价), folded from its events alone.

``domain.kpi`` counts these per period and per object; the definitions are there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain import events as e
from domain.lateness import disposal_late_after, on_time
from domain.stages import SupervisionLevel


@dataclass(frozen=True)
class CheckTask:
    """One re-check (核查) after a feedback: due at the feedback's check-stage due_at."""

    due_at: datetime | None
    done_at: datetime | None = None
    checker: str = ""
    checker_unit: str = ""

    @property
    def on_time(self) -> bool:
        return on_time(self.done_at, self.due_at)


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    reported_at: datetime
    reporter: str
    reporter_role: str
    reporter_unit: str
    source: str
    grid: str
    category: str
    outcome: str  # open, closed, rejected, cancelled, merged, self_handled
    departments: tuple[str, ...] = ()  # dispatched to, in order, each once
    final_department: str = ""  # holds the case now ("" when never dispatched or returned)
    returned_from: tuple[str, ...] = ()
    reworked_at: tuple[str, ...] = ()  # the department of each ReworkOrdered
    extensions: int = 0
    filed_at: datetime | None = None
    file_due_at: datetime | None = None
    verifier: str = ""
    verifier_unit: str = ""
    verify_due_at: datetime | None = None
    verified_at: datetime | None = None
    disposal_due_at: datetime | None = None
    disposed: bool = False
    disposal_on_time: bool = False
    checks: tuple[CheckTask, ...] = ()
    closed_at: datetime | None = None
    close_due_at: datetime | None = None
    supervisions: tuple[tuple[datetime, SupervisionLevel, str], ...] = ()

    @property
    def valid(self) -> bool | None:
        """有效上报; None while the report is undecided."""
        if self.outcome in ("rejected", "merged", "cancelled"):
            return False
        if self.filed_at is not None or self.outcome == "self_handled":
            return True
        return None

    @property
    def due_to_file(self) -> bool:
        ended_unfiled = self.filed_at is None and self.outcome != "open"
        return self.file_due_at is not None and not ended_unfiled

    @property
    def filed_on_time(self) -> bool:
        return on_time(self.filed_at, self.file_due_at)

    @property
    def verified_on_time(self) -> bool:
        return on_time(self.verified_at, self.verify_due_at)

    @property
    def closed_on_time(self) -> bool:
        if self.closed_at is None or not self.disposal_on_time:
            return False
        return self.close_due_at is None or on_time(self.closed_at, self.close_due_at)

    @property
    def reworked(self) -> bool:
        return bool(self.reworked_at)

    @property
    def due_for_disposal(self) -> bool:
        return bool(self.departments) and self.outcome != "cancelled"


@dataclass
class _Fold:
    """Mutable scratch state of :func:`case_facts`."""

    outcome: str = "open"
    departments: list[str] = field(default_factory=list)
    final_department: str = ""
    returned: list[str] = field(default_factory=list)
    reworked: list[str] = field(default_factory=list)
    extensions: int = 0
    filed_at: datetime | None = None
    file_due_at: datetime | None = None
    verifier: str = ""
    verifier_unit: str = ""
    verify_due_at: datetime | None = None
    verified_at: datetime | None = None
    deadline: datetime | None = None  # the disposal deadline in force
    late: bool = False  # the current disposal is late (domain.lateness)
    suspended: bool = False
    disposed: bool = False
    disposal_on_time: bool = False
    checks: list[CheckTask] = field(default_factory=list)
    closed_at: datetime | None = None
    close_due_at: datetime | None = None
    supervisions: list[tuple[datetime, SupervisionLevel, str]] = field(default_factory=list)

    def on(self, ev: e.Event) -> None:
        self.late = disposal_late_after(self.late, self.deadline, ev)
        match ev:
            case e.CaseReported() | e.SelfHandlingRejected():
                self.file_due_at = ev.due_at  # the verify stage (re)opens
            case e.CaseSelfHandled():
                self.file_due_at = None
            case e.SelfHandlingApproved():
                self.outcome = "self_handled"
            case e.VerificationRequested():
                self.verifier, self.verify_due_at = ev.assignee, ev.verify_due_at
                self.verified_at = None
            case e.CaseVerified():
                self.verified_at, self.verifier_unit = ev.occurred_at, ev.actor.unit
            case e.CaseFiled():
                self.filed_at = ev.occurred_at
            case e.CaseRejected():
                self.outcome = "rejected"
            case e.CaseCancelled():
                self.outcome = "cancelled"
            case e.CaseMerged():
                self.outcome = "merged"
            case e.CaseDispatched():
                if ev.department not in self.departments:
                    self.departments.append(ev.department)
                self.final_department = ev.department
                self.deadline, self.suspended = ev.disposal_due_at, False
            case e.ExtensionGranted():
                self.extensions += 1
                self.deadline = ev.disposal_due_at
            case e.CaseReturned():
                self.returned.append(ev.department)
                self.final_department = ""
            case e.CaseSuspended():
                self.suspended = True
            case e.CaseResumed():
                self.deadline, self.suspended = ev.disposal_due_at, False
            case e.FeedbackSubmitted():
                self.checks.append(CheckTask(due_at=ev.due_at))
            case e.ClosureCheckPassed() | e.ClosureCheckFailed():
                if self.checks and self.checks[-1].done_at is None:
                    due = self.checks[-1].due_at
                    self.checks[-1] = CheckTask(due, ev.occurred_at, ev.actor.id, ev.actor.unit)
                if isinstance(ev, e.ClosureCheckPassed):
                    self.disposed, self.close_due_at = True, ev.due_at
                    # No lateness in this disposal: the closing type's verdict too
                    # (domain.lateness). A case with no deadline never counts (no anchor).
                    self.disposal_on_time = not self.late
            case e.ReworkOrdered():
                self.reworked.append(ev.department)
                self.deadline = ev.disposal_due_at
            case e.CaseClosed():
                self.outcome, self.closed_at = "closed", ev.occurred_at
            case e.SupervisionIssued():
                self.supervisions.append((ev.occurred_at, ev.level, ev.department))


class FactsFold:
    """The facts folded one event at a time (a rebuild folds every stream once)."""

    def __init__(self) -> None:
        self._fold = _Fold()
        self._reported: e.CaseReported | None = None

    def on(self, ev: e.Event) -> None:
        if isinstance(ev, e.CaseReported):
            self._reported = ev
        self._fold.on(ev)

    def facts(self) -> CaseFacts | None:
        """The facts so far (None without a report)."""
        reported, fold = self._reported, self._fold
        if reported is None:
            return None
        return CaseFacts(
            case_id=reported.case_id,
            reported_at=reported.occurred_at,
            reporter=reported.actor.id,
            reporter_role=reported.actor.role.value,
            reporter_unit=reported.actor.unit,
            source=reported.source,
            grid=reported.grid,
            category=reported.category,
            outcome=fold.outcome,
            departments=tuple(fold.departments),
            final_department=fold.final_department,
            returned_from=tuple(fold.returned),
            reworked_at=tuple(fold.reworked),
            extensions=fold.extensions,
            filed_at=fold.filed_at,
            file_due_at=fold.file_due_at,
            verifier=fold.verifier,
            verifier_unit=fold.verifier_unit,
            verify_due_at=fold.verify_due_at,
            verified_at=fold.verified_at,
            disposal_due_at=None if fold.suspended else fold.deadline,
            disposed=fold.disposed,
            disposal_on_time=fold.disposal_on_time,
            checks=tuple(fold.checks),
            closed_at=fold.closed_at,
            close_due_at=fold.close_due_at,
            supervisions=tuple(fold.supervisions),
        )


def case_facts(events: Iterable[e.Event]) -> CaseFacts | None:
    """The facts of one case from its events in version order (None without a report)."""
    fold = FactsFold()
    for ev in events:
        fold.on(ev)
    return fold.facts()
