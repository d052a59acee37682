"""Events to and from plain JSON-ready records, with upcasters for old schema versions.

A record is what the event store keeps and what crosses the workflow/activity boundary:
``{"type", "schema_version", "case_id", "version", "occurred_at", "actor", "data"}``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from domain.calendar import TimeLimit
from domain.events import Event, event_class, payload_fields
from domain.roles import Actor
from domain.rules import CaseRules, rules_from_seconds

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
    if isinstance(value, TimeLimit):
        return str(value)  # "30 minutes": limits are recorded as text
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


Decoder = Callable[[Any], Any]
_DECODERS: dict[Any, Decoder] = {}
# Rules repeat across cases (same policy, category and calendar): decode each once.
_RULES_CACHE: dict[str, CaseRules] = {}


def _identity(value: Any) -> Any:
    return value


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def decoder(tp: Any) -> Decoder:
    """A function turning the JSON-ready form of ``tp`` back into ``tp`` (built once)."""
    found = _DECODERS.get(tp)
    if found is None:
        found = _DECODERS[tp] = _build(tp)
    return found


def _build(tp: Any) -> Decoder:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        inner_decode = decoder(inner)
        return lambda v: None if v is None else inner_decode(v)
    if origin is tuple:
        item = decoder(typing.get_args(tp)[0])
        return lambda v: tuple(item(x) for x in v)
    if origin is list:
        item = decoder(typing.get_args(tp)[0])
        return lambda v: [item(x) for x in v]
    if origin is dict:
        key_tp, value_tp = typing.get_args(tp)
        dk, dv = decoder(key_tp), decoder(value_tp)
        if dk is _identity and dv is _identity:
            return dict
        return lambda v: {dk(k): dv(x) for k, x in v.items()}
    if tp is datetime:
        return _datetime
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if tp is TimeLimit:
        return _time_limit
    if tp is CaseRules:
        return _decode_rules
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda v: from_dict(tp, v)
    if tp is float:
        return _float
    return _identity


def _time_limit(value: Any) -> TimeLimit:
    return value if isinstance(value, TimeLimit) else TimeLimit.parse(value)


def _decode_rules(value: Any) -> CaseRules:
    if isinstance(value, CaseRules):
        return value
    key = json.dumps(value, sort_keys=True)
    found = _RULES_CACHE.get(key)
    if found is None:
        if len(_RULES_CACHE) > 4096:
            _RULES_CACHE.clear()
        found = _RULES_CACHE[key] = CaseRules.from_dict(value)
    return found


def decode(tp: Any, value: Any) -> Any:
    """The inverse of :func:`encode`, guided by the type annotation ``tp``."""
    return decoder(tp)(value)


_FIELDS: dict[type, dict[str, Decoder]] = {}


def _field_decoders(cls: type) -> dict[str, Decoder]:
    found = _FIELDS.get(cls)
    if found is None:
        hints = _hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        found = _FIELDS[cls] = {name: decoder(hints[name]) for name in names}
    return found


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a JSON-ready mapping; unknown keys are refused."""
    fields = _field_decoders(cls)
    try:
        return cls(**{k: fields[k](v) for k, v in data.items()})
    except KeyError:
        unknown = set(data) - set(fields)
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}") from None


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
    fields = _field_decoders(cls)
    try:
        payload = {k: fields[k](v) for k, v in data.items()}
    except KeyError:
        unknown = set(data) - set(fields)
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}") from None
    return cls(
        case_id=record["case_id"],
        version=int(record["version"]),
        occurred_at=_datetime(record["occurred_at"]),
        actor=_actor(record["actor"]),
        **payload,
    )


_ACTORS: dict[tuple[str, str, str], Actor] = {}


def _actor(value: Any) -> Actor:
    if isinstance(value, Actor):
        return value
    key = (value["id"], value["role"], value.get("unit", ""))
    found = _ACTORS.get(key)
    if found is None:
        if len(_ACTORS) > 65536:
            _ACTORS.clear()
        found = _ACTORS[key] = from_dict(Actor, value)
    return found
