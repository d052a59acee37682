"""The working calendar: hand-computed deadlines, the shipped holiday table, and laws."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import (
    DEFAULT_WINDOWS,
    CalendarNotCovered,
    OfficeWindow,
    TimeLimit,
    TimeUnit,
    WorkingCalendar,
)
from domain.holiday_notices import load_calendar
from store.calendar_sources import shipped_calendar

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# The shipped notices (2025, 2026) and provisional years after them, as intake builds it:
# starts drawn up to the end of 2026 run on into 2027 and 2028.
CN = shipped_calendar(2025, 2028)
YEARS = frozenset(range(2024, 2031))
PLAIN = WorkingCalendar(official_years=YEARS)  # years without holidays: weekends only
# EU clocks change on Sundays, so make those Sundays working days to put a DST jump
# inside a working day; the 01:00-05:00 window straddles the 02:00/03:00 change.
DST_SUNDAYS = frozenset(
    {date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)}
)
BERLIN_CAL = WorkingCalendar(
    zone="Europe/Berlin",
    windows=(OfficeWindow(time(1), time(5)), *DEFAULT_WINDOWS),
    extra_workdays=DST_SUNDAYS,
    official_years=YEARS,
)
NIGHT_BERLIN = WorkingCalendar(
    zone="Europe/Berlin",
    windows=(OfficeWindow(time(1), time(5)),),
    extra_workdays=DST_SUNDAYS,
    official_years=YEARS,
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def wh(amount: float) -> TimeLimit:
    return TimeLimit(amount, TimeUnit.WORKING_HOURS)


def utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock; compare instants instead.
    return moment.astimezone(UTC)


def later(moment: datetime, minutes: int) -> datetime:
    # `moment + timedelta` is wall-clock arithmetic too, and can go back in a DST fold.
    return (utc(moment) + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


# -- fixed, hand-computed cases ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "deadline"),
    [
        # Fri 17:00, 1 h left on Friday, then Monday 08:00-11:00 (no holidays).
        (sh(2026, 9, 18, 17), wh(4), sh(2026, 9, 21, 11)),
        # Lunch break: counting starts at 14:00.
        (sh(2026, 3, 3, 12, 30), wh(1), sh(2026, 3, 3, 15)),
        # Before the office opens: counting starts at 08:00.
        (sh(2026, 3, 3, 6, 15), wh(2.5), sh(2026, 3, 3, 10, 30)),
        # A deadline on a window end stays at the end, not at the next opening.
        (sh(2026, 3, 3, 8), wh(4), sh(2026, 3, 3, 12)),
        (sh(2026, 3, 3, 9), wh(11), sh(2026, 3, 4, 12)),  # 3 + 4 + 4
        (sh(2026, 3, 3, 9), wh(9), sh(2026, 3, 4, 10)),  # 3 + 4 + 2
        # After hours on Friday: the whole limit falls on Monday.
        (sh(2026, 3, 6, 19), TimeLimit(1, TimeUnit.WORKING_DAYS), sh(2026, 3, 9, 18)),
        (sh(2026, 3, 3, 10), TimeLimit(0.5, TimeUnit.WORKING_DAYS), sh(2026, 3, 3, 16)),
        (sh(2026, 3, 3, 10), TimeLimit(3, TimeUnit.WORKING_DAYS), sh(2026, 3, 6, 10)),
    ],
)
def test_add_working_units_without_holidays(
    start: datetime, limit: TimeLimit, deadline: datetime
) -> None:
    assert PLAIN.add(start, limit) == deadline


def test_friday_evening_report_runs_into_the_swapped_sunday() -> None:
    # 2026-09-20 (Sun) is worked for National Day: Fri 17-18 (1 h) + Sun 08-11 (3 h).
    assert CN.add(sh(2026, 9, 18, 17), wh(4)) == sh(2026, 9, 20, 11)


def test_a_working_day_skips_national_day() -> None:
    # Wed 09-30 16-18 (2 h); Oct 1-7 off; Thu 10-08 08-12 (4 h) and 14-16 (2 h).
    assert CN.add(sh(2026, 9, 30, 16), TimeLimit(1, TimeUnit.WORKING_DAYS)) == sh(2026, 10, 8, 16)


def test_the_swapped_saturday_counts() -> None:
    # Fri 10-09 16-18 (2 h), then Sat 10-10 is a 调休 workday: 08-12, 14-16.
    assert CN.add(sh(2026, 10, 9, 16), TimeLimit(1, TimeUnit.WORKING_DAYS)) == sh(2026, 10, 10, 16)
    # Without the 调休 the same limit ends on Monday.
    assert PLAIN.add(sh(2026, 10, 9, 16), TimeLimit(1, TimeUnit.WORKING_DAYS)) == sh(
        2026, 10, 12, 16
    )


def test_start_on_a_holiday_counts_from_the_next_working_morning() -> None:
    # Spring Festival 2026 runs Feb 15-23; Tue Feb 24 is the first working day.
    assert CN.add(sh(2026, 2, 17, 10), wh(5)) == sh(2026, 2, 24, 15)
    assert CN.add(sh(2025, 1, 1, 9), wh(1)) == sh(2025, 1, 2, 9)


def test_wall_clock_units_run_through_nights_and_holidays() -> None:
    start = sh(2026, 9, 30, 22)
    assert CN.add(start, TimeLimit(36, TimeUnit.URGENT_HOURS)) == sh(2026, 10, 2, 10)
    assert CN.add(start, TimeLimit(3, TimeUnit.CALENDAR_DAYS)) == sh(2026, 10, 3, 22)
    assert CN.add(start, TimeLimit(1.5, TimeUnit.CALENDAR_DAYS)) == sh(2026, 10, 2, 10)
    assert CN.add(start, TimeLimit(90, TimeUnit.MINUTES)) == sh(2026, 9, 30, 23, 30)
    assert CN.add(start, TimeLimit(2, TimeUnit.HOURS)) == sh(2026, 10, 1, 0)
    assert CN.add(start, TimeLimit(2, TimeUnit.DAYS)) == sh(2026, 10, 2, 22)


def test_elapsed_in_each_unit() -> None:
    start, end = sh(2026, 9, 30, 16), sh(2026, 10, 8, 16)
    assert CN.elapsed(start, end, TimeUnit.WORKING_HOURS) == 8
    assert CN.elapsed(start, end, TimeUnit.WORKING_DAYS) == 1
    assert CN.elapsed(start, end, TimeUnit.URGENT_HOURS) == 8 * 24
    assert CN.elapsed(start, end, TimeUnit.CALENDAR_DAYS) == 8
    assert CN.elapsed(start, end, TimeUnit.DAYS) == 8
    assert CN.elapsed(start, end, TimeUnit.MINUTES) == 8 * 24 * 60
    assert CN.elapsed(end, start, TimeUnit.WORKING_HOURS) == 0
    assert CN.elapsed(start, start, TimeUnit.HOURS) == 0


def test_result_keeps_the_start_tzinfo_but_windows_are_in_the_calendar_zone() -> None:
    start = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    deadline = PLAIN.add(start, wh(4))
    assert deadline.tzinfo is UTC
    assert deadline == datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    fixed = timezone(timedelta(hours=8))
    assert PLAIN.add(datetime(2026, 3, 3, 17, tzinfo=fixed), wh(2)).tzinfo is fixed


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PLAIN.add(datetime(2026, 3, 3, 9), wh(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        PLAIN.elapsed(sh(2026, 3, 3, 9), datetime(2026, 3, 4), TimeUnit.HOURS)
    with pytest.raises(ValueError, match="timezone-aware"):
        PLAIN.working_seconds_between(datetime(2026, 3, 3), sh(2026, 3, 4))


@pytest.mark.parametrize("amount", [0, -1, float("nan"), float("inf"), float("-inf")])
def test_non_positive_or_non_finite_amounts_are_refused(amount: float) -> None:
    with pytest.raises(ValueError, match="finite and > 0"):
        TimeLimit(amount, TimeUnit.WORKING_HOURS)


@freeze_time("2026-03-02 01:00:00")  # 09:00 on a Monday in Shanghai
def test_now_as_the_start() -> None:
    now = datetime.now(SH)
    assert now == sh(2026, 3, 2, 9)
    # 09-12 (3 h) + 14-15 (1 h)
    assert CN.add(now, wh(4)) == sh(2026, 3, 2, 15)
    # Fri 17-18, the swapped Saturday 2026-02-28 (8 h), Mon 08-09.
    assert CN.elapsed(sh(2026, 2, 27, 17), now, TimeUnit.WORKING_HOURS) == 10


def test_single_configured_window() -> None:
    cal = WorkingCalendar(windows=(OfficeWindow(time(9), time(17)),), official_years=YEARS)
    assert cal.working_day_seconds == 8 * 3600
    assert cal.add(sh(2026, 3, 3, 12), wh(6)) == sh(2026, 3, 4, 10)
    assert PLAIN.working_day_seconds == 8 * 3600


@pytest.mark.parametrize(
    "windows",
    [
        (),
        (OfficeWindow(time(14), time(18)), OfficeWindow(time(8), time(12))),
        (OfficeWindow(time(8), time(12)), OfficeWindow(time(11), time(18))),
    ],
)
def test_windows_must_be_sorted_and_disjoint(windows: tuple[OfficeWindow, ...]) -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(windows=windows)


def test_window_start_before_end_and_other_validation() -> None:
    with pytest.raises(ValueError):
        OfficeWindow(time(12), time(8))
    with pytest.raises(ValueError):
        OfficeWindow(time(8), time(8))
    with pytest.raises(ValueError):
        WorkingCalendar(zone="Mars/Olympus_Mons")
    with pytest.raises(ValueError):
        WorkingCalendar(
            holidays=frozenset({date(2026, 1, 4)}), extra_workdays=frozenset({date(2026, 1, 4)})
        )


# -- time limits -------------------------------------------------------------------------


def test_time_limit_text_forms() -> None:
    limit = TimeLimit.parse("4 working_hours")
    assert limit == TimeLimit(4, TimeUnit.WORKING_HOURS)
    assert str(limit) == "4 working_hours"
    assert limit.label_zh == "4工作时"
    assert TimeLimit(0.5, TimeUnit.WORKING_DAYS).label_zh == "0.5工作日"
    assert TimeLimit.parse("2紧急工作时") == TimeLimit(2, TimeUnit.URGENT_HOURS)
    assert TimeLimit.parse("30 minutes").unit is TimeUnit.MINUTES
    for bad in ("", "4", "four hours", "4 fortnights", "-1 hours", "0 hours"):
        with pytest.raises(ValueError):
            TimeLimit.parse(bad)


@given(st.floats(min_value=1e-3, max_value=1e6), st.sampled_from(TimeUnit))
def test_time_limit_text_round_trips(amount: float, unit: TimeUnit) -> None:
    limit = TimeLimit(amount, unit)
    assert TimeLimit.parse(str(limit)) == limit
    assert TimeLimit.parse(limit.label_zh) == limit


# -- the shipped holiday table -----------------------------------------------------------


def _table() -> dict[str, dict[str, object]]:
    text = resources.files("domain").joinpath("data/calendar_cn.json").read_text("utf-8")
    years: dict[str, dict[str, object]] = json.loads(text)["years"]
    return years


def test_every_year_names_its_source_notice() -> None:
    table = _table()
    assert {"2025", "2026"} <= set(table)
    for year, entry in table.items():
        assert f"国务院办公厅关于{year}年部分节假日安排的通知" in str(entry["source"])


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 1),
        date(2025, 1, 28),
        date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 5),
        date(2025, 6, 2),
        date(2025, 10, 8),
        date(2026, 1, 2),
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 6, 19),
        date(2026, 9, 25),
        date(2026, 10, 7),
    ],
)
def test_known_holidays_are_days_off(day: date) -> None:
    assert day.weekday() < 5  # would otherwise be a working day
    assert not CN.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_swapped_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CN.is_working_day(day)


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_year_has_248_working_days(year: int) -> None:
    # By hand: 261 weekdays, minus 18 (2025) / 19 (2026) weekday holidays,
    # plus 5 (2025) / 6 (2026) swapped weekend workdays.
    days = (date(year, 1, 1) + timedelta(n) for n in range(366))
    assert sum(CN.is_working_day(d) for d in days if d.year == year) == 248


def test_load_selected_years_only() -> None:
    text = resources.files("domain").joinpath("data/calendar_cn.json").read_text("utf-8")
    only_2025 = load_calendar(text, [2025])
    assert not only_2025.is_working_day(date(2025, 10, 8))
    assert only_2025.official_years == {2025}
    # Without 2026's notice nobody knows whether 2026-10-07 (a Wednesday) is worked.
    with pytest.raises(CalendarNotCovered, match="2026"):
        only_2025.is_working_day(date(2026, 10, 7))
    with pytest.raises(ValueError, match="2031"):
        load_calendar(text, [2031])
    berlin = load_calendar(text, zone="Europe/Berlin", windows=NIGHT_BERLIN.windows)
    assert berlin.zone == "Europe/Berlin"
    assert berlin.holidays == load_calendar(text).holidays


def test_to_dict_round_trips_through_json() -> None:
    for cal in (CN, PLAIN, BERLIN_CAL):
        data = json.loads(json.dumps(cal.to_dict()))
        assert WorkingCalendar.from_dict(data) == cal
    assert WorkingCalendar.from_dict({}).years == frozenset()  # knows no year


# -- daylight saving time ----------------------------------------------------------------


def test_berlin_windows_stay_at_local_office_hours_across_dst() -> None:
    cal = WorkingCalendar(zone="Europe/Berlin", official_years=YEARS)
    start = datetime(2026, 3, 27, 17, tzinfo=BERLIN)  # Friday, CET
    deadline = cal.add(start, wh(2))
    assert deadline == datetime(2026, 3, 30, 9, tzinfo=BERLIN)  # Monday, CEST
    assert deadline.utcoffset() == timedelta(hours=2)
    assert cal.elapsed(start, deadline, TimeUnit.WORKING_HOURS) == 2


def test_dst_shortened_and_lengthened_windows_count_real_seconds() -> None:
    spring_day = datetime(2026, 3, 29, 0, tzinfo=BERLIN)  # 02:00 -> 03:00
    assert (
        NIGHT_BERLIN.working_seconds_between(spring_day, spring_day + timedelta(days=1)) == 3 * 3600
    )
    assert NIGHT_BERLIN.add(spring_day, wh(3)) == datetime(2026, 3, 29, 5, tzinfo=BERLIN)
    assert utc(NIGHT_BERLIN.add(spring_day, wh(3.5))) == utc(
        datetime(2026, 3, 30, 1, 30, tzinfo=BERLIN)
    )
    autumn_day = datetime(2026, 10, 25, 0, tzinfo=BERLIN)  # 03:00 -> 02:00
    assert (
        NIGHT_BERLIN.working_seconds_between(autumn_day, autumn_day + timedelta(days=1)) == 5 * 3600
    )
    assert NIGHT_BERLIN.add(autumn_day, wh(5)) == datetime(2026, 10, 25, 5, tzinfo=BERLIN)
    assert NIGHT_BERLIN.working_day_seconds == 4 * 3600  # the nominal day is unchanged


def test_calendar_day_keeps_the_local_clock_across_dst() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    deadline = BERLIN_CAL.add(start, TimeLimit(1, TimeUnit.CALENDAR_DAYS))
    assert deadline == datetime(2026, 3, 29, 12, tzinfo=BERLIN)
    assert deadline - start == timedelta(hours=24)  # same tzinfo: Python subtracts wall clocks
    assert utc(deadline) - utc(start) == timedelta(hours=23)
    assert BERLIN_CAL.add(start, TimeLimit(1, TimeUnit.DAYS)) == datetime(
        2026, 3, 29, 13, tzinfo=BERLIN
    )
    # A 25 h autumn day: 24.5 real hours are 0.98 of it, and 1.5 days end at midnight.
    autumn = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    almost = utc(autumn) + timedelta(hours=24.5)
    assert BERLIN_CAL.elapsed(autumn, almost, TimeUnit.CALENDAR_DAYS) == pytest.approx(0.98)
    one_and_a_half = BERLIN_CAL.add(autumn, TimeLimit(1.5, TimeUnit.CALENDAR_DAYS))
    assert one_and_a_half == datetime(2026, 10, 26, 0, tzinfo=BERLIN)


def test_windows_inside_a_skipped_hour_never_count_twice() -> None:
    # 02:15-02:45 does not exist on 2026-03-29; read as 03:15-03:45 it would overlap the
    # 03:00-03:30 window, and the clamp keeps the day's intervals ordered instead.
    cal = WorkingCalendar(
        zone="Europe/Berlin",
        windows=(OfficeWindow(time(2, 15), time(2, 45)), OfficeWindow(time(3), time(3, 30))),
        extra_workdays=DST_SUNDAYS,
        official_years=YEARS,
    )
    day = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert cal.working_seconds_between(day, later(day, 24 * 60)) == 30 * 60


# -- efficiency --------------------------------------------------------------------------


def test_long_spans_step_per_day_not_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []
    original = WorkingCalendar.is_working_day

    def counting(self: WorkingCalendar, d: date) -> bool:
        calls.append(d)
        return original(self, d)

    monkeypatch.setattr(WorkingCalendar, "is_working_day", counting)
    assert CN.elapsed(sh(2025, 1, 1), sh(2026, 1, 1), TimeUnit.WORKING_DAYS) == 248
    assert len(calls) <= 366
    calls.clear()
    CN.add(sh(2026, 3, 2, 8), TimeLimit(20, TimeUnit.WORKING_DAYS))
    assert len(calls) <= 31


# -- laws (hypothesis) -------------------------------------------------------------------

CALENDARS = [CN, PLAIN, BERLIN_CAL, NIGHT_BERLIN]
WORKING_UNITS = [TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS]
minutes = st.integers(min_value=1, max_value=60 * 8 * 25)  # up to 25 working days


@st.composite
def calendar_and_start(
    draw: st.DrawFn, calendars: list[WorkingCalendar] = CALENDARS
) -> tuple[WorkingCalendar, datetime]:
    cal = draw(st.sampled_from(calendars))
    start = draw(
        st.datetimes(
            min_value=datetime(2025, 1, 1),
            max_value=datetime(2026, 12, 31),
            timezones=st.sampled_from([ZoneInfo(cal.zone), UTC]),
            allow_imaginary=False,
        )
    )
    return cal, start


@given(calendar_and_start(), minutes, minutes, st.sampled_from(WORKING_UNITS))
def test_later_start_or_larger_amount_never_gives_an_earlier_deadline(
    cal_start: tuple[WorkingCalendar, datetime], a: int, b: int, unit: TimeUnit
) -> None:
    cal, start = cal_start
    small, large = sorted((a, b))
    scale = 60 if unit is TimeUnit.WORKING_HOURS else 60 * 8
    first = utc(cal.add(start, TimeLimit(small / scale, unit)))
    assert first <= utc(cal.add(later(start, large), TimeLimit(small / scale, unit)))
    if small < large:
        assert first < utc(cal.add(start, TimeLimit(large / scale, unit)))


@given(calendar_and_start([CN, PLAIN]), st.floats(min_value=1e-3, max_value=30), minutes)
def test_calendar_days_are_monotone(
    cal_start: tuple[WorkingCalendar, datetime], amount: float, shift: int
) -> None:
    # Only in zones without DST: "same wall-clock time tomorrow" is not monotone for
    # starts in a repeated autumn hour.
    cal, start = cal_start
    limit = TimeLimit(amount, TimeUnit.CALENDAR_DAYS)
    assert utc(cal.add(start, limit)) <= utc(cal.add(later(start, shift), limit))
    assert utc(cal.add(start, limit)) < utc(cal.add(start, TimeLimit(amount + 0.01, limit.unit)))


@given(calendar_and_start(), minutes, minutes)
def test_working_hours_are_additive(
    cal_start: tuple[WorkingCalendar, datetime], a: int, b: int
) -> None:
    # Exact: an intermediate deadline on a window end stays there and the second leg
    # then moves on to the next opening, just as one long count would.
    cal, start = cal_start
    stepwise = cal.add(cal.add(start, wh(a / 60)), wh(b / 60))
    assert utc(stepwise) == utc(cal.add(start, wh((a + b) / 60)))


@given(calendar_and_start([CN, BERLIN_CAL]), minutes, st.sampled_from(WORKING_UNITS))
def test_working_deadlines_fall_inside_windows_of_working_days(
    cal_start: tuple[WorkingCalendar, datetime], amount: int, unit: TimeUnit
) -> None:
    cal, start = cal_start
    scale = 60 if unit is TimeUnit.WORKING_HOURS else 60 * 8
    local = cal.add(start, TimeLimit(amount / scale, unit)).astimezone(ZoneInfo(cal.zone))
    assert cal.is_working_day(local.date())
    assert local.date() not in cal.holidays
    # Never at an opening (some work precedes it), at most at a closing.
    assert any(w.start < local.time() <= w.end for w in cal.windows)


@given(calendar_and_start(), st.floats(min_value=1e-3, max_value=200), st.sampled_from(TimeUnit))
def test_elapsed_inverts_add(
    cal_start: tuple[WorkingCalendar, datetime], amount: float, unit: TimeUnit
) -> None:
    cal, start = cal_start
    limit = TimeLimit(amount, unit)
    deadline = cal.add(start, limit)
    # datetimes have microsecond resolution: 0.5 us is ~1e-8 of a minute.
    assert cal.elapsed(start, deadline, unit) == pytest.approx(amount, rel=1e-9, abs=1e-8)
    assert cal.elapsed(deadline, start, unit) == 0


@given(calendar_and_start(), minutes, minutes)
def test_working_time_between_is_additive_over_a_split(
    cal_start: tuple[WorkingCalendar, datetime], a: int, b: int
) -> None:
    cal, start = cal_start
    middle = later(start, a * 3)
    end = later(middle, b * 3)
    whole = cal.working_seconds_between(start, end)
    parts = cal.working_seconds_between(start, middle) + cal.working_seconds_between(middle, end)
    assert whole == pytest.approx(parts, abs=1e-6)
    assert 0 <= whole <= (end - start).total_seconds()


@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=6), st.integers(min_value=1, max_value=10))
def test_a_start_inside_a_dst_repeated_hour_is_exact(minute_step: int, hours: int) -> None:
    # 02:30 happens twice in Berlin on 2026-10-25; the second one (fold=1) is 1 h later.
    second = datetime(2026, 10, 25, 2, minute_step * 5, fold=1, tzinfo=BERLIN)
    for unit in (TimeUnit.URGENT_HOURS, TimeUnit.CALENDAR_DAYS, TimeUnit.WORKING_HOURS):
        deadline = NIGHT_BERLIN.add(second, TimeLimit(hours / 4, unit))
        assert NIGHT_BERLIN.elapsed(second, deadline, unit) == pytest.approx(hours / 4)
    assert utc(NIGHT_BERLIN.add(second, TimeLimit(1, TimeUnit.URGENT_HOURS))) == utc(
        second
    ) + timedelta(hours=1)
    # The next day at 02:xx is 24 real hours after the second 02:xx, so a quarter is 6 h.
    quarter = NIGHT_BERLIN.add(second, TimeLimit(0.25, TimeUnit.CALENDAR_DAYS))
    assert utc(quarter) == utc(second) + timedelta(hours=6)
