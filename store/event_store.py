"""The event store: per-case streams in one append-only PostgreSQL table. The write side
only: appends, a case's events, records and state, and its projection row (which the merge
activity checks); every list, board and count is in ``application.read_models``.

``append`` is optimistic (expected version) and idempotent: appending exactly the events
already stored at those versions is a no-op, so a retried activity writes nothing twice.
The case projection, the evaluation facts (``kpi_facts``) and any notices are written in
the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.case import CaseState, fold
from domain.codec import from_record
from domain.events import Event
from store.codec import EVENT_COLUMNS, record_to_row_values, row_to_event, row_to_record
from store.errors import CaseNotFound, ConcurrencyConflict, StoreError
from store.kpi_projection import upsert_kpi_facts
from store.models import CaseRow, EventRow, NotificationRow
from store.projections import upsert_case

log = structlog.get_logger(__name__)

_COMPARED = ("type", "schema_version", "data", "actor_id", "actor_role", "actor_unit")

# Built once: SQLAlchemy caches their compiled form (appends are the hot path).
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:case_id, 7))")
_STREAM = (
    select(*EVENT_COLUMNS)
    .where(EventRow.case_id == bindparam("case_id"))
    .order_by(EventRow.version)
)
_INSERT_EVENTS = pg_insert(EventRow)
_INSERT_NOTICES = pg_insert(NotificationRow).on_conflict_do_nothing()


@dataclass(frozen=True)
class Notice:
    """A notification for supervision, written with the event that triggers it."""

    event_version: int
    kind: str
    audience: str
    message: str
    data: dict[str, Any]


@dataclass(frozen=True)
class AppendOutcome:
    version: int  # the stream's version after the call
    appended: int  # 0 when the call was an idempotent repeat


class EventStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        case_id: str,
        expected_version: int,
        records: Sequence[dict[str, Any]],
        notices: Sequence[Notice] = (),
    ) -> AppendOutcome:
        if not records:
            raise StoreError("append needs at least one event")
        checked = [
            self._check_record(case_id, expected_version + i, r) for i, r in enumerate(records, 1)
        ]
        values = [v for v, _ in checked]
        try:
            with Session(self.engine) as session, session.begin():
                # One writer per stream at a time; other cases are not blocked.
                session.execute(_LOCK, {"case_id": case_id})
                stored = session.execute(_STREAM, {"case_id": case_id}).all()
                current = stored[-1].version if stored else 0
                if current != expected_version:
                    return self._repeat_or_conflict(
                        case_id, expected_version, current, stored, values
                    )
                session.execute(_INSERT_EVENTS, values)
                # The projection is the fold of the whole stream: the same code as a rebuild.
                events = [row_to_event(r) for r in stored] + [event for _, event in checked]
                state = fold(case_id, events)
                upsert_case(session, state)
                upsert_kpi_facts(session, events, state.version)
                if notices:
                    session.execute(
                        _INSERT_NOTICES,
                        [
                            {
                                "case_id": case_id,
                                "event_version": n.event_version,
                                "kind": n.kind,
                                "audience": n.audience,
                                "message": n.message,
                                "data": n.data,
                            }
                            for n in notices
                        ],
                    )
        except IntegrityError as exc:  # a writer that bypassed the lock
            raise ConcurrencyConflict(case_id, expected_version, -1, str(exc.orig)) from None
        log.info(
            "events_appended",
            case_id=case_id,
            version=state.version,
            types=[v["type"] for v in values],
        )
        return AppendOutcome(version=state.version, appended=len(values))

    def _check_record(
        self, case_id: str, version: int, record: dict[str, Any]
    ) -> tuple[dict[str, Any], Event]:
        if record.get("case_id") != case_id:
            raise StoreError(f"event for case {record.get('case_id')!r} appended to {case_id!r}")
        if record.get("version") != version:
            raise StoreError(
                f"case {case_id}: event versions must run on from the expected version "
                f"(wanted {version}, got {record.get('version')})"
            )
        event = from_record(record)  # refuses anything the domain could not read back
        values = record_to_row_values(record)
        values["occurred_at"] = event.occurred_at
        return values, event

    def _repeat_or_conflict(
        self,
        case_id: str,
        expected: int,
        current: int,
        stored: Sequence[Any],
        values: list[dict[str, Any]],
    ) -> AppendOutcome:
        last = expected + len(values)
        if current >= last:
            at_versions = [r for r in stored if expected < r.version <= last]
            if all(_same(row, v) for row, v in zip(at_versions, values, strict=True)):
                log.info("append_repeated", case_id=case_id, version=current, events=len(values))
                return AppendOutcome(version=current, appended=0)
            raise ConcurrencyConflict(
                case_id, expected, current, "different events are stored at those versions"
            )
        raise ConcurrencyConflict(case_id, expected, current)

    def events(self, case_id: str) -> list[Event]:
        with Session(self.engine) as session:
            return [row_to_event(r) for r in session.execute(_STREAM, {"case_id": case_id})]

    def records(self, case_id: str) -> list[dict[str, Any]]:
        """The stream as stored, with the log position and recording time."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.version)
            ).scalars()
            return [
                row_to_record(r)
                | {"position": r.position, "recorded_at": r.recorded_at.isoformat()}
                for r in rows
            ]

    def state(self, case_id: str) -> CaseState:
        events = self.events(case_id)
        if not events:
            raise CaseNotFound(case_id)
        return fold(case_id, events)

    def case(self, case_id: str) -> dict[str, Any]:
        """The case's projection row."""
        with Session(self.engine) as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                raise CaseNotFound(case_id)
            return {c.name: getattr(row, c.name) for c in CaseRow.__table__.columns}


def _same(row: EventRow, values: dict[str, Any]) -> bool:
    return all(getattr(row, k) == values[k] for k in _COMPARED) and (
        row.occurred_at == values["occurred_at"]
    )
