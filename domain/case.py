"""The case as a decider: ``decide(state, command, now) -> events``, ``evolve(state, event)``.

Everything else in gridcase (workflow, store, API) is plumbing around these two functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain import commands as c
from domain import events as e
from domain.errors import DeadlineNotReached, InvalidCommand, NotYourCase, WrongRole, WrongStage
from domain.roles import Actor, Role
from domain.stages import Stage, StagePolicy, Status, status_of


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
    stage_limits: dict[str, float] = field(default_factory=dict)
    stage_entered_at: datetime | None = None
    stage_due_at: datetime | None = None
    stage_overdue: bool = False
    overdue_count: int = 0
    department: str = ""
    rework_count: int = 0
    closed_at: datetime | None = None

    @property
    def reported(self) -> bool:
        return self.stage is not None

    @property
    def status(self) -> Status | None:
        return None if self.stage is None else status_of(self.stage)

    @property
    def is_terminal(self) -> bool:
        return self.stage is not None and not self.stage.is_open


def initial_state(case_id: str) -> CaseState:
    return CaseState(case_id=case_id)


# Which roles may give each command. Separation of supervision and disposal (监督与处置
# 相分离): a department handler can never file, check or close.
PERMISSIONS: dict[type[c.Command], frozenset[Role]] = {
    c.ReportCase: frozenset({Role.GRID_WORKER, Role.ACCEPTOR}),
    c.FileCase: frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER}),
    c.RejectCase: frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER}),
    c.DispatchCase: frozenset({Role.DISPATCHER}),
    c.SignFor: frozenset({Role.HANDLER}),
    c.SubmitFeedback: frozenset({Role.HANDLER}),
    c.RecordClosureCheck: frozenset({Role.GRID_WORKER}),
    c.CloseCase: frozenset({Role.SHIFT_LEADER}),
    c.MarkStageOverdue: frozenset({Role.SYSTEM}),
}

# The stage each command needs the case to be in (ReportCase needs no case yet).
REQUIRED_STAGE: dict[type[c.Command], Stage] = {
    c.FileCase: Stage.VERIFY,
    c.RejectCase: Stage.VERIFY,
    c.DispatchCase: Stage.DISPATCH,
    c.SignFor: Stage.SIGN_FOR,
    c.SubmitFeedback: Stage.HANDLE,
    c.RecordClosureCheck: Stage.CHECK,
    c.CloseCase: Stage.CLOSE,
}

COMMAND_LABELS: dict[type[c.Command], str] = {
    c.ReportCase: "report (上报)",
    c.FileCase: "file (立案)",
    c.RejectCase: "reject (不予立案)",
    c.DispatchCase: "dispatch (派遣)",
    c.SignFor: "sign for (签收)",
    c.SubmitFeedback: "feed back (处理反馈)",
    c.RecordClosureCheck: "check (核查)",
    c.CloseCase: "close (结案)",
    c.MarkStageOverdue: "mark overdue (超期)",
}


def decide(state: CaseState, command: c.Command, now: datetime) -> list[e.Event]:
    """The events that ``command`` at ``now`` produces, or a DomainError saying why not."""
    if now.tzinfo is None:
        raise ValueError("decide needs a timezone-aware 'now'")
    kind = type(command)
    label = COMMAND_LABELS[kind]
    allowed = PERMISSIONS[kind]
    if command.actor.role not in allowed:
        roles = ", ".join(sorted(r.label for r in allowed))
        raise WrongRole(f"{command.actor.role.label} may not {label}; only {roles} may")
    if isinstance(command, c.ReportCase):
        if state.reported:
            raise WrongStage(f"case {state.case_id} is already reported")
    else:
        if not state.reported or state.stage is None:
            raise WrongStage(f"case {state.case_id} has not been reported")
        needed = REQUIRED_STAGE.get(kind)
        if needed is not None and state.stage is not needed:
            raise WrongStage(
                f"cannot {label} case {state.case_id}: it is at stage {state.stage.label}, "
                f"{label} needs stage {needed.label}"
            )
    draft = _DECIDERS[kind](state, command, now)
    return [
        _stamp(kind_, fields, state, command.actor, now, i)
        for i, (kind_, fields) in enumerate(draft, 1)
    ]


def evolve(state: CaseState, event: e.Event) -> CaseState:
    """The state after ``event``. Total for every event the decider can emit."""
    if event.version != state.version + 1:
        raise ValueError(
            f"event {event.type} v{event.version} does not follow case "
            f"{state.case_id} at v{state.version}"
        )
    base = replace(state, version=event.version)
    match event:
        case e.CaseReported():
            return _enter(
                replace(
                    base,
                    category=event.category,
                    grid=event.grid,
                    description=event.description,
                    location=event.location,
                    source=event.source,
                    reporter_id=event.actor.id,
                    reported_at=event.occurred_at,
                    stage_limits=dict(event.stage_limits),
                ),
                Stage.VERIFY,
                event,
            )
        case e.CaseFiled():
            return _enter(base, Stage.DISPATCH, event)
        case e.CaseRejected():
            return _enter(replace(base, closed_at=event.occurred_at), Stage.REJECTED, event)
        case e.CaseDispatched():
            return _enter(replace(base, department=event.department), Stage.SIGN_FOR, event)
        case e.TaskSignedFor():
            return _enter(base, Stage.HANDLE, event)
        case e.FeedbackSubmitted():
            return _enter(base, Stage.CHECK, event)
        case e.ClosureCheckPassed():
            return _enter(base, Stage.CLOSE, event)
        case e.ClosureCheckFailed():
            return base  # ReworkOrdered, which always follows, moves the case
        case e.ReworkOrdered():
            return _enter(replace(base, rework_count=event.cycle), Stage.HANDLE, event)
        case e.CaseClosed():
            return _enter(replace(base, closed_at=event.occurred_at), Stage.CLOSED, event)
        case e.StageOverdue():
            return replace(base, stage_overdue=True, overdue_count=state.overdue_count + 1)
    raise TypeError(f"evolve does not know event type {event.type}")


def fold(case_id: str, events: Iterable[e.Event]) -> CaseState:
    state = initial_state(case_id)
    for event in events:
        state = evolve(state, event)
    return state


def _enter(state: CaseState, stage: Stage, event: e.Event) -> CaseState:
    due = getattr(event, "due_at", None)
    return replace(
        state,
        stage=stage,
        stage_entered_at=event.occurred_at,
        stage_due_at=due if stage.is_open else None,
        stage_overdue=False,
    )


Draft = list[tuple[type[e.Event], dict[str, Any]]]


def _stamp(
    kind: type[e.Event],
    fields: dict[str, Any],
    state: CaseState,
    actor: Actor,
    now: datetime,
    offset: int,
) -> e.Event:
    return kind(
        case_id=state.case_id,
        version=state.version + offset,
        occurred_at=now,
        actor=actor,
        **fields,
    )


def _due(state: CaseState, stage: Stage, now: datetime) -> datetime | None:
    return StagePolicy.from_dict(state.stage_limits).due(stage, now)


def _required_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{what} is required")
    return value.strip()


def _report(state: CaseState, cmd: c.ReportCase, now: datetime) -> Draft:
    category = _required_text(cmd.category, "category")
    grid = _required_text(cmd.grid, "grid")
    description = _required_text(cmd.description, "description")
    if cmd.location is not None:
        lon, lat = cmd.location.lon, cmd.location.lat
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise InvalidCommand(f"location ({lon}, {lat}) is not a WGS84 longitude/latitude")
    try:
        policy = StagePolicy.from_dict(cmd.stage_limits) if cmd.stage_limits else StagePolicy()
    except ValueError as exc:
        raise InvalidCommand(str(exc)) from None
    limits = policy.to_dict()
    reported = replace(state, stage_limits=limits)
    return [
        (
            e.CaseReported,
            {
                "category": category,
                "grid": grid,
                "description": description,
                "location": cmd.location,
                "photos": tuple(cmd.photos),
                "source": _required_text(cmd.source, "source"),
                "stage_limits": limits,
                "due_at": _due(reported, Stage.VERIFY, now),
            },
        )
    ]


def _file(state: CaseState, cmd: c.FileCase, now: datetime) -> Draft:
    return [(e.CaseFiled, {"note": cmd.note, "due_at": _due(state, Stage.DISPATCH, now)})]


def _reject(state: CaseState, cmd: c.RejectCase, now: datetime) -> Draft:
    return [(e.CaseRejected, {"reason": _required_text(cmd.reason, "a reason for rejecting")})]


def _dispatch(state: CaseState, cmd: c.DispatchCase, now: datetime) -> Draft:
    department = _required_text(cmd.department, "department")
    due = _due(state, Stage.SIGN_FOR, now)
    return [(e.CaseDispatched, {"department": department, "note": cmd.note, "due_at": due})]


def _check_department(state: CaseState, actor: Actor) -> None:
    if actor.unit != state.department:
        raise NotYourCase(
            f"case {state.case_id} is with department {state.department!r}; "
            f"handler {actor.id} acts for {actor.unit or 'no department'}"
        )


def _sign_for(state: CaseState, cmd: c.SignFor, now: datetime) -> Draft:
    _check_department(state, cmd.actor)
    due = _due(state, Stage.HANDLE, now)
    return [(e.TaskSignedFor, {"department": state.department, "due_at": due})]


def _feedback(state: CaseState, cmd: c.SubmitFeedback, now: datetime) -> Draft:
    _check_department(state, cmd.actor)
    fields = {
        "department": state.department,
        "result": _required_text(cmd.result, "a result"),
        "photos": tuple(cmd.photos),
        "due_at": _due(state, Stage.CHECK, now),
    }
    return [(e.FeedbackSubmitted, fields)]


def _check(state: CaseState, cmd: c.RecordClosureCheck, now: datetime) -> Draft:
    if cmd.passed:
        return [(e.ClosureCheckPassed, {"note": cmd.note, "due_at": _due(state, Stage.CLOSE, now)})]
    note = _required_text(cmd.note, "a note saying what is still wrong")
    rework = {
        "department": state.department,
        "cycle": state.rework_count + 1,
        "due_at": _due(state, Stage.HANDLE, now),
    }
    return [(e.ClosureCheckFailed, {"note": note}), (e.ReworkOrdered, rework)]


def _close(state: CaseState, cmd: c.CloseCase, now: datetime) -> Draft:
    return [(e.CaseClosed, {"note": cmd.note})]


def _mark_overdue(state: CaseState, cmd: c.MarkStageOverdue, now: datetime) -> Draft:
    if state.stage is not cmd.stage or state.is_terminal:
        raise WrongStage(f"case {state.case_id} is no longer at stage {cmd.stage.label}")
    if state.stage_due_at is None:
        raise WrongStage(f"stage {cmd.stage.label} of case {state.case_id} has no deadline")
    if state.stage_overdue:
        raise WrongStage(f"stage {cmd.stage.label} of case {state.case_id} is already overdue")
    if now < state.stage_due_at:
        raise DeadlineNotReached(
            f"stage {cmd.stage.label} of case {state.case_id} is due at "
            f"{state.stage_due_at.isoformat()}, not yet at {now.isoformat()}"
        )
    return [(e.StageOverdue, {"stage": cmd.stage, "due_at": state.stage_due_at})]


_DECIDERS: dict[type[c.Command], Callable[[CaseState, Any, datetime], Draft]] = {
    c.ReportCase: _report,
    c.FileCase: _file,
    c.RejectCase: _reject,
    c.DispatchCase: _dispatch,
    c.SignFor: _sign_for,
    c.SubmitFeedback: _feedback,
    c.RecordClosureCheck: _check,
    c.CloseCase: _close,
    c.MarkStageOverdue: _mark_overdue,
}
