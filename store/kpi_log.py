"""The evaluation facts of the cases that can count in a window, folded from the log
(``domain.kpi_facts``): what lists the cases behind one figure of a KPI table
(``application.read_models.kpi.kpi_cases``), each put through the same evaluation alone.
The table itself aggregates the ``kpi_facts`` projection in SQL (``store.kpi``); both are
the same fold, so a list and its figure agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import DateTime, Engine, or_, select
from sqlalchemy.orm import Session

from domain.kpi_facts import CaseFacts, case_facts
from store.codec import EVENT_COLUMNS, row_to_event
from store.models import EventRow

# Deadlines events carry in their data; a case counts in a window only through one of
# these or through an event that occurred in the window.
DEADLINE_KEYS = ("due_at", "disposal_due_at", "verify_due_at")
BATCH = 1000


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
