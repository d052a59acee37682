"""The case projection: one row of current state per case, folded from its events; and
the rebuild of every projection of the log (``cases`` and ``kpi_facts``).

Live updates and the rebuild use the same folds (``domain.case.evolve``,
``domain.kpi_facts``) and the same row functions (``case_row_values``,
``store.kpi_projection.kpi_row_values``), so a rebuild that differs from a live table
points at a real fault (a lost write, a manual edit, a changed fold), never at two codes
disagreeing.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from domain.case import CaseState, evolve, initial_state
from domain.events import Event
from domain.kpi_facts import FactsFold
from store.codec import EVENT_COLUMNS, row_to_event
from store.kpi_projection import KPI_PROJECTED, kpi_row_values, kpi_writes
from store.models import CaseRow, EventRow, KpiFactsRow
from store.writes import Write, compiled, insert_of

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


_insert = insert_of(CaseRow, ("case_id", *PROJECTED_COLUMNS))
# Compiled once (not per append): compiling a 40-column upsert was most of an append's CPU.
UPSERT_CASE = compiled(
    _insert.on_conflict_do_update(
        index_elements=[CaseRow.case_id],
        set_={c: _insert.excluded[c] for c in PROJECTED_COLUMNS},
    )
)


def projection_writes(state: CaseState, stream: Sequence[Event]) -> list[Write]:
    """Every projection an append keeps up to date, written in the append's transaction:
    the one place to add another. ``state`` is the fold of the whole stream after the
    append (the same fold as a rebuild's), ``stream`` the whole stream, the new events
    included (the evaluation facts are a fold of their own, ``domain.kpi_facts``)."""
    return [Write(UPSERT_CASE, [case_row_values(state)]), *kpi_writes(stream, state.version)]


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
    # Differences of both tables; a kpi_facts column is named "kpi_facts.<column>".
    differences: list[Difference] = field(default_factory=list)
    kpi_missing: list[str] = field(default_factory=list)  # no kpi_facts row
    kpi_extra: list[str] = field(default_factory=list)  # a kpi_facts row with no events
    applied: bool = False

    @property
    def clean(self) -> bool:
        return not (
            self.missing or self.extra or self.differences or self.kpi_missing or self.kpi_extra
        )

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _in_part(column: Any, part: int, parts: int) -> Any:
    """Rows of one partition of the case ids (a stable hash, so every process agrees)."""
    return (func.hashtext(column).op("&")(0x7FFFFFFF) % parts) == part


def _fold_streams(
    session: Session, batch: int, part: int = 0, parts: int = 1
) -> Iterator[tuple[CaseState, FactsFold, int]]:
    """Yield (state, evaluation facts, event count) per case, reading the log once in
    (case, version) order.

    Plain rows rather than ORM objects: a rebuild reads every event there is.
    """
    query = select(*EVENT_COLUMNS).order_by(EventRow.case_id, EventRow.version)
    if parts > 1:
        query = query.where(_in_part(EventRow.case_id, part, parts))
    rows = session.execute(query, execution_options={"yield_per": batch})
    state: CaseState | None = None
    facts = FactsFold()
    count = 0
    for row in rows:
        event: Event = row_to_event(row)
        case_id = row.case_id
        if state is None or state.case_id != case_id:
            if state is not None:
                yield state, facts, count
            state, facts, count = initial_state(case_id), FactsFold(), 0
        state = evolve(state, event)
        facts.on(event)
        count += 1
    if state is not None:
        yield state, facts, count


def _compare(
    report: RebuildReport,
    case_id: str,
    live: dict[str, Any],
    values: dict[str, Any],
    columns: tuple[str, ...],
    prefix: str = "",
) -> None:
    row = live.pop(case_id, None)
    if row is None:
        (report.kpi_missing if prefix else report.missing).append(case_id)
        return
    for column in columns:
        if row[column] != values[column]:
            report.differences.append(
                Difference(case_id, prefix + column, row[column], values[column])
            )


Rebuilt = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # cases rows, kpi_facts rows


def _live(session: Session, table: Any, part: int, parts: int) -> dict[str, Any]:
    query = select(table)
    if parts > 1:
        query = query.where(_in_part(table.c.case_id, part, parts))
    # Plain rows, not ORM objects: a rebuild compares every case there is.
    return {r.case_id: r._mapping for r in session.execute(query)}


def _fold_part(
    engine: Engine,
    part: int,
    parts: int,
    batch: int,
    keep: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[RebuildReport, Rebuilt]:
    """Fold one partition and compare it with its live rows of both tables."""
    report = RebuildReport()
    rebuilt: Rebuilt = ([], [])
    with Session(engine) as session, session.begin():
        live = _live(session, CaseRow.__table__, part, parts)
        live_kpi = _live(session, KpiFactsRow.__table__, part, parts)
        for state, fold, count in _fold_streams(session, batch, part, parts):
            report.cases += 1
            report.events += count
            values = case_row_values(state)
            facts = fold.facts()
            kpi = None if facts is None else kpi_row_values(facts, state.version)
            if keep:
                rebuilt[0].append(values)
                if kpi is not None:
                    rebuilt[1].append(kpi)
            _compare(report, state.case_id, live, values, PROJECTED_COLUMNS)
            if kpi is not None:
                _compare(report, state.case_id, live_kpi, kpi, KPI_PROJECTED, "kpi_facts.")
            if progress is not None:
                progress(count)
        report.extra = sorted(live)
        report.kpi_extra = sorted(live_kpi)
    return report, rebuilt


def _fold_part_in_process(
    url: str, part: int, parts: int, batch: int, keep: bool
) -> tuple[RebuildReport, Rebuilt]:
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
    """Fold every stream, compare with the live ``cases`` and ``kpi_facts`` tables,
    optionally replace them.

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
        report.kpi_missing += part.kpi_missing
        report.kpi_extra += part.kpi_extra
    for found in (report.missing, report.extra, report.kpi_missing, report.kpi_extra):
        found.sort()
    if apply:
        with Session(engine) as session, session.begin():
            for model, which in ((CaseRow, 0), (KpiFactsRow, 1)):
                session.execute(delete(model))
                for _, rebuilt in parts:
                    rows = rebuilt[which]
                    for start in range(0, len(rows), batch):
                        session.execute(insert(model), rows[start : start + batch])
        report.applied = True
    report.seconds = time.perf_counter() - started
    return report
