"""The request body of every person's step, derived from its declaration: one pydantic
model per step (``FileBody``, ``DispatchBody``, …) whose fields are the step's inputs
(``domain.steps.Step.inputs``) with their types, defaults, help as descriptions, examples,
and each text's rule (``domain.text``) checked at the edge and shown in the schema.

Bodies forbid unknown fields: the actor is always the authenticated caller, so a body
that tries to name one (or misspells a field) is refused instead of silently ignored.
Nothing here is written per step: a step declared in the domain has its body.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from application.steps import command_for
from domain import commands as c
from domain.inputs import InputField, field_problem
from domain.roles import ROLE_LABELS_ZH
from domain.steps import UPDATE_STEPS, Step
from domain.text import TextRule, schema_pattern


class StepBody(BaseModel):
    """Base of the derived bodies; ``command`` is the step's command (actor: the caller
    placeholder the service replaces)."""

    model_config = ConfigDict(extra="forbid")
    step_name: ClassVar[str] = ""  # set on each derived body

    def command(self) -> c.Command:
        values = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in self.model_dump().items()
        }
        return command_for(UPDATE_STEPS[self.step_name], values)


def _checked(rule: TextRule) -> BeforeValidator:
    """The domain's check of a text field, before pydantic's own (so a lone surrogate or
    a NUL is named as such, not as "not a valid string")."""

    def check(value: Any) -> Any:
        if isinstance(value, str) or (rule.max_items and isinstance(value, list)):
            problem = field_problem(value, rule)
            if problem is not None:
                raise PydanticCustomError("invalid_text", "{problem}", {"problem": problem})
        return value

    return BeforeValidator(check)


def text_type(rule: TextRule, *, required: bool = False) -> Any:
    """A text under ``rule`` (its length in the schema), non-empty when ``required``."""
    limits = Field(
        max_length=rule.max_length,
        min_length=1 if required else None,
        json_schema_extra={"pattern": schema_pattern(rule)},  # checked by _checked
    )
    return Annotated[str, limits, _checked(rule)]


def texts_type(rule: TextRule) -> Any:
    """A list of texts under ``rule`` (photo references)."""
    return Annotated[
        list[
            Annotated[
                str,
                Field(
                    max_length=rule.max_length, json_schema_extra={"pattern": schema_pattern(rule)}
                ),
            ]
        ],
        Field(max_length=rule.max_items or None),
        _checked(rule),
    ]


def _annotation(f: InputField) -> Any:
    if f.type is bool:
        return bool
    if isinstance(f.type, type) and issubclass(f.type, enum.Enum):
        return f.type
    if f.text is not None and f.type is str:
        return text_type(f.text, required=f.required)
    if f.text is not None and f.type == tuple[str, ...]:
        return texts_type(f.text)
    raise TypeError(f"no body field for input {f.name} of type {f.type!r}")


def _default(f: InputField) -> Any:
    if f.required:
        return ...
    if f.default is dataclasses.MISSING:  # proposed by the application when left empty
        return ""
    return list(f.default) if isinstance(f.default, tuple) else f.default


def _title(step: Step) -> str:
    return "".join(word.capitalize() for word in step.name.split("_")) + "Body"


def describe(step: Step) -> str:
    """What the step does, who may take it and in which stages (for the documentation)."""
    doc = " ".join((step.command.__doc__ or "").split()).replace("``", "`")
    if step.zh not in doc:
        doc = f"{step.zh}: {doc}"
    roles = ", ".join(f"{ROLE_LABELS_ZH[r]} {r.value}" for r in sorted(step.roles))
    stages = ", ".join(sorted(s.value for s in step.stages or ()))
    return f"{doc} Who: {roles}. Stage: {stages}."


def body_model(step: Step) -> type[StepBody]:
    fields: dict[str, Any] = {}
    for f in step.inputs:
        examples = list(f.examples) or None
        fields[f.name] = (
            _annotation(f),
            Field(_default(f), description=f.help, examples=examples),
        )
    model: type[StepBody] = create_model(
        _title(step), __base__=StepBody, __module__=__name__, __doc__=describe(step), **fields
    )
    model.step_name = step.name
    return model


# Every person's step, by its name (the API path and workflow update).
STEP_BODIES: dict[str, type[StepBody]] = {name: body_model(s) for name, s in UPDATE_STEPS.items()}


def body_is_optional(model: type[StepBody]) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())
