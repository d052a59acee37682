"""Disposal (处置): dispatch, the department's steps (sign for, feed back, its requests and
replies) and the center's answers to its requests. Disposal's side."""

from __future__ import annotations

from datetime import datetime

from domain import commands as c
from domain import events as e
from domain.calendar import CalendarNotCovered, TimeLimit, TimeUnit
from domain.errors import InvalidCommand, WrongStage
from domain.roles import Actor, Role
from domain.rules import CaseRules
from domain.stages import DEPARTMENT_STAGES, Stage
from domain.state import CaseState
from domain.steps.common import (
    APPROVERS,
    clock,
    clock_until,
    disposal_due,
    free_to_act,
    own_department,
    pending_of,
    text,
)
from domain.steps.declaration import Audience, Emits, Notify, Side, stamp, step

D = Side.DISPOSAL
HANDLER = {Role.HANDLER}
SUSPENSION_APPROVERS = {Role.DISPATCHER, Role.LEADER}


@step(
    c.DispatchCase,
    "dispatch",
    zh="派遣",
    en="dispatch",
    roles={Role.DISPATCHER},
    stages={Stage.DISPATCH},
    side=D,
    emits=[
        Emits(
            e.CaseDispatched,
            "派遣",
            "dispatched",
            Notify(
                "task_assigned",
                Audience.DEPARTMENT,
                "case {case_id} dispatched to you (派遣), sign for by {due_at}",
                ("due_at", "disposal_due_at"),
            ),
        )
    ],
)
def _dispatch(state: CaseState, cmd: c.DispatchCase, now: datetime) -> list[e.Event]:
    department = text(cmd.department, "department")
    due = disposal_due(state, now)
    sign_for = clock(state.rules, Stage.SIGN_FOR, now)
    if due is not None and (sign_for["due_at"] is None or sign_for["due_at"] > due):
        sign_for = clock_until(state.rules, due, now)
    return [
        e.CaseDispatched(
            **stamp(state, cmd.actor, now),
            **sign_for,
            department=department,
            note=cmd.note,
            suggested_department=cmd.suggested_department,
            disposal_due_at=due,
        )
    ]


@step(
    c.SignFor,
    "sign_for",
    zh="签收",
    en="sign for",
    roles=HANDLER,
    stages={Stage.SIGN_FOR},
    side=D,
    requires=own_department,
    emits=[Emits(e.TaskSignedFor, "签收", "signed for")],
)
def _sign_for(state: CaseState, cmd: c.SignFor, now: datetime) -> list[e.Event]:
    running = clock_until(state.rules, state.disposal_due_at, now)
    if state.disposal_due_at is None:  # cases dispatched before disposal limits existed
        running = clock(state.rules, Stage.HANDLE, now)
    return [e.TaskSignedFor(**stamp(state, cmd.actor, now), **running, department=state.department)]


def decision_due(state: CaseState, now: datetime) -> datetime:
    """When the center must answer a department's request made at ``now``."""
    return state.rules.add(now, state.rules.approval_limit)


def _may_ask_for_extension(state: CaseState, actor: Actor) -> None:
    """Requires: own department, not suspended, no request waiting, an extension left
    (policy `max_extensions`, urgent cases one more)."""
    free_to_act(state, actor, "asking for an extension")
    allowed = state.rules.extensions_allowed
    if state.extension_count >= allowed:
        raise WrongStage(
            f"case {state.case_id} has had {state.extension_count} extension(s); "
            f"an {state.rules.urgency} case may have {allowed}"
        )


def _amount(text: str) -> TimeLimit:
    try:
        return TimeLimit.parse(text)
    except ValueError as exc:
        raise InvalidCommand(f"extension amount: {exc}") from None


def _no_longer(rules: CaseRules, now: datetime, amount: TimeLimit, most: TimeLimit) -> bool:
    """In the same unit, by amount; in another, by the deadline each gives from ``now``,
    or by nominal length where the case's calendar cannot say (or the amount is absurd)."""
    if amount.unit is most.unit:
        return amount.amount <= most.amount
    try:
        return rules.add(now, amount) <= rules.add(now, most)
    except (CalendarNotCovered, OverflowError):
        day = rules.working_calendar.working_day_seconds
        return amount.nominal_seconds(day) <= most.nominal_seconds(day)


