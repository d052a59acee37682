"""The ``kpi_facts`` projection: what evaluation counts of each case, one row per case.

Written by ``kpi_writes`` in the transaction of every append (store/event_store.py),
from the same fold of the whole stream a rebuild uses (``domain.kpi_facts``), so the
rebuild check (store/projections.py) compares it column by column like ``cases``.
``store.kpi`` aggregates it in SQL; ``domain.kpi`` over the folded facts is the reference
a property test holds it to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.events import Event
from domain.kpi_facts import CaseFacts, case_facts
from store.models import KpiFactsRow
from store.writes import Write, compiled, insert_of

KPI_COLUMNS = tuple(c.name for c in KpiFactsRow.__table__.columns)
KPI_PROJECTED = tuple(c for c in KPI_COLUMNS if c != "case_id")


def kpi_row_values(facts: CaseFacts, version: int) -> dict[str, Any]:
    """Column values of ``kpi_facts`` for a case's facts at stream ``version``."""
    checks, cards = facts.checks, facts.supervisions
    check_dues = [t.due_at for t in checks if t.due_at is not None]
    return {
        "case_id": facts.case_id,
        "version": version,
        "reported_at": facts.reported_at,
        "reporter": facts.reporter,
        "reporter_role": facts.reporter_role,
        "reporter_unit": facts.reporter_unit,
        "source": facts.source,
        "grid": facts.grid,
        "category": facts.category,
        "outcome": facts.outcome,
        "valid": facts.valid,
        "file_due_at": facts.file_due_at,
        "due_to_file": facts.due_to_file,
        "filed_on_time": facts.filed_on_time,
        "verifier": facts.verifier,
        "verifier_unit": facts.verifier_unit,
        "verify_due_at": facts.verify_due_at,
        "verified_on_time": facts.verified_on_time,
        "disposal_due_at": facts.disposal_due_at,
        "due_for_disposal": facts.due_for_disposal,
        "departments": list(facts.departments),
        "final_department": facts.final_department,
        "returned_from": list(facts.returned_from),
        "reworked_at": list(facts.reworked_at),
        "extensions": facts.extensions,
        "disposed": facts.disposed,
        "disposal_on_time": facts.disposal_on_time,
        "closed_at": facts.closed_at,
        "closed_on_time": facts.closed_on_time,
        "check_due_at": [t.due_at for t in checks],
        "check_on_time": [t.on_time for t in checks],
        "checker": [t.checker for t in checks],
        "checker_unit": [t.checker_unit for t in checks],
        "check_last_due": max(check_dues) if check_dues else None,
        "card_at": [at for at, _, _ in cards],
        "card_level": [level.value for _, level, _ in cards],
        "card_department": [to for _, _, to in cards],
        "card_last_at": max((at for at, _, _ in cards), default=None),
    }


_insert = insert_of(KpiFactsRow, KPI_COLUMNS)
# Compiled once, like the cases upsert: appends are the hot path.
UPSERT_KPI_FACTS = compiled(
    _insert.on_conflict_do_update(
        index_elements=[KpiFactsRow.case_id],
        set_={c: _insert.excluded[c] for c in KPI_PROJECTED},
    )
)


def kpi_writes(stream: Iterable[Event], version: int) -> list[Write]:
    """The evaluation facts of the case whose whole stream is ``stream`` (the append path
    gives the stored and the new events), as a write of the append's transaction."""
    facts = case_facts(stream)
    return [] if facts is None else [Write(UPSERT_KPI_FACTS, [kpi_row_values(facts, version)])]
