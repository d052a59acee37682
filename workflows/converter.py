"""The one data converter every Temporal client of gridcase uses (workers, CLI, API, stack,
tests, benchmarks): the SDK's default, with time limits on the wire as their text form.

Why: the case's rules hold parsed ``TimeLimit`` values, and they cross the workflow
boundary inside ``CaseInput.report`` and the ``report`` query. The default converter would
write a limit as ``{"amount": 30.0, "unit": "minutes"}`` and cannot read the ``"30
minutes"`` strings of histories recorded before the rules were parsed. Here a limit is
written as that string (so histories look as they always did, and a worker of the previous
release still reads new ones) and read from either form.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
)

from domain.calendar import TimeLimit, TimeUnit


class _Encoder(AdvancedJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, TimeLimit):
            return str(o)
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            # One level at a time (not dataclasses.asdict, which would turn a nested
            # TimeLimit into a dict before this method could see it).
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        return super().default(o)


class _TimeLimits(JSONTypeConverter):
    def to_typed_value(self, hint: type, value: Any) -> Any:
        if hint is not TimeLimit:
            return JSONTypeConverter.Unhandled
        if isinstance(value, str):
            return TimeLimit.parse(value)
        if isinstance(value, dict):  # written by a client without this converter
            return TimeLimit(float(value["amount"]), TimeUnit(value["unit"]))
        raise TypeError(f"cannot read a time limit from {value!r}")


class PayloadConverter(CompositePayloadConverter):
    """The default payload converters, with gridcase's JSON converter in place of plain JSON."""

    def __init__(self) -> None:
        json_converter = JSONPlainPayloadConverter(
            encoder=_Encoder, custom_type_converters=[_TimeLimits()]
        )
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = dataclasses.replace(
    DataConverter.default, payload_converter_class=PayloadConverter
)


async def connect(target: str, namespace: str = "default") -> Client:
    """A client with gridcase's data converter (the only way gridcase connects)."""
    return await Client.connect(target, namespace=namespace, data_converter=DATA_CONVERTER)
