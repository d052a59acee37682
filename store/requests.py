"""The requests people's steps answered: one row per (case, idempotency key), written by
``EventStore.append`` in the transaction that appends the step's events, so a row exists
exactly when the step's events do. Read back to answer the same key again
(``application.requests``) when Temporal no longer knows the update: the case finished
and its history left retention, was reset, or continued as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from domain.case import CaseState
from store.models import StepRequestRow
from store.writes import Write, compiled, insert_of

_COLUMNS = ("case_id", "request_key", "step", "fingerprint", "version", "result")
# The first answer to a key stands: a second row for it is never written.
_INSERT = compiled(insert_of(StepRequestRow, _COLUMNS).on_conflict_do_nothing())


@dataclass(frozen=True)
class StepRequestRecord:
    key: str  # the idempotency key, scoped to the caller
    step: str
    fingerprint: str


@dataclass(frozen=True)
class AnsweredRequest:
    step: str
    fingerprint: str
    result: dict[str, Any]  # what the step answered (workflows.types.ActionResult's fields)


def answer(state: CaseState, event_types: list[str], request: StepRequestRecord) -> dict[str, Any]:
    """The step's answer as the workflow gives it: where the case is after its events."""
    return {
        "case_id": state.case_id,
        "version": state.version,
        "status": state.status.value if state.status else "",
        "stage": state.stage.value if state.stage else "",
        "stage_due_at": state.stage_due_at.isoformat() if state.stage_due_at else None,
        "events": event_types,
        "request_key": request.key,
        "fingerprint": request.fingerprint,
    }


def request_write(state: CaseState, event_types: list[str], request: StepRequestRecord) -> Write:
    """The request's row, written in the append's transaction (``store.writes``)."""
    return Write(
        _INSERT,
        [
            {
                "case_id": state.case_id,
                "request_key": request.key,
                "step": request.step,
                "fingerprint": request.fingerprint,
                "version": state.version,
                "result": answer(state, event_types, request),
            }
        ],
    )


def answered_request(engine: Engine, case_id: str, key: str) -> AnsweredRequest | None:
    """The step that answered ``key`` on the case, if one did."""
    with engine.connect() as conn:
        row = conn.execute(
            select(StepRequestRow.step, StepRequestRow.fingerprint, StepRequestRow.result).where(
                StepRequestRow.case_id == case_id, StepRequestRow.request_key == key
            )
        ).first()
    return None if row is None else AnsweredRequest(row.step, row.fingerprint, dict(row.result))
