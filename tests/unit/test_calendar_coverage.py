"""Which years a calendar knows: official notices, provisional library years, imports over
them, the warning before the official data runs out, and the refusal to guess past it.

Hand-computed deadlines use the shipped 2026 notice and, for 2027, what holidays 0.108 says
(2027-01-01 off, Spring Festival 02-05..02-10 off, no swapped workdays) or the TEST notice
below (made up for these tests: not the State Council's 2027 notice).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from application.config import Settings
from domain import commands as c
from domain.calendar import CalendarNotCovered, TimeLimit, TimeUnit, WorkingCalendar
from domain.case import decide, fold, initial_state
from domain.codec import from_record, to_record
from domain.events import CaseFiled, CaseReported
from domain.holiday_notices import (
    InvalidNotice,
    YearStatus,
    build_calendar,
    default_calendar,
    official_data_warning,
    parse_notice,
    shipped_notices,
)
from domain.policy import CenterPolicy
from domain.rules import DEFAULT_STAGE_LIMITS, CaseRules
from domain.taxonomy import default_taxonomy
from store.calendar import calendar_readiness, calendar_sources, today
from store.calendar_sources import CASE_YEARS, LIBRARY, CalendarSources, provisional_year
from tests.factories import LEADER, WORKER

SH = ZoneInfo("Asia/Shanghai")
DOCS = Path(__file__).resolve().parents[2] / "docs"
TEST_NOTICE: dict[str, Any] = {
    "description": "TEST DATA for gridcase's tests, not the State Council's 2027 notice",
    "years": {
        "2027": {
            "source": "test notice (made up)",
            "holidays": [
                {"name": "元旦", "first": "2027-01-01", "last": "2027-01-03", "workdays": []},
                {
                    "name": "春节",
                    "first": "2027-02-06",
                    "last": "2027-02-14",
                    "workdays": ["2027-02-20"],
                },
            ],
        }
    },
}
BEFORE = CalendarSources.of(shipped_notices())  # no 2027 notice: provisional from holidays
AFTER = CalendarSources.of(shipped_notices(), parse_notice(TEST_NOTICE), version=7)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# -- the domain refuses to guess -----------------------------------------------------------


def test_the_shipped_notices_are_the_official_years_of_the_domain_default() -> None:
    cal = default_calendar()
    assert cal.official_years == {2025, 2026} and cal.provisional_years == frozenset()
    assert not cal.is_working_day(date(2026, 10, 1))  # 国庆节
    assert cal.is_working_day(date(2026, 10, 10))  # 调休上班, a Saturday
    with pytest.raises(CalendarNotCovered, match=r"no holiday data for 2027 .*2025-2026"):
        cal.is_working_day(date(2027, 1, 1))
    # Wall-clock units need no holiday data; working ones stop at the edge, named.
    assert cal.add(sh(2026, 12, 31, 17), TimeLimit(2, TimeUnit.URGENT_HOURS)) == sh(
        2026, 12, 31, 19
    )
    with pytest.raises(CalendarNotCovered) as caught:
        cal.add(sh(2026, 12, 31, 17), TimeLimit(2, TimeUnit.WORKING_HOURS))
    assert caught.value.day == date(2027, 1, 1)
    assert caught.value.covered == {2025, 2026}


def test_a_report_without_rules_runs_on_the_shipped_notices_not_on_no_holidays() -> None:
    rules = CaseRules()
    assert rules.working_calendar == default_calendar()
    assert not rules.working_calendar.is_working_day(date(2026, 10, 1))
    # Wed 09-30 16-18 (2 h), National Day 10-01..07 off, Thu 10-08 08-12, 14-16.
    assert rules.add(sh(2026, 9, 30, 16), TimeLimit.parse("1 working_days")) == sh(2026, 10, 8, 16)
    [reported] = decide(
        initial_state("c-1"),
        c.ReportCase(actor=WORKER, category="E0101", grid=WORKER.unit, description="garbage"),
        sh(2026, 9, 30, 17, 30),
    )
    assert isinstance(reported, CaseReported)
    assert reported.rules.working_calendar == default_calendar()


def test_a_calendar_without_year_data_knows_no_day() -> None:
    empty = WorkingCalendar()
    assert empty.years == frozenset()
    with pytest.raises(CalendarNotCovered, match="covers no year"):
        empty.is_working_day(date(2026, 3, 3))


def test_records_written_before_coverage_cover_their_dates_and_the_shipped_years() -> None:
    old = default_calendar().to_dict()
    for key in ("official_years", "provisional_years", "version", "provisional_source"):
        del old[key]
    assert WorkingCalendar.from_dict(old).official_years == {2025, 2026}  # its own dates
    assert CaseRules(calendar=old).working_calendar == default_calendar()
    assert CaseRules(calendar={}).working_calendar == default_calendar()
    # A center's own 2026 (one extra day off) keeps its data and gains the shipped 2025.
    own = {"holidays": [*old["holidays"], "2026-12-31"], "extra_workdays": []}
    own["holidays"] = [d for d in own["holidays"] if d.startswith("2026")]
    legacy = CaseRules(calendar=own).working_calendar
    assert legacy.official_years == {2025, 2026}
    assert not legacy.is_working_day(date(2026, 12, 31))
    assert legacy.is_working_day(date(2026, 10, 10)) is False  # its record: no 调休 kept
    assert not legacy.is_working_day(date(2025, 1, 28))  # shipped 2025
    with pytest.raises(CalendarNotCovered):
        legacy.add(sh(2026, 12, 31, 17), TimeLimit(2, TimeUnit.WORKING_HOURS))


def test_holidays_outside_the_covered_years_are_refused() -> None:
    with pytest.raises(ValueError, match="2027-01-01 lies in 2027"):
        WorkingCalendar(holidays={date(2027, 1, 1)}, official_years={2026})
    with pytest.raises(ValueError, match="both official and provisional"):
        WorkingCalendar(official_years={2026}, provisional_years={2026})


# -- provisional years from the library ------------------------------------------------------


def test_years_after_the_notices_are_provisional_library_years() -> None:
    cal = BEFORE.calendar(2025, 2028)
    assert cal.official_years == {2025, 2026}
    assert cal.provisional_years == {2027, 2028}
    assert cal.provisional_source == LIBRARY == "holidays 0.108"
    assert cal.is_provisional(date(2027, 1, 1)) and not cal.is_provisional(date(2026, 12, 31))
    # holidays 0.108, China 2027: New Year and the Spring Festival with its 补假 estimate.
    assert not cal.is_working_day(date(2027, 1, 1))
    assert [d.day for d in _days(2027, 2) if not cal.is_working_day(d)][:8] == [
        5,
        6,
        7,
        8,
        9,
        10,
        13,
        14,
    ]
    entry = provisional_year(2027)
    assert entry.status is YearStatus.PROVISIONAL and entry.workdays == frozenset()
    assert [h.name for h in entry.holidays][:2] == ["元旦", "农历除夕、春节"]


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_library_agrees_with_the_shipped_notices(year: int) -> None:
    # Two independent transcriptions of the same notices: the working days must match.
    official = default_calendar()
    library = build_calendar([provisional_year(year)])
    days = [date(year, 1, 1) + timedelta(n) for n in range(365)]
    assert [official.is_working_day(d) for d in days] == [library.is_working_day(d) for d in days]


def test_the_shipped_notices_are_the_2025_and_2026_state_council_notices() -> None:
    by_year = {y.year: y for y in shipped_notices()}
    assert set(by_year) == {2025, 2026}
    assert "国办发明电〔2024〕12号" in by_year[2025].source
    assert sorted(by_year[2026].workdays) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
        date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
    ]  # fmt: skip


# -- an imported notice replaces the provisional year ------------------------------------------


def test_an_imported_notice_replaces_the_provisional_year() -> None:
    before, after = BEFORE.calendar(2026, 2029), AFTER.calendar(2026, 2029)
    assert 2027 in before.provisional_years and 2027 in after.official_years
    assert after.provisional_years == {2028, 2029} and after.version == 7
    # The library's 补假 estimate is gone; the notice's days off and 调休 count instead.
    assert not before.is_working_day(date(2027, 2, 5))
    assert after.is_working_day(date(2027, 2, 5))
    assert not after.is_working_day(date(2027, 2, 11))
    assert after.is_working_day(date(2027, 2, 20))  # a Saturday worked (调休上班)
    assert not before.is_working_day(date(2027, 2, 20))
    assert AFTER.year(2027).source == "test notice (made up)"


def test_an_official_notice_reaching_into_the_year_before_wins_there() -> None:
    notice = json.loads(json.dumps(TEST_NOTICE))
    notice["years"]["2027"]["holidays"][0]["first"] = "2026-12-31"
    cal = CalendarSources.of(shipped_notices(), parse_notice(notice)).calendar(2026, 2027)
    assert not cal.is_working_day(date(2026, 12, 31))
    assert BEFORE.calendar(2026, 2027).is_working_day(date(2026, 12, 31))
    # Seen from a window that starts in 2027 the 2026 day is simply not covered.
    assert (
        date(2026, 12, 31)
        not in CalendarSources.of(parse_notice(notice)).for_cases(date(2027, 3, 1)).holidays
    )


def test_a_running_clock_is_never_moved_by_an_import() -> None:
    limits = {stage: str(limit) for stage, limit in DEFAULT_STAGE_LIMITS.items()}
    limits |= {"verify": "3 working_days", "dispatch": "1 working_days"}
    policy = CenterPolicy.from_dict({"stage_limits": limits})
    category = default_taxonomy().category("E0101")
    reported_at, filed_at = sh(2027, 2, 4, 9), sh(2027, 2, 5, 9)

    def run(sources: CalendarSources) -> list[Any]:
        rules = policy.rules_for(category, sources.for_cases(reported_at.date()))
        report = c.ReportCase(
            actor=WORKER, category="E0101", grid=WORKER.unit, description="garbage", rules=rules
        )
        return decide(initial_state("c-1"), report, reported_at)

    old_case = run(BEFORE)  # reported while 2027 was provisional
    new_case = run(AFTER)  # reported after the notice was imported
    # Thu 09-18 (7 h); provisional: 02-05..10 off, Thu 11th, Fri 12th (16 h), Mon 15th 08-09.
    assert old_case[0].due_at == sh(2027, 2, 15, 9)
    # Notice: Fri 5th worked (8 h), 02-06..14 off, Mon 15th (8 h), Tue 16th 08-09.
    assert new_case[0].due_at == sh(2027, 2, 16, 9)
    # The old case, read back from its log after the import, files on a day that is a
    # holiday in its calendar: the dispatch clock starts on Thu 02-11, not on Fri 02-05.
    state = fold("c-1", [from_record(json.loads(json.dumps(to_record(ev)))) for ev in old_case])
    [filed] = decide(state, c.FileCase(actor=LEADER), filed_at)
    assert isinstance(filed, CaseFiled) and filed.due_at == sh(2027, 2, 11, 18)
    [filed_new] = decide(fold("c-1", new_case), c.FileCase(actor=LEADER), filed_at)
    assert isinstance(filed_new, CaseFiled) and filed_new.due_at == sh(2027, 2, 15, 9)


def test_a_case_records_its_report_year_and_the_years_after() -> None:
    cal = BEFORE.for_cases(date(2026, 11, 30))
    assert cal.years == set(range(2026, 2026 + CASE_YEARS))
    assert cal.official_years == {2026}
    size = len(json.dumps(cal.to_dict()))
    assert size < 1800, size  # every CaseReported carries it


# -- the 2026/2027 boundary, with the clock frozen --------------------------------------------


@freeze_time("2026-12-31 09:00:00")  # 17:00 in Shanghai, the last working hour of 2026
def test_two_working_hours_from_new_years_eve_end_on_monday_not_on_new_years_day() -> None:
    now = datetime.now(SH)
    assert now == sh(2026, 12, 31, 17)
    # What intake gives a new report today (Intake.load: base notices, store, library).
    calendar = calendar_sources(None, Settings.from_env({}).calendar_notices()).for_cases(today())
    assert calendar.official_years == {2026} and 2027 in calendar.provisional_years
    limits = {"verify": "2 working_hours"}
    rules = CenterPolicy.from_dict({"stage_limits": limits}).rules_for(None, calendar)
    report = c.ReportCase(
        actor=WORKER, category="E0101", grid=WORKER.unit, description="garbage", rules=rules
    )
    [reported] = decide(initial_state("c-1"), report, now)
    # Thu 17-18 (1 h); Fri 2027-01-01 New Year's Day; Sat, Sun; Mon 01-04 08-09 (1 h).
    assert reported.due_at == sh(2027, 1, 4, 9)
    assert reported.due_at != sh(2027, 1, 1, 9)  # the old "every weekday works" answer
    assert reported.rules.working_calendar.is_provisional(reported.due_at)
    assert not reported.rules.working_calendar.is_provisional(now)
    warning = official_data_warning(calendar, today())
    assert warning is not None and warning.days_left == 0
    assert warning.official_until == date(2026, 12, 31)


# -- the warning before the official data ends -------------------------------------------------


@pytest.mark.parametrize(
    ("on", "days_left"),
    [
        (date(2026, 10, 31), None),  # 61 days: quiet
        (date(2026, 11, 1), 60),
        (date(2026, 11, 30), 31),
        (date(2026, 12, 31), 0),
    ],
)
def test_warning_within_60_days_of_the_end_of_official_data(
    on: date, days_left: int | None
) -> None:
    warning = official_data_warning(BEFORE.for_cases(on), on)
    if days_left is None:
        assert warning is None
        return
    assert warning is not None and warning.days_left == days_left
    assert "official holiday data ends 2026-12-31" in warning.message
    assert "holidays 0.108" in warning.message
    assert "gridcase reference calendar import" in warning.message


def test_warning_when_the_year_has_no_official_notice_and_none_after_import() -> None:
    on = date(2027, 1, 5)
    warning = official_data_warning(BEFORE.for_cases(on), on)
    assert warning is not None and warning.official_until is None
    assert "no official holiday notice is loaded for 2027" in warning.message
    assert official_data_warning(AFTER.for_cases(date(2026, 11, 30)), date(2026, 11, 30)) is None
    uncovered = official_data_warning(default_calendar(), on)
    assert uncovered is not None and "no holiday data at all for 2027" in uncovered.message


def test_readiness_detail_is_json_ready() -> None:
    detail = calendar_readiness(BEFORE.for_cases(date(2026, 11, 30)), date(2026, 11, 30))
    assert json.loads(json.dumps(detail)) == detail
    assert detail["status"] == "warning" and detail["days_left"] == 31
    assert detail["official_years"] == "2026" and detail["provisional_years"] == "2027-2029"
    quiet = calendar_readiness(AFTER.for_cases(date(2026, 11, 30)), date(2026, 11, 30))
    assert quiet["status"] == "ok" and quiet["message"] is None and quiet["version"] == 7


# -- the notice file ---------------------------------------------------------------------


def _notice(**holiday: Any) -> dict[str, Any]:
    base = {"name": "春节", "first": "2027-02-06", "last": "2027-02-14", "workdays": []}
    return {"years": {"2027": {"source": "test", "holidays": [base | holiday]}}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "a JSON object"),
        ({"years": {}}, "non-empty 'years'"),
        ({"years": {"27": {}}}, "four digits"),
        ({"years": {"2027": {"holidays": []}}}, "'source' must name the notice"),
        ({"years": {"2027": {"source": "x", "holidays": []}}}, "non-empty list"),
        (_notice(last="2027-02-01"), "ends .* before it starts"),
        (_notice(first="2027-13-01"), "is not a date"),
        (_notice(last="2027-04-01"), "longer than a month"),
        (_notice(workdays=["2027-02-17"]), "2027-02-17 is a Wednesday"),
        (_notice(workdays=["2027-02-13"]), "both a workday and a day off"),
        (_notice(first="2028-02-06", last="2028-02-07"), "too far outside 2027"),
        (_notice(name=""), "'name' is required"),
        (_notice(days=3), "unknown key"),
        (_notice() | {"provisional": True}, "marked provisional"),
    ],
)
def test_bad_notices_are_refused_with_the_reason(document: Any, message: str) -> None:
    with pytest.raises(InvalidNotice, match=message):
        parse_notice(document)


def test_the_documented_2027_example_is_provisional_and_refused_as_official() -> None:
    example = json.loads((DOCS / "calendar-2027-provisional.json").read_text(encoding="utf-8"))
    assert example["provisional"] is True and "NOT the official" in example["description"]
    with pytest.raises(InvalidNotice, match="marked provisional"):
        parse_notice(example)
    # It is what the library says about 2027, in the file format (kept in step by this test).
    [year] = parse_notice(example, status=YearStatus.PROVISIONAL)
    assert year.days_off == provisional_year(2027).days_off
    assert year.holidays == provisional_year(2027).holidays


# -- laws --------------------------------------------------------------------------------

WINDOW = BEFORE.calendar(2025, 2030)


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)), st.integers(-3, 3))
def test_a_window_agrees_with_the_whole_and_refuses_outside(day: date, shift: int) -> None:
    first = 2027 + shift
    window = WINDOW.between_years(first, first + CASE_YEARS - 1)
    if window.covers(day.year):
        assert window.is_working_day(day) == WINDOW.is_working_day(day)
        assert window.is_provisional(day) == WINDOW.is_provisional(day)
    else:
        with pytest.raises(CalendarNotCovered):
            window.is_working_day(day)


@given(st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 12, 31)))
def test_official_data_always_wins_over_the_estimate(day: date) -> None:
    official = build_calendar(parse_notice(TEST_NOTICE))
    merged = AFTER.calendar(2026, 2028)
    assert merged.is_working_day(day) == official.is_working_day(day)
    assert not merged.is_provisional(day)


def _days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(n) for n in range(28)]
