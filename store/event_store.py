"""The event store: per-case streams in one append-only PostgreSQL table. The write side
only: appends, a case's events, records and state, and its projection row (which the merge
activity checks); every list, board and count is in ``application.read_models``.

``append`` is optimistic (expected version) and idempotent: appending exactly the events
already stored at those versions is a no-op, so a retried activity writes nothing twice.
The projections (``store.projections.projection_writes``) and any notices are written in
the same transaction as the events. An append is two round trips to PostgreSQL whatever
it writes: the lock with the stream's read, then every write with the commit
(``store.writes``: psycopg's pipeline mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from domain.case import CaseState, fold
from domain.codec import from_record
from domain.events import Event
from store.codec import EVENT_COLUMNS, record_to_row_values, row_to_event, row_to_record
from store.errors import AppendRefused, CaseNotFound, ConcurrencyConflict, DataRefused, StoreError
from store.models import CaseRow, EventRow
from store.projections import projection_writes
from store.requests import StepRequestRecord, request_write
from store.writes import INSERT_EVENTS, INSERT_NOTICES, Write, compiled, driver_connection

log = structlog.get_logger(__name__)

INSUFFICIENT_PRIVILEGE = "42501"  # also a row refused by row-level security
_COMPARED = ("type", "schema_version", "data", "actor_id", "actor_role", "actor_unit")

# Built once: SQLAlchemy caches their compiled form (appends are the hot path).
_STREAM = (
    select(*EVENT_COLUMNS)
    .where(EventRow.case_id == bindparam("case_id"))
    .order_by(EventRow.version)
)
# The append's own statements, for psycopg directly (store.writes).
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%(case_id)s, 7))"
_STREAM_SQL = compiled(_STREAM)


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
        request: StepRequestRecord | None = None,
    ) -> AppendOutcome:
        """Append ``records`` after ``expected_version``, with their notices and the
        request of the person's step they answer (``store.requests``)."""
        if not records:
            raise StoreError("append needs at least one event")
        checked = [
            self._check_record(case_id, expected_version + i, r) for i, r in enumerate(records, 1)
        ]
        try:
            return self._append(case_id, expected_version, checked, notices, request)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server closed a pooled connection (a restart): once more on a new one.
            # Safe: had the first attempt committed, this one finds its events (a repeat).
            log.warning("append_reconnecting", case_id=case_id, error=str(exc.orig))
            return self._append(case_id, expected_version, checked, notices, request)

    def _append(
        self,
        case_id: str,
        expected_version: int,
        checked: list[tuple[dict[str, Any], Event]],
        notices: Sequence[Notice],
        request: StepRequestRecord | None,
    ) -> AppendOutcome:
        values = [v for v, _ in checked]
        try:
            with driver_connection(self.engine) as conn, conn.pipeline():
                # Round trip 1: one writer per stream at a time (other cases are not
                # blocked), and the stream as it stands under that lock.
                conn.execute(_LOCK_SQL, {"case_id": case_id})
                stream = conn.cursor(row_factory=namedtuple_row)
                stored: list[Any] = stream.execute(_STREAM_SQL, {"case_id": case_id}).fetchall()
                current = stored[-1].version if stored else 0
                if current != expected_version:
                    conn.rollback()
                    return self._repeat_or_conflict(
                        case_id, expected_version, current, stored, values
                    )
                # The projections are the fold of the whole stream: the same code as a rebuild.
                new = [event for _, event in checked]
                state = fold(case_id, [*(row_to_event(r) for r in stored), *new])
                # Round trip 2: the events, the projections and the notices, then commit.
                for write in _writes(case_id, values, state, new, notices, request):
                    write.run(conn)
                conn.commit()
        except IntegrityError as exc:  # a writer that bypassed the lock
            raise ConcurrencyConflict(case_id, expected_version, -1, str(exc.orig)) from None
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                raise
            reason = str(exc.orig).splitlines()[0]
            role = self.engine.url.username or "(default)"
            raise AppendRefused(case_id, [v["type"] for v in values], role, reason) from None
        except DataError as exc:  # permanent: the same values would be refused again
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
            raise DataRefused(f"case {case_id}: PostgreSQL refused the events: {reason}") from None
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
        try:
            event = from_record(record)  # refuses anything the domain could not read back
        except (LookupError, TypeError, ValueError) as exc:
            raise DataRefused(
                f"case {case_id}: event {record.get('type')!r} v{version} cannot be read back: "
                f"{exc}"
            ) from None
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


def _writes(
    case_id: str,
    values: list[dict[str, Any]],
    state: CaseState,
    events: Sequence[Event],
    notices: Sequence[Notice],
    request: StepRequestRecord | None,
) -> list[Write]:
    """An append's statements: its events, every projection, its notices, and the
    request of the person's step they answer (``store.requests``)."""
    notice_rows = [
        {
            "case_id": case_id,
            "event_version": n.event_version,
            "kind": n.kind,
            "audience": n.audience,
            "message": n.message,
            "data": n.data,
        }
        for n in notices
    ]
    return [
        Write(INSERT_EVENTS, values),
        *projection_writes(state, events),
        Write(INSERT_NOTICES, notice_rows),
        *([] if request is None else [request_write(state, [v["type"] for v in values], request)]),
    ]


def _same(row: Any, values: dict[str, Any]) -> bool:
    return all(getattr(row, k) == values[k] for k in _COMPARED) and (
        row.occurred_at == values["occurred_at"]
    )
