"""Commands: what people (and the engine) ask of a case. Each is decided by ``domain.case``.

Commands carry no time and no case id: the case they go to and the time they are decided
at are given by whoever calls :func:`domain.case.decide`. Each field says in its metadata
what a person fills in (``domain.inputs``), so forms and CLI commands derive from it.
"""

# No "from __future__ import annotations" here: these dataclasses cross the Temporal
# boundary, and the SDK resolves string annotations against sys.modules, which differs
# inside the workflow sandbox.

from dataclasses import dataclass, field, replace

from domain.events import Location, SiteFix
from domain.inputs import ask, by_application
from domain.roles import Actor
from domain.rules import CaseRules
from domain.stages import Stage, SupervisionLevel
from domain.text import CODE, DESCRIPTION, FREE_TEXT, PHOTOS, TextRule

# Help texts several commands share.
NOTE = "Note"
REASON = "Why (required)"
MESSAGE = "Message to whoever holds the case"
PHOTO_HELP = "Photo reference sha256:… (repeatable)"
APPROVE = "Approve or deny the request"
APPROVE_FLAGS = ("--approve", "--deny")
DENY_NOTE = "Note (required when denying)"
AMOUNT = TextRule(32)  # "2 working_days"
SITE = "Where the phone was, and its distance to the case's point (from the request)"


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor = field(metadata=by_application("Who acts: the authenticated user"))


@dataclass(frozen=True, kw_only=True)
class ReportCase(Command):
    """上报. ``rules`` are resolved by the application (policy, category, calendar).

    ``stage_limits`` (stage -> seconds) is the older, plain form of the rules. With
    ``self_handled`` the grid worker reports a problem already fixed on the spot (自行处置).
    """

    category: str = field(metadata=ask("Category code, e.g. E0101", text=CODE, examples=("E0101",)))
    grid: str = field(
        metadata=ask(
            "15-digit unit grid code; located from the point when empty", proposed=True, text=CODE
        )
    )
    description: str = field(metadata=ask("What is wrong, where", text=DESCRIPTION))
    location: Location | None = field(default=None, metadata=ask("WGS84 point and address"))
    photos: tuple[str, ...] = field(
        default=(), metadata=ask(PHOTO_HELP, option="--photo", text=PHOTOS)
    )
    source: str = field(
        default="grid_worker",
        metadata=ask("Intake channel (domain.sources): grid_worker, hotline_12345 …", text=CODE),
    )
    stage_limits: dict[str, float] = field(
        default_factory=dict, metadata=by_application("Per-stage seconds (older rules form)")
    )
    rules: CaseRules | None = field(
        default=None, metadata=by_application("Policy × category × calendar, from intake")
    )
    self_handled: bool = field(
        default=False, metadata=ask("Fixed on the spot (自行处置)", option="--self-handled")
    )
    self_handling_result: str = field(
        default="",
        metadata=ask("What was done on the spot (with a self-handled report)", text=FREE_TEXT),
    )
    result_photos: tuple[str, ...] = field(
        default=(),
        metadata=ask("Photos after the self-handling", option="--result-photo", text=PHOTOS),
    )

    def as_sent(self) -> "ReportCase":
        """The report as the reporter sent it: without what the application resolved for
        it (its rules, which a change of policy between two sends may change)."""
        return replace(self, rules=None, stage_limits={})

    def same_as(self, other: "ReportCase") -> bool:
        """The same report sent again."""
        return self.as_sent() == other.as_sent()


@dataclass(frozen=True, kw_only=True)
class RequestVerification(Command):
    """Send a grid worker to verify a (public) report on site (核实)."""

    assignee: str = field(metadata=ask("The grid worker's user id", text=CODE))


@dataclass(frozen=True, kw_only=True)
class RecordVerification(Command):
    """核实 result, by the assigned grid worker."""

    confirmed: bool = field(
        metadata=ask("Did the grid worker find it on site?", flags=("--confirmed", "--refuted"))
    )
    note: str = field(
        default="", metadata=ask("What was found (required when refuted)", text=FREE_TEXT)
    )
    photos: tuple[str, ...] = field(
        default=(), metadata=ask(PHOTO_HELP, option="--photo", text=PHOTOS)
    )
    site: SiteFix | None = field(default=None, metadata=by_application(SITE))


