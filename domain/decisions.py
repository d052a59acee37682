"""decide's body: one function per command, after role and stage were checked.

Each returns the events to emit as (event type, fields); ``stamp`` adds the envelope.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain import commands as c
from domain import events as e
from domain.calendar import TimeLimit, TimeUnit
from domain.errors import DeadlineNotReached, InvalidCommand, NotYourCase, WrongStage
from domain.roles import Actor, Role
from domain.rules import DEFAULT_STAGE_LIMITS, CaseRules, rules_from_seconds
from domain.stages import DEPARTMENT_STAGES, Light, Stage, SupervisionLevel
from domain.state import CaseState
from domain.timers import card_due_at

Draft = list[tuple[type[e.Event], dict[str, Any]]]


def stamp(
    kind: type[e.Event],
    fields: dict[str, Any],
    state: CaseState,
    actor: Actor,
    now: datetime,
    i: int,
) -> e.Event:
    return kind(
        case_id=state.case_id, version=state.version + i, occurred_at=now, actor=actor, **fields
    )


def _text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{what} is required")
    return value.strip()


def _clock(rules: CaseRules, stage: Stage, now: datetime) -> dict[str, Any]:
    """due_at and warn_at of ``stage`` opened at ``now``, from the stage's own limit."""
    limit = rules.stage_limit(stage.value)
    if limit is None:
        return {"due_at": None, "warn_at": None}
    return {"due_at": rules.add(now, limit), "warn_at": rules.warn_at(now, limit)}


def _clock_until(rules: CaseRules, due: datetime | None, now: datetime) -> dict[str, Any]:
    """A stage clock running to a given deadline; yellow at the warn share of what is left."""
    if due is None:
        return {"due_at": None, "warn_at": None}
    warn = now + (due - now) * rules.warn_ratio if due > now else due
    return {"due_at": due, "warn_at": warn}


def _disposal_due(state: CaseState, now: datetime) -> datetime | None:
    """处置时限 from ``now``; with bundled deadlines a running one is kept."""
    if state.rules.bundle_disposal and state.disposal_due_at is not None:
        return state.disposal_due_at
    limit = state.rules.disposal_limit(state.condition)
    return None if limit is None else state.rules.add(now, limit)


def _own_department(state: CaseState, actor: Actor) -> None:
    if actor.unit != state.department:
        raise NotYourCase(
            f"case {state.case_id} is with department {state.department!r}; "
            f"handler {actor.id} acts for {actor.unit or 'no department'}"
        )


def _not_suspended(state: CaseState, label: str) -> None:
    if state.suspended:
        raise WrongStage(f"case {state.case_id} is suspended (挂账); resume it before {label}")


def _no_pending(state: CaseState) -> None:
    if state.pending is not None:
        raise WrongStage(
            f"case {state.case_id} has an {state.pending.kind} request waiting for the center"
            if state.pending.kind[0] in "aeiou"
            else f"case {state.case_id} has a {state.pending.kind} request waiting for the center"
        )


# Intake, verification, filing


def _report(state: CaseState, cmd: c.ReportCase, now: datetime) -> Draft:
    if cmd.location is not None:
        lon, lat = cmd.location.lon, cmd.location.lat
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise InvalidCommand(f"location ({lon}, {lat}) is not a WGS84 longitude/latitude")
    try:
        if cmd.rules is not None:
            rules = cmd.rules
        elif cmd.stage_limits:
            rules = rules_from_seconds(dict(cmd.stage_limits))
        else:
            rules = CaseRules()
    except ValueError as exc:
        raise InvalidCommand(str(exc)) from None
    for stage in rules.stage_limits:
        try:
            known = Stage(stage)
        except ValueError:
            raise InvalidCommand(f"stage limits: unknown stage {stage!r}") from None
        if not known.is_open:
            raise InvalidCommand(f"stage limits: stage {stage} is terminal and has no limit")
    reported = {
        "category": _text(cmd.category, "category"),
        "grid": _text(cmd.grid, "grid"),
        "description": _text(cmd.description, "description"),
        "location": cmd.location,
        "photos": tuple(cmd.photos),
        "source": _text(cmd.source, "source"),
        "rules": rules,
    }
    if not cmd.self_handled:
        return [(e.CaseReported, reported | _clock(rules, Stage.VERIFY, now))]
    if cmd.actor.role is not Role.GRID_WORKER:
        raise InvalidCommand("only a grid worker on site reports a self-handled problem")
    if not rules.self_handling:
        raise InvalidCommand(f"category {cmd.category} may not be self-handled (自行处置)")
    handled = {
        "result": _text(cmd.self_handling_result, "what was done on the spot"),
        "photos": tuple(cmd.result_photos),
    }
    return [
        (e.CaseReported, reported),
        (e.CaseSelfHandled, handled | _clock(rules, Stage.REVIEW, now)),
    ]


