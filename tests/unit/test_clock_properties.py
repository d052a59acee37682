"""Properties of the clocks over random histories in working time (docs/process.md, "The
yellow light"): every stage opened or reclocked under a working-time limit turns yellow
inside office time, within a minute of 80% of its working time (the time left is 20% of
the time allowed); event times never decrease; and a closed case's closing type is the
KPI's verdict on its disposal.

The histories are the random sequences of tests/unit/test_case_properties.py (same moves),
under working-time rules on the shipped 2026 calendar, with delays from minutes to days so
that clocks cross nights, weekends and the National Day holiday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.calendar import TimeLimit, WorkingCalendar
from domain.case import decide, evolve, initial_state
from domain.errors import DomainError
from domain.events import Event, StageOpened
from domain.holiday_notices import default_calendar
from domain.kpi_facts import case_facts
from domain.rules import CaseRules
from domain.stages import DEPARTMENT_STAGES
from domain.state import CaseState
from domain.timers import next_timer
from tests.factories import report
from tests.unit.test_case_properties import CASE, WORKER, _moves

CST = ZoneInfo("Asia/Shanghai")
CALENDAR = default_calendar()
AMOUNTS = ["2 hours", "4 working_hours", "1 working_days", "1 calendar_days", "0.5 working_days"]


def working_rules(bundle: bool, late_ext: bool, condition: str) -> CaseRules:
    return CaseRules.from_dict(
        dict(
            stage_limits={
                "verify": "1 working_hours",
                "review": "1 working_hours",
                "dispatch": "0.5 working_hours",
                "sign_for": "1 working_hours",
                "handle": "1 working_days",
                "check": "2 working_hours",
                "close": "1 working_hours",
            },
            conditions={"E0101-01": condition, "E0101-02": "4 working_hours"},
            bundle_disposal=bundle,
            late_extensions=late_ext,
            max_extensions=2,
            calendar=CALENDAR.to_dict(),
        )
    )


RULES = [
    working_rules(bundle, late_ext, condition)
    for bundle in (False, True)
    for late_ext in (False, True)
    for condition in ("1 working_days", "3 working_hours", "2.5 working_days")
]


def in_office_time(calendar: WorkingCalendar, moment: datetime) -> bool:
    local = moment.astimezone(CST)
    if not calendar.is_working_day(local.date()):
        return False
    return any(w.start <= local.time() <= w.end for w in calendar.windows)


def key(state: CaseState) -> tuple[str | None, str, str, bool, str]:
    verification = state.verification if state.needs_verification else "not needed"
    pending = state.pending.kind if state.pending else ""
    stage = state.stage.value if state.stage else None
    return (stage, state.department, pending, state.suspended, verification)


def allowed_for(state: CaseState) -> TimeLimit | None:
    """The limit the open stage's clock is measured against: the disposal's time allowed
    when the stage runs to the disposal deadline, else the stage's own limit."""
    assert state.stage is not None
    if state.stage in DEPARTMENT_STAGES and state.stage_due_at == state.disposal_due_at:
        return state.disposal_allowed
    return state.rules.stage_limit(state.stage.value)


# Event types whose clock was checked (guards the generator: see the last test).
CHECKED: set[str] = set()


def check_clock(state: CaseState, event: Event) -> None:
    due, warn = state.stage_due_at, state.stage_warn_at
    if not isinstance(event, StageOpened) or due is None or warn is None:
        return
    allowed = allowed_for(state)
    assert allowed is not None, (event, state)
    if not allowed.unit.is_working:
        return
    calendar = state.rules.working_calendar
    assert in_office_time(calendar, warn), (event.type, warn)
    # 80% of the working time allowed used up at yellow: 20% left, to the minute.
    minute = 1 / 60 if allowed.unit.value == "working_hours" else 1 / 480
    left = calendar.elapsed(warn, due, allowed.unit)
    assert abs(left - 0.2 * allowed.amount) <= minute, (event.type, left, allowed)
    CHECKED.add(event.type)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    length=st.integers(min_value=8, max_value=45),
    rules=st.sampled_from(RULES),
    start=st.datetimes(
        min_value=datetime(2026, 1, 5), max_value=datetime(2026, 10, 31), timezones=st.just(CST)
    ),
)
def test_yellow_in_office_time_at_80_percent_of_the_working_time(
    data: st.DataObject, length: int, rules: CaseRules, start: datetime
) -> None:
    state = initial_state(CASE)
    emitted: list[Event] = []
    now = start
    first = report(actor=WORKER, rules=rules)
    for event in decide(state, first, now):
        state = evolve(state, event)
        emitted.append(event)
        check_clock(state, event)
    for _ in range(length):
        if state.is_terminal:
            break
        timer = next_timer(state)
        if timer is not None and data.draw(st.integers(0, 9)) < 3:
            command, at = timer.command, max(now, timer.at)
        else:
            command = data.draw(_moves(*key(state)))
            if isinstance(command, c.RequestExtension):
                command = replace(command, amount=data.draw(st.sampled_from(AMOUNTS)))
            minutes = data.draw(st.sampled_from([5, 30, 90, 240, 600, 1500, 4000]))
            at = now + timedelta(minutes=minutes)
        try:
            events = decide(state, command, at)
        except DomainError:
            continue
        now = at
        for event in events:
            state = evolve(state, event)
            emitted.append(event)
            check_clock(state, event)
    assert all(a.occurred_at <= b.occurred_at for a, b in pairwise(emitted))
    if state.closing_type in ("normal", "overdue"):
        facts = case_facts(emitted)
        assert facts is not None
        assert facts.disposal_on_time is (state.closing_type == "normal")


def test_the_random_histories_reached_every_kind_of_clock() -> None:
    # Guards the strategy: clocks opened, restarted by sign-for, extension, resume, rework
    # and a dispatch that runs sign-for to the disposal deadline were all checked.
    wanted = {
        "CaseReported",
        "CaseFiled",
        "CaseDispatched",
        "TaskSignedFor",
        "ExtensionGranted",
        "CaseResumed",
        "ReworkOrdered",
        "FeedbackSubmitted",
        "ClosureCheckPassed",
    }
    for _ in range(3):
        if wanted <= CHECKED:
            break
        test_yellow_in_office_time_at_80_percent_of_the_working_time()
    assert wanted <= CHECKED, wanted - CHECKED
