"""Oversight: urging and supervising (催办, 督办) and the clock's own steps (黄灯, 超期, 积存),
each with a notice. Supervision's side."""

from __future__ import annotations

from datetime import datetime

from domain import commands as c
from domain import events as e
from domain.errors import DeadlineNotReached, InvalidCommand, WrongStage
from domain.roles import Role
from domain.stages import DEPARTMENT_STAGES, Light, Stage, SupervisionLevel
from domain.state import CaseState
from domain.steps.common import OPEN_STAGES, text
from domain.steps.declaration import Audience, Emits, Notify, Side, stamp, step
from domain.timers import card_due_at

S = Side.SUPERVISION
SYSTEM = {Role.SYSTEM}


@step(
    c.UrgeCase,
    "urge",
    zh="催办",
    en="urge",
    roles={Role.SUPERVISOR, Role.LEADER},
    stages=OPEN_STAGES,
    side=S,
    emits=[
        Emits(
            e.CaseUrged,
            "催办",
            "urged",
            # Urged at a center stage (no department): supervision sees it in the timeline.
            Notify(
                "case_urged",
                Audience.DEPARTMENT,
                "case {case_id} urged (催办): {message}",
                ("message", "stage"),
            ),
        )
    ],
)
def _urge(state: CaseState, cmd: c.UrgeCase, now: datetime) -> list[e.Event]:
    assert state.stage is not None
    department = state.department if state.stage in DEPARTMENT_STAGES else ""
    return [
        e.CaseUrged(
            **stamp(state, cmd.actor, now),
            message=text(cmd.message, "a message"),
            stage=state.stage,
            department=department,
        )
    ]


@step(
    c.SuperviseCase,
    "supervise",
    zh="督办",
    en="supervise",
    roles={Role.SUPERVISOR, Role.LEADER, Role.SYSTEM},
    stages=DEPARTMENT_STAGES,
    side=S,
    emits=[
        Emits(
            e.SupervisionIssued,
            "督办",
            "supervised",
            Notify(
                "supervision_issued",
                Audience.DEPARTMENT,
                "case {case_id} supervised (督办, {level}): {message}",
                ("level", "message", "stage", "reply_due_at"),
            ),
        )
    ],
)
def _supervise(state: CaseState, cmd: c.SuperviseCase, now: datetime) -> list[e.Event]:
    assert state.stage is not None
    try:
        level = SupervisionLevel(cmd.level)
    except ValueError:
        known = ", ".join(level.value for level in SupervisionLevel)
        raise InvalidCommand(f"supervision level {cmd.level!r} is not one of {known}") from None
    if cmd.actor.role is Role.SYSTEM:
        _automatic_card_due(state, level, now)
    return [
        e.SupervisionIssued(
            **stamp(state, cmd.actor, now),
            level=level,
            message=text(cmd.message, "a message"),
            stage=state.stage,
            department=state.department,
            reply_due_at=state.rules.add(now, state.rules.reply_limit),
        )
    ]


def _automatic_card_due(state: CaseState, level: SupervisionLevel, now: datetime) -> None:
    """The ladder's cards: only past their threshold, and only upward."""
    current = state.supervision_level
    if current is not None and level.rank <= current.rank:
        raise WrongStage(f"case {state.case_id} is already under {current.value} supervision")
    at = card_due_at(state, level)
    if at is None or state.light is not Light.RED:
        raise WrongStage(f"no automatic {level.value} card is due for case {state.case_id}")
    if now < at:
        raise DeadlineNotReached(
            f"the automatic {level.value} card of case {state.case_id} is due at {at.isoformat()}"
        )


def _mark(state: CaseState, stage: Stage, at: datetime | None, now: datetime, what: str) -> None:
    if state.stage is not stage or state.is_terminal:
        raise WrongStage(f"case {state.case_id} is no longer at stage {stage.label}")
    if at is None:
        raise WrongStage(f"stage {stage.label} of case {state.case_id} has no {what} time")
    if now < at:
        raise DeadlineNotReached(
            f"stage {stage.label} of case {state.case_id} reaches its {what} time at "
            f"{at.isoformat()}, not yet at {now.isoformat()}"
        )


@step(
    c.MarkStageWarning,
    "mark_warning",
    zh="黄灯预警",
    en="mark warning",
    roles=SYSTEM,
    stages=OPEN_STAGES,
    side=S,
    human=False,
    emits=[
        Emits(
            e.StageWarned,
            "黄灯预警",
            "stage warning",
            Notify(
                "stage_warning",
                Audience.SUPERVISION,
                "case {case_id}: stage {stage} turned yellow, due {due_at}",
                ("stage", "due_at"),
            ),
        )
    ],
)
def _mark_warning(state: CaseState, cmd: c.MarkStageWarning, now: datetime) -> list[e.Event]:
    _mark(state, cmd.stage, state.stage_warn_at, now, "warning")
    if state.light is not Light.GREEN:
        raise WrongStage(
            f"stage {cmd.stage.label} of case {state.case_id} is already {state.light}"
        )
    assert state.stage_due_at is not None
    return [
        e.StageWarned(**stamp(state, cmd.actor, now), stage=cmd.stage, due_at=state.stage_due_at)
    ]


@step(
    c.MarkStageOverdue,
    "mark_overdue",
    zh="超期",
    en="mark overdue",
    roles=SYSTEM,
    stages=OPEN_STAGES,
    side=S,
    human=False,
    emits=[
        Emits(
            e.StageOverdue,
            "超期",
            "stage overdue",
            Notify(
                "stage_overdue",
                Audience.SUPERVISION,
                "case {case_id}: stage {stage} passed its deadline {due_at}",
                ("stage", "due_at"),
            ),
        )
    ],
)
def _mark_overdue(state: CaseState, cmd: c.MarkStageOverdue, now: datetime) -> list[e.Event]:
    _mark(state, cmd.stage, state.stage_due_at, now, "deadline")
    if state.light is Light.RED:
        raise WrongStage(f"stage {cmd.stage.label} of case {state.case_id} is already overdue")
    assert state.stage_due_at is not None
    return [
        e.StageOverdue(**stamp(state, cmd.actor, now), stage=cmd.stage, due_at=state.stage_due_at)
    ]


@step(
    c.MarkBacklog,
    "mark_backlog",
    zh="积存",
    en="mark backlog",
    roles=SYSTEM,
    stages={Stage.HANDLE},
    side=S,
    human=False,
    emits=[
        Emits(
            e.CaseBacklogged,
            "积存",
            "backlog",
            Notify(
                "case_backlogged",
                Audience.SUPERVISION,
                "case {case_id}: suspended since {suspended_since}: backlog (积存)",
                ("suspended_since",),
            ),
        )
    ],
)
def _mark_backlog(state: CaseState, cmd: c.MarkBacklog, now: datetime) -> list[e.Event]:
    if not state.suspended or state.suspended_at is None:
        raise WrongStage(f"case {state.case_id} is not suspended")
    if state.backlog:
        raise WrongStage(f"case {state.case_id} is already counted as backlog (积存)")
    if state.backlog_at is None or now < state.backlog_at:
        raise DeadlineNotReached(f"case {state.case_id} is not yet backlog")
    return [e.CaseBacklogged(**stamp(state, cmd.actor, now), suspended_since=state.suspended_at)]
