"""The case decider: every main-line transition and the refused ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain import commands as c
from domain import events as e
from domain.case import CaseState, decide, evolve, fold, initial_state
from domain.codec import from_record, to_record
from domain.errors import (
    DeadlineNotReached,
    InvalidCommand,
    NotYourCase,
    WrongRole,
    WrongStage,
)
from domain.roles import SYSTEM_ACTOR, Actor, Role
from domain.rules import CaseRules
from domain.stages import Stage, Status
from tests.factories import (
    ACCEPTOR,
    DEPT,
    DISPATCHER,
    HANDLER,
    LEADER,
    OTHER_HANDLER,
    SUPERVISOR,
    T0,
    WORKER,
    main_line,
    report,
)

CASE = "c-1"


def run(commands: list[c.Command], state: CaseState | None = None) -> CaseState:
    state = state or initial_state(CASE)
    now = T0
    for command in commands:
        now += timedelta(minutes=5)
        for event in decide(state, command, now):
            state = evolve(state, event)
    return state


def at_stage(stage: Stage) -> CaseState:
    steps: list[c.Command] = [report(), *main_line()]
    order = [Stage.VERIFY, Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE]
    return run(steps[: order.index(stage) + 1])


def test_report_opens_the_verify_stage_with_its_deadline() -> None:
    [event] = decide(initial_state(CASE), report(), T0)
    assert isinstance(event, e.CaseReported)
    assert (event.case_id, event.version, event.occurred_at, event.actor) == (CASE, 1, T0, WORKER)
    assert event.due_at == T0 + timedelta(minutes=30)  # the default verify limit
    state = evolve(initial_state(CASE), event)
    assert state.stage is Stage.VERIFY and state.status is Status.OPEN
    assert state.reporter_id == WORKER.id and state.reported_at == T0
    assert state.stage_due_at == T0 + timedelta(minutes=30)


def test_main_line_report_to_close() -> None:
    state = initial_state(CASE)
    now = T0
    seen: list[tuple[str, Stage | None]] = []
    for command in [report(), *main_line()]:
        now += timedelta(minutes=1)
        for event in decide(state, command, now):
            state = evolve(state, event)
            seen.append((event.type, state.stage))
    assert seen == [
        ("CaseReported", Stage.VERIFY),
        ("CaseFiled", Stage.DISPATCH),
        ("CaseDispatched", Stage.SIGN_FOR),
        ("TaskSignedFor", Stage.HANDLE),
        ("FeedbackSubmitted", Stage.CHECK),
        ("ClosureCheckPassed", Stage.CLOSE),
        ("CaseClosed", Stage.CLOSED),
    ]
    assert state.status is Status.CLOSED and state.version == 7
    assert state.department == DEPT and state.stage_due_at is None and state.closed_at == now


@pytest.mark.parametrize(
    ("stage", "limit_key"),
    [
        (Stage.DISPATCH, "dispatch"),
        (Stage.SIGN_FOR, "sign_for"),
        (Stage.HANDLE, "handle"),
        (Stage.CHECK, "check"),
        (Stage.CLOSE, "close"),
    ],
)
def test_each_stage_gets_the_deadline_of_the_case_policy(stage: Stage, limit_key: str) -> None:
    limits = {s: 60.0 * (i + 1) for i, s in enumerate(["verify", *[limit_key]])}
    steps: list[c.Command] = [report(stage_limits=limits), *main_line()]
    order = [Stage.VERIFY, Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE]
    state = run(steps[: order.index(stage) + 1])
    assert state.stage is stage
    # The handle stage runs to the disposal deadline, which counts from dispatch.
    start = state.stage_entered_at if stage is not Stage.HANDLE else T0 + timedelta(minutes=15)
    assert state.stage_due_at == start + timedelta(seconds=limits[limit_key])


def test_reject_needs_a_reason_and_ends_the_case() -> None:
    state = at_stage(Stage.VERIFY)
    with pytest.raises(InvalidCommand, match="reason"):
        decide(state, c.RejectCase(actor=ACCEPTOR, reason="  "), T0)
    [event] = decide(state, c.RejectCase(actor=ACCEPTOR, reason="private property"), T0)
    state = evolve(state, event)
    assert isinstance(event, e.CaseRejected)
    assert state.stage is Stage.REJECTED and state.status is Status.REJECTED
    assert state.is_terminal and state.stage_due_at is None


def test_failed_check_orders_rework_by_the_same_department() -> None:
    state = at_stage(Stage.CHECK)
    with pytest.raises(InvalidCommand, match="still wrong"):
        decide(state, c.RecordClosureCheck(actor=WORKER, passed=False), T0)
    events = decide(state, c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"), T0)
    assert [ev.type for ev in events] == ["ClosureCheckFailed", "ReworkOrdered"]
    assert [ev.version for ev in events] == [state.version + 1, state.version + 2]
    for ev in events:
        state = evolve(state, ev)
    assert state.stage is Stage.HANDLE and state.department == DEPT and state.rework_count == 1
    # The second cycle counts on.
    state = run(
        [
            c.SubmitFeedback(actor=HANDLER, result="cleared again"),
            c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"),
        ],
        state,
    )
    assert state.rework_count == 2 and state.stage is Stage.HANDLE


WRONG_ROLES = [
    (Stage.VERIFY, c.FileCase(actor=HANDLER)),
    (Stage.VERIFY, c.FileCase(actor=DISPATCHER)),
    (Stage.VERIFY, c.RejectCase(actor=WORKER, reason="x")),
    (Stage.DISPATCH, c.DispatchCase(actor=LEADER, department=DEPT)),
    (Stage.DISPATCH, c.DispatchCase(actor=HANDLER, department=DEPT)),
    (Stage.SIGN_FOR, c.SignFor(actor=DISPATCHER)),
    (Stage.HANDLE, c.SubmitFeedback(actor=WORKER, result="done")),
    (Stage.CHECK, c.RecordClosureCheck(actor=HANDLER, passed=True)),
    (Stage.CHECK, c.RecordClosureCheck(actor=LEADER, passed=True)),
    (Stage.CLOSE, c.CloseCase(actor=HANDLER)),
    (Stage.CLOSE, c.CloseCase(actor=SUPERVISOR)),
    (Stage.CLOSE, c.CloseCase(actor=WORKER)),
    (Stage.HANDLE, c.MarkStageOverdue(actor=LEADER, stage=Stage.HANDLE)),
]


@pytest.mark.parametrize(("stage", "command"), WRONG_ROLES)
def test_wrong_role_is_refused_and_named(stage: Stage, command: c.Command) -> None:
    with pytest.raises(WrongRole) as err:
        decide(at_stage(stage), command, T0)
    assert command.actor.role.value in str(err.value)


def test_a_department_handler_can_never_file_check_or_close() -> None:
    for stage, command in [
        (Stage.VERIFY, c.FileCase(actor=HANDLER)),
        (Stage.CHECK, c.RecordClosureCheck(actor=HANDLER, passed=True)),
        (Stage.CLOSE, c.CloseCase(actor=HANDLER)),
    ]:
        with pytest.raises(WrongRole):
            decide(at_stage(stage), command, T0)


def test_a_handler_of_another_department_is_refused() -> None:
    with pytest.raises(NotYourCase, match="sanitation"):
        decide(at_stage(Stage.SIGN_FOR), c.SignFor(actor=OTHER_HANDLER), T0)
    with pytest.raises(NotYourCase):
        decide(at_stage(Stage.HANDLE), c.SubmitFeedback(actor=OTHER_HANDLER, result="x"), T0)


STEP_STAGE = {
    c.FileCase: Stage.VERIFY,
    c.DispatchCase: Stage.DISPATCH,
    c.SignFor: Stage.SIGN_FOR,
    c.SubmitFeedback: Stage.HANDLE,
    c.RecordClosureCheck: Stage.CHECK,
    c.CloseCase: Stage.CLOSE,
}


@pytest.mark.parametrize("stage", [*STEP_STAGE.values(), Stage.CLOSED, Stage.REJECTED])
def test_every_step_outside_its_stage_is_refused(stage: Stage) -> None:
    if stage is Stage.CLOSED:
        state = run([report(), *main_line()])
    elif stage is Stage.REJECTED:
        state = run([report(), c.RejectCase(actor=LEADER, reason="duplicate")])
    else:
        state = at_stage(stage)
    for command in main_line():
        if STEP_STAGE[type(command)] is stage:
            continue
        with pytest.raises(WrongStage, match="stage"):
            decide(state, command, T0)


def test_steps_before_a_report_and_a_second_report_are_refused() -> None:
    with pytest.raises(WrongStage, match="not been reported"):
        decide(initial_state(CASE), c.FileCase(actor=LEADER), T0)
    with pytest.raises(WrongStage, match="already reported"):
        decide(at_stage(Stage.VERIFY), report(), T0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": ""}, "category"),
        ({"grid": " "}, "grid"),
        ({"description": ""}, "description"),
        ({"location": e.Location(lon=200.0, lat=34.0)}, "longitude"),
        ({"location": e.Location(lon=float("nan"), lat=34.0)}, "longitude"),
        ({"stage_limits": {"verify": -5}}, "> 0"),
        ({"stage_limits": {"closed": 5}}, "terminal"),
        ({"stage_limits": {"lunch": 5}}, "unknown stage"),
    ],
)
def test_malformed_reports_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        decide(initial_state(CASE), report(**change), T0)  # type: ignore[arg-type]


def test_reports_by_staff_other_than_grid_workers_and_acceptors_are_refused() -> None:
    with pytest.raises(WrongRole):
        decide(initial_state(CASE), report(actor=HANDLER), T0)
    [event] = decide(initial_state(CASE), report(actor=ACCEPTOR, source="hotline_12345"), T0)
    assert isinstance(event, e.CaseReported) and event.source == "hotline_12345"


def test_dispatch_needs_a_department() -> None:
    with pytest.raises(InvalidCommand, match="department"):
        decide(at_stage(Stage.DISPATCH), c.DispatchCase(actor=DISPATCHER, department=""), T0)


def test_overdue_only_after_the_deadline_once_per_stage_entry() -> None:
    state = run([report(stage_limits={"dispatch": 600})], None)
    state = run([c.FileCase(actor=LEADER)], state)
    due = state.stage_due_at
    assert due is not None
    overdue = c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.DISPATCH)
    with pytest.raises(DeadlineNotReached):
        decide(state, overdue, due - timedelta(seconds=1))
    with pytest.raises(WrongStage, match="no longer"):
        decide(state, c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.VERIFY), due)
    [event] = decide(state, overdue, due)
    assert isinstance(event, e.StageOverdue) and event.due_at == due
    state = evolve(state, event)
    assert state.stage_overdue and state.overdue_count == 1 and state.stage is Stage.DISPATCH
    with pytest.raises(WrongStage, match="already overdue"):
        decide(state, overdue, due + timedelta(hours=1))
    # Moving on clears the flag, keeps the count.
    state = run([c.DispatchCase(actor=DISPATCHER, department=DEPT)], state)
    assert not state.stage_overdue and state.overdue_count == 1


def test_decide_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        decide(initial_state(CASE), report(), T0.replace(tzinfo=None))


def test_evolve_refuses_an_event_out_of_order() -> None:
    [event] = decide(initial_state(CASE), report(), T0)
    with pytest.raises(ValueError, match="does not follow"):
        evolve(at_stage(Stage.VERIFY), event)


def test_events_round_trip_through_records() -> None:
    state = initial_state(CASE)
    events: list[e.Event] = []
    for command in [report(), *main_line()]:
        for event in decide(state, command, T0):
            state = evolve(state, event)
            events.append(event)
    assert [from_record(to_record(ev)) for ev in events] == events
    assert fold(CASE, events) == state


def test_actor_parse() -> None:
    assert Actor.parse("handler:h1@sanitation") == Actor(
        id="h1", role=Role.HANDLER, unit="sanitation"
    )
    with pytest.raises(ValueError, match="unknown role"):
        Actor.parse("mayor:m1")
    with pytest.raises(ValueError, match="role:id"):
        Actor.parse("h1")


def test_rules_recorded_in_the_case_not_read_later() -> None:
    state = at_stage(Stage.VERIFY)
    assert state.rules == CaseRules()
    changed = replace(
        state, rules=CaseRules.from_dict(dict(stage_limits={"dispatch": "2 minutes"}))
    )
    [event] = decide(changed, c.FileCase(actor=LEADER), T0)
    assert isinstance(event, e.CaseFiled) and event.due_at == T0 + timedelta(minutes=2)


def test_rules_refuse_unknown_units_and_bad_ratios() -> None:
    with pytest.raises(ValueError, match="unknown time unit"):
        CaseRules.from_dict(dict(stage_limits={"verify": "3 fortnights"}))
    with pytest.raises(ValueError, match="warn_ratio"):
        CaseRules(warn_ratio=1.5)
