"""Issue 9's examples, as docs/process.md works them through: where yellow goes (in the
limit's own unit), when a disposal is late (one rule: the closing type's and the KPI's),
and a case's time never running backwards. Deadlines are counted by hand on the 2026
holiday notice (office windows 08:00-12:00 and 14:00-18:00; 2026-11-27 is a Friday)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from domain import commands as c
from domain import events as e
from domain.calendar import TimeLimit
from domain.errors import DeadlinePassed, OutOfOrder
from domain.holiday_notices import default_calendar
from domain.kpi_facts import case_facts
from domain.lateness import disposal_late_after, late, on_time
from domain.roles import SYSTEM_ACTOR
from domain.rules import CaseRules, legacy_rules
from domain.stages import Light, Stage
from tests.factories import DISPATCHER, HANDLER, LEADER, SUPERVISOR, WORKER, report
from tests.unit.test_side_paths import Case, cst

ONE_DAY = CaseRules.from_dict(
    dict(conditions={"E0101-01": "1 working_days"}, calendar=default_calendar().to_dict())
)
FOUR_HOURS = replace(ONE_DAY, conditions={"E0101-01": TimeLimit.parse("4 working_hours")})


def dispatched(rules: CaseRules, at: str, signed_for: str) -> Case:
    """A case reported and filed just before ``at``, dispatched at ``at``, signed for."""
    start = cst(at) - timedelta(minutes=10)
    case = Case(start)
    case.do(report(rules=rules), at=start)
    case.do(c.FileCase(actor=LEADER), at=start + timedelta(minutes=5))
    case.do(c.DispatchCase(actor=DISPATCHER, department=HANDLER.unit), at=cst(at))
    case.do(c.SignFor(actor=HANDLER), at=cst(signed_for))
    return case


def finish(case: Case, feedback: str) -> e.CaseClosed:
    """Feedback at ``feedback``, then check and close half an hour apart each."""
    at = cst(feedback)
    case.do(c.SubmitFeedback(actor=HANDLER, result="cleared"), at=at)
    case.do(c.RecordClosureCheck(actor=WORKER, passed=True), at=at + timedelta(minutes=30))
    closed = case.one(c.CloseCase(actor=LEADER), at=at + timedelta(minutes=60))
    assert isinstance(closed, e.CaseClosed)
    return closed


def kpi_on_time(case: Case) -> bool:
    facts = case_facts(case.events)
    assert facts is not None and facts.disposed
    return facts.disposal_on_time


# -- yellow in the limit's own unit -------------------------------------------------------


def test_fri_16_10_one_working_day_turns_yellow_monday_afternoon() -> None:
    # Dispatched Fri 16:00 with 1 工作日: due Mon 16:00. Yellow when 20% of the 8 working
    # hours (1 h 36 min) is left: Mon 14:24, 80% of the working time after dispatch
    # (2 h Friday, 4 h Monday morning, 24 min after lunch). Not Mon 01:38.
    case = dispatched(ONE_DAY, "2026-11-27T16:00", signed_for="2026-11-27T16:10")
    s = case.state
    assert (s.stage, s.stage_due_at, s.stage_warn_at) == (
        Stage.HANDLE,
        cst("2026-11-30T16:00"),
        cst("2026-11-30T14:24"),
    )
    assert s.disposal_allowed == TimeLimit.parse("1 working_days")
    calendar = ONE_DAY.working_calendar
    assert calendar.elapsed(cst("2026-11-27T16:00"), s.stage_warn_at, "working_days") == 0.8


def test_cases_reported_before_keep_the_wall_clock_yellow() -> None:
    # Their rules say so (schema-2 records read back, workflows started before the patch):
    # yellow at 80% of the clock time from sign-for to the deadline, the Mon 01:38.
    case = dispatched(legacy_rules(ONE_DAY), "2026-11-27T16:00", signed_for="2026-11-27T16:10")
    assert case.state.stage_warn_at == cst("2026-11-30T01:38")
    assert case.state.disposal_allowed is None  # never recorded for them


def test_mon_10_00_four_working_hours_turns_yellow_at_15_12() -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T10:00", signed_for="2026-11-30T10:05")
    assert case.state.stage_due_at == cst("2026-11-30T16:00")
    # 3.2 working hours after 10:00: 2 h to noon, 1 h 12 min after 14:00 (not 14:48).
    assert case.state.stage_warn_at == cst("2026-11-30T15:12")


def test_after_a_one_working_day_extension_yellow_is_measured_against_two_days() -> None:
    case = dispatched(ONE_DAY, "2026-11-27T16:00", signed_for="2026-11-27T16:10")
    case.do(
        c.RequestExtension(actor=HANDLER, reason="parts", amount="1 working_days"),
        at=cst("2026-11-30T09:00"),
    )
    granted = case.one(
        c.DecideExtension(actor=DISPATCHER, approve=True), at=cst("2026-11-30T10:00")
    )
    assert isinstance(granted, e.ExtensionGranted)
    # The deadline moves by the amount: Mon 16:00 + 8 working hours = Tue 16:00. Allowed
    # in all: 2 working days; yellow when 3 h 12 min of working time is left: Tue 10:48.
    assert (granted.disposal_due_at, granted.due_at) == (cst("2026-12-01T16:00"),) * 2
    assert granted.disposal_allowed == "2 working_days"
    assert granted.warn_at == cst("2026-12-01T10:48")
    assert case.state.light is Light.GREEN


def test_after_a_resume_yellow_stays_where_the_time_allowed_puts_it() -> None:
    case = dispatched(ONE_DAY, "2026-11-27T16:00", signed_for="2026-11-27T16:10")
    case.do(c.RequestSuspension(actor=HANDLER, reason="permit"), at=cst("2026-11-27T16:20"))
    case.do(c.DecideSuspension(actor=DISPATCHER, approve=True), at=cst("2026-11-27T16:30"))
    # 7.5 of the 8 working hours were left; resumed Wed 09:00: due Thu 08:30.
    resumed = case.one(c.ResumeCase(actor=DISPATCHER), at=cst("2026-12-02T09:00"))
    assert isinstance(resumed, e.CaseResumed)
    assert resumed.due_at == cst("2026-12-03T08:30")
    # Yellow when 1 h 36 min is left: 30 min on Thursday, 1 h 6 min before Wed 18:00.
    assert resumed.warn_at == cst("2026-12-02T16:54")


def test_yellow_that_is_already_due_comes_at_once_and_stays_in_office_time() -> None:
    # Signed for on Monday at 15:24, 36 working minutes before the deadline: yellow was due
    # at 14:24; the light turns yellow at once, and warn_at says when it was due.
    case = dispatched(ONE_DAY, "2026-11-27T16:00", signed_for="2026-11-30T15:24")
    assert case.state.stage_warn_at == cst("2026-11-30T14:24")
    timer_at = case.state.stage_warn_at
    assert timer_at is not None and timer_at < case.now
    warned = case.one(c.MarkStageWarning(actor=SYSTEM_ACTOR, stage=Stage.HANDLE))
    assert isinstance(warned, e.StageWarned) and case.state.light is Light.YELLOW


# -- one lateness rule ------------------------------------------------------------------


def test_a_feedback_after_the_deadline_closes_overdue_and_the_kpi_agrees() -> None:
    # Deadline 12:00 (4 working hours from 08:00), feedback at 15:00, no overdue mark.
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    assert case.state.disposal_due_at == cst("2026-11-30T12:00")
    closed = finish(case, "2026-11-30T15:00")
    assert closed.closing_type == "overdue" and case.state.disposal_late
    assert kpi_on_time(case) is False


def test_an_extension_after_the_deadline_is_refused_naming_the_deadline() -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE), at=cst("2026-11-30T12:00"))
    case.refused(
        c.RequestExtension(actor=HANDLER, reason="rain", amount="1 working_days"),
        DeadlinePassed,
        r"disposal deadline 2026-11-30T12:00\+08:00 has passed",
        at=cst("2026-11-30T14:00"),
    )
    closed = finish(case, "2026-11-30T15:00")
    assert closed.closing_type == "overdue" and kpi_on_time(case) is False


def test_a_late_extension_the_policy_allows_keeps_the_lateness() -> None:
    # The second example: overdue at 12:00, an extension granted at 14:10. Where
    # the center allows it, the deadline moves — and the lateness incurred stays.
    rules = replace(FOUR_HOURS, late_extensions=True)
    case = dispatched(rules, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    case.do(c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE), at=cst("2026-11-30T12:00"))
    case.do(
        c.RequestExtension(actor=HANDLER, reason="rain", amount="1 working_days"),
        at=cst("2026-11-30T14:00"),
    )
    granted = case.one(
        c.DecideExtension(actor=DISPATCHER, approve=True), at=cst("2026-11-30T14:10")
    )
    assert isinstance(granted, e.ExtensionGranted)
    assert granted.disposal_due_at == cst("2026-12-01T12:00")
    assert case.state.disposal_late  # granted after the deadline in force
    closed = finish(case, "2026-11-30T15:00")  # before the new deadline, late all the same
    assert closed.closing_type == "overdue" and kpi_on_time(case) is False


def test_an_extension_asked_in_time_cannot_be_granted_after_the_deadline() -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    case.do(
        c.RequestExtension(actor=HANDLER, reason="rain", amount="2 working_hours"),
        at=cst("2026-11-30T11:30"),
    )
    case.refused(
        c.DecideExtension(actor=DISPATCHER, approve=True),
        DeadlinePassed,
        "grant the extension \\(deny it instead\\).*2026-11-30T12:00",
        at=cst("2026-11-30T12:30"),
    )
    case.do(
        c.DecideExtension(actor=LEADER, approve=False, note="too late"), at=cst("2026-11-30T12:30")
    )
    assert case.state.pending is None and case.state.extension_count == 0


def test_an_extension_in_time_moves_the_deadline_and_the_case_closes_normal() -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    case.do(
        c.RequestExtension(actor=HANDLER, reason="rain", amount="4 working_hours"),
        at=cst("2026-11-30T10:00"),
    )
    case.do(c.DecideExtension(actor=DISPATCHER, approve=True), at=cst("2026-11-30T11:00"))
    assert case.state.disposal_due_at == cst("2026-11-30T18:00")
    closed = finish(case, "2026-11-30T17:00")
    assert closed.closing_type == "normal" and kpi_on_time(case) is True


def test_a_late_first_round_stays_late_after_rework_a_return_starts_anew() -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    case.do(c.SubmitFeedback(actor=HANDLER, result="swept"), at=cst("2026-11-30T15:00"))
    case.do(
        c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"),
        at=cst("2026-11-30T15:30"),
    )
    # Rework: a new deadline from the rework order (not bundled), met — still late.
    assert case.state.disposal_due_at == cst("2026-12-01T09:30")
    closed = finish(case, "2026-12-01T09:00")
    assert closed.closing_type == "overdue" and kpi_on_time(case) is False


def test_the_rule_itself() -> None:
    due = cst("2026-11-30T12:00")
    assert not late(due, due) and late(due + timedelta(seconds=1), due)
    assert on_time(due, due) and not on_time(None, due) and not on_time(due, None)
    assert not late(due, None)
    dispatch = e.CaseDispatched(
        case_id="x", version=3, occurred_at=due, actor=DISPATCHER, department="d"
    )
    assert disposal_late_after(True, due, dispatch) is False  # a new disposal


# -- time never runs backwards ------------------------------------------------------------


def test_filing_before_the_report_is_refused() -> None:
    # The example: a case reported at 07:30, filed at 06:00.
    case = Case(cst("2026-11-30T07:30"))
    case.do(report(rules=ONE_DAY), at=cst("2026-11-30T07:30"))
    error = case.refused(
        c.FileCase(actor=LEADER),
        OutOfOrder,
        "before the case's last event",
        at=cst("2026-11-30T06:00"),
    )
    assert "2026-11-30T06:00:00+08:00" in error.message
    assert "2026-11-30T07:30:00+08:00" in error.message
    # The same moment as the last event is fine (one decision may emit several events).
    case.do(c.FileCase(actor=LEADER), at=cst("2026-11-30T07:30"))


@pytest.mark.parametrize(
    "command",
    [
        c.MarkStageOverdue(actor=SYSTEM_ACTOR, stage=Stage.HANDLE),
        c.SubmitFeedback(actor=HANDLER, result="done"),
        c.UrgeCase(actor=SUPERVISOR, message="hurry"),
    ],
)
def test_every_sender_is_held_to_it(command: c.Command) -> None:
    case = dispatched(FOUR_HOURS, "2026-11-30T08:00", signed_for="2026-11-30T08:10")
    last = case.state.last_event_at
    assert last == cst("2026-11-30T08:10")
    before = datetime.fromisoformat("2026-11-30T08:09:59+08:00")
    case.refused(command, OutOfOrder, "never go back in time", at=before)