def _review_self_handling(state: CaseState, cmd: c.ReviewSelfHandling, now: datetime) -> Draft:
    if cmd.approve:
        return [(e.SelfHandlingApproved, {"note": cmd.note})]
    note = _text(cmd.note, "a note saying why the self-handling is not accepted")
    return [(e.SelfHandlingRejected, {"note": note} | _clock(state.rules, Stage.VERIFY, now))]


def _request_verification(state: CaseState, cmd: c.RequestVerification, now: datetime) -> Draft:
    if state.verification in ("confirmed", "refuted"):
        raise WrongStage(f"case {state.case_id} is already verified ({state.verification})")
    assignee = _text(cmd.assignee, "the grid worker to verify")
    limit = state.rules.stage_limit(Stage.VERIFY.value) or DEFAULT_STAGE_LIMITS["verify"]
    due = state.rules.add(now, limit)
    return [(e.VerificationRequested, {"assignee": assignee, "verify_due_at": due})]


def _record_verification(state: CaseState, cmd: c.RecordVerification, now: datetime) -> Draft:
    if state.verification != "requested":
        raise WrongStage(f"no verification of case {state.case_id} is waiting")
    if cmd.actor.id != state.verifier:
        raise NotYourCase(f"the verification of case {state.case_id} is {state.verifier}'s task")
    if not cmd.confirmed:
        _text(cmd.note, "a note saying what was found")
    fields = {"confirmed": cmd.confirmed, "note": cmd.note, "photos": tuple(cmd.photos)}
    return [(e.CaseVerified, fields)]


def _file(state: CaseState, cmd: c.FileCase, now: datetime) -> Draft:
    if state.needs_verification and state.verification != "confirmed":
        found = "refuted it" if state.verification == "refuted" else "not confirmed it yet"
        raise WrongStage(
            f"case {state.case_id} came from {state.source}: a grid worker must confirm it on "
            f"site before filing; verification has {found}"
        )
    conditions = state.rules.conditions
    condition = cmd.condition or (next(iter(conditions)) if conditions else "")
    if condition and condition not in conditions:
        known = ", ".join(conditions) or "(none: file it without a condition)"
        raise InvalidCommand(
            f"{condition!r} is not a filing condition of category {state.category}; "
            f"choose one of {known}"
        )
    limit = state.rules.disposal_limit(condition)
    fields = {"note": cmd.note, "condition": condition, "disposal_limit": str(limit or "")}
    return [(e.CaseFiled, fields | _clock(state.rules, Stage.DISPATCH, now))]


def _reject(state: CaseState, cmd: c.RejectCase, now: datetime) -> Draft:
    reason = _text(cmd.reason, "a reason for rejecting")
    # 不予受理 before any verification of a public report, 不予立案 otherwise.
    kind = "not_accepted" if state.needs_verification and not state.verification else "not_filed"
    return [(e.CaseRejected, {"reason": reason, "kind": kind})]


def _cancel(state: CaseState, cmd: c.CancelCase, now: datetime) -> Draft:
    return [(e.CaseCancelled, {"reason": _text(cmd.reason, "a reason for cancelling")})]


def _merge(state: CaseState, cmd: c.MergeCase, now: datetime) -> Draft:
    into = _text(cmd.into, "the case to merge into")
    if into == state.case_id:
        raise InvalidCommand(f"case {state.case_id} cannot be merged into itself")
    return [(e.CaseMerged, {"into": into, "note": cmd.note})]


def _record_duplicate(state: CaseState, cmd: c.RecordDuplicate, now: datetime) -> Draft:
    duplicate = _text(cmd.duplicate, "the duplicate case")
    if duplicate == state.case_id:
        raise InvalidCommand(f"case {state.case_id} cannot be its own duplicate")
    if duplicate in state.duplicates:
        raise WrongStage(f"{duplicate} is already merged into case {state.case_id}")
    return [(e.DuplicateMerged, {"duplicate": duplicate})]


# Dispatch and disposal


def _dispatch(state: CaseState, cmd: c.DispatchCase, now: datetime) -> Draft:
    department = _text(cmd.department, "department")
    disposal_due = _disposal_due(state, now)
    sign_for = _clock(state.rules, Stage.SIGN_FOR, now)
    if disposal_due is not None and (
        sign_for["due_at"] is None or sign_for["due_at"] > disposal_due
    ):
        sign_for = _clock_until(state.rules, disposal_due, now)
    fields = {
        "department": department,
        "note": cmd.note,
        "suggested_department": cmd.suggested_department,
        "disposal_due_at": disposal_due,
    }
    return [(e.CaseDispatched, fields | sign_for)]


