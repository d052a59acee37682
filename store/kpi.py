"""Evaluation (综合评价) read straight from the event log: no table of its own.

One ordered, server-side streamed query reads the events of every case that can count
in the window; each case's stream is folded into ``domain.kpi.CaseFacts`` as soon as it
is complete, so memory holds one case's events plus the running tallies.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Engine, or_, select
from sqlalchemy.orm import Session

from domain.kpi import (
    KpiRow,
    ObjectKind,
    Period,
    PeriodKind,
    evaluate_facts,
    periods_between,
)
from domain.kpi_facts import CaseFacts, case_facts
from store.codec import EVENT_COLUMNS, row_to_event
from store.models import EventRow

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
# Deadlines events carry in their data; a case counts in a window only through one of
# these or through an event that occurred in the window.
DEADLINE_KEYS = ("due_at", "disposal_due_at", "verify_due_at")
BATCH = 1000


@dataclass(frozen=True)
class KpiTable:
    period_kind: PeriodKind
    object_kind: ObjectKind
    periods: list[Period]
    rows: list[KpiRow]
    cases_read: int


def _moment(value: date | datetime, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone")
        return value
    return datetime.combine(value, time(), tzinfo=tz)


def case_facts_in(
    engine: Engine, start: datetime, end: datetime, as_of: datetime | None = None
) -> Iterator[CaseFacts]:
    """Facts of every case with an event in [start, end) or a deadline set before ``end``
    that falls at or after ``start`` (a superset of the cases any anchor puts in the
    window). With ``as_of``, only the events that occurred before it are read."""
    due = [EventRow.data[k].astext.cast(DateTime(timezone=True)) >= start for k in DEADLINE_KEYS]
    candidates = (
        select(EventRow.case_id)
        .where(EventRow.occurred_at < end, or_(EventRow.occurred_at >= start, *due))
        .distinct()
    )
    # Evaluation needs no rules (a kilobyte per case with its calendar): not read.
    without_rules = EventRow.data.op("-")("rules").label("data")
    columns = [without_rules if c is EventRow.data else c for c in EVENT_COLUMNS]
    query = select(*columns).where(EventRow.case_id.in_(candidates))
    if as_of is not None:
        query = query.where(EventRow.occurred_at < as_of)
    query = query.order_by(EventRow.case_id, EventRow.version).execution_options(yield_per=BATCH)
    with Session(engine) as session:
        rows = session.execute(query)
        for _, stream in itertools.groupby(rows, key=lambda r: r.case_id):
            facts = case_facts(row_to_event(r) for r in stream)
            if facts is not None:
                yield facts


def evaluate(
    engine: Engine,
    period_kind: PeriodKind | str,
    start: date | datetime,
    end: date | datetime | None,
    object_kind: ObjectKind | str,
    weights: Mapping[str, float] | None = None,
    *,
    tz: tzinfo = DEFAULT_TZ,
    as_of: datetime | None = None,
) -> KpiTable:
    """The KPI table of ``object_kind`` for each period of ``period_kind`` overlapping
    [start, end) (dates are local midnights in ``tz``; ``end`` None: the one period
    holding ``start``). Rates, scores and definitions: ``domain.kpi``."""
    kind, objects = PeriodKind(period_kind), ObjectKind(object_kind)
    first = _moment(start, tz)
    last = _moment(end, tz) if end is not None else first
    periods = periods_between(kind, first, max(last, first), tz)
    window_start, window_end = periods[0].start, periods[-1].end
    cases = 0

    def counted(facts: Iterator[CaseFacts]) -> Iterator[CaseFacts]:
        nonlocal cases
        for f in facts:
            cases += 1
            yield f

    rows = evaluate_facts(
        counted(case_facts_in(engine, window_start, window_end, as_of)),
        period_kind=kind,
        start=window_start,
        end=window_end,
        object_kind=objects,
        tz=tz,
        weights=weights,
        as_of=as_of,
    )
    return KpiTable(kind, objects, periods, rows, cases)
