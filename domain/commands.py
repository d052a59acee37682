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
from domain.stages import Stage


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class ReportCase(Command):
    """上报. ``stage_limits`` (stage -> seconds) is the stage-limit policy of this case."""

    category: str
    grid: str
    description: str
    location: Location | None = None
    photos: tuple[str, ...] = ()
    source: str = "grid_worker"
    stage_limits: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FileCase(Command):
    """立案."""

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RejectCase(Command):
    """不予立案 (reason required)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class DispatchCase(Command):
    """派遣 to a department."""

    department: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SignFor(Command):
    """签收."""


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


@dataclass(frozen=True, kw_only=True)
class CloseCase(Command):
    """结案."""

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class MarkStageOverdue(Command):
    """The engine's own command when a stage deadline passes with the stage still open."""

    stage: Stage


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        ReportCase,
        FileCase,
        RejectCase,
        DispatchCase,
        SignFor,
        SubmitFeedback,
        RecordClosureCheck,
        CloseCase,
        MarkStageOverdue,
    )
}
