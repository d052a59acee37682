"""The working calendar (工作日历): time limits (时限) and the deadlines they give.

A limit is an amount and a unit. Working units (工作时, 工作日) only count time inside the
office windows of working days; the wall-clock units (紧急工作时, 自然日, minutes, hours,
days) run through nights, weekends and holidays. Which days are working days comes from
the State Council's yearly holiday notice: public holidays (放假) and the weekend days
worked in exchange (调休上班). A calendar knows which years it has data for — official
(a notice) or provisional (estimated from the statutory rules, until the notice is out) —
and refuses to guess about any other year: CalendarNotCovered, never "every weekday works".
Notices and their years are read in domain/holiday_notices.py.

Pure standard library, no clock: callers pass aware datetimes in and get aware datetimes
out. All arithmetic is done in UTC, because subtracting two aware datetimes that share a
tzinfo compares wall clocks and silently ignores daylight-saving jumps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import groupby, pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_WINDOWS",
    "CalendarNotCovered",
    "OfficeWindow",
    "TimeLimit",
    "TimeUnit",
    "WorkingCalendar",
    "describe_years",
]


class TimeUnit(StrEnum):
    """The unit of a time limit (时限单位)."""

    WORKING_HOURS = "working_hours"  # 工作时: office windows on working days only
    WORKING_DAYS = "working_days"  # 工作日: N standard working days, counted in working time
    URGENT_HOURS = "urgent_hours"  # 紧急工作时: wall clock, 24x7, holidays included
    CALENDAR_DAYS = "calendar_days"  # 自然日: local days of the calendar's zone
    MINUTES = "minutes"  # 分钟
    HOURS = "hours"  # 小时
    DAYS = "days"  # 天 (24 h each)

    @property
    def is_working(self) -> bool:
        return self in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS)


_LABEL_ZH: dict[TimeUnit, str] = {
    TimeUnit.WORKING_HOURS: "工作时",
    TimeUnit.WORKING_DAYS: "工作日",
    TimeUnit.URGENT_HOURS: "紧急工作时",
    TimeUnit.CALENDAR_DAYS: "自然日",
    TimeUnit.MINUTES: "分钟",
    TimeUnit.HOURS: "小时",
    TimeUnit.DAYS: "天",
}
_UNIT_BY_LABEL = {label: unit for unit, label in _LABEL_ZH.items()}
# Wall-clock units that are fixed lengths of real time.
_FIXED_SECONDS = {
    TimeUnit.URGENT_HOURS: 3600.0,
    TimeUnit.HOURS: 3600.0,
    TimeUnit.MINUTES: 60.0,
    TimeUnit.DAYS: 86400.0,
}
_LIMIT_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(\S+)\s*$")


@dataclass(frozen=True)
class TimeLimit:
    """A time limit (时限): e.g. 4 working hours (4工作时) or 0.5 working day."""

    amount: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        amount = float(self.amount)
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"time limit amount must be finite and > 0, got {self.amount!r}")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "unit", TimeUnit(self.unit))

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Parse "4 working_hours" (the str() form) or the Chinese label "4工作时"."""
        match = _LIMIT_RE.match(text)
        if match is None:
            raise ValueError(f"cannot parse time limit {text!r}")
        number, unit_text = match.groups()
        unit = _UNIT_BY_LABEL.get(unit_text)
        if unit is None:
            try:
                unit = TimeUnit(unit_text)
            except ValueError:
                raise ValueError(f"unknown time unit {unit_text!r} in {text!r}") from None
        return cls(float(number), unit)

    @property
    def label_zh(self) -> str:
        return f"{_format_amount(self.amount)}{_LABEL_ZH[self.unit]}"

    def nominal_seconds(self, working_day_seconds: float = 8 * 3600.0) -> float:
        """Its length without a calendar: a working hour is an hour of work, a working day
        ``working_day_seconds`` of it, a calendar day 24 hours. Only to compare limits of
        different units where no calendar can say when each would end."""
        if self.unit is TimeUnit.WORKING_HOURS:
            return self.amount * 3600.0
        if self.unit is TimeUnit.WORKING_DAYS:
            return self.amount * working_day_seconds
        if self.unit is TimeUnit.CALENDAR_DAYS:
            return self.amount * 86400.0
        return self.amount * _FIXED_SECONDS[self.unit]

    def __str__(self) -> str:
        return f"{_format_amount(self.amount)} {self.unit.value}"