def _extension_within_policy(state: CaseState, cmd: c.RequestExtension, now: datetime) -> None:
    """An extension asks for at most the policy's ``max_extension`` (and, as every time
    limit, for more than nothing)."""
    most = state.rules.max_extension
    if not _no_longer(state.rules, now, _amount(cmd.amount), most):
        raise InvalidCommand(
            f"extension amount {cmd.amount.strip()} is more than one extension may ask for: "
            f"at most {most} ({most.label_zh}, the policy's max_extension)"
        )


@step(
    c.RequestExtension,
    "request_extension",
    zh="延期申请",
    en="request extension",
    roles=HANDLER,
    stages={Stage.HANDLE},
    side=D,
    requires=_may_ask_for_extension,
    checks=_extension_within_policy,
    emits=[Emits(e.ExtensionRequested, "延期申请", "extension requested")],
)
def _request_extension(state: CaseState, cmd: c.RequestExtension, now: datetime) -> list[e.Event]:
    amount = str(_amount(cmd.amount))
    return [
        e.ExtensionRequested(
            **stamp(state, cmd.actor, now),
            department=state.department,
            reason=text(cmd.reason, "a reason"),
            amount=amount,
            decision_due_at=decision_due(state, now),
        )
    ]


def _extension_waiting(state: CaseState, actor: Actor) -> None:
    """Requires: an extension request waiting."""
    pending_of(state, "extension")


@step(
    c.DecideExtension,
    "decide_extension",
    zh="延期审批",
    en="decide extension",
    roles=APPROVERS,
    stages={Stage.HANDLE},
    side=D,
    requires=_extension_waiting,
    emits=[
        Emits(e.ExtensionGranted, "延期批准", "extension granted"),
        Emits(e.ExtensionDenied, "延期驳回", "extension denied"),
    ],
)
def _decide_extension(state: CaseState, cmd: c.DecideExtension, now: datetime) -> list[e.Event]:
    env = stamp(state, cmd.actor, now)
    if not cmd.approve:
        return [e.ExtensionDenied(**env, note=text(cmd.note, "a reason for denying"))]
    assert state.pending is not None and state.pending.amount is not None
    base = state.disposal_due_at or state.stage_due_at or now
    new_due = state.rules.add(base, state.pending.amount)
    return [
        e.ExtensionGranted(
            **env,
            **clock_until(state.rules, new_due, now),
            amount=str(state.pending.amount),
            note=cmd.note,
            disposal_due_at=new_due,
        )
    ]


def _may_ask_for_return(state: CaseState, actor: Actor) -> None:
    """Requires: own department, not suspended, no request waiting."""
    free_to_act(state, actor, "asking for a return")


@step(
    c.RequestReturn,
    "request_return",
    zh="回退申请",
    en="request return",
    roles=HANDLER,
    stages=DEPARTMENT_STAGES,
    side=D,
    requires=_may_ask_for_return,
    emits=[Emits(e.ReturnRequested, "回退申请", "return requested")],
)
def _request_return(state: CaseState, cmd: c.RequestReturn, now: datetime) -> list[e.Event]:
    return [
        e.ReturnRequested(
            **stamp(state, cmd.actor, now),
            department=state.department,
            reason=text(cmd.reason, "a reason for returning"),
            decision_due_at=decision_due(state, now),
        )
    ]


def _return_waiting(state: CaseState, actor: Actor) -> None:
    """Requires: a return request waiting."""
    pending_of(state, "return")


@step(
    c.DecideReturn,
    "decide_return",
    zh="回退审批",
    en="decide return",
    roles=APPROVERS,
    stages=DEPARTMENT_STAGES,
    side=D,
    requires=_return_waiting,
    emits=[
        Emits(e.CaseReturned, "回退", "returned"),
        Emits(e.ReturnDenied, "回退驳回", "return denied"),
    ],
)
def _decide_return(state: CaseState, cmd: c.DecideReturn, now: datetime) -> list[e.Event]:
    env = stamp(state, cmd.actor, now)
    if not cmd.approve:
        return [e.ReturnDenied(**env, note=text(cmd.note, "a reason for denying"))]
    assert state.pending is not None
    return [
        e.CaseReturned(
            **env,
            **clock(state.rules, Stage.DISPATCH, now),
            department=state.department,
            reason=state.pending.reason,
            note=cmd.note,
        )
    ]


def _may_ask_for_suspension(state: CaseState, actor: Actor) -> None:
    """Requires: own department, not suspended, no request waiting."""
    free_to_act(state, actor, "asking for a suspension")


