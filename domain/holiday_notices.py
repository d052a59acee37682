"""Holiday notices (节假日安排) per year, and the working calendar built from them.

Each year's data is the State Council's notice for it (official), or, before the notice is
out, an estimate of the statutory holidays (provisional). A year lists its rest periods
(放假, first..last inclusive, weekends included) and the weekend days worked in exchange
(调休上班). The file shape (domain/data/calendar_cn.json, the shipped notices, and the
files `gridcase reference calendar import` takes) is documented in docs/calendar.md.

A notice may reach into the neighbouring year (the 2019 notice gave 2018-12-31 off for New
Year), so dates up to a month outside their year are accepted and fall in the year they lie
in when a calendar is built.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from domain.calendar import DEFAULT_WINDOWS, OfficeWindow, WorkingCalendar

__all__ = [
    "CalendarWarning",
    "Holiday",
    "HolidayYear",
    "InvalidNotice",
    "YearStatus",
    "build_calendar",
    "default_calendar",
    "load_calendar",
    "official_data_warning",
    "parse_notice",
    "recorded_calendar",
    "shipped_notices",
    "shipped_provisional",
]

# How far a notice may reach outside its own year, and how long one rest period may be
# (the longest ever, Spring Festival 2020 with its extension, was 10 days).
_REACH = timedelta(days=31)
_LONGEST = timedelta(days=31)
WARN_WITHIN = timedelta(days=60)


class InvalidNotice(ValueError):
    """A holiday notice file that cannot be taken as it is; says what and where."""


class YearStatus(StrEnum):
    OFFICIAL = "official"  # from the State Council's notice (国务院办公厅通知)
    PROVISIONAL = "provisional"  # estimated statutory holidays, no 调休 known yet


@dataclass(frozen=True)
class Holiday:
    """One rest period (放假) and the weekend days worked for it (调休上班)."""

    name: str
    first: date
    last: date
    workdays: tuple[date, ...] = ()

    def days(self) -> Iterator[date]:
        for n in range((self.last - self.first).days + 1):
            yield self.first + timedelta(days=n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "workdays": [d.isoformat() for d in self.workdays],
        }


@dataclass(frozen=True)
class HolidayYear:
    """What is known about one year: its rest periods, where they come from, how sure."""

    year: int
    status: YearStatus
    holidays: tuple[Holiday, ...]
    source: str
    version: int = 0  # calendar version in the store; 0: shipped or file notices

    @property
    def days_off(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.days())

    @property
    def workdays(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.workdays)

    def to_dict(self) -> dict[str, Any]:
        """The entry of this year in the notice file shape."""
        return {"source": self.source, "holidays": [h.to_dict() for h in self.holidays]}


def parse_notice(
    data: Any, *, status: YearStatus = YearStatus.OFFICIAL, version: int = 0
) -> tuple[HolidayYear, ...]:
    """Check a notice document ({"years": {"2027": {"source", "holidays": [...]}}}).

    Every problem names the year and the holiday. A document marked "provisional": true
    (an estimate, like the example in docs/) is refused as official data.
    """
    if not isinstance(data, Mapping):
        raise InvalidNotice("a notice file is a JSON object with a 'years' object")
    if status is YearStatus.OFFICIAL and data.get("provisional") is True:
        raise InvalidNotice(
            "this file is marked provisional (an estimate, not a State Council notice); "
            "only official notices are imported: copy the notice's dates into it and drop "
            '"provisional": true'
        )
    table = data.get("years")
    if not isinstance(table, Mapping) or not table:
        raise InvalidNotice("a notice file needs a non-empty 'years' object, e.g. {'2027': …}")
    return tuple(
        _parse_year(key, entry, status, version)
        for key, entry in sorted(table.items(), key=lambda kv: str(kv[0]))
    )


def _parse_year(key: Any, entry: Any, status: YearStatus, version: int) -> HolidayYear:
    text = str(key)
    if not (text.isdigit() and len(text) == 4 and 1949 < int(text) < 2200):
        raise InvalidNotice(f'year {key!r}: a year is four digits, e.g. "2027"')
    year = int(text)
    if not isinstance(entry, Mapping):
        raise InvalidNotice(f"{year}: expected an object with 'source' and 'holidays'")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidNotice(f"{year}: 'source' must name the notice (title, number, date)")
    raw = entry.get("holidays")
    if not isinstance(raw, list) or not raw:
        raise InvalidNotice(f"{year}: 'holidays' must be a non-empty list of rest periods")
    holidays = tuple(_parse_holiday(year, i, item) for i, item in enumerate(raw, 1))
    off: dict[date, str] = {}
    for h in holidays:
        for day in h.days():
            off[day] = h.name
    for h in holidays:
        for day in h.workdays:
            if day in off:
                raise InvalidNotice(
                    f"{year} {h.name}: {day} is both a workday and a day off ({off[day]})"
                )
    return HolidayYear(year, status, holidays, source.strip(), version)


def _parse_holiday(year: int, number: int, item: Any) -> Holiday:
    where = f"{year}, holiday {number}"
    if not isinstance(item, Mapping):
        raise InvalidNotice(f"{where}: expected {{'name', 'first', 'last', 'workdays'}}")
    unknown = set(item) - {"name", "first", "last", "workdays"}
    if unknown:
        raise InvalidNotice(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidNotice(f"{where}: 'name' is required, e.g. \"春节\"")
    where = f"{year} {name}"
    first, last = _date(where, "first", item.get("first")), _date(where, "last", item.get("last"))
    if last < first:
        raise InvalidNotice(f"{where}: ends ({last}) before it starts ({first})")
    if last - first >= _LONGEST:
        raise InvalidNotice(f"{where}: {first}..{last} is longer than a month; a typo?")
    raw_workdays = item.get("workdays", [])
    if not isinstance(raw_workdays, list):
        raise InvalidNotice(f"{where}: 'workdays' must be a list of dates")
    workdays = tuple(_date(where, "workdays", d) for d in raw_workdays)
    for day in (first, last, *workdays):
        if not date(year, 1, 1) - _REACH <= day <= date(year, 12, 31) + _REACH:
            raise InvalidNotice(f"{where}: {day} is too far outside {year}")
    for day in workdays:
        if day.weekday() < 5:
            raise InvalidNotice(
                f"{where}: {day} is a {day:%A}; swapped workdays (调休上班) are weekend days"
            )
    return Holiday(name.strip(), first, last, workdays)


def _date(where: str, key: str, value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidNotice(f"{where}: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def build_calendar(
    years: Iterable[HolidayYear],
    *,
    zone: str = "Asia/Shanghai",
    windows: tuple[OfficeWindow, ...] = DEFAULT_WINDOWS,
    version: int = 0,
    provisional_source: str = "",
) -> WorkingCalendar:
    """The calendar covering exactly the given years (at most one entry per year).

    Provisional years are laid down first and official ones over them, so a date an
    official notice decides (also one reaching into a neighbouring year) is never undone
    by an estimate. Dates in years not given are dropped.
    """
    entries = sorted(years, key=lambda y: (y.status is YearStatus.OFFICIAL, y.year))
    seen = [y.year for y in entries]
    if len(set(seen)) != len(seen):
        raise ValueError(f"one entry per year, got {sorted(seen)}")
    covered = set(seen)
    off: set[date] = set()
    worked: set[date] = set()
    for entry in entries:
        for day in entry.days_off:
            off.add(day)
            worked.discard(day)
        for day in entry.workdays:
            worked.add(day)
            off.discard(day)
    return WorkingCalendar(
        zone=zone,
        windows=windows,
        holidays=frozenset(d for d in off if d.year in covered),
        extra_workdays=frozenset(d for d in worked if d.year in covered),
        official_years=frozenset(y.year for y in entries if y.status is YearStatus.OFFICIAL),
        provisional_years=frozenset(y.year for y in entries if y.status is YearStatus.PROVISIONAL),
        version=version,
        provisional_source=provisional_source,
    )


def load_calendar(
    text: str,
    years: Iterable[int] | None = None,
    *,
    zone: str = "Asia/Shanghai",
    windows: tuple[OfficeWindow, ...] = DEFAULT_WINDOWS,
) -> WorkingCalendar:
    """The official calendar of a notice file (JSON text), for all or some of its years."""
    entries = {y.year: y for y in parse_notice(json.loads(text))}
    wanted = sorted(entries) if years is None else sorted(set(years))
    missing = [y for y in wanted if y not in entries]
    if missing:
        raise ValueError(f"no holiday data for year(s) {missing}; known: {sorted(entries)}")
    return build_calendar((entries[y] for y in wanted), zone=zone, windows=windows)


@cache
def shipped_notices() -> tuple[HolidayYear, ...]:
    """The State Council notices shipped with gridcase (domain/data/calendar_cn.json)."""
    return parse_notice(_shipped("calendar_cn.json"))


def _shipped(name: str) -> Any:
    text = resources.files(__package__ or "domain").joinpath(f"data/{name}").read_text("utf-8")
    return json.loads(text)


@cache
def shipped_provisional() -> tuple[tuple[HolidayYear, ...], str]:
    """The provisional years shipped with gridcase (domain/data/calendar_cn_provisional.json,
    written by scripts/provisional-calendar from the `holidays` library: the statutory
    holidays estimated, no 调休) and the library that estimated them."""
    data = _shipped("calendar_cn_provisional.json")
    return parse_notice(data, status=YearStatus.PROVISIONAL), str(data["library"])


@cache
def default_calendar() -> WorkingCalendar:
    """Asia/Shanghai, 08:00-12:00 and 14:00-18:00: the shipped notices' years (official)
    and the shipped estimate of the years after them (provisional, 2027-2045).

    The domain's own default (a report that carries no rules, the simulation), so it never
    runs out at a year's end. Applications build theirs with the imported notices and the
    installed library for every later year (store/calendar.py); a test keeps the shipped
    estimate equal to what that library computes.
    """
    official = shipped_notices()
    known = {y.year for y in official}
    estimated, library = shipped_provisional()
    provisional = [y for y in estimated if y.year not in known]
    return build_calendar(
        [*official, *provisional], provisional_source=library if provisional else ""
    )


def recorded_calendar(data: Mapping[str, Any]) -> WorkingCalendar:
    """The calendar a case's rules record (CaseRules.calendar), read back.

    Empty — a report that carried no rules — means the shipped notices, never "no
    holidays". A record written before calendars named their years covers the years of its
    own dates and, for any other year, the shipped notices: a case reported before then
    gets a year's official data when a release ships its notice, and is refused working
    time (CalendarNotCovered) until one does — never counted on "every weekday works".
    """
    if not data:
        return default_calendar()
    recorded = WorkingCalendar.from_dict(data)
    if "official_years" in data or "provisional_years" in data:
        return recorded
    shipped = default_calendar()
    extra = shipped.official_years - recorded.years
    return replace(
        recorded,
        holidays=recorded.holidays | {d for d in shipped.holidays if d.year in extra},
        extra_workdays=recorded.extra_workdays
        | {d for d in shipped.extra_workdays if d.year in extra},
        official_years=recorded.official_years | extra,
    )


@dataclass(frozen=True)
class CalendarWarning:
    """The official holiday data ends soon (or has ended): deadlines after that day are
    counted on provisional data until the next State Council notice is loaded."""

    today: date
    official_until: date | None  # last day of official data from today on; None: none
    days_left: int  # days from today to official_until (negative or 0: already ended)
    message: str


def official_data_warning(
    calendar: WorkingCalendar, today: date, within: timedelta = WARN_WITHIN
) -> CalendarWarning | None:
    """A warning when the official years that run on from today end within `within`."""
    year = today.year
    if year not in calendar.official_years:
        until: date | None = None
        if not calendar.covers(year):
            message = (
                f"no holiday data at all for {year}: deadlines in working time cannot be "
                "counted. Import the State Council's notice with "
                "`gridcase reference calendar import FILE`"
            )
            return CalendarWarning(today, until, 0, message)
        message = (
            f"no official holiday notice is loaded for {year}: deadlines are counted on "
            f"{_provisional_words(calendar)}. Import the State Council's notice with "
            "`gridcase reference calendar import FILE`"
        )
        return CalendarWarning(today, until, 0, message)
    while year + 1 in calendar.official_years:
        year += 1
    until = date(year, 12, 31)
    days_left = (until - today).days
    if days_left > within.days:
        return None
    message = (
        f"official holiday data ends {until.isoformat()} (in {days_left} days); from "
        f"{until + timedelta(days=1)} deadlines are counted on {_provisional_words(calendar)} "
        f"until the State Council's {year + 1} notice is imported "
        "(`gridcase reference calendar import FILE`)"
    )
    return CalendarWarning(today, until, days_left, message)


def _provisional_words(calendar: WorkingCalendar) -> str:
    source = f" ({calendar.provisional_source})" if calendar.provisional_source else ""
    return f"provisional statutory holidays without 调休{source}"
