"""The district simulation (sim/): arrivals, queueing, working hours, the decider's consent,
reproducibility and the staffing search. Small configs, so the file runs in seconds."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.case import decide, evolve, fold, initial_state
from domain.demo_district import generate_demo_district
from domain.holiday_notices import default_calendar
from domain.taxonomy import default_taxonomy
from sim.arrivals import generate_arrivals, hourly_rates
from sim.clock import WorkClock
from sim.config import SimConfig
from sim.engine import SimResult, simulate
from sim.report import dumps, summarize
from sim.staffing import evaluate_staffing, find_staffing

CALENDAR = default_calendar()
TZ = CALENDAR.tz
SMALL = SimConfig(days=3, reports_per_day=150)


@pytest.fixture(scope="module")
def small_run() -> SimResult:
    return simulate(SMALL, record_commands=True)


def _local(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(TZ)


# Arrivals


def test_arrival_counts_match_the_expected_rate_within_poisson_noise() -> None:
    config = SimConfig(days=28, reports_per_day=300, seed=7)
    arrivals = generate_arrivals(
        config, CALENDAR, generate_demo_district(7), default_taxonomy(), random.Random(7)
    )
    first = date.fromisoformat(config.start)
    expected = sum(
        sum(hourly_rates(config, CALENDAR, first + timedelta(days=d))) for d in range(28)
    )
    assert abs(len(arrivals) - expected) < 4 * math.sqrt(expected)
    assert [a.ts for a in arrivals] == sorted(a.ts for a in arrivals)
    assert {a.grid for a in arrivals} <= {g.code for g in generate_demo_district(7).grids}


def test_arrivals_follow_the_daily_and_weekly_rhythm() -> None:
    config = SimConfig(days=28, reports_per_day=300, seed=3)  # 2025-03-03: four full weeks
    arrivals = generate_arrivals(
        config, CALENDAR, generate_demo_district(3), default_taxonomy(), random.Random(3)
    )
    by_hour = Counter(_local(a.ts).hour for a in arrivals)
    morning = sum(by_hour[h] for h in (8, 9, 10))
    night = sum(by_hour[h] for h in (1, 2, 3))
    assert morning > 10 * night  # peak hours against the small hours
    assert by_hour[16] > by_hour[13]  # the late-afternoon peak after the lunch lull
    by_weekday = Counter(_local(a.ts).weekday() for a in arrivals)
    weekday_mean = sum(by_weekday[d] for d in range(5)) / 5
    weekend_mean = (by_weekday[5] + by_weekday[6]) / 2
    assert weekend_mean / weekday_mean == pytest.approx(config.weekend_factor, abs=0.08)


def test_holidays_get_fewer_reports_than_working_days() -> None:
    # 2025-10-01..08 is the National Day holiday; 2025-09-29/30 are working days.
    config = SimConfig(days=10, start="2025-09-29", reports_per_day=300)
    arrivals = generate_arrivals(
        config, CALENDAR, generate_demo_district(1), default_taxonomy(), random.Random(1)
    )
    per_day = Counter(_local(a.ts).date() for a in arrivals)
    working = (per_day[date(2025, 9, 29)] + per_day[date(2025, 9, 30)]) / 2
    holiday = sum(per_day[date(2025, 10, d)] for d in range(1, 9)) / 8
    assert holiday / working == pytest.approx(config.holiday_factor, abs=0.1)


# Clock and queueing


def test_work_clock_pauses_outside_office_windows() -> None:
    clock = WorkClock(CALENDAR, date(2025, 3, 3), date(2025, 3, 10))
    monday_1130 = int(datetime(2025, 3, 3, 11, 30, tzinfo=TZ).timestamp())
    done = clock.add_work(monday_1130, 3600)  # 30 min before lunch, 30 after
    assert _local(done) == datetime(2025, 3, 3, 14, 30, tzinfo=TZ)
    friday_1730 = int(datetime(2025, 3, 7, 17, 30, tzinfo=TZ).timestamp())
    assert _local(clock.add_work(friday_1730, 3600)) == datetime(2025, 3, 10, 8, 30, tzinfo=TZ)
    assert not clock.is_open(int(datetime(2025, 3, 8, 10, tzinfo=TZ).timestamp()))  # Saturday


def test_a_single_handler_serves_in_order_one_job_at_a_time() -> None:
    config = replace(SMALL, days=4, handlers={"*": 1}, on_call={"*": 0}, queue="fifo", seed=5)
    result = simulate(config, only_departments=frozenset({"sanitation"}))
    jobs = sorted(job for case in result.cases for job in case.jobs)
    assert len(jobs) > 20
    assert {job[3] for job in jobs} == {"sanitation-office-01"}
    starts = [start for _, start, _, _ in jobs]
    assert starts == sorted(starts)  # first queued, first served
    for (_, _, done, _), (_, start, _, _) in itertools.pairwise(jobs):
        assert start >= done  # one handler: no overlap


def test_office_handlers_work_only_in_office_windows_of_working_days() -> None:
    config = replace(SMALL, days=7, on_call={"*": 0}, seed=2)  # everything in office hours
    result = simulate(config)
    jobs = [job for case in result.cases for job in case.jobs]
    assert jobs
    for _, start, done, _ in jobs:
        for moment in (start, done):
            local = _local(moment)
            assert CALENDAR.is_working_day(local.date()), local
            in_window = any(w.start <= local.time() <= w.end for w in CALENDAR.windows)
            assert in_window, local
    assert all(_local(s).hour not in (12, 13) for _, s, _, _ in jobs)  # lunch break


def test_edf_queue_runs_and_serves_earlier_deadlines_first() -> None:
    config = replace(SMALL, handlers={"*": 1}, on_call={"*": 0}, queue="edf", seed=4)
    result = simulate(config, only_departments=frozenset({"sanitation"}))
    assert any(case.jobs for case in result.cases)


# The domain's consent


def test_every_simulated_stream_is_what_the_decider_gives(small_run: SimResult) -> None:
    kinds: Counter[str] = Counter()
    for case in small_run.cases:
        assert case.commands is not None
        state = initial_state(case.case_id)
        replayed = []
        for command, now in case.commands:
            events = decide(state, command, now)  # raises if the domain refuses
            for event in events:
                state = evolve(state, event)
            replayed.extend(events)
        assert replayed == case.events
        assert fold(case.case_id, case.events) == case.state
        kinds.update(event.type for event in case.events)
    # The run exercised the main line, the side paths and the escalation ladder.
    for kind in (
        "CaseClosed",
        "CaseRejected",
        "SelfHandlingApproved",
        "CaseVerified",
        "CaseReturned",
        "ExtensionGranted",
        "ReworkOrdered",
        "StageWarned",
        "StageOverdue",
    ):
        assert kinds[kind] > 0, kind


def test_events_are_in_time_order_and_inside_the_run(small_run: SimResult) -> None:
    for case in small_run.cases:
        times = [event.occurred_at for event in case.events]
        assert times == sorted(times)
        assert all(small_run.start <= t <= small_run.end for t in times)


# Reproducibility and the summary


def test_same_seed_and_config_give_the_same_summary_bytes(small_run: SimResult) -> None:
    again = simulate(SMALL)
    assert dumps(summarize(small_run)) == dumps(summarize(again))
    other = simulate(replace(SMALL, seed=SMALL.seed + 1))
    assert dumps(summarize(other)) != dumps(summarize(small_run))


def test_summary_has_department_and_street_tables(small_run: SimResult) -> None:
    summary = summarize(small_run)
    departments = {d["department"] for d in summary["departments"]}
    assert {"sanitation", "urban_law_enforcement"} <= departments
    assert len(summary["streets"]) == 3
    assert summary["run"]["cases"] == len(small_run.cases)
    assert len(summary["daily"]["dates"]) == SMALL.days
    for row in summary["departments"]:
        if row["due"]:
            assert 0 <= row["on_time_disposal_pct"] <= 100


def test_config_refuses_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        SimConfig.from_dict({"reports_a_day": 3})
    with pytest.raises(ValueError, match="queue"):
        SimConfig.from_dict({"queue": "lifo"})
    merged = SimConfig.from_dict({"handlers": {"sanitation": 3}})
    assert merged.handlers_for("sanitation") == 3
    assert merged.handlers_for("urban_law_enforcement") == 30  # defaults kept


# Staffing


STAFFING = SimConfig(days=5, reports_per_day=200, seed=11)


def test_more_handlers_never_lower_the_on_time_rate_much() -> None:
    rates = [
        evaluate_staffing(STAFFING, "sanitation", n, (11,)).on_time_pct or 0.0 for n in range(1, 8)
    ]
    for fewer, more in itertools.pairwise(rates):
        assert more >= fewer - 1.0, rates  # monotone within a point
    assert rates[-1] > rates[0] + 20  # and staffing matters at this load


def test_staffing_search_finds_the_smallest_count_meeting_the_target() -> None:
    answer = find_staffing(STAFFING, "sanitation", 90.0, seeds=(11,))
    assert answer.handlers is not None
    found = answer.figure(answer.handlers)
    below = answer.figure(answer.handlers - 1)
    assert found is not None and (found.on_time_pct or 0) >= 90.0
    assert below is not None and (below.on_time_pct or 0) < 90.0
    assert answer.figure(answer.handlers + 1) is not None  # the neighbour above, reported
