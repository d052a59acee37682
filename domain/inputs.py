"""What a person fills in for a command, described on the command's own fields.

Each field of a command dataclass carries an :class:`Input` in its metadata (``ask`` for
what the user fills in, ``by_application`` for what the application fills, such as the
acting user or routing's suggestion), so an API body or a CLI command can be derived from
the command instead of being written again beside it. :func:`input_fields` lists the
user-filled fields with their types, defaults, help and CLI spelling.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INPUT = "gridcase.input"


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


def ask(
    help: str,
    *,
    flags: tuple[str, str] | None = None,
    option: str = "",
    proposed: bool = False,
) -> Mapping[str, Input]:
    """Metadata of a field the user fills in."""
    return {INPUT: Input(help, flags=flags, option=option, proposed=proposed)}


def by_application(help: str) -> Mapping[str, Input]:
    """Metadata of a field the application fills, never the user."""
    return {INPUT: Input(help, by_application=True)}


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


def described(cls: type) -> dict[str, Input]:
    """Every field of dataclass ``cls`` with its Input (a field without one is an error)."""
    found = {}
    for f in dataclasses.fields(cls):
        about = f.metadata.get(INPUT)
        if not isinstance(about, Input):
            raise LookupError(f"{cls.__name__}.{f.name} has no Input in its metadata")
        found[f.name] = about
    return found


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
            )
        )
    return tuple(fields)
