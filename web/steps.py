"""The forms of a case's steps, derived from their declarations (``domain.steps``): which
steps the viewer may take now is ``domain.case.allowed_steps`` (the decider's own checks
of role, stage and standing, without any input: no button that would be refused), and
each form's controls are the fields the user fills in (``Step.inputs``), by their type:

- ``bool`` with a flag pair: two radio buttons (批准/不批准, 通过/不通过, …);
- ``tuple[str, ...]`` (photos): a file input, uploaded when the form is sent;
- an enum (督办 level): a choice of its values;
- ``str``: a choice where the case offers the values (the department, with routing's
  suggestion; the category's filing conditions; the merge candidates), else a text box.

A field of another type, or a field or flag without words here, is an error at import
(``tests/web/test_step_forms.py`` also builds every step's form).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from application.intake import Intake
from domain.case import CaseState, allowed_steps
from domain.errors import DomainError, WrongRole
from domain.inputs import InputField
from domain.stages import SupervisionLevel
from domain.steps import UPDATE_STEPS, Step
from store.users import Principal
from web.i18n import Lang
from web.names import Names

Kind = Literal["text", "textarea", "choice", "flags", "photos"]

# What each field is called, and the words of each flag pair (true, false).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "note": ("备注", "Note"),
    "reason": ("理由", "Reason"),
    "condition": ("立案条件", "Filing condition"),
    "into": ("并入案件", "Merge into"),
    "approve": ("审批结果", "Decision"),
    "department": ("处置部门", "Department"),
    "amount": ("延期时长", "More time"),
    "result": ("处理结果", "What was done"),
    "passed": ("核查结果", "Check result"),
    "confirmed": ("核实结果", "Verification"),
    "message": ("内容", "Message"),
    "level": ("督办级别", "Level"),
    "reply": ("回复内容", "Reply"),
    "assignee": ("核实网格员（用户名）", "Grid worker to verify (user id)"),
    "photos": ("照片", "Photos"),
}
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "--approve": ("批准", "Approve"),
    "--deny": ("不批准", "Deny"),
    "--pass": ("通过", "Passed"),
    "--fail": ("不通过（返工）", "Failed (rework)"),
    "--confirmed": ("属实", "Confirmed"),
    "--refuted": ("不属实", "Refuted"),
}
LONG_TEXT = frozenset({"note", "reason", "result", "message", "reply"})
HINTS: dict[str, tuple[str, str]] = {
    "amount": ("如：2工作日、4工作时", 'e.g. "2 working_days", "4 working_hours"'),
}
PHOTO_TYPES = "image/jpeg,image/png,image/webp"


@dataclass(frozen=True)
class Control:
    name: str
    kind: Kind
    label: str
    required: bool
    hint: str = ""
    value: str = ""  # the default or the value sent before
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)


@dataclass(frozen=True)
class StepForm:
    step: Step
    title: str
    controls: list[Control]

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def multipart(self) -> bool:
        return any(c.kind == "photos" for c in self.controls)


def routing_suggestion(intake: Intake, category: str, grid: str) -> str:
    """The department routing suggests for a dispatch, "" when it has none."""
    try:
        return intake.suggest_department(category, grid)
    except (DomainError, LookupError):
        return ""


@dataclass(frozen=True)
class CaseChoices:
    """What a case offers a form to choose from."""

    names: Names
    intake: Intake
    category: str = ""
    grid: str = ""
    candidates: Sequence[tuple[str, str]] = ()  # merge candidates: (case id, label)

    def suggested_department(self) -> str:
        return routing_suggestion(self.intake, self.category, self.grid)

    def conditions(self) -> list[tuple[str, str]]:
        try:
            category = self.intake.taxonomy.category(self.category)
        except LookupError:
            return []
        zh = self.names.lang == "zh"
        return [
            (
                c.id,
                f"{c.id} {c.description_zh if zh else c.description_en} · "
                f"{c.limit.label_zh if zh else str(c.limit).replace('_', ' ')}",
            )
            for c in category.conditions
        ]


def _words(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _kind(f: InputField) -> Kind:
    if f.type is bool:
        if f.flags is None:
            raise TypeError(f"{f.name}: a yes/no field needs its flag pair to be shown")
        return "flags"
    if f.type == tuple[str, ...]:
        return "photos"
    if isinstance(f.type, type) and issubclass(f.type, enum.Enum):
        return "choice"
    if f.type is str:
        return "textarea" if f.name in LONG_TEXT else "text"
    raise TypeError(f"{f.name}: no form control for a field of type {f.type!r}")


def control(f: InputField, choices: CaseChoices, sent: dict[str, str]) -> Control:
    lang = choices.names.lang
    kind = _kind(f)
    label = _words(FIELD_LABELS[f.name], lang)
    hint = _words(HINTS[f.name], lang) if f.name in HINTS else (f.help if lang == "en" else "")
    default = "" if f.default is dataclasses.MISSING or f.default in (None, ()) else f.default
    value = sent.get(f.name, str(getattr(default, "value", default)))
    options: list[tuple[str, str]] = []
    if kind == "flags":
        assert f.flags is not None
        options = [("true", _words(FLAG_LABELS[f.flags[0]], lang))]
        options.append(("false", _words(FLAG_LABELS[f.flags[1]], lang)))
    elif kind == "choice":
        values = [m.value for m in f.type]
        label_of = choices.names.supervision if f.type is SupervisionLevel else str
        options = [(v, label_of(v)) for v in values]
    elif f.name == "department":
        kind, options = "choice", choices.names.departments()
        value = sent.get(f.name) or choices.suggested_department()
    elif f.name == "condition" and choices.conditions():
        kind, options = "choice", choices.conditions()
        value = value or options[0][0]
    elif f.name == "into" and choices.candidates:
        kind, options = "choice", list(choices.candidates)
    return Control(f.name, kind, label, f.required, hint, value, options)


def step_title(step: Step, lang: Lang) -> str:
    return step.zh if lang == "zh" else step.en.capitalize()


def step_titles(lang: Lang) -> dict[str, str]:
    return {name: step_title(step, lang) for name, step in UPDATE_STEPS.items()}


def step_form(step: Step, choices: CaseChoices, sent: dict[str, str] | None = None) -> StepForm:
    controls = [control(f, choices, sent or {}) for f in step.inputs]
    return StepForm(step, step_title(step, choices.names.lang), controls)


def allowed(state: CaseState, who: Principal, grid: str) -> tuple[Step, ...]:
    """The steps ``who`` may take on the case now (an admin acts on none)."""
    try:
        actor = who.actor(grid=grid)
    except WrongRole:
        return ()
    return allowed_steps(state, actor)


def forms_for(
    state: CaseState,
    who: Principal,
    choices: CaseChoices,
    *,
    only: frozenset[str] | None = None,
    sent: dict[str, dict[str, str]] | None = None,
) -> list[StepForm]:
    """The forms of the steps ``who`` may take now (those named in ``only``)."""
    sent = sent or {}
    return [
        step_form(step, choices, sent.get(step.name))
        for step in allowed(state, who, choices.grid)
        if only is None or step.name in only
    ]


def parse_value(f: InputField, raw: Any) -> Any:
    """A text field's value as the command takes it (photos are uploaded apart)."""
    kind = _kind(f)
    if kind == "flags":
        return {"true": True, "false": False}.get(str(raw))
    if kind == "choice":
        return f.type(raw) if raw else None
    return str(raw).strip()


def _check_words() -> None:
    for step in UPDATE_STEPS.values():
        for f in step.inputs:
            _kind(f)
            if f.name not in FIELD_LABELS:
                raise ImportError(f"web.steps: no label for field {f.name!r} of step {step.name}")
            for flag in f.flags or ():
                if flag not in FLAG_LABELS:
                    raise ImportError(f"web.steps: no words for flag {flag} of step {step.name}")


_check_words()