@dataclass(frozen=True, kw_only=True)
class FileCase(Command):
    """立案 under a filing condition of the category (default: its first)."""

    note: str = field(default="", metadata=ask(NOTE, text=FREE_TEXT))
    condition: str = field(
        default="",
        metadata=ask(
            "Filing condition, e.g. E0101-01 (default: the category's first)",
            text=CODE,
            examples=("E0101-01",),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class RejectCase(Command):
    """不予受理 / 不予立案 (reason required)."""

    reason: str = field(metadata=ask(REASON, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class CancelCase(Command):
    """作废 a filed case (reason required)."""

    reason: str = field(metadata=ask(REASON, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class MergeCase(Command):
    """Merge this case, a duplicate, into the open case ``into``."""

    into: str = field(metadata=ask("The open case this duplicate merges into", text=CODE))
    note: str = field(default="", metadata=ask(NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class RecordDuplicate(Command):
    """The engine records on the surviving case that ``duplicate`` was merged into it."""

    duplicate: str = field(metadata=by_application("The case merged into this one", text=CODE))


@dataclass(frozen=True, kw_only=True)
class ReviewSelfHandling(Command):
    """Accept or refuse a grid worker's 自行处置."""

    approve: bool = field(metadata=ask(APPROVE, flags=APPROVE_FLAGS))
    note: str = field(default="", metadata=ask(DENY_NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class DispatchCase(Command):
    """派遣 to a department. ``suggested_department`` is what routing proposed."""

    department: str = field(
        metadata=ask("Department code; routing's suggestion when empty", proposed=True, text=CODE)
    )
    note: str = field(default="", metadata=ask(NOTE, text=FREE_TEXT))
    suggested_department: str = field(
        default="",
        metadata=by_application("What routing proposed (kept for evaluation)", text=CODE),
    )


@dataclass(frozen=True, kw_only=True)
class SignFor(Command):
    """签收."""


@dataclass(frozen=True, kw_only=True)
class RequestExtension(Command):
    """延期申请: ``amount`` is a time limit, e.g. "2 working_days"."""

    reason: str = field(metadata=ask(REASON, text=FREE_TEXT))
    amount: str = field(
        metadata=ask(
            'More time, e.g. "2 working_days", "4 working_hours" (at most the policy\'s '
            "max_extension)",
            text=AMOUNT,
            examples=("2 working_days", "4 working_hours"),
        )
    )


@dataclass(frozen=True, kw_only=True)
class DecideExtension(Command):
    """延期审批: the deadline moves by the amount asked, or stays."""

    approve: bool = field(metadata=ask(APPROVE, flags=APPROVE_FLAGS))
    note: str = field(default="", metadata=ask(DENY_NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class RequestReturn(Command):
    """回退申请 (reason required)."""

    reason: str = field(metadata=ask(REASON, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class DecideReturn(Command):
    """回退审批: back to dispatch (a wrong dispatch), or stays with the department."""

    approve: bool = field(metadata=ask(APPROVE, flags=APPROVE_FLAGS))
    note: str = field(default="", metadata=ask(DENY_NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class RequestSuspension(Command):
    """挂账申请 (reason required)."""

    reason: str = field(metadata=ask(REASON, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class DecideSuspension(Command):
    """挂账审批: the clock stops with the time left kept, or runs on."""

    approve: bool = field(metadata=ask(APPROVE, flags=APPROVE_FLAGS))
    note: str = field(default="", metadata=ask(DENY_NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class ResumeCase(Command):
    """End a suspension: the clock runs again."""

    note: str = field(default="", metadata=ask(NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class SubmitFeedback(Command):
    """处理反馈 (result text required, photos optional)."""

    result: str = field(metadata=ask("What was done", text=FREE_TEXT))
    photos: tuple[str, ...] = field(
        default=(), metadata=ask(PHOTO_HELP, option="--photo", text=PHOTOS)
    )


@dataclass(frozen=True, kw_only=True)
class RecordClosureCheck(Command):
    """核查: ``passed`` False sends the case back to the department (返工)."""

    passed: bool = field(
        metadata=ask("Did the re-check find it solved?", flags=("--pass", "--fail"))
    )
    note: str = field(
        default="", metadata=ask("What is still wrong (required with --fail)", text=FREE_TEXT)
    )
    photos: tuple[str, ...] = field(
        default=(), metadata=ask(PHOTO_HELP, option="--photo", text=PHOTOS)
    )
    site: SiteFix | None = field(default=None, metadata=by_application(SITE))


@dataclass(frozen=True, kw_only=True)
class CloseCase(Command):
    """结案."""

    note: str = field(default="", metadata=ask(NOTE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class UrgeCase(Command):
    """催办."""

    message: str = field(metadata=ask(MESSAGE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class SuperviseCase(Command):
    """督办 at a level; the department must reply."""

    level: SupervisionLevel = field(
        default=SupervisionLevel.ORDINARY, metadata=ask("ordinary, yellow or red")
    )
    message: str = field(metadata=ask(MESSAGE, text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class ReplyToSupervision(Command):
    """督办回复, by the department's handler."""

    reply: str = field(metadata=ask("The department's reply", option="--text", text=FREE_TEXT))


@dataclass(frozen=True, kw_only=True)
class MarkStageWarning(Command):
    """The engine's: a stage reached the warn share of its limit."""

    stage: Stage = field(metadata=by_application("The stage that turned yellow"))


@dataclass(frozen=True, kw_only=True)
class MarkStageOverdue(Command):
    """The engine's: a stage passed its deadline while still open."""

    stage: Stage = field(metadata=by_application("The stage that is overdue"))


@dataclass(frozen=True, kw_only=True)
class MarkBacklog(Command):
    """The engine's: a suspension lasted past the backlog threshold."""
