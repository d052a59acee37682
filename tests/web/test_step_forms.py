"""Every step a person takes has its form, derived from its declaration: a step without
one, a field without a control or words, fails here (and at import of web.steps)."""

from __future__ import annotations

import dataclasses

import pytest

from application.intake import Intake
from domain.calendar import WorkingCalendar
from domain.demo_district import generate_demo_district
from domain.inputs import InputField
from domain.policy import CenterPolicy
from domain.routing import Router
from domain.steps import UPDATE_STEPS
from domain.taxonomy import default_taxonomy
from web.names import Names
from web.steps import FIELD_LABELS, CaseChoices, parse_value, step_form


@pytest.fixture(scope="module")
def choices() -> CaseChoices:
    taxonomy = default_taxonomy()
    district = generate_demo_district(0, taxonomy=taxonomy)
    intake = Intake(CenterPolicy(), WorkingCalendar(), taxonomy, Router(taxonomy), district)
    grid = district.grids[0].code
    return CaseChoices(Names(intake, "zh"), intake, "E0101", grid, [("c-2", "c-2 · 12 m")])


@pytest.mark.parametrize("name", sorted(UPDATE_STEPS))
def test_every_step_has_a_form_with_every_field(name: str, choices: CaseChoices) -> None:
    step = UPDATE_STEPS[name]
    form = step_form(step, choices)
    assert form.title == step.zh
    assert [c.name for c in form.controls] == [f.name for f in step.inputs]
    for c in form.controls:
        assert c.label == FIELD_LABELS[c.name][0]
        if c.kind == "flags":
            assert [v for v, _ in c.options] == ["true", "false"]
    english = step_form(step, dataclasses.replace(choices, names=Names(choices.intake, "en")))
    assert english.title.lower() == step.en.lower()


def test_choices_come_from_the_case(choices: CaseChoices) -> None:
    dispatch = step_form(UPDATE_STEPS["dispatch"], choices)
    department = next(c for c in dispatch.controls if c.name == "department")
    assert department.kind == "choice" and department.value == "sanitation"  # routing's
    filing = step_form(UPDATE_STEPS["file"], choices)
    condition = next(c for c in filing.controls if c.name == "condition")
    assert condition.kind == "choice" and condition.value == "E0101-01"
    merge = step_form(UPDATE_STEPS["merge"], choices)
    assert next(c for c in merge.controls if c.name == "into").options == [("c-2", "c-2 · 12 m")]
    supervise = step_form(UPDATE_STEPS["supervise"], choices)
    level = next(c for c in supervise.controls if c.name == "level")
    assert [v for v, _ in level.options] == ["ordinary", "yellow", "red"]


def test_a_field_of_an_unknown_type_has_no_form() -> None:
    odd = InputField("when", float, True, dataclasses.MISSING, "", None, "--when", False, None, ())
    with pytest.raises(TypeError, match="no form control"):
        parse_value(odd, "1.5")