def _sign_for(state: CaseState, cmd: c.SignFor, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    clock = _clock_until(state.rules, state.disposal_due_at, now)
    if state.disposal_due_at is None:  # cases dispatched before disposal limits existed
        clock = _clock(state.rules, Stage.HANDLE, now)
    return [(e.TaskSignedFor, {"department": state.department} | clock)]


def _request_extension(state: CaseState, cmd: c.RequestExtension, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    _not_suspended(state, "asking for an extension")
    _no_pending(state)
    allowed = state.rules.extensions_allowed
    if state.extension_count >= allowed:
        raise WrongStage(
            f"case {state.case_id} has had {state.extension_count} extension(s); "
            f"a {state.rules.urgency} case may have {allowed}"
        )
    try:
        amount = str(TimeLimit.parse(cmd.amount))
    except ValueError as exc:
        raise InvalidCommand(f"extension amount: {exc}") from None
    fields = {
        "department": state.department,
        "reason": _text(cmd.reason, "a reason"),
        "amount": amount,
    }
    return [(e.ExtensionRequested, fields)]


def _pending_of(state: CaseState, kind: str) -> None:
    if state.pending is None or state.pending.kind != kind:
        raise WrongStage(f"case {state.case_id} has no {kind} request waiting")


def _decide_extension(state: CaseState, cmd: c.DecideExtension, now: datetime) -> Draft:
    _pending_of(state, "extension")
    assert state.pending is not None
    if not cmd.approve:
        return [(e.ExtensionDenied, {"note": _text(cmd.note, "a reason for denying")})]
    assert state.pending.amount is not None  # an extension request always has one
    base = state.disposal_due_at or state.stage_due_at or now
    new_due = state.rules.add(base, state.pending.amount)
    fields = {"amount": str(state.pending.amount), "note": cmd.note, "disposal_due_at": new_due}
    return [(e.ExtensionGranted, fields | _clock_until(state.rules, new_due, now))]


def _request_return(state: CaseState, cmd: c.RequestReturn, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    _not_suspended(state, "asking for a return")
    _no_pending(state)
    fields = {"department": state.department, "reason": _text(cmd.reason, "a reason for returning")}
    return [(e.ReturnRequested, fields)]


def _decide_return(state: CaseState, cmd: c.DecideReturn, now: datetime) -> Draft:
    _pending_of(state, "return")
    assert state.pending is not None
    if not cmd.approve:
        return [(e.ReturnDenied, {"note": _text(cmd.note, "a reason for denying")})]
    fields = {"department": state.department, "reason": state.pending.reason, "note": cmd.note}
    return [(e.CaseReturned, fields | _clock(state.rules, Stage.DISPATCH, now))]


def _request_suspension(state: CaseState, cmd: c.RequestSuspension, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    _not_suspended(state, "asking for a suspension")
    _no_pending(state)
    fields = {"department": state.department, "reason": _text(cmd.reason, "a reason")}
    return [(e.SuspensionRequested, fields)]


def _decide_suspension(state: CaseState, cmd: c.DecideSuspension, now: datetime) -> Draft:
    _pending_of(state, "suspension")
    if not cmd.approve:
        return [(e.SuspensionDenied, {"note": _text(cmd.note, "a reason for denying")})]
    rules = state.rules
    limit = rules.disposal_limit(state.condition)
    unit = limit.unit if limit else TimeUnit.MINUTES
    due = state.disposal_due_at or state.stage_due_at
    left = rules.remaining(now, due, unit) if due else None
    fields = {
        "note": cmd.note,
        "remaining": str(left) if left else "",
        "backlog_at": rules.add(now, rules.backlog_after),
    }
    return [(e.CaseSuspended, fields)]


def _resume(state: CaseState, cmd: c.ResumeCase, now: datetime) -> Draft:
    if not state.suspended:
        raise WrongStage(f"case {state.case_id} is not suspended")
    due = state.rules.add(now, state.remaining) if state.remaining else now
    fields = {"note": cmd.note, "disposal_due_at": due}
    return [(e.CaseResumed, fields | _clock_until(state.rules, due, now))]


def _feedback(state: CaseState, cmd: c.SubmitFeedback, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    _not_suspended(state, "feeding back")
    _no_pending(state)
    fields = {
        "department": state.department,
        "result": _text(cmd.result, "a result"),
        "photos": tuple(cmd.photos),
    }
    return [(e.FeedbackSubmitted, fields | _clock(state.rules, Stage.CHECK, now))]


# Check and close


def _check(state: CaseState, cmd: c.RecordClosureCheck, now: datetime) -> Draft:
    photos = tuple(cmd.photos)
    if cmd.passed:
        fields = {"note": cmd.note, "photos": photos}
        return [(e.ClosureCheckPassed, fields | _clock(state.rules, Stage.CLOSE, now))]
    note = _text(cmd.note, "a note saying what is still wrong")
    disposal_due = _disposal_due(state, now)
    rework = {
        "department": state.department,
        "cycle": state.rework_count + 1,
        "disposal_due_at": disposal_due,
    } | _clock_until(state.rules, disposal_due, now)
    return [(e.ClosureCheckFailed, {"note": note, "photos": photos}), (e.ReworkOrdered, rework)]


def _close(state: CaseState, cmd: c.CloseCase, now: datetime) -> Draft:
    closing_type = "overdue" if state.disposal_late else "normal"
    return [(e.CaseClosed, {"note": cmd.note, "closing_type": closing_type})]


# Time and supervision


def _urge(state: CaseState, cmd: c.UrgeCase, now: datetime) -> Draft:
    assert state.stage is not None
    department = state.department if state.stage in DEPARTMENT_STAGES else ""
    fields = {
        "message": _text(cmd.message, "a message"),
        "stage": state.stage,
        "department": department,
    }
    return [(e.CaseUrged, fields)]


def _supervise(state: CaseState, cmd: c.SuperviseCase, now: datetime) -> Draft:
    assert state.stage is not None
    try:
        level = SupervisionLevel(cmd.level)
    except ValueError:
        known = ", ".join(level.value for level in SupervisionLevel)
        raise InvalidCommand(f"supervision level {cmd.level!r} is not one of {known}") from None
    if cmd.actor.role is Role.SYSTEM:
        _automatic_card_due(state, level, now)
    fields = {
        "level": level,
        "message": _text(cmd.message, "a message"),
        "stage": state.stage,
        "department": state.department,
        "reply_due_at": state.rules.add(now, state.rules.reply_limit),
    }
    return [(e.SupervisionIssued, fields)]


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


def _reply(state: CaseState, cmd: c.ReplyToSupervision, now: datetime) -> Draft:
    _own_department(state, cmd.actor)
    if not state.supervision_pending:
        raise WrongStage(f"case {state.case_id} has no supervision waiting for a reply")
    fields = {"department": state.department, "reply": _text(cmd.reply, "a reply")}
    return [(e.SupervisionReplied, fields)]


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


def _mark_warning(state: CaseState, cmd: c.MarkStageWarning, now: datetime) -> Draft:
    _mark(state, cmd.stage, state.stage_warn_at, now, "warning")
    if state.light is not Light.GREEN:
        raise WrongStage(
            f"stage {cmd.stage.label} of case {state.case_id} is already {state.light}"
        )
    assert state.stage_due_at is not None
    return [(e.StageWarned, {"stage": cmd.stage, "due_at": state.stage_due_at})]


def _mark_overdue(state: CaseState, cmd: c.MarkStageOverdue, now: datetime) -> Draft:
    _mark(state, cmd.stage, state.stage_due_at, now, "deadline")
    if state.light is Light.RED:
        raise WrongStage(f"stage {cmd.stage.label} of case {state.case_id} is already overdue")
    assert state.stage_due_at is not None
    return [(e.StageOverdue, {"stage": cmd.stage, "due_at": state.stage_due_at})]


def _mark_backlog(state: CaseState, cmd: c.MarkBacklog, now: datetime) -> Draft:
    if not state.suspended or state.suspended_at is None:
        raise WrongStage(f"case {state.case_id} is not suspended")
    if state.backlog:
        raise WrongStage(f"case {state.case_id} is already counted as backlog (积存)")
    if state.backlog_at is None or now < state.backlog_at:
        raise DeadlineNotReached(f"case {state.case_id} is not yet backlog")
    return [(e.CaseBacklogged, {"suspended_since": state.suspended_at})]


DECIDERS: dict[type[c.Command], Callable[[CaseState, Any, datetime], Draft]] = {
    c.ReportCase: _report,
    c.ReviewSelfHandling: _review_self_handling,
    c.RequestVerification: _request_verification,
    c.RecordVerification: _record_verification,
    c.FileCase: _file,
    c.RejectCase: _reject,
    c.CancelCase: _cancel,
    c.MergeCase: _merge,
    c.RecordDuplicate: _record_duplicate,
    c.DispatchCase: _dispatch,
    c.SignFor: _sign_for,
    c.RequestExtension: _request_extension,
    c.DecideExtension: _decide_extension,
    c.RequestReturn: _request_return,
    c.DecideReturn: _decide_return,
    c.RequestSuspension: _request_suspension,
    c.DecideSuspension: _decide_suspension,
    c.ResumeCase: _resume,
    c.SubmitFeedback: _feedback,
    c.RecordClosureCheck: _check,
    c.CloseCase: _close,
    c.UrgeCase: _urge,
    c.SuperviseCase: _supervise,
    c.ReplyToSupervision: _reply,
    c.MarkStageWarning: _mark_warning,
    c.MarkStageOverdue: _mark_overdue,
    c.MarkBacklog: _mark_backlog,
}
