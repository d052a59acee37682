"""The case as a decider: ``decide(state, command, now) -> events``, ``evolve(state, event)``.

Everything else in gridcase (workflow, store, API) is plumbing around these two functions.
Each command's step is declared once (``domain.steps``): who may give it (role), in which
stages, what it requires of the case and the actor, and its decision. ``decide`` checks
them in that order; ``allowed_steps`` runs the same checks without any input, to tell a
person which steps he may take on a case now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain import commands as c
from domain import events as e
from domain import inputs
from domain.errors import DomainError, WrongRole, WrongStage
from domain.evolution import apply
from domain.roles import Actor, Role
from domain.stages import Stage
from domain.state import CaseState, PendingRequest, initial_state, updated
from domain.steps import STEPS, UPDATE_STEPS, Step, step_of

__all__ = [
    "CaseState",
    "PendingRequest",
    "allowed_steps",
    "decide",
    "evolve",
    "fold",
    "initial_state",
]

# Derived from the declarations, for readers and tests that want them as tables.
PERMISSIONS: dict[type[c.Command], frozenset[Role]] = {s.command: s.roles for s in STEPS}
REQUIRED_STAGES: dict[type[c.Command], frozenset[Stage]] = {
    s.command: s.stages for s in STEPS if s.stages is not None
}
COMMAND_LABELS: dict[type[c.Command], str] = {s.command: s.label for s in STEPS}


def _admit(step: Step, state: CaseState, actor: Actor) -> None:
    """Role, stage, then what the step requires of the case and the actor."""
    if actor.role not in step.roles:
        roles = ", ".join(sorted(r.label for r in step.roles))
        raise WrongRole(f"{actor.role.label} may not {step.label}; only {roles} may")
    if step.stages is None:
        if state.reported:
            raise WrongStage(f"case {state.case_id} is already reported")
    elif state.stage is None:
        raise WrongStage(f"case {state.case_id} has not been reported")
    elif state.stage not in step.stages:
        stages = " or ".join(sorted(s.label for s in step.stages))
        raise WrongStage(
            f"cannot {step.label} case {state.case_id}: it is at stage {state.stage.label}, "
            f"{step.label} needs stage {stages}"
        )
    step.requires(state, actor)


def decide(
    state: CaseState, command: c.Command, now: datetime, *, check_inputs: bool = True
) -> list[e.Event]:
    """The events that ``command`` at ``now`` produces, or a DomainError saying why not.

    Role, stage and the case's standing first; then the input: every text under its
    field's rule (``domain.inputs``) and the step's own ``checks``. ``check_inputs`` False
    decides as before those rules existed: only for replaying what a case accepted then
    (the workflow's patch ``input-rules``), never for new input.
    """
    if now.tzinfo is None:
        raise ValueError("decide needs a timezone-aware 'now'")
    step = step_of(command)
    _admit(step, state, command.actor)
    if check_inputs:
        inputs.check_inputs(command)
        step.checks(state, command, now)
    events = step.decide(state, command, now)
    for i, event in enumerate(events, 1):
        if type(event) not in step.event_types or event.version != state.version + i:
            raise TypeError(f"step {step.name} emitted {event.type} v{event.version}")
    return events


def allowed_steps(state: CaseState, actor: Actor) -> tuple[Step, ...]:
    """The steps ``actor`` may take on the case now (workflow updates, in declaration
    order): those ``decide`` would not refuse by role, stage or the case's standing for
    some input. The engine's own steps come from ``domain.timers.next_timer`` instead."""
    if actor.role is Role.SYSTEM:
        return ()
    allowed = []
    for step in UPDATE_STEPS.values():
        try:
            _admit(step, state, actor)
        except DomainError:
            continue
        allowed.append(step)
    return tuple(allowed)


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
