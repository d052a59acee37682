"""What a person fills in for a command, described on the command's own fields.

Each field of a command dataclass carries an :class:`Input` in its metadata (``ask`` for
what the user fills in, ``by_application`` for what the application fills, such as the
acting user or routing's suggestion), so an API body or a CLI command can be derived from
the command instead of being written again beside it. :func:`input_fields` lists the
user-filled fields with their types, defaults, help, examples, CLI spelling and text rule.

A text field's rule (``domain.text.TextRule``: length, one line or free text) is declared
here too, once: the API's bodies and the CLI check it at the edge, and :func:`check_inputs`
(called by the decider) checks it again on the command, whoever built it. Dataclasses a
command carries (the actor, a location) declare theirs with :func:`texts`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidCommand
from domain.text import TextRule, items_problem, text_problem

INPUT = "gridcase.input"
TEXT = "gridcase.text"


@dataclass(frozen=True)
class Input:
    help: str
    # A bool's CLI flag pair, true first: ("--pass", "--fail").
    flags: tuple[str, str] | None = None
    # The CLI option when it is not --<field-name-with-dashes> (e.g. a reply is --text).
    option: str = ""
    # Filled by the application, never asked of the user (the actor, routing's suggestion).
    by_application: bool = False
    # The user may leave it empty and the application proposes a value (dispatch's
    # department: routing's suggestion).
    proposed: bool = False
    # What a text (or each text of a list) may hold; None for other types.
    text: TextRule | None = None
    examples: tuple[str, ...] = ()  # shown in the API's documentation


def ask(
    help: str,
    *,
    flags: tuple[str, str] | None = None,
    option: str = "",
    proposed: bool = False,
    text: TextRule | None = None,
    examples: tuple[str, ...] = (),
) -> Mapping[str, Any]:
    """Metadata of a field the user fills in (``text``: its rule, for a text field)."""
    about = Input(help, flags=flags, option=option, proposed=proposed, text=text, examples=examples)
    return {INPUT: about, TEXT: text} if text else {INPUT: about}


def by_application(help: str, *, text: TextRule | None = None) -> Mapping[str, Any]:
    """Metadata of a field the application fills, never the user."""
    about = Input(help, by_application=True, text=text)
    return {INPUT: about, TEXT: text} if text else {INPUT: about}


def texts(rule: TextRule) -> Mapping[str, TextRule]:
    """Metadata of a text field of a dataclass a command carries (an actor, a location)."""
    return {TEXT: rule}


@dataclass(frozen=True)
class InputField:
    """One field a user fills in for a command."""

    name: str
    type: Any  # the annotation: str, bool, tuple[str, ...], SupervisionLevel, Location | None
    # Must the user give it? Not when it has a default or the application proposes one.
    required: bool
    default: Any  # dataclasses.MISSING when the command has none
    help: str
    flags: tuple[str, str] | None
    option: str  # the CLI option, e.g. "--note", "--text"
    proposed: bool
    text: TextRule | None
    examples: tuple[str, ...]


def described(cls: type) -> dict[str, Input]:
    """Every field of dataclass ``cls`` with its Input (a field without one is an error)."""
    found = {}
    for f in dataclasses.fields(cls):
        about = f.metadata.get(INPUT)
        if not isinstance(about, Input):
            raise LookupError(f"{cls.__name__}.{f.name} has no Input in its metadata")
        found[f.name] = about
    return found


def rule_of(cls: type, name: str) -> TextRule:
    """The text rule field ``name`` of dataclass ``cls`` declares (a KeyError if none)."""
    for f in dataclasses.fields(cls):
        if f.name == name and isinstance(f.metadata.get(TEXT), TextRule):
            rule: TextRule = f.metadata[TEXT]
            return rule
    raise KeyError(f"{cls.__name__}.{name} declares no text rule")


def input_fields(cls: type) -> tuple[InputField, ...]:
    """The fields of command ``cls`` a user fills in, in declaration order."""
    hints = typing.get_type_hints(cls)
    about = described(cls)
    fields = []
    for f in dataclasses.fields(cls):
        a = about[f.name]
        if a.by_application:
            continue
        default: Any = f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        required = default is dataclasses.MISSING and not a.proposed
        fields.append(
            InputField(
                name=f.name,
                type=hints[f.name],
                required=required,
                default=default,
                help=a.help,
                flags=a.flags,
                option=a.option or "--" + f.name.replace("_", "-"),
                proposed=a.proposed,
                text=a.text,
                examples=a.examples,
            )
        )
    return tuple(fields)


def field_problem(value: object, rule: TextRule) -> str | None:
    """What is wrong with a value under a field's rule: a text, or a list of texts."""
    if rule.max_items:
        return items_problem(value, rule)
    return text_problem(value, rule)


def check_inputs(value: object, where: str = "") -> None:
    """Refuse (``InvalidCommand``, naming the field) a text of ``value`` that breaks its
    field's rule; dataclasses it carries (the actor, a location) are checked as well."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    for f in dataclasses.fields(value):
        inner = getattr(value, f.name)
        name = f"{where}{f.name}"
        rule = f.metadata.get(TEXT)
        if isinstance(rule, TextRule):
            problem = field_problem(inner, rule)
            if problem is not None:
                raise InvalidCommand(f"{name} {problem}")
        elif dataclasses.is_dataclass(inner) and _has_texts(type(inner)):
            check_inputs(inner, f"{name}.")


def _has_texts(cls: type) -> bool:
    return any(TEXT in f.metadata for f in dataclasses.fields(cls))
