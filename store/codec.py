"""Event rows to domain events and back (the JSON shape is ``domain.codec``'s record)."""

from __future__ import annotations

from typing import Any

from domain.codec import from_record
from domain.events import Event
from store.models import EventRow

# The columns an event is read back from (plain rows: folds read every event there is).
EVENT_COLUMNS = (
    EventRow.case_id,
    EventRow.version,
    EventRow.type,
    EventRow.schema_version,
    EventRow.data,
    EventRow.actor_id,
    EventRow.actor_role,
    EventRow.actor_unit,
    EventRow.occurred_at,
)


def record_to_row_values(record: dict[str, Any]) -> dict[str, Any]:
    actor = record["actor"]
    return {
        "case_id": record["case_id"],
        "version": record["version"],
        "type": record["type"],
        "schema_version": record["schema_version"],
        "data": record["data"],
        "actor_id": actor["id"],
        "actor_role": actor["role"],
        "actor_unit": actor.get("unit", ""),
        "occurred_at": record["occurred_at"],
    }


def row_to_record(row: Any) -> dict[str, Any]:
    """An EventRow, or a plain row with the same columns."""
    return {
        "type": row.type,
        "schema_version": row.schema_version,
        "case_id": row.case_id,
        "version": row.version,
        "occurred_at": row.occurred_at.isoformat(),
        "actor": {"id": row.actor_id, "role": row.actor_role, "unit": row.actor_unit},
        "data": row.data,
    }


def row_to_event(row: Any) -> Event:
    """An event from an EventRow or a plain row with the same columns (no ISO round trip)."""
    return from_record(
        {
            "type": row.type,
            "schema_version": row.schema_version,
            "case_id": row.case_id,
            "version": row.version,
            "occurred_at": row.occurred_at,
            "actor": {"id": row.actor_id, "role": row.actor_role, "unit": row.actor_unit},
            "data": row.data,
        }
    )