def _format_amount(amount: float) -> str:
    return str(int(amount)) if amount.is_integer() else repr(amount)


@dataclass(frozen=True)
class OfficeWindow:
    """An office window (办公时段) in local wall-clock time, e.g. 08:00-12:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("office window times are local wall-clock times without tzinfo")
        if not self.start < self.end:
            raise ValueError(f"office window must start before it ends: {self}")

    @property
    def seconds(self) -> float:
        return (
            datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        ).total_seconds()

    def __str__(self) -> str:
        return f"{_fmt_time(self.start)}-{_fmt_time(self.end)}"


DEFAULT_WINDOWS: tuple[OfficeWindow, ...] = (
    OfficeWindow(time(8), time(12)),
    OfficeWindow(time(14), time(18)),
)


class CalendarNotCovered(ValueError):
    """A working-time question about a day of a year the calendar has no data for.

    Raised instead of guessing: without the year's holidays and 调休 workdays nobody can
    say whether a weekday is worked, so no deadline counted in working time crosses it.
    """

    def __init__(self, day: date, covered: Iterable[int]) -> None:
        self.day = day
        self.covered = frozenset(covered)
        super().__init__(
            f"the working calendar has no holiday data for {day.year} (asked about "
            f"{day.isoformat()}); it covers {describe_years(self.covered) or 'no year'}. "
            "Working time cannot be counted there: load the year's State Council notice "
            "(`gridcase reference calendar import FILE`); a case keeps the calendar it was "
            "reported with"
        )


def describe_years(years: Iterable[int]) -> str:
    """2025-2026, 2029 for {2025, 2026, 2029}."""
    runs = []
    for _, group in groupby(enumerate(sorted(years)), key=lambda pair: pair[1] - pair[0]):
        run = [year for _, year in group]
        runs.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(runs)


@dataclass(frozen=True)
class WorkingCalendar:
    """A working calendar (工作日历): zone, office windows, holidays and 调休 workdays.

    `holidays` are days off (法定节假日放假) and `extra_workdays` weekend days worked in
    exchange (调休上班). Weekend dates inside `holidays` are allowed and change nothing.
    `official_years` come from a State Council notice, `provisional_years` from an estimate
    of the statutory holidays (no 调休 known yet); every holiday and workday lies in one of
    them, and a working-time question about any other year raises CalendarNotCovered.
    `version` is the calendar version in the store (0: shipped or file notices only) and
    `provisional_source` names what estimated the provisional years.
    """

    zone: str = "Asia/Shanghai"
    windows: tuple[OfficeWindow, ...] = DEFAULT_WINDOWS
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    official_years: frozenset[int] = field(default_factory=frozenset)
    provisional_years: frozenset[int] = field(default_factory=frozenset)
    version: int = 0
    provisional_source: str = ""
    _covered: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable so that callers (and from_dict) can pass lists and sets.
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        object.__setattr__(self, "official_years", frozenset(self.official_years))
        object.__setattr__(self, "provisional_years", frozenset(self.provisional_years))
        object.__setattr__(self, "_covered", self.official_years | self.provisional_years)
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.zone!r}") from exc
        if not self.windows:
            raise ValueError("a working calendar needs at least one office window")
        for earlier, later in pairwise(self.windows):
            if later.start < earlier.end:
                raise ValueError(f"office windows must be sorted and disjoint: {earlier}, {later}")
        both = self.holidays & self.extra_workdays
        if both:
            raise ValueError(f"dates both holiday and workday: {sorted(both)}")
        twice = self.official_years & self.provisional_years
        if twice:
            raise ValueError(f"years both official and provisional: {sorted(twice)}")
        outside = sorted(d for d in self.holidays | self.extra_workdays if not self.covers(d.year))
        if outside:
            raise ValueError(
                f"holiday or workday {outside[0].isoformat()} lies in {outside[0].year}, a year "
                f"the calendar does not cover ({describe_years(self._covered) or 'none'})"
            )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)  # ZoneInfo caches instances per key

    @property
    def working_day_seconds(self) -> float:
        """Length of a standard working day (8 h by default): the sum of the windows."""
        return sum(w.seconds for w in self.windows)

    @property
    def years(self) -> frozenset[int]:
        """Every year the calendar has data for, official or provisional."""
        return self._covered

    def covers(self, year: int) -> bool:
        return year in self._covered

    def is_provisional(self, day: date | datetime) -> bool:
        """Is `day` (a date, or a moment: its local date) in a year whose data is an
        estimate, not a State Council notice? The flag to show beside a deadline."""
        if isinstance(day, datetime):
            day = _as_utc(day, "day").astimezone(self.tz).date()
        return day.year in self.provisional_years

    def is_working_day(self, d: date) -> bool:
        """工作日: Monday to Friday unless a holiday, or a swapped workday (调休)."""
        if d.year not in self._covered:
            raise CalendarNotCovered(d, self._covered)
        return d in self.extra_workdays or (d.weekday() < 5 and d not in self.holidays)

    def between_years(self, first: int, last: int) -> WorkingCalendar:
        """The same calendar for the years first..last only (what a case records)."""
        keep = range(first, last + 1)
        return replace(
            self,
            holidays=frozenset(d for d in self.holidays if d.year in keep),
            extra_workdays=frozenset(d for d in self.extra_workdays if d.year in keep),
            official_years=frozenset(y for y in self.official_years if y in keep),
            provisional_years=frozenset(y for y in self.provisional_years if y in keep),
        )

    def add(self, start: datetime, limit: TimeLimit) -> datetime:
        """The deadline (截止时间) of `limit` counted from `start`, in start's tzinfo.

        Working units start counting at the next window opening when `start` lies outside
        a window, and a deadline falling exactly on a window end stays at that end.
        """
        begin = _as_utc(start, "start")
        if limit.unit.is_working:
            work = timedelta(seconds=limit.amount * self._unit_working_seconds(limit.unit))
            deadline = self._add_working(begin, work)
        elif limit.unit is TimeUnit.CALENDAR_DAYS:
            whole = math.floor(limit.amount)
            deadline = base = self._calendar_day(begin, whole)
            fraction = limit.amount - whole
            if fraction:
                deadline = base + (self._calendar_day(begin, whole + 1) - base) * fraction
        else:
            deadline = begin + timedelta(seconds=limit.amount * _FIXED_SECONDS[limit.unit])
        return deadline.astimezone(start.tzinfo)

    def elapsed(self, start: datetime, end: datetime, unit: TimeUnit) -> float:
        """Time from `start` to `end` measured in `unit`; 0 when end <= start.

        The inverse of add(): elapsed(s, add(s, limit), limit.unit) == limit.amount.
        """
        begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
        unit = TimeUnit(unit)
        if finish <= begin:
            return 0.0
        if unit.is_working:
            seconds = self.working_seconds_between(begin, finish)
            return seconds / self._unit_working_seconds(unit)
        if unit is TimeUnit.CALENDAR_DAYS:
            # First guess from the real duration, then correct for 23/25 h local days.
            whole = int((finish - begin) / timedelta(days=1))
            while whole > 0 and self._calendar_day(begin, whole) > finish:
                whole -= 1
            while self._calendar_day(begin, whole + 1) <= finish:
                whole += 1
            base = self._calendar_day(begin, whole)
            return whole + (finish - base) / (self._calendar_day(begin, whole + 1) - base)
        return (finish - begin).total_seconds() / _FIXED_SECONDS[unit]

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Real seconds of office-window time on working days between start and end."""
        begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
        total = timedelta()
        for opens, closes in self._intervals(begin, last=finish.astimezone(self.tz).date()):
            if opens >= finish:
                break
            total += min(closes, finish) - max(opens, begin)
        return total.total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, e.g. for an event or a workflow input; see from_dict()."""
        return {
            "zone": self.zone,
            "windows": [
                {"start": _fmt_time(w.start), "end": _fmt_time(w.end)} for w in self.windows
            ],
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "extra_workdays": sorted(d.isoformat() for d in self.extra_workdays),
            "official_years": sorted(self.official_years),
            "provisional_years": sorted(self.provisional_years),
            "version": self.version,
            "provisional_source": self.provisional_source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkingCalendar:
        """Build a calendar from the to_dict() shape; missing keys take the defaults.

        Records written before calendars said which years they cover carry no year lists:
        they cover the years their holidays and workdays fall in, and nothing more.
        """
        windows = data.get("windows")
        holidays = frozenset(date.fromisoformat(d) for d in data.get("holidays", ()))
        workdays = frozenset(date.fromisoformat(d) for d in data.get("extra_workdays", ()))
        official = data.get("official_years")
        if official is None and "provisional_years" not in data:
            official = {d.year for d in holidays | workdays}
        return cls(
            zone=data.get("zone", "Asia/Shanghai"),
            windows=DEFAULT_WINDOWS
            if windows is None
            else tuple(
                OfficeWindow(time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
                for w in windows
            ),
            holidays=holidays,
            extra_workdays=workdays,
            official_years=frozenset(int(y) for y in official or ()),
            provisional_years=frozenset(int(y) for y in data.get("provisional_years", ())),
            version=int(data.get("version", 0)),
            provisional_source=str(data.get("provisional_source", "")),
        )

    # -- internals ------------------------------------------------------------------

    def _unit_working_seconds(self, unit: TimeUnit) -> float:
        return 3600.0 if unit is TimeUnit.WORKING_HOURS else self.working_day_seconds

    def _intervals(
        self, begin: datetime, last: date | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Office windows of working days as UTC intervals, clipped to start at `begin`.

        Steps one local day at a time (never minute by minute) up to `last`, or forever.
        """
        tz = self.tz
        day = begin.astimezone(tz).date()
        while last is None or day <= last:
            if self.is_working_day(day):
                floor = begin
                for window in self.windows:
                    # A DST jump can shorten a window to nothing; keep intervals ordered.
                    opens = max(_on(day, window.start, tz), floor)
                    closes = max(_on(day, window.end, tz), opens)
                    floor = closes
                    if closes > opens:
                        yield opens, closes
            day += timedelta(days=1)

    def _add_working(self, begin: datetime, work: timedelta) -> datetime:
        remaining = work
        for opens, closes in self._intervals(begin):
            if remaining <= closes - opens:  # "<=": a deadline on a window end stays there
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable: the interval generator is endless")

    def _calendar_day(self, begin: datetime, days: int) -> datetime:
        """The same local wall-clock time `days` local days after `begin` (自然日)."""
        if days == 0:
            return begin  # keeps a start in a repeated DST hour exact
        local = begin.astimezone(self.tz).replace(tzinfo=None) + timedelta(days=days)
        return local.replace(tzinfo=self.tz, fold=0).astimezone(UTC)


def _as_utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


def _on(day: date, clock: time, tz: tzinfo) -> datetime:
    # fold=0: an ambiguous local time is its first occurrence, a skipped one moves forward.
    return datetime.combine(day, clock, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _fmt_time(clock: time) -> str:
    return clock.isoformat(timespec="minutes" if not clock.second else "seconds")
