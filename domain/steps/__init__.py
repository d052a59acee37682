"""Every step of a case, each declared once on its decision (``declaration.step``), and what
is derived from them: the step of a command, the steps a person takes as workflow updates,
and per event type its labels, notice, emitting step and side.

The declarations live beside their decisions: ``intake`` (report, verify, file, reject,
merge), ``disposal`` (dispatch, the department's steps, the center's answers), ``closing``
(check, close, cancel) and ``oversight`` (urge, supervise, the clock's marks).
"""

from __future__ import annotations

from domain import commands as c
from domain.steps import closing, disposal, intake, oversight
from domain.steps.declaration import (
    Audience,
    Emits,
    Envelope,
    Notify,
    Side,
    Step,
    declared,
    stamp,
)

__all__ = [
    "EMITS",
    "STEPS",
    "UPDATE_STEPS",
    "Audience",
    "Emits",
    "Envelope",
    "Notify",
    "Side",
    "Step",
    "emitting_step",
    "stamp",
    "step_named",
    "step_of",
]

# Importing them declares their steps; listed in the order of the process.
_MODULES = [m.__name__ for m in (intake, disposal, closing, oversight)]

STEPS: tuple[Step, ...] = tuple(
    sorted(declared(), key=lambda s: _MODULES.index(s.decide.__module__))  # stable: in-module order
)
# A person's steps on a running case, by update name (the API path and workflow update).
UPDATE_STEPS: dict[str, Step] = {s.name: s for s in STEPS if s.is_update}

_BY_COMMAND: dict[type[c.Command], Step] = {s.command: s for s in STEPS}
_BY_NAME: dict[str, Step] = {s.name: s for s in STEPS}
if not len(STEPS) == len(_BY_COMMAND) == len(_BY_NAME):
    raise ValueError("a command or a step name is declared twice")
_EMITTER: dict[str, Step] = {}
# Each event type's labels and notice, by type name ("CaseFiled").
EMITS: dict[str, Emits] = {}
for _step in STEPS:
    for _emitted in _step.emits:
        _type = _emitted.event.__name__
        if _type in EMITS:
            # One declaration per event type: its labels, notice and side say it once.
            raise ValueError(
                f"{_type} is declared by steps {_EMITTER[_type].name} and {_step.name}"
            )
        EMITS[_type] = _emitted
        _EMITTER[_type] = _step


def step_of(command: c.Command | type[c.Command]) -> Step:
    kind = command if isinstance(command, type) else type(command)
    try:
        return _BY_COMMAND[kind]
    except KeyError:
        raise LookupError(f"{kind.__name__} is not a declared step") from None


def step_named(name: str) -> Step:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a step of a case") from None


def emitting_step(event_type: str) -> Step:
    """The step that emits events of ``event_type`` (its side records them)."""
    try:
        return _EMITTER[event_type]
    except KeyError:
        raise LookupError(f"no step emits {event_type!r}") from None
