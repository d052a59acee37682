"""The side paths of the governance loop (docs/field-facts.md §2-4) in the pure domain.

Every accepted transition is pinned by the events it emits (type, fields, versions) and the
state it leaves (stage, status, light, counters, deadlines); every refused one by the
domain error type and the reason in its message. Deadlines in working units are computed
by hand from the 2026 holiday notice in domain/data/calendar_cn.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import commands as c
from domain import events as e
from domain.calendar import TimeLimit
from domain.case import PERMISSIONS, REQUIRED_STAGES, CaseState, decide, evolve, initial_state
from domain.codec import from_record, to_record
from domain.errors import (
    DeadlineNotReached,
    DomainError,
    InvalidCommand,
    NotYourCase,
    WrongRole,
    WrongStage,
)
from domain.holiday_notices import default_calendar
from domain.roles import SYSTEM_ACTOR, Actor, Role
from domain.rules import CaseRules
from domain.stages import Light, Stage, Status, SupervisionLevel
from domain.timers import next_timer
from tests.factories import (
    ACCEPTOR,
    COMMANDER,
    DEPT,
    DISPATCHER,
    HANDLER,
    LEADER,
    OTHER_HANDLER,
    OTHER_WORKER,
    SUPERVISOR,
    T0,
    WORKER,
    main_line,
    report,
)
from tests.rulebook import RULEBOOK

CASE = "c-1"
CST = ZoneInfo("Asia/Shanghai")
MIN = timedelta(minutes=1)
ROADS_HANDLER = OTHER_HANDLER  # the roads department's handler


def cst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


# Wall-clock rules: every deadline is plain arithmetic on the clock.
PLAIN = CaseRules.from_dict(
    dict(
        stage_limits={
            "verify": "30 minutes",
            "review": "60 minutes",
            "dispatch": "30 minutes",
            "sign_for": "60 minutes",
            "handle": "8 hours",
            "check": "2 hours",
            "close": "60 minutes",
        },
        conditions={"E0101-01": "4 hours", "E0101-02": "2 hours"},
        yellow_card_after="1 hours",
        red_card_after="2 hours",
        backlog_after="10 days",
        reply_limit="3 hours",
    )
)
# The working calendar of China 2026: office windows 08-12 and 14-18, holidays, 调休.
WORKING = CaseRules.from_dict(
    dict(
        conditions={"E0101-01": "4 working_hours", "E0101-02": "1 working_days"},
        calendar=default_calendar().to_dict(),
    )
)


class Case:
    """A case driven step by step: the state, the clock, and every event so far."""

    def __init__(self, now: datetime = T0) -> None:
        self.state: CaseState = initial_state(CASE)
        self.now = now
        self.events: list[e.Event] = []

    def do(self, command: c.Command, *, at: datetime | None = None) -> list[e.Event]:
        self.now = at or self.now + MIN
        events = decide(self.state, command, self.now)
        assert [ev.version for ev in events] == list(
            range(self.state.version + 1, self.state.version + 1 + len(events))
        )
        for event in events:
            assert (event.case_id, event.occurred_at, event.actor) == (
                CASE,
                self.now,
                command.actor,
            )
            assert from_record(to_record(event)) == event
            self.state = evolve(self.state, event)
        self.events += events
        return events

    def one(self, command: c.Command, *, at: datetime | None = None) -> e.Event:
        [event] = self.do(command, at=at)
        return event

    def refused(
        self, command: c.Command, error: type[DomainError], match: str, at: datetime | None = None
    ) -> DomainError:
        before = self.state
        with pytest.raises(error, match=match) as caught:
            decide(self.state, command, at or self.now + MIN)
        assert type(caught.value) is error
        assert self.state == before
        return caught.value


def case_at(
    stage: Stage, rules: CaseRules = PLAIN, now: datetime = T0, department: str = DEPT
) -> Case:
    """A case walked along the main line (reported by a grid worker) to ``stage``."""
    case = Case(now)
    case.do(report(rules=rules), at=now)
    steps: list[tuple[Stage, c.Command]] = [
        (Stage.VERIFY, c.FileCase(actor=LEADER)),
        (Stage.DISPATCH, c.DispatchCase(actor=DISPATCHER, department=department)),
        (Stage.SIGN_FOR, c.SignFor(actor=handler_of(department))),
        (Stage.HANDLE, c.SubmitFeedback(actor=handler_of(department), result="cleared")),
        (Stage.CHECK, c.RecordClosureCheck(actor=WORKER, passed=True)),
        (Stage.CLOSE, c.CloseCase(actor=LEADER)),
    ]
    for at, command in steps:
        if case.state.stage is stage:
            break
        assert case.state.stage is at
        case.do(command)
    assert case.state.stage is stage
    return case


def handler_of(department: str) -> Actor:
    return {DEPT: HANDLER, "roads": ROADS_HANDLER}[department]


# -- intake: public reports need on-site verification (核实) --------------------------


def public_report() -> Case:
    case = Case()
    event = case.one(report(actor=ACCEPTOR, source="hotline_12345", rules=PLAIN), at=T0)
    assert isinstance(event, e.CaseReported) and event.version == 1
    assert case.state.needs_verification and case.state.verification == ""
    return case


def test_a_public_report_cannot_be_filed_before_a_grid_worker_confirmed_it() -> None:
    case = public_report()
    case.refused(c.FileCase(actor=LEADER), WrongStage, "hotline_12345.*not confirmed it yet")
    event = case.one(c.RequestVerification(actor=ACCEPTOR, assignee=WORKER.id))
    assert isinstance(event, e.VerificationRequested) and event.version == 2
    assert event.assignee == WORKER.id and event.verify_due_at == case.now + 30 * MIN
    assert (case.state.verification, case.state.verifier) == ("requested", WORKER.id)
    assert case.state.stage is Stage.VERIFY
    case.refused(c.FileCase(actor=LEADER), WrongStage, "not confirmed it yet")
    # Only the grid worker it was assigned to records the finding.
    case.refused(c.RecordVerification(actor=OTHER_WORKER, confirmed=True), NotYourCase, WORKER.id)
    case.refused(c.RecordVerification(actor=ACCEPTOR, confirmed=True), WrongRole, "acceptor")
    event = case.one(c.RecordVerification(actor=WORKER, confirmed=True, photos=("sha256:1",)))
    assert isinstance(event, e.CaseVerified) and event.confirmed and event.photos == ("sha256:1",)
    assert case.state.verification == "confirmed"
    case.refused(
        c.RequestVerification(actor=LEADER, assignee=WORKER.id), WrongStage, "already verified"
    )
    filed = case.one(c.FileCase(actor=LEADER))
    assert isinstance(filed, e.CaseFiled) and case.state.stage is Stage.DISPATCH


def test_shift_leader_may_send_a_verifier_and_a_refuted_report_cannot_be_filed() -> None:
    case = public_report()
    case.refused(c.RequestVerification(actor=LEADER, assignee=" "), InvalidCommand, "grid worker")
    case.one(c.RequestVerification(actor=LEADER, assignee=WORKER.id))
    case.refused(
        c.RecordVerification(actor=WORKER, confirmed=False), InvalidCommand, "what was found"
    )
    event = case.one(c.RecordVerification(actor=WORKER, confirmed=False, note="nothing there"))
    assert isinstance(event, e.CaseVerified) and not event.confirmed
    assert case.state.verification == "refuted"
    case.refused(c.FileCase(actor=LEADER), WrongStage, "refuted it")
    case.refused(c.RecordVerification(actor=WORKER, confirmed=True), WrongStage, "no verification")
    rejected = case.one(c.RejectCase(actor=ACCEPTOR, reason="nothing found on site"))
    assert isinstance(rejected, e.CaseRejected) and rejected.kind == "not_filed"
    assert case.state.stage is Stage.REJECTED and case.state.status is Status.REJECTED


def test_recording_a_verification_nobody_asked_for_is_refused() -> None:
    case = public_report()
    case.refused(c.RecordVerification(actor=WORKER, confirmed=True), WrongStage, "no verification")


def test_reject_kind_is_not_accepted_before_verification_and_not_filed_otherwise() -> None:
    case = public_report()
    event = case.one(c.RejectCase(actor=ACCEPTOR, reason="outside the district"))
    assert isinstance(event, e.CaseRejected) and event.kind == "not_accepted"
    # A grid worker's own report needs no verification: rejecting it is 不予立案.
    own = case_at(Stage.VERIFY)
    assert not own.state.needs_verification
    event = own.one(c.RejectCase(actor=LEADER, reason="private yard"))
    assert isinstance(event, e.CaseRejected) and event.kind == "not_filed"
    # A grid worker's report is filed without any verification.
    assert isinstance(case_at(Stage.VERIFY).one(c.FileCase(actor=ACCEPTOR)), e.CaseFiled)


# -- intake: self-handling (自行处置) --------------------------------------------------

SELF = replace(PLAIN, self_handling=True)


def self_handled_report(**kw: object) -> c.ReportCase:
    fields: dict[str, object] = {
        "rules": SELF,
        "self_handled": True,
        "self_handling_result": "bagged the garbage",
        "result_photos": ("sha256:after",),
    }
    fields.update(kw)
    return report(**fields)  # type: ignore[arg-type]


def test_a_self_handled_report_goes_to_review_with_the_review_deadline() -> None:
    case = Case()
    reported, handled = case.do(self_handled_report(), at=T0)
    assert isinstance(reported, e.CaseReported) and reported.version == 1
    assert reported.due_at is None  # the verify stage is skipped at once
    assert isinstance(handled, e.CaseSelfHandled) and handled.version == 2
    assert handled.result == "bagged the garbage" and handled.photos == ("sha256:after",)
    assert handled.due_at == T0 + 60 * MIN and handled.warn_at == T0 + 48 * MIN
    state = case.state
    assert state.stage is Stage.REVIEW and state.self_handled and state.status is Status.OPEN
    assert state.stage_due_at == T0 + 60 * MIN


def test_approved_self_handling_closes_the_case_as_self_handled() -> None:
    case = Case()
    case.do(self_handled_report(), at=T0)
    event = case.one(c.ReviewSelfHandling(actor=ACCEPTOR, approve=True, note="photos fine"))
    assert isinstance(event, e.SelfHandlingApproved) and event.version == 3
    state = case.state
    assert state.stage is Stage.CLOSED and state.status is Status.CLOSED
    assert state.closing_type == "self_handled" and state.closed_at == case.now
    assert state.stage_due_at is None and next_timer(state) is None


def test_refused_self_handling_goes_back_to_verify() -> None:
    case = Case()
    case.do(self_handled_report(), at=T0)
    case.refused(c.ReviewSelfHandling(actor=LEADER, approve=False), InvalidCommand, "not accepted")
    event = case.one(c.ReviewSelfHandling(actor=LEADER, approve=False, note="still there"))
    assert isinstance(event, e.SelfHandlingRejected) and event.note == "still there"
    assert event.due_at == case.now + 30 * MIN
    state = case.state
    assert state.stage is Stage.VERIFY and not state.self_handled
    assert state.stage_due_at == case.now + 30 * MIN and state.light is Light.GREEN
    assert isinstance(case.one(c.FileCase(actor=LEADER)), e.CaseFiled)


def test_self_handling_needs_the_category_to_allow_it_a_grid_worker_and_a_result() -> None:
    fresh = initial_state(CASE)
    with pytest.raises(InvalidCommand, match="may not be self-handled"):
        decide(fresh, self_handled_report(rules=PLAIN), T0)
    with pytest.raises(InvalidCommand, match="only a grid worker"):
        decide(fresh, self_handled_report(actor=ACCEPTOR, source="hotline_12345"), T0)
    with pytest.raises(InvalidCommand, match="on the spot"):
        decide(fresh, self_handled_report(self_handling_result=" "), T0)
    with pytest.raises(WrongRole, match="handler"):
        decide(fresh, self_handled_report(actor=HANDLER), T0)


# -- filing under a filing condition (立案条件) ----------------------------------------


def test_filing_records_the_condition_and_its_disposal_limit() -> None:
    case = case_at(Stage.VERIFY)
    event = case.one(c.FileCase(actor=LEADER, condition="E0101-02", note="stop work"))
    assert isinstance(event, e.CaseFiled) and event.version == 2
    assert (event.condition, event.disposal_limit, event.note) == (
        "E0101-02",
        "2 hours",
        "stop work",
    )
    assert event.due_at == case.now + 30 * MIN and event.warn_at == case.now + 24 * MIN
    assert case.state.condition == "E0101-02" and case.state.stage is Stage.DISPATCH


def test_filing_defaults_to_the_first_condition_and_refuses_an_unknown_one() -> None:
    case = case_at(Stage.VERIFY)
    case.refused(
        c.FileCase(actor=LEADER, condition="E0101-99"),
        InvalidCommand,
        "'E0101-99' is not a filing condition of category E0101; choose one of E0101-01, E0101-02",
    )
    event = case.one(c.FileCase(actor=ACCEPTOR))
    assert isinstance(event, e.CaseFiled)
    assert (event.condition, event.disposal_limit) == ("E0101-01", "4 hours")


def test_without_conditions_the_disposal_limit_is_the_handle_stage_limit() -> None:
    case = case_at(Stage.VERIFY, rules=replace(PLAIN, conditions={}))
    event = case.one(c.FileCase(actor=LEADER))
    assert isinstance(event, e.CaseFiled) and (event.condition, event.disposal_limit) == (
        "",
        "8 hours",
    )


@pytest.mark.parametrize(
    ("dispatched", "condition", "due"),
    [
        # Monday 10:30 + 4 working hours: 1.5 h before lunch, 2.5 h after → 16:30.
        ("2026-11-30T10:30", "E0101-01", "2026-11-30T16:30"),
        # Friday 16:00: 2 h on Friday, the weekend skipped, 2 h on Monday → 10:00.
        ("2026-11-27T16:00", "E0101-01", "2026-11-30T10:00"),
        # Wednesday 30 Sep 17:00: 1 h, then National Day 1-7 Oct off → Thursday 8 Oct 11:00.
        ("2026-09-30T17:00", "E0101-01", "2026-10-08T11:00"),
        # 1 working day = 8 working hours from Friday 11:00: 1+4 h Friday, 3 h Monday → 11:00.
        ("2026-11-27T11:00", "E0101-02", "2026-11-30T11:00"),
    ],
)
def test_disposal_deadline_runs_from_dispatch_in_the_working_calendar(
    dispatched: str, condition: str, due: str
) -> None:
    start = cst(dispatched) - 20 * MIN
    case = Case(start)
    case.do(report(rules=WORKING), at=start)
    case.do(c.FileCase(actor=LEADER, condition=condition))
    event = case.one(c.DispatchCase(actor=DISPATCHER, department=DEPT), at=cst(dispatched))
    assert isinstance(event, e.CaseDispatched) and event.disposal_due_at == cst(due)
    assert case.state.disposal_due_at == cst(due)
    # Sign-for: 1 working hour, never later than the disposal deadline.
    assert case.state.stage_due_at == min(
        WORKING.add(cst(dispatched), TimeLimit.parse("1 working_hours")), cst(due)
    )
    # The handle stage runs to the disposal deadline, whenever the department signs for.
    case.do(c.SignFor(actor=HANDLER))
    assert case.state.stage is Stage.HANDLE and case.state.stage_due_at == cst(due)


def test_sign_for_deadline_is_capped_by_a_short_disposal_deadline() -> None:
    rules = replace(PLAIN, conditions={"E0101-01": TimeLimit.parse("20 minutes")})
    case = case_at(Stage.DISPATCH, rules=rules)
    event = case.one(c.DispatchCase(actor=DISPATCHER, department=DEPT))
    assert isinstance(event, e.CaseDispatched)
    assert event.disposal_due_at == event.due_at == case.now + 20 * MIN
    assert event.warn_at == case.now + 16 * MIN


# -- cancel (作废), merge (合并), duplicates ------------------------------------------


@pytest.mark.parametrize(
    "stage", [Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE]
)
def test_shift_leader_cancels_a_filed_case(stage: Stage) -> None:
    case = case_at(stage)
    case.refused(c.CancelCase(actor=ACCEPTOR, reason="x"), WrongRole, "shift_leader")
    case.refused(c.CancelCase(actor=LEADER, reason=""), InvalidCommand, "reason for cancelling")
    event = case.one(c.CancelCase(actor=LEADER, reason="filed by mistake"))
    assert isinstance(event, e.CaseCancelled) and event.reason == "filed by mistake"
    state = case.state
    assert state.stage is Stage.CANCELLED and state.status is Status.CANCELLED
    assert state.is_terminal and state.closed_at == case.now and state.stage_due_at is None
    assert next_timer(state) is None


def test_a_case_not_yet_filed_cannot_be_cancelled() -> None:
    case_at(Stage.VERIFY).refused(
        c.CancelCase(actor=LEADER, reason="x"), WrongStage, "needs stage .*待派遣"
    )


@pytest.mark.parametrize("stage", [Stage.VERIFY, Stage.DISPATCH])
def test_merging_a_duplicate_ends_it_as_merged(stage: Stage) -> None:
    case = case_at(stage)
    case.refused(c.MergeCase(actor=ACCEPTOR, into=CASE), InvalidCommand, "into itself")
    case.refused(c.MergeCase(actor=ACCEPTOR, into=" "), InvalidCommand, "case to merge into")
    event = case.one(c.MergeCase(actor=ACCEPTOR, into="c-0", note="same bin"))
    assert isinstance(event, e.CaseMerged) and (event.into, event.note) == ("c-0", "same bin")
    state = case.state
    assert state.stage is Stage.MERGED and state.status is Status.MERGED
    assert state.merged_into == "c-0" and state.closed_at == case.now


def test_a_dispatched_case_cannot_be_merged() -> None:
    case_at(Stage.SIGN_FOR).refused(c.MergeCase(actor=LEADER, into="c-0"), WrongStage, "merge")


def test_the_system_records_each_duplicate_once() -> None:
    case = case_at(Stage.HANDLE)
    case.refused(c.RecordDuplicate(actor=LEADER, duplicate="c-2"), WrongRole, "system")
    event = case.one(c.RecordDuplicate(actor=SYSTEM_ACTOR, duplicate="c-2"))
    assert isinstance(event, e.DuplicateMerged) and event.duplicate == "c-2"
    assert case.state.duplicates == ("c-2",) and case.state.stage is Stage.HANDLE
    case.refused(
        c.RecordDuplicate(actor=SYSTEM_ACTOR, duplicate="c-2"), WrongStage, "c-2 is already merged"
    )
    case.one(c.RecordDuplicate(actor=SYSTEM_ACTOR, duplicate="c-3"))
    assert case.state.duplicates == ("c-2", "c-3")


# -- return (回退) --------------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.SIGN_FOR, Stage.HANDLE])
def test_approved_return_goes_back_to_dispatch_and_may_go_to_another_department(
    stage: Stage,
) -> None:
    case = case_at(stage)
    case.refused(c.RequestReturn(actor=ROADS_HANDLER, reason="x"), NotYourCase, "sanitation")
    case.refused(c.RequestReturn(actor=HANDLER, reason=" "), InvalidCommand, "reason")
    requested = case.one(c.RequestReturn(actor=HANDLER, reason="a road matter"))
    assert isinstance(requested, e.ReturnRequested)
    assert (requested.department, requested.reason) == (DEPT, "a road matter")
    assert case.state.pending is not None and case.state.pending.kind == "return"
    case.refused(c.RequestReturn(actor=HANDLER, reason="again"), WrongStage, "return request")
    case.refused(c.DecideReturn(actor=HANDLER, approve=True), WrongRole, "handler")
    returned = case.one(c.DecideReturn(actor=DISPATCHER, approve=True, note="right"))
    assert isinstance(returned, e.CaseReturned)
    assert (returned.department, returned.reason, returned.note) == (DEPT, "a road matter", "right")
    assert returned.due_at == case.now + 30 * MIN
    state = case.state
    assert state.stage is Stage.DISPATCH and state.department == "" and state.pending is None
    assert state.return_count == 1 and state.dispatch_count == 1
    assert state.stage_due_at == case.now + 30 * MIN and state.light is Light.GREEN
    case.do(c.DispatchCase(actor=DISPATCHER, department="roads"))
    assert case.state.department == "roads" and case.state.dispatch_count == 2
    case.refused(c.SignFor(actor=HANDLER), NotYourCase, "roads")
    case.do(c.SignFor(actor=ROADS_HANDLER))
    assert case.state.stage is Stage.HANDLE


def test_denied_return_clears_the_request_and_needs_a_reason() -> None:
    case = case_at(Stage.HANDLE)
    case.refused(c.DecideReturn(actor=LEADER, approve=False), WrongStage, "no return request")
    case.do(c.RequestReturn(actor=HANDLER, reason="not ours"))
    case.refused(c.DecideExtension(actor=LEADER, approve=True), WrongStage, "no extension")
    case.refused(c.DecideReturn(actor=LEADER, approve=False), InvalidCommand, "reason for denying")
    # Feedback waits for the center's answer.
    case.refused(c.SubmitFeedback(actor=HANDLER, result="x"), WrongStage, "return request")
    event = case.one(c.DecideReturn(actor=LEADER, approve=False, note="it is yours"))
    assert isinstance(event, e.ReturnDenied) and event.note == "it is yours"
    assert case.state.pending is None and case.state.stage is Stage.HANDLE
    assert case.state.return_count == 0 and case.state.department == DEPT


# -- extension (延期) -----------------------------------------------------------------


def test_an_approved_extension_moves_the_disposal_and_stage_deadlines_in_the_calendar() -> None:
    case = Case(cst("2026-09-30T16:40"))
    case.do(report(rules=WORKING), at=case.now)
    case.do(c.FileCase(actor=LEADER))
    case.do(c.DispatchCase(actor=DISPATCHER, department=DEPT), at=cst("2026-09-30T17:00"))
    case.do(c.SignFor(actor=HANDLER))
    assert case.state.disposal_due_at == cst("2026-10-08T11:00")
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="x", amount="2 fortnights"),
        InvalidCommand,
        "extension amount",
    )
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="", amount="2 working_days"),
        InvalidCommand,
        "reason",
    )
    requested = case.one(
        c.RequestExtension(actor=HANDLER, reason="parts on order", amount="2工作日")
    )
    assert isinstance(requested, e.ExtensionRequested)
    assert (requested.department, requested.reason, requested.amount) == (
        DEPT,
        "parts on order",
        "2 working_days",
    )
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="more", amount="1 working_days"),
        WrongStage,
        "extension request waiting",
    )
    at = cst("2026-10-08T09:00")
    granted = case.one(c.DecideExtension(actor=DISPATCHER, approve=True, note="ok"), at=at)
    # 8 Oct 11:00 + 16 working hours: 5 h on Thursday, 8 h Friday, 3 h on Saturday 10 Oct
    # (a 调休 working day) → Saturday 11:00.
    new_due = cst("2026-10-10T11:00")
    assert isinstance(granted, e.ExtensionGranted)
    assert (granted.amount, granted.disposal_due_at, granted.due_at) == (
        "2 working_days",
        new_due,
        new_due,
    )
    assert granted.warn_at == at + (new_due - at) * 0.8
    state = case.state
    assert state.disposal_due_at == new_due and state.stage_due_at == new_due
    assert state.extension_count == 1 and state.pending is None and state.light is Light.GREEN
    # Ordinary cases get one extension.
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="more", amount="1 working_days"),
        WrongStage,
        "has had 1 extension.*; an ordinary case may have 1",
    )


def test_an_urgent_case_gets_one_more_extension() -> None:
    case = case_at(Stage.HANDLE, rules=replace(PLAIN, urgency="urgent"))
    due = case.state.disposal_due_at
    assert due is not None
    for n in (1, 2):
        case.do(c.RequestExtension(actor=HANDLER, reason="rain", amount="30 minutes"))
        case.do(c.DecideExtension(actor=LEADER, approve=True))
        assert case.state.extension_count == n
        assert case.state.disposal_due_at == due + n * 30 * MIN
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="rain", amount="30 minutes"),
        WrongStage,
        "has had 2 extension.*; an urgent case may have 2",
    )


def test_a_denied_extension_needs_a_note_and_does_not_count() -> None:
    case = case_at(Stage.HANDLE, rules=replace(PLAIN, max_extensions=0))
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="x", amount="1 hours"),
        WrongStage,
        "an ordinary case may have 0",
    )
    case = case_at(Stage.HANDLE)
    due = case.state.disposal_due_at
    case.do(c.RequestExtension(actor=HANDLER, reason="rain", amount="1 hours"))
    case.refused(
        c.DecideExtension(actor=DISPATCHER, approve=False, note=" "), InvalidCommand, "denying"
    )
    event = case.one(c.DecideExtension(actor=DISPATCHER, approve=False, note="no rain today"))
    assert isinstance(event, e.ExtensionDenied) and event.note == "no rain today"
    state = case.state
    assert state.pending is None and state.extension_count == 0 and state.disposal_due_at == due
    case.do(c.RequestExtension(actor=HANDLER, reason="rain", amount="1 hours"))
    assert case.state.pending is not None


def test_only_the_case_departments_handler_asks_for_an_extension() -> None:
    case = case_at(Stage.HANDLE)
    case.refused(
        c.RequestExtension(actor=ROADS_HANDLER, reason="x", amount="1 hours"),
        NotYourCase,
        "sanitation",
    )
    case_at(Stage.SIGN_FOR).refused(
        c.RequestExtension(actor=HANDLER, reason="x", amount="1 hours"), WrongStage, "处置中"
    )


# -- suspension (挂账) and backlog (积存) ----------------------------------------------


def test_suspension_stops_the_clock_and_resume_restarts_it_with_what_was_left() -> None:
    case = Case(cst("2026-11-30T08:40"))
    case.do(report(rules=WORKING), at=case.now)
    case.do(c.FileCase(actor=LEADER))
    case.do(c.DispatchCase(actor=DISPATCHER, department=DEPT), at=cst("2026-11-30T09:00"))
    case.do(c.SignFor(actor=HANDLER), at=cst("2026-11-30T09:10"))
    assert case.state.disposal_due_at == cst("2026-11-30T15:00")
    case.refused(c.ResumeCase(actor=DISPATCHER), WrongStage, "is not suspended")
    requested = case.one(c.RequestSuspension(actor=HANDLER, reason="needs excavation"))
    assert isinstance(requested, e.SuspensionRequested) and requested.department == DEPT
    case.refused(c.DecideSuspension(actor=LEADER, approve=True), WrongRole, "shift_leader")
    at = cst("2026-11-30T10:00")
    suspended = case.one(c.DecideSuspension(actor=COMMANDER, approve=True, note="ok"), at=at)
    # Left at 10:00: 10-12 and 14-15 → 3 working hours.
    assert isinstance(suspended, e.CaseSuspended)
    assert suspended.remaining == "3 working_hours"
    assert suspended.backlog_at == at + timedelta(days=60)
    state = case.state
    assert state.status is Status.SUSPENDED and state.stage is Stage.HANDLE and state.suspended
    assert state.stage_due_at is None and state.stage_warn_at is None
    assert state.suspended_at == at and str(state.remaining) == "3 working_hours"
    assert state.pending is None
    # Nothing the department does moves a suspended case.
    for command in [
        c.SubmitFeedback(actor=HANDLER, result="x"),
        c.RequestExtension(actor=HANDLER, reason="x", amount="1 hours"),
        c.RequestReturn(actor=HANDLER, reason="x"),
        c.RequestSuspension(actor=HANDLER, reason="x"),
    ]:
        case.refused(command, WrongStage, "is suspended")
    case.refused(
        c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE),
        WrongStage,
        "no deadline time",
        at=at + timedelta(days=1),
    )
    resumed = case.one(c.ResumeCase(actor=DISPATCHER, note="dry now"), at=cst("2026-12-08T16:00"))
    # 3 working hours from Tuesday 16:00: 2 h, then 1 h on Wednesday → 09:00.
    new_due = cst("2026-12-09T09:00")
    assert isinstance(resumed, e.CaseResumed)
    assert resumed.disposal_due_at == resumed.due_at == new_due
    state = case.state
    assert state.status is Status.OPEN and not state.suspended and state.remaining is None
    assert state.stage_due_at == new_due and state.disposal_due_at == new_due
    assert state.backlog_at is None and state.suspended_at is None
    assert isinstance(case.one(c.SubmitFeedback(actor=HANDLER, result="dug and fixed")), e.Event)
    assert case.state.stage is Stage.CHECK


def test_denied_suspension_and_a_suspension_approved_after_the_deadline() -> None:
    case = case_at(Stage.HANDLE)
    case.do(c.RequestSuspension(actor=HANDLER, reason="winter"))
    case.refused(c.DecideSuspension(actor=DISPATCHER, approve=False), InvalidCommand, "denying")
    event = case.one(c.DecideSuspension(actor=DISPATCHER, approve=False, note="not now"))
    assert isinstance(event, e.SuspensionDenied) and case.state.pending is None
    assert not case.state.suspended and case.state.status is Status.OPEN
    # Nothing is left of a deadline already passed: resuming starts at once, overdue.
    due = case.state.disposal_due_at
    assert due is not None
    case.do(c.RequestSuspension(actor=HANDLER, reason="winter"))
    case.do(c.DecideSuspension(actor=DISPATCHER, approve=True), at=due + MIN)
    assert case.state.remaining is None
    resumed = case.one(c.ResumeCase(actor=COMMANDER), at=due + timedelta(days=2))
    assert isinstance(resumed, e.CaseResumed) and resumed.due_at == due + timedelta(days=2)
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE))
    assert case.state.light is Light.RED


def test_backlog_only_from_backlog_at_and_once() -> None:
    case = case_at(Stage.HANDLE)
    case.refused(c.MarkBacklog(actor=SYSTEM_ACTOR), WrongStage, "is not suspended")
    case.do(c.RequestSuspension(actor=HANDLER, reason="winter"))
    case.do(c.DecideSuspension(actor=DISPATCHER, approve=True))
    since = case.now
    backlog_at = since + timedelta(days=10)
    assert case.state.backlog_at == backlog_at
    timer = next_timer(case.state)
    assert timer is not None and timer.at == backlog_at
    assert isinstance(timer.command, c.MarkBacklog) and timer.command.actor == SYSTEM_ACTOR
    case.refused(c.MarkBacklog(actor=SYSTEM_ACTOR), DeadlineNotReached, "not yet backlog")
    case.refused(c.MarkBacklog(actor=DISPATCHER), WrongRole, "system", at=backlog_at)
    event = case.one(c.MarkBacklog(actor=SYSTEM_ACTOR), at=backlog_at)
    assert isinstance(event, e.CaseBacklogged) and event.suspended_since == since
    assert case.state.backlog and case.state.status is Status.SUSPENDED
    assert next_timer(case.state) is None
    case.refused(c.MarkBacklog(actor=SYSTEM_ACTOR), WrongStage, "already counted as backlog")


# -- rework (返工) and bundled deadlines -------------------------------------------------


def fail_check(case: Case) -> tuple[e.Event, e.Event]:
    failed, rework = case.do(c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"))
    return failed, rework


@pytest.mark.parametrize("bundle", [False, True])
def test_rework_cycles_are_counted_and_bundling_keeps_the_disposal_deadline(bundle: bool) -> None:
    case = case_at(Stage.CHECK, rules=replace(PLAIN, bundle_disposal=bundle))
    first_due = case.state.disposal_due_at
    assert first_due is not None
    for cycle in (1, 2):
        failed, rework = fail_check(case)
        assert isinstance(failed, e.ClosureCheckFailed) and failed.note == "still dirty"
        assert isinstance(rework, e.ReworkOrdered)
        assert (rework.department, rework.cycle) == (DEPT, cycle)
        due = first_due if bundle else case.now + 4 * 60 * MIN
        assert rework.disposal_due_at == rework.due_at == due
        state = case.state
        assert state.stage is Stage.HANDLE and state.rework_count == cycle
        assert state.disposal_due_at == due and state.department == DEPT
        case.do(c.SubmitFeedback(actor=HANDLER, result="cleared again"))


@pytest.mark.parametrize("bundle", [False, True])
def test_bundling_keeps_the_disposal_deadline_across_return_and_redispatch(bundle: bool) -> None:
    case = case_at(Stage.HANDLE, rules=replace(PLAIN, bundle_disposal=bundle))
    first_due = case.state.disposal_due_at
    case.do(c.RequestReturn(actor=HANDLER, reason="roads"))
    case.do(c.DecideReturn(actor=DISPATCHER, approve=True), at=case.now + 60 * MIN)
    event = case.one(c.DispatchCase(actor=DISPATCHER, department="roads"))
    assert isinstance(event, e.CaseDispatched)
    due = first_due if bundle else case.now + 4 * 60 * MIN
    assert event.disposal_due_at == due and case.state.disposal_due_at == due


# -- urge (催办) and supervise (督办) ---------------------------------------------------


@pytest.mark.parametrize(
    "stage",
    [Stage.VERIFY, Stage.DISPATCH, Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE],
)
def test_supervisor_or_leader_urges_at_any_open_stage(stage: Stage) -> None:
    case = case_at(stage)
    case.refused(c.UrgeCase(actor=SUPERVISOR, message=" "), InvalidCommand, "message")
    case.refused(c.UrgeCase(actor=DISPATCHER, message="hurry"), WrongRole, "dispatcher")
    event = case.one(c.UrgeCase(actor=SUPERVISOR, message="hurry"))
    assert isinstance(event, e.CaseUrged) and (event.message, event.stage) == ("hurry", stage)
    in_department = stage in (Stage.SIGN_FOR, Stage.HANDLE)
    assert event.department == (DEPT if in_department else "")
    case.do(c.UrgeCase(actor=COMMANDER, message="now"))
    assert case.state.urge_count == 2 and case.state.stage is stage


def test_a_closed_case_is_not_urged() -> None:
    case_at(Stage.CLOSED).refused(c.UrgeCase(actor=SUPERVISOR, message="x"), WrongStage, "已结案")


@pytest.mark.parametrize("actor", [SUPERVISOR, COMMANDER])
@pytest.mark.parametrize("level", list(SupervisionLevel))
def test_supervision_in_a_department_stage_expects_a_reply(
    actor: Actor, level: SupervisionLevel
) -> None:
    case = case_at(Stage.SIGN_FOR)
    event = case.one(c.SuperviseCase(actor=actor, level=level, message="fix it today"))
    assert isinstance(event, e.SupervisionIssued)
    assert (event.level, event.stage, event.department) == (level, Stage.SIGN_FOR, DEPT)
    assert event.reply_due_at == case.now + 3 * 60 * MIN
    state = case.state
    assert state.supervision_level is level and state.supervision_pending
    assert state.reply_due_at == case.now + 3 * 60 * MIN


def test_only_the_departments_handler_replies_to_supervision() -> None:
    case = case_at(Stage.HANDLE)
    case.refused(c.ReplyToSupervision(actor=HANDLER, reply="on it"), WrongStage, "no supervision")
    case.do(c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.ORDINARY, message="why"))
    case.refused(c.ReplyToSupervision(actor=ROADS_HANDLER, reply="x"), NotYourCase, "sanitation")
    case.refused(c.ReplyToSupervision(actor=SUPERVISOR, reply="x"), WrongRole, "supervisor")
    case.refused(c.ReplyToSupervision(actor=HANDLER, reply=" "), InvalidCommand, "reply")
    event = case.one(c.ReplyToSupervision(actor=HANDLER, reply="crew on the way"))
    assert isinstance(event, e.SupervisionReplied)
    assert (event.department, event.reply) == (DEPT, "crew on the way")
    state = case.state
    assert not state.supervision_pending and state.reply_due_at is None
    assert state.supervision_level is SupervisionLevel.ORDINARY


@pytest.mark.parametrize("stage", [Stage.VERIFY, Stage.DISPATCH, Stage.CHECK, Stage.CLOSE])
def test_supervision_outside_department_stages_is_refused(stage: Stage) -> None:
    case_at(stage).refused(
        c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.RED, message="x"),
        WrongStage,
        "supervise",
    )


def test_a_system_card_at_or_below_the_current_level_is_refused_a_person_may_repeat() -> None:
    case = case_at(Stage.HANDLE)
    case.do(c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.YELLOW, message="late"))
    for level in (SupervisionLevel.ORDINARY, SupervisionLevel.YELLOW):
        case.refused(
            c.SuperviseCase(actor=SYSTEM_ACTOR, level=level, message="auto"),
            WrongStage,
            "already under yellow supervision",
        )
    # A person may supervise again; a lower level never lowers the case's level.
    case.do(c.SuperviseCase(actor=COMMANDER, level=SupervisionLevel.ORDINARY, message="again"))
    assert case.state.supervision_level is SupervisionLevel.YELLOW
    # The ladder's red card needs the stage overdue by red_card_after (2 hours here).
    due = case.state.stage_due_at
    assert due is not None
    red = c.SuperviseCase(actor=SYSTEM_ACTOR, level=SupervisionLevel.RED, message="auto")
    case.refused(red, WrongStage, "no automatic red card")
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE), at=due)
    case.refused(red, DeadlineNotReached, "red card", at=due + 2 * 60 * MIN - MIN)
    case.do(red, at=due + 2 * 60 * MIN)
    assert case.state.supervision_level is SupervisionLevel.RED


def test_the_system_issues_no_ordinary_card_and_cards_only_when_due() -> None:
    case = case_at(Stage.SIGN_FOR)
    ordinary = c.SuperviseCase(actor=SYSTEM_ACTOR, level=SupervisionLevel.ORDINARY, message="x")
    case.refused(ordinary, WrongStage, "no automatic ordinary card")
    yellow = c.SuperviseCase(actor=SYSTEM_ACTOR, level=SupervisionLevel.YELLOW, message="auto")
    case.refused(yellow, WrongStage, "no automatic yellow card")  # still green
    due = case.state.stage_due_at
    assert due is not None
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.SIGN_FOR), at=due)
    case.refused(yellow, DeadlineNotReached, "yellow card", at=due + 59 * MIN)
    event = case.one(yellow, at=due + 60 * MIN)
    assert isinstance(event, e.SupervisionIssued) and event.level is SupervisionLevel.YELLOW


def test_cards_belong_to_a_stage_episode_and_reset_when_the_stage_changes() -> None:
    case = case_at(Stage.SIGN_FOR)
    case.do(c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.RED, message="late"))
    assert case.state.supervision_level is SupervisionLevel.RED
    case.do(c.SignFor(actor=HANDLER))
    assert case.state.supervision_level is None and case.state.supervision_pending


# -- the escalation ladder: lights, overdue and cards --------------------------------


def test_warning_only_from_warn_at_and_only_while_green() -> None:
    case = case_at(Stage.DISPATCH)
    warn, due = case.state.stage_warn_at, case.state.stage_due_at
    assert warn == case.now + 24 * MIN and due == case.now + 30 * MIN
    warning = c.MarkStageWarning(actor=SYSTEM_ACTOR, stage=Stage.DISPATCH)
    case.refused(warning, DeadlineNotReached, "warning time", at=warn - timedelta(seconds=1))
    case.refused(
        c.MarkStageWarning(actor=SYSTEM_ACTOR, stage=Stage.HANDLE), WrongStage, "no longer", at=warn
    )
    event = case.one(warning, at=warn)
    assert isinstance(event, e.StageWarned) and (event.stage, event.due_at) == (Stage.DISPATCH, due)
    assert case.state.light is Light.YELLOW and case.state.overdue_count == 0
    case.refused(warning, WrongStage, "already yellow", at=due)
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.DISPATCH), at=due)
    assert case.state.light is Light.RED and case.state.stage_overdue
    case.refused(warning, WrongStage, "already red", at=due + MIN)


def test_overdue_only_from_due_at_even_without_a_warning() -> None:
    case = case_at(Stage.CHECK)
    due = case.state.stage_due_at
    assert due is not None
    overdue = c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.CHECK)
    case.refused(overdue, DeadlineNotReached, "deadline time", at=due - timedelta(seconds=1))
    event = case.one(overdue, at=due)
    assert isinstance(event, e.StageOverdue) and event.due_at == due
    state = case.state
    assert state.light is Light.RED and state.overdue_count == 1
    assert not state.disposal_late  # a center stage


def test_next_timer_climbs_the_ladder_of_a_department_stage() -> None:
    case = case_at(Stage.HANDLE)
    warn, due = case.state.stage_warn_at, case.state.stage_due_at
    assert warn is not None and due is not None
    expected: list[tuple[type[c.Command], datetime, SupervisionLevel | None]] = [
        (c.MarkStageWarning, warn, None),
        (c.MarkStageOverdue, due, None),
        (c.SuperviseCase, due + 60 * MIN, SupervisionLevel.YELLOW),
        (c.SuperviseCase, due + 120 * MIN, SupervisionLevel.RED),
    ]
    for kind, at, level in expected:
        timer = next_timer(case.state)
        assert timer is not None and type(timer.command) is kind and timer.at == at
        assert timer.command.actor == SYSTEM_ACTOR
        if level is not None:
            assert isinstance(timer.command, c.SuperviseCase) and timer.command.level is level
        case.do(timer.command, at=timer.at)
    assert next_timer(case.state) is None
    assert case.state.supervision_level is SupervisionLevel.RED and case.state.disposal_late


def test_next_timer_gives_no_cards_in_center_stages() -> None:
    case = case_at(Stage.DISPATCH)
    for kind in (c.MarkStageWarning, c.MarkStageOverdue):
        timer = next_timer(case.state)
        assert timer is not None and type(timer.command) is kind
        case.do(timer.command, at=timer.at)
    assert case.state.light is Light.RED and next_timer(case.state) is None


def test_next_timer_is_none_before_a_report_and_for_terminal_cases() -> None:
    assert next_timer(initial_state(CASE)) is None
    for stage in (Stage.CLOSED, Stage.CANCELLED):
        case = case_at(Stage.CLOSE)
        command = (
            c.CloseCase(actor=LEADER)
            if stage is Stage.CLOSED
            else c.CancelCase(actor=LEADER, reason="x")
        )
        case.do(command)
        assert case.state.stage is stage and next_timer(case.state) is None


def test_closing_type_is_overdue_after_an_overdue_department_stage() -> None:
    on_time = case_at(Stage.CLOSE)
    # A late center stage does not make the disposal late.
    due = on_time.state.stage_due_at
    assert due is not None
    on_time.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.CLOSE), at=due)
    closed = on_time.one(c.CloseCase(actor=LEADER, note="done"))
    assert isinstance(closed, e.CaseClosed) and closed.closing_type == "normal"
    assert on_time.state.closing_type == "normal" and on_time.state.status is Status.CLOSED

    late = case_at(Stage.HANDLE)
    due = late.state.stage_due_at
    assert due is not None
    late.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE), at=due)
    assert late.state.disposal_late
    for command in main_line()[3:]:
        late.do(command)
    assert isinstance(late.events[-1], e.CaseClosed)
    assert late.events[-1].closing_type == "overdue" and late.state.closing_type == "overdue"


# -- the sweeps: every command, every wrong role, every wrong stage --------------------

# The permission table as the field describes it (docs/field-facts.md §2), written apart from
# domain.case and compared with it.
EXPECTED = RULEBOOK


def test_the_permission_and_stage_tables_are_the_fields() -> None:
    assert set(PERMISSIONS) == set(EXPECTED) == set(c.Command.__subclasses__())
    for kind, (roles, stages) in EXPECTED.items():
        assert set(PERMISSIONS[kind]) == roles, kind.__name__
        if stages is not None:
            assert {s.value for s in REQUIRED_STAGES[kind]} == stages, kind.__name__
    assert c.ReportCase not in REQUIRED_STAGES


def sample(kind: type[c.Command], actor: Actor) -> c.Command:
    """A well-formed command of ``kind`` given by ``actor``."""
    fields: dict[type[c.Command], dict[str, object]] = {
        c.RequestVerification: {"assignee": WORKER.id},
        c.RecordVerification: {"confirmed": True},
        c.RejectCase: {"reason": "x"},
        c.CancelCase: {"reason": "x"},
        c.MergeCase: {"into": "c-0"},
        c.RecordDuplicate: {"duplicate": "c-9"},
        c.ReviewSelfHandling: {"approve": True},
        c.DispatchCase: {"department": DEPT},
        c.RequestExtension: {"reason": "x", "amount": "1 hours"},
        c.DecideExtension: {"approve": True},
        c.RequestReturn: {"reason": "x"},
        c.DecideReturn: {"approve": True},
        c.RequestSuspension: {"reason": "x"},
        c.DecideSuspension: {"approve": True},
        c.SubmitFeedback: {"result": "x"},
        c.RecordClosureCheck: {"passed": True},
        c.UrgeCase: {"message": "x"},
        c.SuperviseCase: {"level": SupervisionLevel.ORDINARY, "message": "x"},
        c.ReplyToSupervision: {"reply": "x"},
        c.MarkStageWarning: {"stage": Stage.HANDLE},
        c.MarkStageOverdue: {"stage": Stage.HANDLE},
    }
    if kind is c.ReportCase:
        return report(actor=actor)
    return kind(actor=actor, **fields.get(kind, {}))


ACTOR_OF: dict[Role, Actor] = {
    Role.GRID_WORKER: WORKER,
    Role.ACCEPTOR: ACCEPTOR,
    Role.SHIFT_LEADER: LEADER,
    Role.DISPATCHER: DISPATCHER,
    Role.HANDLER: HANDLER,
    Role.SUPERVISOR: SUPERVISOR,
    Role.LEADER: COMMANDER,
    Role.SYSTEM: SYSTEM_ACTOR,
}
WRONG_ROLES = [
    (kind, role) for kind, allowed in PERMISSIONS.items() for role in Role if role not in allowed
]


@pytest.mark.parametrize(
    ("kind", "role"), WRONG_ROLES, ids=[f"{k.__name__}-{r.value}" for k, r in WRONG_ROLES]
)
def test_every_command_by_a_wrong_role_is_refused(kind: type[c.Command], role: Role) -> None:
    # The role is checked first: even in a stage where the command would fit.
    stages = REQUIRED_STAGES.get(kind)
    state = (
        initial_state(CASE)
        if stages is None
        else STATES[min(stages, key=list(Stage).index)]()  # some stage the command fits
    )
    with pytest.raises(WrongRole) as caught:
        decide(state, sample(kind, ACTOR_OF[role]), T0 + timedelta(days=30))
    message = str(caught.value)
    assert role.value in message and "may not" in message
    for allowed in PERMISSIONS[kind]:
        assert allowed.value in message


def _suspended_handle() -> CaseState:
    case = case_at(Stage.HANDLE)
    case.do(c.RequestSuspension(actor=HANDLER, reason="x"))
    case.do(c.DecideSuspension(actor=DISPATCHER, approve=True))
    return case.state


def _review() -> CaseState:
    case = Case()
    case.do(self_handled_report(), at=T0)
    return case.state


def _terminal(command: c.Command, stage: Stage = Stage.VERIFY) -> CaseState:
    case = case_at(stage)
    case.do(command)
    return case.state


STATES: dict[Stage, Callable[[], CaseState]] = {
    Stage.VERIFY: lambda: case_at(Stage.VERIFY).state,
    Stage.REVIEW: lambda: _review(),
    Stage.DISPATCH: lambda: case_at(Stage.DISPATCH).state,
    Stage.SIGN_FOR: lambda: case_at(Stage.SIGN_FOR).state,
    Stage.HANDLE: lambda: case_at(Stage.HANDLE).state,
    Stage.CHECK: lambda: case_at(Stage.CHECK).state,
    Stage.CLOSE: lambda: case_at(Stage.CLOSE).state,
    Stage.CLOSED: lambda: case_at(Stage.CLOSED).state,
    Stage.REJECTED: lambda: _terminal(c.RejectCase(actor=LEADER, reason="x")),
    Stage.CANCELLED: lambda: _terminal(c.CancelCase(actor=LEADER, reason="x"), Stage.HANDLE),
    Stage.MERGED: lambda: _terminal(c.MergeCase(actor=LEADER, into="c-0")),
}


def test_the_sweep_states_are_at_their_stages() -> None:
    for stage, build in STATES.items():
        state = build()
        assert state.stage is stage
    assert _suspended_handle().status is Status.SUSPENDED


WRONG_STAGES = [
    (kind, stage)
    for kind, stages in REQUIRED_STAGES.items()
    for stage in [None, *Stage]
    if stage not in stages
]


@pytest.mark.parametrize(
    ("kind", "stage"),
    WRONG_STAGES,
    ids=[f"{k.__name__}-{s.value if s else 'unreported'}" for k, s in WRONG_STAGES],
)
def test_every_command_outside_its_stages_is_refused(
    kind: type[c.Command], stage: Stage | None
) -> None:
    role = min(PERMISSIONS[kind], key=list(Role).index)
    state = initial_state(CASE) if stage is None else STATES[stage]()
    with pytest.raises(WrongStage) as caught:
        decide(state, sample(kind, ACTOR_OF[role]), T0 + timedelta(days=30))
    message = str(caught.value)
    if stage is None:
        assert "has not been reported" in message
    else:
        assert f"at stage {stage.label}" in message
        for needed in REQUIRED_STAGES[kind]:
            assert needed.label in message


@pytest.mark.parametrize("stage", list(Stage))
def test_a_second_report_is_refused_at_every_stage(stage: Stage) -> None:
    state = STATES[stage]()
    with pytest.raises(WrongStage, match="already reported"):
        decide(state, report(), T0)
