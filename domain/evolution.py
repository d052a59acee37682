"""evolve's body: how each event changes a case's state (no checks: events are facts)."""

from __future__ import annotations

from domain import events as e
from domain.calendar import TimeLimit
from domain.stages import DEPARTMENT_STAGES, Light, Stage
from domain.state import CaseState, PendingRequest, updated


def _enter(state: CaseState, stage: Stage, event: e.Event) -> CaseState:
    due = warn = None
    if isinstance(event, e.StageOpened) and stage.is_open:
        due, warn = event.due_at, event.warn_at
    return updated(
        state,
        stage=stage,
        stage_entered_at=event.occurred_at,
        stage_due_at=due,
        stage_warn_at=warn,
        light=Light.GREEN,
        # The ladder's cards belong to one stage episode: a new stage starts uncarded.
        supervision_level=None if stage is not state.stage else state.supervision_level,
    )


def _end(state: CaseState, stage: Stage, event: e.Event, closing_type: str = "") -> CaseState:
    ended = _enter(state, stage, event)
    return updated(
        ended, closed_at=event.occurred_at, closing_type=closing_type, pending=None, suspended=False
    )


def _reclock(state: CaseState, event: e.StageOpened) -> CaseState:
    """A new deadline for the stage the case is already in."""
    return updated(state, stage_due_at=event.due_at, stage_warn_at=event.warn_at, light=Light.GREEN)


def apply(s: CaseState, ev: e.Event) -> CaseState:
    match ev:
        case e.CaseReported():
            s = updated(
                s,
                category=ev.category,
                grid=ev.grid,
                description=ev.description,
                location=ev.location,
                source=ev.source,
                reporter_id=ev.actor.id,
                reported_at=ev.occurred_at,
                rules=ev.rules,
                needs_verification=ev.source != "grid_worker",
            )
            return _enter(s, Stage.VERIFY, ev)
        case e.CaseSelfHandled():
            return _enter(updated(s, self_handled=True), Stage.REVIEW, ev)
        case e.SelfHandlingApproved():
            return _end(s, Stage.CLOSED, ev, "self_handled")
        case e.SelfHandlingRejected():
            return _enter(updated(s, self_handled=False), Stage.VERIFY, ev)
        case e.VerificationRequested():
            return updated(s, verification="requested", verifier=ev.assignee)
        case e.CaseVerified():
            return updated(s, verification="confirmed" if ev.confirmed else "refuted")
        case e.CaseFiled():
            return _enter(updated(s, condition=ev.condition), Stage.DISPATCH, ev)
        case e.CaseRejected():
            return _end(s, Stage.REJECTED, ev)
        case e.CaseCancelled():
            return _end(s, Stage.CANCELLED, ev)
        case e.CaseMerged():
            return updated(_end(s, Stage.MERGED, ev), merged_into=ev.into)
        case e.DuplicateMerged():
            return updated(s, duplicates=(*s.duplicates, ev.duplicate))
        case e.CaseDispatched():
            s = updated(
                s,
                department=ev.department,
                disposal_due_at=ev.disposal_due_at,
                dispatch_count=s.dispatch_count + 1,
            )
            return _enter(s, Stage.SIGN_FOR, ev)
        case e.TaskSignedFor():
            return _enter(s, Stage.HANDLE, ev)
        case e.ExtensionRequested():
            amount = TimeLimit.parse(ev.amount)
            pending = PendingRequest(
                kind="extension",
                department=ev.department,
                reason=ev.reason,
                amount=amount,
                due_at=ev.decision_due_at,
            )
            return updated(s, pending=pending)
        case e.ExtensionGranted():
            s = updated(
                s,
                pending=None,
                extension_count=s.extension_count + 1,
                disposal_due_at=ev.disposal_due_at,
            )
            return _reclock(s, ev)
        case e.ReturnRequested():
            pending = PendingRequest(
                kind="return",
                department=ev.department,
                reason=ev.reason,
                due_at=ev.decision_due_at,
            )
            return updated(s, pending=pending)
        case e.CaseReturned():
            s = updated(
                s,
                pending=None,
                department="",
                return_count=s.return_count + 1,
                supervision_pending=False,
                reply_due_at=None,
            )
            return _enter(s, Stage.DISPATCH, ev)
        case e.SuspensionRequested():
            pending = PendingRequest(
                kind="suspension",
                department=ev.department,
                reason=ev.reason,
                due_at=ev.decision_due_at,
            )
            return updated(s, pending=pending)
        case e.CaseSuspended():
            return updated(
                s,
                pending=None,
                suspended=True,
                suspended_at=ev.occurred_at,
                remaining=TimeLimit.parse(ev.remaining) if ev.remaining else None,
                backlog_at=ev.backlog_at,
                stage_due_at=None,
                stage_warn_at=None,
                light=Light.GREEN,
            )
        case e.ExtensionDenied() | e.ReturnDenied() | e.SuspensionDenied():
            return updated(s, pending=None)
        case e.CaseResumed():
            s = updated(
                s,
                suspended=False,
                suspended_at=None,
                remaining=None,
                backlog_at=None,
                backlog=False,
                disposal_due_at=ev.disposal_due_at,
            )
            return _reclock(s, ev)
        case e.CaseBacklogged():
            return updated(s, backlog=True)
        case e.FeedbackSubmitted():
            return _enter(s, Stage.CHECK, ev)
        case e.ClosureCheckPassed():
            return _enter(s, Stage.CLOSE, ev)
        case e.ClosureCheckFailed():
            return s  # ReworkOrdered, which always follows, moves the case
        case e.ReworkOrdered():
            s = updated(s, rework_count=ev.cycle, disposal_due_at=ev.disposal_due_at)
            return _enter(s, Stage.HANDLE, ev)
        case e.CaseClosed():
            return _end(s, Stage.CLOSED, ev, ev.closing_type)
        case e.StageWarned():
            return updated(s, light=Light.YELLOW)
        case e.StageOverdue():
            # Late disposal is the disposal deadline passing, not a slow sign-for.
            late = s.disposal_late or (
                ev.stage in DEPARTMENT_STAGES and ev.due_at == s.disposal_due_at
            )
            return updated(
                s, light=Light.RED, overdue_count=s.overdue_count + 1, disposal_late=late
            )
        case e.CaseUrged():
            return updated(s, urge_count=s.urge_count + 1)
        case e.SupervisionIssued():
            level = s.supervision_level
            if level is None or ev.level.rank > level.rank:
                level = ev.level
            return updated(
                s, supervision_level=level, supervision_pending=True, reply_due_at=ev.reply_due_at
            )
        case e.SupervisionReplied():
            return updated(s, supervision_pending=False, reply_due_at=None)
    raise TypeError(f"evolve does not know event type {ev.type}")
