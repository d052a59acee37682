"""`gridcase case <step>`: one command per person's step, derived from its declaration
(``domain.steps``): its CLI name, the case id, `--as`, one option per input the step
declares (its CLI spelling, help, default; a yes/no input as its flag pair such as
`--approve/--deny`; photos as a repeatable `--photo`; an enum as its choices), and
`--idempotency-key`. Nothing here is written per step.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from domain.inputs import InputField
from domain.roles import ROLE_LABELS_ZH
from domain.steps import UPDATE_STEPS, Step

# (case id, --as, the step, the values filled in by field name, --idempotency-key)
Act = Callable[[str, str, Step, dict[str, Any], str | None], None]

AS_HELP = (
    "Who acts, as role:id\\[@unit], e.g. shift_leader:lead-01 or handler:h-07@sanitation. "
    "A registered user (`gridcase users`) acts with his role and units."
)
KEY_HELP = (
    "Makes the step safe to retry: the same key answers the first result and records "
    "nothing new. A new one is made for each command when not given (and printed when "
    "the step could not be sent, to retry with)."
)


def _option(f: InputField) -> tuple[Any, Any]:
    """The parameter's annotation and default for input ``f``."""
    if f.type is bool:
        assert f.flags is not None, f"{f.name}: a yes/no input needs its flag pair"
        spelled = "/".join(f.flags)
        annotation: Any = Annotated[bool, typer.Option(spelled, help=f.help)]
    elif f.type == tuple[str, ...]:
        help_ = f"{f.help}" if "repeatable" in f.help else f"{f.help} (repeatable)"
        annotation = Annotated[list[str] | None, typer.Option(f.option, help=help_)]
        return annotation, None
    elif isinstance(f.type, type) and issubclass(f.type, enum.Enum):
        annotation = Annotated[f.type, typer.Option(f.option, help=f.help)]
    elif f.type is str:
        annotation = Annotated[str, typer.Option(f.option, help=f.help)]
    else:
        raise TypeError(f"no CLI option for input {f.name} of type {f.type!r}")
    if f.required:
        return annotation, inspect.Parameter.empty
    return annotation, "" if f.default is dataclasses.MISSING else f.default


def _help(step: Step) -> str:
    doc = " ".join((step.command.__doc__ or "").split()).replace("``", "`")
    if step.zh not in doc:
        doc = f"{step.zh}: {doc}"
    roles = ", ".join(f"{ROLE_LABELS_ZH[r]} {r.value}" for r in sorted(step.roles))
    return f"{doc}\n\nWho: {roles}."


def step_command(step: Step, act: Act) -> Callable[..., None]:
    """The typer command of ``step``: a function whose signature typer reads."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(
            "case_id",
            keyword,
            annotation=Annotated[str, typer.Argument(help="Case id (the report id)")],
        ),
        inspect.Parameter(
            "as_", keyword, annotation=Annotated[str, typer.Option("--as", help=AS_HELP)]
        ),
    ]
    for f in step.inputs:
        annotation, default = _option(f)
        params.append(inspect.Parameter(f.name, keyword, annotation=annotation, default=default))
    params.append(
        inspect.Parameter(
            "idempotency_key",
            keyword,
            annotation=Annotated[str | None, typer.Option("--idempotency-key", help=KEY_HELP)],
            default=None,
        )
    )

    def command(**given: Any) -> None:
        values = {}
        for f in step.inputs:
            value = given[f.name]
            if f.type == tuple[str, ...]:
                value = tuple(value or ())
            values[f.name] = value
        act(given["case_id"], given["as_"], step, values, given["idempotency_key"])

    command.__name__ = step.name
    command.__doc__ = _help(step)
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def register(case_app: typer.Typer, act: Act) -> None:
    """Add every person's step to `gridcase case`."""
    for step in UPDATE_STEPS.values():
        case_app.command(step.cli)(step_command(step, act))
