"""The case as a decider: ``decide(state, command, now) -> events``, ``evolve(state, event)``.

Everything else in gridcase (workflow, store, API) is plumbing around these two functions.
The per-command decisions live in ``domain.decisions``; what is checked here, for every
command alike, is who may give it (role) and in which stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain import commands as c
from domain import events as e
from domain.decisions import DECIDERS, stamp
from domain.errors import WrongRole, WrongStage
from domain.evolution import apply
from domain.roles import Role
from domain.stages import DEPARTMENT_STAGES, Stage
from domain.state import CaseState, PendingRequest, initial_state, updated

__all__ = ["CaseState", "PendingRequest", "decide", "evolve", "fold", "initial_state"]


CENTER_FILERS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER})
APPROVERS = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER})

# Which roles may give each command. Separation of supervision and disposal (监督与处置
# 相分离): a department handler can never file, check or close.
PERMISSIONS: dict[type[c.Command], frozenset[Role]] = {
    c.ReportCase: frozenset({Role.GRID_WORKER, Role.ACCEPTOR}),
    c.RequestVerification: CENTER_FILERS,
    c.RecordVerification: frozenset({Role.GRID_WORKER}),
    c.FileCase: CENTER_FILERS,
    c.RejectCase: CENTER_FILERS,
    c.CancelCase: frozenset({Role.SHIFT_LEADER}),
    c.MergeCase: CENTER_FILERS,
    c.RecordDuplicate: frozenset({Role.SYSTEM}),
    c.ReviewSelfHandling: CENTER_FILERS,
    c.DispatchCase: frozenset({Role.DISPATCHER}),
    c.SignFor: frozenset({Role.HANDLER}),
    c.RequestExtension: frozenset({Role.HANDLER}),
    c.DecideExtension: APPROVERS,
    c.RequestReturn: frozenset({Role.HANDLER}),
    c.DecideReturn: APPROVERS,
    c.RequestSuspension: frozenset({Role.HANDLER}),
    c.DecideSuspension: frozenset({Role.DISPATCHER, Role.LEADER}),
    c.ResumeCase: frozenset({Role.DISPATCHER, Role.LEADER}),
    c.SubmitFeedback: frozenset({Role.HANDLER}),
    c.RecordClosureCheck: frozenset({Role.GRID_WORKER}),
    c.CloseCase: frozenset({Role.SHIFT_LEADER}),
    c.UrgeCase: frozenset({Role.SUPERVISOR, Role.LEADER}),
    c.SuperviseCase: frozenset({Role.SUPERVISOR, Role.LEADER, Role.SYSTEM}),
    c.ReplyToSupervision: frozenset({Role.HANDLER}),
    c.MarkStageWarning: frozenset({Role.SYSTEM}),
    c.MarkStageOverdue: frozenset({Role.SYSTEM}),
    c.MarkBacklog: frozenset({Role.SYSTEM}),
}

OPEN_STAGES = frozenset(s for s in Stage if s.is_open)
FILED_STAGES = frozenset({Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE})

# The stages each command needs the case to be in (ReportCase needs no case yet).
REQUIRED_STAGES: dict[type[c.Command], frozenset[Stage]] = {
    c.RequestVerification: frozenset({Stage.VERIFY}),
    c.RecordVerification: frozenset({Stage.VERIFY}),
    c.FileCase: frozenset({Stage.VERIFY}),
    c.RejectCase: frozenset({Stage.VERIFY}),
    c.CancelCase: FILED_STAGES,
    c.MergeCase: frozenset({Stage.VERIFY, Stage.DISPATCH}),
    c.RecordDuplicate: OPEN_STAGES,
    c.ReviewSelfHandling: frozenset({Stage.REVIEW}),
    c.DispatchCase: frozenset({Stage.DISPATCH}),
    c.SignFor: frozenset({Stage.SIGN_FOR}),
    c.RequestExtension: frozenset({Stage.HANDLE}),
    c.DecideExtension: frozenset({Stage.HANDLE}),
    c.RequestReturn: DEPARTMENT_STAGES,
    c.DecideReturn: DEPARTMENT_STAGES,
    c.RequestSuspension: frozenset({Stage.HANDLE}),
    c.DecideSuspension: frozenset({Stage.HANDLE}),
    c.ResumeCase: frozenset({Stage.HANDLE}),
    c.SubmitFeedback: frozenset({Stage.HANDLE}),
    c.RecordClosureCheck: frozenset({Stage.CHECK}),
    c.CloseCase: frozenset({Stage.CLOSE}),
    c.UrgeCase: OPEN_STAGES,
    c.SuperviseCase: DEPARTMENT_STAGES,
    c.ReplyToSupervision: DEPARTMENT_STAGES | {Stage.CHECK, Stage.CLOSE},
    c.MarkStageWarning: OPEN_STAGES,
    c.MarkStageOverdue: OPEN_STAGES,
    c.MarkBacklog: frozenset({Stage.HANDLE}),
}

COMMAND_LABELS: dict[type[c.Command], str] = {
    c.ReportCase: "report (上报)",
    c.RequestVerification: "request verification (核实)",
    c.RecordVerification: "record verification (核实)",
    c.FileCase: "file (立案)",
    c.RejectCase: "reject (不予立案)",
    c.CancelCase: "cancel (作废)",
    c.MergeCase: "merge (合并)",
    c.RecordDuplicate: "record a duplicate",
    c.ReviewSelfHandling: "review self-handling (自行处置审核)",
    c.DispatchCase: "dispatch (派遣)",
    c.SignFor: "sign for (签收)",
    c.RequestExtension: "request extension (延期申请)",
    c.DecideExtension: "decide extension (延期审批)",
    c.RequestReturn: "request return (回退申请)",
    c.DecideReturn: "decide return (回退审批)",
    c.RequestSuspension: "request suspension (挂账申请)",
    c.DecideSuspension: "decide suspension (挂账审批)",
    c.ResumeCase: "resume (恢复)",
    c.SubmitFeedback: "feed back (处理反馈)",
    c.RecordClosureCheck: "check (核查)",
    c.CloseCase: "close (结案)",
    c.UrgeCase: "urge (催办)",
    c.SuperviseCase: "supervise (督办)",
    c.ReplyToSupervision: "reply to supervision (督办回复)",
    c.MarkStageWarning: "mark warning (黄灯)",
    c.MarkStageOverdue: "mark overdue (超期)",
    c.MarkBacklog: "mark backlog (积存)",
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
        if state.stage is None:
            raise WrongStage(f"case {state.case_id} has not been reported")
        needed = REQUIRED_STAGES[kind]
        if state.stage not in needed:
            stages = " or ".join(sorted(s.label for s in needed))
            raise WrongStage(
                f"cannot {label} case {state.case_id}: it is at stage {state.stage.label}, "
                f"{label} needs stage {stages}"
            )
    draft = DECIDERS[kind](state, command, now)
    return [
        stamp(k, fields, state, command.actor, now, i) for i, (k, fields) in enumerate(draft, 1)
    ]


def evolve(state: CaseState, event: e.Event) -> CaseState:
    """The state after ``event``. Total for every event the decider can emit."""
    if event.version != state.version + 1:
        raise ValueError(
            f"event {event.type} v{event.version} does not follow case "
            f"{state.case_id} at v{state.version}"
        )
    return apply(updated(state, version=event.version), event)


def fold(case_id: str, events: Iterable[e.Event]) -> CaseState:
    state = initial_state(case_id)
    for event in events:
        state = evolve(state, event)
    return state
