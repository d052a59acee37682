"""Commands: what people (and the engine) ask of a case. Each is decided by ``domain.case``.

Commands carry no time and no case id: the case they go to and the time they are decided
at are given by whoever calls :func:`domain.case.decide`.
"""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field

from domain.events import Location
from domain.roles import Actor
from domain.rules import CaseRules
from domain.stages import Stage, SupervisionLevel


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class ReportCase(Command):
    """上报. ``rules`` are resolved by the application (policy, category, calendar).

    ``stage_limits`` (stage -> seconds) is the older, plain form of the rules. With
    ``self_handled`` the grid worker reports a problem already fixed on the spot (自行处置).
    """

    category: str
    grid: str
    description: str
    location: Location | None = None
    photos: tuple[str, ...] = ()
    source: str = "grid_worker"
    stage_limits: dict[str, float] = field(default_factory=dict)
    rules: CaseRules | None = None
    self_handled: bool = False
    self_handling_result: str = ""
    result_photos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RequestVerification(Command):
    """Send a grid worker to verify a (public) report on site (核实)."""

    assignee: str


@dataclass(frozen=True, kw_only=True)
class RecordVerification(Command):
    """核实 result, by the assigned grid worker."""

    confirmed: bool
    note: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FileCase(Command):
    """立案 under a filing condition of the category (default: its first)."""

    note: str = ""
    condition: str = ""


@dataclass(frozen=True, kw_only=True)
class RejectCase(Command):
    """不予受理 / 不予立案 (reason required)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CancelCase(Command):
    """作废 a filed case (reason required)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class MergeCase(Command):
    """Merge this case, a duplicate, into the open case ``into``."""

    into: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordDuplicate(Command):
    """The engine records on the surviving case that ``duplicate`` was merged into it."""

    duplicate: str


@dataclass(frozen=True, kw_only=True)
class ReviewSelfHandling(Command):
    """Accept or refuse a grid worker's 自行处置."""

    approve: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DispatchCase(Command):
    """派遣 to a department. ``suggested_department`` is what routing proposed."""

    department: str
    note: str = ""
    suggested_department: str = ""


@dataclass(frozen=True, kw_only=True)
class SignFor(Command):
    """签收."""


@dataclass(frozen=True, kw_only=True)
class RequestExtension(Command):
    """延期申请: ``amount`` is a time limit, e.g. "2 working_days"."""

    reason: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class DecideExtension(Command):
    approve: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestReturn(Command):
    """回退申请 (reason required)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class DecideReturn(Command):
    approve: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestSuspension(Command):
    """挂账申请 (reason required)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class DecideSuspension(Command):
    approve: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ResumeCase(Command):
    """End a suspension: the clock runs again."""

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SubmitFeedback(Command):
    """处理反馈 (result text required, photos optional)."""

    result: str
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecordClosureCheck(Command):
    """核查: ``passed`` False sends the case back to the department (返工)."""

    passed: bool
    note: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CloseCase(Command):
    """结案."""

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class UrgeCase(Command):
    """催办."""

    message: str


@dataclass(frozen=True, kw_only=True)
class SuperviseCase(Command):
    """督办 at a level; the department must reply."""

    level: SupervisionLevel
    message: str


@dataclass(frozen=True, kw_only=True)
class ReplyToSupervision(Command):
    reply: str


@dataclass(frozen=True, kw_only=True)
class MarkStageWarning(Command):
    """The engine's: a stage reached the warn share of its limit."""

    stage: Stage


@dataclass(frozen=True, kw_only=True)
class MarkStageOverdue(Command):
    """The engine's: a stage passed its deadline while still open."""

    stage: Stage


@dataclass(frozen=True, kw_only=True)
class MarkBacklog(Command):
    """The engine's: a suspension lasted past the backlog threshold."""
