"""Imported holiday notices in PostgreSQL, the calendar new cases get, and its warning.

Each `gridcase reference calendar import FILE` is a calendar version (kind ``calendar`` in
``reference_versions``) with its years in ``calendar_years``; the newest version of a year
is in force (store/calendar_sources.py layers it over the base notices and the library).
A case keeps the calendar recorded in its rules when it was reported (CaseReported.rules),
so an import changes the deadlines of cases reported after it, never of running ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, insert, select, text

from domain.calendar import WorkingCalendar, describe_years
from domain.holiday_notices import (
    CalendarWarning,
    HolidayYear,
    YearStatus,
    official_data_warning,
    parse_notice,
)
from store.calendar_sources import CalendarSources
from store.reference import ImportResult
from store.reference_models import CalendarYearRow, ReferenceVersionRow

__all__ = [
    "calendar_readiness",
    "calendar_sources",
    "import_notice",
    "log_calendar",
    "today",
]

ZONE = "Asia/Shanghai"


def today(zone: str = ZONE) -> date:
    """The local date in the calendar's zone (the center's day, not the machine's)."""
    return datetime.now(ZoneInfo(zone)).date()


def calendar_sources(engine: Engine | None, base: Sequence[HolidayYear]) -> CalendarSources:
    """The base notices with the imported ones from the store (none when engine is None)."""
    if engine is None:
        return CalendarSources.of(base)
    # One snapshot: the years and the version number of the same imports.
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection as conn, conn.begin():
        stored, version = _stored(conn)
    return CalendarSources.of(base, list(stored.values()), version=version)


def _stored(conn: Connection) -> tuple[dict[int, HolidayYear], int]:
    row = CalendarYearRow
    years: dict[int, HolidayYear] = {}
    # A few rows a year: the newest version of each year is the first one seen.
    for r in conn.execute(
        select(row.version, row.year, row.source, row.holidays).order_by(
            row.year, row.version.desc()
        )
    ):
        if r.year not in years:
            document = {"years": {str(r.year): {"source": r.source, "holidays": r.holidays}}}
            years[r.year] = parse_notice(document, version=r.version)[0]
    version = conn.execute(
        select(func.max(ReferenceVersionRow.id)).where(ReferenceVersionRow.kind == "calendar")
    ).scalar()
    return years, int(version or 0)


def import_notice(engine: Engine, years: Iterable[HolidayYear], *, source: str) -> ImportResult:
    """Store an official notice's years as a new calendar version.

    Unchanged (nothing written) when every year already stands in the store as given.
    """
    entries = sorted(years, key=lambda y: y.year)
    if any(y.status is not YearStatus.OFFICIAL for y in entries):
        raise ValueError("only official notices are imported; provisional years are computed")
    rows = [
        {"year": y.year, "source": y.source, "holidays": [h.to_dict() for h in y.holidays]}
        for y in entries
    ]
    checksum = hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    counts = {
        "calendar_years": len(rows),
        "holidays": sum(len(y.holidays) for y in entries),
        "workdays": sum(len(y.workdays) for y in entries),
    }
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridcase.reference'))"))
        stored, version = _stored(conn)
        if version and all(
            y.year in stored and stored[y.year].to_dict() == y.to_dict() for y in entries
        ):
            return ImportResult("calendar", False, version, checksum, counts)
        version = conn.execute(
            insert(ReferenceVersionRow)
            .values(kind="calendar", checksum=checksum, source=source, counts=counts)
            .returning(ReferenceVersionRow.id)
        ).scalar_one()
        conn.execute(insert(CalendarYearRow), [{"version": version, **r} for r in rows])
    return ImportResult("calendar", True, version, checksum, counts)


def calendar_readiness(calendar: WorkingCalendar, on: date | None = None) -> dict[str, Any]:
    """The calendar's part of a readiness answer (/readyz, the console): JSON-ready.

    ``status`` is "warning" when the official data ends within 60 days (or has ended);
    the service still works — deadlines then run on provisional years — so it is a
    detail to show, not a reason to take the process out of service.
    """
    on = on or today(calendar.zone)
    warning = official_data_warning(calendar, on)
    return {
        "status": "ok" if warning is None else "warning",
        "today": on.isoformat(),
        "official_years": describe_years(calendar.official_years),
        "provisional_years": describe_years(calendar.provisional_years),
        "provisional_source": calendar.provisional_source,
        "version": calendar.version,
        **_warning_fields(warning),
    }


def _warning_fields(warning: CalendarWarning | None) -> dict[str, Any]:
    if warning is None:
        return {"official_until": None, "days_left": None, "message": None}
    until = warning.official_until
    return {
        "official_until": None if until is None else until.isoformat(),
        "days_left": warning.days_left,
        "message": warning.message,
    }


def log_calendar(
    log: Any, calendar: WorkingCalendar, on: date | None = None, **fields: Any
) -> None:
    """One structured line at start: what the calendar covers, a warning when it runs out."""
    detail = calendar_readiness(calendar, on) | fields
    if detail["status"] == "warning":
        log.warning("calendar_official_data_ending", **detail)
    else:
        log.info("calendar_loaded", **detail)
