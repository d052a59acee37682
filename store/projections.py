"""The case projection: one row of current state per case, folded from its events.

Live updates and the rebuild use the same fold (``domain.case.evolve``) and the same
``case_row_values``, so a rebuild that differs from the live table points at a real fault
(a lost write, a manual edit, a changed fold), never at two codes disagreeing.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from domain.case import CaseState, evolve, initial_state
from domain.events import Event
from store.codec import EVENT_COLUMNS, row_to_event
from store.models import CaseRow, EventRow

PROJECTED_COLUMNS = tuple(c.name for c in CaseRow.__table__.columns if c.name != "case_id")


def case_row_values(state: CaseState) -> dict[str, Any]:
    """Column values of ``cases`` for a case state."""
    if state.stage is None or state.status is None or state.reported_at is None:
        raise ValueError(f"case {state.case_id} has no report yet")
    grid = state.grid
    coded = len(grid) == 15 and grid.isdigit()
    return {
        "case_id": state.case_id,
        "version": state.version,
        "status": state.status.value,
        "stage": state.stage.value,
        "category": state.category,
        "grid": grid,
        "department": state.department,
        "source": state.source,
        "reporter_id": state.reporter_id,
        "description": state.description,
        "reported_at": state.reported_at,
        "stage_entered_at": state.stage_entered_at,
        "stage_due_at": state.stage_due_at,
        "stage_overdue": state.stage_overdue,
        "overdue_count": state.overdue_count,
        "rework_count": state.rework_count,
        "closed_at": state.closed_at,
        "street": grid[:9] if coded else "",
        "community": grid[:12] if coded else "",
        "lon": state.location.lon if state.location else None,
        "lat": state.location.lat if state.location else None,
        "light": state.light.value,
        "stage_warn_at": state.stage_warn_at,
        "condition": state.condition,
        "disposal_due_at": state.disposal_due_at,
        "disposal_late": state.disposal_late,
        "dispatch_count": state.dispatch_count,
        "return_count": state.return_count,
        "extension_count": state.extension_count,
        "pending_request": state.pending.kind if state.pending else "",
        "pending_request_due_at": state.pending.due_at if state.pending else None,
        "verification": state.verification,
        "self_handled": state.self_handled,
        "backlog": state.backlog,
        "urge_count": state.urge_count,
        "supervision_level": state.supervision_level.value if state.supervision_level else "",
        "supervision_pending": state.supervision_pending,
        "reply_due_at": state.reply_due_at,
        "merged_into": state.merged_into,
        "duplicate_count": len(state.duplicates),
        "closing_type": state.closing_type,
    }


_insert = pg_insert(CaseRow)
# Built once (not per append): compiling a 40-column upsert was most of an append's CPU.
_UPSERT = _insert.on_conflict_do_update(
    index_elements=[CaseRow.case_id],
    set_={c: _insert.excluded[c] for c in PROJECTED_COLUMNS},
)


def upsert_case(session: Session, state: CaseState) -> None:
    session.execute(_UPSERT, [case_row_values(state)])


@dataclass
class Difference:
    case_id: str
    column: str
    live: Any
    rebuilt: Any


@dataclass
class RebuildReport:
    cases: int = 0
    events: int = 0
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)  # folded from the log, no live row
    extra: list[str] = field(default_factory=list)  # a live row with no events
    differences: list[Difference] = field(default_factory=list)
    applied: bool = False

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.differences)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _in_part(column: Any, part: int, parts: int) -> Any:
    """Rows of one partition of the case ids (a stable hash, so every process agrees)."""
    return (func.hashtext(column).op("&")(0x7FFFFFFF) % parts) == part


def _fold_streams(
    session: Session, batch: int, part: int = 0, parts: int = 1
) -> Iterator[tuple[CaseState, int]]:
    """Yield (state, event count) per case, reading the log once in (case, version) order.

    Plain rows rather than ORM objects: a rebuild reads every event there is.
    """
    query = select(*EVENT_COLUMNS).order_by(EventRow.case_id, EventRow.version)
    if parts > 1:
        query = query.where(_in_part(EventRow.case_id, part, parts))
    rows = session.execute(query, execution_options={"yield_per": batch})
    state: CaseState | None = None
    count = 0
    for row in rows:
        event: Event = row_to_event(row)
        case_id = row.case_id
        if state is None or state.case_id != case_id:
            if state is not None:
                yield state, count
            state, count = initial_state(case_id), 0
        state = evolve(state, event)
        count += 1
    if state is not None:
        yield state, count


def _fold_part(
    engine: Engine,
    part: int,
    parts: int,
    batch: int,
    keep: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[RebuildReport, list[dict[str, Any]]]:
    """Fold one partition and compare it with its live rows."""
    report = RebuildReport()
    rebuilt: list[dict[str, Any]] = []
    with Session(engine) as session, session.begin():
        live_query = select(CaseRow.__table__)
        if parts > 1:
            live_query = live_query.where(_in_part(CaseRow.case_id, part, parts))
        # Plain rows, not ORM objects: a rebuild compares every case there is.
        live = {r.case_id: r._mapping for r in session.execute(live_query)}
        for state, count in _fold_streams(session, batch, part, parts):
            report.cases += 1
            report.events += count
            values = case_row_values(state)
            if keep:
                rebuilt.append(values)
            row = live.pop(state.case_id, None)
            if row is None:
                report.missing.append(state.case_id)
            else:
                for column in PROJECTED_COLUMNS:
                    if row[column] != values[column]:
                        report.differences.append(
                            Difference(state.case_id, column, row[column], values[column])
                        )
            if progress is not None:
                progress(count)
        report.extra = sorted(live)
    return report, rebuilt


def _fold_part_in_process(
    url: str, part: int, parts: int, batch: int, keep: bool
) -> tuple[RebuildReport, list[dict[str, Any]]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return _fold_part(engine, part, parts, batch, keep)
    finally:
        engine.dispose()


def rebuild_cases(
    engine: Engine,
    *,
    apply: bool = False,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    processes: int = 1,
) -> RebuildReport:
    """Fold every stream, compare with the live ``cases`` table, optionally replace it.

    With ``processes`` > 1 the case ids are split by a hash and folded in that many
    processes (streams are independent); the replacement, if asked, is one transaction.
    Events written while a rebuild runs may show as differences: run it on a quiet log.
    """
    started = time.perf_counter()
    if processes > 1:
        url = engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            futures = [
                pool.submit(_fold_part_in_process, url, k, processes, batch, apply)
                for k in range(processes)
            ]
            parts = [f.result() for f in futures]
    else:
        parts = [_fold_part(engine, 0, 1, batch, apply, progress)]
    report = RebuildReport()
    for part, _ in parts:
        report.cases += part.cases
        report.events += part.events
        report.missing += part.missing
        report.extra += part.extra
        report.differences += part.differences
    report.missing.sort()
    report.extra.sort()
    if apply:
        with Session(engine) as session, session.begin():
            session.execute(delete(CaseRow))
            for _, rebuilt in parts:
                for start in range(0, len(rebuilt), batch):
                    session.execute(insert(CaseRow), rebuilt[start : start + batch])
        report.applied = True
    report.seconds = time.perf_counter() - started
    return report
