"""``allowed_steps(state, actor)`` agrees with ``decide``: over random reachable cases (the
sequences of tests/unit/test_case_properties.py), a step listed for an actor is accepted
for some valid input, and a step not listed is refused for the actor's role, the case's
stage or the case's standing (WrongRole, WrongStage, NotYourCase) whatever the input.
Along the way, every accepted command emits only event types its step declares."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.case import allowed_steps, decide, evolve, initial_state
from domain.errors import DomainError, NotYourCase, WrongRole, WrongStage
from domain.roles import SYSTEM_ACTOR, Actor, Role
from domain.stages import SupervisionLevel
from domain.state import CaseState
from domain.steps import UPDATE_STEPS, step_of
from domain.timers import next_timer
from tests.factories import T0
from tests.unit.test_case_properties import (
    ACTORS,
    CASE,
    COMMANDS,
    DEPTS,
    HANDLERS,
    WORKER,
    Model,
    end_moves,
    minutes,
    right_moves,
)

PEOPLE = [a for a in ACTORS.values() if a.role is not Role.SYSTEM]
PEOPLE += [*HANDLERS.values(), Actor(id="gw-9", role=Role.GRID_WORKER, unit="g9")]
STANDING = (WrongRole, WrongStage, NotYourCase)


def valid_inputs(actor: Actor) -> dict[type[c.Command], list[c.Command]]:
    """Well-formed commands of every human step, given by ``actor``."""
    a = actor
    return {
        c.RequestVerification: [c.RequestVerification(actor=a, assignee=WORKER.id)],
        c.RecordVerification: [
            c.RecordVerification(actor=a, confirmed=True),
            c.RecordVerification(actor=a, confirmed=False, note="nothing there"),
        ],
        c.FileCase: [c.FileCase(actor=a), c.FileCase(actor=a, condition="E0101-02")],
        c.RejectCase: [c.RejectCase(actor=a, reason="not ours")],
        c.CancelCase: [c.CancelCase(actor=a, reason="erroneous")],
        c.MergeCase: [c.MergeCase(actor=a, into="c-0")],
        c.ReviewSelfHandling: [
            c.ReviewSelfHandling(actor=a, approve=True),
            c.ReviewSelfHandling(actor=a, approve=False, note="not fixed"),
        ],
        c.DispatchCase: [c.DispatchCase(actor=a, department=d) for d in DEPTS],
        c.SignFor: [c.SignFor(actor=a)],
        c.RequestExtension: [c.RequestExtension(actor=a, reason="rain", amount="2 hours")],
        c.DecideExtension: [
            c.DecideExtension(actor=a, approve=True),
            c.DecideExtension(actor=a, approve=False, note="no"),
        ],
        c.RequestReturn: [c.RequestReturn(actor=a, reason="not ours")],
        c.DecideReturn: [
            c.DecideReturn(actor=a, approve=True),
            c.DecideReturn(actor=a, approve=False, note="yours"),
        ],
        c.RequestSuspension: [c.RequestSuspension(actor=a, reason="winter")],
        c.DecideSuspension: [
            c.DecideSuspension(actor=a, approve=True),
            c.DecideSuspension(actor=a, approve=False, note="no"),
        ],
        c.ResumeCase: [c.ResumeCase(actor=a)],
        c.SubmitFeedback: [c.SubmitFeedback(actor=a, result="cleared")],
        c.RecordClosureCheck: [
            c.RecordClosureCheck(actor=a, passed=True),
            c.RecordClosureCheck(actor=a, passed=False, note="still dirty"),
        ],
        c.CloseCase: [c.CloseCase(actor=a)],
        c.UrgeCase: [c.UrgeCase(actor=a, message="hurry")],
        c.SuperviseCase: [
            c.SuperviseCase(actor=a, message="late"),
            c.SuperviseCase(actor=a, level=SupervisionLevel.RED, message="now"),
        ],
        c.ReplyToSupervision: [c.ReplyToSupervision(actor=a, reply="on it")],
    }


INPUTS = {actor: valid_inputs(actor) for actor in PEOPLE}


def test_every_update_step_has_valid_inputs_here() -> None:
    assert {s.command for s in UPDATE_STEPS.values()} == set(INPUTS[PEOPLE[0]])


def check_allowed(state: CaseState, now: datetime) -> None:
    for actor in PEOPLE:
        allowed = {s.name for s in allowed_steps(state, actor)}
        for name, s in UPDATE_STEPS.items():
            refusals = []
            for command in INPUTS[actor][s.command]:
                try:
                    decide(state, command, now)
                except DomainError as err:
                    refusals.append(err)
            if name in allowed:
                assert len(refusals) < len(INPUTS[actor][s.command]), (name, actor, refusals)
            else:
                assert refusals and all(isinstance(r, STANDING) for r in refusals), (
                    name,
                    actor,
                    refusals,
                )
    assert allowed_steps(state, SYSTEM_ACTOR) == ()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), length=st.integers(min_value=5, max_value=40))
def test_allowed_steps_are_what_decide_accepts(data: st.DataObject, length: int) -> None:
    state = initial_state(CASE)
    model = Model()
    now = T0
    for _ in range(length):
        timer = next_timer(state)
        roll = data.draw(st.integers(min_value=0, max_value=99))
        ends = end_moves(model)
        if timer is not None and (roll < 6 or (model.suspended and roll < 40)):
            command = timer.command
            now = max(now, timer.at) + minutes(data.draw(st.integers(0, 2)))
        else:
            if roll < 8:
                strategy = COMMANDS
            elif roll < 12 and ends is not None:
                strategy = ends
            else:
                strategy = right_moves(model)
            command = data.draw(strategy)
            now += minutes(data.draw(st.integers(min_value=0, max_value=200)))
        try:
            events = decide(state, command, now)
        except DomainError:
            continue
        declared = step_of(command).event_types
        assert all(type(ev) in declared for ev in events), (command, events)
        for event in events:
            state = evolve(state, event)
        model.apply(command, now)
        if state.stage is not None:
            check_allowed(state, now)
