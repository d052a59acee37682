"""Events to and from plain JSON-ready records, with upcasters for old schema versions.

A record is what the event store keeps and what crosses the workflow/activity boundary:
``{"type", "schema_version", "case_id", "version", "occurred_at", "actor", "data"}``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from domain.events import Event, event_class, payload_fields
from domain.roles import Actor
from domain.rules import rules_from_seconds

T = TypeVar("T")

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _case_reported_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 had per-stage plain seconds; schema 2 records the case's full rules."""
    upgraded = {k: v for k, v in data.items() if k != "stage_limits"}
    upgraded["rules"] = encode(rules_from_seconds(data.get("stage_limits") or {}))
    return upgraded


# (event type, schema version it reads) -> function returning the data at version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("CaseReported", 1): _case_reported_1_to_2,
}


def encode(value: Any) -> Any:
    """A JSON-ready form of a domain value (dataclass, enum, datetime, tuple …)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: domain times are timezone-aware")
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(encode(k)): encode(v) for k, v in value.items()}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def decode(tp: Any, value: Any) -> Any:
    """The inverse of :func:`encode`, guided by the type annotation ``tp``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return decode(inner, value)
    if origin is tuple:
        (inner, *_) = typing.get_args(tp)
        return tuple(decode(inner, v) for v in value)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return [decode(inner, v) for v in value]
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        return {decode(key_tp, k): decode(value_tp, v) for k, v in value.items()}
    if tp is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a JSON-ready mapping; unknown keys are refused."""
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    return cls(**{k: decode(hints[k], v) for k, v in data.items()})


def to_record(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "schema_version": type(event).SCHEMA_VERSION,
        "case_id": event.case_id,
        "version": event.version,
        "occurred_at": encode(event.occurred_at),
        "actor": encode(event.actor),
        "data": encode(payload_fields(event)),
    }


def upcast(type_name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    current = event_class(type_name).SCHEMA_VERSION
    if schema_version > current:
        raise ValueError(
            f"{type_name} record has schema version {schema_version}, newer than this "
            f"code knows ({current}): upgrade gridcase before reading it"
        )
    while schema_version < current:
        data = UPCASTERS[(type_name, schema_version)](data)
        schema_version += 1
    return data


def from_record(record: Mapping[str, Any]) -> Event:
    cls = event_class(record["type"])
    data = upcast(record["type"], int(record.get("schema_version", 1)), dict(record["data"]))
    envelope = {
        "case_id": record["case_id"],
        "version": int(record["version"]),
        "occurred_at": decode(datetime, record["occurred_at"]),
        "actor": decode(Actor, record["actor"]),
    }
    hints = _hints(cls)
    return cls(**envelope, **{k: decode(hints[k], v) for k, v in data.items()})
