"""How a step of a case is declared: once, on top of its decision.

A step is one command and everything that used to be a table keyed by command or event
type: its name (the workflow update and the API path), its CLI name, its labels, the roles
that may take it, the stages it needs, its side (supervision or disposal: which worker
records its events), whether a person or the engine takes it, the events it emits with
their labels and notices, what it requires of the case and the actor before any input is
looked at (``requires``), what it requires of the input beyond each field's own rule
(``checks``: a report's source for its reporter's role, an extension's bounds), and the
decision itself. ``domain.steps`` collects the declarations; the decider, the workflow's
routing, the timeline's labels and the notices are derived from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, TypedDict, TypeVar

from domain.commands import Command
from domain.events import Event
from domain.inputs import InputField, input_fields
from domain.roles import Actor, Role
from domain.stages import Stage
from domain.state import CaseState

C = TypeVar("C", bound=Command)


class Side(StrEnum):
    """监督与处置相分离: the side that records a step's events (its own task queue, worker
    process and database credentials)."""

    SUPERVISION = "supervision"  # 监督
    DISPOSAL = "disposal"  # 处置


class Audience(StrEnum):
    SUPERVISION = "supervision"  # the supervision center
    DEPARTMENT = "department"  # the department named in the event's ``department``


@dataclass(frozen=True)
class Notify:
    """A notice an event leaves, written in the same transaction (the outbox).

    ``text`` is a ``str.format`` template over the event's recorded data and ``case_id``;
    ``keys`` are the data fields the notice carries.
    """

    kind: str
    audience: Audience
    text: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Emits:
    """An event a step emits, with its labels for people and the notice it leaves."""

    event: type[Event]
    zh: str
    en: str
    notify: Notify | None = None

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"


Requirement = Callable[[CaseState, Actor], None]
InputCheck = Callable[[CaseState, Any, datetime], None]
Decision = Callable[[CaseState, Any, datetime], list[Event]]


def nothing_required(state: CaseState, actor: Actor) -> None:
    return None


def no_input_check(state: CaseState, command: Any, now: datetime) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Step:
    command: type[Command]
    name: str  # the workflow update and API path: "file", "sign_for", "record_verification"
    zh: str
    en: str
    roles: frozenset[Role]
    stages: frozenset[Stage] | None  # None: the report, which needs no case yet
    side: Side
    human: bool  # taken by a person (else only by the engine)
    emits: tuple[Emits, ...]
    # What the case and the actor must be, whatever the input (raises a DomainError).
    requires: Requirement
    # The events of the command, after role, stage and ``requires`` were checked.
    decide: Decision
    cli_name: str = ""  # `gridcase case <cli>`, when not the name with dashes
    # The input beyond each field's rule (raises InvalidCommand); see domain.case.decide.
    checks: InputCheck = no_input_check

    @property
    def label(self) -> str:
        """How refusals name the step: "file (立案)"."""
        return f"{self.en} ({self.zh})"

    @property
    def cli(self) -> str:
        return self.cli_name or self.name.replace("_", "-")

    @property
    def starts_case(self) -> bool:
        return self.stages is None

    @property
    def is_update(self) -> bool:
        """A person's step on a running case: a workflow update of this name."""
        return self.human and not self.starts_case

    @cached_property
    def event_types(self) -> frozenset[type[Event]]:
        return frozenset(emitted.event for emitted in self.emits)

    @cached_property
    def inputs(self) -> tuple[InputField, ...]:
        """What the user fills in (help, type, default, CLI option or flag pair)."""
        return input_fields(self.command)


_DECLARED: list[Step] = []


def step(
    command: type[C],
    name: str,
    *,
    zh: str,
    en: str,
    roles: Iterable[Role],
    stages: Iterable[Stage] | None,
    side: Side,
    emits: Sequence[Emits],
    human: bool = True,
    cli: str = "",
    requires: Requirement = nothing_required,
    checks: InputCheck = no_input_check,
) -> Callable[
    [Callable[[CaseState, C, datetime], list[Event]]],
    Callable[[CaseState, C, datetime], list[Event]],
]:
    """Declare the step of ``command`` on its decision function."""

    def declare(
        decide: Callable[[CaseState, C, datetime], list[Event]],
    ) -> Callable[[CaseState, C, datetime], list[Event]]:
        _DECLARED.append(
            Step(
                command=command,
                name=name,
                zh=zh,
                en=en,
                roles=frozenset(roles),
                stages=None if stages is None else frozenset(stages),
                side=side,
                human=human,
                emits=tuple(emits),
                requires=requires,
                decide=decide,
                cli_name=cli,
                checks=checks,
            )
        )
        return decide

    return declare


def declared() -> tuple[Step, ...]:
    return tuple(_DECLARED)


class Envelope(TypedDict):
    """What every event carries besides its own fields."""

    case_id: str
    version: int
    occurred_at: datetime
    actor: Actor


def stamp(state: CaseState, actor: Actor, now: datetime, nth: int = 1) -> Envelope:
    """The envelope of the ``nth`` event a decision emits: ``Event(**stamp(...), ...)``."""
    return {
        "case_id": state.case_id,
        "version": state.version + nth,
        "occurred_at": now,
        "actor": actor,
    }
