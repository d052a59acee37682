"""What several decisions share: required text, stage clocks, and the checks of a
department's standing on its case (the ``requires`` parts of the department's steps)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from domain.errors import InvalidCommand, NotYourCase, WrongStage
from domain.roles import Actor, Role
from domain.rules import CaseRules
from domain.stages import Stage
from domain.state import CaseState

CENTER_FILERS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER})
APPROVERS = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER})
OPEN_STAGES = frozenset(s for s in Stage if s.is_open)
FILED_STAGES = frozenset({Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE})


class Clock(TypedDict):
    """The deadline and yellow-light time of a stage an event opens."""

    due_at: datetime | None
    warn_at: datetime | None


NO_CLOCK: Clock = {"due_at": None, "warn_at": None}


def text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{what} is required")
    return value.strip()


def clock(rules: CaseRules, stage: Stage, now: datetime) -> Clock:
    """due_at and warn_at of ``stage`` opened at ``now``, from the stage's own limit."""
    limit = rules.stage_limit(stage.value)
    if limit is None:
        return NO_CLOCK
    return {"due_at": rules.add(now, limit), "warn_at": rules.warn_at(now, limit)}


def clock_until(rules: CaseRules, due: datetime | None, now: datetime) -> Clock:
    """A stage clock running to a given deadline; yellow at the warn share of what is left."""
    if due is None:
        return NO_CLOCK
    warn = now + (due - now) * rules.warn_ratio if due > now else due
    return {"due_at": due, "warn_at": warn}


def disposal_due(state: CaseState, now: datetime) -> datetime | None:
    """处置时限 from ``now``; with bundled deadlines a running one is kept."""
    if state.rules.bundle_disposal and state.disposal_due_at is not None:
        return state.disposal_due_at
    limit = state.rules.disposal_limit(state.condition)
    return None if limit is None else state.rules.add(now, limit)


def own_department(state: CaseState, actor: Actor) -> None:
    """Requires: the handler acts for the case's department."""
    if actor.unit != state.department:
        raise NotYourCase(
            f"case {state.case_id} is with department {state.department!r}; "
            f"handler {actor.id} acts for {actor.unit or 'no department'}"
        )


def not_suspended(state: CaseState, label: str) -> None:
    if state.suspended:
        raise WrongStage(f"case {state.case_id} is suspended (挂账); resume it before {label}")


def no_pending(state: CaseState) -> None:
    if state.pending is not None:
        article = "an" if state.pending.kind[0] in "aeiou" else "a"
        kind = state.pending.kind
        raise WrongStage(
            f"case {state.case_id} has {article} {kind} request waiting for the center"
        )


def free_to_act(state: CaseState, actor: Actor, label: str) -> None:
    """The department's own case, not suspended, no request of it waiting."""
    own_department(state, actor)
    not_suspended(state, label)
    no_pending(state)


def pending_of(state: CaseState, kind: str) -> None:
    if state.pending is None or state.pending.kind != kind:
        raise WrongStage(f"case {state.case_id} has no {kind} request waiting")
