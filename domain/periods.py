"""Evaluation periods: local days, ISO weeks (Monday first) and calendar months in a
zone, half-open [start, next start) (domain/kpi.py counts per period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday
    MONTH = "month"


@dataclass(frozen=True, order=True)
class Period:
    start: datetime
    end: datetime
    kind: PeriodKind

    @property
    def label(self) -> str:
        day = self.start.date()
        if self.kind is PeriodKind.MONTH:
            return f"{day:%Y-%m}"
        if self.kind is PeriodKind.WEEK:
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        return day.isoformat()


def period_of(kind: PeriodKind, day: date, tz: tzinfo) -> Period:
    """The period of ``kind`` holding local date ``day``: [local midnight, next start)."""
    if kind is PeriodKind.DAY:
        first, after = day, day + timedelta(days=1)
    elif kind is PeriodKind.WEEK:
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return Period(
        datetime.combine(first, time(), tzinfo=tz), datetime.combine(after, time(), tzinfo=tz), kind
    )


def periods_between(kind: PeriodKind, start: datetime, end: datetime, tz: tzinfo) -> list[Period]:
    """The periods of ``kind`` that overlap [start, end), in order."""
    found = [period_of(kind, start.astimezone(tz).date(), tz)]
    while found[-1].end < end:
        found.append(period_of(kind, found[-1].end.astimezone(tz).date(), tz))
    return found