@step(
    c.RequestSuspension,
    "request_suspension",
    zh="挂账申请",
    en="request suspension",
    roles=HANDLER,
    stages={Stage.HANDLE},
    side=D,
    requires=_may_ask_for_suspension,
    emits=[Emits(e.SuspensionRequested, "挂账申请", "suspension requested")],
)
def _request_suspension(state: CaseState, cmd: c.RequestSuspension, now: datetime) -> list[e.Event]:
    return [
        e.SuspensionRequested(
            **stamp(state, cmd.actor, now),
            department=state.department,
            reason=text(cmd.reason, "a reason"),
            decision_due_at=decision_due(state, now),
        )
    ]


def _suspension_waiting(state: CaseState, actor: Actor) -> None:
    """Requires: a suspension request waiting."""
    pending_of(state, "suspension")


@step(
    c.DecideSuspension,
    "decide_suspension",
    zh="挂账审批",
    en="decide suspension",
    roles=SUSPENSION_APPROVERS,
    stages={Stage.HANDLE},
    side=D,
    requires=_suspension_waiting,
    emits=[
        Emits(e.CaseSuspended, "挂账", "suspended"),
        Emits(e.SuspensionDenied, "挂账驳回", "suspension denied"),
    ],
)
def _decide_suspension(state: CaseState, cmd: c.DecideSuspension, now: datetime) -> list[e.Event]:
    env = stamp(state, cmd.actor, now)
    if not cmd.approve:
        return [e.SuspensionDenied(**env, note=text(cmd.note, "a reason for denying"))]
    rules = state.rules
    limit = rules.disposal_limit(state.condition)
    unit = limit.unit if limit else TimeUnit.MINUTES
    due = state.disposal_due_at or state.stage_due_at
    left = rules.remaining(now, due, unit) if due else None
    return [
        e.CaseSuspended(
            **env,
            note=cmd.note,
            remaining=str(left) if left else "",
            backlog_at=rules.add(now, rules.backlog_after),
        )
    ]


def _suspended(state: CaseState, actor: Actor) -> None:
    """Requires: the case is suspended."""
    if not state.suspended:
        raise WrongStage(f"case {state.case_id} is not suspended")


@step(
    c.ResumeCase,
    "resume",
    zh="恢复处置",
    en="resume",
    roles=SUSPENSION_APPROVERS,
    stages={Stage.HANDLE},
    side=D,
    requires=_suspended,
    emits=[Emits(e.CaseResumed, "恢复处置", "resumed")],
)
def _resume(state: CaseState, cmd: c.ResumeCase, now: datetime) -> list[e.Event]:
    due = state.rules.add(now, state.remaining) if state.remaining else now
    return [
        e.CaseResumed(
            **stamp(state, cmd.actor, now),
            **clock_until(state.rules, due, now),
            note=cmd.note,
            disposal_due_at=due,
        )
    ]


def _may_feed_back(state: CaseState, actor: Actor) -> None:
    """Requires: own department, not suspended, no request waiting."""
    free_to_act(state, actor, "feeding back")


@step(
    c.SubmitFeedback,
    "feedback",
    zh="处理反馈",
    en="feed back",
    roles=HANDLER,
    stages={Stage.HANDLE},
    side=D,
    requires=_may_feed_back,
    emits=[Emits(e.FeedbackSubmitted, "处理反馈", "feedback")],
)
def _feedback(state: CaseState, cmd: c.SubmitFeedback, now: datetime) -> list[e.Event]:
    return [
        e.FeedbackSubmitted(
            **stamp(state, cmd.actor, now),
            **clock(state.rules, Stage.CHECK, now),
            department=state.department,
            result=text(cmd.result, "a result"),
            photos=tuple(cmd.photos),
        )
    ]


def _supervision_waiting(state: CaseState, actor: Actor) -> None:
    """Requires: own department, a 督办 waiting for its reply."""
    own_department(state, actor)
    if not state.supervision_pending:
        raise WrongStage(f"case {state.case_id} has no supervision waiting for a reply")


@step(
    c.ReplyToSupervision,
    "reply_supervision",
    zh="督办回复",
    en="reply to supervision",
    cli="reply",
    roles=HANDLER,
    stages=DEPARTMENT_STAGES | {Stage.CHECK, Stage.CLOSE},
    side=D,
    requires=_supervision_waiting,
    emits=[Emits(e.SupervisionReplied, "督办回复", "supervision replied")],
)
def _reply(state: CaseState, cmd: c.ReplyToSupervision, now: datetime) -> list[e.Event]:
    return [
        e.SupervisionReplied(
            **stamp(state, cmd.actor, now),
            department=state.department,
            reply=text(cmd.reply, "a reply"),
        )
    ]
