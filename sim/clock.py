"""Office windows of the working calendar as sorted integer intervals, for fast lookups.

The simulation asks "is anyone at work now?" and "when does this much work end?" for
every job; asking ``WorkingCalendar.add`` each time would walk the calendar day by day.
The windows come from the same calendar (``is_working_day``, ``windows``, ``zone``), so
the simulated staff keep exactly the hours the deadlines are computed with.
Times are whole seconds since the Unix epoch.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta

from domain.calendar import WorkingCalendar


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_ts(moment: datetime) -> int:
    """Whole seconds, rounded up: an event at or after ``moment``, never before it."""
    seconds = moment.timestamp()
    whole = int(seconds)
    return whole if whole == seconds else whole + 1


class WorkClock:
    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        tz = calendar.tz
        self.opens: list[int] = []
        self.closes: list[int] = []
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                for window in calendar.windows:
                    start = datetime.combine(day, window.start, tzinfo=tz)
                    end = datetime.combine(day, window.end, tzinfo=tz)
                    self.opens.append(int(start.timestamp()))
                    self.closes.append(int(end.timestamp()))
            day += timedelta(days=1)
        if not self.opens:
            raise ValueError(f"no working time between {first} and {last}")

    def window_at(self, ts: int) -> int:
        """Index of the window holding ``ts`` (open <= ts < close), else -1."""
        i = bisect_right(self.opens, ts) - 1
        return i if i >= 0 and ts < self.closes[i] else -1

    def is_open(self, ts: int) -> bool:
        return self.window_at(ts) >= 0

    def next_open(self, ts: int) -> int:
        """``ts`` if inside a window, else the next opening (beyond the horizon: far away)."""
        if self.is_open(ts):
            return ts
        i = bisect_right(self.opens, ts)
        return self.opens[i] if i < len(self.opens) else _FAR

    def add_work(self, ts: int, seconds: int) -> int:
        """When ``seconds`` of working time started at ``ts`` are done (paused outside windows)."""
        i = self.window_at(ts)
        if i < 0:
            i = bisect_right(self.opens, ts)
            if i >= len(self.opens):
                return _FAR
            ts = self.opens[i]
        left = seconds
        while i < len(self.opens):
            start = max(ts, self.opens[i])
            room = self.closes[i] - start
            if left <= room:
                return start + left
            left -= room
            i += 1
        return _FAR

    def work_between(self, start: int, end: int) -> int:
        """Seconds of working time in [start, end)."""
        i = max(0, bisect_right(self.opens, start) - 1)
        total = 0
        while i < len(self.opens) and self.opens[i] < end:
            total += max(0, min(end, self.closes[i]) - max(start, self.opens[i]))
            i += 1
        return total


# Work that would end past the last window of the horizon never ends inside the run.
_FAR = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp())
FAR = _FAR
