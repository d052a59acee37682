"""Which notice decides each year, and provisional years from the `holidays` library.

Three sources, each year taken from the first that has it:
1. the newest imported notice for the year (`gridcase reference calendar import FILE`,
   kept in the store by store/calendar.py);
2. the base notices: the file in GRIDCASE_CALENDAR, else the State Council notices
   shipped in domain/data/calendar_cn.json;
3. the `holidays` library (PyPI, maintained by the vacanza project), marked provisional.
1 and 2 are official. The library computes every year up to 2100, so a calendar built here
covers every year asked for; what a case records is the window of CASE_YEARS from its
report year on (docs/calendar.md says what happens past it).

Where no State Council notice is loaded, a year's statutory holidays come from
``holidays.China`` (category ``public``; the ``half_day`` holidays — Women's Day, Youth Day,
Children's Day, Army Day — are for some groups only and are left out). The library
estimates a holiday falling on a weekend as a day off on the next working day (its
"observed", 补假 rule) and knows swapped workdays (调休上班) only for years whose notice it
has transcribed; China has no ``workday`` category in it. For a year after its newest
transcribed notice (2027 in holidays 0.108) there are no swapped workdays at all, which is
why such years are marked provisional until the official notice is imported.

Read here, outside domain/ (which stays standard-library only), and turned into the
``HolidayYear`` data the domain understands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.metadata import version as installed_version
from typing import Any

from holidays.constants import PUBLIC
from holidays.countries.china import China

from domain.calendar import WorkingCalendar
from domain.holiday_notices import (
    Holiday,
    HolidayYear,
    YearStatus,
    build_calendar,
    shipped_notices,
)

LIBRARY = f"holidays {installed_version('holidays')}"
SOURCE = f"{LIBRARY} (PyPI): holidays.China, category public; an estimate, not a notice"
FIRST_YEAR = 1950  # People's Republic of China calendar in the library
LAST_YEAR = 2100  # the library's Chinese lunisolar table ends here
_SUFFIX = re.compile(r"（.*?）$")  # （补假）, （推定）: the holiday's own name is before it
_SWAPPED = re.compile(r"^休息日（由 .* 调休）$")  # a day off moved from a weekend (调休)


# A case records its report year and the 3 after it (under 2 kB in its first event): enough
# for any deadline of a case that lives less than three years, small enough for every case.
CASE_YEARS = 4


class YearOutsideLibrary(ValueError):
    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} is outside what the holidays library computes for China "
            f"({FIRST_YEAR}-{LAST_YEAR}); load an official notice for it"
        )


@cache
def provisional_year(year: int) -> HolidayYear:
    """The library's statutory holidays of `year` as one provisional year."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutsideLibrary(year)
    table = China(  # type: ignore[no-untyped-call]  # its constructor has no annotations
        years=year, categories=(PUBLIC,), language="zh_CN"
    )
    days = sorted(d for d in table if d.year == year)
    # The table of one year also carries swapped workdays it read for other years.
    workdays = sorted(d for d in table.weekend_workdays if d.year == year)
    periods: list[list[date]] = []
    for day in days:
        if periods and _only_weekend_between(periods[-1][-1], day):
            periods[-1].append(day)
        else:
            periods.append([day])
    holidays = []
    for period in periods:
        names = _names(table.get_list(d) for d in period)
        mine = tuple(d for d in workdays if _nearest(d, periods) is period)
        holidays.append(Holiday(names, period[0], period[-1], mine))
    return HolidayYear(year, YearStatus.PROVISIONAL, tuple(holidays), SOURCE)


def _only_weekend_between(earlier: date, later: date) -> bool:
    """One rest period: nothing but a weekend lies between the two days off."""
    between = ((earlier + timedelta(days=n)) for n in range(1, (later - earlier).days))
    return all(d.weekday() >= 5 for d in between)


def _names(per_day: Iterable[list[str]]) -> str:
    names: list[str] = []
    for day_names in per_day:
        for name in day_names:
            if _SWAPPED.match(name):
                continue
            base = _SUFFIX.sub("", name)
            if base not in names:
                names.append(base)
    return "、".join(names) or "休息日"


def _nearest(day: date, periods: list[list[date]]) -> list[date]:
    return min(periods, key=lambda p: min(abs((day - p[0]).days), abs((day - p[-1]).days)))


@dataclass(frozen=True)
class CalendarSources:
    """Every official year known (base notices overridden by imported ones) and the
    newest calendar version; provisional years are filled in from the library on demand."""

    official: dict[int, HolidayYear]
    version: int = 0  # newest calendar import in the store (0: none)

    @classmethod
    def of(cls, *layers: Sequence[HolidayYear], version: int = 0) -> CalendarSources:
        """Official years from layers of notices, a later layer winning for its years."""
        return cls({y.year: y for layer in layers for y in layer}, version)

    def year(self, year: int) -> HolidayYear:
        """The entry in force for `year`: official if a notice is known, else provisional."""
        return self.official.get(year) or provisional_year(year)

    def calendar(self, first: int, last: int) -> WorkingCalendar:
        """The calendar of the years first..last, every one of them covered."""
        years = [self.year(y) for y in range(first, last + 1)]
        # Official neighbours too: a notice may reach into the year before or after.
        years += [self.official[y] for y in (first - 1, last + 1) if y in self.official]
        provisional = any(y.status is YearStatus.PROVISIONAL for y in years)
        whole = build_calendar(
            years, version=self.version, provisional_source=LIBRARY if provisional else ""
        )
        return whole.between_years(first, last)

    def for_cases(self, on: date) -> WorkingCalendar:
        """What a case reported on `on` records: its year and the CASE_YEARS - 1 after."""
        return self.calendar(on.year, on.year + CASE_YEARS - 1)


# The years domain/data/calendar_cn_provisional.json ships (the domain's default calendar
# after the shipped notices): to 2045, so default rules outlive any test suite's clock.
SHIPPED_PROVISIONAL = range(2027, 2046)


def provisional_document(years: Iterable[int] = SHIPPED_PROVISIONAL) -> dict[str, Any]:
    """What domain/data/calendar_cn_provisional.json holds (scripts/provisional-calendar
    writes it; a unit test compares it with this): the library's estimate of ``years`` in
    the notice file shape, marked provisional."""
    return {
        "description": (
            "PROVISIONAL: the statutory holidays of China estimated by the holidays library, "
            "no swapped workdays (调休). Not State Council notices. The domain's default "
            "calendar after the shipped notices; written by scripts/provisional-calendar."
        ),
        "provisional": True,
        "library": LIBRARY,
        "years": {str(y): provisional_year(y).to_dict() for y in years},
    }


def shipped_calendar(first: int, last: int) -> WorkingCalendar:
    """The years first..last from the shipped notices and the library (no store, no
    settings): for the simulation and the benchmarks."""
    return CalendarSources.of(shipped_notices()).calendar(first, last)
